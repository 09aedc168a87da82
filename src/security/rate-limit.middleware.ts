/**
 * App-level rate limiting (after authentication, DESIGN §2): one token bucket per principal
 * (tenant + sub; the client IP on signature-authenticated routes) and matched route pattern
 * (route-key.ts `matchedRouteKey` — never raw path text, so `/policies/1`, `/01`, `/0x1` share a
 * bucket and junk paths share one `<unmatched>` bucket), kept by that principal's RateLimiter DO,
 * which this isolate asks for a small lease of tokens at a time under high limits
 * (rate-limit.lease.ts). Exceeding it → 429 `rate_limited` with Retry-After. Limits come from
 * config (rate-limit.ts). `limitUnauthenticated` (before authentication) limits requests without
 * valid credentials per client address. A limiter outage fails open for reads; for writes it
 * follows RATE_LIMIT_WRITE_FAILURE_MODE (closed — 503 — by default in production).
 */
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import type { AppEnv, Config } from "../kernel/env";
import { AppError, problemResponse } from "../kernel/errors";
import { withTimeout } from "../lib/timeout";
import type { Principal } from "../kernel/principal";
import { isPublicRoute } from "./route-auth";
import { type HitResult, RATE_LIMIT_PERIOD_MS, leaseSize, limitFor } from "./rate-limit";
import { leasedHit } from "./rate-limit.lease";
import { isMutatingMethod, matchedRouteKey } from "./route-key";

const LIMITER_TIMEOUT_MS = 2000;
/** Bucket of requests without valid credentials (one per client address, all routes). */
const UNAUTHENTICATED_BUCKET = "unauthenticated";

/** The rate-limit identity of a request: its principal, else its client IP. */
export function rateLimitIdentity(principal: Principal | undefined, clientIp: string | undefined): string {
  return principal ? `principal:${principal.tenantId}\n${principal.sub}` : `ip:${clientIp ?? "unknown"}`;
}

/** What happens to a write when the limiter cannot answer. */
export function writeFailureMode(
  cfg: Pick<Config, "RATE_LIMIT_WRITE_FAILURE_MODE" | "ENVIRONMENT">,
): "open" | "closed" {
  return cfg.RATE_LIMIT_WRITE_FAILURE_MODE ?? (cfg.ENVIRONMENT === "production" ? "closed" : "open");
}

/** One token from `who`'s bucket `key`; null when the limiter failed and the request may pass (fail open). */
async function take(c: Context<AppEnv>, who: string, key: string, limit: number): Promise<HitResult | null> {
  try {
    const ns = c.env.RATE_LIMITER;
    return await leasedHit(`${who}\n${key}\n${limit}`, leaseSize(limit), (want) => {
      const stub = ns.get(ns.idFromName(who));
      return withTimeout(
        () => stub.hit({ bucket: key, limit, period_ms: RATE_LIMIT_PERIOD_MS, want }),
        LIMITER_TIMEOUT_MS,
        "rate limiter",
      );
    });
  } catch (err) {
    const closed = isMutatingMethod(c.req.method) && writeFailureMode(c.var.config) === "closed";
    console.warn(
      JSON.stringify({
        level: "warn",
        msg: "rate_limiter_unavailable",
        request_id: c.var.requestId,
        route: key,
        fail: closed ? "closed" : "open",
        error: err instanceof Error ? err.message : String(err),
      }),
    );
    if (closed) throw new AppError("coordination_unavailable", "Rate limiter unavailable; retry shortly.");
    return null;
  }
}

function limited(c: Context<AppEnv>, result: HitResult, limit: number): Response {
  const retryAfter = Math.max(1, Math.ceil(result.retry_after_ms / 1000));
  return problemResponse(new AppError("rate_limited", `Rate limit exceeded: ${limit} per 1 minute.`), c.var.requestId, {
    "retry-after": String(retryAfter),
    "ratelimit-limit": String(limit),
    "ratelimit-remaining": "0",
  });
}

export const rateLimit = createMiddleware<AppEnv>(async (c, next) => {
  const cfg = c.var.config;
  if (!cfg.RATE_LIMIT_ENABLED) return next();
  const key = matchedRouteKey(c);
  const limit = limitFor(cfg, c.req.method, key);
  if (limit === 0) return next();
  const who = rateLimitIdentity(c.get("principal") as Principal | undefined, c.req.header("cf-connecting-ip"));
  const result = await take(c, who, key, limit);
  if (result !== null && !result.allowed) return limited(c, result, limit);
  await next();
});

function presentsCredential(c: Context<AppEnv>): boolean {
  return (
    c.req.header("authorization") !== undefined || (c.req.method === "GET" && c.req.query("stream_token") !== undefined)
  );
}

/**
 * Before authentication: requests without valid credentials are limited per client address
 * (RATE_LIMIT_UNAUTHENTICATED_PER_MINUTE over all routes). A request with no credential takes a
 * token before anything else runs; one whose credential is refused (401) takes one afterwards and
 * is answered 429 once the address is over its limit. Signature-authenticated routes are limited
 * by `rateLimit` per address already.
 */
export const limitUnauthenticated = createMiddleware<AppEnv>(async (c, next) => {
  const cfg = c.var.config;
  const limit = cfg.RATE_LIMIT_UNAUTHENTICATED_PER_MINUTE;
  if (!cfg.RATE_LIMIT_ENABLED || limit === 0 || c.req.method === "OPTIONS" || isPublicRoute(c)) return next();
  const who = rateLimitIdentity(undefined, c.req.header("cf-connecting-ip"));
  if (!presentsCredential(c)) {
    const result = await take(c, who, UNAUTHENTICATED_BUCKET, limit);
    if (result !== null && !result.allowed) return limited(c, result, limit);
    return next();
  }
  await next();
  if (c.res.status === 401) {
    const result = await take(c, who, UNAUTHENTICATED_BUCKET, limit);
    if (result !== null && !result.allowed) c.res = limited(c, result, limit);
  }
});
