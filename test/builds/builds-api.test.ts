import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { drizzle } from "drizzle-orm/d1";
import { INSTANT, type Caller, caller, createBuild, waitForStatus } from "../helpers/api";
import { viewFromRow } from "../../src/builds/build-view";
import { getBuildView } from "../../src/builds/builds.repo";

/** GET /v1/builds/{id} (the runner's view, kept from its own commits) equals the view read from D1. */
async function expectSameAsD1(c: Caller, id: string) {
  const served = (await c.request("GET", `/v1/builds/${id}`)).body;
  const row = await getBuildView(drizzle(env.DB), id);
  expect(row).not.toBeNull();
  expect(served).toEqual(viewFromRow(row!).run);
  return served;
}

const ids = (dag: any[]) => dag.map((n) => n.node_id);

describe("POST /v1/builds/preview-dag and planning through HTTP", () => {
  it("previews the deterministic DAG without creating a build", async () => {
    const c = await caller({ sub: "user_preview" });
    const res = await c.request("POST", "/v1/builds/preview-dag", {
      repo_url: "r",
      metadata: { scan_mode: " Tier1 " },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      scan_mode: "deterministic",
      planner_trace: { profile: "deterministic_default_v1" },
      dag_levels: [["deterministic-scan"], ["deterministic-summary"]],
    });
    expect(ids(res.body.dag)).toEqual(["deterministic-scan", "deterministic-summary"]);
    expect((await c.request("GET", "/v1/builds")).body.items).toEqual([]);
  });

  it("plans the adaptive DAG from the intake (duplicate slugs, sensitive data, UI scale strings)", async () => {
    const c = await caller({ sub: "user_adaptive" });
    const intake = {
      must_not_break_flows: ["Checkout flow", "checkout-flow", "Sign up & login!!", "  "],
      sensitive_data: ["pii"],
      scale_expectation: "Enterprise / high traffic",
    };
    const res = await c.request("POST", "/v1/builds/preview-dag", {
      repo_url: "r",
      metadata: { autonomous_planner_profile: "adaptive", project_intake: intake },
    });
    expect(res.status).toBe(200);
    expect(ids(res.body.dag)).toEqual([
      "scanner",
      "dependency-audit",
      "architecture-review",
      "test-baseline",
      "dynamic-probe",
      "security-review",
      "flow-guard-checkout-flow",
      "flow-guard-sign-up-login",
      "data-boundary-review",
      "scale-readiness-check",
      "planner",
    ]);
    expect(res.body.planner_trace).toEqual({
      profile: "adaptive_parallel_v1",
      flow_guards: 2,
      sensitive_data_review: true,
      scale_readiness_check: true,
    });
    expect(res.body.planner_profile).toBe("adaptive_parallel_v1");
    for (const [scale, expected] of [
      ["MVP / low traffic", false],
      ["Early growth", false],
      ["Expected rapid growth", true],
      ["Enterprise / high traffic", true],
      ["Not sure", false],
    ] as const) {
      const r = await c.request("POST", "/v1/builds/preview-dag", {
        repo_url: "r",
        metadata: { autonomous_planner_profile: "adaptive_parallel_v1", project_intake: { scale_expectation: scale } },
      });
      expect(ids(r.body.dag).includes("scale-readiness-check"), scale).toBe(expected);
    }
  });

  it("uses a valid agentic blueprint and runs it to completion", async () => {
    const c = await caller({ sub: "user_agentic" });
    const blueprint = [
      { node_id: "scan", title: "Scan", agent: "Scanner" },
      { node_id: "plan", title: "Plan", agent: "planner", depends_on: ["scan"], gate: "merge_gate" },
    ];
    const build = await createBuild(c, {
      metadata: { ...INSTANT, autonomous_planner_profile: "agentic", planner_dag_blueprint: JSON.stringify(blueprint) },
    });
    expect(ids(build.dag)).toEqual(["scan", "plan"]);
    expect(build.dag[1]).toMatchObject({ agent: "planner", gate: "MERGE_GATE" });
    expect(build.metadata.planner_trace).toMatchObject({
      profile: "agentic_llm_v1",
      source: "planner_dag_blueprint",
      node_count: 2,
    });
    const done = await waitForStatus(c, build.build_id);
    expect(done.status).toBe("completed");
    expect(done.gate_history.map((g: any) => [g.gate, g.status])).toEqual([["MERGE_GATE", "PASS"]]);
  });

  it("each node of a build carries the level the planner gave it (the dashboard draws them as is)", async () => {
    const c = await caller({ sub: "user_levels" });
    const dag = [
      { node_id: "d", title: "D", agent: "x", depends_on: ["b", "c"] },
      { node_id: "a", title: "A", agent: "x" },
      { node_id: "b", title: "B", agent: "x", depends_on: ["a"] },
      { node_id: "c", title: "C", agent: "x", depends_on: ["a"] },
    ];
    const build = await createBuild(c, { dag, metadata: INSTANT });
    const levels = (b: any) => Object.fromEntries(b.dag.map((n: any) => [n.node_id, n.level]));
    expect(levels(build)).toEqual({ a: 0, b: 1, c: 1, d: 2 });
    const done = await waitForStatus(c, build.build_id);
    expect(levels(await expectSameAsD1(c, done.build_id))).toEqual({ a: 0, b: 1, c: 1, d: 2 });
  });

  it.each([
    [
      [
        { node_id: "a", title: "A", agent: "x", depends_on: ["b"] },
        { node_id: "b", title: "B", agent: "x", depends_on: ["a"] },
      ],
      "dag_cycle_detected",
    ],
    [[{ node_id: "a", title: "A", agent: "x", depends_on: ["ghost"] }], "missing_dependency:ghost"],
    [
      [
        { node_id: "a", title: "A", agent: "x" },
        { node_id: "a", title: "A2", agent: "x" },
      ],
      "duplicate_node_id:a",
    ],
    [[{ node_id: "a", title: "A", agent: "x", depends_on: ["a"] }], "self_dependency:a"],
  ])("rejects an invalid custom DAG with 422 invalid_dag %#", async (dag, message) => {
    const c = await caller({ sub: "user_invalid" });
    for (const path of ["/v1/builds", "/v1/builds/preview-dag"]) {
      const res = await c.request("POST", path, { repo_url: "r", dag });
      expect(res.status).toBe(422);
      expect(res.headers.get("content-type")).toBe("application/problem+json");
      expect(res.body).toMatchObject({ code: "invalid_dag", detail: message });
    }
    expect((await c.request("GET", "/v1/builds")).body.items).toEqual([]);
  });
});

describe("GET /v1/builds", () => {
  it("filters by status and pages with a keyset cursor, newest first", async () => {
    const c = await caller({ sub: "user_paging" });
    const made: string[] = [];
    for (let i = 0; i < 5; i++) made.push((await createBuild(c, { metadata: INSTANT })).build_id);
    const failed = await createBuild(c, {
      metadata: { ...INSTANT, runner_results: { scanner: { status: "failed" } } },
    });
    for (const id of [...made, failed.build_id]) await waitForStatus(c, id);

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: any = await c.request("GET", `/v1/builds?limit=2${cursor ? `&cursor=${cursor}` : ""}`);
      expect(res.status).toBe(200);
      expect(res.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...res.body.items.map((b: any) => b.build_id));
      cursor = res.body.next_cursor;
    } while (cursor);
    expect(seen).toHaveLength(6);
    expect(new Set(seen).size).toBe(6);
    expect(seen[0]).toBe(failed.build_id);

    const onlyFailed = await c.request("GET", "/v1/builds?status=failed");
    expect(onlyFailed.body.items.map((b: any) => b.build_id)).toEqual([failed.build_id]);
    expect(onlyFailed.body.items[0]).toMatchObject({ task_total: 1, task_completed: 0, task_failed: 1 });
    const bad = await c.request("GET", "/v1/builds?cursor=%%%");
    expect(bad.status).toBe(422);
  });
});

describe("GET /v1/builds/:id/events/history", () => {
  it("pages by seq with cursor and limit", async () => {
    const c = await caller({ sub: "user_history" });
    const build = await createBuild(c, { metadata: INSTANT });
    await waitForStatus(c, build.build_id);
    const first = await c.request("GET", `/v1/builds/${build.build_id}/events/history?cursor=0&limit=5`);
    expect(first.body.items.map((e: any) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(first.body.items[0].event_type).toBe("BUILD_STATUS_CHANGED");
    expect(first.body.next_cursor).toBe(5);
    const next = await c.request("GET", `/v1/builds/${build.build_id}/events/history?cursor=5&limit=3`);
    expect(next.body.items.map((e: any) => e.seq)).toEqual([6, 7, 8]);
    const bad = await c.request("GET", `/v1/builds/${build.build_id}/events/history?limit=0`);
    expect(bad.status).toBe(422);
  });
});

describe("GET /v1/builds/:id (one-statement view)", () => {
  it("returns every collection in order and in the same shape as its own list endpoint", async () => {
    const c = await caller({ sub: "user_view" });
    const build = await createBuild(c, { metadata: { simulated_duration_ms: 60_000 } });
    const b = `/v1/builds/${build.build_id}`;
    // Read (and so cache in the runner) before every write below: each write must drop that view.
    expect((await c.request("GET", b)).body.debt_items).toEqual([]);
    expect((await c.request("GET", b)).body.debt_items).toEqual([]);
    for (const [path, body] of [
      ["/debt", { node_id: "scanner", summary: "first debt", severity: "low" }],
      ["/debt", { node_id: "planner", summary: "second — ünïcödé ✓", severity: "high" }],
      ["/policy-violations", { code: "note", message: "non-blocking", blocking: false }],
      ["/gates/TEST_GATE", { status: "PASS", reason: "checked" }],
      ["/replan", { action: "CONTINUE", reason: "keep going" }],
      [
        "/replan",
        {
          action: "MODIFY_DAG",
          replacement_nodes: [{ node_id: "v", title: "V", agent: "verifier", depends_on: ["planner"] }],
        },
      ],
    ] as const) {
      const before = (await c.request("GET", b)).body;
      const res = await c.request("POST", `${b}${path}`, body);
      expect(res.status, `${path}: ${JSON.stringify(res.body)}`).toBe(201);
      const after = await expectSameAsD1(c, build.build_id);
      expect(after, `GET after ${path} shows the write`).not.toEqual(before);
    }
    await c.request("POST", `${b}/abort`, { reason: "test over" });
    const view = await c.request("GET", b);
    expect(view.status).toBe(200);
    const oldestFirst = async (path: string) => (await c.request("GET", `${b}${path}?limit=100`)).body.items.reverse();
    expect(view.body.debt_items).toEqual(await oldestFirst("/debt"));
    expect(view.body.debt_items.map((d: any) => d.summary)).toEqual(["first debt", "second — ünïcödé ✓"]);
    expect(view.body.policy_violations).toEqual(await oldestFirst("/policy-violations"));
    expect(view.body.policy_violations[0].blocking).toBe(false);
    expect(view.body.gate_history).toEqual(await oldestFirst("/gates"));
    expect(view.body.replan_history).toEqual(await oldestFirst("/replan"));
    expect(view.body.replan_history.map((r: any) => r.action)).toEqual(["CONTINUE", "MODIFY_DAG"]);
    expect(view.body.replan_history[1].replacement_nodes[0]).toMatchObject({ node_id: "v", depends_on: ["planner"] });
    expect(view.body.task_runs).toEqual(await oldestFirst("/tasks"));
    expect(view.body.dag.map((n: any) => n.node_id)).toContain("v");
    expect(view.body.dag.find((n: any) => n.node_id === "v").depends_on).toEqual(["planner"]);
    expect(view.body.state_transitions.map((t: any) => t.to_status)).toEqual(["running", "aborted"]);
    expect(view.body.status).toBe("aborted");
    expect(view.body.progress.nodes_total).toBe(view.body.dag.length);
  });
});

describe("GET /v1/builds/:id of a build its runner does not know", () => {
  it("is read from D1 (rows written without the runner), and unknown ids are 404", async () => {
    const c = await caller({ sub: "user_d1_only" });
    const id = crypto.randomUUID();
    const ts = "2025-01-01T00:00:00.000000Z";
    await env.DB.prepare(
      `INSERT INTO builds (build_id, tenant_id, created_by, repo_url, objective, status, scan_mode, metadata, created_at, updated_at)
       VALUES (?, 'user_d1_only', 'user_d1_only', 'https://github.com/acme/seeded', 'seeded', 'completed', 'autonomous', '{"seeded":true}', ?, ?)`,
    )
      .bind(id, ts, ts)
      .run();
    const res = await c.request("GET", `/v1/builds/${id}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      build_id: id,
      status: "completed",
      metadata: { seeded: true },
      dag: [],
      task_runs: [],
    });
    const missing = await c.request("GET", `/v1/builds/${crypto.randomUUID()}`);
    expect([missing.status, missing.body.code]).toEqual([404, "build_not_found"]);
  });
});

describe("the runner's view follows every kind of commit", () => {
  it.each([
    [
      "retries then completes",
      {
        max_task_retries: 2,
        retry_policy: { initial_interval_ms: 1, jitter: 0 },
        runner_results: {
          builder: { status_sequence: ["failed", "failed", "completed"], error_sequence: ["e1", "e2"] },
        },
      },
    ],
    [
      "falls back to deterministic",
      { fallback_scan_mode: "deterministic", runner_results: { scanner: { status: "failed", error: "no sandbox" } } },
    ],
    [
      "fails after its retries",
      {
        max_task_retries: 1,
        retry_policy: { initial_interval_ms: 1, jitter: 0 },
        runner_results: { builder: { status: "failed", error: "tests red" } },
      },
    ],
  ])("%s", async (_name, metadata) => {
    const c = await caller({ sub: `user_view_${crypto.randomUUID()}` });
    const build = await createBuild(c, { metadata: { ...INSTANT, ...metadata } });
    const done = await waitForStatus(c, build.build_id);
    expect(["completed", "failed"]).toContain(done.status);
    const view = await expectSameAsD1(c, build.build_id);
    expect(view.task_runs.length).toBeGreaterThan(1);
    // A control action on the finished build (resume a failed one, else a checkpoint) follows too.
    await c.request(
      "POST",
      `/v1/builds/${build.build_id}/${done.status === "failed" ? "resume" : "checkpoints"}`,
      done.status === "failed" ? {} : { reason: "after" },
    );
    await waitForStatus(c, build.build_id); // a resumed build runs (and fails) again first
    await expectSameAsD1(c, build.build_id);
  });
});
