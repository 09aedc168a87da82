/**
 * Plain query functions of the planner policy layer: versioned policies and the active pointer
 * (planning.tables.ts), and the read-only history rows of earlier builds (src/db/schema.ts).
 * Tenant-scoped by the caller (planning.service.ts).
 */
import { and, desc, eq, inArray, lt, sql } from "drizzle-orm";
import { buildNodes, builds, taskRuns } from "../db/schema";
import { type AuditActor, type AuditEntry, auditStatement } from "../audit/audit";
import type { Db } from "../kernel/env";
import type { HistoryBuildRow, HistoryNodeRow, HistoryRunRow } from "./history";
import { plannerPolicies, plannerPolicyActive } from "./planning.tables";

export type PolicyRow = typeof plannerPolicies.$inferSelect;
export type ActiveRow = typeof plannerPolicyActive.$inferSelect;

/** Build statuses whose outcome is known; running/paused builds are not history yet. */
const FINISHED = ["completed", "failed", "aborted"];

/**
 * Inserts the tenant's next version (MAX + 1 in the same statement, so concurrent creates never
 * share a number) and, when `activate`, points the tenant's active row at it in the same batch.
 */
export async function insertPolicy(
  db: Db,
  row: Omit<PolicyRow, "version">,
  activate: boolean,
  actor: AuditActor,
): Promise<number> {
  const nextVersion = sql<number>`(SELECT COALESCE(MAX(${plannerPolicies.version}), 0) + 1 FROM ${plannerPolicies}
    WHERE ${plannerPolicies.tenantId} = ${row.tenantId})`;
  const insert = db
    .insert(plannerPolicies)
    .values({ ...row, version: nextVersion })
    .returning({ version: plannerPolicies.version });
  const latest = sql<number>`(SELECT MAX(${plannerPolicies.version}) FROM ${plannerPolicies}
    WHERE ${plannerPolicies.tenantId} = ${row.tenantId})`;
  // The audit entries name the version the INSERT just took (the tenant's latest inside the batch).
  const audit = (action: "policy.write" | "policy.activate") =>
    auditStatement(
      db,
      { actor, action, target_type: "planner_policy", target_id: "", at: row.createdAt },
      { targetId: sql`CAST(${latest} AS TEXT)` },
    );
  if (!activate) {
    const [rows] = await db.batch([insert, audit("policy.write")]);
    const inserted = rows[0];
    if (inserted === undefined) throw new Error("planner policy insert returned no row");
    return inserted.version;
  }
  const [inserted] = await db.batch([
    insert,
    db
      .insert(plannerPolicyActive)
      .values({ tenantId: row.tenantId, version: latest, activatedBy: row.createdBy, activatedAt: row.createdAt })
      .onConflictDoUpdate({
        target: plannerPolicyActive.tenantId,
        set: {
          version: sql`excluded.version`,
          activatedBy: sql`excluded.activated_by`,
          activatedAt: sql`excluded.activated_at`,
        },
      }),
    audit("policy.write"),
    audit("policy.activate"),
  ]);
  const version = inserted[0]?.version;
  if (version === undefined) throw new Error("planner policy insert returned no row");
  return version;
}

export async function getPolicy(db: Db, tenantId: string, version: number): Promise<PolicyRow | null> {
  const rows = await db
    .select()
    .from(plannerPolicies)
    .where(and(eq(plannerPolicies.tenantId, tenantId), eq(plannerPolicies.version, version)));
  return rows[0] ?? null;
}

/**
 * Points the tenant's active row at `version` (which the caller checked exists), with its audit entry in the same
 * batch.
 */
export async function setActive(db: Db, row: ActiveRow, audit: AuditEntry): Promise<void> {
  await db.batch([
    db
      .insert(plannerPolicyActive)
      .values(row)
      .onConflictDoUpdate({
        target: plannerPolicyActive.tenantId,
        set: { version: row.version, activatedBy: row.activatedBy, activatedAt: row.activatedAt },
      }),
    auditStatement(db, { ...audit, at: row.activatedAt }),
  ]);
}

export async function getActive(db: Db, tenantId: string): Promise<{ policy: PolicyRow; active: ActiveRow } | null> {
  const rows = await db
    .select({ policy: plannerPolicies, active: plannerPolicyActive })
    .from(plannerPolicyActive)
    .innerJoin(
      plannerPolicies,
      and(
        eq(plannerPolicies.tenantId, plannerPolicyActive.tenantId),
        eq(plannerPolicies.version, plannerPolicyActive.version),
      ),
    )
    .where(eq(plannerPolicyActive.tenantId, tenantId));
  return rows[0] ?? null;
}

export async function getActiveVersion(db: Db, tenantId: string): Promise<ActiveRow | null> {
  const rows = await db.select().from(plannerPolicyActive).where(eq(plannerPolicyActive.tenantId, tenantId));
  return rows[0] ?? null;
}

/** Newest version first; `before` = the last version of the previous page. */
export async function listPolicies(db: Db, tenantId: string, limit: number, before?: number): Promise<PolicyRow[]> {
  const conds = [eq(plannerPolicies.tenantId, tenantId)];
  if (before !== undefined) conds.push(lt(plannerPolicies.version, before));
  return db
    .select()
    .from(plannerPolicies)
    .where(and(...conds))
    .orderBy(desc(plannerPolicies.version))
    .limit(limit);
}

// ---------------------------------------------------------------------------------------------
// History (read-only views of the build tables)

/** The last `limit` finished builds of `repoUrl` in the tenant, newest first. */
export async function recentFinishedBuilds(
  db: Db,
  tenantId: string,
  repoUrl: string,
  limit: number,
): Promise<HistoryBuildRow[]> {
  return db
    .select({
      buildId: builds.buildId,
      status: builds.status,
      metadata: builds.metadata,
      createdAt: builds.createdAt,
      updatedAt: builds.updatedAt,
    })
    .from(builds)
    .where(and(eq(builds.tenantId, tenantId), eq(builds.repoUrl, repoUrl), inArray(builds.status, FINISHED)))
    .orderBy(desc(builds.createdAt), desc(builds.buildId))
    .limit(limit);
}

export async function nodesOf(db: Db, buildIds: string[]): Promise<HistoryNodeRow[]> {
  if (buildIds.length === 0) return [];
  return db
    .select({ buildId: buildNodes.buildId, nodeId: buildNodes.nodeId, agent: buildNodes.agent })
    .from(buildNodes)
    .where(inArray(buildNodes.buildId, buildIds));
}

export async function runsOf(db: Db, buildIds: string[]): Promise<HistoryRunRow[]> {
  if (buildIds.length === 0) return [];
  return db
    .select({
      buildId: taskRuns.buildId,
      nodeId: taskRuns.nodeId,
      attempt: taskRuns.attempt,
      status: taskRuns.status,
      startedAt: taskRuns.startedAt,
      finishedAt: taskRuns.finishedAt,
    })
    .from(taskRuns)
    .where(inArray(taskRuns.buildId, buildIds));
}
