/**
 * The audit log (issue 17 item 13): every listed state-changing action, performed through the
 * real app, leaves exactly one audit entry with its actor, action, target and outcome, written
 * with the change; GET /v1/audit is for tenant admins only, tenant-isolated, keyset-paged and
 * filterable; nothing writes, changes or deletes an entry through the API (and D1 refuses it).
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/http/app";
import { BuildRunner } from "../../src/builds/build-runner.do";
import { loadConfig } from "../../src/kernel/env";
import { caller, createBuild, raw } from "../helpers/api";
import { authHeaders, tokenFor } from "../helpers/auth";
import { fetchWith } from "../security/helpers";

interface AuditRow {
  seq: number;
  tenant_id: string;
  actor_sub: string;
  actor_roles: string;
  action: string;
  target_type: string;
  target_id: string;
  request_id: string;
  outcome: string;
  detail: string;
  created_at: string;
}

const uniq = (p: string) => `${p}-${crypto.randomUUID()}`;
const LONG = { simulated_duration_ms: 60_000 };

async function auditRows(tenant: string, action: string, targetId?: string): Promise<AuditRow[]> {
  const sql = `SELECT * FROM audit_log WHERE tenant_id = ?1 AND action = ?2${targetId === undefined ? "" : " AND target_id = ?3"} ORDER BY seq`;
  const stmt = env.DB.prepare(sql);
  const res = await (targetId === undefined
    ? stmt.bind(tenant, action)
    : stmt.bind(tenant, action, targetId)
  ).all<AuditRow>();
  return res.results;
}

/** Exactly one entry for (tenant, action, target), with this actor and outcome success. */
async function expectOne(
  tenant: string,
  action: string,
  target: { type: string; id: string },
  actor: { sub: string; roles: string[] },
  requestId?: string | null,
) {
  const rows = await auditRows(tenant, action, target.id);
  expect(rows).toHaveLength(1);
  const row = rows[0]!;
  expect(row).toMatchObject({
    tenant_id: tenant,
    actor_sub: actor.sub,
    action,
    target_type: target.type,
    target_id: target.id,
    outcome: "success",
  });
  expect(JSON.parse(row.actor_roles)).toEqual(actor.roles);
  if (requestId) expect(row.request_id).toBe(requestId);
  else expect(row.request_id).not.toBe("unknown");
  return { ...row, detail: JSON.parse(row.detail) as Record<string, unknown> };
}

describe("audit log: build control actions", () => {
  it("abort, checkpoint, debt, violation, gate, resume, replan each leave one entry with the actor", async () => {
    const org = uniq("org-audit-build");
    const actor = { sub: "ctl-operator", roles: ["operator"] };
    const c = await caller({ sub: actor.sub, roles: actor.roles, org_id: org });
    const build = await createBuild(c, { metadata: LONG });
    const id = build.build_id as string;
    const target = { type: "build", id };

    const cp = await c.request("POST", `/v1/builds/${id}/checkpoints`, { reason: "before change" });
    expect(cp.status).toBe(201);
    expect((await expectOne(org, "build.checkpoint", target, actor, cp.headers.get("x-request-id"))).detail).toEqual({
      reason: "before change",
    });

    const debt = await c.request("POST", `/v1/builds/${id}/debt`, {
      node_id: "scanner",
      summary: "todo",
      severity: "low",
    });
    expect(debt.status).toBe(201);
    expect((await expectOne(org, "build.debt", target, actor, debt.headers.get("x-request-id"))).detail).toEqual({
      node_id: "scanner",
      severity: "low",
    });

    const violation = await c.request("POST", `/v1/builds/${id}/policy-violations`, {
      code: "NO_SECRETS",
      message: "m",
      blocking: false,
    });
    expect(violation.status).toBe(201);
    await expectOne(org, "build.violation", target, actor, violation.headers.get("x-request-id"));

    const replan = await c.request("POST", `/v1/builds/${id}/replan`, { action: "CONTINUE", reason: "fine" });
    expect(replan.status).toBe(201);
    await expectOne(org, "build.replan", target, actor, replan.headers.get("x-request-id"));

    const gate = await c.request("POST", `/v1/builds/${id}/gates/TEST_GATE`, { status: "BLOCKED", reason: "hold" });
    expect(gate.status).toBe(201);
    expect((await expectOne(org, "build.gate", target, actor, gate.headers.get("x-request-id"))).detail).toMatchObject({
      gate: "TEST_GATE",
      status: "BLOCKED",
    });
    expect((await c.request("GET", `/v1/builds/${id}`)).body.status).toBe("paused");

    const resume = await c.request("POST", `/v1/builds/${id}/resume`, { reason: "go on" });
    expect(resume.status).toBe(200);
    expect((await expectOne(org, "build.resume", target, actor, resume.headers.get("x-request-id"))).detail).toEqual({
      reason: "go on",
    });

    const abort = await c.request("POST", `/v1/builds/${id}/abort`, { reason: "stop it" });
    expect(abort.status).toBe(200);
    expect((await expectOne(org, "build.abort", target, actor, abort.headers.get("x-request-id"))).detail).toEqual({
      reason: "stop it",
    });

    // An idempotent repeat changes nothing and records nothing; a refused action records nothing.
    expect((await c.request("POST", `/v1/builds/${id}/abort`, {})).status).toBe(200);
    expect(await auditRows(org, "build.abort", id)).toHaveLength(1);
    expect((await c.request("POST", `/v1/builds/${id}/resume`, {})).status).toBe(409);
    expect(await auditRows(org, "build.resume", id)).toHaveLength(1);
  });

  it("an admin acting on a member's build is the recorded actor", async () => {
    const org = uniq("org-audit-admin-abort");
    const owner = await caller({ sub: "member", roles: ["operator"], org_id: org });
    const admin = await caller({ sub: "boss", roles: ["admin"], org_id: org });
    const build = await createBuild(owner, { metadata: LONG });
    expect((await admin.request("POST", `/v1/builds/${build.build_id}/abort`, {})).status).toBe(200);
    const row = await expectOne(
      org,
      "build.abort",
      { type: "build", id: build.build_id },
      { sub: "boss", roles: ["admin"] },
    );
    expect(row.detail).toEqual({ reason: null });
  });
});

describe("audit log: secrets", () => {
  const KEY_V1 = (JSON.parse(env.SECRETS_KEYRING!) as Record<string, string>)["1"]!;
  const RING_V1_V2 = JSON.stringify({ "1": KEY_V1, "2": "AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=" });

  it("create, rotate (one and all) and delete each leave one entry; a duplicate name leaves none", async () => {
    const org = uniq("org-audit-secrets");
    const actor = { sub: "sec-user", roles: ["security"] };
    const c = await caller({ ...actor, org_id: org });
    const created = await c.request("POST", "/v1/program/secrets", {
      name: "API_TOKEN",
      value: "super-secret-value-123",
    });
    expect(created.status).toBe(201);
    const id = created.body.secret_id as string;
    const row = await expectOne(
      org,
      "secret.create",
      { type: "secret", id },
      actor,
      created.headers.get("x-request-id"),
    );
    expect(row.detail).toEqual({ name: "API_TOKEN", key_version: 1 });
    // The value never reaches the audit log.
    expect(JSON.stringify(await auditRows(org, "secret.create"))).not.toContain("super-secret");

    expect(
      (await c.request("POST", "/v1/program/secrets", { name: "API_TOKEN", value: "other-value-12345" })).status,
    ).toBe(409);
    expect(await auditRows(org, "secret.create")).toHaveLength(1);

    const other = await c.request("POST", "/v1/program/secrets", { name: "OTHER", value: "other-value-12345" });
    const token = await tokenFor({ ...actor, org_id: org });
    const rotate = await fetchWith({ SECRETS_KEYRING: RING_V1_V2 }, `/v1/program/secrets/${id}/rotate`, {
      method: "POST",
      headers: authHeaders(token),
    });
    expect(rotate.status).toBe(200);
    expect(
      (await expectOne(org, "secret.rotate", { type: "secret", id }, actor, rotate.headers.get("x-request-id"))).detail,
    ).toEqual({ from_key_version: 1, key_version: 2 });
    // Rotating again is a no-op (already on the newest version): no second entry.
    expect(
      (
        await fetchWith({ SECRETS_KEYRING: RING_V1_V2 }, `/v1/program/secrets/${id}/rotate`, {
          method: "POST",
          headers: authHeaders(token),
        })
      ).status,
    ).toBe(200);
    expect(await auditRows(org, "secret.rotate", id)).toHaveLength(1);

    const all = await fetchWith({ SECRETS_KEYRING: RING_V1_V2 }, "/v1/program/secrets/rotate", {
      method: "POST",
      headers: authHeaders(token),
    });
    expect(await all.json()).toEqual({ key_version: 2, rotated: 1, remaining: 0 });
    await expectOne(
      org,
      "secret.rotate",
      { type: "secret", id: other.body.secret_id },
      actor,
      all.headers.get("x-request-id"),
    );

    const del = await c.request("DELETE", `/v1/program/secrets/${id}`);
    expect(del.status).toBe(204);
    await expectOne(org, "secret.delete", { type: "secret", id }, actor, del.headers.get("x-request-id"));
    expect((await c.request("DELETE", `/v1/program/secrets/${id}`)).status).toBe(404);
    expect(await auditRows(org, "secret.delete", id)).toHaveLength(1);
  });
});

describe("audit log: policies", () => {
  it("planner policy create, create+activate and activate record policy.write / policy.activate with the version", async () => {
    const org = uniq("org-audit-planner");
    const actor = { sub: "pol-op", roles: ["operator"] };
    const c = await caller({ ...actor, org_id: org });
    const first = await c.request("POST", "/v1/planner/policies", { description: "one", document: {} });
    expect([first.status, first.body.version]).toEqual([201, 1]);
    await expectOne(org, "policy.write", { type: "planner_policy", id: "1" }, actor, first.headers.get("x-request-id"));
    expect(await auditRows(org, "policy.activate")).toHaveLength(0);

    const second = await c.request("POST", "/v1/planner/policies", {
      description: "two",
      document: {},
      activate: true,
    });
    expect([second.status, second.body.version]).toEqual([201, 2]);
    await expectOne(
      org,
      "policy.write",
      { type: "planner_policy", id: "2" },
      actor,
      second.headers.get("x-request-id"),
    );
    await expectOne(
      org,
      "policy.activate",
      { type: "planner_policy", id: "2" },
      actor,
      second.headers.get("x-request-id"),
    );

    const act = await c.request("POST", "/v1/planner/policies/1/activate");
    expect(act.status).toBe(200);
    expect(
      (
        await expectOne(
          org,
          "policy.activate",
          { type: "planner_policy", id: "1" },
          actor,
          act.headers.get("x-request-id"),
        )
      ).detail,
    ).toEqual({ previous_version: 2 });
    // Activating the active version again changes nothing and records nothing.
    expect((await c.request("POST", "/v1/planner/policies/1/activate")).status).toBe(200);
    expect(await auditRows(org, "policy.activate", "1")).toHaveLength(1);
  });

  it("a policy profile write records policy.write on the profile", async () => {
    const org = uniq("org-audit-profile");
    const actor = { sub: "sec-prof", roles: ["security"] };
    const c = await caller({ ...actor, org_id: org });
    const res = await c.request("POST", "/v1/program/policy-profiles", {
      name: "strict",
      blocked_commands: ["rm -rf"],
      restricted_paths: ["/etc"],
    });
    expect(res.status).toBe(201);
    expect(
      (
        await expectOne(
          org,
          "policy.write",
          { type: "policy_profile", id: res.body.profile_id },
          actor,
          res.headers.get("x-request-id"),
        )
      ).detail,
    ).toEqual({ name: "strict" });
  });
});

describe("audit log: release readiness", () => {
  it("checklist and drill writes and the go/no-go decision each leave one entry per write", async () => {
    const org = uniq("org-audit-release");
    const actor = { sub: "rel-op", roles: ["operator"] };
    const c = await caller({ ...actor, org_id: org });
    const target = { type: "release", id: "v1.2.3" };
    const cl = await c.request("POST", "/v1/program/checklist", { release_id: "v1.2.3", security_review: true });
    expect(cl.status).toBe(201);
    await expectOne(org, "release.checklist_write", target, actor, cl.headers.get("x-request-id"));
    const drill = await c.request("POST", "/v1/program/rollback-drills", {
      release_id: "v1.2.3",
      passed: true,
      duration_minutes: 5,
    });
    expect(drill.status).toBe(201);
    expect(
      (await expectOne(org, "release.drill_write", target, actor, drill.headers.get("x-request-id"))).detail,
    ).toEqual({ passed: true });
    const go = await c.request("POST", "/v1/program/go-live-decision", {
      release_id: "v1.2.3",
      validation_release_ready: true,
    });
    expect(go.status).toBe(201);
    expect((await expectOne(org, "release.go_no_go", target, actor, go.headers.get("x-request-id"))).detail).toEqual({
      status: go.body.status,
    });
    // A replacement is another change: another entry.
    expect((await c.request("POST", "/v1/program/checklist", { release_id: "v1.2.3" })).status).toBe(200);
    expect(await auditRows(org, "release.checklist_write", "v1.2.3")).toHaveLength(2);
  });
});

describe("audit log: dead-letter re-drive", () => {
  const LIMIT = loadConfig(env).RUNTIME_DEAD_LETTER_AFTER_FAILURES;

  it("a re-drive records dead_letter.redrive on the build with the operator", async () => {
    const org = uniq("org-audit-dl");
    const actor = { sub: "dl-audit-op", roles: ["operator"] };
    const c = await caller({ ...actor, org_id: org });
    const build = await createBuild(c, { metadata: { simulated_duration_ms: 0, test_poison_ticks: true } });
    const stub = env.BUILD_RUNNER.get(env.BUILD_RUNNER.idFromName(build.build_id));
    let dead = false;
    for (let i = 0; i < LIMIT + 5 && !dead; i++) {
      dead = await runInDurableObject(stub, async (instance, state) => {
        if (!(instance instanceof BuildRunner)) throw new Error("not a BuildRunner");
        await instance.alarm().catch(() => undefined);
        return (await state.storage.get<{ dead: boolean }>("ops:alarm_health"))?.dead ?? false;
      });
    }
    expect(dead).toBe(true);
    const res = await c.request("POST", `/v1/ops/dead-letters/${build.build_id}/redrive`);
    expect(res.status).toBe(200);
    const row = await expectOne(
      org,
      "dead_letter.redrive",
      { type: "build", id: build.build_id },
      actor,
      res.headers.get("x-request-id"),
    );
    expect(row.detail).toEqual({ was_dead_lettered: true });
  });
});

describe("audit log: development token mints", () => {
  it("a mint records dev_token.mint in the token's tenant", async () => {
    const app = createApp();
    const sub = uniq("dev-audit");
    const res = await app.request(
      "http://127.0.0.1:8787/v1/dev/token",
      { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ role: "admin", sub }) },
      { ...env, ENVIRONMENT: "development" } as Env,
    );
    expect(res.status).toBe(200);
    const row = await expectOne(
      sub,
      "dev_token.mint",
      { type: "dev_token", id: sub },
      { sub: "local-dev", roles: [] },
      res.headers.get("x-request-id"),
    );
    expect(row.detail).toMatchObject({ role: "admin" });
    // The minted admin token reads its own tenant's log, mint included.
    const { token } = (await res.json()) as { token: string };
    const list = await app.request("http://127.0.0.1:8787/v1/audit", { headers: authHeaders(token) }, {
      ...env,
      ENVIRONMENT: "development",
    } as Env);
    expect(list.status).toBe(200);
    expect(((await list.json()) as { items: { action: string }[] }).items.map((i) => i.action)).toEqual([
      "dev_token.mint",
    ]);
  });
});

describe("GET /v1/audit", () => {
  async function seeded(org: string, n: number) {
    const c = await caller({ sub: "seed-op", roles: ["operator"], org_id: org });
    for (let i = 0; i < n; i++)
      expect((await c.request("POST", "/v1/program/checklist", { release_id: `r${i}` })).status).toBe(201);
    return c;
  }

  it("is for tenant admins only: 403 problem+json for everyone else", async () => {
    const org = uniq("org-audit-403");
    await seeded(org, 1);
    for (const roles of [["operator"], ["viewer"], ["security"], ["operator", "security"]]) {
      const c = await caller({ roles, org_id: org });
      const res = await c.request("GET", "/v1/audit");
      expect([res.status, res.body.code]).toEqual([403, "insufficient_capability"]);
      expect(res.headers.get("content-type")).toBe("application/problem+json");
    }
    const admin = await caller({ roles: ["admin"], org_id: org });
    expect((await admin.request("GET", "/v1/audit")).status).toBe(200);
    expect((await raw("/v1/audit")).status).toBe(401);
  });

  it("shows only the caller's tenant", async () => {
    const a = uniq("org-audit-a");
    const b = uniq("org-audit-b");
    await seeded(a, 2);
    await seeded(b, 3);
    const adminA = await caller({ sub: "admin-a", roles: ["admin"], org_id: a });
    const adminB = await caller({ sub: "admin-b", roles: ["admin"], org_id: b });
    const pageA = await adminA.request("GET", "/v1/audit?limit=200");
    const pageB = await adminB.request("GET", "/v1/audit?limit=200");
    expect(pageA.body.items).toHaveLength(2);
    expect(pageB.body.items).toHaveLength(3);
    expect(pageA.body.items.every((i: { tenant_id: string }) => i.tenant_id === a)).toBe(true);
    expect(pageB.body.items.every((i: { tenant_id: string }) => i.tenant_id === b)).toBe(true);
    // A filter on another tenant's target finds nothing.
    expect((await adminA.request("GET", "/v1/audit?target=release:r2")).body.items).toEqual([]);
  });

  it("pages newest first with a keyset cursor, without gaps or repeats", async () => {
    const org = uniq("org-audit-page");
    await seeded(org, 5);
    const admin = await caller({ roles: ["admin"], org_id: org });
    const seen: number[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res: { status: number; body: { items: { seq: number }[]; next_cursor: string | null } } =
        await admin.request("GET", `/v1/audit?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
      expect(res.status).toBe(200);
      expect(res.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...res.body.items.map((i) => i.seq));
      cursor = res.body.next_cursor;
      pages++;
    } while (cursor !== null && pages < 10);
    expect(pages).toBe(3);
    expect(seen).toHaveLength(5);
    expect([...seen].sort((x, y) => y - x)).toEqual(seen);
    expect(new Set(seen).size).toBe(5);
    const bad = await admin.request("GET", "/v1/audit?cursor=not-a-cursor");
    expect([bad.status, bad.body.code]).toEqual([422, "validation_failed"]);
  });

  it("filters by actor, action and target", async () => {
    const org = uniq("org-audit-filter");
    const alice = await caller({ sub: "alice", roles: ["operator"], org_id: org });
    const bob = await caller({ sub: "bob", roles: ["operator"], org_id: org });
    expect((await alice.request("POST", "/v1/program/checklist", { release_id: "rel-a" })).status).toBe(201);
    expect(
      (
        await bob.request("POST", "/v1/program/rollback-drills", {
          release_id: "rel-a",
          passed: false,
          duration_minutes: 1,
        })
      ).status,
    ).toBe(201);
    expect((await bob.request("POST", "/v1/program/checklist", { release_id: "rel-b" })).status).toBe(201);
    const admin = await caller({ roles: ["admin"], org_id: org });
    const q = async (qs: string) =>
      (await admin.request("GET", `/v1/audit?${qs}`)).body.items.map(
        (i: any) => `${i.actor.sub} ${i.action} ${i.target_type}:${i.target_id}`,
      );
    expect(await q("actor=bob")).toEqual([
      "bob release.checklist_write release:rel-b",
      "bob release.drill_write release:rel-a",
    ]);
    expect(await q("action=release.checklist_write")).toEqual([
      "bob release.checklist_write release:rel-b",
      "alice release.checklist_write release:rel-a",
    ]);
    expect(await q("target=release:rel-a")).toEqual([
      "bob release.drill_write release:rel-a",
      "alice release.checklist_write release:rel-a",
    ]);
    expect(await q("target=release&actor=alice")).toEqual(["alice release.checklist_write release:rel-a"]);
    expect(await q("target=secret")).toEqual([]);
    const bad = await admin.request("GET", "/v1/audit?action=build.explode");
    expect([bad.status, bad.body.code]).toEqual([422, "validation_failed"]);
  });

  it("is never writable through the API, and D1 refuses updates and deletes", async () => {
    const org = uniq("org-audit-ro");
    await seeded(org, 1);
    const admin = await caller({ roles: ["admin"], org_id: org });
    const before = await admin.request("GET", "/v1/audit");
    expect(before.body.items).toHaveLength(1);
    const seq = before.body.items[0].seq;
    for (const [method, path] of [
      ["POST", "/v1/audit"],
      ["PUT", "/v1/audit"],
      ["PATCH", "/v1/audit"],
      ["DELETE", "/v1/audit"],
      ["PUT", `/v1/audit/${seq}`],
      ["DELETE", `/v1/audit/${seq}`],
      ["POST", `/v1/audit/${seq}`],
    ]) {
      const res = await raw(path!, {
        method,
        headers: { ...authHeaders(admin.token), "content-type": "application/json" },
        body: method === "DELETE" ? undefined : JSON.stringify({ action: "secret.delete" }),
      });
      expect([404, 405]).toContain(res.status);
      expect(res.headers.get("content-type")).toBe("application/problem+json");
    }
    expect((await admin.request("GET", "/v1/audit")).body).toEqual(before.body);
    await expect(
      env.DB.prepare("UPDATE audit_log SET actor_sub = 'someone-else' WHERE seq = ?1").bind(seq).run(),
    ).rejects.toThrow(/audit_log_append_only/);
    await expect(env.DB.prepare("DELETE FROM audit_log WHERE seq = ?1").bind(seq).run()).rejects.toThrow(
      /audit_log_append_only/,
    );
    expect((await admin.request("GET", "/v1/audit")).body).toEqual(before.body);
  });
});
