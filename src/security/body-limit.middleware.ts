/**
 * Request body cap for the API's JSON routes (issue 17 item 8): a body larger than
 * MAX_REQUEST_BODY_BYTES is 413 `payload_too_large` before anything parses or buffers it — a
 * declared `Content-Length` above the cap is refused unread, an undeclared (chunked) body is read
 * only up to the cap. The capped bytes replace the request body, so the idempotency middleware and
 * the validators read at most the cap. Webhook ingest and runner callbacks keep their own caps
 * (WEBHOOK_MAX_BODY_BYTES, the callback limit). Runs after authentication and rate limiting.
 */
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../kernel/env";
import { isMutatingMethod } from "./route-key";
import { readBodyCapped } from "./webhooks.verify";

/** Routes that cap their own (signed, possibly larger) bodies. */
const OWN_CAP =
  /^\/v1\/(?:program\/(?:week\d+\/)?webhook\/ingest|program\/webhook\/github\/[^/]+|runner\/callback)\/?$/;

export const bodyLimit = createMiddleware<AppEnv>(async (c, next) => {
  const req = c.req.raw;
  if (!isMutatingMethod(req.method) || req.body === null || OWN_CAP.test(c.req.path)) return next();
  const bytes = await readBodyCapped(req, c.var.config.MAX_REQUEST_BODY_BYTES);
  c.req.raw = new Request(req, { body: bytes });
  await next();
});
