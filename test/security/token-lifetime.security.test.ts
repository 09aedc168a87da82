/**
 * Issue 17 item 7: user tokens must carry `exp` and live at most JWT_MAX_LIFETIME_SECONDS (24 h by
 * default); `iss` is pinned per key source, and with both HS256 and JWKS configured the two
 * sources' identities never share a subject namespace.
 */
import { env } from "cloudflare:workers";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { afterEach, describe, expect, it, vi } from "vitest";
import { type Config, loadConfig } from "../../src/kernel/env";
import { AppError } from "../../src/kernel/errors";
import { verifyUserToken } from "../../src/security/jwt";
import { raw } from "../helpers/api";

const secret = new TextEncoder().encode(env.JWT_SECRET!);
const now = () => Math.floor(Date.now() / 1000);
const base = { ...env, FAULT_INJECTION: undefined } as Env;

function hs(claims: Record<string, unknown>, opts: { exp?: number | null; iat?: number | null; iss?: string } = {}) {
  let jwt = new SignJWT(claims)
    .setProtectedHeader({ alg: "HS256" })
    .setSubject("life_user")
    .setAudience("authenticated");
  if (opts.iat !== null) jwt = jwt.setIssuedAt(opts.iat ?? now());
  if (opts.exp !== null) jwt = jwt.setExpirationTime(opts.exp ?? now() + 3600);
  if (opts.iss !== undefined) jwt = jwt.setIssuer(opts.iss);
  return jwt.sign(secret);
}

async function rejected(p: Promise<unknown>): Promise<AppError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  return err as AppError;
}

afterEach(() => vi.restoreAllMocks());

describe("exp and lifetime", () => {
  it("401 over HTTP for an admin token without exp", async () => {
    const token = await hs({ roles: ["admin"] }, { exp: null });
    const res = await raw("/v1/builds", { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { code: string }).code).toBe("unauthenticated");
  });

  it("refuses a lifetime above 24 h by iat, and an exp further than 24 h away without iat", async () => {
    const cfg = loadConfig(base);
    expect(cfg.JWT_MAX_LIFETIME_SECONDS).toBe(86_400);
    const long = await hs({ roles: ["viewer"] }, { iat: now(), exp: now() + 86_400 + 3600 });
    expect((await rejected(verifyUserToken(long, cfg))).detail).toBe(
      "Invalid token: token lifetime exceeds 86400 seconds.",
    );
    const noIat = await hs({ roles: ["viewer"] }, { iat: null, exp: now() + 7 * 86_400 });
    expect((await rejected(verifyUserToken(noIat, cfg))).code).toBe("unauthenticated");
    // Backdated iat does not help: exp − iat counts.
    const backdated = await hs({ roles: ["viewer"] }, { iat: now() - 86_400, exp: now() + 3600 });
    expect((await rejected(verifyUserToken(backdated, cfg))).code).toBe("unauthenticated");
    // Within the limit: accepted.
    const ok = await hs({ roles: ["viewer"] }, { iat: now(), exp: now() + 86_000 });
    expect((await verifyUserToken(ok, cfg)).sub).toBe("life_user");
  });

  it("JWT_MAX_LIFETIME_SECONDS is configurable", async () => {
    const cfg = loadConfig({ ...base, JWT_MAX_LIFETIME_SECONDS: "600" } as Env);
    const token = await hs({}, { exp: now() + 3600 });
    expect((await rejected(verifyUserToken(token, cfg))).detail).toMatch(/600 seconds/);
  });
});

describe("issuer pinned per key source", () => {
  const JWKS_URL = "https://idp.example.test/lifetime/.well-known/jwks.json";

  it("both sources configured: distinct issuers are required", () => {
    expect(() => loadConfig({ ...base, JWT_JWKS_URL: JWKS_URL } as Env)).toThrow(
      /distinct JWT_ISSUER \(HS256\) and JWT_JWKS_ISSUER/,
    );
    expect(() =>
      loadConfig({ ...base, JWT_JWKS_URL: JWKS_URL, JWT_ISSUER: "same", JWT_JWKS_ISSUER: "same" } as Env),
    ).toThrow(/distinct/);
    expect(
      loadConfig({
        ...base,
        JWT_JWKS_URL: JWKS_URL,
        JWT_ISSUER: "https://hs.example",
        JWT_JWKS_ISSUER: "https://idp.example",
      } as Env).JWT_JWKS_ISSUER,
    ).toBe("https://idp.example");
  });

  it("an HS256 token claiming the JWKS issuer is refused, and identities are qualified by issuer", async () => {
    const { publicKey, privateKey } = await generateKeyPair("ES256", { extractable: true });
    const jwk = { ...(await exportJWK(publicKey)), kid: "k1", alg: "ES256", use: "sig" };
    vi.spyOn(globalThis, "fetch").mockImplementation(async () => Response.json({ keys: [jwk] }));
    const cfg: Config = loadConfig({
      ...base,
      JWT_JWKS_URL: JWKS_URL,
      JWT_ISSUER: "https://hs.example",
      JWT_JWKS_ISSUER: "https://idp.example",
    } as Env);

    const forged = await hs({ roles: ["admin"] }, { iss: "https://idp.example" });
    expect((await rejected(verifyUserToken(forged, cfg))).detail).toBe('Invalid token: "iss" claim check failed.');
    const unpinned = await hs({ roles: ["admin"] });
    expect((await rejected(verifyUserToken(unpinned, cfg))).code).toBe("unauthenticated");

    const hsUser = await verifyUserToken(await hs({ roles: ["viewer"] }, { iss: "https://hs.example" }), cfg);
    const jwksToken = await new SignJWT({ roles: ["viewer"] })
      .setProtectedHeader({ alg: "ES256", kid: "k1" })
      .setSubject("life_user")
      .setIssuer("https://idp.example")
      .setAudience("authenticated")
      .setIssuedAt()
      .setExpirationTime("5m")
      .sign(privateKey);
    const jwksUser = await verifyUserToken(jwksToken, cfg);
    // Same raw `sub` from two identity providers: two different principals (and tenants).
    expect(hsUser.sub).toBe("https://hs.example|life_user");
    expect(jwksUser.sub).toBe("https://idp.example|life_user");
    expect(hsUser.tenantId).not.toBe(jwksUser.tenantId);
    // A JWKS token with the HS256 issuer is refused too.
    const wrongIss = await new SignJWT({})
      .setProtectedHeader({ alg: "ES256", kid: "k1" })
      .setSubject("x")
      .setIssuer("https://hs.example")
      .setAudience("authenticated")
      .setExpirationTime("5m")
      .sign(privateKey);
    expect((await rejected(verifyUserToken(wrongIss, cfg))).code).toBe("unauthenticated");
  });

  it("one source configured: sub is unqualified (existing data keeps its owners)", async () => {
    const cfg = loadConfig(base);
    expect((await verifyUserToken(await hs({}), cfg)).sub).toBe("life_user");
  });
});
