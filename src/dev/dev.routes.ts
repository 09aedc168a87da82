/**
 * /v1/dev: local-development helpers behind the dashboard's one-click sign-in. Every route is
 * 404 `not_found` (exactly like an unknown route) unless ENVIRONMENT=development, JWT_SECRET is
 * set, the request was addressed to exactly `127.0.0.1`, `localhost` or `[::1]` (a DNS-rebinding
 * page cannot mint) and the connection came from loopback. Never served cross-origin (the CORS
 * policy excludes /v1/dev).
 * Tokens are minted exactly like scripts/token.mjs. Public path (no JWT): its describeRoute says
 * `auth: "public"` (security/route-auth.ts).
 */
import { Hono } from "hono";
import { createMiddleware } from "hono/factory";
import { SignJWT } from "jose";
import { z } from "zod";
import type { AppEnv } from "../kernel/env";
import { auditStatement } from "../audit/audit";
import { AppError } from "../kernel/errors";
import { isoTimestamp } from "../lib/ids";
import { LOCAL_DEV_ISSUER } from "../security/jwt";
import { validate } from "../kernel/validation";
import { describeRoute, ok } from "../kernel/route-meta";
import { DevToken, DevTokenInfo } from "./dev.schemas";

/** Roles a development token may carry (the SPEC §3.2 roles, as scripts/token.mjs). */
export const DEV_TOKEN_ROLES = ["viewer", "operator", "security", "admin"] as const;
/** Lifetime of a development token, as scripts/token.mjs ("12h"). */
export const DEV_TOKEN_TTL_SECONDS = 12 * 60 * 60;

export const DevTokenRequest = z
  .object({
    role: z.enum(DEV_TOKEN_ROLES).default("operator"),
    /** JWT `sub`; defaults to `dev-<role>` like scripts/token.mjs. */
    sub: z
      .string()
      .trim()
      .min(1)
      .max(128)
      .regex(/^[\x21-\x7e]+$/, "printable ASCII without spaces")
      .optional(),
  })
  .default({ role: "operator" });

/** The only host names the endpoint answers to (issue 17 item 10: no `*.localhost`, no 127.x.y.z). */
const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);
/** Connection addresses that are this machine. */
const LOOPBACK_ADDRESSES = new Set(["127.0.0.1", "::1", "::ffff:127.0.0.1"]);

/** Whether `hostname` (of the request URL, i.e. the Host header) is exactly a loopback name. */
export function isLoopbackHost(hostname: string): boolean {
  return LOOPBACK_HOSTS.has(hostname.toLowerCase());
}

/**
 * Whether the connection came from this machine, where the runtime says: workerd under
 * `wrangler dev` sets `cf-connecting-ip` to the peer's address (a client cannot override it). No
 * address known (a direct in-process call) → the Host check alone decides.
 */
export function isLoopbackPeer(address: string | undefined): boolean {
  return address === undefined || LOOPBACK_ADDRESSES.has(address.trim().toLowerCase());
}

/** Hides the group (404 not_found) outside local development. */
const developmentOnly = createMiddleware<AppEnv>(async (c, next) => {
  const cfg = c.var.config;
  if (
    cfg.ENVIRONMENT !== "development" ||
    cfg.JWT_SECRET === undefined ||
    !isLoopbackHost(new URL(c.req.url).hostname) ||
    !isLoopbackPeer(c.req.header("cf-connecting-ip"))
  ) {
    throw new AppError("not_found", `No route for ${c.req.method} ${c.req.path}.`);
  }
  await next();
});

export const devRoutes = new Hono<AppEnv>()
  .use("*", developmentOnly)
  // The dashboard probes this to decide whether to offer the one-click sign-in.
  .get(
    "/token",
    describeRoute({
      operationId: "devTokenInfo",
      tag: "development",
      auth: "public",
      summary: "Whether one-click sign-in is available",
      responses: ok(DevTokenInfo),
      errors: ["not_found"],
    }),
    (c) =>
      c.json({ available: true, roles: DEV_TOKEN_ROLES, issuer: LOCAL_DEV_ISSUER, expires_in: DEV_TOKEN_TTL_SECONDS }),
  )
  .post(
    "/token",
    describeRoute({
      operationId: "createDevToken",
      tag: "development",
      auth: "public",
      summary: "Mint a local development token",
      responses: ok(DevToken),
      errors: ["not_found"],
    }),
    validate("json", DevTokenRequest),
    async (c) => {
      const { role, sub } = c.req.valid("json");
      const cfg = c.var.config;
      const secret = cfg.JWT_SECRET;
      if (secret === undefined) throw new AppError("not_found", `No route for ${c.req.method} ${c.req.path}.`);
      const subject = sub ?? `dev-${role}`;
      const now = Math.floor(Date.now() / 1000);
      const exp = now + DEV_TOKEN_TTL_SECONDS;
      const token = await new SignJWT({ roles: [role] })
        .setProtectedHeader({ alg: "HS256", typ: "JWT" })
        .setSubject(subject)
        .setAudience(cfg.JWT_AUDIENCE)
        .setIssuer(LOCAL_DEV_ISSUER)
        .setIssuedAt(now)
        .setExpirationTime(exp)
        .sign(new TextEncoder().encode(secret));
      // Audited in the token's tenant (its `sub`: dev tokens carry no tenant claim). The requester is
      // unauthenticated by design (loopback only), so the actor is `local-dev`.
      await c.var.db.batch([
        auditStatement(c.var.db, {
          actor: { sub: "local-dev", tenant_id: subject, roles: [], request_id: c.var.requestId },
          action: "dev_token.mint",
          target_type: "dev_token",
          target_id: subject,
          detail: { role, expires_at: isoTimestamp(exp * 1000) },
        }),
      ]);
      return c.json({ token, token_type: "Bearer", role, sub: subject, expires_at: isoTimestamp(exp * 1000) });
    },
  );
