/**
 * D1 schema (drizzle). D1 is the system of record for every build entity; the BuildRunner
 * Durable Object is the only writer of a build's rows, and every write batch it sends starts
 * with a fence row (`build_write_fences`) checked by a trigger against `builds.lease_epoch`.
 * Timestamps are ISO-8601 UTC text. Child rows carry `event_seq`, the seq of the event that
 * recorded them, which gives a total order without relying on clock resolution.
 */
import { index, integer, primaryKey, real, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

export const builds = sqliteTable(
  "builds",
  {
    buildId: text("build_id").primaryKey(),
    tenantId: text("tenant_id").notNull(),
    createdBy: text("created_by").notNull(),
    repoUrl: text("repo_url").notNull(),
    objective: text("objective").notNull(),
    status: text("status").notNull(),
    scanMode: text("scan_mode").notNull(),
    metadata: text("metadata", { mode: "json" }).$type<Record<string, unknown>>().notNull(),
    taskTotal: integer("task_total").notNull().default(0),
    taskCompleted: integer("task_completed").notNull().default(0),
    taskFailed: integer("task_failed").notNull().default(0),
    nodeTotal: integer("node_total").notNull().default(0),
    nodeDone: integer("node_done").notNull().default(0),
    /**
     * Findings counts by severity and baseline state (issue 16, `FindingsSummary` in src/findings/baseline.ts); null
     * until the build finishes.
     */
    findingsSummary: text("findings_summary", { mode: "json" }).$type<Record<string, unknown>>(),
    leaseOwner: text("lease_owner"),
    leaseEpoch: integer("lease_epoch").notNull().default(0),
    leaseExpiresAt: text("lease_expires_at"),
    heartbeatAt: text("heartbeat_at"),
    createdAt: text("created_at").notNull(),
    updatedAt: text("updated_at").notNull(),
  },
  (t) => [
    index("builds_owner_created_idx").on(t.createdBy, t.createdAt, t.buildId),
    index("builds_owner_status_created_idx").on(t.createdBy, t.status, t.createdAt, t.buildId),
    index("builds_tenant_created_idx").on(t.tenantId, t.createdAt, t.buildId),
    // Planner history: the last builds of one repository in a tenant.
    index("builds_tenant_repo_created_idx").on(t.tenantId, t.repoUrl, t.createdAt),
    index("builds_status_lease_idx").on(t.status, t.leaseExpiresAt),
  ],
);

export const buildNodes = sqliteTable(
  "build_nodes",
  {
    buildId: text("build_id").notNull(),
    nodeId: text("node_id").notNull(),
    position: integer("position").notNull(),
    title: text("title").notNull(),
    agent: text("agent").notNull(),
    dependsOn: text("depends_on", { mode: "json" }).$type<string[]>().notNull(),
    gate: text("gate"),
    level: integer("level").notNull(),
    status: text("status").notNull(),
    /** Earliest time a scheduled retry may dispatch this node again. */
    notBefore: text("not_before"),
  },
  (t) => [primaryKey({ columns: [t.buildId, t.nodeId] })],
);

export const taskRuns = sqliteTable(
  "task_runs",
  {
    taskRunId: text("task_run_id").primaryKey(),
    buildId: text("build_id").notNull(),
    nodeId: text("node_id").notNull(),
    attempt: integer("attempt").notNull(),
    status: text("status").notNull(),
    source: text("source").notNull(),
    startedAt: text("started_at").notNull(),
    finishedAt: text("finished_at"),
    error: text("error"),
    /** When the dispatched work is due back (simulated runner) or its deadline (http runner). */
    dueAt: text("due_at"),
    /** Runtime adapter that executes the run: `simulated`, `http` or `manual`. */
    runnerKind: text("runner_kind").notNull().default("simulated"),
    /** Last heartbeat of an http runner for this run. */
    heartbeatAt: text("heartbeat_at"),
    eventSeq: integer("event_seq").notNull(),
  },
  (t) => [
    uniqueIndex("task_runs_node_attempt_uq").on(t.buildId, t.nodeId, t.attempt),
    index("task_runs_build_seq_idx").on(t.buildId, t.eventSeq),
  ],
);

export const buildEvents = sqliteTable(
  "build_events",
  {
    buildId: text("build_id").notNull(),
    seq: integer("seq").notNull(),
    eventType: text("event_type").notNull(),
    payload: text("payload", { mode: "json" }).$type<Record<string, unknown>>().notNull(),
    createdAt: text("created_at").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.buildId, t.seq] }),
    index("build_events_type_idx").on(t.buildId, t.eventType, t.seq),
  ],
);

export const statusTransitions = sqliteTable(
  "status_transitions",
  {
    transitionId: text("transition_id").primaryKey(),
    buildId: text("build_id").notNull(),
    fromStatus: text("from_status").notNull(),
    toStatus: text("to_status").notNull(),
    reason: text("reason").notNull(),
    source: text("source").notNull(),
    eventSeq: integer("event_seq").notNull(),
    createdAt: text("created_at").notNull(),
  },
  (t) => [index("status_transitions_build_idx").on(t.buildId, t.eventSeq)],
);

export const gateDecisions = sqliteTable(
  "gate_decisions",
  {
    decisionId: text("decision_id").primaryKey(),
    buildId: text("build_id").notNull(),
    gate: text("gate").notNull(),
    status: text("status").notNull(),
    reason: text("reason").notNull(),
    nodeId: text("node_id"),
    source: text("source").notNull(),
    eventSeq: integer("event_seq").notNull(),
    createdAt: text("created_at").notNull(),
  },
  (t) => [index("gate_decisions_build_idx").on(t.buildId, t.eventSeq)],
);

export const replanDecisions = sqliteTable(
  "replan_decisions",
  {
    decisionId: text("decision_id").primaryKey(),
    buildId: text("build_id").notNull(),
    action: text("action").notNull(),
    reason: text("reason").notNull(),
    source: text("source").notNull(),
    replacementNodes: text("replacement_nodes", { mode: "json" }).$type<unknown[]>().notNull(),
    eventSeq: integer("event_seq").notNull(),
    createdAt: text("created_at").notNull(),
  },
  (t) => [index("replan_decisions_build_idx").on(t.buildId, t.eventSeq)],
);

export const debtItems = sqliteTable(
  "debt_items",
  {
    debtId: text("debt_id").primaryKey(),
    buildId: text("build_id").notNull(),
    nodeId: text("node_id").notNull(),
    summary: text("summary").notNull(),
    severity: text("severity").notNull(),
    eventSeq: integer("event_seq").notNull(),
    createdAt: text("created_at").notNull(),
  },
  (t) => [index("debt_items_build_idx").on(t.buildId, t.eventSeq)],
);

export const policyViolations = sqliteTable(
  "policy_violations",
  {
    violationId: text("violation_id").primaryKey(),
    buildId: text("build_id").notNull(),
    code: text("code").notNull(),
    message: text("message").notNull(),
    source: text("source").notNull(),
    blocking: integer("blocking", { mode: "boolean" }).notNull(),
    eventSeq: integer("event_seq").notNull(),
    createdAt: text("created_at").notNull(),
  },
  (t) => [index("policy_violations_build_idx").on(t.buildId, t.eventSeq)],
);

export const checkpoints = sqliteTable(
  "checkpoints",
  {
    checkpointId: text("checkpoint_id").primaryKey(),
    buildId: text("build_id").notNull(),
    status: text("status").notNull(),
    reason: text("reason").notNull(),
    /** seq of this checkpoint's CHECKPOINT_CREATED event. */
    eventCursor: integer("event_cursor").notNull(),
    createdAt: text("created_at").notNull(),
  },
  (t) => [index("checkpoints_build_idx").on(t.buildId, t.eventCursor)],
);

export const runnerLogs = sqliteTable(
  "runner_logs",
  {
    logId: text("log_id").primaryKey(),
    buildId: text("build_id").notNull(),
    runtimeId: text("runtime_id").notNull(),
    nodeId: text("node_id").notNull(),
    taskRunId: text("task_run_id").notNull(),
    runner: text("runner").notNull(),
    workspaceId: text("workspace_id").notNull(),
    status: text("status").notNull(),
    message: text("message").notNull(),
    startedAt: text("started_at").notNull(),
    finishedAt: text("finished_at").notNull(),
    durationMs: real("duration_ms").notNull(),
    error: text("error"),
    metadata: text("metadata", { mode: "json" }).$type<Record<string, unknown>>().notNull(),
    eventSeq: integer("event_seq").notNull(),
  },
  (t) => [index("runner_logs_build_idx").on(t.buildId, t.eventSeq), uniqueIndex("runner_logs_task_uq").on(t.taskRunId)],
);

export const runtimeMetrics = sqliteTable(
  "runtime_metrics",
  {
    metricId: text("metric_id").primaryKey(),
    buildId: text("build_id"),
    runtimeId: text("runtime_id"),
    metric: text("metric").notNull(),
    value: real("value").notNull(),
    tags: text("tags", { mode: "json" }).$type<Record<string, string>>().notNull(),
    fields: text("fields", { mode: "json" }).$type<Record<string, unknown>>().notNull(),
    emittedAt: text("emitted_at").notNull(),
  },
  (t) => [index("runtime_metrics_build_idx").on(t.buildId, t.metric, t.emittedAt)],
);

/** Findings reported by runners (issue 7); served by GET /v1/builds/{id}/findings. */
export const findings = sqliteTable(
  "findings",
  {
    findingId: text("finding_id").primaryKey(),
    buildId: text("build_id").notNull(),
    nodeId: text("node_id").notNull(),
    taskRunId: text("task_run_id").notNull(),
    severity: text("severity").notNull(),
    /** 4 critical · 3 high · 2 medium · 1 low · 0 info, for ordering and filters. */
    severityRank: integer("severity_rank").notNull(),
    category: text("category").notNull(),
    title: text("title").notNull(),
    detail: text("detail").notNull(),
    file: text("file"),
    line: integer("line"),
    // Issue 16: the fields runners report (issue 15 kept them in a `detail` JSON envelope) and
    // the baseline identity. All null on rows written before; `findings.ts` still reads the envelope.
    ruleId: text("rule_id"),
    tool: text("tool"),
    /** The finding's line with secret values masked. */
    snippet: text("snippet"),
    endLine: integer("end_line"),
    columnNumber: integer("column_number"),
    /** Stable identity across builds (src/findings/fingerprint.ts). */
    fingerprint: text("fingerprint"),
    /** `new` | `unchanged` against the previous finished build; null until computed. */
    state: text("state"),
    eventSeq: integer("event_seq").notNull(),
    createdAt: text("created_at").notNull(),
  },
  (t) => [
    index("findings_build_idx").on(t.buildId, t.severityRank, t.eventSeq),
    index("findings_run_idx").on(t.taskRunId),
    // Baselines look a previous build's findings up by fingerprint.
    index("findings_build_fingerprint_idx").on(t.buildId, t.fingerprint),
  ],
);

/** Runtime session of a build (SPEC §4.2 RuntimeSession), persisted; written by the BuildRunner. */
export const runtimeSessions = sqliteTable("runtime_sessions", {
  buildId: text("build_id").primaryKey(),
  runtimeId: text("runtime_id").notNull(),
  status: text("status").notNull(),
  sandboxProfile: text("sandbox_profile").notNull(),
  metadata: text("metadata", { mode: "json" }).$type<Record<string, unknown>>().notNull(),
  createdAt: text("created_at").notNull(),
  updatedAt: text("updated_at").notNull(),
});

/**
 * Fencing: every write batch of a BuildRunner begins with an insert here. A trigger (custom
 * migration) aborts the whole batch when `epoch` is not the build's current `lease_epoch`,
 * and otherwise swallows the row, so this table stays empty.
 */
export const buildWriteFences = sqliteTable("build_write_fences", {
  buildId: text("build_id").notNull(),
  epoch: integer("epoch").notNull(),
});
