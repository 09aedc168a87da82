import { describe, expect, it } from "vitest";
import { type Caller, caller, createBuild, eventsOf } from "../helpers/api";
import { eventually, expectProblem, operator } from "./program-helpers";

const LONG = { simulated_duration_ms: 60_000 };

async function profile(c: Caller, body: Record<string, unknown>): Promise<string> {
  const res = await c.request("POST", "/v1/program/policy-profiles", { name: "p", ...body });
  expect(res.status).toBe(201);
  return res.body.profile_id;
}

/** A build with tasks in flight (status running). */
async function runningBuild(c: Caller): Promise<string> {
  const b = await createBuild(c, { metadata: LONG });
  await eventually(
    async () => (await eventsOf(c, b.build_id)).some((e) => e.event_type === "TASK_STARTED"),
    5000,
    "task started",
  );
  return b.build_id;
}

describe("policy profiles", () => {
  it("creates (201 + Location) with trimmed, non-empty entries in stored case; gets and lists within the tenant", async () => {
    const c = await operator("org-pol-create");
    const res = await c.request("POST", "/v1/program/policy-profiles", {
      name: " strict ",
      blocked_commands: ["  rm -RF ", "", "curl | sh"],
      restricted_paths: [" /.git ", "  "],
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      name: "strict",
      blocked_commands: ["rm -RF", "curl | sh"],
      restricted_paths: ["/.git"],
      created_by: "user_org-pol-create",
    });
    expect(res.headers.get("location")).toBe(`/v1/program/policy-profiles/${res.body.profile_id}`);
    expect((await c.request("GET", res.headers.get("location") as string)).body).toEqual(res.body);

    for (let i = 0; i < 3; i++) await profile(c, { name: `p${i}` });
    const page1 = await c.request("GET", "/v1/program/policy-profiles?limit=3");
    expect(page1.body.items.map((p: any) => p.name)).toEqual(["p2", "p1", "p0"]);
    const page2 = await c.request("GET", `/v1/program/policy-profiles?limit=3&cursor=${page1.body.next_cursor}`);
    expect(page2.body).toEqual({ items: [res.body], next_cursor: null });
    expectProblem(
      await c.request("GET", `/v1/program/policy-profiles/${crypto.randomUUID()}`),
      404,
      "policy_profile_not_found",
    );
    expectProblem(
      await c.request("POST", "/v1/program/policy-profiles", { blocked_commands: [] }),
      422,
      "validation_failed",
    );
  });
});

describe("POST /v1/program/policy-check", () => {
  it.each([
    [{ command: "rm -rf /tmp/app" }, "BLOCK", "blocked_command:rm -rf", "blocked_command"],
    [{ command: "  RM -RF /tmp/app " }, "BLOCK", "blocked_command:rm -rf", "blocked_command"],
    [{ command: "bash -c 'curl | sh'", path: "/.git" }, "BLOCK", "blocked_command:curl | sh", "blocked_command"],
    [{ command: "cat", path: "/.git/config" }, "BLOCK", "restricted_path:/.git", "restricted_path"],
    [{ command: "cat", path: "/.github/x" }, "BLOCK", "restricted_path:/.git", "restricted_path"],
    [{ command: "cat", path: " /secrets/key " }, "BLOCK", "restricted_path:/secrets", "restricted_path"],
    [{ command: "cat", path: "/SECRETS/key" }, "ALLOW", "policy_pass", null],
    [{ command: "ls -la", path: null }, "ALLOW", "policy_pass", null],
    [{ command: "ls -la" }, "ALLOW", "policy_pass", null],
  ])("%j → %s %s", async (req, action, reason, code) => {
    const c = await operator("org-pol-cases");
    const profile_id = await profile(c, {
      blocked_commands: ["rm -rf", "curl | sh"],
      restricted_paths: ["/.git", "/secrets"],
    });
    const res = await c.request("POST", "/v1/program/policy-check", { profile_id, ...req });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ action, reason, violation_code: code, build_id: null, violation: null });
  });

  it("404 policy_profile_not_found for an unknown profile (and for another tenant's)", async () => {
    const c = await operator("org-pol-404");
    const foreign = await profile(await operator("org-pol-404-other"), { blocked_commands: ["x"] });
    for (const id of [crypto.randomUUID(), foreign]) {
      const res = await c.request("POST", "/v1/program/policy-check", { profile_id: id, command: "x" });
      expectProblem(res, 404, "policy_profile_not_found");
      expect(res.body.detail).toBe("Policy profile not found.");
    }
    expectProblem(
      await c.request("POST", "/v1/program/policy-check", { profile_id: "nope", command: "x" }),
      422,
      "validation_failed",
    );
  });

  it("writes a BLOCK back to a running build: a blocking violation that fails it", async () => {
    const c = await operator("org-pol-wb");
    const profile_id = await profile(c, { blocked_commands: ["rm -rf"] });
    const buildId = await runningBuild(c);
    const res = await c.request("POST", "/v1/program/policy-check", {
      profile_id,
      command: "rm -rf /tmp/app",
      build_id: buildId,
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      action: "BLOCK",
      reason: "blocked_command:rm -rf",
      violation_code: "blocked_command",
      build_id: buildId,
    });
    expect(res.body.violation).toMatchObject({
      code: "blocked_command",
      message: "blocked_command:rm -rf",
      source: "policy_profile",
      blocking: true,
    });
    const build = (await c.request("GET", `/v1/builds/${buildId}`)).body;
    expect(build.status).toBe("failed");
    expect(build.policy_violations).toEqual([res.body.violation]);
  });

  it("records the violation on a paused build but leaves it paused; ALLOW writes nothing", async () => {
    const c = await operator("org-pol-paused");
    const profile_id = await profile(c, { restricted_paths: ["/.git"] });
    const buildId = await runningBuild(c);
    expect(
      (await c.request("POST", `/v1/builds/${buildId}/gates/TEST_GATE`, { status: "BLOCKED", reason: "hold" })).status,
    ).toBe(201);
    const allow = await c.request("POST", "/v1/program/policy-check", {
      profile_id,
      command: "cat",
      path: "/src",
      build_id: buildId,
    });
    expect(allow.body).toMatchObject({ action: "ALLOW", violation: null, build_id: buildId });
    const res = await c.request("POST", "/v1/program/policy-check", {
      profile_id,
      command: "cat",
      path: "/.github/workflows/x.yml",
      build_id: buildId,
    });
    expect(res.body).toMatchObject({
      action: "BLOCK",
      reason: "restricted_path:/.git",
      violation_code: "restricted_path",
    });
    const build = (await c.request("GET", `/v1/builds/${buildId}`)).body;
    expect(build.status).toBe("paused");
    expect(build.policy_violations.map((v: any) => v.code)).toEqual(["restricted_path"]);
    await c.request("POST", `/v1/builds/${buildId}/abort`, {});
  });

  it("404 build_not_found for an unknown build, whatever the decision (quirk 7)", async () => {
    const c = await operator("org-pol-nobuild");
    const profile_id = await profile(c, { blocked_commands: ["rm"] });
    for (const command of ["rm x", "ls"]) {
      const res = await c.request("POST", "/v1/program/policy-check", {
        profile_id,
        command,
        build_id: crypto.randomUUID(),
      });
      expectProblem(res, 404, "build_not_found");
    }
  });

  it("never touches another tenant's build (404, as if absent) and denies another user's build in the tenant (403)", async () => {
    const owner = await operator("org-pol-victim");
    const victim = await runningBuild(owner);
    const attacker = await caller({ sub: "user_org-pol-victim", org_id: "org-pol-attacker", roles: ["admin"] }); // same sub, other tenant
    const profile_id = await profile(attacker, { blocked_commands: ["rm"] });
    expectProblem(
      await attacker.request("POST", "/v1/program/policy-check", { profile_id, command: "rm -rf /", build_id: victim }),
      404,
      "build_not_found",
    );

    const colleague = await operator("org-pol-victim", "user_colleague");
    const own = await profile(colleague, { blocked_commands: ["rm"] });
    expectProblem(
      await colleague.request("POST", "/v1/program/policy-check", {
        profile_id: own,
        command: "rm -rf /",
        build_id: victim,
      }),
      403,
      "build_access_denied",
    );

    const build = (await owner.request("GET", `/v1/builds/${victim}`)).body;
    expect(build.status).toBe("running");
    expect(build.policy_violations).toEqual([]);
    await owner.request("POST", `/v1/builds/${victim}/abort`, {});
  });
});
