/**
 * The runner protocol (issue 7, DESIGN §5): what the BuildRunner sends to a runner service and
 * what the runner reports back. Both directions are signed Standard Webhooks
 * (`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256>`). A dispatch
 * is signed with the shared `RUNNER_SHARED_SECRETS` (the first signs, any verifies). Callbacks are
 * signed with the dispatch's own `callback_token` (issue 15 item 5): a key derived from a
 * control-plane-only secret and bound to (build, task run, attempt), so a runner can report only
 * on the runs it was sent, and the shared secret alone forges nothing. The control plane claims
 * each callback's `webhook-id` in the ReplayGuard (a replayed delivery is refused).
 */
import { z } from "zod";
import { concatBytes, hmacSha256, toBase64, utf8 } from "../lib/crypto";
import type { RunnerResult } from "./simulated-runner";

/**
 * A finding as a runner reports it (issue 15): the tool and rule that produced it, where it is
 * (file, 1-based line and column, end line) and a snippet whose secret values are masked by the
 * runner. The control plane stores and serves these fields (`findings.ts`).
 */
export const RunnerFinding = z.object({
  rule_id: z.string().min(1).max(200).optional(),
  tool: z.string().min(1).max(64).optional(),
  severity: z.string().min(1).max(16),
  category: z.string().min(1).max(64),
  title: z.string().min(1).max(300),
  detail: z.string().max(4000).optional(),
  file: z.string().max(1000).nullish(),
  line: z.number().int().min(0).nullish(),
  end_line: z.number().int().min(0).nullish(),
  column: z.number().int().min(0).nullish(),
  snippet: z.string().max(1000).nullish(),
});
export type RunnerFinding = z.infer<typeof RunnerFinding>;
const Finding = RunnerFinding;

/** The signed work order the BuildRunner posts to `${RUNNER_URL}/dispatch` (never a command). */
export const DispatchSchema = z.object({
  build_id: z.uuid(),
  task_run_id: z.string().min(1).max(200),
  node_id: z.string().min(1).max(200),
  attempt: z.number().int().min(1),
  agent: z.string().min(1).max(64),
  title: z.string().max(500),
  objective: z.string().max(10_000),
  repo_url: z.string().max(2000),
  deadline: z.string(),
  heartbeat_interval_seconds: z.number().int().min(1).max(3600),
  callback_url: z.url(),
  /** `cbk_<base64>`: the key this run's callbacks are signed with (see `callbackKey`). */
  callback_token: z.string().startsWith("cbk_"),
  secrets: z.record(z.string(), z.string()),
  prior_findings: z.array(
    z.object({
      node_id: z.string(),
      severity: z.string(),
      category: z.string(),
      title: z.string(),
      file: z.string().nullable(),
    }),
  ),
});
export type Dispatch = z.infer<typeof DispatchSchema>;

/** A runner's message for one task run attempt. */
export const RunnerMessage = z.discriminatedUnion("type", [
  z.object({
    type: z.enum(["ack", "heartbeat"]),
    build_id: z.uuid(),
    task_run_id: z.string().min(1),
    attempt: z.number().int().min(1),
  }),
  z.object({
    type: z.literal("result"),
    build_id: z.uuid(),
    task_run_id: z.string().min(1),
    attempt: z.number().int().min(1),
    status: z.enum(["completed", "failed", "skipped"]),
    summary: z.string().max(4000).default(""),
    error: z.string().max(4000).nullish(),
    duration_ms: z.number().min(0).max(86_400_000),
    logs_excerpt: z.string().max(8000).default(""),
    findings: z.array(Finding).max(500).default([]),
    workspace_id: z.string().max(200).default("runner"),
    exit_code: z.number().int().nullish(),
  }),
]);
export type RunnerMessage = z.infer<typeof RunnerMessage>;

/** The run-machine result of a runner's `result` message for a run of `nodeId` (agent `agent`). */
export function resultOfMessage(
  msg: Extract<RunnerMessage, { type: "result" }>,
  nodeId: string,
  agent: string,
): RunnerResult {
  return {
    status: msg.status,
    error: msg.status === "failed" ? (msg.error ?? msg.summary) || "runner_failed" : null,
    duration_ms: msg.duration_ms,
    runner: "http",
    workspace_id: msg.workspace_id,
    message: msg.summary || `runner ${msg.status} ${nodeId}`,
    metadata: {
      exit_code: msg.exit_code ?? (msg.status === "failed" ? 1 : 0),
      agent,
      execution_mode: "http",
      logs_excerpt: msg.logs_excerpt,
    },
    findings: msg.findings,
  };
}

/** Standard Webhooks headers for `body`, signed with `key`. */
export async function signStandardWebhook(
  key: Uint8Array,
  id: string,
  body: string,
  nowSeconds = Math.floor(Date.now() / 1000),
): Promise<Record<string, string>> {
  const ts = String(nowSeconds);
  const mac = await hmacSha256(key, concatBytes(utf8(`${id}.${ts}.`), utf8(body)));
  return { "webhook-id": id, "webhook-timestamp": ts, "webhook-signature": `v1,${toBase64(mac)}` };
}

/**
 * The callback key of one task run attempt: HMAC-SHA256(base, label ‖ build ‖ run ‖ attempt).
 * `base` is a secret only the control plane holds (RUNNER_CALLBACK_SECRET, else the stream-token
 * or JWT secret; `callbackBases` in runner.routes.ts).
 */
export function callbackKey(
  base: Uint8Array,
  buildId: string,
  taskRunId: string,
  attempt: number,
): Promise<Uint8Array> {
  return hmacSha256(base, utf8(`clarity.runner-callback.v1|${buildId}|${taskRunId}|${attempt}`));
}

/** The dispatch's `callback_token` for a callback key, and back. */
export const callbackToken = (key: Uint8Array): string => `cbk_${toBase64(key)}`;
