/**
 * Build control and runtime use cases (SPEC §4.10, §5.1 B5–B24, §5.2): every mutation is one
 * control action on the build's runner; every read is a D1 query mapped to the SPEC shapes.
 * Other domains use `recordPolicyViolation` and `createCheckpoint` from here.
 */
import { actorOf } from "../audit/audit";
import * as findings from "../findings/findings.service";
import { type FindingFilters, findingsSummaryOf } from "../findings/findings.repo";
import { SEVERITIES } from "../findings/finding";
import { describeFinding, topFindings } from "../findings/gate";
import type { Db } from "../kernel/env";
import { AppError } from "../kernel/errors";
import { parseTimestamp } from "../lib/ids";
import type { ControlAction } from "./build-runner.client";
import { buildRunner, unwrap } from "./build-runner.client";
import * as repo from "./builds.repo";
import { type Deps, authorizeBuild, getBuild, taskRunDto } from "./builds.service";
import type { ReplanSuggestion } from "./control-actions";
import type { CheckpointRow, DebtRow, GateRow, ReplanRow, TaskRunState, TickReport, ViolationRow } from "./run-machine";
import { normaliseRunnerStatus } from "./simulated-runner";
import { parseRunSettings } from "./engine/run-settings";
import { openDeadLetterOf } from "./dead-letters.repo";

type Reader = Pick<Deps, "db" | "principal">;

/** Authorises, then applies one control action on the build's runner; returns what it produced. */
async function act<T>(deps: Deps, buildId: string, action: ControlAction): Promise<T> {
  await authorizeBuild(deps, buildId);
  // A read (`suggest`) carries no actor: only changes are audited.
  const actor = action.type === "suggest" ? undefined : actorOf(deps);
  const res = unwrap(await buildRunner(deps.env, buildId).control(action, actor)) as { value: T };
  return res.value;
}

const gateDto = (buildId: string, g: GateRow) => ({
  decision_id: g.decision_id,
  build_id: buildId,
  gate: g.gate,
  status: g.status,
  reason: g.reason,
  node_id: g.node_id,
  created_at: g.created_at,
});
const replanDto = (r: ReplanRow) => ({
  decision_id: r.decision_id,
  action: r.action,
  reason: r.reason,
  created_at: r.created_at,
  replacement_nodes: r.replacement_nodes,
});
const debtDto = (d: DebtRow) => ({
  debt_id: d.debt_id,
  node_id: d.node_id,
  summary: d.summary,
  severity: d.severity,
  created_at: d.created_at,
});
const violationDto = (v: ViolationRow) => ({
  violation_id: v.violation_id,
  code: v.code,
  message: v.message,
  source: v.source,
  blocking: v.blocking,
  created_at: v.created_at,
});
const checkpointDto = (buildId: string, c: CheckpointRow) => ({
  checkpoint_id: c.checkpoint_id,
  build_id: buildId,
  status: c.status,
  reason: c.reason,
  event_cursor: c.event_cursor,
  created_at: c.created_at,
});

/** A newest-first page: `next_cursor` is the event seq to pass as `cursor` for older rows. */
function page<R extends { eventSeq: number }, D>(rows: R[], limit: number, map: (r: R) => D) {
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return { items: items.map(map), next_cursor: rows.length > limit && last ? last.eventSeq : null };
}

// ---- mutations ---------------------------------------------------------------------------------

export async function abortBuild(deps: Deps, buildId: string, reason: string | null | undefined) {
  await act(deps, buildId, { type: "abort", reason });
  return getBuild(deps, buildId);
}

export async function resumeBuild(deps: Deps, buildId: string, reason: string | null | undefined) {
  await act(deps, buildId, { type: "resume", reason });
  return getBuild(deps, buildId);
}

export async function createCheckpoint(deps: Deps, buildId: string, input: { reason: string }) {
  return checkpointDto(buildId, await act<CheckpointRow>(deps, buildId, { type: "checkpoint", reason: input.reason }));
}

export async function recordDebt(
  deps: Deps,
  buildId: string,
  input: { node_id: string; summary: string; severity: string },
) {
  return debtDto(await act<DebtRow>(deps, buildId, { type: "debt", ...input }));
}

/** Records a policy violation through the build's runner; a blocking one fails a running build. */
export async function recordPolicyViolation(
  deps: Deps,
  buildId: string,
  input: { code: string; message: string; source: string; blocking: boolean },
) {
  return violationDto(await act<ViolationRow>(deps, buildId, { type: "violation", ...input }));
}

export async function decideGate(
  deps: Deps,
  buildId: string,
  gate: GateRow["gate"],
  input: { status: GateRow["status"]; reason: string; node_id: string | null },
) {
  return gateDto(buildId, await act<GateRow>(deps, buildId, { type: "gate", gate, ...input }));
}

export async function replanBuild(
  deps: Deps,
  buildId: string,
  input: Omit<Extract<ControlAction, { type: "replan" }>, "type">,
) {
  return replanDto(
    await act<ReplanRow>(deps, buildId, { type: "replan", ...input, max_dag_nodes: deps.config.BUILD_MAX_DAG_NODES }),
  );
}

export async function suggestReplan(deps: Deps, buildId: string): Promise<ReplanSuggestion> {
  return act<ReplanSuggestion>(deps, buildId, { type: "suggest" });
}

export async function applyReplanSuggestion(deps: Deps, buildId: string, reason: string | null | undefined) {
  return replanDto(
    await act<ReplanRow>(deps, buildId, {
      type: "apply_suggestion",
      reason,
      max_dag_nodes: deps.config.BUILD_MAX_DAG_NODES,
    }),
  );
}

export async function startTask(deps: Deps, buildId: string, nodeId: string) {
  return taskRunDto(await act<TaskRunState>(deps, buildId, { type: "start_task", node_id: nodeId }));
}

export async function completeTask(
  deps: Deps,
  buildId: string,
  taskRunId: string,
  input: { status: TaskRunState["status"]; error: string | null },
) {
  return taskRunDto(
    await act<TaskRunState>(deps, buildId, { type: "complete_task", task_run_id: taskRunId, ...input }),
  );
}

// ---- reads ---------------------------------------------------------------------------------------

export async function listTasks(
  deps: Reader,
  buildId: string,
  q: { node_id?: string; status?: string; limit: number; cursor?: number },
) {
  await authorizeBuild(deps, buildId);
  const rows = await repo.listTaskRuns(deps.db, buildId, {
    nodeId: q.node_id,
    status: q.status,
    limit: q.limit + 1,
    before: q.cursor,
  });
  return page(rows, q.limit, taskRunDto);
}

export async function getTask(deps: Reader, buildId: string, taskRunId: string) {
  await authorizeBuild(deps, buildId);
  const row = await repo.getTaskRun(deps.db, buildId, taskRunId);
  if (!row) throw new AppError("task_run_not_found", "Task run not found.");
  return taskRunDto(row);
}

export async function listGates(deps: Reader, buildId: string, q: { gate?: string; limit: number; cursor?: number }) {
  await authorizeBuild(deps, buildId);
  const rows = await repo.listGates(deps.db, buildId, { gate: q.gate, limit: q.limit + 1, before: q.cursor });
  return page(rows, q.limit, (g) => ({
    decision_id: g.decisionId,
    build_id: g.buildId,
    gate: g.gate,
    status: g.status,
    reason: g.reason,
    node_id: g.nodeId,
    created_at: g.createdAt,
  }));
}

export async function listReplans(deps: Reader, buildId: string, q: { limit: number; cursor?: number }) {
  await authorizeBuild(deps, buildId);
  const rows = await repo.listReplans(deps.db, buildId, { limit: q.limit + 1, before: q.cursor });
  return page(rows, q.limit, (r) => ({
    decision_id: r.decisionId,
    action: r.action,
    reason: r.reason,
    created_at: r.createdAt,
    replacement_nodes: r.replacementNodes,
  }));
}

export async function listDebts(deps: Reader, buildId: string, q: { limit: number; cursor?: number }) {
  await authorizeBuild(deps, buildId);
  const rows = await repo.listDebts(deps.db, buildId, { limit: q.limit + 1, before: q.cursor });
  return page(rows, q.limit, (d) => ({
    debt_id: d.debtId,
    node_id: d.nodeId,
    summary: d.summary,
    severity: d.severity,
    created_at: d.createdAt,
  }));
}

export async function listViolations(deps: Reader, buildId: string, q: { limit: number; cursor?: number }) {
  await authorizeBuild(deps, buildId);
  const rows = await repo.listViolations(deps.db, buildId, { limit: q.limit + 1, before: q.cursor });
  return page(rows, q.limit, (v) => ({
    violation_id: v.violationId,
    code: v.code,
    message: v.message,
    source: v.source,
    blocking: v.blocking,
    created_at: v.createdAt,
  }));
}

/** Chronological; `next_cursor` is the last event_cursor when more follow. */
export async function listCheckpoints(deps: Reader, buildId: string, q: { limit: number; cursor?: number }) {
  await authorizeBuild(deps, buildId);
  const rows = await repo.listCheckpoints(deps.db, buildId, { limit: q.limit + 1, after: q.cursor });
  const items = rows.slice(0, q.limit);
  const last = items[items.length - 1];
  return {
    items: items.map((c) => ({
      checkpoint_id: c.checkpointId,
      build_id: c.buildId,
      status: c.status,
      reason: c.reason,
      event_cursor: c.eventCursor,
      created_at: c.createdAt,
    })),
    next_cursor: rows.length > q.limit && last ? last.eventCursor : null,
  };
}

// ---- runtime -------------------------------------------------------------------------------------

function sessionDto(
  buildId: string,
  s: NonNullable<Awaited<ReturnType<typeof repo.getRuntimeSession>>>,
  extra: Record<string, unknown> = {},
) {
  return {
    runtime_id: s.runtimeId,
    build_id: buildId,
    status: s.status,
    sandbox_profile: s.sandboxProfile,
    created_at: s.createdAt,
    updated_at: s.updatedAt,
    metadata: { ...s.metadata, ...extra },
  };
}

async function requireSession(db: Db, buildId: string) {
  const s = await repo.getRuntimeSession(db, buildId);
  if (!s) throw new AppError("runtime_not_found", "Runtime session not found.");
  return s;
}

export async function bootstrapRuntime(deps: Deps, buildId: string) {
  await act(deps, buildId, { type: "bootstrap" });
  const c = deps.config;
  return sessionDto(buildId, await requireSession(deps.db, buildId), {
    runtime_worker_enabled: true,
    runtime_client_tick_fallback_enabled: c.RUNTIME_CLIENT_TICK_FALLBACK_ENABLED,
    runtime_watchdog_nudge_enabled: c.RUNTIME_WATCHDOG_NUDGE_ENABLED,
    runtime_watchdog_stale_seconds: c.RUNTIME_WATCHDOG_STALE_SECONDS,
  });
}

export async function runtimeStatus(deps: Reader, buildId: string) {
  await authorizeBuild(deps, buildId);
  return sessionDto(buildId, await requireSession(deps.db, buildId));
}

/** Event types that prove the runner is alive (SPEC §4.11). */
export const LIVENESS_EVENTS = [
  "RUNTIME_BOOTSTRAPPED",
  "LEVEL_STARTED",
  "TASK_STARTED",
  "TASK_COMPLETED",
  "TASK_FAILED",
  "RUNNER_RESULT",
  "TASK_RETRY_SCHEDULED",
  "FALLBACK_MODE_SWITCHED",
  "BUILD_STATUS_CHANGED",
  "BUILD_FINISHED",
] as const;

/**
 * Worker health from real heartbeats and the lease: stale when a running build's lease expired,
 * or neither a heartbeat nor a liveness event is younger than `stale_after_seconds`.
 */
export async function workerHealth(deps: Deps, buildId: string, now = Date.now()) {
  const row = await authorizeBuild(deps, buildId);
  const staleAfter = Math.max(10, deps.config.RUNTIME_WATCHDOG_STALE_SECONDS);
  const lastEvent = await repo.lastEventAt(deps.db, buildId, LIVENESS_EVENTS);
  // A dead-lettered build (src/ops) keeps its status but does not tick until re-driven.
  const deadLettered = (await openDeadLetterOf(deps.db, buildId)) !== null;
  const running = row.status === "running";
  const lastSign = Math.max(
    lastEvent ? parseTimestamp(lastEvent) : 0,
    row.heartbeatAt ? parseTimestamp(row.heartbeatAt) : 0,
    parseTimestamp(row.updatedAt),
  );
  const leaseExpired = row.leaseExpiresAt === null || parseTimestamp(row.leaseExpiresAt) < now;
  const stale = running && (deadLettered || leaseExpired || now - lastSign >= staleAfter * 1000);
  return {
    build_id: buildId,
    worker_enabled: true,
    worker_stale: stale,
    nudge_allowed: stale && running && deps.config.RUNTIME_WATCHDOG_NUDGE_ENABLED && !deadLettered,
    stale_after_seconds: staleAfter,
    last_runtime_event_at: lastEvent,
    heartbeat_at: row.heartbeatAt,
    lease_owner: row.leaseOwner,
    lease_epoch: row.leaseEpoch,
    lease_expires_at: row.leaseExpiresAt,
    lease_expired: leaseExpired,
    dead_lettered: deadLettered,
  };
}

const metricDto = (m: Awaited<ReturnType<typeof repo.listMetrics>>[number]) => ({
  metric: m.metric,
  build_id: m.buildId,
  runtime_id: m.metric === "runtime_bootstrap" ? null : m.runtimeId,
  value: m.value,
  tags: m.tags,
  fields: m.fields,
  emitted_at: m.emittedAt,
});

export async function runtimeMetrics(deps: Reader, buildId: string, q: { metric?: string; limit: number }) {
  await authorizeBuild(deps, buildId);
  return { items: (await repo.listMetrics(deps.db, buildId, q)).map(metricDto), next_cursor: null };
}

export async function telemetrySummary(deps: Reader, buildId: string) {
  await authorizeBuild(deps, buildId);
  const rows = await repo.listMetrics(deps.db, buildId, { limit: 1000 });
  const latest = rows[0];
  return {
    build_id: buildId,
    metric_count: rows.length,
    bootstrap_count: rows.filter((m) => m.metric === "runtime_bootstrap").length,
    tick_count: rows.filter((m) => m.metric === "runtime_tick").length,
    total_executed_nodes: rows.filter((m) => m.metric === "runtime_tick").reduce((a, m) => a + m.value, 0),
    latest_runtime_id: latest?.runtimeId ?? null,
    latest_status: latest ? ((latest.fields as Record<string, unknown>).status ?? null) : null,
    last_emitted_at: latest?.emittedAt ?? null,
  };
}

export async function runnerLogs(
  deps: Reader,
  buildId: string,
  q: { node_id?: string; status?: string; limit: number; cursor?: number },
) {
  await authorizeBuild(deps, buildId);
  const status = q.status === undefined ? undefined : normaliseRunnerStatus(q.status);
  const rows = await repo.listRunnerLogs(deps.db, buildId, {
    nodeId: q.node_id,
    status,
    limit: q.limit + 1,
    before: q.cursor,
  });
  return page(rows, q.limit, (l) => ({
    log_id: l.logId,
    build_id: l.buildId,
    runtime_id: l.runtimeId,
    node_id: l.nodeId,
    task_run_id: l.taskRunId,
    runner: l.runner,
    workspace_id: l.workspaceId,
    status: l.status,
    message: l.message,
    started_at: l.startedAt,
    finished_at: l.finishedAt,
    duration_ms: l.durationMs,
    error: l.error,
    metadata: l.metadata,
  }));
}

/** POST …/runtime/tick: asks the runner to tick now (never runs nodes in the request). */
export async function nudgeTick(deps: Deps, buildId: string) {
  await authorizeBuild(deps, buildId);
  const r: TickReport = unwrap(await buildRunner(deps.env, buildId).nudge());
  const session = await requireSession(deps.db, buildId);
  const started = r.levels_started.length ? Math.max(...r.levels_started) : null;
  return {
    build_id: buildId,
    runtime_id: session.runtimeId,
    executed_nodes: r.executed_nodes,
    dispatched_nodes: r.dispatched_nodes,
    pending_nodes: r.pending_nodes,
    active_level: r.active_level,
    level_started: started,
    level_completed: started !== null ? started - 1 : null,
    finished: r.finished,
  };
}

// ---- findings (issues 7 and 16: src/findings) ---------------------------------------------------

/** Findings most severe first, filtered (severity, severity at least, category, node, rule, state); opaque cursor. */
export async function listFindings(
  deps: Reader,
  buildId: string,
  q: FindingFilters & { limit: number; cursor?: string },
) {
  await authorizeBuild(deps, buildId);
  return findings.findingsPage(deps.db, buildId, q);
}

/** The findings of the baseline build that are gone in this one. */
export async function fixedFindings(deps: Reader, buildId: string) {
  await authorizeBuild(deps, buildId);
  const summary = await findingsSummaryOf(deps.db, buildId);
  return {
    baseline_build_id: summary?.baseline_build_id ?? null,
    items: await findings.fixedFindings(deps.db, buildId, summary),
  };
}

/** The build's findings as a SARIF 2.1.0 log (one run per tool; fixed ones `absent`). */
export async function findingsSarif(deps: Pick<Deps, "env" | "db" | "principal">, buildId: string, version: string) {
  const build = await getBuild(deps, buildId);
  const summary = await findingsSummaryOf(deps.db, buildId);
  return findings.sarifLog(
    deps.db,
    { build_id: buildId, repo_url: build.repo_url, summary },
    { name: "clarity", version },
  );
}

/** The build report: status, counts by severity and node, the most severe findings, the plan. */
export async function buildReport(deps: Pick<Deps, "env" | "db" | "principal">, buildId: string) {
  const build = await getBuild(deps, buildId);
  const all = await repo.allFindings(deps.db, buildId);
  const dtos = all.map(findings.findingDto);
  const bySeverity = Object.fromEntries(SEVERITIES.map((s) => [s, all.filter((f) => f.severity === s).length]));
  const byNode: Record<string, number> = {};
  for (const f of all) byNode[f.nodeId] = (byNode[f.nodeId] ?? 0) + 1;
  const logs = await repo.listRunnerLogs(deps.db, buildId, { limit: 200 });
  const plannerNodes = new Set(build.dag.filter((n) => n.agent === "planner").map((n) => n.node_id));
  const plan = logs.find((l) => plannerNodes.has(l.nodeId) && l.status === "completed");
  return {
    build_id: buildId,
    status: build.status,
    repo_url: build.repo_url,
    execution: parseRunSettings(build.metadata).runner_kind === "http" ? ("real" as const) : ("simulated" as const),
    findings_total: all.length,
    by_severity: bySeverity,
    by_node: byNode,
    top_findings: dtos.slice(0, 20),
    findings_summary: await findingsSummaryOf(deps.db, buildId),
    // The most important findings to fix first (issue 16), most severe first.
    recommendations: topFindings(dtos, 5).map((f) => `fix ${describeFinding(f)}: ${f.title}`),
    nodes: build.dag.map((n) => {
      const log = logs.find((l) => l.nodeId === n.node_id);
      return {
        node_id: n.node_id,
        agent: n.agent,
        status: n.status,
        summary: log?.message ?? null,
        duration_ms: log?.durationMs ?? null,
      };
    }),
    remediation_plan: plan?.message ?? null,
  };
}
