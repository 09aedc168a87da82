/**
 * Test helpers for authenticated requests: `tokenFor(...)` signs an HS256 user token with
 * the test JWT_SECRET binding (aud "authenticated"), `authHeaders(token)` builds the header.
 */
import { env } from "cloudflare:workers";
import { SignJWT } from "jose";

export interface TokenOptions {
  /** JWT `sub`; defaults to "user_test". */
  sub?: string;
  roles?: string[];
  capabilities?: string[];
  /** Tenant claim (the default TENANT_CLAIM). */
  org_id?: string;
  /** jose time span, e.g. "1h" (default) or "-1m" for an already expired token. */
  expiresIn?: string;
  /** Extra custom claims, merged after roles/capabilities/org_id (sub/aud/iat/exp are always set here). */
  extra?: Record<string, unknown>;
}

/** Signs an HS256 test user token with the test JWT_SECRET and audience "authenticated". */
export async function tokenFor(opts: TokenOptions = {}): Promise<string> {
  const secret = env.JWT_SECRET;
  if (secret === undefined) throw new Error("JWT_SECRET test binding is not set");
  const claims: Record<string, unknown> = {};
  if (opts.roles !== undefined) claims.roles = opts.roles;
  if (opts.capabilities !== undefined) claims.capabilities = opts.capabilities;
  if (opts.org_id !== undefined) claims.org_id = opts.org_id;
  Object.assign(claims, opts.extra);
  return new SignJWT(claims)
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(opts.sub ?? "user_test")
    .setAudience("authenticated")
    .setIssuedAt()
    .setExpirationTime(opts.expiresIn ?? "1h")
    .sign(new TextEncoder().encode(secret));
}

/** `{ authorization: "Bearer <token>" }` for fetch/request headers. */
export function authHeaders(token: string): { authorization: string } {
  return { authorization: `Bearer ${token}` };
}
