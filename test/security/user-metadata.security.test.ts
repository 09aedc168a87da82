/**
 * Issue 17 item 1: authorization never comes from `user_metadata`, which end users can edit in
 * Supabase-style identity providers. The opt-in AUTH_TRUST_USER_METADATA is refused outside
 * development.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/kernel/env";
import { caller, createBuild, INSTANT } from "../helpers/api";

describe("user_metadata grants nothing", () => {
  it("a token with only user_metadata.roles=[admin] cannot read or abort another user's build, nor list secrets", async () => {
    const owner = await caller({ sub: "um_owner", org_id: "org_um" });
    const build = await createBuild(owner, { metadata: INSTANT });
    const selfMade = await caller({
      sub: "um_mallory",
      org_id: "org_um",
      roles: [],
      extra: { user_metadata: { roles: ["admin"], capabilities: ["*"] } },
    });
    // No capability at all: 403 capabilities_missing before anything else.
    const read = await selfMade.request("GET", `/v1/builds/${build.build_id}`);
    expect(read.status).toBe(403);
    expect(read.body.code).toBe("capabilities_missing");
    const abort = await selfMade.request("POST", `/v1/builds/${build.build_id}/abort`, {});
    expect(abort.status).toBe(403);
    const secrets = await selfMade.request("GET", "/v1/program/secrets");
    expect(secrets.status).toBe(403);
    expect(secrets.body.code).toBe("capabilities_missing");
  });

  it("a viewer with user_metadata.roles=[admin] stays a viewer", async () => {
    const owner = await caller({ sub: "um_owner2", org_id: "org_um2" });
    const build = await createBuild(owner, { metadata: INSTANT });
    const viewer = await caller({
      sub: "um_viewer",
      org_id: "org_um2",
      roles: ["viewer"],
      extra: { user_metadata: { roles: ["admin"] } },
    });
    const read = await viewer.request("GET", `/v1/builds/${build.build_id}`);
    expect(read.status).toBe(403);
    expect(read.body.code).toBe("build_access_denied");
    const create = await viewer.request("POST", "/v1/builds", { repo_url: "https://github.com/acme/app" });
    expect(create.status).toBe(403);
    expect(create.body.code).toBe("insufficient_capability");
  });

  it("app_metadata (server-controlled) still grants", async () => {
    const owner = await caller({ sub: "um_owner3", org_id: "org_um3" });
    const build = await createBuild(owner, { metadata: INSTANT });
    const admin = await caller({
      sub: "um_admin",
      org_id: "org_um3",
      roles: undefined,
      extra: { app_metadata: { roles: ["admin"] } },
    });
    expect((await admin.request("GET", `/v1/builds/${build.build_id}`)).status).toBe(200);
  });
});

describe("AUTH_TRUST_USER_METADATA", () => {
  const base = { ...env, FAULT_INJECTION: undefined } as Env;
  it("is off by default", () => {
    expect(loadConfig({ ...base } as Env).AUTH_TRUST_USER_METADATA).toBe(false);
  });
  it.each(["test", "staging", "production"])("is refused when ENVIRONMENT=%s", (ENVIRONMENT) => {
    expect(() => loadConfig({ ...base, ENVIRONMENT, AUTH_TRUST_USER_METADATA: "true" } as Env)).toThrow(
      /AUTH_TRUST_USER_METADATA may only be true when ENVIRONMENT=development/,
    );
  });
  it("is accepted in development", () => {
    expect(
      loadConfig({ ...base, ENVIRONMENT: "development", AUTH_TRUST_USER_METADATA: "true" } as Env)
        .AUTH_TRUST_USER_METADATA,
    ).toBe(true);
  });
});
