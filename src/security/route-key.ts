/**
 * Stable names for API routes, shared by rate limiting and idempotency: week-prefixed aliases
 * (SPEC §6.10) map to their canonical path, so an alias and its canonical route share one
 * bucket and one idempotency scope; `routeKey` also collapses UUID path segments to `:id`.
 */

const WEEK_ALIAS_RE = /^\/v1\/program\/week\d+\//;
const UUID_SEGMENT_RE = /\/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(?=\/|$)/gi;

/** `/v1/program/week10/secrets` → `/v1/program/secrets`; other paths unchanged (trailing slash dropped). */
export function canonicalPath(path: string): string {
  const p = path.length > 1 ? path.replace(/\/+$/, "") : path;
  return p.replace(WEEK_ALIAS_RE, "/v1/program/");
}

/** Longest route key: a longer path (never a real route) shares the bucket of its prefix. */
const MAX_ROUTE_KEY_CHARS = 256;

/** `POST /v1/builds/<uuid>/abort` → `POST /v1/builds/:id/abort` (the rate-limit rule key). */
export function routeKey(method: string, path: string): string {
  return `${method.toUpperCase()} ${canonicalPath(path).replace(UUID_SEGMENT_RE, "/:id")}`.slice(0, MAX_ROUTE_KEY_CHARS);
}

export function isMutatingMethod(method: string): boolean {
  const m = method.toUpperCase();
  return m === "POST" || m === "PUT" || m === "PATCH" || m === "DELETE";
}
