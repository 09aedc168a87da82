/**
 * A user JWT as the worker verifies them (HS256, audience `authenticated` unless told), minted
 * by the local scripts: `npm run token`, the benches and the reproductions.
 */
import { SignJWT } from "jose";

/**
 * @param {string} secret the worker's JWT_SECRET
 * @param {{ sub: string, roles: string[], ttl?: string, audience?: string, issuer?: string }} claims
 * @returns {Promise<string>}
 */
export function mintUserToken(secret, { sub, roles, ttl = "2h", audience = "authenticated", issuer }) {
  const jwt = new SignJWT({ roles })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(sub)
    .setAudience(audience);
  if (issuer !== undefined) jwt.setIssuer(issuer);
  return jwt.setIssuedAt().setExpirationTime(ttl).sign(new TextEncoder().encode(secret));
}
