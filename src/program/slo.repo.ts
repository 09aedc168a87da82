/**
 * Read-only queries on the builds table for the SLO summary (slo.service.ts): the caller's most
 * recent builds for the reference fields, and per-window good/bad counts aggregated in D1 so the
 * 30-day budget period is never loaded row by row. Scope = the builds the caller may see
 * (their own; tenant admins: the tenant's), served by the builds owner/tenant created_at indexes.
 * Only builds that ran on a runner count (issue 16): a simulated build did no work, so its outcome
 * is no evidence of the service's health; `simulatedSince` counts the ones left out.
 */
import { type SQL, and, desc, eq, sql } from "drizzle-orm";
import { builds } from "../db/schema";
import type { Db } from "../kernel/env";

export interface BuildScope {
  tenantId: string;
  /** null = every build of the tenant (tenant admins). */
  createdBy: string | null;
}

/** SQL truth of "this build ran on a runner" (`metadata.runner_kind`, set at creation). */
const RUNNER_KIND = sql`coalesce(json_extract(${builds.metadata}, '$.runner_kind'), '')`;

function scopeWhere(scope: BuildScope, real = true): SQL | undefined {
  const owner =
    scope.createdBy === null
      ? eq(builds.tenantId, scope.tenantId)
      : and(eq(builds.tenantId, scope.tenantId), eq(builds.createdBy, scope.createdBy));
  return and(owner, real ? sql`${RUNNER_KIND} = 'http'` : sql`${RUNNER_KIND} <> 'http'`);
}

/** How many simulated builds in scope were created since `createdSince` (left out of the SLO). */
export async function simulatedSince(db: Db, scope: BuildScope, createdSince: string): Promise<number> {
  const rows = await db
    .select({ n: sql<number>`count(*)` })
    .from(builds)
    .where(and(scopeWhere(scope, false), sql`${builds.createdAt} >= ${createdSince}`));
  return Number(rows[0]?.n ?? 0);
}

export async function recentBuilds(db: Db, scope: BuildScope, limit: number) {
  return db
    .select({ status: builds.status, created_at: builds.createdAt, updated_at: builds.updatedAt })
    .from(builds)
    .where(scopeWhere(scope))
    .orderBy(desc(builds.createdAt), desc(builds.buildId))
    .limit(limit);
}

export interface WindowAggregate {
  /** Completed builds that finished in the window. */
  completed: number;
  /** Failed builds, and builds aborted other than by an operator, that finished in the window. */
  bad: number;
  /** Completed builds in the window whose cycle time is within the latency threshold. */
  fast: number;
}

/**
 * Counts per window start (finish time = the build's last update). Candidates are the builds
 * created since `createdSince` (the budget period start).
 */
export async function windowAggregates(
  db: Db,
  scope: BuildScope,
  opts: { createdSince: string; windowStarts: readonly string[]; latencySeconds: number },
): Promise<WindowAggregate[]> {
  const cols = opts.windowStarts.flatMap((start, i) => [
    sql`COALESCE(SUM(CASE WHEN b.updated_at >= ${start} AND b.status = 'completed' THEN 1 ELSE 0 END), 0)
      AS ${sql.raw(`completed_${i}`)}`,
    sql`COALESCE(SUM(CASE WHEN b.updated_at >= ${start} THEN b.bad ELSE 0 END), 0) AS ${sql.raw(`bad_${i}`)}`,
    sql`COALESCE(SUM(CASE WHEN b.updated_at >= ${start} THEN b.fast ELSE 0 END), 0) AS ${sql.raw(`fast_${i}`)}`,
  ]);
  const owner = scope.createdBy === null ? sql`` : sql` AND created_by = ${scope.createdBy}`;
  const rows = await db.all<Record<string, number>>(sql`
    SELECT ${sql.join(cols, sql`, `)}
    FROM (
      SELECT status, updated_at,
        CASE
          WHEN status = 'failed' THEN 1
          WHEN status = 'aborted' AND NOT EXISTS (
            SELECT 1 FROM status_transitions st
            WHERE st.build_id = builds.build_id AND st.to_status = 'aborted' AND st.source = 'manual'
          ) THEN 1
          ELSE 0
        END AS bad,
        CASE
          WHEN status = 'completed'
            AND (julianday(updated_at) - julianday(created_at)) * 86400.0 <= ${opts.latencySeconds} THEN 1
          ELSE 0
        END AS fast
      FROM builds
      WHERE tenant_id = ${scope.tenantId}${owner} AND created_at >= ${opts.createdSince}
        AND json_extract(metadata, '$.runner_kind') = 'http'
    ) b`);
  const row = rows[0] ?? {};
  return opts.windowStarts.map((_, i) => ({
    completed: Number(row[`completed_${i}`] ?? 0),
    bad: Number(row[`bad_${i}`] ?? 0),
    fast: Number(row[`fast_${i}`] ?? 0),
  }));
}
