import { SignJWT } from "jose";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { caller, createBuild, raw } from "../helpers/api";
import { tokenFor } from "../helpers/auth";

async function expectProblem(res: Response, status: number, code: string) {
  expect(res.status).toBe(status);
  expect(res.headers.get("content-type")).toBe("application/problem+json");
  const body = (await res.json()) as Record<string, unknown>;
  expect(body).toMatchObject({ status, code });
  expect(typeof body.title).toBe("string");
  expect(body.request_id).toBe(res.headers.get("x-request-id"));
  return body;
}

const secret = new TextEncoder().encode(env.JWT_SECRET!);

describe("authentication on build routes", () => {
  it("401 unauthenticated without a token", async () => {
    await expectProblem(await raw("/v1/builds"), 401, "unauthenticated");
  });

  it("401 for a non-Bearer scheme", async () => {
    await expectProblem(
      await raw("/v1/builds", { headers: { authorization: "Basic dXNlcjpwYXNz" } }),
      401,
      "unauthenticated",
    );
  });

  it("401 for a bad signature", async () => {
    const forged = await new SignJWT({ roles: ["admin"] })
      .setProtectedHeader({ alg: "HS256" })
      .setSubject("mallory")
      .setAudience("authenticated")
      .setExpirationTime("1h")
      .sign(new TextEncoder().encode("not-the-secret-not-the-secret-00"));
    await expectProblem(
      await raw("/v1/builds", { headers: { authorization: `Bearer ${forged}` } }),
      401,
      "unauthenticated",
    );
  });

  it("401 token_expired for an expired token", async () => {
    const expired = await tokenFor({ roles: ["operator"], expiresIn: "-5m" });
    await expectProblem(
      await raw("/v1/builds", { headers: { authorization: `Bearer ${expired}` } }),
      401,
      "token_expired",
    );
  });

  it("401 for a valid token without sub", async () => {
    const noSub = await new SignJWT({ roles: ["operator"] })
      .setProtectedHeader({ alg: "HS256" })
      .setAudience("authenticated")
      .setExpirationTime("1h")
      .sign(secret);
    const body = await expectProblem(
      await raw("/v1/builds", { headers: { authorization: `Bearer ${noSub}` } }),
      401,
      "unauthenticated",
    );
    expect(String(body.detail)).not.toContain(noSub);
  });

  it("401 for a local development token outside development", async () => {
    const dev = await new SignJWT({ roles: ["admin"] })
      .setProtectedHeader({ alg: "HS256" })
      .setSubject("dev-admin")
      .setIssuer("clarity-local-dev")
      .setAudience("authenticated")
      .setExpirationTime("1h")
      .sign(secret);
    await expectProblem(
      await raw("/v1/builds", { headers: { authorization: `Bearer ${dev}` } }),
      401,
      "unauthenticated",
    );
  });

  it("GET /health is public", async () => {
    const res = await raw("/health");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "healthy" });
    expect(res.headers.get("x-request-id")).toBeTruthy();
  });
});

describe("capabilities on build routes (enforced by default)", () => {
  it("403 capabilities_missing for a token without capabilities", async () => {
    const c = await caller({ roles: ["authenticated"] });
    const res = await c.request("GET", "/v1/builds");
    expect(res.status).toBe(403);
    expect(res.body.code).toBe("capabilities_missing");
  });

  it("403 insufficient_capability for a viewer creating a build", async () => {
    const c = await caller({ roles: ["viewer"] });
    const res = await c.request("POST", "/v1/builds", { repo_url: "https://github.com/acme/x" });
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({
      code: "insufficient_capability",
      detail: "Missing required capability: program.runtime.write",
    });
    expect((await c.request("GET", "/v1/builds")).status).toBe(200);
  });
});

describe("ownership", () => {
  it("404 build_not_found before 403 build_access_denied", async () => {
    const owner = await caller({ sub: "owner_a", org_id: "org_1" });
    const build = await createBuild(owner, { metadata: { simulated_duration_ms: 0 } });
    const other = await caller({ sub: "owner_b", org_id: "org_1" });
    const denied = await other.request("GET", `/v1/builds/${build.build_id}`);
    expect(denied.status).toBe(403);
    expect(denied.headers.get("content-type")).toBe("application/problem+json");
    expect(denied.body.code).toBe("build_access_denied");
    const missing = await other.request("GET", "/v1/builds/11111111-1111-4111-8111-111111111111");
    expect(missing.status).toBe(404);
    expect(missing.body.code).toBe("build_not_found");
    expect((await other.request("GET", "/v1/builds")).body.items.some((b: any) => b.build_id === build.build_id)).toBe(
      false,
    );
  });

  it("a tenant admin sees the tenant's builds, not another tenant's", async () => {
    const owner = await caller({ sub: "owner_c", org_id: "org_2" });
    const build = await createBuild(owner, { metadata: { simulated_duration_ms: 0 } });
    const admin = await caller({ sub: "admin_2", org_id: "org_2", roles: ["admin"] });
    expect((await admin.request("GET", `/v1/builds/${build.build_id}`)).status).toBe(200);
    // Another tenant's build does not exist for the caller (issue 17 item 2): 404, never 403.
    const outsider = await caller({ sub: "admin_3", org_id: "org_3", roles: ["admin"] });
    const res = await outsider.request("GET", `/v1/builds/${build.build_id}`);
    expect(res.status).toBe(404);
    expect(res.body.code).toBe("build_not_found");
  });
});

describe("problem+json for bad input", () => {
  it("400 malformed_json for an unparsable body", async () => {
    const c = await caller();
    const res = await c.request("POST", "/v1/builds", "{not json");
    expect(res.status).toBe(400);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect(res.body.code).toBe("malformed_json");
  });

  it("422 validation_failed with errors[] for a schema violation", async () => {
    const c = await caller();
    const res = await c.request("POST", "/v1/builds", { repo_url: 42, dag: [{ node_id: "" }] });
    expect(res.status).toBe(422);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect(res.body.code).toBe("validation_failed");
    const paths = res.body.errors.map((e: any) => e.path);
    expect(paths).toContain("repo_url");
    expect(paths.some((p: string) => p.startsWith("dag.0"))).toBe(true);
  });

  it("422 for a bad status filter and a non-UUID build id", async () => {
    const c = await caller();
    const bad = await c.request("GET", "/v1/builds?status=exploded");
    expect(bad.status).toBe(422);
    expect(bad.body.errors[0].path).toBe("status");
    const id = await c.request("GET", "/v1/builds/not-a-uuid");
    expect(id.status).toBe(422);
    expect(id.body.code).toBe("validation_failed");
  });

  it("404 not_found as problem+json for an unknown API route", async () => {
    const c = await caller();
    const res = await c.request("GET", "/v1/nothing-here");
    expect(res.status).toBe(404);
    expect(res.body.code).toBe("not_found");
  });

  it("keeps a caller-supplied request id and echoes it in problems", async () => {
    const res = await raw("/v1/builds", { headers: { "x-request-id": "req-abc-123" } });
    expect(res.headers.get("x-request-id")).toBe("req-abc-123");
    expect(((await res.json()) as { request_id: string }).request_id).toBe("req-abc-123");
  });
});
