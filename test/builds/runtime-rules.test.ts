import { describe, expect, it } from "vitest";
import { INSTANT, caller, createBuild, eventsOf, waitForStatus } from "../helpers/api";

const NO_BACKOFF = { retry_policy: { initial_interval_ms: 0, jitter: 0 } };

describe("retries (SPEC §4.8.5)", () => {
  it("retries a node that fails twice within a budget of 2, then completes", async () => {
    const c = await caller({ sub: "user_retry_ok" });
    const created = await createBuild(c, {
      metadata: {
        ...INSTANT,
        ...NO_BACKOFF,
        max_task_retries: 2,
        runner_results: {
          builder: { status_sequence: ["failed", "failed", "completed"], error_sequence: ["e1", "e2"] },
        },
      },
    });
    const build = await waitForStatus(c, created.build_id);
    expect(build.status).toBe("completed");
    const builderRuns = build.task_runs.filter((t: any) => t.node_id === "builder");
    expect(builderRuns.map((t: any) => [t.attempt, t.status, t.error])).toEqual([
      [1, "failed", "e1"],
      [2, "failed", "e2"],
      [3, "completed", null],
    ]);
    const events = await eventsOf(c, created.build_id);
    const retries = events.filter((e) => e.event_type === "TASK_RETRY_SCHEDULED").map((e) => e.payload);
    expect(retries).toHaveLength(2);
    expect(retries[0]).toMatchObject({
      node_id: "builder",
      attempt: 1,
      next_attempt: 2,
      retry_budget: 2,
      retry_level: 1,
    });
    expect(retries[1]).toMatchObject({
      node_id: "builder",
      attempt: 2,
      next_attempt: 3,
      retry_budget: 2,
      retry_level: 1,
    });
    expect(build.replan_history.map((r: any) => [r.action, r.reason])).toEqual([
      ["CONTINUE", "retry_node:builder:attempt_1"],
      ["CONTINUE", "retry_node:builder:attempt_2"],
    ]);
    expect(events.filter((e) => e.event_type === "BUILD_FINISHED")).toHaveLength(1);
  });

  it("fails the build when the node fails three times with a budget of 2", async () => {
    const c = await caller({ sub: "user_retry_fail" });
    const created = await createBuild(c, {
      metadata: {
        ...INSTANT,
        ...NO_BACKOFF,
        max_task_retries: 2,
        runner_results: { builder: { status: "failed", error: "tests red" } },
      },
    });
    const build = await waitForStatus(c, created.build_id);
    expect(build.status).toBe("failed");
    expect(build.task_runs.filter((t: any) => t.node_id === "builder").map((t: any) => t.status)).toEqual([
      "failed",
      "failed",
      "failed",
    ]);
    expect(build.gate_history.at(-1)).toMatchObject({
      gate: "POLICY_GATE",
      status: "FAIL",
      reason: "runner_execution_failed",
      node_id: "builder",
    });
    expect(build.state_transitions.at(-1)).toMatchObject({
      from_status: "running",
      to_status: "failed",
      reason: "POLICY_GATE:runner_execution_failed",
      source: "gate",
    });
    const events = await eventsOf(c, created.build_id);
    expect(events.filter((e) => e.event_type === "TASK_RETRY_SCHEDULED")).toHaveLength(2);
    const finished = events.filter((e) => e.event_type === "BUILD_FINISHED");
    expect(finished.map((e) => e.payload.final_status)).toEqual(["failed"]);
    expect(build.task_runs.some((t: any) => t.node_id === "security")).toBe(false);
  });

  it("waits the backoff of the retry policy before the next attempt", async () => {
    const c = await caller({ sub: "user_backoff" });
    const created = await createBuild(c, {
      metadata: {
        ...INSTANT,
        max_task_retries: 1,
        retry_policy: { initial_interval_ms: 300, jitter: 0 },
        runner_results: { scanner: { status_sequence: ["failed", "completed"] } },
      },
    });
    await waitForStatus(c, created.build_id);
    const events = await eventsOf(c, created.build_id);
    const retry = events.find((e) => e.event_type === "TASK_RETRY_SCHEDULED");
    expect(retry.payload.retry_delay_ms).toBe(300);
    const starts = events.filter((e) => e.event_type === "TASK_STARTED" && e.payload.node_id === "scanner");
    expect(starts).toHaveLength(2);
    const gap = Date.parse(starts[1].timestamp.replace("000Z", "Z")) - Date.parse(retry.timestamp.replace("000Z", "Z"));
    expect(gap).toBeGreaterThanOrEqual(300);
  });
});

describe("deterministic fallback (SPEC §4.9)", () => {
  it("switches the DAG once and completes", async () => {
    const c = await caller({ sub: "user_fallback" });
    const created = await createBuild(c, {
      metadata: {
        ...INSTANT,
        fallback_scan_mode: "deterministic",
        runner_results: { scanner: { status: "failed", error: "no sandbox" } },
      },
    });
    const build = await waitForStatus(c, created.build_id);
    expect(build.status).toBe("completed");
    expect(build.dag.map((n: any) => n.node_id)).toEqual(["deterministic-scan", "deterministic-summary"]);
    expect(build.metadata).toMatchObject({
      scan_mode: "deterministic",
      fallback_applied: true,
      fallback_from_mode: "autonomous",
      fallback_reason: "runner_failed:scanner",
      dag_levels: [["deterministic-scan"], ["deterministic-summary"]],
    });
    expect(build.replan_history.map((r: any) => [r.action, r.reason])).toEqual([
      ["REDUCE_SCOPE", "fallback_to_deterministic:scanner"],
    ]);
    const events = await eventsOf(c, created.build_id);
    const switched = events.filter((e) => e.event_type === "FALLBACK_MODE_SWITCHED");
    expect(switched).toHaveLength(1);
    expect(switched[0].payload).toEqual({
      from_mode: "autonomous",
      to_mode: "deterministic",
      reason: "runner_failed:scanner",
      source: "runtime_tick",
      dag_nodes: ["deterministic-scan", "deterministic-summary"],
    });
    const idx = events.indexOf(switched[0]);
    expect(events[idx + 1]).toMatchObject({
      event_type: "REPLAN_DECISION",
      payload: { action: "REDUCE_SCOPE", source: "runtime_tick", replacement_node_ids: [] },
    });
    expect(build.task_runs.map((t: any) => [t.node_id, t.status])).toEqual([
      ["scanner", "failed"],
      ["deterministic-scan", "completed"],
      ["deterministic-summary", "completed"],
    ]);
  });

  it("fails the build on a second failure after the fallback", async () => {
    const c = await caller({ sub: "user_fallback_fail" });
    const created = await createBuild(c, {
      metadata: {
        ...INSTANT,
        fallback_scan_mode: "deterministic",
        runner_results: { scanner: { status: "failed" }, "deterministic-scan": { status: "failed" } },
      },
    });
    const build = await waitForStatus(c, created.build_id);
    expect(build.status).toBe("failed");
    const events = await eventsOf(c, created.build_id);
    expect(events.filter((e) => e.event_type === "FALLBACK_MODE_SWITCHED")).toHaveLength(1);
    expect(events.filter((e) => e.event_type === "BUILD_FINISHED").map((e) => e.payload.final_status)).toEqual([
      "failed",
    ]);
  });

  it("never falls back a custom DAG unless scan_mode is autonomous", async () => {
    const c = await caller({ sub: "user_custom_nofallback" });
    const created = await createBuild(c, {
      dag: [{ node_id: "a", title: "A", agent: "scanner" }],
      metadata: { ...INSTANT, fallback_scan_mode: "deterministic", runner_results: { a: { status: "failed" } } },
    });
    const build = await waitForStatus(c, created.build_id);
    expect(build.status).toBe("failed");
    expect(build.metadata.fallback_applied).toBeUndefined();
  });
});

describe("replanner abort and execution order", () => {
  it("aborts on a terminal failure when replanner_abort_on_terminal_failure is set", async () => {
    const c = await caller({ sub: "user_abort_replan" });
    const created = await createBuild(c, {
      metadata: {
        ...INSTANT,
        replanner_abort_on_terminal_failure: true,
        runner_results: { scanner: { status: "failed" } },
      },
    });
    const build = await waitForStatus(c, created.build_id);
    expect(build.status).toBe("aborted");
    expect(build.replan_history.map((r: any) => [r.action, r.reason])).toEqual([
      ["ABORT", "terminal_failure_abort:scanner"],
    ]);
    const events = await eventsOf(c, created.build_id);
    const tail = events.slice(-3).map((e) => e.event_type);
    expect(tail).toEqual(["BUILD_STATUS_CHANGED", "BUILD_FINISHED", "REPLAN_DECISION"]);
    expect(events.at(-3).payload).toMatchObject({
      to_status: "aborted",
      reason: "replan_abort:terminal_failure_abort:scanner",
      source: "replanner",
    });
  });

  it("dispatches at most RUNTIME_NODE_PARALLELISM (4) nodes of a level at once", async () => {
    const c = await caller({ sub: "user_parallel" });
    const dag = ["n1", "n2", "n3", "n4", "n5", "n6"].map((id) => ({ node_id: id, title: id, agent: "scanner" }));
    const created = await createBuild(c, { dag, metadata: INSTANT });
    await waitForStatus(c, created.build_id);
    const events = (await eventsOf(c, created.build_id)).filter(
      (e) => e.event_type === "TASK_STARTED" || e.event_type === "TASK_COMPLETED",
    );
    expect(events.map((e) => `${e.event_type === "TASK_STARTED" ? "S" : "C"}:${e.payload.node_id}`)).toEqual([
      "S:n1",
      "S:n2",
      "S:n3",
      "S:n4",
      "C:n1",
      "C:n2",
      "C:n3",
      "C:n4",
      "S:n5",
      "S:n6",
      "C:n5",
      "C:n6",
    ]);
  });

  it("runs a skipped node as done without a gate", async () => {
    const c = await caller({ sub: "user_skip" });
    const created = await createBuild(c, { metadata: { ...INSTANT, runner_results: { builder: { status: "skip" } } } });
    const build = await waitForStatus(c, created.build_id);
    expect(build.status).toBe("completed");
    expect(build.gate_history.map((g: any) => g.gate)).toEqual(["POLICY_GATE", "MERGE_GATE"]);
    expect(build.task_runs.find((t: any) => t.node_id === "builder").status).toBe("skipped");
  });
});

describe("planner-set runtime knobs", () => {
  it("honours a per-node retry budget over max_task_retries", async () => {
    const c = await caller({ sub: "user_node_budget" });
    const created = await createBuild(c, {
      metadata: {
        ...INSTANT,
        ...NO_BACKOFF,
        max_task_retries: 0,
        node_retry_budgets: { builder: 2 },
        runner_results: {
          builder: { status_sequence: ["failed", "failed", "completed"] },
          scanner: { status_sequence: ["failed"] },
        },
      },
    });
    const build = await waitForStatus(c, created.build_id);
    // scanner has the build-wide budget 0: its failure fails the build before builder runs.
    expect(build.status).toBe("failed");
    const again = await createBuild(c, {
      metadata: {
        ...INSTANT,
        ...NO_BACKOFF,
        max_task_retries: 0,
        node_retry_budgets: { builder: 2 },
        runner_results: { builder: { status_sequence: ["failed", "failed", "completed"] } },
      },
    });
    const ok = await waitForStatus(c, again.build_id);
    expect(ok.status).toBe("completed");
    expect(ok.task_runs.filter((t: any) => t.node_id === "builder")).toHaveLength(3);
  });

  it("lowers parallelism with max_parallelism", async () => {
    const c = await caller({ sub: "user_max_par" });
    const dag = ["a", "b", "c"].map((id) => ({ node_id: id, title: id, agent: "scanner" }));
    const created = await createBuild(c, { dag, metadata: { ...INSTANT, max_parallelism: 1 } });
    await waitForStatus(c, created.build_id);
    const seq = (await eventsOf(c, created.build_id))
      .filter((e) => e.event_type === "TASK_STARTED" || e.event_type === "TASK_COMPLETED")
      .map((e) => `${e.event_type[5]}:${e.payload.node_id}`);
    expect(seq).toEqual(["S:a", "C:a", "S:b", "C:b", "S:c", "C:c"]);
  });
});

describe("node timeouts on the simulated runner", () => {
  it("fails a node whose work outlasts metadata.node_timeouts_ms, through the retry rules", async () => {
    const c = await caller({ sub: "user_node_timeout" });
    const created = await createBuild(c, {
      dag: [{ node_id: "slow", title: "Slow", agent: "builder" }],
      metadata: { simulated_duration_ms: 5_000, node_timeouts_ms: { slow: 50 }, max_task_retries: 1, ...NO_BACKOFF },
    });
    const build = await waitForStatus(c, created.build_id);
    expect(build.status).toBe("failed");
    expect(build.task_runs.map((t: any) => [t.attempt, t.status, t.error])).toEqual([
      [1, "failed", "node_timeout"],
      [2, "failed", "node_timeout"],
    ]);
  });
});
