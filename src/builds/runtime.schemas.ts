/**
 * Request and response schemas of the build runtime routes (SPEC §5.2, runtime.routes.ts).
 */
import { z } from "zod";
import { int, nts, record, registerResponses, seqCursor, ts } from "../kernel/api-schemas";

const limit = (def: number, max: number) => z.coerce.number().int().min(1).max(max).default(def);

export const MetricsQuery = z.object({ metric: z.string().max(64).optional(), limit: limit(200, 1000) });
export const LogsQuery = z.object({
  node_id: z.string().optional(),
  status: z.string().max(32).optional(),
  limit: limit(200, 1000),
  cursor: z.coerce.number().int().min(0).optional(),
});

export const RuntimeSession = z.object({
  runtime_id: z.string(),
  build_id: z.uuid(),
  status: z.string(),
  sandbox_profile: z.string(),
  created_at: ts,
  updated_at: ts,
  metadata: record,
});

export const WorkerHealth = z.object({
  build_id: z.uuid(),
  worker_enabled: z.boolean(),
  worker_stale: z.boolean(),
  nudge_allowed: z.boolean(),
  stale_after_seconds: int,
  last_runtime_event_at: nts,
  heartbeat_at: nts,
  lease_owner: z.string().nullable(),
  lease_epoch: int,
  lease_expires_at: nts,
  lease_expired: z.boolean(),
  dead_lettered: z
    .boolean()
    .describe(
      "The build's ticks kept failing and it is dead-lettered: it keeps its status but does not run until " +
        "re-driven (POST /v1/ops/dead-letters/{build_id}/redrive).",
    ),
});

export const RuntimeMetric = z.object({
  metric: z.string(),
  build_id: z.uuid().nullable(),
  runtime_id: z.string().nullable(),
  value: z.number(),
  tags: z.record(z.string(), z.string()),
  fields: record,
  emitted_at: ts,
});
export const RuntimeMetricPage = z.object({ items: z.array(RuntimeMetric), next_cursor: z.null() });

export const TelemetrySummary = z.object({
  build_id: z.uuid(),
  metric_count: int,
  bootstrap_count: int,
  tick_count: int,
  total_executed_nodes: z.number(),
  latest_runtime_id: z.string().nullable(),
  latest_status: z.unknown().describe("`fields.status` of the newest metric, or null."),
  last_emitted_at: nts,
});

export const RunnerLog = z.object({
  log_id: z.uuid(),
  build_id: z.uuid(),
  runtime_id: z.string(),
  node_id: z.string(),
  task_run_id: z.string(),
  runner: z.string(),
  workspace_id: z.string(),
  status: z.string(),
  message: z.string(),
  started_at: ts,
  finished_at: ts,
  duration_ms: z.number(),
  error: z.string().nullable(),
  metadata: record,
});
export const RunnerLogPage = z.object({ items: z.array(RunnerLog), next_cursor: seqCursor });

export const TickResult = z.object({
  build_id: z.uuid(),
  runtime_id: z.string(),
  executed_nodes: z.array(z.string()),
  dispatched_nodes: z.array(z.string()),
  pending_nodes: z.array(z.string()),
  active_level: int.nullable(),
  level_started: int.nullable(),
  level_completed: int.nullable(),
  finished: z.boolean(),
});

registerResponses({
  RuntimeSession,
  WorkerHealth,
  RuntimeMetric,
  RuntimeMetricPage,
  TelemetrySummary,
  RunnerLog,
  RunnerLogPage,
  TickResult,
});
