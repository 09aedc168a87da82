/**
 * SPEC §4.10.1 validity matrix, every cell, with the DESIGN fixes (no side effects before a
 * rejection, idempotent abort of an aborted build, MODIFY_DAG validated first). Each cell asserts
 * the status code, the resulting build status and the events the action emitted.
 */
import { describe, expect, it } from "vitest";
import { type Caller, caller, createBuild, eventsOf, waitForStatus } from "../helpers/api";

type Status = "running" | "paused" | "failed" | "completed" | "aborted";
const STATUSES: Status[] = ["running", "paused", "failed", "completed", "aborted"];

// Five independent nodes with long simulated work: four are in flight (parallelism 4), one waits.
const FIVE = ["n1", "n2", "n3", "n4", "n5"].map((id) => ({ node_id: id, title: id, agent: "scanner" }));
const LONG = { simulated_duration_ms: 60_000 };

async function until(fn: () => Promise<boolean>, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error("condition not reached");
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function buildIn(c: Caller, status: Status): Promise<string> {
  if (status === "completed") {
    const b = await createBuild(c, { dag: FIVE, metadata: { simulated_duration_ms: 0 } });
    expect((await waitForStatus(c, b.build_id)).status).toBe("completed");
    return b.build_id;
  }
  const b = await createBuild(c, { dag: FIVE, metadata: LONG });
  await until(async () => (await eventsOf(c, b.build_id)).filter((e) => e.event_type === "TASK_STARTED").length === 4);
  const id = b.build_id;
  if (status === "paused")
    expect(
      (await c.request("POST", `/v1/builds/${id}/gates/TEST_GATE`, { status: "BLOCKED", reason: "hold" })).status,
    ).toBe(201);
  if (status === "failed")
    expect((await c.request("POST", `/v1/builds/${id}/policy-violations`, { code: "stop", message: "m" })).status).toBe(
      201,
    );
  if (status === "aborted") expect((await c.request("POST", `/v1/builds/${id}/abort`)).status).toBe(200);
  expect((await c.request("GET", `/v1/builds/${id}`)).body.status).toBe(status);
  return id;
}

interface Outcome {
  status: number;
  body: any;
  buildStatus: string;
  events: string[];
}

async function perform(c: Caller, id: string, method: string, path: string, body?: unknown): Promise<Outcome> {
  const before = (await eventsOf(c, id)).length;
  const res = await c.request(method, `/v1/builds/${id}${path}`, body);
  const after = await eventsOf(c, id);
  return {
    status: res.status,
    body: res.body,
    buildStatus: (await c.request("GET", `/v1/builds/${id}`)).body.status,
    events: after.slice(before).map((e) => e.event_type),
  };
}

const skipped = (n: number) => Array.from({ length: n }, () => "TASK_SKIPPED");

describe("validity matrix (SPEC §4.10.1)", () => {
  const c = caller({ sub: "matrix_user" });

  describe("abort", () => {
    it.each([["running"], ["paused"], ["failed"]] as const)(
      "%s → aborted, in-flight runs cancelled, then the SPEC sequence",
      async (from) => {
        const api = await c;
        const id = await buildIn(api, from);
        const o = await perform(api, id, "POST", "/abort", { reason: "stop it" });
        expect(o.status).toBe(200);
        expect(o.body.status).toBe("aborted");
        expect(o.buildStatus).toBe("aborted");
        expect(o.events).toEqual([
          ...skipped(4),
          "BUILD_STATUS_CHANGED",
          "BUILD_ABORTED",
          "BUILD_FINISHED",
          "CHECKPOINT_CREATED",
        ]);
      },
    );
    it("completed → 409 build_abort_conflict, no events", async () => {
      const api = await c;
      const o = await perform(api, await buildIn(api, "completed"), "POST", "/abort");
      expect([o.status, o.body.code, o.body.detail, o.buildStatus, o.events]).toEqual([
        409,
        "build_abort_conflict",
        "cannot_abort_completed",
        "completed",
        [],
      ]);
    });
    it("aborted → 200, idempotent: no new events (quirk 4 fixed)", async () => {
      const api = await c;
      const o = await perform(api, await buildIn(api, "aborted"), "POST", "/abort");
      expect([o.status, o.buildStatus, o.events]).toEqual([200, "aborted", []]);
    });
  });

  describe("resume", () => {
    it("running → 200, no transition, BUILD_RESUMED and a checkpoint", async () => {
      const api = await c;
      const o = await perform(api, await buildIn(api, "running"), "POST", "/resume");
      expect([o.status, o.buildStatus, o.events]).toEqual([200, "running", ["BUILD_RESUMED", "CHECKPOINT_CREATED"]]);
    });
    it.each([["paused"], ["failed"]] as const)("%s → running", async (from) => {
      const api = await c;
      const o = await perform(api, await buildIn(api, from), "POST", "/resume", { reason: "go on" });
      expect([o.status, o.buildStatus]).toEqual([200, "running"]);
      expect(o.events).toEqual(["BUILD_STATUS_CHANGED", "BUILD_RESUMED", "CHECKPOINT_CREATED"]);
    });
    it.each([
      ["completed", "cannot_resume_completed"],
      ["aborted", "cannot_resume_aborted"],
    ] as const)("%s → 409 %s, no events", async (from, detail) => {
      const api = await c;
      const o = await perform(api, await buildIn(api, from), "POST", "/resume");
      expect([o.status, o.body.code, o.body.detail, o.buildStatus, o.events]).toEqual([
        409,
        "build_resume_conflict",
        detail,
        from,
        [],
      ]);
    });
  });

  describe("replan", () => {
    it.each([
      ["running", 4],
      ["paused", 4],
      ["failed", 4],
    ] as const)("ABORT on %s → aborted", async (from, inFlight) => {
      const api = await c;
      const o = await perform(api, await buildIn(api, from), "POST", "/replan", { action: "ABORT", reason: "scope" });
      expect([o.status, o.body.action, o.buildStatus]).toEqual([201, "ABORT", "aborted"]);
      expect(o.events).toEqual([...skipped(inFlight), "BUILD_STATUS_CHANGED", "BUILD_FINISHED", "REPLAN_DECISION"]);
    });
    it.each([["completed"], ["aborted"]] as const)("ABORT on %s → decision recorded only", async (from) => {
      const api = await c;
      const o = await perform(api, await buildIn(api, from), "POST", "/replan", { action: "ABORT", reason: "late" });
      expect([o.status, o.buildStatus, o.events]).toEqual([201, from, ["REPLAN_DECISION"]]);
    });
    it.each(STATUSES.map((s) => [s]))("MODIFY_DAG on %s → nodes appended", async (from) => {
      const api = await c;
      const id = await buildIn(api, from);
      const node = { node_id: "verifier", title: "Verify", agent: "verifier", depends_on: ["n1"] };
      const o = await perform(api, id, "POST", "/replan", {
        action: "MODIFY_DAG",
        reason: "more",
        replacement_nodes: [node],
      });
      expect([o.status, o.buildStatus]).toEqual([201, from]);
      expect(o.events.filter((e) => e === "REPLAN_DECISION")).toHaveLength(1);
      const build = (await api.request("GET", `/v1/builds/${id}`)).body;
      expect(build.dag.map((n: any) => n.node_id)).toContain("verifier");
      expect(build.metadata.dag_levels.at(-1)).toEqual(["verifier"]);
    });
    it.each(
      STATUSES.flatMap((s) => [
        [s, "CONTINUE"],
        [s, "REDUCE_SCOPE"],
      ]),
    )("%s %s (manual) → recorded only", async (from, action) => {
      const api = await c;
      const o = await perform(api, await buildIn(api, from), "POST", "/replan", { action });
      expect([o.status, o.body.action, o.body.reason, o.buildStatus, o.events]).toEqual([
        201,
        action,
        "manual_replan",
        from,
        ["REPLAN_DECISION"],
      ]);
    });
    it("a rejected MODIFY_DAG changes nothing (quirk 5 fixed)", async () => {
      const api = await c;
      const id = await buildIn(api, "running");
      const dup = await perform(api, id, "POST", "/replan", {
        action: "MODIFY_DAG",
        replacement_nodes: [{ node_id: "n1", title: "x", agent: "x" }],
      });
      expect([dup.status, dup.body.code, dup.body.detail, dup.events]).toEqual([
        422,
        "invalid_replan",
        "duplicate_replan_node_id:n1",
        [],
      ]);
      const cyc = await perform(api, id, "POST", "/replan", {
        action: "MODIFY_DAG",
        replacement_nodes: [
          { node_id: "x", title: "x", agent: "x", depends_on: ["y"] },
          { node_id: "y", title: "y", agent: "y", depends_on: ["x"] },
        ],
      });
      expect([cyc.status, cyc.body.code, cyc.body.detail, cyc.events]).toEqual([
        422,
        "invalid_replan",
        "dag_cycle_detected",
        [],
      ]);
      const build = (await api.request("GET", `/v1/builds/${id}`)).body;
      expect(build.dag).toHaveLength(5);
      expect(build.replan_history).toEqual([]);
    });
  });

  describe("gates", () => {
    it("BLOCKED on running → paused", async () => {
      const api = await c;
      const o = await perform(api, await buildIn(api, "running"), "POST", "/gates/TEST_GATE", {
        status: "BLOCKED",
        reason: "needs_human_review",
      });
      expect([o.status, o.body.gate, o.body.status, o.body.reason, o.buildStatus, o.events]).toEqual([
        201,
        "TEST_GATE",
        "BLOCKED",
        "needs_human_review",
        "paused",
        ["TEST_GATE", "BUILD_STATUS_CHANGED"],
      ]);
    });
    it("FAIL on running → failed + BUILD_FINISHED", async () => {
      const api = await c;
      const o = await perform(api, await buildIn(api, "running"), "POST", "/gates/MERGE_GATE", {
        status: "FAIL",
        reason: "red",
      });
      expect([o.status, o.buildStatus, o.events]).toEqual([
        201,
        "failed",
        ["MERGE_GATE", "BUILD_STATUS_CHANGED", "BUILD_FINISHED"],
      ]);
    });
    it.each(
      ["paused", "failed", "completed", "aborted"].flatMap((s) => [
        [s, "BLOCKED"],
        [s, "FAIL"],
      ]),
    )("%s %s → recorded, no change", async (from, status) => {
      const api = await c;
      const o = await perform(api, await buildIn(api, from as Status), "POST", "/gates/POLICY_GATE", { status });
      expect([o.status, o.buildStatus, o.events]).toEqual([201, from, ["POLICY_GATE"]]);
    });
    it.each(STATUSES.map((s) => [s]))("PASS on %s → recorded, no change", async (from) => {
      const api = await c;
      const o = await perform(api, await buildIn(api, from), "POST", "/gates/TEST_GATE", {});
      expect([o.status, o.body.status, o.body.reason, o.buildStatus, o.events]).toEqual([
        201,
        "PASS",
        "manual_gate_decision",
        from,
        ["TEST_GATE"],
      ]);
    });
    it("an unknown gate → 422", async () => {
      const api = await c;
      const o = await perform(api, await buildIn(api, "running"), "POST", "/gates/SHIP_GATE", {});
      expect([o.status, o.body.code, o.events]).toEqual([422, "validation_failed", []]);
    });
  });

  describe("policy violations", () => {
    it("blocking on running → failed + BUILD_FINISHED", async () => {
      const api = await c;
      const o = await perform(api, await buildIn(api, "running"), "POST", "/policy-violations", {
        code: "blocked_command",
        message: "rm -rf",
      });
      expect([o.status, o.body.code, o.body.source, o.body.blocking, o.buildStatus, o.events]).toEqual([
        201,
        "blocked_command",
        "policy_engine",
        true,
        "failed",
        ["POLICY_VIOLATION", "BUILD_STATUS_CHANGED", "BUILD_FINISHED"],
      ]);
    });
    it.each(["paused", "failed", "completed", "aborted"].map((s) => [s]))(
      "blocking on %s → recorded, no change",
      async (from) => {
        const api = await c;
        const o = await perform(api, await buildIn(api, from as Status), "POST", "/policy-violations", {
          code: "c",
          message: "m",
        });
        expect([o.status, o.buildStatus, o.events]).toEqual([201, from, ["POLICY_VIOLATION"]]);
      },
    );
  });

  describe("manual tasks", () => {
    it("start on running → 201, TASK_STARTED", async () => {
      const api = await c;
      const o = await perform(api, await buildIn(api, "running"), "POST", "/tasks", { node_id: "n5" });
      expect([o.status, o.body.node_id, o.body.status, o.body.attempt, o.events]).toEqual([
        201,
        "n5",
        "running",
        1,
        ["TASK_STARTED"],
      ]);
    });
    it.each(["paused", "failed", "completed", "aborted"].map((s) => [s]))(
      "start on %s → 409 task_run_conflict",
      async (from) => {
        const api = await c;
        const o = await perform(api, await buildIn(api, from as Status), "POST", "/tasks", { node_id: "n5" });
        expect([o.status, o.body.code, o.body.detail, o.events]).toEqual([
          409,
          "task_run_conflict",
          `cannot_start_task_when_${from}`,
          [],
        ]);
      },
    );
    it("start of an unknown node → 404 dag_node_not_found", async () => {
      const api = await c;
      const o = await perform(api, await buildIn(api, "running"), "POST", "/tasks", { node_id: "ghost" });
      expect([o.status, o.body.code, o.events]).toEqual([404, "dag_node_not_found", []]);
    });
    it.each([["running"], ["paused"], ["failed"]] as const)(
      "complete an in-flight run on %s → ok, no gate, no completion",
      async (from) => {
        const api = await c;
        const id = await buildIn(api, from);
        const runs = (await api.request("GET", `/v1/builds/${id}/tasks?status=running`)).body.items;
        const o = await perform(api, id, "POST", `/tasks/${runs[0].task_run_id}/complete`, { status: "completed" });
        expect([o.status, o.body.status, o.buildStatus, o.events[0]]).toEqual([
          200,
          "completed",
          from,
          "TASK_COMPLETED",
        ]);
        // A running build may use the freed slot at once (the waiting n5); nothing else happens.
        expect(o.events.slice(1)).toEqual(
          from === "running" ? o.events.slice(1).filter((e) => e === "TASK_STARTED") : [],
        );
        expect(o.events.filter((e) => e.startsWith("BUILD_") || e.endsWith("_GATE"))).toEqual([]);
        const again = await perform(api, id, "POST", `/tasks/${runs[0].task_run_id}/complete`, {});
        expect([again.status, again.body.code, again.body.detail, again.events]).toEqual([
          409,
          "task_run_conflict",
          "task_already_finalized",
          [],
        ]);
      },
    );
    it.each([["completed"], ["aborted"]] as const)(
      "complete on %s: runs are final there → 409 task_already_finalized",
      async (from) => {
        const api = await c;
        const id = await buildIn(api, from);
        const run = (await api.request("GET", `/v1/builds/${id}/tasks`)).body.items[0];
        const o = await perform(api, id, "POST", `/tasks/${run.task_run_id}/complete`, { status: "failed" });
        expect([o.status, o.body.detail, o.events]).toEqual([409, "task_already_finalized", []]);
      },
    );
    it("complete with a non-final status → 409 task_final_status_required; unknown run → 404", async () => {
      const api = await c;
      const id = await buildIn(api, "running");
      const run = (await api.request("GET", `/v1/builds/${id}/tasks?status=running`)).body.items[0];
      const o = await perform(api, id, "POST", `/tasks/${run.task_run_id}/complete`, { status: "running" });
      expect([o.status, o.body.detail, o.events]).toEqual([409, "task_final_status_required", []]);
      const missing = await perform(api, id, "POST", `/tasks/nope/complete`, {});
      expect([missing.status, missing.body.code]).toEqual([404, "task_run_not_found"]);
    });
  });

  describe("checkpoint, debt and non-blocking violations are allowed in every status", () => {
    it.each(STATUSES.map((s) => [s]))("%s", async (from) => {
      const api = await c;
      const id = await buildIn(api, from);
      const cp = await perform(api, id, "POST", "/checkpoints", {});
      expect([cp.status, cp.body.reason, cp.body.status, cp.events]).toEqual([
        201,
        "manual_checkpoint",
        from,
        ["CHECKPOINT_CREATED"],
      ]);
      const history = await eventsOf(api, id);
      expect(cp.body.event_cursor).toBe(history.at(-1).seq);
      const debt = await perform(api, id, "POST", "/debt", { node_id: "n1", summary: "flaky", severity: "high" });
      expect([debt.status, debt.body.severity, debt.events]).toEqual([201, "high", ["DEBT_ITEM_RECORDED"]]);
      const v = await perform(api, id, "POST", "/policy-violations", { code: "note", message: "fyi", blocking: false });
      expect([v.status, v.buildStatus, v.events]).toEqual([201, from, ["POLICY_VIOLATION"]]);
    });
  });

  describe("runtime tick (nudge)", () => {
    it("running → 200 and it runs the tick", async () => {
      const api = await c;
      const o = await perform(api, await buildIn(api, "running"), "POST", "/runtime/tick");
      expect(o.status).toBe(200);
      expect(o.body).toMatchObject({
        finished: false,
        active_level: 0,
        executed_nodes: [],
        pending_nodes: ["n1", "n2", "n3", "n4", "n5"],
      });
    });
    it.each([["paused"], ["failed"], ["aborted"]] as const)(
      "%s with a ready node → 409 runtime_tick_conflict, no side effects (quirk 2 fixed)",
      async (from) => {
        const api = await c;
        const o = await perform(api, await buildIn(api, from), "POST", "/runtime/tick");
        expect([o.status, o.body.code, o.body.detail, o.buildStatus, o.events]).toEqual([
          409,
          "runtime_tick_conflict",
          `cannot_start_task_when_${from}`,
          from,
          [],
        ]);
      },
    );
    it("completed → 200, nothing executed, finished", async () => {
      const api = await c;
      const o = await perform(api, await buildIn(api, "completed"), "POST", "/runtime/tick");
      expect([o.status, o.body.executed_nodes, o.body.finished, o.events]).toEqual([200, [], true, []]);
    });
  });
});
