/**
 * The audit log's write side (issue 17 item 13): the actor of a request, the closed list of
 * audited actions, and the INSERT statement every domain adds to the D1 batch that commits the
 * change it records. Pure builders — nothing here runs a statement on its own.
 */
import { type SQL, sql } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "../kernel/env";
import { isoTimestamp } from "../lib/ids";
import type { Principal } from "../kernel/principal";
import { auditLog } from "./audit.tables";

/** Every action the audit log records. */
export const AUDIT_ACTIONS = [
  // Build control actions (through the build's runner; written in its fenced commit batch).
  "build.abort",
  "build.resume",
  "build.checkpoint",
  "build.debt",
  "build.violation",
  "build.gate",
  "build.replan",
  "build.apply_suggestion",
  "build.start_task",
  "build.complete_task",
  "build.bootstrap",
  // Secrets
  "secret.create",
  "secret.rotate",
  "secret.delete",
  // Policies: planner policies (versions, activation) and policy profiles
  "policy.write",
  "policy.activate",
  // Release readiness
  "release.checklist_write",
  "release.drill_write",
  "release.go_no_go",
  // Operability
  "dead_letter.redrive",
  // GitHub integration: repository bindings, re-driven reports
  "repository.bind",
  "repository.unbind",
  "github_report.redrive",
  // Local development
  "dev_token.mint",
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export const AUDIT_OUTCOMES = ["success"] as const;

/** Who acted, as carried across the RPC boundary to a build's runner. */
export const AuditActorSchema = z.object({
  sub: z.string().min(1),
  tenant_id: z.string().min(1),
  roles: z.array(z.string()),
  request_id: z.string().min(1),
});
export type AuditActor = z.infer<typeof AuditActorSchema>;

export interface AuditEntry {
  actor: AuditActor;
  action: AuditAction;
  target_type: string;
  target_id: string;
  detail?: Record<string, unknown>;
  /** ISO timestamp; defaults to now. */
  at?: string;
}

/** The actor of an authenticated request. */
export function actorOf(deps: { principal: Principal; requestId?: string }): AuditActor {
  const p = deps.principal;
  return { sub: p.sub, tenant_id: p.tenantId, roles: p.roles, request_id: deps.requestId ?? "unknown" };
}

const INSERT =
  "INSERT INTO audit_log (tenant_id, actor_sub, actor_roles, action, target_type, target_id, request_id, outcome, " +
  "detail, created_at)";

function values(e: AuditEntry): [string, string, string, string, string, string, string, string, string, string] {
  return [
    e.actor.tenant_id,
    e.actor.sub,
    JSON.stringify(e.actor.roles),
    e.action,
    e.target_type,
    e.target_id,
    e.actor.request_id,
    "success",
    JSON.stringify(e.detail ?? {}),
    e.at ?? isoTimestamp(Date.now()),
  ];
}

/**
 * The audit INSERT for a drizzle batch. `ifChanged`: written only when the statement just before
 * it in the batch changed a row (SQLite `changes()`), so a conditional write that matched nothing
 * leaves no audit row.
 */
export function auditStatement(db: Db, e: AuditEntry, opts: { ifChanged?: boolean; targetId?: SQL } = {}) {
  const [a, b, c, d, f, g0, h, i, j, k] = values(e);
  // A target id only the batch knows (e.g. a version number computed by an INSERT before it).
  const g = opts.targetId ?? g0;
  const where = opts.ifChanged ? sql` WHERE changes() > 0` : sql``;
  // Columns in table order (audit.tables.ts), `seq` NULL so SQLite assigns it.
  return db
    .insert(auditLog)
    .select(sql`SELECT NULL, ${a}, ${b}, ${c}, ${d}, ${f}, ${g}, ${h}, ${i}, ${j}, ${k}${where}`);
}

/** The same INSERT as a plain D1 statement (for batches built on the binding). */
export function auditD1Statement(d1: D1Database, e: AuditEntry): D1PreparedStatement {
  return d1.prepare(`${INSERT} VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)`).bind(...values(e));
}
