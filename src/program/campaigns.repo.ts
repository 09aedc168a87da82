/**
 * Plain query functions over the campaign tables (and read-only queries on `builds` for the
 * campaign's executions). Every query is tenant-scoped by its caller; rows are mapped to DTOs in
 * campaigns.service.ts.
 */
import { and, asc, desc, eq, gt, inArray, lt, or, sql } from "drizzle-orm";
import { builds } from "../db/schema";
import type { Db } from "../kernel/env";
import { D1_MAX_BOUND_PARAMS } from "../lib/d1-limits";
import { campaignBuilds, campaignExecutions, campaignRuns, campaigns } from "./program.tables";

export type CampaignRow = typeof campaigns.$inferSelect;
export type CampaignRunRow = typeof campaignRuns.$inferSelect;
export type ExecutionRow = typeof campaignExecutions.$inferSelect;

export async function insertCampaign(db: Db, row: typeof campaigns.$inferInsert): Promise<void> {
  await db.insert(campaigns).values(row);
}

export async function getCampaign(db: Db, tenantId: string, campaignId: string): Promise<CampaignRow | null> {
  const rows = await db
    .select()
    .from(campaigns)
    .where(and(eq(campaigns.campaignId, campaignId), eq(campaigns.tenantId, tenantId)));
  return rows[0] ?? null;
}

/** Newest first: (created_at, campaign_id) descending. */
export async function listCampaigns(
  db: Db,
  tenantId: string,
  limit: number,
  after?: { createdAt: string; campaignId: string },
) {
  const conds = [eq(campaigns.tenantId, tenantId)];
  if (after) {
    const c = or(
      lt(campaigns.createdAt, after.createdAt),
      and(eq(campaigns.createdAt, after.createdAt), lt(campaigns.campaignId, after.campaignId)),
    );
    if (c) conds.push(c);
  }
  return db
    .select()
    .from(campaigns)
    .where(and(...conds))
    .orderBy(desc(campaigns.createdAt), desc(campaigns.campaignId))
    .limit(limit);
}

export async function countRuns(db: Db, campaignId: string): Promise<number> {
  const rows = await db
    .select({ n: sql<number>`count(*)` })
    .from(campaignRuns)
    .where(eq(campaignRuns.campaignId, campaignId));
  return rows[0]?.n ?? 0;
}

export async function listAllRuns(db: Db, campaignId: string): Promise<CampaignRunRow[]> {
  return db.select().from(campaignRuns).where(eq(campaignRuns.campaignId, campaignId)).orderBy(asc(campaignRuns.runId));
}

/** Runs by run_id ascending (the primary key order). */
export async function listRuns(db: Db, campaignId: string, limit: number, afterRunId?: string) {
  const conds = [eq(campaignRuns.campaignId, campaignId)];
  if (afterRunId !== undefined) conds.push(gt(campaignRuns.runId, afterRunId));
  return db
    .select()
    .from(campaignRuns)
    .where(and(...conds))
    .orderBy(asc(campaignRuns.runId))
    .limit(limit);
}

export async function getRun(db: Db, campaignId: string, runId: string): Promise<CampaignRunRow | null> {
  const rows = await db
    .select()
    .from(campaignRuns)
    .where(and(eq(campaignRuns.campaignId, campaignId), eq(campaignRuns.runId, runId)));
  return rows[0] ?? null;
}

type RunValues = Omit<typeof campaignRuns.$inferInsert, "createdAt" | "updatedAt" | "revision"> & { now: string };

function replaceSet(values: Omit<RunValues, "now">, now: string) {
  return {
    repo: values.repo,
    language: values.language,
    status: values.status,
    durationMs: values.durationMs,
    findingsTotal: values.findingsTotal,
    source: values.source,
    buildId: values.buildId ?? null,
    observedAt: values.observedAt,
    ingestedBy: values.ingestedBy,
    updatedAt: now,
    revision: sql`${campaignRuns.revision} + 1`,
  };
}

/**
 * Client ingest: insert, or replace a run with the same id unless the system collected that run
 * from a build (then nothing is written and null comes back).
 */
export async function upsertManualRun(db: Db, v: RunValues): Promise<{ created: boolean } | null> {
  const { now, ...values } = v;
  const rows = await db
    .insert(campaignRuns)
    .values({ ...values, revision: 1, createdAt: now, updatedAt: now })
    .onConflictDoUpdate({
      target: [campaignRuns.campaignId, campaignRuns.runId],
      set: replaceSet(values, now),
      setWhere: eq(campaignRuns.source, "manual"),
    })
    .returning({ revision: campaignRuns.revision });
  const row = rows[0];
  return row ? { created: row.revision === 1 } : null;
}

/**
 * System ingest from a finished build: insert, or replace unless the stored run is already newer
 * evidence of the same build (a late duplicate hook). Build evidence always replaces client
 * evidence and the evidence of an earlier execution's build.
 */
export async function upsertBuildRun(db: Db, v: RunValues): Promise<void> {
  const { now, ...values } = v;
  await db
    .insert(campaignRuns)
    .values({ ...values, revision: 1, createdAt: now, updatedAt: now })
    .onConflictDoUpdate({
      target: [campaignRuns.campaignId, campaignRuns.runId],
      set: replaceSet(values, now),
      setWhere: sql`${campaignRuns.source} = 'manual' OR ${campaignRuns.buildId} IS NOT excluded.build_id
        OR ${campaignRuns.observedAt} <= excluded.observed_at`,
    });
}

export async function getExecution(db: Db, executionId: string): Promise<ExecutionRow | null> {
  const rows = await db.select().from(campaignExecutions).where(eq(campaignExecutions.executionId, executionId));
  return rows[0] ?? null;
}

export async function linkBuild(db: Db, row: typeof campaignBuilds.$inferInsert): Promise<void> {
  await db.insert(campaignBuilds).values(row).onConflictDoNothing();
}

/** The build linked to a planned run of an execution. */
export async function linkedBuildId(
  db: Db,
  campaignId: string,
  executionId: string,
  runId: string,
): Promise<string | null> {
  const rows = await db
    .select({ buildId: campaignBuilds.buildId })
    .from(campaignBuilds)
    .where(
      and(
        eq(campaignBuilds.campaignId, campaignId),
        eq(campaignBuilds.executionId, executionId),
        eq(campaignBuilds.runId, runId),
      ),
    );
  return rows[0]?.buildId ?? null;
}

/**
 * Finished builds of an execution whose outcome is not yet (or not in its latest state) stored as
 * the run: the reconciliation behind the completion hook.
 */
export async function unsyncedFinishedBuilds(db: Db, campaignId: string, executionId: string) {
  return db
    .select({ build: builds, runId: campaignBuilds.runId })
    .from(campaignBuilds)
    .innerJoin(builds, eq(builds.buildId, campaignBuilds.buildId))
    .leftJoin(
      campaignRuns,
      and(eq(campaignRuns.campaignId, campaignBuilds.campaignId), eq(campaignRuns.runId, campaignBuilds.runId)),
    )
    .where(
      and(
        eq(campaignBuilds.campaignId, campaignId),
        eq(campaignBuilds.executionId, executionId),
        inArray(builds.status, ["completed", "failed", "aborted"]),
        sql`(${campaignRuns.runId} IS NULL OR ${campaignRuns.buildId} IS NOT ${campaignBuilds.buildId}
          OR ${campaignRuns.observedAt} < ${builds.updatedAt})`,
      ),
    );
}

/**
 * The runner adapter of each build (`metadata.runner_kind`: http → `real`, anything else →
 * `simulated`), for the report's evidence check. Chunked under D1's bound-parameter limit.
 */
export async function buildExecutions(db: Db, buildIds: readonly string[]): Promise<Map<string, "real" | "simulated">> {
  const out = new Map<string, "real" | "simulated">();
  const step = D1_MAX_BOUND_PARAMS - 1;
  for (let i = 0; i < buildIds.length; i += step) {
    const rows = await db
      .select({ buildId: builds.buildId, kind: sql<string | null>`json_extract(${builds.metadata}, '$.runner_kind')` })
      .from(builds)
      .where(inArray(builds.buildId, buildIds.slice(i, i + step)));
    for (const r of rows) out.set(r.buildId, r.kind === "http" ? "real" : "simulated");
  }
  return out;
}
