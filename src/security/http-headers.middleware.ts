/**
 * Browser-facing HTTP policy for worker responses: CORS for the configured origins
 * (CORS_ALLOWED_ORIGINS; none by default — the dashboard is same-origin) and security headers
 * on every response the worker renders, errors included. Static dashboard assets get theirs
 * from public/_headers. Bearer tokens, not cookies, authenticate: CORS never allows credentials.
 */
import { cors } from "hono/cors";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../kernel/env";
import { loadConfig } from "../kernel/env";
import type { OriginRule } from "../kernel/security.config";

/** Headers of every API response (a JSON API: nothing may be framed, sniffed or embedded). */
export const API_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
  "strict-transport-security": "max-age=31536000; includeSubDomains",
  "content-security-policy": "default-src 'none'; frame-ancestors 'none'; base-uri 'none'",
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-resource-policy": "same-site",
  "permissions-policy": "camera=(), microphone=(), geolocation=(), payment=()",
};

const ALLOW_HEADERS = ["authorization", "content-type", "idempotency-key", "last-event-id", "x-request-id"];
const EXPOSE_HEADERS = [
  "location",
  "retry-after",
  "x-request-id",
  "idempotent-replayed",
  "deprecation",
  "sunset",
  "link",
  "ratelimit-limit",
  "ratelimit-remaining",
];

/** Whether `origin` (an Origin header value) matches one of the rules. */
export function originAllowed(rules: readonly OriginRule[], origin: string): boolean {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  const scheme = url.protocol.replace(/:$/, "");
  const host = url.hostname.toLowerCase();
  return rules.some((r) => r.scheme === scheme && r.host === host && (r.port === "*" || (r.port ?? "") === url.port));
}

function originRules(env: Env): readonly OriginRule[] {
  try {
    return loadConfig(env).CORS_ALLOWED_ORIGINS ?? [];
  } catch {
    return []; // an invalid configuration fails the request later, loudly; no CORS meanwhile
  }
}

/**
 * Paths never served cross-origin, whatever CORS_ALLOWED_ORIGINS says: the development token
 * endpoint mints admin tokens, so a page on another local port must not read one (issue 17).
 */
const NO_CORS_PATH = /^\/v1\/dev(?:\/|$)/;

/** CORS: preflights answered here (before authentication), allowed origins echoed, never `*`. */
export const corsPolicy = createMiddleware<AppEnv>(async (c, next) => {
  const rules = NO_CORS_PATH.test(c.req.path) ? [] : originRules(c.env);
  return cors({
    origin: (origin) => (origin !== "" && originAllowed(rules, origin) ? origin : null),
    allowMethods: ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
    allowHeaders: ALLOW_HEADERS,
    exposeHeaders: EXPOSE_HEADERS,
    maxAge: 600,
    credentials: false,
  })(c, next);
});

/**
 * Adds the security headers (and `cache-control: no-store`) to the worker's responses, each
 * unless the response set it: the dashboard's pages carry their own (public/_headers).
 */
export const securityHeaders = createMiddleware<AppEnv>(async (c, next) => {
  await next();
  let headers = c.res.headers;
  try {
    headers.set("x-content-type-options", "nosniff");
  } catch {
    // Immutable headers (a fetched response): copy it once.
    c.res = new Response(c.res.body, c.res);
    headers = c.res.headers;
  }
  for (const [name, value] of Object.entries(API_SECURITY_HEADERS)) if (!headers.has(name)) headers.set(name, value);
  if (!headers.has("cache-control")) headers.set("cache-control", "no-store");
});
