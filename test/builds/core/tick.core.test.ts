/**
 * The runtime tick (SPEC §4.8.2, DESIGN §4) on Drafts with simulated nodes and explicit times:
 * dispatch, collection, level advance, completion, idempotence, parallelism, the policy
 * pre-check, retries with backoff, the replanner's precedence and the deterministic fallback.
 */
import { describe, expect, it } from "vitest";
import { decideReplan, type ReplanInput } from "../../../src/builds/engine/failure";
import { DIAMOND, T0, newState, node, tickAt, types } from "./helpers";

const FAIL_A = { runner_results: { a: { status: "failed", error: "boom" } } };

describe("tick: a healthy build", () => {
  it("dispatches level 0, collects it when due, advances, completes — one step per tick", () => {
    const t1 = tickAt(newState(), T0);
    expect(t1.report).toMatchObject({
      dispatched_nodes: ["a"],
      executed_nodes: [],
      levels_started: [],
      active_level: 0,
      finished: false,
      next_wake_at: T0 + 250,
    });
    expect(types(t1.d)).toEqual(["TASK_STARTED"]);
    expect(t1.state.runtime.status).toBe("running");

    const early = tickAt(t1.state, T0 + 249);
    expect(early.report.executed_nodes).toEqual([]);
    expect(early.d.changed).toBe(false);

    const t2 = tickAt(t1.state, T0 + 250);
    expect(t2.report).toMatchObject({
      executed_nodes: ["a"],
      dispatched_nodes: ["b", "c"],
      levels_started: [1],
      active_level: 1,
    });
    expect(types(t2.d)).toEqual(["RUNNER_RESULT", "TASK_COMPLETED", "LEVEL_STARTED", "TASK_STARTED", "TASK_STARTED"]);
    expect(t2.state.engine.level_cursor).toBe(1);
    expect(t2.state.metadata.level_cursor).toBe(1); // served as before, mirrored from the engine state

    const t3 = tickAt(t2.state, T0 + 500);
    expect(t3.report).toMatchObject({
      executed_nodes: ["b", "c"],
      finished: true,
      pending_nodes: [],
      next_wake_at: null,
    });
    expect(types(t3.d).slice(-3)).toEqual(["BUILD_STATUS_CHANGED", "BUILD_FINISHED", "CHECKPOINT_CREATED"]);
    expect(t3.state.status).toBe("completed");
    expect(t3.state.runtime.status).toBe("completed");
  });

  it("is idempotent: the same tick at the same instant again finds nothing to do", () => {
    const once = tickAt(newState(), T0);
    const again = tickAt(once.state, T0);
    expect(again.report.dispatched_nodes).toEqual([]);
    expect(again.d.events).toEqual([]);
    expect(again.d.changed).toBe(false);
  });

  it("zero-duration nodes finish in one tick (rounds repeat while results are due)", () => {
    const t = tickAt(newState({ metadata: { simulated_duration_ms: 0 } }), T0);
    expect(t.report.executed_nodes).toEqual(["a", "b", "c"]);
    expect(t.state.status).toBe("completed");
  });

  it("maxRounds bounds the rounds of one tick", () => {
    const t = tickAt(newState({ metadata: { simulated_duration_ms: 0 } }), T0, { maxRounds: 1 });
    expect(t.report).toMatchObject({ dispatched_nodes: ["a"], executed_nodes: [], finished: false });
  });

  const limits: [string, Record<string, unknown>, number, string[]][] = [
    ["deployment limit 1", {}, 1, ["b"]],
    ["build max_parallelism 1", { max_parallelism: 1 }, 8, ["b"]],
    ["both allow 2", { max_parallelism: 4 }, 2, ["b", "c"]],
  ];
  for (const [name, metadata, parallelism, want] of limits) {
    it(`parallelism — ${name}: dispatches ${want.join(", ")}`, () => {
      const t1 = tickAt(newState({ metadata }), T0, { parallelism });
      const t2 = tickAt(t1.state, T0 + 250, { parallelism });
      expect(t2.report.dispatched_nodes).toEqual(want);
    });
  }

  it("dispatches nothing on a build that is not running, but still collects due results", () => {
    const t1 = tickAt(newState(), T0);
    const paused = { ...t1.state, status: "paused" as const };
    const t2 = tickAt(paused, T0 + 250);
    expect(t2.report).toMatchObject({ executed_nodes: ["a"], dispatched_nodes: [] });
    expect(types(t2.d)).toEqual(["RUNNER_RESULT", "TASK_COMPLETED"]);
  });

  it("a node the execution policy denies fails at once, fails the build and records the violation and gate", () => {
    const t = tickAt(newState({ metadata: { required_capabilities: ["gpu"] } }), T0);
    expect(t.report.dispatched_nodes).toEqual(["a"]);
    expect(types(t.d)).toEqual([
      "TASK_STARTED",
      "RUNNER_RESULT",
      "TASK_FAILED",
      "POLICY_VIOLATION",
      "BUILD_STATUS_CHANGED",
      "BUILD_FINISHED",
      "POLICY_GATE",
    ]);
    expect(t.state.task_runs[0]).toMatchObject({ runner_kind: "policy", status: "failed" });
    expect(t.state.status).toBe("failed");
  });

  it("a node timeout shorter than its simulated work fails it at the timeout", () => {
    const t1 = tickAt(newState({ metadata: { node_timeouts_ms: { a: 100 } } }), T0);
    expect(t1.report.next_wake_at).toBe(T0 + 100);
    const t2 = tickAt(t1.state, T0 + 100);
    expect(t2.state.task_runs[0]).toMatchObject({ status: "failed", error: "node_timeout" });
  });
});

describe("tick: failures, retries and the replanner", () => {
  it("retries within the budget after the backoff (attempt 1 → 1000 ms at mid jitter)", () => {
    const t1 = tickAt(newState({ metadata: { ...FAIL_A, max_task_retries: 1 } }), T0);
    const t2 = tickAt(t1.state, T0 + 250);
    expect(types(t2.d)).toEqual(["RUNNER_RESULT", "TASK_FAILED", "REPLAN_DECISION", "TASK_RETRY_SCHEDULED"]);
    expect(t2.d.events[3]?.payload).toMatchObject({
      node_id: "a",
      attempt: 1,
      next_attempt: 2,
      retry_budget: 1,
      retry_delay_ms: 1000,
    });
    expect(t2.report.next_wake_at).toBe(T0 + 1250);
    expect(tickAt(t2.state, T0 + 1249).report.dispatched_nodes).toEqual([]);
    const t3 = tickAt(t2.state, T0 + 1250);
    expect(t3.report.dispatched_nodes).toEqual(["a"]);
    expect(t3.d.events[0]?.payload).toMatchObject({ node_id: "a", attempt: 2 });
  });

  it("status_sequence is per attempt: fail then pass completes after one retry", () => {
    const metadata = {
      max_task_retries: 1,
      simulated_duration_ms: 0,
      runner_results: { a: { status_sequence: ["failed", "ok"] } },
    };
    const t1 = tickAt(newState({ metadata }), T0);
    const t2 = tickAt(t1.state, T0 + 1000);
    expect(t2.state.status).toBe("completed");
    expect(t2.state.task_runs.filter((r) => r.node_id === "a").map((r) => r.status)).toEqual(["failed", "completed"]);
  });

  const terminal: [string, Record<string, unknown>, string, string[]][] = [
    [
      "no replan: POLICY_GATE FAIL, build failed",
      {},
      "failed",
      ["RUNNER_RESULT", "TASK_FAILED", "POLICY_GATE", "BUILD_STATUS_CHANGED", "BUILD_FINISHED"],
    ],
    [
      "abort on terminal failure",
      { replanner_abort_on_terminal_failure: true },
      "aborted",
      ["RUNNER_RESULT", "TASK_FAILED", "BUILD_STATUS_CHANGED", "BUILD_FINISHED", "REPLAN_DECISION"],
    ],
    [
      "fallback armed but not autonomous: no fallback",
      { fallback_scan_mode: "deterministic" },
      "failed",
      ["RUNNER_RESULT", "TASK_FAILED", "POLICY_GATE", "BUILD_STATUS_CHANGED", "BUILD_FINISHED"],
    ],
  ];
  for (const [name, extra, status, events] of terminal) {
    it(`out of retries — ${name}`, () => {
      const t1 = tickAt(newState({ metadata: { ...FAIL_A, ...extra } }), T0);
      const t2 = tickAt(t1.state, T0 + 250);
      expect(t2.state.status).toBe(status);
      expect(types(t2.d)).toEqual(events);
    });
  }

  it("autonomous → deterministic fallback: once, with the DAG replaced and the switch served in metadata", () => {
    const state = newState({ scan_mode: "autonomous", metadata: { ...FAIL_A, fallback_scan_mode: "deterministic" } });
    const t1 = tickAt(state, T0);
    const t2 = tickAt(t1.state, T0 + 250);
    expect(types(t2.d)).toEqual([
      "RUNNER_RESULT",
      "TASK_FAILED",
      "FALLBACK_MODE_SWITCHED",
      "REPLAN_DECISION",
      "LEVEL_STARTED",
      "TASK_STARTED",
    ]);
    expect(t2.d.events[2]?.payload).toMatchObject({
      from_mode: "autonomous",
      to_mode: "deterministic",
      reason: "runner_failed:a",
    });
    expect(t2.d.events[3]?.payload).toMatchObject({ action: "REDUCE_SCOPE", reason: "fallback_to_deterministic:a" });
    expect(t2.state.scan_mode).toBe("deterministic");
    expect(t2.state.nodes.map((n) => n.node_id)).toEqual(["deterministic-scan", "deterministic-summary"]);
    expect(t2.state.engine).toEqual({ level_cursor: 0, fallback_applied: true });
    expect(t2.state.metadata).toMatchObject({
      scan_mode: "deterministic",
      fallback_applied: true,
      fallback_from_mode: "autonomous",
      fallback_reason: "runner_failed:a",
      dag_levels: [["deterministic-scan"], ["deterministic-summary"]],
      level_cursor: 0,
    });
    expect(t2.state.settings.fallback_scan_mode).toBe("deterministic"); // the user's setting is unchanged
    expect(t2.d.nodesReplaced).toBe(true);
  });

  it("a client-sent fallback_applied turns the fallback off (as it always did)", () => {
    const state = newState({
      scan_mode: "autonomous",
      metadata: { ...FAIL_A, fallback_scan_mode: "deterministic", fallback_applied: true },
    });
    const t2 = tickAt(tickAt(state, T0).state, T0 + 250);
    expect(types(t2.d)).not.toContain("FALLBACK_MODE_SWITCHED");
    expect(t2.state.status).toBe("failed");
  });

  it("a failed run on a build that is no longer running is recorded, nothing more", () => {
    const t1 = tickAt(newState({ metadata: FAIL_A }), T0);
    const t2 = tickAt({ ...t1.state, status: "paused" }, T0 + 250);
    expect(types(t2.d)).toEqual(["RUNNER_RESULT", "TASK_FAILED"]);
    expect(t2.state.status).toBe("paused");
  });
});

describe("decideReplan (SPEC §4.8.5: retry → fallback → abort → none)", () => {
  const base: ReplanInput = {
    nodeId: "n",
    attempt: 1,
    retryBudget: 0,
    scanMode: "autonomous",
    fallbackScanMode: null,
    fallbackApplied: false,
    abortOnTerminalFailure: false,
  };
  const cases: [string, Partial<ReplanInput>, string | null, string][] = [
    ["within budget", { attempt: 2, retryBudget: 2 }, "CONTINUE", "retry_node:n:attempt_2"],
    ["budget spent, nothing else", {}, null, "terminal_failure_no_replan:n"],
    ["fallback armed", { fallbackScanMode: "deterministic" }, "REDUCE_SCOPE", "fallback_to_deterministic:n"],
    [
      "retry beats fallback",
      { retryBudget: 1, fallbackScanMode: "deterministic" },
      "CONTINUE",
      "retry_node:n:attempt_1",
    ],
    [
      "fallback beats abort",
      { fallbackScanMode: "deterministic", abortOnTerminalFailure: true },
      "REDUCE_SCOPE",
      "fallback_to_deterministic:n",
    ],
    [
      "fallback already applied → abort",
      { fallbackScanMode: "deterministic", fallbackApplied: true, abortOnTerminalFailure: true },
      "ABORT",
      "terminal_failure_abort:n",
    ],
    [
      "not autonomous → no fallback",
      { scanMode: "deterministic", fallbackScanMode: "deterministic" },
      null,
      "terminal_failure_no_replan:n",
    ],
    ["abort switch", { abortOnTerminalFailure: true }, "ABORT", "terminal_failure_abort:n"],
  ];
  for (const [name, patch, action, reason] of cases) {
    it(`${name}: ${action ?? "none"}`, () => expect(decideReplan({ ...base, ...patch })).toEqual({ action, reason }));
  }
});

it("DIAMOND fixture has two levels (guards the helpers)", () => {
  expect(newState().nodes.map((n) => [n.node_id, n.level])).toEqual([
    ["a", 0],
    ["b", 1],
    ["c", 1],
  ]);
  expect(DIAMOND).toHaveLength(3);
  expect(node("x").status).toBe("pending");
});
