/**
 * Runtime use cases (SPEC §5.2): the build's runtime session, liveness, metrics, telemetry, runner
 * logs and the safe tick nudge.
 */
import type { Db } from "../kernel/env";
import { AppError } from "../kernel/errors";
import { parseTimestamp } from "../lib/ids";
import { buildRunner, unwrap } from "./build-runner.client";
import * as repo from "./builds.repo";
import { type Deps, authorizeBuild } from "./builds.service";
import { act, page } from "./control.service";
import type { TickReport } from "./run-machine";
import { normaliseRunnerStatus } from "./simulated-runner";
import { openDeadLetterOf } from "./dead-letters.repo";

type Reader = Pick<Deps, "db" | "principal">;

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
