/**
 * Stable names for API routes, shared by rate limiting and idempotency: week-prefixed aliases
 * (SPEC §6.10) map to their canonical path, so an alias and its canonical route share one
 * bucket and one idempotency scope. `matchedRouteKey` names a request by the route pattern Hono
 * matched (never the raw path text: `/policies/1`, `/01`, `/0x1` are one route; issue 17 item 4);
 * `canonicalPath` names the raw path of a request (idempotency scopes keys by resource).
 */
import type { Context } from "hono";
import { matchedRoutes } from "hono/route";

/** Key of a request that matched no route: every such request shares one bucket. */
export const UNMATCHED_ROUTE = "<unmatched>";

const WEEK_ALIAS_RE = /^\/v1\/program\/week\d+\//;

/** `/v1/program/week10/secrets` → `/v1/program/secrets`; other paths unchanged (trailing slash dropped). */
export function canonicalPath(path: string): string {
  const p = path.length > 1 ? path.replace(/\/+$/, "") : path;
  return p.replace(WEEK_ALIAS_RE, "/v1/program/");
}

/** Longest route key: a longer path (never a real route) shares the bucket of its prefix. */
const MAX_ROUTE_KEY_CHARS = 256;

export function isMutatingMethod(method: string): boolean {
  const m = method.toUpperCase();
  return m === "POST" || m === "PUT" || m === "PATCH" || m === "DELETE";
}

/**
 * `POST /v1/builds/:id/abort` for any spelling of the id: the pattern of the route that will answer
 * (the first matched route registered for a method, not an `app.use` middleware), week alias
 * canonicalised and every parameter written `:id` (the RATE_LIMIT_RULES key format). A request no
 * route matches is `METHOD <unmatched>`, so junk paths cannot create buckets without bound.
 */
export function matchedRouteKey(c: Context): string {
  const route = matchedRoutes(c).find((r) => r.method !== "ALL");
  const pattern = route === undefined ? UNMATCHED_ROUTE : canonicalPath(route.path).replace(/\/:[^/]+/g, "/:id");
  return `${c.req.method.toUpperCase()} ${pattern}`.slice(0, MAX_ROUTE_KEY_CHARS);
}
