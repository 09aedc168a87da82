/**
 * SPEC §4.10.1's control matrix (with DESIGN §4's fixes: quirks 2, 4, 5) applied by the pure
 * `applyControl` on a Draft in every build status: the resulting status, the events in order,
 * and rejections that change nothing.
 */
import { describe, expect, it } from "vitest";
import type { BuildStatus } from "../../../src/builds/builds.types";
import { type ControlInput, applyControl } from "../../../src/builds/control-actions";
import { AppError } from "../../../src/kernel/errors";
import { DIAMOND, draftOn, newState, node, types } from "./helpers";

const STATUSES: BuildStatus[] = ["pending", "running", "paused", "failed", "completed", "aborted"];

type Expect = { status?: BuildStatus; events?: string[]; error?: [string, string?] };
const per = (f: (s: BuildStatus) => Expect) =>
  Object.fromEntries(STATUSES.map((s) => [s, f(s)])) as Record<BuildStatus, Expect>;

/** Expected outcome per action and status; `status` omitted = unchanged. */
const MATRIX: { name: string; action: ControlInput; expect: Record<BuildStatus, Expect> }[] = [
  {
    name: "abort",
    action: { type: "abort", reason: null },
    expect: per(
      (s): Expect =>
        s === "completed"
          ? { error: ["build_abort_conflict", "cannot_abort_completed"] }
          : s === "aborted"
            ? { events: [] } // quirk 4 fixed: idempotent, nothing new
            : {
                status: "aborted",
                events: ["BUILD_STATUS_CHANGED", "BUILD_ABORTED", "BUILD_FINISHED", "CHECKPOINT_CREATED"],
              },
    ),
  },
  {
    name: "resume",
    action: { type: "resume", reason: "go" },
    expect: per(
      (s): Expect =>
        s === "completed"
          ? { error: ["build_resume_conflict", "cannot_resume_completed"] }
          : s === "aborted"
            ? { error: ["build_resume_conflict", "cannot_resume_aborted"] }
            : s === "running"
              ? { events: ["BUILD_RESUMED", "CHECKPOINT_CREATED"] }
              : { status: "running", events: ["BUILD_STATUS_CHANGED", "BUILD_RESUMED", "CHECKPOINT_CREATED"] },
    ),
  },
  {
    name: "replan ABORT",
    action: { type: "replan", action: "ABORT", reason: "r", replacement_nodes: [] },
    expect: per(
      (s): Expect =>
        s === "completed" || s === "aborted"
          ? { events: ["REPLAN_DECISION"] }
          : { status: "aborted", events: ["BUILD_STATUS_CHANGED", "BUILD_FINISHED", "REPLAN_DECISION"] },
    ),
  },
  ...(["CONTINUE", "REDUCE_SCOPE"] as const).map((a) => ({
    name: `replan ${a} (manual)`,
    action: { type: "replan", action: a, reason: "r", replacement_nodes: [] } as ControlInput,
    expect: per((_s): Expect => ({ events: ["REPLAN_DECISION"] })),
  })),
  {
    name: "gate BLOCKED",
    action: { type: "gate", gate: "TEST_GATE", status: "BLOCKED", reason: "r", node_id: null },
    expect: per(
      (s): Expect =>
        s === "running"
          ? { status: "paused", events: ["TEST_GATE", "BUILD_STATUS_CHANGED"] }
          : { events: ["TEST_GATE"] },
    ),
  },
  {
    name: "gate FAIL",
    action: { type: "gate", gate: "POLICY_GATE", status: "FAIL", reason: "r", node_id: null },
    expect: per(
      (s): Expect =>
        s === "running"
          ? { status: "failed", events: ["POLICY_GATE", "BUILD_STATUS_CHANGED", "BUILD_FINISHED"] }
          : { events: ["POLICY_GATE"] },
    ),
  },
  {
    name: "gate PASS",
    action: { type: "gate", gate: "POLICY_GATE", status: "PASS", reason: "r", node_id: null },
    expect: per((_s): Expect => ({ events: ["POLICY_GATE"] })),
  },
  {
    name: "blocking violation",
    action: { type: "violation", code: "c", message: "m", source: "s", blocking: true },
    expect: per(
      (s): Expect =>
        s === "running"
          ? { status: "failed", events: ["POLICY_VIOLATION", "BUILD_STATUS_CHANGED", "BUILD_FINISHED"] }
          : { events: ["POLICY_VIOLATION"] },
    ),
  },
  {
    name: "non-blocking violation",
    action: { type: "violation", code: "c", message: "m", source: "s", blocking: false },
    expect: per((_s): Expect => ({ events: ["POLICY_VIOLATION"] })),
  },
  {
    name: "checkpoint",
    action: { type: "checkpoint", reason: "cp" },
    expect: per((_s): Expect => ({ events: ["CHECKPOINT_CREATED"] })),
  },
  {
    name: "debt",
    action: { type: "debt", node_id: "a", summary: "s", severity: "high" },
    expect: per((_s): Expect => ({ events: ["DEBT_ITEM_RECORDED"] })),
  },
  {
    name: "start task",
    action: { type: "start_task", node_id: "a" },
    expect: per(
      (s): Expect =>
        s === "running"
          ? { events: ["TASK_STARTED"] }
          : { error: ["task_run_conflict", `cannot_start_task_when_${s}`] },
    ),
  },
  {
    // A fresh build has node `a` ready: a tick on a build that is not running is 409 (quirk 2: no side effects).
    name: "runtime tick (assert)",
    action: { type: "assert_tickable" },
    expect: per(
      (s): Expect =>
        s === "running" || s === "completed"
          ? { events: [] }
          : { error: ["runtime_tick_conflict", `cannot_start_task_when_${s}`] },
    ),
  },
];

describe("control matrix on a Draft (SPEC §4.10.1)", () => {
  for (const row of MATRIX) {
    for (const status of STATUSES) {
      const want = row.expect[status];
      const label = want.error
        ? `409 ${want.error.join(" ")}`
        : `${want.status ? `→ ${want.status}` : "no change"} [${want.events?.join(", ")}]`;
      it(`${row.name} on ${status}: ${label}`, () => {
        const before = newState({ status });
        const d = draftOn(before);
        if (want.error) {
          let thrown: unknown;
          try {
            applyControl(d, row.action);
          } catch (err) {
            thrown = err;
          }
          expect(thrown).toBeInstanceOf(AppError);
          expect((thrown as AppError).code).toBe(want.error[0]);
          if (want.error[1]) expect((thrown as AppError).detail).toBe(want.error[1]);
          // Nothing before a rejection: no events, no rows, the state as it was.
          expect(d.changed).toBe(false);
          expect(d.state).toEqual(before);
          return;
        }
        applyControl(d, row.action);
        expect(d.state.status).toBe(want.status ?? status);
        expect(types(d)).toEqual(want.events);
        // Events take consecutive seqs after the state's last one.
        expect(d.events.map((e) => e.seq)).toEqual(want.events!.map((_, i) => before.next_seq + i));
      });
    }
  }

  it("abort cancels runs in flight before BUILD_FINISHED, so no result lands after it", () => {
    const running = draftOn(newState({ status: "running" }));
    applyControl(running, { type: "start_task", node_id: "a" });
    const d = draftOn(running.state);
    applyControl(d, { type: "abort", reason: "stop" });
    expect(types(d)).toEqual([
      "TASK_SKIPPED",
      "BUILD_STATUS_CHANGED",
      "BUILD_ABORTED",
      "BUILD_FINISHED",
      "CHECKPOINT_CREATED",
    ]);
    expect(d.state.task_runs[0]).toMatchObject({ status: "skipped", error: "cancelled:build_aborted" });
    expect(d.events[1]?.payload).toMatchObject({
      from_status: "running",
      to_status: "aborted",
      reason: "stop",
      source: "manual",
    });
  });

  it("complete task works in every status; a non-final status or a finalized run is 409", () => {
    for (const status of STATUSES) {
      const started = draftOn(newState({ status: "running" }));
      const run = applyControl(started, { type: "start_task", node_id: "a" }) as { task_run_id: string };
      const state = { ...started.state, status };
      const d = draftOn(state);
      applyControl(d, { type: "complete_task", task_run_id: run.task_run_id, status: "completed", error: null });
      expect(types(d)).toEqual(["TASK_COMPLETED"]);
      expect(() =>
        applyControl(draftOn(d.state), {
          type: "complete_task",
          task_run_id: run.task_run_id,
          status: "failed",
          error: null,
        }),
      ).toThrow(expect.objectContaining({ code: "task_run_conflict", detail: "task_already_finalized" }));
      expect(() =>
        applyControl(draftOn(state), {
          type: "complete_task",
          task_run_id: run.task_run_id,
          status: "running",
          error: null,
        }),
      ).toThrow(expect.objectContaining({ code: "task_run_conflict", detail: "task_final_status_required" }));
    }
  });

  it("MODIFY_DAG appends nodes in every status and mirrors the new levels into the served metadata", () => {
    for (const status of STATUSES) {
      const d = draftOn(newState({ status }));
      applyControl(d, {
        type: "replan",
        action: "MODIFY_DAG",
        reason: "more",
        replacement_nodes: [node("v", ["b", "c"])],
      });
      expect(d.state.status).toBe(status);
      expect(d.state.nodes.map((n) => n.node_id)).toEqual(["a", "b", "c", "v"]);
      expect(d.state.metadata.dag_levels).toEqual([["a"], ["b", "c"], ["v"]]);
      expect(d.nodesReplaced).toBe(true);
    }
  });

  it("a MODIFY_DAG that would be invalid changes nothing (quirk 5)", () => {
    const before = newState({ status: "running" });
    for (const [nodes, detail] of [
      [[node("a")], "duplicate_replan_node_id:a"],
      [[node("x", ["nope"])], "missing_dependency:nope"],
      [[node("x", ["y"]), node("y", ["x"])], "dag_cycle_detected"],
    ] as const) {
      const d = draftOn(before);
      expect(() =>
        applyControl(d, { type: "replan", action: "MODIFY_DAG", reason: "r", replacement_nodes: [...nodes] }),
      ).toThrow(expect.objectContaining({ code: "invalid_replan", detail }));
      expect(d.changed).toBe(false);
      expect(d.state).toEqual(before);
    }
    const tooMany = draftOn(before);
    expect(() =>
      applyControl(tooMany, {
        type: "replan",
        action: "MODIFY_DAG",
        reason: "r",
        replacement_nodes: [node("x")],
        max_dag_nodes: DIAMOND.length,
      }),
    ).toThrow(
      expect.objectContaining({
        code: "invalid_replan",
        detail: `dag_node_limit_exceeded:${DIAMOND.length + 1}>${DIAMOND.length}`,
      }),
    );
  });
});
