/**
 * D1 tables of the program plane (SPEC §6.1–6.2, §6.7–6.8; DESIGN §3, §6). Every entity carries
 * `tenant_id` and every query filters on it; release records are keyed by (tenant_id, release_id),
 * so two tenants never share a row. Timestamps are ISO-8601 UTC text. Each list query has an
 * index that serves its keyset page (no OFFSET).
 */
import type { FindingThresholds } from "../findings/gate";
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import type { ThresholdProfile } from "./campaign-report";

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
    /** The latest execution; only its builds are ingested as runs. */
    currentExecutionId: text("current_execution_id"),
    createdBy: text("created_by").notNull(),
    createdAt: text("created_at").notNull(),
    updatedAt: text("updated_at").notNull(),
  },
  (t) => [index("campaigns_tenant_created_idx").on(t.tenantId, t.createdAt, t.campaignId)],
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

/** One execution of a campaign's plan (POST …/execute). */
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
  },
  (t) => [index("campaign_executions_campaign_idx").on(t.campaignId, t.createdAt)],
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
