/**
 * Reliability under injected faults (issue 9). Runs for real in the "faults" suite
 * (vitest.faults.config.ts: 30% of simulated node attempts fail, 10% of ticks throw inside the
 * alarm, every alarm is delivered twice); the main suite, which has no FAULT_INJECTION, excludes
 * this file. Real D1/KV/DO, alarms firing in real time.
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { BuildRunner } from "../../src/builds/build-runner.do";
import { buildRunner } from "../../src/builds/build-runner.client";
import { D1_DOWN_UNTIL_KEY } from "../../src/builds/commit-faults";
import { loadConfig } from "../../src/kernel/env";
import { type Caller, caller, createBuild } from "../helpers/api";

const faults = env.FAULT_INJECTION ? loadConfig(env).FAULT_INJECTION : undefined;
const FINAL = new Set(["completed", "failed", "aborted"]);
/** Fast retries so a build with many injected failures still finishes in well under a second. */
const RETRIES = {
  max_task_retries: 6,
  retry_policy: { initial_interval_ms: 5, multiplier: 1.5, max_interval_ms: 40, jitter: 0.5 },
};
const INTAKE = { must_not_break_flows: ["Checkout", "Login"], sensitive_data: ["pii"], scale_expectation: "high" };

/** A spread of plans and failure handling: SPEC profiles, custom DAGs, fallback, abort-on-failure, exhausted budgets. */
function buildBodies(): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (let i = 0; i < 6; i++) {
    const duration = { simulated_duration_ms: i % 2 === 0 ? 0 : 3 };
    out.push(
      { metadata: { autonomous_planner_profile: "static_v1", ...RETRIES, ...duration } },
      {
        metadata: {
          autonomous_planner_profile: "adaptive_parallel_v1",
          project_intake: INTAKE,
          ...RETRIES,
          ...duration,
        },
      },
      { metadata: { scan_mode: "deterministic", ...RETRIES, ...duration } },
      {
        dag: [
          { node_id: "a", title: "A", agent: "scanner" },
          { node_id: "b", title: "B", agent: "builder", depends_on: ["a"] },
          { node_id: "c", title: "C", agent: "security", depends_on: ["a"] },
          { node_id: "d", title: "D", agent: "planner", depends_on: ["b", "c"], gate: "TEST_GATE" },
        ],
        metadata: { ...RETRIES, ...duration },
      },
    );
  }
  // Small budgets: some builds exhaust them and fail, abort, or fall back to the deterministic DAG.
  out.push(
    { metadata: { autonomous_planner_profile: "static_v1", max_task_retries: 0, simulated_duration_ms: 0 } },
    {
      metadata: {
        autonomous_planner_profile: "static_v1",
        max_task_retries: 0,
        replanner_abort_on_terminal_failure: true,
        simulated_duration_ms: 0,
      },
    },
    {
      metadata: {
        scan_mode: "autonomous",
        fallback_scan_mode: "deterministic",
        max_task_retries: 1,
        retry_policy: RETRIES.retry_policy,
        simulated_duration_ms: 0,
      },
    },
    {
      metadata: {
        scan_mode: "autonomous",
        fallback_scan_mode: "deterministic",
        max_task_retries: 0,
        simulated_duration_ms: 1,
      },
    },
  );
  return out;
}

async function settle(c: Caller, ids: string[], timeoutMs: number): Promise<Map<string, any>> {
  const done = new Map<string, any>();
  const deadline = Date.now() + timeoutMs;
  while (done.size < ids.length) {
    for (const id of ids) {
      if (done.has(id)) continue;
      const res = await c.request("GET", `/v1/builds/${id}`);
      expect(res.status).toBe(200);
      if (FINAL.has(res.body.status)) done.set(id, res.body);
    }
    if (done.size === ids.length) break;
    if (Date.now() > deadline) {
      const stuck = ids.filter((id) => !done.has(id));
      throw new Error(`${stuck.length} build(s) not terminal after ${timeoutMs} ms: ${stuck.join(", ")}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return done;
}

/** Every event of a build, through the paged history endpoint. */
async function allEvents(c: Caller, id: string): Promise<any[]> {
  const out: any[] = [];
  let cursor = 0;
  for (;;) {
    const res = await c.request("GET", `/v1/builds/${id}/events/history?cursor=${cursor}&limit=200`);
    expect(res.status).toBe(200);
    out.push(...res.body.items);
    if (res.body.next_cursor === null) return out;
    cursor = res.body.next_cursor;
  }
}

/** The invariants of one finished build; returns counters for the run-wide checks. */
function checkBuild(build: any, events: any[]) {
  const id = build.build_id;
  // Event seq: contiguous from 1, no duplicates.
  expect(
    events.map((e) => e.seq),
    `seq of ${id}`,
  ).toEqual(events.map((_, i) => i + 1));
  // Exactly one BUILD_FINISHED, naming the final status.
  const finished = events.filter((e) => e.event_type === "BUILD_FINISHED");
  expect(
    finished.map((e) => e.payload.final_status),
    `BUILD_FINISHED of ${id}`,
  ).toEqual([build.status]);
  const lastTransition = events.filter((e) => e.event_type === "BUILD_STATUS_CHANGED").at(-1);
  expect(lastTransition?.payload.to_status).toBe(build.status);

  // Task runs ↔ events: one TASK_STARTED per run, one terminal task event per run, attempts 1..k per node.
  const runs: any[] = build.task_runs;
  expect(
    runs.filter((r) => r.status === "running" || r.status === "pending"),
    `runs in flight of ${id}`,
  ).toEqual([]);
  const started = events.filter((e) => e.event_type === "TASK_STARTED");
  expect(started.map((e) => e.payload.task_run_id).sort()).toEqual(runs.map((r) => r.task_run_id).sort());
  const terminalType = { completed: "TASK_COMPLETED", failed: "TASK_FAILED", skipped: "TASK_SKIPPED" } as Record<
    string,
    string
  >;
  for (const run of runs) {
    const start = started.find((e) => e.payload.task_run_id === run.task_run_id);
    expect(start.payload.attempt).toBe(run.attempt);
    expect(start.payload.node_id).toBe(run.node_id);
    const ends = events.filter((e) => e.payload.task_run_id === run.task_run_id && e.event_type !== "TASK_STARTED");
    expect(
      ends.map((e) => e.event_type),
      `terminal events of run ${run.task_run_id}`,
    ).toEqual([terminalType[run.status]]);
    expect(ends[0].payload.attempt).toBe(run.attempt);
    expect(ends[0].seq).toBeGreaterThan(start.seq);
  }
  const byNode = new Map<string, number[]>();
  for (const r of runs) byNode.set(r.node_id, [...(byNode.get(r.node_id) ?? []), r.attempt]);
  for (const [node, attempts] of byNode) {
    expect(
      attempts.sort((a, b) => a - b),
      `attempts of ${node} in ${id}`,
    ).toEqual(attempts.map((_, i) => i + 1));
  }
  // A later attempt exists only after a failed one with its retry scheduled (no double dispatch).
  const retries = events.filter((e) => e.event_type === "TASK_RETRY_SCHEDULED");
  for (const run of runs.filter((r) => r.attempt > 1)) {
    const prev = runs.find((r) => r.node_id === run.node_id && r.attempt === run.attempt - 1);
    expect(prev?.status, `attempt ${run.attempt - 1} of ${run.node_id} before a retry`).toBe("failed");
    expect(
      retries.filter((e) => e.payload.node_id === run.node_id && e.payload.next_attempt === run.attempt),
    ).toHaveLength(1);
  }
  expect(new Set(retries.map((e) => `${e.payload.node_id}#${e.payload.attempt}`)).size).toBe(retries.length);
  // One runner result per run the runtime collected (cancelled runs have none).
  const collected = runs.filter((r) => !(r.status === "skipped" && String(r.error ?? "").startsWith("cancelled:")));
  expect(events.filter((e) => e.event_type === "RUNNER_RESULT")).toHaveLength(collected.length);
  return { injected: runs.filter((r) => r.error === "fault_injected:node_failure").length, retries: retries.length };
}

describe("under injected faults (node failures, throwing ticks, redelivered alarms, failed and lost D1 commits)", () => {
  it("ends every build terminal with contiguous event seqs and task attempts consistent with the events", async () => {
    expect(faults?.node_failure_rate).toBeGreaterThanOrEqual(0.3);
    const c = await caller();
    const created = await Promise.all(buildBodies().map((body) => createBuild(c, body)));
    const builds = await settle(
      c,
      created.map((b) => b.build_id),
      60_000,
    );

    let injected = 0;
    let retries = 0;
    const statuses: Record<string, number> = {};
    for (const build of builds.values()) {
      const counts = checkBuild(build, await allEvents(c, build.build_id));
      injected += counts.injected;
      retries += counts.retries;
      statuses[build.status] = (statuses[build.status] ?? 0) + 1;
      // The D1 row agrees with the API and nothing is left leased or in flight.
      const row = await env.DB.prepare("SELECT status, lease_expires_at FROM builds WHERE build_id = ?")
        .bind(build.build_id)
        .first<any>();
      expect(row).toEqual({ status: build.status, lease_expires_at: null });
      const inFlight = await env.DB.prepare(
        "SELECT count(*) AS n FROM task_runs WHERE build_id = ? AND status = 'running'",
      )
        .bind(build.build_id)
        .first<any>();
      expect(inFlight.n).toBe(0);
    }
    console.log(JSON.stringify({ builds: builds.size, statuses, injected, retries }));
    // The faults really happened, were retried, and most builds still completed.
    expect(injected).toBeGreaterThan(10);
    expect(retries).toBeGreaterThan(10);
    expect(statuses.completed ?? 0).toBeGreaterThanOrEqual(20);
  });

  it("a tick that throws commits nothing, and redelivered alarms add no events or runs", async () => {
    const c = await caller();
    // Long nodes: every tick after the first finds nothing due, so any extra event is a duplicate.
    const build = await createBuild(c, {
      metadata: { autonomous_planner_profile: "static_v1", simulated_duration_ms: 60_000 },
    });
    const stub = buildRunner(env, build.build_id);
    const baseline = async () =>
      (await c.request("GET", `/v1/builds/${build.build_id}/events/history?limit=2000`)).body.items as any[];
    // Wait for the first dispatch (the creating alarm may itself have thrown and be retried).
    const deadline = Date.now() + 20_000;
    while (!(await baseline()).some((e) => e.event_type === "TASK_STARTED")) {
      if (Date.now() > deadline) throw new Error("the first tick never committed");
      await new Promise((r) => setTimeout(r, 50));
    }
    const before = await baseline();
    let thrown = 0;
    await runInDurableObject(stub, async (instance) => {
      if (!(instance instanceof BuildRunner)) throw new Error("not a BuildRunner");
      for (let i = 0; i < 60; i++) {
        try {
          await instance.alarm();
        } catch (err) {
          expect(String(err)).toContain("fault_injected:tick_throw");
          thrown++;
        }
      }
    });
    expect(thrown).toBeGreaterThan(0);
    expect(thrown).toBeLessThan(60);
    const after = await baseline();
    expect(after.map((e) => e.seq)).toEqual(before.map((e) => e.seq));
    // Stop the loop so no tick outlives the test.
    const aborted = await c.request("POST", `/v1/builds/${build.build_id}/abort`, { reason: "test done" });
    expect(aborted.status).toBe(200);
    const events = await baseline();
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(events.filter((e) => e.event_type === "BUILD_FINISHED")).toHaveLength(1);
  });

  it("D1 unreachable for seconds mid-run: ticks fail without partial writes, and the build resumes when D1 is back", async () => {
    const c = await caller();
    const build = await createBuild(c, {
      metadata: { autonomous_planner_profile: "static_v1", simulated_duration_ms: 200, ...RETRIES },
    });
    const stub = buildRunner(env, build.build_id);
    const deadline = Date.now() + 20_000;
    while (!(await allEvents(c, build.build_id)).some((e) => e.event_type === "TASK_STARTED")) {
      if (Date.now() > deadline) throw new Error("the first tick never committed");
      await new Promise((r) => setTimeout(r, 20));
    }
    const outageMs = 3_000;
    const until = Date.now() + outageMs;
    await runInDurableObject(stub, (_i, state) => state.storage.put(D1_DOWN_UNTIL_KEY, until));
    const during = (await allEvents(c, build.build_id)).length;
    // The tick loop keeps trying and failing while D1 is away (the guard counts the failures).
    let sawFailure = false;
    while (Date.now() < until - 200) {
      const health = await runInDurableObject(stub, (_i, state) =>
        state.storage.get<{ failures: number; last_error?: string }>("ops:alarm_health"),
      );
      if ((health?.failures ?? 0) > 0 && String(health?.last_error).includes("fault_injected:d1_unreachable"))
        sawFailure = true;
      expect((await allEvents(c, build.build_id)).length, "nothing is written while D1 is unreachable").toBe(during);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(sawFailure).toBe(true);
    const done = await settle(c, [build.build_id], 60_000);
    const final = done.get(build.build_id);
    expect(final.status).toBe("completed");
    checkBuild(final, await allEvents(c, build.build_id));
  });
});
