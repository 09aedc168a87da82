/**
 * D1 tables of the program plane (SPEC §6.1–6.2, §6.7–6.8; DESIGN §3, §6). Every entity carries
 * `tenant_id` and every query filters on it; release records are keyed by (tenant_id, release_id),
 * so two tenants never share a row. Timestamps are ISO-8601 UTC text. Each list query has an
 * index that serves its keyset page (no OFFSET).
 */
import type { FindingThresholds } from "../findings/gate";
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import type { ThresholdProfile } from "./campaign-report";
import type { ExecutionReport } from "./execution-report";
import type { StoredSchedule } from "./schedule";

export const campaigns = sqliteTable(
  "campaigns",
  {
    campaignId: text("campaign_id").primaryKey(),
    tenantId: text("tenant_id").notNull(),
    name: text("name").notNull(),
    /** The plan's targets (trimmed, de-duplicated, in the order given). */
    repos: text("repos", { mode: "json" }).$type<string[]>().notNull(),
    runsPerRepo: integer("runs_per_repo").notNull(),
    thresholdProfile: text("threshold_profile", { mode: "json" }).$type<ThresholdProfile>().notNull(),
    /** The latest execution; its builds' outcomes are the campaign's current runs. */
    currentExecutionId: text("current_execution_id"),
    /** Builds of a dry-run campaign are simulated (labelled so); otherwise scheduled builds are real. */
    dryRun: integer("dry_run", { mode: "boolean" }).notNull().default(false),
    /** Cron schedule (src/program/schedule.ts); null = manual execution only. */
    schedule: text("schedule", { mode: "json" }).$type<StoredSchedule>(),
    /** The next due time of an enabled schedule (UTC ISO); null when none. */
    nextDueAt: text("next_due_at"),
    createdBy: text("created_by").notNull(),
    createdAt: text("created_at").notNull(),
    updatedAt: text("updated_at").notNull(),
  },
  (t) => [
    index("campaigns_tenant_created_idx").on(t.tenantId, t.createdAt, t.campaignId),
    index("campaigns_next_due_idx").on(t.nextDueAt),
  ],
);

/** One ValidationRun per (campaign, run_id): ingesting the same run_id replaces it. */
export const campaignRuns = sqliteTable(
  "campaign_runs",
  {
    campaignId: text("campaign_id").notNull(),
    runId: text("run_id").notNull(),
    tenantId: text("tenant_id").notNull(),
    repo: text("repo").notNull(),
    language: text("language").notNull(),
    /** completed | failed | aborted */
    status: text("status").notNull(),
    durationMs: integer("duration_ms").notNull(),
    findingsTotal: integer("findings_total").notNull(),
    /** `build`: collected by the system from a finished campaign build; `manual`: ingested by a client. */
    source: text("source").notNull(),
    buildId: text("build_id"),
    /** When the evidence was observed (build: its last update; manual: ingest time); later wins. */
    observedAt: text("observed_at").notNull(),
    /** 1 on insert, +1 on every replace (tells a create from a replace). */
    revision: integer("revision").notNull(),
    ingestedBy: text("ingested_by").notNull(),
    createdAt: text("created_at").notNull(),
    updatedAt: text("updated_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.campaignId, t.runId] })],
);

/** The system keys and build request of every build an execution starts (merged per run at start). */
export interface ExecutionOptions {
  objective?: string | undefined;
  metadata: Record<string, unknown>;
  repo_metadata: Record<string, Record<string, unknown>>;
  run_metadata: Record<string, Record<string, unknown>>;
}

/**
 * One execution of a campaign's plan (POST …/execute or a schedule's due time), kept for ever:
 * `seq` numbers them per campaign (1, 2, …), and `report` is frozen once every build finished.
 */
export const campaignExecutions = sqliteTable(
  "campaign_executions",
  {
    executionId: text("execution_id").primaryKey(),
    campaignId: text("campaign_id").notNull(),
    tenantId: text("tenant_id").notNull(),
    /** The planned runs of this execution: [{run_id, repo, language}]. */
    plan: text("plan", { mode: "json" }).$type<Array<{ run_id: string; repo: string; language: string }>>().notNull(),
    createdBy: text("created_by").notNull(),
    createdAt: text("created_at").notNull(),
    /** 1, 2, … per campaign (`…/executions/{n}`); 0 only transiently on rows older than migration 0011. */
    seq: integer("seq").notNull().default(0),
    /** `manual` (POST …/execute) | `schedule` (the cron handler). */
    trigger: text("trigger").notNull().default("manual"),
    /** The schedule's due time this execution answers (trigger `schedule`). */
    dueAt: text("due_at"),
    /** `running` until every planned build finished, then `finished` with a frozen report. */
    status: text("status").notNull().default("running"),
    /** Most builds of this execution unfinished at once (null = all at start). */
    maxConcurrentBuilds: integer("max_concurrent_builds"),
    /** Build request parts for builds the dispatcher starts later (scheduled executions). */
    options: text("options", { mode: "json" }).$type<ExecutionOptions>(),
    /** Runner choice: `simulated` for a dry-run campaign, else `default` (real when a runner is configured). */
    runnerMode: text("runner_mode").notNull().default("default"),
    /** The execution's own report, written once when it finished; never rewritten. */
    report: text("report", { mode: "json" }).$type<ExecutionReport>(),
    finishedAt: text("finished_at"),
  },
  (t) => [
    index("campaign_executions_campaign_idx").on(t.campaignId, t.createdAt),
    uniqueIndex("campaign_executions_seq_uq").on(t.campaignId, t.seq),
    index("campaign_executions_status_idx").on(t.status),
  ],
);

/** Which build runs which planned run of an execution (one build per planned run: first link wins). */
export const campaignBuilds = sqliteTable(
  "campaign_builds",
  {
    buildId: text("build_id").primaryKey(),
    campaignId: text("campaign_id").notNull(),
    executionId: text("execution_id").notNull(),
    runId: text("run_id").notNull(),
    tenantId: text("tenant_id").notNull(),
    createdAt: text("created_at").notNull(),
  },
  (t) => [uniqueIndex("campaign_builds_run_uq").on(t.campaignId, t.executionId, t.runId)],
);

export const policyProfiles = sqliteTable(
  "policy_profiles",
  {
    profileId: text("profile_id").primaryKey(),
    tenantId: text("tenant_id").notNull(),
    name: text("name").notNull(),
    blockedCommands: text("blocked_commands", { mode: "json" }).$type<string[]>().notNull(),
    restrictedPaths: text("restricted_paths", { mode: "json" }).$type<string[]>().notNull(),
    /** The POLICY_GATE's finding thresholds for builds that name this profile (issue 16); null: defaults. */
    findingThresholds: text("finding_thresholds", { mode: "json" }).$type<FindingThresholds>(),
    createdBy: text("created_by").notNull(),
    createdAt: text("created_at").notNull(),
  },
  (t) => [index("policy_profiles_tenant_created_idx").on(t.tenantId, t.createdAt, t.profileId)],
);

export const releaseChecklists = sqliteTable(
  "release_checklists",
  {
    tenantId: text("tenant_id").notNull(),
    releaseId: text("release_id").notNull(),
    securityReview: integer("security_review", { mode: "boolean" }).notNull(),
    sloDashboard: integer("slo_dashboard", { mode: "boolean" }).notNull(),
    rollbackTested: integer("rollback_tested", { mode: "boolean" }).notNull(),
    docsComplete: integer("docs_complete", { mode: "boolean" }).notNull(),
    runbooksReady: integer("runbooks_ready", { mode: "boolean" }).notNull(),
    /** 1 on insert, +1 on every replace (tells a create from a replace). */
    revision: integer("revision").notNull(),
    updatedBy: text("updated_by").notNull(),
    createdAt: text("created_at").notNull(),
    updatedAt: text("updated_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.releaseId] })],
);

export const rollbackDrills = sqliteTable(
  "rollback_drills",
  {
    tenantId: text("tenant_id").notNull(),
    releaseId: text("release_id").notNull(),
    passed: integer("passed", { mode: "boolean" }).notNull(),
    durationMinutes: integer("duration_minutes").notNull(),
    issuesFound: text("issues_found", { mode: "json" }).$type<string[]>().notNull(),
    revision: integer("revision").notNull(),
    updatedBy: text("updated_by").notNull(),
    createdAt: text("created_at").notNull(),
    updatedAt: text("updated_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.releaseId] })],
);

export interface ValidationEvidence {
  /** `campaign`: computed from the campaign's report; `asserted`: the client's flag. */
  source: "campaign" | "asserted";
  campaign_id: string | null;
  release_ready: boolean;
  score: number | null;
  profile_name: string | null;
  /** Simulated runs the campaign's report listed and did not count (absent on older decisions). */
  simulated_runs?: number;
  /** The campaign is a dry run (absent on older decisions). */
  dry_run?: boolean;
}

export const goLiveDecisions = sqliteTable(
  "go_live_decisions",
  {
    tenantId: text("tenant_id").notNull(),
    releaseId: text("release_id").notNull(),
    status: text("status").notNull(),
    reasons: text("reasons", { mode: "json" }).$type<string[]>().notNull(),
    validation: text("validation", { mode: "json" }).$type<ValidationEvidence>().notNull(),
    revision: integer("revision").notNull(),
    decidedBy: text("decided_by").notNull(),
    createdAt: text("created_at").notNull(),
    decidedAt: text("decided_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.releaseId] })],
);
