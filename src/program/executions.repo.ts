/**
 * Plain query functions of campaign history (issue 23): numbered executions, the runs of each
 * execution, their frozen reports, and schedule slots. Every caller scopes by tenant or by a
 * campaign it loaded tenant-scoped. Used by executions.service.ts, campaign-ingest.ts and
 * schedules.service.ts.
 */
import { and, asc, desc, eq, inArray, lt, lte, sql } from "drizzle-orm";
import { builds } from "../db/schema";
import type { Db } from "../kernel/env";
import type { ExecutionReport } from "./execution-report";
import { campaignExecutionRuns, campaignScheduleSlots } from "./history.tables";
import { campaignBuilds, campaignExecutions, campaigns } from "./program.tables";

export type ExecutionRow = typeof campaignExecutions.$inferSelect;
export type ExecutionRunRow = typeof campaignExecutionRuns.$inferSelect;
export type SlotRow = typeof campaignScheduleSlots.$inferSelect;

type NewExecution = Omit<typeof campaignExecutions.$inferInsert, "seq" | "status" | "report" | "finishedAt">;

/**
 * Inserts an execution numbered max(seq) + 1 within its campaign (one statement: D1 serialises
 * writes) and makes it the campaign's current one unless a later execution exists. Idempotent on
 * `execution_id`: a second insert of the same execution changes nothing.
 */
export async function insertNumberedExecution(db: Db, row: NewExecution): Promise<void> {
  await db.batch([
    db
      .insert(campaignExecutions)
      .values({
        ...row,
        seq: sql`(SELECT COALESCE(MAX(${campaignExecutions.seq}), 0) + 1 FROM ${campaignExecutions}
          WHERE ${campaignExecutions.campaignId} = ${row.campaignId})`,
        status: "running",
      })
      .onConflictDoNothing({ target: campaignExecutions.executionId }),
    db
      .update(campaigns)
      .set({ currentExecutionId: row.executionId, updatedAt: row.createdAt })
      .where(
        and(
          eq(campaigns.campaignId, row.campaignId),
          sql`NOT EXISTS (SELECT 1 FROM campaign_executions AS later WHERE later.campaign_id = ${row.campaignId}
                AND later.seq > (SELECT seq FROM campaign_executions WHERE execution_id = ${row.executionId}))`,
        ),
      ),
  ]);
}

export async function getExecution(db: Db, executionId: string): Promise<ExecutionRow | null> {
  const rows = await db.select().from(campaignExecutions).where(eq(campaignExecutions.executionId, executionId));
  return rows[0] ?? null;
}

export async function getExecutionBySeq(db: Db, campaignId: string, seq: number): Promise<ExecutionRow | null> {
  const rows = await db
    .select()
    .from(campaignExecutions)
    .where(and(eq(campaignExecutions.campaignId, campaignId), eq(campaignExecutions.seq, seq)));
  return rows[0] ?? null;
}

/** Executions newest first (seq descending), keyset after `beforeSeq`. */
export async function listExecutions(db: Db, campaignId: string, limit: number, beforeSeq?: number) {
  const conds = [eq(campaignExecutions.campaignId, campaignId)];
  if (beforeSeq !== undefined) conds.push(lt(campaignExecutions.seq, beforeSeq));
  return db
    .select()
    .from(campaignExecutions)
    .where(and(...conds))
    .orderBy(desc(campaignExecutions.seq))
    .limit(limit);
}

/** The last `limit` finished executions of a campaign, oldest first (for trends). */
export async function lastFinishedExecutions(db: Db, campaignId: string, limit: number): Promise<ExecutionRow[]> {
  const rows = await db
    .select()
    .from(campaignExecutions)
    .where(and(eq(campaignExecutions.campaignId, campaignId), eq(campaignExecutions.status, "finished")))
    .orderBy(desc(campaignExecutions.seq))
    .limit(limit);
  return rows.reverse();
}

/** Executions still running (any campaign), oldest first: the cron handler's dispatch list. */
export async function runningExecutions(db: Db, limit: number): Promise<ExecutionRow[]> {
  return db
    .select()
    .from(campaignExecutions)
    .where(eq(campaignExecutions.status, "running"))
    .orderBy(asc(campaignExecutions.createdAt))
    .limit(limit);
}

export async function runningExecutionsOf(db: Db, campaignId: string): Promise<ExecutionRow[]> {
  return db
    .select()
    .from(campaignExecutions)
    .where(and(eq(campaignExecutions.campaignId, campaignId), eq(campaignExecutions.status, "running")));
}

/** Writes the report once: only a running execution is frozen, so a report is never rewritten. */
export async function freezeExecution(
  db: Db,
  executionId: string,
  report: ExecutionReport,
  finishedAt: string,
): Promise<boolean> {
  const rows = await db
    .update(campaignExecutions)
    .set({ status: "finished", report, finishedAt })
    .where(and(eq(campaignExecutions.executionId, executionId), eq(campaignExecutions.status, "running")))
    .returning({ id: campaignExecutions.executionId });
  return rows.length > 0;
}

// ---- runs of an execution ------------------------------------------------------------------

export async function listExecutionRuns(db: Db, executionId: string): Promise<ExecutionRunRow[]> {
  return db
    .select()
    .from(campaignExecutionRuns)
    .where(eq(campaignExecutionRuns.executionId, executionId))
    .orderBy(asc(campaignExecutionRuns.runId));
}

/** Runs of several executions (trends), chunked by the caller to D1's parameter limit. */
export async function runsOfExecutions(db: Db, executionIds: readonly string[]): Promise<ExecutionRunRow[]> {
  if (executionIds.length === 0) return [];
  return db
    .select()
    .from(campaignExecutionRuns)
    .where(inArray(campaignExecutionRuns.executionId, [...executionIds]));
}

/** Insert, or replace with a later observation of the same build (late, repeated hooks converge). */
export async function upsertExecutionRun(db: Db, row: typeof campaignExecutionRuns.$inferInsert): Promise<void> {
  await db
    .insert(campaignExecutionRuns)
    .values(row)
    .onConflictDoUpdate({
      target: [campaignExecutionRuns.executionId, campaignExecutionRuns.runId],
      set: {
        status: row.status,
        durationMs: row.durationMs,
        findingsTotal: row.findingsTotal,
        findingsBySeverity: row.findingsBySeverity,
        execution: row.execution,
        observedAt: row.observedAt,
        updatedAt: row.updatedAt,
      },
      setWhere: sql`${campaignExecutionRuns.buildId} = excluded.build_id
        AND ${campaignExecutionRuns.observedAt} <= excluded.observed_at`,
    });
}

// ---- build links -----------------------------------------------------------------------------

/**
 * Links a planned run to a build id chosen before the build exists (first link wins) and returns
 * the linked id: a retried start finds the same id and re-creates idempotently.
 */
export async function claimRunBuild(db: Db, row: typeof campaignBuilds.$inferInsert): Promise<string> {
  await db.insert(campaignBuilds).values(row).onConflictDoNothing();
  const rows = await db
    .select({ buildId: campaignBuilds.buildId })
    .from(campaignBuilds)
    .where(
      and(
        eq(campaignBuilds.campaignId, row.campaignId),
        eq(campaignBuilds.executionId, row.executionId),
        eq(campaignBuilds.runId, row.runId),
      ),
    );
  const id = rows[0]?.buildId;
  if (!id) throw new Error(`campaign build link for ${row.runId} vanished`);
  return id;
}

/** Every linked build of an execution with its status (null: the build row does not exist yet). */
export async function executionLinks(db: Db, campaignId: string, executionId: string) {
  return db
    .select({ runId: campaignBuilds.runId, buildId: campaignBuilds.buildId, status: builds.status })
    .from(campaignBuilds)
    .leftJoin(builds, eq(builds.buildId, campaignBuilds.buildId))
    .where(and(eq(campaignBuilds.campaignId, campaignId), eq(campaignBuilds.executionId, executionId)));
}

/** Finished linked builds of an execution whose outcome is not (or not in its latest state) stored. */
export async function unsyncedExecutionBuilds(db: Db, campaignId: string, executionId: string) {
  return db
    .select({ buildId: campaignBuilds.buildId, runId: campaignBuilds.runId })
    .from(campaignBuilds)
    .innerJoin(builds, eq(builds.buildId, campaignBuilds.buildId))
    .leftJoin(
      campaignExecutionRuns,
      and(
        eq(campaignExecutionRuns.executionId, campaignBuilds.executionId),
        eq(campaignExecutionRuns.runId, campaignBuilds.runId),
      ),
    )
    .where(
      and(
        eq(campaignBuilds.campaignId, campaignId),
        eq(campaignBuilds.executionId, executionId),
        inArray(builds.status, ["completed", "failed", "aborted"]),
        sql`(${campaignExecutionRuns.runId} IS NULL OR ${campaignExecutionRuns.observedAt} < ${builds.updatedAt})`,
      ),
    );
}

// ---- schedules -------------------------------------------------------------------------------

/** Campaigns whose enabled schedule is due at `nowIso`, oldest due first. */
export async function dueCampaigns(db: Db, nowIso: string, limit: number) {
  return db
    .select()
    .from(campaigns)
    .where(lte(campaigns.nextDueAt, nowIso))
    .orderBy(asc(campaigns.nextDueAt))
    .limit(limit);
}

/** Moves a campaign's due time on, only from the value this invocation read (compare-and-set). */
export async function advanceDue(db: Db, campaignId: string, from: string, to: string | null): Promise<void> {
  await db
    .update(campaigns)
    .set({ nextDueAt: to })
    .where(and(eq(campaigns.campaignId, campaignId), eq(campaigns.nextDueAt, from)));
}

/** Claims (campaign, due time) with a fresh execution id, or returns the slot another claimed. */
export async function claimSlot(db: Db, row: typeof campaignScheduleSlots.$inferInsert): Promise<SlotRow> {
  await db.insert(campaignScheduleSlots).values(row).onConflictDoNothing();
  const rows = await db
    .select()
    .from(campaignScheduleSlots)
    .where(and(eq(campaignScheduleSlots.campaignId, row.campaignId), eq(campaignScheduleSlots.dueAt, row.dueAt)));
  const slot = rows[0];
  if (!slot) throw new Error("schedule slot vanished");
  return slot;
}

export async function settleSlot(
  db: Db,
  slot: Pick<SlotRow, "campaignId" | "dueAt">,
  state: "started" | "skipped" | "failed",
  reason: string | null,
  now: string,
): Promise<void> {
  await db
    .update(campaignScheduleSlots)
    .set({ state, reason, updatedAt: now, attempts: sql`${campaignScheduleSlots.attempts} + 1` })
    .where(
      and(
        eq(campaignScheduleSlots.campaignId, slot.campaignId),
        eq(campaignScheduleSlots.dueAt, slot.dueAt),
        eq(campaignScheduleSlots.state, "claimed"),
      ),
    );
}

/** The latest slots of a campaign (the schedule's recent outcomes). */
export async function recentSlots(db: Db, campaignId: string, limit: number): Promise<SlotRow[]> {
  return db
    .select()
    .from(campaignScheduleSlots)
    .where(eq(campaignScheduleSlots.campaignId, campaignId))
    .orderBy(desc(campaignScheduleSlots.dueAt))
    .limit(limit);
}
