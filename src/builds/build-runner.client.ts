/**
 * The typed client side of the BuildRunner DO: how the Worker reaches a build's runner, the zod
 * schemas of its RPC input, and the conversion of expected failures (results) to AppError.
 */
import { z } from "zod";
import { AppError, type ErrorCode } from "../kernel/errors";
import { GATE_DECISION_STATUSES, GATE_TYPES, REPLAN_ACTIONS, TASK_STATUSES } from "./builds.types";

/** Expected failures cross the RPC boundary as results; bugs are throws. */
export type RpcResult<T> = { ok: true; value: T } | { ok: false; code: ErrorCode; detail?: string };

export const DagNodeSchema = z.object({
  node_id: z.string().min(1).max(128),
  title: z.string().min(1).max(512),
  agent: z.string().min(1).max(64),
  depends_on: z.array(z.string().min(1).max(128)).max(256).default([]),
  gate: z.enum(GATE_TYPES).nullable().default(null),
  status: z.enum(TASK_STATUSES).default("pending"),
});

export const CreateInputSchema = z.object({
  build_id: z.uuid(),
  tenant_id: z.string().min(1),
  created_by: z.string().min(1),
  repo_url: z.string().min(1),
  objective: z.string(),
  scan_mode: z.string(),
  metadata: z.record(z.string(), z.unknown()),
  dag: z.array(DagNodeSchema),
});
export type CreateInputRpc = z.infer<typeof CreateInputSchema>;

const reason = z.string().max(1000).nullish();
/** Control actions an operator (or another domain) sends to a build's runner. */
export const ControlActionSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("abort"), reason }),
  z.object({ type: z.literal("resume"), reason }),
  z.object({ type: z.literal("checkpoint"), reason: z.string().min(1).max(1000) }),
  z.object({ type: z.literal("debt"), node_id: z.string().min(1), summary: z.string(), severity: z.string() }),
  z.object({
    type: z.literal("violation"),
    code: z.string().min(1),
    message: z.string(),
    source: z.string(),
    blocking: z.boolean(),
  }),
  z.object({
    type: z.literal("gate"),
    gate: z.enum(GATE_TYPES),
    status: z.enum(GATE_DECISION_STATUSES),
    reason: z.string(),
    node_id: z.string().nullable(),
  }),
  // max_dag_nodes: the deployment's BUILD_MAX_DAG_NODES, sent by the route (the DO reads no config for it).
  z.object({
    type: z.literal("replan"),
    action: z.enum(REPLAN_ACTIONS),
    reason: z.string(),
    replacement_nodes: z.array(DagNodeSchema),
    max_dag_nodes: z.number().int().positive().optional(),
  }),
  z.object({ type: z.literal("suggest") }),
  z.object({ type: z.literal("apply_suggestion"), reason, max_dag_nodes: z.number().int().positive().optional() }),
  z.object({ type: z.literal("start_task"), node_id: z.string().min(1) }),
  z.object({
    type: z.literal("complete_task"),
    task_run_id: z.string().min(1),
    status: z.enum(TASK_STATUSES),
    error: z.string().nullable(),
  }),
  z.object({ type: z.literal("bootstrap") }),
]);
export type ControlAction = z.infer<typeof ControlActionSchema>;

export function buildRunner(env: Env, buildId: string) {
  return env.BUILD_RUNNER.get(env.BUILD_RUNNER.idFromName(buildId));
}

export function unwrap<T>(result: RpcResult<T>): T {
  if (result.ok) return result.value;
  if (result.code === "build_not_found") throw new AppError("build_not_found", "Build not found.");
  if (result.code === "lease_lost")
    throw new AppError("lease_lost", result.detail ?? "The build's runner changed owner; retry the request.");
  throw new AppError(result.code, result.detail);
}
