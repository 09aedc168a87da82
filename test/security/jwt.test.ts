/**
 * User JWT verification (HS256 + JWKS RS256/ES256, alg pinning, aud/iss, sub, tenant,
 * local-dev issuer gate), stream tokens (roundtrip, build scoping, expiry) and the auth
 * middleware (Bearer parsing, capability enforcement, stream-or-bearer) on a tiny Hono app.
 */
import { env } from "cloudflare:workers";
import { Hono } from "hono";
import { createMiddleware } from "hono/factory";
import { SignJWT, exportJWK, generateKeyPair } from "jose";
import { afterEach, describe, expect, it, vi } from "vitest";
import { type AppEnv, type Config, loadConfig } from "../../src/kernel/env";
import { AppError, type ErrorCode, onError } from "../../src/kernel/errors";
import { authenticate, authenticateRequest, requireCapability } from "../../src/security/auth.middleware";
import { LOCAL_DEV_ISSUER, verifyUserToken } from "../../src/security/jwt";
import type { Principal } from "../../src/kernel/principal";
import { describeRoute } from "../../src/kernel/route-meta";
import { issueStreamToken, verifyStreamToken } from "../../src/security/stream-token";
import { authHeaders, tokenFor } from "../helpers/auth";

const SECRET = "test-jwt-secret-0123456789abcdef0123456789abcdef";

function config(overrides: Partial<Config> = {}): Config {
  return { ...loadConfig(env), ...overrides };
}

async function expectAppError(promise: Promise<unknown>, code: ErrorCode, detail?: RegExp | string): Promise<AppError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  const appErr = err as AppError;
  expect(appErr.code).toBe(code);
  if (detail !== undefined) expect(appErr.detail).toMatch(detail);
  return appErr;
}

function b64url(value: unknown): string {
  return btoa(JSON.stringify(value)).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
}

/** Signs HS256 (or another HMAC alg) with full control over the claims. */
async function signHmac(
  claims: Record<string, unknown>,
  opts: { alg?: string; secret?: string; aud?: string | string[] | null; exp?: string | number } = {},
): Promise<string> {
  let jwt = new SignJWT(claims).setProtectedHeader({ alg: opts.alg ?? "HS256" }).setIssuedAt();
  if (opts.aud !== null) jwt = jwt.setAudience(opts.aud ?? "authenticated");
  jwt = jwt.setExpirationTime(opts.exp ?? "1h");
  return jwt.sign(new TextEncoder().encode(opts.secret ?? SECRET));
}

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllGlobals();
});

describe("verifyUserToken (HS256)", () => {
  it("test bindings match the helper secret", () => {
    expect(env.JWT_SECRET).toBe(SECRET);
    expect(config().ENVIRONMENT).toBe("test");
  });

  it("valid token → principal with sub, tenant from org_id, roles and capabilities", async () => {
    const token = await tokenFor({
      sub: "user_2abc",
      roles: ["Operator"],
      capabilities: ["custom.x"],
      org_id: "org_42",
    });
    const principal = await verifyUserToken(token, config());
    expect(principal.sub).toBe("user_2abc");
    expect(principal.tenantId).toBe("org_42");
    expect(principal.roles).toEqual(["operator"]);
    expect(principal.capabilities).toContain("program.runtime.write");
    expect(principal.capabilities).toContain("custom.x");
    expect(principal.capabilities).toEqual([...principal.capabilities].sort());
  });

  it("tenant falls back to sub when the tenant claim is absent, empty or not a string", async () => {
    const cfg = config();
    expect((await verifyUserToken(await tokenFor({ sub: "user_a" }), cfg)).tenantId).toBe("user_a");
    expect((await verifyUserToken(await tokenFor({ sub: "user_b", org_id: "" }), cfg)).tenantId).toBe("user_b");
    expect((await verifyUserToken(await tokenFor({ sub: "user_c", extra: { org_id: 7 } }), cfg)).tenantId).toBe(
      "user_c",
    );
  });

  it("uses the configured TENANT_CLAIM", async () => {
    const token = await tokenFor({ sub: "user_d", org_id: "org_ignored", extra: { team: "team_1" } });
    expect((await verifyUserToken(token, config({ TENANT_CLAIM: "team" }))).tenantId).toBe("team_1");
  });

  it("a token without roles or capabilities has empty sets", async () => {
    const principal = await verifyUserToken(await tokenFor({ extra: { role: "authenticated" } }), config());
    expect(principal.roles).toEqual(["authenticated"]);
    expect(principal.capabilities).toEqual([]);
  });

  it("accepts an audience array that includes the configured audience", async () => {
    const token = await new SignJWT({ sub: "user_e" })
      .setProtectedHeader({ alg: "HS256" })
      .setAudience(["other", "authenticated"])
      .setExpirationTime("1h")
      .sign(new TextEncoder().encode(SECRET));
    expect((await verifyUserToken(token, config())).sub).toBe("user_e");
  });

  it("a token without exp → unauthenticated (issue 17 item 7: exp is required)", async () => {
    const token = await new SignJWT({ sub: "user_e2" })
      .setProtectedHeader({ alg: "HS256" })
      .setAudience("authenticated")
      .sign(new TextEncoder().encode(SECRET));
    await expectAppError(verifyUserToken(token, config()), "unauthenticated", '"exp" claim check failed.');
  });

  it("expired → token_expired", async () => {
    const token = await tokenFor({ expiresIn: "-5m" });
    const err = await expectAppError(verifyUserToken(token, config()), "token_expired", "Token expired.");
    expect(err.status).toBe(401);
  });

  it("serves a verified token from the isolate cache only under the same configuration and until exp", async () => {
    const cfg = config();
    const token = await signHmac(
      { sub: "user_cache", roles: ["operator"] },
      { exp: Math.floor(Date.now() / 1000) + 1 },
    );
    const first = await verifyUserToken(token, cfg);
    expect(await verifyUserToken(token, cfg)).toBe(first); // the same frozen Principal: no second verification
    expect(Object.isFrozen(first) && Object.isFrozen(first.capabilities)).toBe(true);
    // Another secret is another Config: the cached verification does not carry over.
    await expectAppError(
      verifyUserToken(token, config({ JWT_SECRET: "rotated-secret-0123456789abcdef0123456789" })),
      "unauthenticated",
      /signature/,
    );
    // Past exp the cached entry is not used: the token is verified again and rejected.
    await new Promise((r) => setTimeout(r, Math.max(0, (Math.floor(Date.now() / 1000) + 1) * 1000 - Date.now()) + 50));
    await expectAppError(verifyUserToken(token, cfg), "token_expired");
  });

  it("bad signature → unauthenticated without echoing the token", async () => {
    const token = await signHmac({ sub: "user_f" }, { secret: "another-secret-0123456789abcdef0123456789" });
    const err = await expectAppError(verifyUserToken(token, config()), "unauthenticated", /^Invalid token: /);
    expect(err.status).toBe(401);
    expect(err.detail).not.toContain(token);
    expect(err.detail).not.toContain(token.split(".")[1] ?? "");
  });

  it("tampered payload → unauthenticated", async () => {
    const token = await tokenFor({ sub: "user_g", roles: ["viewer"] });
    const [h, , s] = token.split(".");
    const forged = `${h}.${b64url({ sub: "user_g", roles: ["admin"], aud: "authenticated" })}.${s}`;
    await expectAppError(verifyUserToken(forged, config()), "unauthenticated", /signature/);
  });

  it("wrong or missing aud → unauthenticated", async () => {
    await expectAppError(
      verifyUserToken(await signHmac({ sub: "u" }, { aud: "someone-else" }), config()),
      "unauthenticated",
      /aud/,
    );
    await expectAppError(
      verifyUserToken(await signHmac({ sub: "u" }, { aud: null }), config()),
      "unauthenticated",
      /aud/,
    );
  });

  it("issuer is enforced when JWT_ISSUER is set", async () => {
    const cfg = config({ JWT_ISSUER: "https://issuer.example" });
    await expectAppError(verifyUserToken(await tokenFor(), cfg), "unauthenticated", /iss/);
    await expectAppError(
      verifyUserToken(await tokenFor({ extra: { iss: "https://evil.example" } }), cfg),
      "unauthenticated",
      /iss/,
    );
    const ok = await verifyUserToken(await tokenFor({ sub: "user_h", extra: { iss: "https://issuer.example" } }), cfg);
    expect(ok.sub).toBe("user_h");
  });

  it("nbf in the future → unauthenticated", async () => {
    const token = await tokenFor({ extra: { nbf: Math.floor(Date.now() / 1000) + 3600 } });
    await expectAppError(verifyUserToken(token, config()), "unauthenticated", /nbf/);
  });

  it("missing or empty sub → unauthenticated 'Token has no subject.'", async () => {
    await expectAppError(
      verifyUserToken(await signHmac({ roles: ["admin"] }), config()),
      "unauthenticated",
      "Token has no subject.",
    );
    await expectAppError(
      verifyUserToken(await signHmac({ sub: "" }), config()),
      "unauthenticated",
      "Token has no subject.",
    );
    await expectAppError(
      verifyUserToken(await signHmac({ sub: "   " }), config()),
      "unauthenticated",
      "Token has no subject.",
    );
  });

  it("alg none → unauthenticated", async () => {
    const token = `${b64url({ alg: "none", typ: "JWT" })}.${b64url({ sub: "user_i", aud: "authenticated", roles: ["admin"] })}.`;
    await expectAppError(verifyUserToken(token, config()), "unauthenticated", /^Invalid token: /);
  });

  it("HS512 / HS384 with the right secret → unauthenticated (algorithms pinned)", async () => {
    await expectAppError(verifyUserToken(await signHmac({ sub: "u" }, { alg: "HS512" }), config()), "unauthenticated");
    await expectAppError(verifyUserToken(await signHmac({ sub: "u" }, { alg: "HS384" }), config()), "unauthenticated");
  });

  it("malformed tokens → unauthenticated", async () => {
    for (const token of ["", "not-a-jwt", "a.b.c", `${b64url({ alg: "HS256" })}.!!!.sig`]) {
      await expectAppError(verifyUserToken(token, config()), "unauthenticated", /^Invalid token: /);
    }
  });

  it("HS256 token when only JWKS is configured → unauthenticated", async () => {
    const cfg = config({ JWT_SECRET: undefined, JWT_JWKS_URL: "https://idp.example.test/unused.json" });
    await expectAppError(verifyUserToken(await tokenFor(), cfg), "unauthenticated");
  });
});

describe("local development issuer", () => {
  const devToken = () => tokenFor({ sub: "dev-operator", roles: ["operator"], extra: { iss: LOCAL_DEV_ISSUER } });

  it("is exported as clarity-local-dev", () => {
    expect(LOCAL_DEV_ISSUER).toBe("clarity-local-dev");
  });

  it.each(["test", "staging", "production"] as const)("is rejected when ENVIRONMENT=%s", async (environment) => {
    await expectAppError(verifyUserToken(await devToken(), config({ ENVIRONMENT: environment })), "unauthenticated");
  });

  it("is accepted when ENVIRONMENT=development", async () => {
    const principal = await verifyUserToken(await devToken(), config({ ENVIRONMENT: "development" }));
    expect(principal).toMatchObject({ sub: "dev-operator", tenantId: "dev-operator", roles: ["operator"] });
  });
});

describe("verifyUserToken (JWKS)", () => {
  let counter = 0;
  const uniqueJwksUrl = () => `https://idp.example.test/${Date.now()}-${++counter}/.well-known/jwks.json`;

  async function serveJwks(url: string, keys: unknown[]) {
    return vi.spyOn(globalThis, "fetch").mockImplementation(async (input: RequestInfo | URL) => {
      const href = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
      if (href !== url) return new Response("not found", { status: 404 });
      return Response.json({ keys });
    });
  }

  it.each(["ES256", "RS256"] as const)("verifies a %s token against the remote key set", async (alg) => {
    const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
    const jwk = { ...(await exportJWK(publicKey)), kid: "k1", alg, use: "sig" };
    const url = uniqueJwksUrl();
    const fetchSpy = await serveJwks(url, [jwk]);
    // JWKS as the only source (with both sources, subjects are qualified by issuer: token-lifetime.security.test.ts).
    const cfg = config({ JWT_SECRET: undefined, JWT_JWKS_URL: url });

    const sign = (sub: string) =>
      new SignJWT({ sub, org_id: "org_j", roles: ["viewer"] })
        .setProtectedHeader({ alg, kid: "k1" })
        .setAudience("authenticated")
        .setIssuedAt()
        .setExpirationTime("5m")
        .sign(privateKey);

    const principal = await verifyUserToken(await sign("user_jwks"), cfg);
    expect(principal).toMatchObject({ sub: "user_jwks", tenantId: "org_j", roles: ["viewer"] });
    expect(principal.capabilities).toContain("program.runtime.read");
    // A second verification reuses the cached key set.
    await verifyUserToken(await sign("user_jwks_2"), cfg);
    expect(fetchSpy).toHaveBeenCalledTimes(1);
  });

  it("a JWKS token signed by another key → unauthenticated", async () => {
    const good = await generateKeyPair("ES256", { extractable: true });
    const evil = await generateKeyPair("ES256", { extractable: true });
    const url = uniqueJwksUrl();
    await serveJwks(url, [{ ...(await exportJWK(good.publicKey)), kid: "k1", alg: "ES256" }]);
    const token = await new SignJWT({ sub: "user_k" })
      .setProtectedHeader({ alg: "ES256", kid: "k1" })
      .setAudience("authenticated")
      .setExpirationTime("5m")
      .sign(evil.privateKey);
    await expectAppError(verifyUserToken(token, config({ JWT_JWKS_URL: url })), "unauthenticated", /^Invalid token: /);
  });

  it("expired JWKS token → token_expired", async () => {
    const { publicKey, privateKey } = await generateKeyPair("ES256", { extractable: true });
    const url = uniqueJwksUrl();
    await serveJwks(url, [{ ...(await exportJWK(publicKey)), kid: "k1", alg: "ES256" }]);
    const token = await new SignJWT({ sub: "user_l" })
      .setProtectedHeader({ alg: "ES256", kid: "k1" })
      .setAudience("authenticated")
      .setExpirationTime(Math.floor(Date.now() / 1000) - 60)
      .sign(privateKey);
    await expectAppError(verifyUserToken(token, config({ JWT_JWKS_URL: url })), "token_expired");
  });

  it("an unreachable key set → unauthenticated", async () => {
    const { privateKey } = await generateKeyPair("ES256", { extractable: true });
    await serveJwks("https://nowhere.example.test/other", []);
    const token = await new SignJWT({ sub: "user_m" })
      .setProtectedHeader({ alg: "ES256", kid: "k1" })
      .setAudience("authenticated")
      .setExpirationTime("5m")
      .sign(privateKey);
    await expectAppError(verifyUserToken(token, config({ JWT_JWKS_URL: uniqueJwksUrl() })), "unauthenticated");
  });

  it.each(["ES256", "RS256"] as const)("a %s token when no JWKS URL is configured → unauthenticated", async (alg) => {
    const fetchSpy = vi.spyOn(globalThis, "fetch");
    const { privateKey } = await generateKeyPair(alg, { extractable: true });
    const token = await new SignJWT({ sub: "user_n" })
      .setProtectedHeader({ alg })
      .setAudience("authenticated")
      .setExpirationTime("5m")
      .sign(privateKey);
    const cfg = config();
    expect(cfg.JWT_JWKS_URL).toBeUndefined();
    await expectAppError(verifyUserToken(token, cfg), "unauthenticated", /^Invalid token: /);
    expect(fetchSpy).not.toHaveBeenCalled();
  });

  it("RS384 / PS256 / ES512-style algs are not accepted even with a JWKS URL", async () => {
    const { privateKey } = await generateKeyPair("PS256", { extractable: true });
    const token = await new SignJWT({ sub: "user_o" })
      .setProtectedHeader({ alg: "PS256" })
      .setAudience("authenticated")
      .setExpirationTime("5m")
      .sign(privateKey);
    const fetchSpy = vi.spyOn(globalThis, "fetch");
    await expectAppError(verifyUserToken(token, config({ JWT_JWKS_URL: uniqueJwksUrl() })), "unauthenticated");
    expect(fetchSpy).not.toHaveBeenCalled();
  });
});

describe("stream tokens", () => {
  const principal: Principal = {
    sub: "user_s",
    tenantId: "org_s",
    roles: ["operator"],
    capabilities: ["program.runtime.read", "program.runtime.write"],
  };

  it("issue + verify roundtrip for the same build", async () => {
    const before = Date.now();
    const { token, expires_at } = await issueStreamToken(config(), principal, "bld_1");
    expect(new Date(expires_at).toISOString()).toBe(expires_at);
    const expiresMs = Date.parse(expires_at);
    expect(expiresMs).toBeGreaterThanOrEqual(before + 299_000);
    expect(expiresMs).toBeLessThanOrEqual(Date.now() + 301_000);
    const verified = await verifyStreamToken(config(), token, "bld_1");
    expect(verified).toEqual({ sub: "user_s", tenantId: "org_s", roles: [], capabilities: principal.capabilities });
  });

  it("honours a custom ttl", async () => {
    const { expires_at } = await issueStreamToken(config(), principal, "bld_1", 60);
    expect(Date.parse(expires_at) - Date.now()).toBeLessThanOrEqual(61_000);
  });

  it("wrong build id → unauthenticated", async () => {
    const { token } = await issueStreamToken(config(), principal, "bld_1");
    await expectAppError(verifyStreamToken(config(), token, "bld_2"), "unauthenticated");
  });

  it("expired → token_expired", async () => {
    const token = await new SignJWT({ tenant: "org_s", build_id: "bld_1", caps: [] })
      .setProtectedHeader({ alg: "HS256" })
      .setSubject("user_s")
      .setAudience("clarity-build-stream")
      .setIssuer("clarity-control-plane")
      .setExpirationTime(Math.floor(Date.now() / 1000) - 10)
      .sign(new TextEncoder().encode(env.STREAM_TOKEN_SECRET ?? ""));
    await expectAppError(verifyStreamToken(config(), token, "bld_1"), "token_expired");
  });

  it("user tokens and stream tokens are not interchangeable", async () => {
    const user = await tokenFor({ extra: { build_id: "bld_1", tenant: "t", caps: ["*"] } });
    await expectAppError(verifyStreamToken(config(), user, "bld_1"), "unauthenticated");
    const { token: stream } = await issueStreamToken(config(), principal, "bld_1");
    await expectAppError(verifyUserToken(stream, config()), "unauthenticated");
  });

  it("missing STREAM_TOKEN_SECRET → stream_token_unavailable", async () => {
    const cfg = config({ STREAM_TOKEN_SECRET: undefined });
    const err = await expectAppError(issueStreamToken(cfg, principal, "bld_1"), "stream_token_unavailable");
    expect(err.status).toBe(503);
    await expectAppError(verifyStreamToken(cfg, "x.y.z", "bld_1"), "stream_token_unavailable");
  });
});

describe("auth middleware", () => {
  function app(overrides: Partial<Config> = {}) {
    const a = new Hono<AppEnv>();
    a.onError(onError);
    a.use(
      "*",
      createMiddleware<AppEnv>(async (c, next) => {
        c.set("requestId", "req_test");
        c.set("config", config(overrides));
        await next();
      }),
    );
    a.get("/me", authenticate, (c) => c.json(c.var.principal));
    a.get("/secrets", authenticate, requireCapability("program.secrets.read"), (c) => c.json({ ok: true }));
    // The route declares that it takes a stream token (as the real SSE route does, builds.routes.ts).
    const sse = describeRoute({
      operationId: "sse",
      tag: "builds",
      summary: "SSE",
      auth: "bearer_or_stream_token",
      responses: {},
    });
    a.get("/v1/builds/:id/events", sse, authenticateRequest, (c) => c.json(c.var.principal));
    return a;
  }

  async function problem(res: Response) {
    return (await res.json()) as { code: string; detail?: string };
  }

  it("Bearer token → principal", async () => {
    const res = await app().request("/me", {
      headers: authHeaders(await tokenFor({ sub: "user_mw", roles: ["viewer"] })),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ sub: "user_mw", tenantId: "user_mw", roles: ["viewer"] });
  });

  it("accepts a case-insensitive scheme", async () => {
    const res = await app().request("/me", { headers: { authorization: `bearer ${await tokenFor()}` } });
    expect(res.status).toBe(200);
  });

  it.each([
    ["missing header", undefined],
    ["Basic scheme", "Basic dXNlcjpwYXNz"],
    ["empty Bearer", "Bearer "],
    ["bare token", "eyJhbGciOiJIUzI1NiJ9.e30.x"],
  ])("%s → 401 unauthenticated 'Missing Bearer token.'", async (_name, header) => {
    const res = await app().request("/me", { headers: header === undefined ? {} : { authorization: header } });
    expect(res.status).toBe(401);
    expect(await problem(res)).toMatchObject({ code: "unauthenticated", detail: "Missing Bearer token." });
  });

  it("expired token → 401 token_expired", async () => {
    const res = await app().request("/me", { headers: authHeaders(await tokenFor({ expiresIn: "-1m" })) });
    expect(res.status).toBe(401);
    expect((await problem(res)).code).toBe("token_expired");
  });

  it("enforcement on: empty set → 403 capabilities_missing", async () => {
    const res = await app().request("/secrets", { headers: authHeaders(await tokenFor()) });
    expect(res.status).toBe(403);
    expect(await problem(res)).toMatchObject({
      code: "capabilities_missing",
      detail: "Capability set missing for this request.",
    });
  });

  it("enforcement on: lacking capability → 403 insufficient_capability", async () => {
    const res = await app().request("/secrets", { headers: authHeaders(await tokenFor({ roles: ["operator"] })) });
    expect(res.status).toBe(403);
    expect(await problem(res)).toMatchObject({
      code: "insufficient_capability",
      detail: "Missing required capability: program.secrets.read",
    });
  });

  it.each([
    ["viewer role", { roles: ["viewer"] }],
    ["admin wildcard", { roles: ["admin"] }],
    ["explicit capability", { capabilities: ["program.secrets.read"] }],
  ])("enforcement on: %s passes", async (_name, opts) => {
    const res = await app().request("/secrets", { headers: authHeaders(await tokenFor(opts)) });
    expect(res.status).toBe(200);
  });

  it("enforcement off: any authenticated user passes, unauthenticated still 401", async () => {
    const dev = app({ ENFORCE_CAPABILITY_AUTH: false, ENVIRONMENT: "development" });
    expect((await dev.request("/secrets", { headers: authHeaders(await tokenFor()) })).status).toBe(200);
    expect((await dev.request("/secrets")).status).toBe(401);
  });

  it("stream_token for the path's build → principal with the token's capabilities", async () => {
    const p: Principal = { sub: "user_st", tenantId: "org_st", roles: ["admin"], capabilities: ["*"] };
    const { token } = await issueStreamToken(config(), p, "bld_9");
    const res = await app().request(`/v1/builds/bld_9/events?stream_token=${encodeURIComponent(token)}`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ sub: "user_st", tenantId: "org_st", roles: [], capabilities: ["*"] });
  });

  it("stream_token for another build → 401", async () => {
    const p: Principal = { sub: "user_st", tenantId: "org_st", roles: [], capabilities: [] };
    const { token } = await issueStreamToken(config(), p, "bld_9");
    const res = await app().request(`/v1/builds/bld_other/events?stream_token=${encodeURIComponent(token)}`);
    expect(res.status).toBe(401);
    expect((await problem(res)).code).toBe("unauthenticated");
  });

  it("empty stream_token → 401; no stream_token falls back to Bearer", async () => {
    expect((await app().request("/v1/builds/bld_9/events?stream_token=")).status).toBe(401);
    expect((await app().request("/v1/builds/bld_9/events")).status).toBe(401);
    const res = await app().request("/v1/builds/bld_9/events", {
      headers: authHeaders(await tokenFor({ sub: "user_b" })),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ sub: "user_b" });
  });
});
