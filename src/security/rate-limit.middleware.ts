/**
 * App-level rate limiting (after authentication, DESIGN §2): one token bucket per principal
 * (tenant + sub; the client IP on signature-authenticated routes) and route key, kept by that
 * principal's RateLimiter DO, which this isolate asks for a small lease of tokens at a time under
 * high limits (rate-limit.lease.ts). Exceeding it → 429 `rate_limited` with Retry-After. Limits come
 * from config (rate-limit.ts). A limiter outage fails open with a warning: rate limiting
 * protects capacity, it decides nothing about correctness (the ReplayGuard fails closed).
 */
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../env";
import { AppError, problemResponse } from "../errors";
import { withTimeout } from "../lib/timeout";
import type { Principal } from "./principal";
import { type HitResult, RATE_LIMIT_PERIOD_MS, leaseSize, limitFor } from "./rate-limit";
import { leasedHit } from "./rate-limit.lease";
import { routeKey } from "./route-key";

const LIMITER_TIMEOUT_MS = 2000;

/** The rate-limit identity of a request: its principal, else its client IP. */
export function rateLimitIdentity(principal: Principal | undefined, clientIp: string | undefined): string {
  return principal ? `principal:${principal.tenantId}\n${principal.sub}` : `ip:${clientIp ?? "unknown"}`;
}

export const rateLimit = createMiddleware<AppEnv>(async (c, next) => {
  const cfg = c.var.config;
  if (!cfg.RATE_LIMIT_ENABLED) return next();
  const key = routeKey(c.req.method, c.req.path);
  const limit = limitFor(cfg, c.req.method, key);
  if (limit === 0) return next();
  const who = rateLimitIdentity(c.get("principal") as Principal | undefined, c.req.header("cf-connecting-ip"));
  let result: HitResult;
  try {
    const ns = c.env.RATE_LIMITER;
    result = await leasedHit(`${who}\n${key}\n${limit}`, leaseSize(limit), (want) => {
      const stub = ns.get(ns.idFromName(who));
      return withTimeout(() => stub.hit({ bucket: key, limit, period_ms: RATE_LIMIT_PERIOD_MS, want }), LIMITER_TIMEOUT_MS, "rate limiter");
    });
  } catch (err) {
    console.warn(JSON.stringify({ level: "warn", msg: "rate_limiter_unavailable", request_id: c.var.requestId, route: key, error: err instanceof Error ? err.message : String(err) }));
    return next();
  }
  if (!result.allowed) {
    const retryAfter = Math.max(1, Math.ceil(result.retry_after_ms / 1000));
    return problemResponse(new AppError("rate_limited", `Rate limit exceeded: ${limit} per 1 minute.`), c.var.requestId, {
      "retry-after": String(retryAfter),
      "ratelimit-limit": String(limit),
      "ratelimit-remaining": "0",
    });
  }
  await next();
});
