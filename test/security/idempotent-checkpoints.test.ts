import { describe, expect, it } from "vitest";
import { INSTANT, caller, createBuild } from "../helpers/api";

const PATH = "/v1/program/idempotent-checkpoints";

async function checkpointsOf(
  c: Awaited<ReturnType<typeof caller>>,
  buildId: string,
): Promise<Array<{ checkpoint_id: string; reason: string }>> {
  const res = await c.request("GET", `/v1/builds/${buildId}/checkpoints?limit=200`);
  expect(res.status).toBe(200);
  return Array.isArray(res.body) ? res.body : res.body.items;
}

describe("POST /v1/program/idempotent-checkpoints (SPEC §6.5)", () => {
  it("creates a real checkpoint once and replays it for the same (build, key)", async () => {
    const c = await caller({ sub: "ckpt_owner" });
    const build = await createBuild(c, { metadata: INSTANT });
    const first = await c.request("POST", PATH, {
      build_id: build.build_id,
      idempotency_key: "deploy-42",
      reason: "pre_deploy",
    });
    expect(first.status).toBe(200);
    expect(first.body).toEqual({
      checkpoint_id: expect.any(String),
      replayed: false,
      status: expect.any(String),
      reason: "pre_deploy",
    });
    const second = await c.request("POST", PATH, {
      build_id: build.build_id,
      idempotency_key: "  deploy-42 ",
      reason: "pre_deploy",
    });
    expect(second.body).toEqual({ ...first.body, replayed: true });
    const cps = await checkpointsOf(c, build.build_id);
    expect(cps.filter((cp) => cp.checkpoint_id === first.body.checkpoint_id)).toHaveLength(1);
    expect(cps.filter((cp) => cp.reason === "pre_deploy")).toHaveLength(1);
  });

  it("defaults the reason to idempotent_checkpoint", async () => {
    const c = await caller({ sub: "ckpt_default" });
    const build = await createBuild(c, { metadata: INSTANT });
    const res = await c.request("POST", PATH, { build_id: build.build_id, idempotency_key: "k" });
    expect(res.body).toMatchObject({ reason: "idempotent_checkpoint", replayed: false });
  });

  it("422 idempotency_key_reused for the same key with a different reason", async () => {
    const c = await caller({ sub: "ckpt_conflict" });
    const build = await createBuild(c, { metadata: INSTANT });
    expect(
      (await c.request("POST", PATH, { build_id: build.build_id, idempotency_key: "k1", reason: "a" })).status,
    ).toBe(200);
    const res = await c.request("POST", PATH, { build_id: build.build_id, idempotency_key: "k1", reason: "b" });
    expect(res.status).toBe(422);
    expect(res.body.code).toBe("idempotency_key_reused");
  });

  it("422 invalid_idempotency_request for a blank key, before the build lookup", async () => {
    const c = await caller();
    const res = await c.request("POST", PATH, { build_id: crypto.randomUUID(), idempotency_key: "   " });
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ code: "invalid_idempotency_request", detail: "idempotency_key_required" });
  });

  it("404 build_not_found before 403 build_access_denied (ownership checked, also for replays)", async () => {
    const owner = await caller({ sub: "ckpt_a", org_id: "org_ck" });
    const other = await caller({ sub: "ckpt_b", org_id: "org_ck" });
    const build = await createBuild(owner, { metadata: INSTANT });
    expect((await other.request("POST", PATH, { build_id: crypto.randomUUID(), idempotency_key: "k" })).body.code).toBe(
      "build_not_found",
    );
    expect((await owner.request("POST", PATH, { build_id: build.build_id, idempotency_key: "shared" })).status).toBe(
      200,
    );
    const denied = await other.request("POST", PATH, { build_id: build.build_id, idempotency_key: "shared" });
    expect(denied.status).toBe(403);
    expect(denied.body.code).toBe("build_access_denied");
  });

  it("requires program.runtime.write", async () => {
    const viewer = await caller({ roles: ["viewer"] });
    const res = await viewer.request("POST", PATH, { build_id: crypto.randomUUID(), idempotency_key: "k" });
    expect(res.status).toBe(403);
    expect(res.body.code).toBe("insufficient_capability");
  });

  it("10 concurrent first requests create exactly one checkpoint", async () => {
    const c = await caller({ sub: "ckpt_conc" });
    const build = await createBuild(c, { metadata: INSTANT });
    const results = await Promise.all(
      Array.from({ length: 10 }, () =>
        c.request("POST", PATH, { build_id: build.build_id, idempotency_key: "race", reason: "race" }),
      ),
    );
    const ok = results.filter((r) => r.status === 200);
    expect(ok.filter((r) => r.body.replayed === false)).toHaveLength(1);
    for (const r of results) expect([200, 409]).toContain(r.status);
    expect(new Set(ok.map((r) => r.body.checkpoint_id)).size).toBe(1);
    expect((await checkpointsOf(c, build.build_id)).filter((cp) => cp.reason === "race")).toHaveLength(1);
  });

  it("the week12 alias shares the key scope and is marked deprecated", async () => {
    const c = await caller({ sub: "ckpt_alias" });
    const build = await createBuild(c, { metadata: INSTANT });
    const first = await c.request("POST", "/v1/program/week12/idempotent-checkpoints", {
      build_id: build.build_id,
      idempotency_key: "w",
    });
    expect(first.status).toBe(200);
    expect(first.headers.get("deprecation")).toBeTruthy();
    const canonical = await c.request("POST", PATH, { build_id: build.build_id, idempotency_key: "w" });
    expect(canonical.body).toEqual({ ...first.body, replayed: true });
  });
});
