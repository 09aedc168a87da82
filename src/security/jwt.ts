/**
 * User JWT verification (SPEC §3.1, DESIGN §7): HS256 with the shared secret and/or
 * RS256/ES256 via a JWKS URL, chosen by the header `alg`, algorithms always pinned.
 * jose failures are mapped by `err.code` to `token_expired` / `unauthenticated`;
 * token contents are never echoed or logged.
 */
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from "jose";
import type { JWTPayload, JWTVerifyGetKey, JWTVerifyOptions } from "jose";
import type { Config } from "../kernel/env";
import { AppError } from "../kernel/errors";
import { deriveAccess } from "./capabilities";
import type { Principal } from "../kernel/principal";

/** Issuer of locally minted development tokens (`npm run token`); accepted only in development. */
export const LOCAL_DEV_ISSUER = "clarity-local-dev";

const JWKS_ALGORITHMS = ["RS256", "ES256"] as const;
type JwksAlgorithm = (typeof JWKS_ALGORITHMS)[number];

/** Cache of stateless remote key-set getters, one per JWKS URL (jose handles refresh/cooldown). */
const jwksGetters = new Map<string, JWTVerifyGetKey>();

function jwksFor(url: string): JWTVerifyGetKey {
  let getter = jwksGetters.get(url);
  if (!getter) {
    getter = createRemoteJWKSet(new URL(url));
    jwksGetters.set(url, getter);
  }
  return getter;
}

function invalid(reason: string, cause?: unknown): AppError {
  return new AppError("unauthenticated", `Invalid token: ${reason}`, { cause });
}

function errorCode(err: unknown): string | undefined {
  if (typeof err !== "object" || err === null) return undefined;
  const code = (err as { code?: unknown }).code;
  return typeof code === "string" ? code : undefined;
}

/** Maps a jose failure to an AppError by `err.code`, with a short fixed reason (never the token). */
export function mapJoseError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  switch (errorCode(err)) {
    case "ERR_JWT_EXPIRED":
      return new AppError("token_expired", "Token expired.", { cause: err });
    case "ERR_JWS_SIGNATURE_VERIFICATION_FAILED":
      return invalid("signature verification failed.", err);
    case "ERR_JWT_CLAIM_VALIDATION_FAILED": {
      const claim = (err as { claim?: unknown }).claim;
      return invalid(typeof claim === "string" ? `"${claim}" claim check failed.` : "claim check failed.", err);
    }
    case "ERR_JOSE_ALG_NOT_ALLOWED":
      return invalid("algorithm not allowed.", err);
    case "ERR_JWKS_NO_MATCHING_KEY":
    case "ERR_JWKS_MULTIPLE_MATCHING_KEYS":
      return invalid("no matching signing key.", err);
    case "ERR_JWKS_TIMEOUT":
    case "ERR_JWKS_INVALID":
      return invalid("signing keys unavailable.", err);
    case "ERR_JWS_INVALID":
    case "ERR_JWT_INVALID":
    case "ERR_JOSE_NOT_SUPPORTED":
      return invalid("malformed token.", err);
    default:
      return invalid("verification failed.", err);
  }
}

function secretKey(secret: string): Uint8Array {
  return new TextEncoder().encode(secret);
}

/**
 * The pinned issuer of each key source (issue 17 item 7): HS256 tokens must carry `JWT_ISSUER`,
 * JWKS tokens `JWT_JWKS_ISSUER` (or `JWT_ISSUER` when JWKS is the only source). With both sources
 * configured, both are required and distinct (ConfigSchema), so one source can never mint a token
 * the other's identities answer to.
 */
export function pinnedIssuer(config: Config, source: "hs256" | "jwks"): string | undefined {
  if (source === "hs256") return config.JWT_ISSUER;
  return config.JWT_JWKS_ISSUER ?? (config.JWT_SECRET === undefined ? config.JWT_ISSUER : undefined);
}

async function verifyByAlg(token: string, config: Config): Promise<JWTPayload> {
  let alg: unknown;
  try {
    alg = decodeProtectedHeader(token).alg;
  } catch (err) {
    throw invalid("malformed token.", err);
  }
  // `exp` is required (a token without it would never expire).
  const base: JWTVerifyOptions = { audience: config.JWT_AUDIENCE, requiredClaims: ["exp"] };

  if (alg === "HS256") {
    if (config.JWT_SECRET === undefined) throw invalid("algorithm not accepted.");
    const issuer = pinnedIssuer(config, "hs256");
    const { payload } = await jwtVerify(token, secretKey(config.JWT_SECRET), {
      ...base,
      ...(issuer === undefined ? {} : { issuer }),
      algorithms: ["HS256"],
    });
    return payload;
  }
  if (typeof alg === "string" && (JWKS_ALGORITHMS as readonly string[]).includes(alg)) {
    if (config.JWT_JWKS_URL === undefined) throw invalid("algorithm not accepted.");
    const issuer = pinnedIssuer(config, "jwks");
    const { payload } = await jwtVerify(token, jwksFor(config.JWT_JWKS_URL), {
      ...base,
      ...(issuer === undefined ? {} : { issuer }),
      algorithms: [alg as JwksAlgorithm],
    });
    return payload;
  }
  throw invalid("algorithm not accepted.");
}

/** Tolerated clock difference for the lifetime check. */
const LIFETIME_SKEW_SECONDS = 60;

/** Refuses a token whose lifetime exceeds JWT_MAX_LIFETIME_SECONDS (by `iat`, and from now). */
function assertLifetime(payload: JWTPayload, config: Config): void {
  const exp = payload.exp as number; // required by verifyByAlg
  const now = Math.floor(Date.now() / 1000);
  const max = config.JWT_MAX_LIFETIME_SECONDS;
  if (exp - now > max + LIFETIME_SKEW_SECONDS || (typeof payload.iat === "number" && exp - payload.iat > max)) {
    throw invalid(`token lifetime exceeds ${max} seconds.`);
  }
}

/**
 * Tokens this isolate has verified, per configuration object (a changed secret, JWKS, audience,
 * issuer or tenant claim is a new Config, so nothing verified under the old one is reused):
 * token → its Principal until the token's `exp`, and at most VERIFIED_TTL_MS (a JWKS key that
 * was withdrawn stops being honoured within that). Only successes are kept; a request with a
 * cached token costs a Map lookup instead of a signature verification (bench profile, issue 9).
 */
const verified = new WeakMap<Config, Map<string, { principal: Principal; until: number }>>();
const VERIFIED_MAX = 2048;
const VERIFIED_TTL_MS = 60_000;

function cachedPrincipal(token: string, config: Config, now: number): Principal | null {
  const entry = verified.get(config)?.get(token);
  return entry !== undefined && now < entry.until ? entry.principal : null;
}

function rememberPrincipal(
  token: string,
  config: Config,
  principal: Principal,
  exp: number | undefined,
  now: number,
): void {
  let byToken = verified.get(config);
  if (!byToken) verified.set(config, (byToken = new Map()));
  if (byToken.size >= VERIFIED_MAX) {
    for (const [k, e] of byToken) if (e.until <= now) byToken.delete(k);
    // Still full: drop the oldest insertion.
    if (byToken.size >= VERIFIED_MAX) byToken.delete(byToken.keys().next().value as string);
  }
  const until = Math.min(now + VERIFIED_TTL_MS, exp === undefined ? Number.POSITIVE_INFINITY : exp * 1000);
  if (until > now) byToken.set(token, { principal, until });
}

/**
 * Verifies a user bearer token and returns its Principal (from this isolate's cache of
 * verified tokens when it has it).
 * Throws AppError `token_expired` for an expired token and `unauthenticated` for any other
 * failure (bad signature/audience/issuer, unsupported alg, no `sub`, no `exp`, a lifetime above
 * JWT_MAX_LIFETIME_SECONDS, local-dev token outside development). Tenant = string claim
 * `config.TENANT_CLAIM` if non-empty, else `sub`.
 */
export async function verifyUserToken(token: string, config: Config): Promise<Principal> {
  const now = Date.now();
  const hit = cachedPrincipal(token, config, now);
  if (hit) return hit;
  const principal = await verifyUncached(token, config);
  rememberPrincipal(token, config, principal.value, principal.exp, now);
  return principal.value;
}

async function verifyUncached(token: string, config: Config): Promise<{ value: Principal; exp: number | undefined }> {
  let payload: JWTPayload;
  try {
    payload = await verifyByAlg(token, config);
  } catch (err) {
    throw mapJoseError(err);
  }
  assertLifetime(payload, config);
  if (payload.iss === LOCAL_DEV_ISSUER && config.ENVIRONMENT !== "development") {
    throw invalid("local development tokens are not accepted here.");
  }
  const rawSub = payload.sub;
  if (typeof rawSub !== "string" || rawSub.trim() === "") {
    throw new AppError("unauthenticated", "Token has no subject.");
  }
  // Two key sources: identities are `<iss>|<sub>` (each source's issuer is pinned and distinct),
  // so a subject of one identity provider never names a user of the other. One source: `sub`.
  const sub =
    config.JWT_SECRET !== undefined && config.JWT_JWKS_URL !== undefined ? `${String(payload.iss)}|${rawSub}` : rawSub;
  const claims = payload as Record<string, unknown>;
  const tenantClaim = claims[config.TENANT_CLAIM];
  const tenantId = typeof tenantClaim === "string" && tenantClaim.trim() !== "" ? tenantClaim : sub;
  const { roles, capabilities } = deriveAccess(claims, { trustUserMetadata: config.AUTH_TRUST_USER_METADATA });
  // Shared by every request that presents this token (the cache above): immutable.
  Object.freeze(roles);
  Object.freeze(capabilities);
  return { value: Object.freeze({ sub, tenantId, roles, capabilities }), exp: payload.exp };
}
