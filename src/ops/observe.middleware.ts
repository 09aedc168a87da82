/**
 * The request observer (app-level, outermost after the request id): one structured access-log
 * line per request carrying the request id (route pattern and path, never the query string, which
 * may hold a stream token), and the request-path counters of GET /metrics — 429 `rate_limited`
 * by route, replayed idempotent requests by route (`Idempotent-Replayed`, and idempotent
 * checkpoints answered `replayed: true`), and rejected signed deliveries (webhook
 * ingest, runner callbacks) by route and problem code. It only observes: it never changes a
 * response, and a metrics write never fails a request.
 */
import { drizzle } from "drizzle-orm/d1";
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { matchedRoutes } from "hono/route";
import { type AppEnv, type Config, loadConfig } from "../kernel/env";
import { asAppError } from "../kernel/errors";
import type { Principal } from "../kernel/principal";
import { configuredLogLevel, logLine } from "../kernel/log";
import { type CounterIncrement, counter } from "./metrics.catalog";
import { recordCounters } from "./metrics.store";

const SIGNED_ROUTE_RE = /^\/v1\/(?:program\/(?:week11\/)?webhook\/ingest|runner\/callback)$/;
const CHECKPOINT_ROUTE_RE = /^\/v1\/program\/(?:week12\/)?idempotent-checkpoints$/;

/** SPEC §6.5 idempotent checkpoints replay in the body (`replayed: true`), not with the header. */
async function replayedCheckpoint(c: Context<AppEnv>): Promise<boolean> {
  if (c.res.status !== 200 || c.req.method !== "POST" || !CHECKPOINT_ROUTE_RE.test(c.req.path)) return false;
  try {
    return ((await c.res.clone().json()) as { replayed?: unknown }).replayed === true;
  } catch {
    return false;
  }
}

/** `METHOD /registered/:pattern` of the route that answered, or `METHOD unmatched` (bounded labels). */
export function servedRoute(c: Context): string {
  const routes = matchedRoutes(c).filter((r) => r.method !== "ALL");
  const last = routes[routes.length - 1];
  return `${c.req.method} ${last ? last.path : "unmatched"}`;
}

async function problemCode(c: Context<AppEnv>): Promise<string | undefined> {
  if (c.res.status < 400) return undefined;
  if (c.error) return asAppError(c.error).code;
  // Problems returned without throwing (rate limit, idempotency in flight) carry their code in the body.
  if (!c.res.headers.get("content-type")?.startsWith("application/problem+json")) return `http_${c.res.status}`;
  try {
    const body = (await c.res.clone().json()) as { code?: unknown };
    return typeof body.code === "string" ? body.code : `http_${c.res.status}`;
  } catch {
    return `http_${c.res.status}`;
  }
}

function background(c: Context<AppEnv>, work: Promise<unknown>): void {
  try {
    c.executionCtx.waitUntil(work);
  } catch {
    void work; // no execution context (direct app.request): let it run
  }
}

export const observeRequests = createMiddleware<AppEnv>(async (c, next) => {
  const started = Date.now();
  await next();
  let config: Config | undefined;
  try {
    config = loadConfig(c.env);
  } catch {
    config = undefined; // an invalid configuration already failed the request, loudly
  }
  const status = c.res.status;
  const route = servedRoute(c);
  const code = await problemCode(c);
  const principal = c.get("principal") as Principal | undefined;
  const path = c.req.path;

  const incs: CounterIncrement[] = [];
  const tenant = principal?.tenantId ?? "";
  if (status === 429 && code === "rate_limited") incs.push(counter(tenant, "rateLimitHits", { route }));
  if (c.res.headers.get("idempotent-replayed") === "true" || (await replayedCheckpoint(c)))
    incs.push(counter(tenant, "idempotentReplays", { route }));
  if (status >= 400 && SIGNED_ROUTE_RE.test(path)) {
    // Deliveries belong to WEBHOOK_TENANT_ID when set (as accepted ones do); runner callbacks to the deployment.
    const owner = path.includes("/webhook/") ? (config?.WEBHOOK_TENANT_ID ?? "") : "";
    incs.push(counter(owner, "webhookRejections", { route, reason: code ?? `http_${status}` }));
  }
  if (incs.length > 0 && c.env.DB) recordCounters(drizzle(c.env.DB), incs, (p) => background(c, p));

  logLine(
    status >= 500 ? "warn" : "info",
    "request",
    {
      request_id: c.var.requestId,
      method: c.req.method,
      route,
      path,
      status,
      duration_ms: Date.now() - started,
      ...(code ? { code } : {}),
    },
    configuredLogLevel(config),
  );
});
