/**
 * The typed client side of the BuildRunner DO: how the Worker reaches a build's runner, the
 * zod schema of its RPC input, and the conversion of expected failures (results) to AppError.
 */
import { z } from "zod";
import { AppError } from "../errors";
import { GATE_TYPES, TASK_STATUSES } from "./builds.types";

/** Expected failures cross the RPC boundary as results; bugs are throws. */
export type RpcResult<T> = { ok: true; value: T } | { ok: false; code: "build_not_found" | "lease_lost"; detail?: string };

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

export function buildRunner(env: Env, buildId: string) {
  return env.BUILD_RUNNER.get(env.BUILD_RUNNER.idFromName(buildId));
}

export function unwrap<T>(result: RpcResult<T>): T {
  if (result.ok) return result.value;
  if (result.code === "build_not_found") throw new AppError("build_not_found", "Build not found.");
  throw new AppError("lease_lost", result.detail ?? "The build's runner changed owner; retry the request.");
}
