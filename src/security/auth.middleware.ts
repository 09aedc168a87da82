/**
 * Hono auth middleware: `authenticate` (Bearer user JWT → `c.var.principal`),
 * `requireCapability(cap)` (SPEC §3.3, enforced when ENFORCE_CAPABILITY_AUTH) and
 * `authenticateStreamOrBearer` for the SSE route (build-scoped `stream_token` query or Bearer).
 * Requires the context middleware to have set `c.var.config` first.
 */
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../env";
import { AppError } from "../errors";
import { verifyUserToken } from "./jwt";
import { type Capability, hasCapability, type Principal } from "./principal";
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
    if (c.var.config.ENFORCE_CAPABILITY_AUTH) {
      const principal = c.get("principal") as Principal | undefined;
      if (principal === undefined) throw new AppError("unauthenticated", "Missing Bearer token.");
      if (principal.capabilities.length === 0) {
        throw new AppError("capabilities_missing", "Capability set missing for this request.");
      }
      if (!hasCapability(principal, cap)) {
        throw new AppError("insufficient_capability", `Missing required capability: ${cap}`);
      }
    }
    await next();
  });
}

/**
 * For the SSE route: a `stream_token` query parameter is verified against the build id in
 * path param `buildIdParam` and yields a principal with the token's capabilities (no roles);
 * without it, behaves exactly like `authenticate`.
 */
export function authenticateStreamOrBearer(buildIdParam = "id") {
  return createMiddleware<AppEnv>(async (c, next) => {
    const streamToken = c.req.query("stream_token");
    if (streamToken === undefined) {
      await authenticateBearer(c);
    } else {
      const buildId = c.req.param(buildIdParam);
      if (streamToken === "" || buildId === undefined || buildId === "") {
        throw new AppError("unauthenticated", "Invalid token: malformed stream token.");
      }
      c.set("principal", await verifyStreamToken(c.var.config, streamToken, buildId));
    }
    await next();
  });
}
