/**
 * Dead letters, the operator side (GET/POST /v1/ops/dead-letters…): listing and re-drive scoped
 * like builds (issue 17 item 12) — the caller's own builds' dead letters, a tenant admin's the
 * whole tenant's; another tenant's is 404, another member's 403 `build_access_denied`. A re-drive
 * goes through the build's runner (it owns the failure count and the tick loop); the runner marks
 * the record `redriven`. Services throw AppError; handlers stay thin.
 */
import { actorOf } from "../audit/audit";
import { buildRunner, unwrap } from "./build-runner.client";
import type { Config, Db } from "../kernel/env";
import { AppError } from "../kernel/errors";
import { decodeCursor, page } from "../kernel/cursor";
import { type Principal, isTenantAdmin } from "../kernel/principal";
import * as repo from "./dead-letters.repo";
import type { DeadLetter, DeadLetterListQuery } from "./dead-letters.schemas";

export interface OpsDeps {
  env: Env;
  db: Db;
  config: Config;
  principal: Principal;
  /** The request's id, for the audit log (src/audit). */
  requestId?: string;
}

function dto(r: repo.DeadLetterRow): DeadLetter {
  return {
    build_id: r.buildId,
    created_by: r.createdBy,
    state: r.state as DeadLetter["state"],
    reason: r.reason,
    last_error: r.lastError,
    attempts: r.attempts,
    dead_lettered_at: r.deadLetteredAt,
    redrive_count: r.redriveCount,
    redriven_at: r.redrivenAt,
    redriven_by: r.redrivenBy,
    updated_at: r.updatedAt,
    build_status: r.buildStatus,
  };
}

export async function listDeadLetters(deps: Pick<OpsDeps, "db" | "principal">, q: DeadLetterListQuery) {
  const after = q.cursor ? decodeCursor(q.cursor, 2) : undefined;
  const rows = await repo.listDeadLetters(deps.db, {
    tenantId: deps.principal.tenantId,
    createdBy: creatorScope(deps.principal),
    state: q.state === "all" ? undefined : q.state,
    limit: q.limit + 1,
    after: after ? { at: after[0] as string, buildId: after[1] as string } : undefined,
  });
  return page(rows, q.limit, dto, (r) => [r.deadLetteredAt, r.buildId]);
}

/** Whose dead letters the caller sees: its own, or (tenant admin) everyone's in the tenant (null). */
function creatorScope(p: Principal): string | null {
  return isTenantAdmin(p) ? null : p.sub;
}

async function load(deps: Pick<OpsDeps, "db" | "principal">, buildId: string): Promise<repo.DeadLetterRow> {
  const row = await repo.getDeadLetter(deps.db, deps.principal.tenantId, buildId);
  if (!row) throw new AppError("dead_letter_not_found", "No dead letter for this build.");
  const scope = creatorScope(deps.principal);
  if (scope !== null && row.createdBy !== scope)
    throw new AppError("build_access_denied", "You do not have access to this build.");
  return row;
}

export async function getDeadLetter(deps: Pick<OpsDeps, "db" | "principal">, buildId: string): Promise<DeadLetter> {
  return dto(await load(deps, buildId));
}

/** Re-drives one dead-lettered build of the caller's tenant (idempotent). */
export async function redrive(deps: OpsDeps, buildId: string) {
  await load(deps, buildId);
  const out = unwrap(await buildRunner(deps.env, buildId).redrive(deps.principal.sub, actorOf(deps)));
  return { dead_letter: dto(await load(deps, buildId)), was_dead_lettered: out.was_dead_lettered };
}

/**
 * Re-drives up to `limit` open dead letters the caller sees (tenant admin: the tenant's), newest first (e.g. after an
 * outage).
 */
export async function redriveAll(deps: OpsDeps, limit: number) {
  const createdBy = creatorScope(deps.principal);
  const open = await repo.listDeadLetters(deps.db, {
    tenantId: deps.principal.tenantId,
    createdBy,
    state: "open",
    limit,
  });
  const redriven: string[] = [];
  for (const row of open) {
    unwrap(await buildRunner(deps.env, row.buildId).redrive(deps.principal.sub, actorOf(deps)));
    redriven.push(row.buildId);
  }
  return { redriven, remaining: await repo.countOpen(deps.db, deps.principal.tenantId, createdBy) };
}
