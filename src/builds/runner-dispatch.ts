/**
 * Building and sending a signed dispatch to the runner service (the `http` adapter). Called by
 * the BuildRunner outside its critical path (`waitUntil`), never awaited by a tick.
 */
import { drizzle } from "drizzle-orm/d1";
import type { Config } from "../kernel/env";
import { AppError } from "../kernel/errors";
import { isoTimestamp, parseTimestamp } from "../lib/ids";
import { resolveSecretValue } from "../security/secrets.service";
import { allFindings } from "./builds.repo";
import { type BuildState, type TaskRunState, forNode } from "./run-machine";
import { utf8 } from "../lib/crypto";
import { type Dispatch, callbackKey, callbackToken, signStandardWebhook } from "./runner-protocol";

/** A dispatch that cannot be sent; its message becomes the run's error. */
export class DispatchError extends Error {}

const ACK_TIMEOUT_MS = 10_000;

/**
 * The secret callback keys derive from: RUNNER_CALLBACK_SECRET, else the stream-token or JWT
 * secret (held by the control plane only, never by a runner); the first shared runner secret only
 * when none of them is configured (JWKS-only deployments should set RUNNER_CALLBACK_SECRET).
 */
export function callbackBase(config: Config): Uint8Array | null {
  const own = config.RUNNER_CALLBACK_SECRET ?? config.STREAM_TOKEN_SECRET ?? config.JWT_SECRET;
  return own !== undefined ? utf8(own) : (config.RUNNER_SHARED_SECRETS?.[0] ?? null);
}

/** Plain http:// to the runner is for local development and tests only. */
export function insecureRunnerUrl(config: Config): boolean {
  return (
    config.RUNNER_URL !== undefined &&
    new URL(config.RUNNER_URL).protocol !== "https:" &&
    config.ENVIRONMENT !== "development" &&
    config.ENVIRONMENT !== "test"
  );
}

export async function buildDispatch(
  env: Env,
  config: Config,
  state: BuildState | null,
  run: TaskRunState,
): Promise<Dispatch> {
  if (!state) throw new DispatchError("dispatch_state_unavailable");
  const node = state.nodes.find((n) => n.node_id === run.node_id);
  if (!node) throw new DispatchError("dispatch_node_unknown");
  const db = drizzle(env.DB);
  const secrets: Record<string, string> = {};
  for (const name of forNode(state.settings.node_secrets, node.node_id) ?? []) {
    try {
      secrets[name] = await resolveSecretValue({ db, config }, state.tenant_id, { name });
    } catch (err) {
      throw new DispatchError(`secret_unavailable:${name}${err instanceof AppError ? `:${err.code}` : ""}`);
    }
  }
  const prior = node.agent === "planner" ? await allFindings(db, state.build_id, 500) : [];
  const base = callbackBase(config);
  if (!base) throw new DispatchError("runner_not_configured");
  return {
    build_id: state.build_id,
    task_run_id: run.task_run_id,
    node_id: node.node_id,
    attempt: run.attempt,
    agent: node.agent,
    title: node.title,
    objective: state.objective,
    repo_url: state.repo_url,
    deadline: run.due_at ?? isoTimestamp(parseTimestamp(run.started_at) + config.RUNNER_NODE_TIMEOUT_SECONDS * 1000),
    heartbeat_interval_seconds: Math.max(1, Math.floor(config.RUNNER_HEARTBEAT_TIMEOUT_SECONDS / 3)),
    callback_url: new URL("/v1/runner/callback", config.PUBLIC_BASE_URL).toString(),
    callback_token: callbackToken(await callbackKey(base, state.build_id, run.task_run_id, run.attempt)),
    secrets,
    prior_findings: prior.map((f) => ({
      node_id: f.nodeId,
      severity: f.severity,
      category: f.category,
      title: f.title,
      file: f.file,
    })),
  };
}

/** POSTs the dispatch to `${RUNNER_URL}/dispatch`, signed; the runner must acknowledge quickly. */
export async function sendDispatch(config: Config, payload: Dispatch): Promise<Response> {
  const key = config.RUNNER_SHARED_SECRETS?.[0];
  if (!config.RUNNER_URL || !key) throw new DispatchError("runner_not_configured");
  // Outside development a dispatch (which carries decrypted secrets) never travels in clear text.
  if (insecureRunnerUrl(config)) throw new DispatchError("runner_url_insecure");
  const body = JSON.stringify(payload);
  const headers = await signStandardWebhook(key, `dispatch_${payload.task_run_id}`, body);
  try {
    return await fetch(new URL("/dispatch", config.RUNNER_URL), {
      method: "POST",
      headers: { ...headers, "content-type": "application/json" },
      body,
      signal: AbortSignal.timeout(ACK_TIMEOUT_MS),
    });
  } catch {
    throw new DispatchError("runner_unreachable");
  }
}

/**
 * Sends one run to the runner service (signed). The runner acknowledges at once; anything else
 * (unreachable, non-2xx, no runner configured, a secret that cannot be opened) is the reason the
 * run failed, which goes through the normal retry/fallback rules. Null: dispatched.
 */
export async function dispatchRun(
  env: Env,
  config: Config,
  state: BuildState | null,
  run: TaskRunState,
): Promise<string | null> {
  try {
    const res = await sendDispatch(config, await buildDispatch(env, config, state, run));
    return res.ok ? null : `dispatch_rejected:${res.status}`;
  } catch (err) {
    return err instanceof DispatchError ? err.message : "dispatch_failed";
  }
}
