/**
 * /v1/dev/token (src/dev/dev.routes.ts): the dashboard's one-click development sign-in. Served
 * only when ENVIRONMENT=development on a loopback host; 404 not_found everywhere else.
 */
import { env } from "cloudflare:workers";
import { decodeProtectedHeader, jwtVerify } from "jose";
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/http/app";
import { raw } from "../helpers/api";

const app = createApp();
const withEnvironment = (environment: string) => ({ ...env, ENVIRONMENT: environment }) as Env;
const devEnv = withEnvironment("development");
const secret = new TextEncoder().encode(env.JWT_SECRET!);

function call(path: string, init: RequestInit = {}, opts: { host?: string; env?: Env } = {}) {
  return app.request(`http://${opts.host ?? "127.0.0.1:8787"}${path}`, init, opts.env ?? devEnv);
}

const postJson = (body: unknown): RequestInit => ({
  method: "POST",
  headers: { "content-type": "application/json" },
  body: JSON.stringify(body),
});

async function expectNotFound(res: Response) {
  expect(res.status).toBe(404);
  expect(res.headers.get("content-type")).toBe("application/problem+json");
  expect(await res.json()).toMatchObject({ status: 404, code: "not_found" });
}

describe("GET /v1/dev/token", () => {
  it("announces the development sign-in without a JWT in development", async () => {
    const res = await call("/v1/dev/token");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      available: true,
      roles: ["viewer", "operator", "security", "admin"],
      issuer: "clarity-local-dev",
      expires_in: 43200,
    });
    expect(res.headers.get("cache-control")).toBe("no-store");
  });
});

describe("POST /v1/dev/token", () => {
  it("mints a local operator token like scripts/token.mjs (HS256, iss clarity-local-dev, aud from config, 12 h)", async () => {
    const before = Math.floor(Date.now() / 1000);
    const res = await call("/v1/dev/token", postJson({ role: "operator" }));
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      token: string;
      token_type: string;
      role: string;
      sub: string;
      expires_at: string;
    };
    expect(body).toMatchObject({ token_type: "Bearer", role: "operator", sub: "dev-operator" });
    expect(decodeProtectedHeader(body.token)).toEqual({ alg: "HS256", typ: "JWT" });
    const { payload } = await jwtVerify(body.token, secret, {
      algorithms: ["HS256"],
      audience: "authenticated",
      issuer: "clarity-local-dev",
    });
    expect(payload.sub).toBe("dev-operator");
    expect(payload.roles).toEqual(["operator"]);
    expect(payload.exp! - payload.iat!).toBe(12 * 3600);
    expect(payload.iat!).toBeGreaterThanOrEqual(before);
    expect(Date.parse(body.expires_at.replace(/000Z$/, "Z")) / 1000).toBe(payload.exp);
  });

  it("defaults to the operator role and honours an explicit sub", async () => {
    const res = await call("/v1/dev/token", postJson({ sub: "alice" }));
    expect(res.status).toBe(200);
    const { payload } = await jwtVerify(((await res.json()) as { token: string }).token, secret, {
      audience: "authenticated",
    });
    expect(payload).toMatchObject({ sub: "alice", roles: ["operator"] });
  });

  it("the minted token authenticates API calls in development", async () => {
    const { token } = (await (await call("/v1/dev/token", postJson({ role: "admin" }))).json()) as { token: string };
    const res = await call("/v1/builds?limit=1", { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ items: [] });
  });

  it("…and is rejected outside development (issuer guard)", async () => {
    const { token } = (await (await call("/v1/dev/token", postJson({ role: "admin" }))).json()) as { token: string };
    const res = await raw("/v1/builds", { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ code: "unauthenticated" });
  });

  it("422 validation_failed for an unknown role", async () => {
    const res = await call("/v1/dev/token", postJson({ role: "root" }));
    expect(res.status).toBe(422);
    expect(await res.json()).toMatchObject({ code: "validation_failed" });
  });
});

describe("outside local development", () => {
  it("404 not_found in the test environment (the real worker), GET and POST", async () => {
    await expectNotFound(await raw("/v1/dev/token"));
    await expectNotFound(await raw("/v1/dev/token", postJson({ role: "operator" })));
  });

  it("404 not_found in production and staging", async () => {
    for (const environment of ["production", "staging"]) {
      await expectNotFound(await call("/v1/dev/token", {}, { env: withEnvironment(environment) }));
      await expectNotFound(
        await call("/v1/dev/token", postJson({ role: "admin" }), { env: withEnvironment(environment) }),
      );
    }
  });

  it("404 not_found in development when addressed to a non-loopback host (DNS rebinding)", async () => {
    await expectNotFound(await call("/v1/dev/token", {}, { host: "evil.example:8787" }));
    await expectNotFound(await call("/v1/dev/token", postJson({ role: "admin" }), { host: "192.168.1.20:8787" }));
  });

  it("answers on exactly the loopback names 127.0.0.1, localhost and [::1] (issue 17 item 10)", async () => {
    for (const host of ["localhost:8787", "127.0.0.1:8787", "[::1]:8787", "LOCALHOST"]) {
      expect((await call("/v1/dev/token", {}, { host })).status).toBe(200);
    }
  });
});
