/**
 * Hono auth middleware: `authenticate` (Bearer user JWT → `c.var.principal`),
 * `requireCapability(cap)` (SPEC §3.3, enforced when ENFORCE_CAPABILITY_AUTH) and
 * `authenticateRequest`, the app-level variant (public paths, SSE stream tokens, Bearer).
 * Requires the context middleware to have set `c.var.config` first.
 */
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../kernel/env";
import { AppError } from "../kernel/errors";
import { verifyUserToken } from "./jwt";
import { type Capability, hasCapability, type Principal } from "../kernel/principal";
import { matchedRouteAuth } from "./route-auth";
import { verifyStreamToken } from "./stream-token";

const BEARER_RE = /^Bearer[ \t]+([^\s]+)[ \t]*$/i;

/** Extracts the token from `Authorization: Bearer <jwt>`; missing or other schemes → unauthenticated. */
export function bearerToken(header: string | undefined): string {
  const match = header === undefined ? null : BEARER_RE.exec(header);
  const token = match?.[1];
  if (token === undefined) throw new AppError("unauthenticated", "Missing Bearer token.");
  return token;
}

async function authenticateBearer(c: Context<AppEnv>): Promise<void> {
  const token = bearerToken(c.req.header("authorization"));
  c.set("principal", await verifyUserToken(token, c.var.config));
}

/** Verifies the Bearer user JWT and sets `c.var.principal`; failures are 401 problems. */
export const authenticate = createMiddleware<AppEnv>(async (c, next) => {
  await authenticateBearer(c);
  await next();
});

/**
 * Requires `cap` (or `*`) on the principal when ENFORCE_CAPABILITY_AUTH is on:
 * empty set → 403 `capabilities_missing`, otherwise lacking → 403 `insufficient_capability`.
 * When enforcement is off it only passes through. Must run after `authenticate`.
 */
export function requireCapability(cap: Capability) {
  return createMiddleware<AppEnv>(async (c, next) => {
    assertCapability(c, cap);
    await next();
  });
}

/**
 * The check of `requireCapability`, callable before the route runs (the idempotency middleware
 * checks the matched route's capability before it replays a stored response; issue 17 item 5).
 */
export function assertCapability(c: Context<AppEnv>, cap: Capability): void {
  if (!c.var.config.ENFORCE_CAPABILITY_AUTH) return;
  const principal = c.get("principal") as Principal | undefined;
  if (principal === undefined) throw new AppError("unauthenticated", "Missing Bearer token.");
  if (principal.capabilities.length === 0) {
    throw new AppError("capabilities_missing", "Capability set missing for this request.");
  }
  if (!hasCapability(principal, cap)) {
    throw new AppError("insufficient_capability", `Missing required capability: ${cap}`);
  }
}

/** The raw text of the `:name` segment of `pattern` (a matched route) in `path`, if the shapes agree. */
function patternParam(pattern: string, path: string, name: string): string | undefined {
  const want = pattern.split("/");
  const have = path.split("/");
  if (want.length !== have.length) return undefined;
  const i = want.indexOf(`:${name}`);
  return i < 0 ? undefined : have[i];
}

/**
 * App-level authentication for `/v1/*`, from the matched route's `describeRoute` auth: public and
 * signature-authenticated routes (webhooks, runner callbacks, see route-auth.ts) pass through;
 * on the `bearer_or_stream_token` route (`GET /v1/builds/{id}/events?stream_token=`) the query
 * token is verified as a token scoped to that build (EventSource cannot send headers); everything
 * else needs a Bearer user JWT.
 */
export const authenticateRequest = createMiddleware<AppEnv>(async (c, next) => {
  const route = matchedRouteAuth(c);
  if (route?.auth === "signature" || route?.auth === "public") return next();
  const streamToken = c.req.method === "GET" ? c.req.query("stream_token") : undefined;
  const buildId =
    streamToken !== undefined && route?.auth === "bearer_or_stream_token"
      ? patternParam(route.path, c.req.path, "id")
      : undefined;
  if (streamToken !== undefined && buildId !== undefined) {
    if (streamToken === "") throw new AppError("unauthenticated", "Invalid token: malformed stream token.");
    c.set("principal", await verifyStreamToken(c.var.config, streamToken, decodeURIComponent(buildId)));
  } else {
    await authenticateBearer(c);
  }
  await next();
});
