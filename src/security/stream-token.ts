/**
 * Short-lived, build-scoped stream tokens for the SSE route (EventSource cannot send an
 * Authorization header). HS256 with STREAM_TOKEN_SECRET, own audience and issuer so they
 * can never be confused with user tokens; verification pins alg/aud/iss and the build id.
 */
import { SignJWT, jwtVerify } from "jose";
import type { Config } from "../kernel/env";
import { AppError } from "../kernel/errors";
import { mapJoseError } from "./jwt";
import type { Principal } from "../kernel/principal";

export const STREAM_TOKEN_AUDIENCE = "clarity-build-stream";
export const STREAM_TOKEN_ISSUER = "clarity-control-plane";
/** Upper bound on a stream token's lifetime, in seconds. */
export const STREAM_TOKEN_MAX_TTL_SECONDS = 3600;

function streamKey(config: Config): Uint8Array {
  if (config.STREAM_TOKEN_SECRET === undefined) {
    throw new AppError("stream_token_unavailable", "Stream tokens are not configured on this deployment.");
  }
  return new TextEncoder().encode(config.STREAM_TOKEN_SECRET);
}

/**
 * Issues a stream token for `buildId` carrying the principal's sub, tenant and capabilities.
 * `ttlSeconds` is clamped to 1…3600. Throws `stream_token_unavailable` when no secret is set.
 */
export async function issueStreamToken(
  config: Config,
  principal: Principal,
  buildId: string,
  ttlSeconds = 300,
): Promise<{ token: string; expires_at: string }> {
  const key = streamKey(config);
  const ttl = Math.min(
    Math.max(Math.floor(Number.isFinite(ttlSeconds) ? ttlSeconds : 300), 1),
    STREAM_TOKEN_MAX_TTL_SECONDS,
  );
  const now = Math.floor(Date.now() / 1000);
  const exp = now + ttl;
  const token = await new SignJWT({ tenant: principal.tenantId, build_id: buildId, caps: principal.capabilities })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(principal.sub)
    .setAudience(STREAM_TOKEN_AUDIENCE)
    .setIssuer(STREAM_TOKEN_ISSUER)
    .setIssuedAt(now)
    .setExpirationTime(exp)
    .sign(key);
  return { token, expires_at: new Date(exp * 1000).toISOString() };
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === "string");
}

/**
 * Verifies a stream token for `buildId` and returns the Principal it carries (no roles).
 * Expired → `token_expired`; any other failure, including a different build id → `unauthenticated`.
 */
export async function verifyStreamToken(config: Config, token: string, buildId: string): Promise<Principal> {
  const key = streamKey(config);
  let claims: Record<string, unknown>;
  try {
    const { payload } = await jwtVerify(token, key, {
      algorithms: ["HS256"],
      audience: STREAM_TOKEN_AUDIENCE,
      issuer: STREAM_TOKEN_ISSUER,
      requiredClaims: ["exp", "sub"],
    });
    claims = payload as Record<string, unknown>;
  } catch (err) {
    throw mapJoseError(err);
  }
  const { sub, tenant, build_id: tokenBuildId, caps } = claims;
  if (typeof sub !== "string" || sub === "" || typeof tenant !== "string" || tenant === "" || !isStringArray(caps)) {
    throw new AppError("unauthenticated", "Invalid token: malformed stream token.");
  }
  if (tokenBuildId !== buildId) {
    throw new AppError("unauthenticated", "Invalid token: stream token is not valid for this build.");
  }
  return { sub, tenantId: tenant, roles: [], capabilities: [...caps].sort() };
}
