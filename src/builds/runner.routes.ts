/**
 * POST /v1/runner/callback — runner reports (ack, heartbeat, result), authenticated by a
 * Standard Webhooks signature with RUNNER_SHARED_SECRETS instead of a user JWT (a public API
 * path). The build's runner applies it; late or duplicate reports are ignored idempotently.
 */
import { Hono } from "hono";
import type { AppEnv } from "../env";
import { AppError } from "../errors";
import { assertInWindow, parseWebhookHeaders, readBodyCapped, verifyStandardSignature } from "../security/webhooks.verify";
import { parseOrThrow } from "../validation";
import { buildRunner, unwrap } from "./build-runner.client";
import { RunnerMessage } from "./runner-protocol";

const MAX_CALLBACK_BYTES = 1_048_576;
const WINDOW_SECONDS = 300;

export const runnerRoutes = new Hono<AppEnv>().post("/callback", async (c) => {
  const keys = c.var.config.RUNNER_SHARED_SECRETS;
  if (!keys?.length) throw new AppError("webhook_rejected", "Runner callbacks are not configured.");
  const h = parseWebhookHeaders(c.req.raw.headers);
  if (h.scheme !== "standard") throw new AppError("webhook_signature_invalid", "Runner callbacks use Standard Webhooks signatures.");
  assertInWindow(h.timestamp, Math.floor(Date.now() / 1000), WINDOW_SECONDS);
  const body = await readBodyCapped(c.req.raw, MAX_CALLBACK_BYTES);
  if (!(await verifyStandardSignature(keys, h, body))) throw new AppError("webhook_signature_invalid", "No signature matches.");
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(body));
  } catch {
    throw new AppError("malformed_json", "Request body is not valid JSON.");
  }
  const msg = parseOrThrow(RunnerMessage, json, "runner message");
  const res = unwrap(await buildRunner(c.env, msg.build_id).runnerReport(msg));
  return c.json({ accepted: res.accepted }, 202);
});
