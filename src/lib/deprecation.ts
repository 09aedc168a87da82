/**
 * Week-prefixed compatibility aliases (SPEC §6.10, DESIGN §6): the alias runs the canonical
 * handler and its responses carry `Deprecation` (RFC 9745), `Sunset` (RFC 8594) and a
 * `Link: <canonical>; rel="successor-version"`. Imports no domain; any route group may mount it.
 */
import { createMiddleware } from "hono/factory";

/** When the week aliases were deprecated (RFC 9745 structured date: 2026-01-01T00:00:00Z). */
export const ALIAS_DEPRECATED_AT = "@1767225600";
/** When the week aliases may be removed (RFC 8594 HTTP-date). */
export const ALIAS_SUNSET = "Wed, 30 Jun 2027 23:59:59 GMT";

const WEEK_SEGMENT_RE = /^(\/v1\/program)\/week\d+(?=\/)/;

/** The canonical path of a week alias path (unchanged when it is not one). */
export function canonicalOfAlias(path: string): string {
  return path.replace(WEEK_SEGMENT_RE, "$1");
}

/**
 * Marks responses of a week alias as deprecated: `Deprecation`, `Sunset` and
 * `Link: <canonical>; rel="successor-version"`. The Link is built from the raw (still
 * percent-encoded) request path, so free-form ids such as release ids with spaces stay a valid
 * URI reference.
 */
export const deprecatedAlias = createMiddleware(async (c, next) => {
  await next();
  const canonical = canonicalOfAlias(new URL(c.req.url).pathname);
  const headers = new Headers(c.res.headers);
  headers.set("deprecation", ALIAS_DEPRECATED_AT);
  headers.set("sunset", ALIAS_SUNSET);
  headers.set("link", `<${canonical}>; rel="successor-version"`);
  c.res = new Response(c.res.body, { status: c.res.status, statusText: c.res.statusText, headers });
});
