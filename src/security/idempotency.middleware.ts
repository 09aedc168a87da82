/**
 * Idempotency-Key on every mutating POST/PATCH under /v1 (IETF draft
 * "The Idempotency-Key HTTP Header Field", DESIGN §7). Runs after authentication and rate
 * limiting; scoped per principal (tenant + sub) and canonical route. The first request claims the
 * key in the ReplayGuard, runs, and its response is stored there for IDEMPOTENCY_TTL_SECONDS; a
 * retry with the same payload gets that response again with `Idempotent-Replayed: true` (and from
 * its first replay on, the KV edge cache answers the key until the record expires), a concurrent
 * one 409 `idempotency_key_in_flight`, a different payload 422 `idempotency_key_reused`.
 * Outcomes worth retrying (5xx, 429, 401/403, lease_lost) are not stored: the claim is released.
 * The guard unreachable → 503 `coordination_unavailable`, the request is not executed.
 * Signature-authenticated webhook ingest is skipped: its delivery id is its replay key.
 * The matched route's capability is checked before any lookup (issue 17 item 5): a stored
 * response is never replayed to a principal the route itself would refuse.
 */
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../kernel/env";
import { AppError, problemResponse } from "../kernel/errors";
import { concatBytes, sha256Hex, utf8 } from "../lib/crypto";
import { KV_MIN_TTL_SECONDS } from "../lib/kv-cache";
import { matchedRouteMeta } from "../kernel/route-meta";
import { assertCapability } from "./auth.middleware";
import type { Capability, Principal } from "../kernel/principal";
import { isPublicRoute } from "./route-auth";
import type { StoredResponse } from "./replay-guard";
import { cacheCompletion, cachedCompletion, guardKey, newClaimToken, replayGuard } from "./replay-guard.client";
import { canonicalPath } from "./route-key";

/** Responses larger than this are not kept; a replay then answers the status and headers only. */
const MAX_STORED_BODY_CHARS = 1_000_000;
/** Response headers kept with a stored response. */
const KEPT_HEADERS = ["content-type", "location", "deprecation", "sunset", "link"];
/** Problem codes that mean "try again", so the outcome is not stored under the key. */
const RETRYABLE_CODES = new Set(["lease_lost", "coordination_unavailable", "rate_limited"]);

/**
 * Parses the header value: an RFC 8941 sf-string (`"abc"`, as the draft specifies) or, for
 * compatibility with common clients, a bare token. 1–255 printable ASCII characters.
 */
export function parseIdempotencyKey(header: string): string {
  let value = header.trim();
  if (value.startsWith('"')) {
    const m = /^"((?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\["\\])*)"$/.exec(value);
    if (!m || m[1] === undefined) throw invalidKey();
    value = m[1].replace(/\\(["\\])/g, "$1");
  } else if (!/^[\x21-\x7e]*$/.test(value)) {
    throw invalidKey();
  }
  if (value.length === 0 || value.length > 255) throw invalidKey();
  return value;
}

function invalidKey(): AppError {
  return new AppError(
    "idempotency_key_invalid",
    "Idempotency-Key must be 1–255 printable ASCII characters (optionally a quoted string).",
  );
}

function reused(): AppError {
  return new AppError(
    "idempotency_key_reused",
    "This Idempotency-Key was already used with a different request payload.",
  );
}

/** Whether an outcome is final for the key (stored) or worth a retry (claim released). */
export function isStorableOutcome(status: number, problemCode: string | undefined): boolean {
  if (status >= 500 || status === 429 || status === 401 || status === 403) return false;
  return problemCode === undefined || !RETRYABLE_CODES.has(problemCode);
}

function problemCodeOf(contentType: string | null, body: string): string | undefined {
  if (!contentType?.startsWith("application/problem+json")) return undefined;
  try {
    const code = (JSON.parse(body) as { code?: unknown }).code;
    return typeof code === "string" ? code : undefined;
  } catch {
    return undefined;
  }
}

function replay(c: Context<AppEnv>, stored: StoredResponse): Response {
  const headers = new Headers(stored.headers);
  headers.set("idempotent-replayed", "true");
  headers.set("x-request-id", c.var.requestId);
  return new Response(stored.body, { status: stored.status, headers });
}

function background(c: Context<AppEnv>, work: Promise<unknown>): void {
  try {
    c.executionCtx.waitUntil(work);
  } catch {
    void work; // no execution context (direct app.request): let it run
  }
}

function logWarn(c: Context<AppEnv>, msg: string, err: unknown): void {
  console.warn(
    JSON.stringify({
      level: "warn",
      msg,
      request_id: c.var.requestId,
      error: err instanceof Error ? err.message : String(err),
    }),
  );
}

/** Capabilities the route that will answer this request enforces (its whole handler chain). */
function routeCapabilities(c: Context<AppEnv>): Capability[] {
  return (matchedRouteMeta(c)?.metas ?? []).flatMap((m) => (m.kind === "capability" ? [m.capability] : []));
}

export const idempotency = createMiddleware<AppEnv>(async (c, next) => {
  const method = c.req.method;
  const header = c.req.header("idempotency-key");
  const principal = c.get("principal") as Principal | undefined;
  if (
    (method !== "POST" && method !== "PATCH") ||
    header === undefined ||
    principal === undefined ||
    isPublicRoute(c)
  ) {
    return next();
  }
  // The route's own capability first: its chain runs only after this middleware.
  for (const cap of routeCapabilities(c)) assertCapability(c, cap);
  const cfg = c.var.config;
  const idemKey = parseIdempotencyKey(header);
  const body = new Uint8Array(await c.req.arrayBuffer());
  const fingerprint = await sha256Hex(concatBytes(utf8(`${method} ${new URL(c.req.url).search}\n`), body));
  const key = await guardKey(
    "idempotency",
    principal.tenantId,
    principal.sub,
    method,
    canonicalPath(c.req.path),
    idemKey,
  );

  const cached = await cachedCompletion(c.env, key);
  if (cached) {
    if (cached.fingerprint !== fingerprint) throw reused();
    return replay(c, cached.response);
  }

  const guard = replayGuard(c.env, cfg);
  const token = newClaimToken();
  const claim = await guard.claim(key, token, fingerprint, cfg.IDEMPOTENCY_LOCK_SECONDS * 1000);
  if (claim.outcome === "pending") {
    if (!claim.same_fingerprint) throw reused();
    return problemResponse(
      new AppError(
        "idempotency_key_in_flight",
        "A request with this Idempotency-Key is still being processed; retry shortly.",
      ),
      c.var.requestId,
      { "retry-after": "1" },
    );
  }
  if (claim.outcome === "done") {
    if (!claim.same_fingerprint) throw reused();
    if (claim.response === null)
      throw new AppError(
        "idempotency_key_in_flight",
        "The request with this Idempotency-Key completed without a stored response.",
      );
    // A key replayed once may be replayed again: from now on the edge cache answers it, until
    // the record itself expires (docs/DECISIONS.md "Idempotency: the edge cache is filled by replays").
    const ttlSeconds = (claim.expires_at - Date.now()) / 1000;
    if (claim.response.body !== null && ttlSeconds >= KV_MIN_TTL_SECONDS)
      background(c, cacheCompletion(c.env, key, fingerprint, claim.response, ttlSeconds));
    return replay(c, claim.response);
  }

  try {
    await next();
  } catch (err) {
    background(
      c,
      guard.release(key, token).catch((e: unknown) => logWarn(c, "idempotency_release_failed", e)),
    );
    throw err;
  }
  const res = c.res;
  const text = await res.clone().text();
  if (!isStorableOutcome(res.status, problemCodeOf(res.headers.get("content-type"), text))) {
    await guard.release(key, token).catch((e: unknown) => logWarn(c, "idempotency_release_failed", e));
    return;
  }
  const headers: Record<string, string> = {};
  for (const name of KEPT_HEADERS) {
    const v = res.headers.get(name);
    if (v !== null) headers[name] = v;
  }
  const stored: StoredResponse = {
    status: res.status,
    headers,
    body: text.length <= MAX_STORED_BODY_CHARS ? text : null,
  };
  try {
    const done = await guard.complete(key, token, cfg.IDEMPOTENCY_TTL_SECONDS * 1000, stored);
    if (!done.ok) logWarn(c, "idempotency_claim_lost", new Error("the lock expired before the request finished"));
  } catch (err) {
    // The operation happened; its pending claim still blocks the key until the lock expires.
    logWarn(c, "idempotency_complete_failed", err);
  }
});
