import { describe, expect, it } from "vitest";
import { INSTANT, caller, createBuild, eventsOf, waitForStatus } from "../helpers/api";

describe("a static_v1 build created over HTTP", () => {
  it("runs to completed on its own, with the SPEC event sequence", async () => {
    const c = await caller({ sub: "user_static" });
    const created = await createBuild(c, { metadata: {} });
    expect(created.status).toBe("running");
    expect(created.dag.map((n: any) => n.node_id)).toEqual(["scanner", "builder", "security", "planner"]);

    const build = await waitForStatus(c, created.build_id);
    expect(build.status).toBe("completed");
    expect(build.task_runs.map((t: any) => [t.node_id, t.status, t.attempt])).toEqual([
      ["scanner", "completed", 1],
      ["builder", "completed", 1],
      ["security", "completed", 1],
      ["planner", "completed", 1],
    ]);
    expect(build.gate_history.map((g: any) => [g.gate, g.status, g.node_id])).toEqual([
      ["TEST_GATE", "PASS", "builder"],
      ["POLICY_GATE", "PASS", "security"],
      ["MERGE_GATE", "PASS", "planner"],
    ]);
    expect(build.state_transitions.map((t: any) => [t.from_status, t.to_status, t.reason])).toEqual([
      ["pending", "running", "build_created"],
      ["running", "completed", "runtime_tick_completed"],
    ]);

    const events = await eventsOf(c, created.build_id);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    const types = events.map((e) =>
      e.event_type === "LEVEL_STARTED" ? `LEVEL_STARTED:${e.payload.level}` : e.event_type,
    );
    expect(types).toEqual([
      "BUILD_STATUS_CHANGED",
      "BUILD_STARTED",
      "LEVEL_STARTED:0",
      "CHECKPOINT_CREATED",
      "TASK_STARTED",
      "RUNNER_RESULT",
      "TASK_COMPLETED",
      "LEVEL_STARTED:1",
      "TASK_STARTED",
      "RUNNER_RESULT",
      "TASK_COMPLETED",
      "TEST_GATE",
      "LEVEL_STARTED:2",
      "TASK_STARTED",
      "RUNNER_RESULT",
      "TASK_COMPLETED",
      "POLICY_GATE",
      "LEVEL_STARTED:3",
      "TASK_STARTED",
      "RUNNER_RESULT",
      "TASK_COMPLETED",
      "MERGE_GATE",
      "BUILD_STATUS_CHANGED",
      "BUILD_FINISHED",
      "CHECKPOINT_CREATED",
    ]);
    expect(events.filter((e) => e.event_type === "BUILD_FINISHED")).toHaveLength(1);
    expect(events.find((e) => e.event_type === "BUILD_FINISHED").payload).toEqual({ final_status: "completed" });
    expect(events[1].payload).toEqual({
      repo_url: "https://github.com/acme/app",
      objective: "Run autonomous code quality orchestration.",
      scan_mode: "autonomous",
      dag_nodes: ["scanner", "builder", "security", "planner"],
    });
    const runner = events.find((e) => e.event_type === "RUNNER_RESULT");
    expect(runner.payload).toMatchObject({
      node_id: "scanner",
      runner: "simulated",
      status: "completed",
      duration_ms: 250,
      error: null,
    });
    expect(runner.payload.workspace_id).toBe(`simulated-${created.build_id}`);
  });

  it("returns 201 with Location and lists the build with task counts", async () => {
    const c = await caller({ sub: "user_list" });
    const res = await c.request("POST", "/v1/builds", { repo_url: "https://github.com/acme/list", metadata: INSTANT });
    expect(res.status).toBe(201);
    expect(res.headers.get("location")).toBe(`/v1/builds/${res.body.build_id}`);
    await waitForStatus(c, res.body.build_id);
    const list = await c.request("GET", "/v1/builds");
    expect(list.status).toBe(200);
    const row = list.body.items.find((b: any) => b.build_id === res.body.build_id);
    expect(row).toMatchObject({
      status: "completed",
      task_total: 4,
      task_completed: 4,
      task_failed: 0,
      node_total: 4,
      node_done: 4,
    });
  });

  it("completes an empty DAG on its first tick", async () => {
    const c = await caller({ sub: "user_empty" });
    const created = await createBuild(c, { dag: [] });
    expect(created.metadata.dag_levels).toEqual([]);
    const build = await waitForStatus(c, created.build_id);
    expect(build.status).toBe("completed");
    const types = (await eventsOf(c, created.build_id)).map((e) => e.event_type);
    expect(types).toEqual([
      "BUILD_STATUS_CHANGED",
      "BUILD_STARTED",
      "CHECKPOINT_CREATED",
      "BUILD_STATUS_CHANGED",
      "BUILD_FINISHED",
      "CHECKPOINT_CREATED",
    ]);
  });
});

describe("a wide build", () => {
  it("is stored whole: 60 nodes and their events, split into multi-row inserts at D1's 100 bound parameters", async () => {
    const c = await caller({ sub: "user_wide" });
    const dag = Array.from({ length: 60 }, (_, i) => ({
      node_id: `n${i}`,
      title: `Node ${i}`,
      agent: "scanner",
      depends_on: i < 30 ? [] : [`n${i - 30}`],
    }));
    const created = await createBuild(c, { dag, metadata: { simulated_duration_ms: 0, parallelism: 60 } });
    expect(created.dag).toHaveLength(60);
    const build = await waitForStatus(c, created.build_id);
    expect(build.status).toBe("completed");
    expect(build.dag.map((n: any) => n.node_id)).toEqual(dag.map((n) => n.node_id));
    expect(build.task_runs).toHaveLength(60);
    expect(new Set(build.task_runs.map((t: any) => t.node_id)).size).toBe(60);
    const events = await eventsOf(c, created.build_id);
    expect(events.length).toBeGreaterThan(180);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(events.filter((e) => e.event_type === "TASK_COMPLETED")).toHaveLength(60);
  });
});
