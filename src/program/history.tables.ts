/**
 * D1 tables of campaign history and schedules (issue 23, migration 0011): the runs of every
 * execution, kept per execution (a later execution never replaces them), and the schedule slots
 * that make a due time start at most one execution.
 */
import { index, integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";
import type { SeverityCounts } from "./execution-report";

/** The outcome of one planned run of one execution (from its build); written by ingest only. */
export const campaignExecutionRuns = sqliteTable(
  "campaign_execution_runs",
  {
    executionId: text("execution_id").notNull(),
    runId: text("run_id").notNull(),
    campaignId: text("campaign_id").notNull(),
    tenantId: text("tenant_id").notNull(),
    repo: text("repo").notNull(),
    language: text("language").notNull(),
    /** completed | failed | aborted */
    status: text("status").notNull(),
    durationMs: integer("duration_ms").notNull(),
    findingsTotal: integer("findings_total").notNull(),
    findingsBySeverity: text("findings_by_severity", { mode: "json" }).$type<SeverityCounts>().notNull(),
    /** `real` (runner_kind http) | `simulated`. */
    execution: text("execution").notNull(),
    buildId: text("build_id").notNull(),
    /** The build's last update when observed; a later observation of the same build wins. */
    observedAt: text("observed_at").notNull(),
    createdAt: text("created_at").notNull(),
    updatedAt: text("updated_at").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.executionId, t.runId] }),
    index("campaign_execution_runs_campaign_idx").on(t.campaignId, t.executionId),
  ],
);

/**
 * One row per (campaign, due time) of a schedule: inserted with ON CONFLICT DO NOTHING before
 * anything starts, so overlapping cron invocations agree on one `execution_id` per due time.
 * state: `claimed` (being started) → `started` | `skipped` (previous execution unfinished) |
 * `failed` (the start was refused, e.g. no runner for a real build; `reason` says why).
 */
export const campaignScheduleSlots = sqliteTable(
  "campaign_schedule_slots",
  {
    campaignId: text("campaign_id").notNull(),
    dueAt: text("due_at").notNull(),
    tenantId: text("tenant_id").notNull(),
    executionId: text("execution_id").notNull(),
    state: text("state").notNull(),
    reason: text("reason"),
    attempts: integer("attempts").notNull().default(0),
    createdAt: text("created_at").notNull(),
    updatedAt: text("updated_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.campaignId, t.dueAt] })],
);
