/**
 * Plain query functions over the build tables for the API (mapping to DTOs happens in the
 * service). The runner's writes — load, lease, commit of a Draft — are in run-store.ts and
 * re-exported here for callers that import the repo as one.
 */
import { and, asc, desc, eq, gt, inArray, isNull, lt, notExists, or, sql, type SQL } from "drizzle-orm";
import * as t from "../db/schema";
import type { Db } from "../kernel/env";
import type { BuildEventType, BuildStatus } from "./builds.types";
import type { BuildEvent } from "./run-machine";
import { opsDeadLetters } from "../ops/ops.tables";

export { type LeaseWrite, StaleLeaseError, acquireLease, commitDraft, loadBuildState, writeLease } from "./run-store";

// ---------------------------------------------------------------------------------------------
// Reads for the API

export async function getBuildRow(db: Db, buildId: string) {
  const rows = await db.select().from(t.builds).where(eq(t.builds.buildId, buildId));
  return rows[0] ?? null;
}
export type BuildRow = typeof t.builds.$inferSelect;

/** A JSON array of `cols` (SQL expressions keyed by DTO field) of one build's rows of `table`, ordered. */
const jsonRows = (table: string, cols: Record<string, string>, orderBy: string) =>
  `(SELECT json_group_array(json(j)) FROM (SELECT json_object(${Object.entries(cols)
    .map(([k, v]) => `'${k}', ${v}`)
    .join(", ")}) AS j ` + `FROM ${table} WHERE build_id = b.build_id ORDER BY ${orderBy}))`;

/** Each child collection's DTO fields and the SQL expression of each (keys in SPEC §4.2 order). */
const DAG_COLS = {
  node_id: "node_id",
  title: "title",
  agent: "agent",
  depends_on: "json(depends_on)",
  gate: "gate",
  status: "status",
  level: "level",
};
const TASK_RUN_COLS = {
  task_run_id: "task_run_id",
  node_id: "node_id",
  attempt: "attempt",
  status: "status",
  started_at: "started_at",
  finished_at: "finished_at",
  error: "error",
};
const REPLAN_COLS = {
  decision_id: "decision_id",
  action: "action",
  reason: "reason",
  created_at: "created_at",
  replacement_nodes: "json(replacement_nodes)",
};
const DEBT_COLS = {
  debt_id: "debt_id",
  node_id: "node_id",
  summary: "summary",
  severity: "severity",
  created_at: "created_at",
};
const VIOLATION_COLS = {
  violation_id: "violation_id",
  code: "code",
  message: "message",
  source: "source",
  blocking: "json(CASE WHEN blocking THEN 'true' ELSE 'false' END)",
  created_at: "created_at",
};
const TRANSITION_COLS = {
  transition_id: "transition_id",
  from_status: "from_status",
  to_status: "to_status",
  reason: "reason",
  source: "source",
  created_at: "created_at",
};
const GATE_COLS = {
  decision_id: "decision_id",
  build_id: "build_id",
  gate: "gate",
  status: "status",
  reason: "reason",
  node_id: "node_id",
  created_at: "created_at",
};

/**
 * GET /v1/builds/{id} in one statement: the build row and each child collection as a JSON array
 * already in its SPEC §4.2 shape (SQLite keeps a subquery's ORDER BY under an aggregate). Raw SQL
 * on purpose: this is the hottest read, and drizzle's query building cost more CPU than the
 * query (bench profile, issue 9). The column names are the schema's (db/schema.ts).
 */
const BUILD_VIEW_SQL = `SELECT b.build_id, b.tenant_id, b.created_by, b.repo_url, b.objective, b.status, b.metadata,
  b.node_total, b.node_done, b.created_at, b.updated_at, b.findings_summary,
  ${jsonRows("build_nodes", DAG_COLS, "position")} AS dag,
  ${jsonRows("task_runs", TASK_RUN_COLS, "event_seq")} AS task_runs,
  ${jsonRows("replan_decisions", REPLAN_COLS, "event_seq")} AS replan_history,
  ${jsonRows("debt_items", DEBT_COLS, "event_seq")} AS debt_items,
  ${jsonRows("policy_violations", VIOLATION_COLS, "event_seq")} AS policy_violations,
  ${jsonRows("status_transitions", TRANSITION_COLS, "event_seq")} AS state_transitions,
  ${jsonRows("gate_decisions", GATE_COLS, "event_seq")} AS gate_history
FROM builds b WHERE b.build_id = ?`;

export interface BuildViewRow {
  build_id: string;
  tenant_id: string;
  created_by: string;
  repo_url: string;
  objective: string;
  status: string;
  metadata: string;
  node_total: number;
  node_done: number;
  created_at: string;
  updated_at: string;
  /** JSON text of the summary stored at the build's last finish (issue 16), or null. */
  findings_summary: string | null;
  /** JSON arrays, already in their DTO shapes. */
  dag: string;
  task_runs: string;
  replan_history: string;
  debt_items: string;
  policy_violations: string;
  state_transitions: string;
  gate_history: string;
}

/** The build with every child collection (JSON text), in one round trip; null when unknown. */
export function getBuildView(db: Db, buildId: string): Promise<BuildViewRow | null> {
  return db.$client.prepare(BUILD_VIEW_SQL).bind(buildId).first<BuildViewRow>();
}

export interface ListBuildsQuery {
  createdBy: string | null;
  tenantId: string;
  status?: BuildStatus;
  limit: number;
  after?: { createdAt: string; buildId: string };
}

/** A row of the builds list: its columns, with only the trigger of the metadata (JSON text, null when none). */
export interface BuildListRow {
  build_id: string;
  repo_url: string;
  objective: string;
  status: string;
  created_at: string;
  updated_at: string;
  task_total: number;
  task_completed: number;
  task_failed: number;
  node_total: number;
  node_done: number;
  findings_summary: string | null;
  trigger: string | null;
}

const LIST_COLUMNS =
  "build_id, repo_url, objective, status, created_at, updated_at, task_total, task_completed, task_failed, " +
  "node_total, node_done, findings_summary, metadata -> '$.trigger' AS trigger";
const LIST_ORDER = "ORDER BY created_at DESC, build_id DESC LIMIT ?";

/** Keyset page of builds, newest first; plain SQL, as dashboards poll it (docs/DECISIONS.md "The builds list"). */
export async function listBuilds(db: Db, q: ListBuildsQuery): Promise<BuildListRow[]> {
  const where = ["tenant_id = ?"];
  const params: (string | number)[] = [q.tenantId];
  if (q.createdBy !== null) {
    where.push("created_by = ?");
    params.push(q.createdBy);
  }
  if (q.status) {
    where.push("status = ?");
    params.push(q.status);
  }
  // Row-value comparison: an index range (the OR form walked every newer entry: 6.7 vs 0.05 ms at 45,000 deep).
  if (q.after) {
    where.push("(created_at, build_id) < (?, ?)");
    params.push(q.after.createdAt, q.after.buildId);
  }
  params.push(q.limit);
  const text = `SELECT ${LIST_COLUMNS} FROM builds WHERE ${where.join(" AND ")} ${LIST_ORDER}`;
  const { results } = await db.$client
    .prepare(text)
    .bind(...params)
    .all<BuildListRow>();
  return results;
}

/** Events with seq > after, ascending, in their API shape (history pages and SSE replay). */
/** Whether the build is completed or aborted with no event after `seq` (one round trip). */
export async function endedAfter(db: Db, buildId: string, seq: number): Promise<boolean> {
  const [rows, later] = await db.batch([
    db.select({ status: t.builds.status }).from(t.builds).where(eq(t.builds.buildId, buildId)),
    db
      .select({ seq: t.buildEvents.seq })
      .from(t.buildEvents)
      .where(and(eq(t.buildEvents.buildId, buildId), gt(t.buildEvents.seq, seq)))
      .limit(1),
  ]);
  const status = rows[0]?.status;
  return (status === "completed" || status === "aborted") && later.length === 0;
}

export async function listEvents(db: Db, buildId: string, after: number, limit: number): Promise<BuildEvent[]> {
  const rows = await db
    .select()
    .from(t.buildEvents)
    .where(and(eq(t.buildEvents.buildId, buildId), gt(t.buildEvents.seq, after)))
    .orderBy(asc(t.buildEvents.seq))
    .limit(limit);
  return rows.map((e) => ({
    seq: e.seq,
    // Only the Draft writes events, and it emits BUILD_EVENT_TYPES only (typed at `emit`).
    event_type: e.eventType as BuildEventType,
    build_id: e.buildId,
    timestamp: e.createdAt,
    payload: e.payload,
  }));
}

export interface SeqPage {
  limit: number;
  /** Only rows with event_seq < before (newest-first paging). */
  before?: number;
}

export async function listTaskRuns(db: Db, buildId: string, q: SeqPage & { nodeId?: string; status?: string }) {
  const conds: SQL[] = [eq(t.taskRuns.buildId, buildId)];
  if (q.nodeId) conds.push(eq(t.taskRuns.nodeId, q.nodeId));
  if (q.status) conds.push(eq(t.taskRuns.status, q.status));
  if (q.before !== undefined) conds.push(lt(t.taskRuns.eventSeq, q.before));
  return db
    .select()
    .from(t.taskRuns)
    .where(and(...conds))
    .orderBy(desc(t.taskRuns.eventSeq))
    .limit(q.limit);
}

export async function getTaskRun(db: Db, buildId: string, taskRunId: string) {
  const rows = await db
    .select()
    .from(t.taskRuns)
    .where(and(eq(t.taskRuns.buildId, buildId), eq(t.taskRuns.taskRunId, taskRunId)));
  return rows[0] ?? null;
}

export async function listGates(db: Db, buildId: string, q: SeqPage & { gate?: string }) {
  const conds: SQL[] = [eq(t.gateDecisions.buildId, buildId)];
  if (q.gate) conds.push(eq(t.gateDecisions.gate, q.gate));
  if (q.before !== undefined) conds.push(lt(t.gateDecisions.eventSeq, q.before));
  return db
    .select()
    .from(t.gateDecisions)
    .where(and(...conds))
    .orderBy(desc(t.gateDecisions.eventSeq))
    .limit(q.limit);
}

export async function listReplans(db: Db, buildId: string, q: SeqPage) {
  const conds: SQL[] = [eq(t.replanDecisions.buildId, buildId)];
  if (q.before !== undefined) conds.push(lt(t.replanDecisions.eventSeq, q.before));
  return db
    .select()
    .from(t.replanDecisions)
    .where(and(...conds))
    .orderBy(desc(t.replanDecisions.eventSeq))
    .limit(q.limit);
}

export async function listDebts(db: Db, buildId: string, q: SeqPage) {
  const conds: SQL[] = [eq(t.debtItems.buildId, buildId)];
  if (q.before !== undefined) conds.push(lt(t.debtItems.eventSeq, q.before));
  return db
    .select()
    .from(t.debtItems)
    .where(and(...conds))
    .orderBy(desc(t.debtItems.eventSeq))
    .limit(q.limit);
}

export async function listViolations(db: Db, buildId: string, q: SeqPage) {
  const conds: SQL[] = [eq(t.policyViolations.buildId, buildId)];
  if (q.before !== undefined) conds.push(lt(t.policyViolations.eventSeq, q.before));
  return db
    .select()
    .from(t.policyViolations)
    .where(and(...conds))
    .orderBy(desc(t.policyViolations.eventSeq))
    .limit(q.limit);
}

/** Checkpoints are chronological (the first is `build_created`). */
export async function listCheckpoints(db: Db, buildId: string, q: { limit: number; after?: number }) {
  const conds: SQL[] = [eq(t.checkpoints.buildId, buildId)];
  if (q.after !== undefined) conds.push(gt(t.checkpoints.eventCursor, q.after));
  return db
    .select()
    .from(t.checkpoints)
    .where(and(...conds))
    .orderBy(asc(t.checkpoints.eventCursor))
    .limit(q.limit);
}

export async function listRunnerLogs(db: Db, buildId: string, q: SeqPage & { nodeId?: string; status?: string }) {
  const conds: SQL[] = [eq(t.runnerLogs.buildId, buildId)];
  if (q.nodeId) conds.push(eq(t.runnerLogs.nodeId, q.nodeId));
  if (q.status) conds.push(eq(t.runnerLogs.status, q.status));
  if (q.before !== undefined) conds.push(lt(t.runnerLogs.eventSeq, q.before));
  return db
    .select()
    .from(t.runnerLogs)
    .where(and(...conds))
    .orderBy(desc(t.runnerLogs.eventSeq))
    .limit(q.limit);
}

export async function listMetrics(db: Db, buildId: string, q: { limit: number; metric?: string }) {
  const conds: SQL[] = [eq(t.runtimeMetrics.buildId, buildId)];
  if (q.metric) conds.push(eq(t.runtimeMetrics.metric, q.metric));
  return db
    .select()
    .from(t.runtimeMetrics)
    .where(and(...conds))
    .orderBy(desc(t.runtimeMetrics.emittedAt), desc(t.runtimeMetrics.metricId))
    .limit(q.limit);
}

/** Findings newest first, keyset-paged on SQLite's rowid (insertion order). */
export async function listFindings(db: Db, buildId: string, q: { severity?: string; limit: number; before?: number }) {
  const rowid = sql<number>`${t.findings}.rowid`;
  const conds: SQL[] = [eq(t.findings.buildId, buildId)];
  if (q.severity) conds.push(eq(t.findings.severity, q.severity));
  if (q.before !== undefined) conds.push(sql`${t.findings}.rowid < ${q.before}`);
  return db
    .select({ row: t.findings, rowid })
    .from(t.findings)
    .where(and(...conds))
    .orderBy(desc(rowid))
    .limit(q.limit);
}

export async function countFindings(db: Db, buildId: string): Promise<number> {
  const rows = await db.select({ n: sql<number>`count(*)` }).from(t.findings).where(eq(t.findings.buildId, buildId));
  return rows[0]?.n ?? 0;
}

/** All findings of a build (report), most severe first. Bounded by what runners report per node. */
export async function allFindings(db: Db, buildId: string, cap = 5000) {
  return db
    .select()
    .from(t.findings)
    .where(eq(t.findings.buildId, buildId))
    .orderBy(desc(t.findings.severityRank), asc(t.findings.eventSeq))
    .limit(cap);
}

export async function getRuntimeSession(db: Db, buildId: string) {
  const rows = await db.select().from(t.runtimeSessions).where(eq(t.runtimeSessions.buildId, buildId));
  return rows[0] ?? null;
}

/** Timestamp of the newest event of the given types (worker liveness). */
export async function lastEventAt(db: Db, buildId: string, types: readonly string[]): Promise<string | null> {
  const rows = await db
    .select({ at: t.buildEvents.createdAt })
    .from(t.buildEvents)
    .where(and(eq(t.buildEvents.buildId, buildId), inArray(t.buildEvents.eventType, [...types])))
    .orderBy(desc(t.buildEvents.seq))
    .limit(1);
  return rows[0]?.at ?? null;
}

/**
 * Running builds whose lease expired or was never renewed (watchdog candidates), oldest first.
 * Dead-lettered builds (src/ops) are left alone until re-driven, so they never crowd the batch.
 */
export async function listStaleRunningBuilds(db: Db, now: string, limit: number) {
  const deadLettered = db
    .select({ one: sql`1` })
    .from(opsDeadLetters)
    .where(and(eq(opsDeadLetters.buildId, t.builds.buildId), eq(opsDeadLetters.state, "open")));
  return db
    .select({ buildId: t.builds.buildId, leaseExpiresAt: t.builds.leaseExpiresAt })
    .from(t.builds)
    .where(
      and(
        eq(t.builds.status, "running"),
        or(isNull(t.builds.leaseExpiresAt), lt(t.builds.leaseExpiresAt, now)),
        notExists(deadLettered),
      ),
    )
    .orderBy(asc(t.builds.leaseExpiresAt))
    .limit(limit);
}
