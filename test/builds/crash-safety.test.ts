/**
 * Crash safety of the build runner (issue 18), one test per point a create can be interrupted at,
 * each reproduced with the exact durable state such a crash leaves behind (the runner's storage
 * and alarm, D1), then driven by the real alarm / watchdog. The end-to-end version — SIGKILL of
 * `wrangler dev` under load — is test/node/crash.test.ts.
 */
import {
  createExecutionContext,
  createScheduledController,
  runDurableObjectAlarm,
  runInDurableObject,
  waitOnExecutionContext,
} from "cloudflare:test";
import { env } from "cloudflare:workers";
import { drizzle } from "drizzle-orm/d1";
import { describe, expect, it } from "vitest";
import { BuildRunner } from "../../src/builds/build-runner.do";
import { buildRunner } from "../../src/builds/build-runner.client";
import { commitDraft } from "../../src/builds/builds.repo";
import { deterministicDag } from "../../src/planning/planner";
import { createBuild as createDraft, tick } from "../../src/builds/run-machine";
import { tickOptionsOf } from "../../src/builds/build-runner.core";
import { loadConfig } from "../../src/kernel/env";
import worker from "../../src/index";
import { isoTimestamp, newId } from "../../src/lib/ids";
import { caller, eventsOf, raw, waitForStatus } from "../helpers/api";
import { eventFrames, readSse } from "../helpers/sse";

const db = drizzle(env.DB);

/** The create's draft of a zero-duration deterministic build of `sub` (nothing ticked yet). */
function draftOf(buildId: string, sub: string, now: number) {
  return createDraft(
    {
      build_id: buildId,
      tenant_id: sub,
      created_by: sub,
      repo_url: "https://example.test/crash",
      objective: "crash safety",
      scan_mode: "deterministic",
      metadata: { simulated_duration_ms: 0 },
      dag: deterministicDag(),
      runtime_id: newId(),
    },
    now,
  );
}

/** The durable state of a create interrupted at `point` (what the process left behind). */
async function interruptedCreate(sub: string, point: "before_d1" | "after_d1" | "d1_only"): Promise<string> {
  const buildId = newId();
  const now = Date.now();
  if (point !== "before_d1") {
    const d = draftOf(buildId, sub, now);
    // As the create writes it: lease epoch 1, expiring one TTL after the create.
    const ttl = Number(env.RUNTIME_LEASE_TTL_SECONDS ?? 20) * 1000;
    const expires = point === "d1_only" ? now - 1000 : now + ttl;
    await commitDraft(
      db,
      d,
      { owner: "crashed-runner", epoch: 1, expiresAt: isoTimestamp(expires), heartbeatAt: isoTimestamp(now) },
      { created: true },
    );
  }
  if (point !== "d1_only") {
    await runInDurableObject(buildRunner(env, buildId), async (instance, state) => {
      if (!(instance instanceof BuildRunner)) throw new Error("not a BuildRunner");
      await state.storage.put({ build_id: buildId, create_pending: true });
      await state.storage.setAlarm(now + 5_000);
    });
  }
  return buildId;
}

async function runnerStorage(buildId: string): Promise<{ keys: string[]; alarm: number | null }> {
  return runInDurableObject(buildRunner(env, buildId), async (_i, state) => ({
    keys: [...(await state.storage.list()).keys()],
    alarm: await state.storage.getAlarm(),
  }));
}

async function runWatchdogCron(): Promise<void> {
  const ctx = createExecutionContext();
  await worker.scheduled(createScheduledController({ scheduledTime: new Date(), cron: "* * * * *" }), env, ctx);
  await waitOnExecutionContext(ctx);
}

function expectCleanLog(events: { seq: number; event_type: string }[]): void {
  expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
  expect(events.filter((e) => e.event_type === "BUILD_FINISHED")).toHaveLength(1);
  const results = events
    .filter((e) => e.event_type === "RUNNER_RESULT")
    .map((e: any) => `${e.payload.node_id}#${e.payload.attempt ?? 1}`);
  expect(new Set(results).size).toBe(results.length);
}

describe("a create interrupted before its D1 commit", () => {
  it("never existed: the runner's alarm finds no build and forgets it", async () => {
    const c = await caller({ sub: "crash_before_d1" });
    const id = await interruptedCreate("crash_before_d1", "before_d1");
    expect((await runnerStorage(id)).keys).toContain("create_pending");
    expect(await runDurableObjectAlarm(buildRunner(env, id))).toBe(true);
    expect(await runnerStorage(id)).toEqual({ keys: [], alarm: null });
    expect((await c.request("GET", `/v1/builds/${id}`)).status).toBe(404);
    const row = await env.DB.prepare("SELECT count(*) AS n FROM builds WHERE build_id = ?")
      .bind(id)
      .first<{ n: number }>();
    expect(row?.n).toBe(0);
  });
});

describe("a create interrupted after its D1 commit, before the runner cleared its mark", () => {
  it("runs: the resolve alarm finds the build in D1 and ticks it to a terminal state", async () => {
    const c = await caller({ sub: "crash_after_d1" });
    const id = await interruptedCreate("crash_after_d1", "after_d1");
    expect((await c.request("GET", `/v1/builds/${id}`)).status).toBe(200); // it exists: it must finish
    expect(await runDurableObjectAlarm(buildRunner(env, id))).toBe(true);
    expect((await runnerStorage(id)).keys).not.toContain("create_pending");
    const done = await waitForStatus(c, id);
    expect(done.status).toBe("completed");
    expectCleanLog(await eventsOf(c, id));
  });

  it("a create retried with the same id after a lost D1 response answers the existing build once", async () => {
    const c = await caller({ sub: "crash_retry" });
    const id = await interruptedCreate("crash_retry", "after_d1");
    const res = await buildRunner(env, id).create({
      build_id: id,
      tenant_id: "crash_retry",
      created_by: "crash_retry",
      repo_url: "https://example.test/crash",
      objective: "crash safety",
      scan_mode: "deterministic",
      metadata: { simulated_duration_ms: 0 },
      dag: deterministicDag(),
    });
    expect(res).toMatchObject({ ok: true, value: { build_id: id } });
    expect((await runnerStorage(id)).keys).not.toContain("create_pending");
    expect((await waitForStatus(c, id)).status).toBe("completed");
    expectCleanLog(await eventsOf(c, id));
  });
});

describe("a build in D1 whose runner's storage is empty (the pre-fix create order crashed in between)", () => {
  it("is adopted by the watchdog: the runner takes the id, restores from D1 and finishes the build", async () => {
    const c = await caller({ sub: "crash_d1_only" });
    const id = await interruptedCreate("crash_d1_only", "d1_only");
    expect(await runnerStorage(id)).toEqual({ keys: [], alarm: null });
    await runWatchdogCron();
    const done = await waitForStatus(c, id);
    expect(done.status).toBe("completed");
    expectCleanLog(await eventsOf(c, id));
  });

  it("a runner that knows nothing is not woken without a build id", async () => {
    const id = newId();
    expect(await buildRunner(env, id).wake()).toBe(false);
    expect(await runnerStorage(id)).toEqual({ keys: [], alarm: null });
  });
});

describe("a create its own D1 commit settles (the build finishes in its first tick)", () => {
  it("stores nothing in its runner: no pending mark, no alarm, no id", async () => {
    const c = await caller({ sub: "settled_create" });
    const res = await c.request("POST", "/v1/builds", {
      repo_url: "https://example.test/settled",
      metadata: { simulated_duration_ms: 0 },
    });
    expect(res.status).toBe(201);
    expect(res.body.status).toBe("completed");
    expect(await runnerStorage(res.body.build_id)).toEqual({ keys: [], alarm: null });
    expectCleanLog(await eventsOf(c, res.body.build_id));
  });

  it("a build still running after its first tick keeps the crash-safe create: the id, and the alarm of its next tick", async () => {
    const c = await caller({ sub: "running_create" });
    const res = await c.request("POST", "/v1/builds", {
      repo_url: "https://example.test/running",
      metadata: { simulated_duration_ms: 200 },
    });
    expect(res.status).toBe(201);
    const kept = await runnerStorage(res.body.build_id);
    expect(kept.keys).toEqual(["build_id"]);
    expect(kept.alarm).not.toBeNull();
    expect((await waitForStatus(c, res.body.build_id)).status).toBe("completed");
  });

  it("a runner that stores nothing still serves its build: view, stream replay and control come from its name and D1", async () => {
    const c = await caller({ sub: "settled_fresh" });
    const id = newId();
    // What a settled create leaves: the build in D1, a runner instance that has never seen it.
    const d = draftOf(id, "settled_fresh", Date.now());
    tick(d, tickOptionsOf(loadConfig(env)));
    expect(d.state.status).toBe("completed");
    await commitDraft(
      db,
      d,
      { owner: "gone", epoch: 1, expiresAt: null, heartbeatAt: isoTimestamp(Date.now()) },
      { created: true },
    );
    const view = await buildRunner(env, id).view();
    expect(view).toMatchObject({ ok: true, value: { run: { build_id: id, status: "completed" } } });
    const events = await eventsOf(c, id);
    expectCleanLog(events);
    const stream = await raw(`/v1/builds/${id}/events`, { headers: { authorization: `Bearer ${c.token}` } });
    expect(stream.status).toBe(200);
    const { frames, ended } = await readSse(stream, { timeoutMs: 10_000 });
    expect(ended).toBe(true);
    expect(eventFrames(frames).map((f) => f.id)).toEqual(events.map((e) => e.seq));
    const abort = await c.request("POST", `/v1/builds/${id}/abort`, { reason: "too late" });
    expect(abort.status).toBe(409);
  });
});
