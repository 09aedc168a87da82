/**
 * POST /v1/runner/callback — runner reports (ack, heartbeat, result), authenticated by a
 * Standard Webhooks signature with the per-dispatch callback key of the (build, task run,
 * attempt) the message names, instead of a user JWT (a public API path); the shared runner
 * secret does not sign callbacks. Each delivery id is claimed in the ReplayGuard: a replay is 409
 * `webhook_replay_detected`. The build's runner applies the report; late or duplicate reports
 * (new delivery ids) are ignored idempotently.
 */
import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../kernel/env";
import { AppError } from "../kernel/errors";
import {
  assertInWindow,
  parseWebhookHeaders,
  readBodyCapped,
  verifyStandardSignature,
} from "../security/webhooks.verify";
import { parseOrThrow } from "../kernel/validation";
import { buildRunner, unwrap } from "./build-runner.client";
import { sha256Hex } from "../lib/crypto";
import { guardKey, newClaimToken, replayGuard } from "../security/replay-guard.client";
import { callbackBase } from "./runner-dispatch";
import { RunnerMessage, callbackKey } from "./runner-protocol";
import { describeRoute } from "../kernel/route-meta";
import { RunnerCallbackAccepted } from "./builds.schemas";

const RunIds = z.object({
  build_id: z.string().min(1).max(100),
  task_run_id: z.string().min(1).max(200),
  attempt: z.number().int().min(1),
});

const MAX_CALLBACK_BYTES = 1_048_576;
const WINDOW_SECONDS = 300;

export const runnerRoutes = new Hono<AppEnv>().post(
  "/callback",
  describeRoute({
    operationId: "runnerCallback",
    tag: "runner",
    auth: "signature",
    summary: "Runner report (ack, heartbeat, result), Standard Webhooks signature with the dispatch's callback_token",
    responses: { 202: { description: "Accepted", schema: RunnerCallbackAccepted } },
    errors: [
      "webhook_rejected",
      "webhook_headers_missing",
      "timestamp_invalid",
      "webhook_timestamp_invalid",
      "webhook_signature_invalid",
      "webhook_replay_detected",
      "coordination_unavailable",
      "payload_too_large",
      "malformed_json",
      "validation_failed",
      "build_not_found",
      "lease_lost",
      "build_dead_lettered",
    ],
  }),
  async (c) => {
    const config = c.var.config;
    const base = config.RUNNER_SHARED_SECRETS?.length ? callbackBase(config) : null;
    if (!base) throw new AppError("webhook_rejected", "Runner callbacks are not configured.");
    const h = parseWebhookHeaders(c.req.raw.headers);
    if (h.scheme !== "standard")
      throw new AppError("webhook_signature_invalid", "Runner callbacks use Standard Webhooks signatures.");
    assertInWindow(h.timestamp, Math.floor(Date.now() / 1000), WINDOW_SECONDS);
    const body = await readBodyCapped(c.req.raw, MAX_CALLBACK_BYTES);
    let json: unknown;
    try {
      json = JSON.parse(new TextDecoder().decode(body));
    } catch {
      throw new AppError("webhook_signature_invalid", "No signature matches.");
    }
    // The key is bound to the run the message names: parse only the ids before verifying.
    const ids = RunIds.safeParse(json);
    const key = ids.success ? await callbackKey(base, ids.data.build_id, ids.data.task_run_id, ids.data.attempt) : null;
    if (!key || !(await verifyStandardSignature([key], h, body)))
      throw new AppError("webhook_signature_invalid", "No signature matches.");
    const claim = await replayGuard(c.env, config).claim(
      await guardKey("runner-callback", h.id),
      newClaimToken(),
      await sha256Hex(body),
      (2 * WINDOW_SECONDS + 60) * 1000,
    );
    if (claim.outcome !== "claimed")
      throw new AppError("webhook_replay_detected", "This callback delivery was already received.");
    const msg = parseOrThrow(RunnerMessage, json, "runner message");
    const res = unwrap(await buildRunner(c.env, msg.build_id).runnerReport(msg));
    return c.json({ accepted: res.accepted }, 202);
  },
);
