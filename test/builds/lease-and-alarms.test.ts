import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { drizzle } from "drizzle-orm/d1";
import { describe, expect, it } from "vitest";
import { BuildRunner } from "../../src/builds/build-runner.do";
import { StaleLeaseError, commitDraft, loadBuildState } from "../../src/builds/builds.repo";
import { buildRunner } from "../../src/builds/build-runner.client";
import { Draft } from "../../src/builds/run-machine";
import { caller, createBuild, eventsOf, waitForStatus } from "../helpers/api";

const db = drizzle(env.DB);

async function epochOf(buildId: string): Promise<number> {
  const row = await env.DB.prepare("SELECT lease_epoch FROM builds WHERE build_id = ?")
    .bind(buildId)
    .first<{ lease_epoch: number }>();
  return row?.lease_epoch ?? -1;
}

describe("at-least-once alarms", () => {
  it("adds no duplicate events or task runs when the same alarm is delivered several times", async () => {
    const c = await caller({ sub: "user_alarm_dup" });
    // Long simulated nodes: after the first tick the scanner is in flight and nothing else is due.
    const created = await createBuild(c, { metadata: { simulated_duration_ms: 60_000 } });
    const stub = buildRunner(env, created.build_id);
    await runInDurableObject(stub, async (instance) => {
      if (!(instance instanceof BuildRunner)) throw new Error("not a BuildRunner");
      await instance.alarm();
      await Promise.all([instance.alarm(), instance.alarm(), instance.alarm()]);
      await instance.alarm();
    });
    const events = await eventsOf(c, created.build_id);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(events.filter((e) => e.event_type === "TASK_STARTED")).toHaveLength(1);
    const runs = await env.DB.prepare("SELECT count(*) AS n FROM task_runs WHERE build_id = ?")
      .bind(created.build_id)
      .first<{ n: number }>();
    expect(runs?.n).toBe(1);
  });

  it("completes a zero-duration build exactly once under concurrent duplicate alarms", async () => {
    const c = await caller({ sub: "user_alarm_dup2" });
    const created = await createBuild(c, { metadata: { simulated_duration_ms: 0 } });
    const stub = buildRunner(env, created.build_id);
    await runInDurableObject(stub, async (instance) => {
      if (!(instance instanceof BuildRunner)) throw new Error("not a BuildRunner");
      await Promise.all([instance.alarm(), instance.alarm()]);
    });
    const build = await waitForStatus(c, created.build_id);
    expect(build.status).toBe("completed");
    const events = await eventsOf(c, created.build_id);
    expect(events.filter((e) => e.event_type === "BUILD_FINISHED")).toHaveLength(1);
    expect(events.filter((e) => e.event_type === "TASK_STARTED")).toHaveLength(4);
  });
});

describe("lease fencing", () => {
  it("rejects a batch written under a stale epoch atomically", async () => {
    const c = await caller({ sub: "user_fence" });
    const created = await createBuild(c, { metadata: { simulated_duration_ms: 60_000 } });
    // Let the real first alarm dispatch the scanner; after that nothing is due for a minute.
    while (!(await eventsOf(c, created.build_id)).some((e) => e.event_type === "TASK_STARTED"))
      await new Promise((r) => setTimeout(r, 10));
    const state = await loadBuildState(db, created.build_id);
    if (!state) throw new Error("missing build");
    const before = await eventsOf(c, created.build_id);
    const epoch = await epochOf(created.build_id);

    const d = new Draft(state, Date.now());
    d.emit("DEBT_ITEM_RECORDED", {
      debt_id: "x",
      node_id: "scanner",
      severity: "high",
      summary: "s",
      source: "manual",
    });
    d.transition("aborted", "stale_writer", "manual");
    const lease = { owner: "zombie", epoch: epoch - 1, expiresAt: null, heartbeatAt: new Date().toISOString() };
    await expect(commitDraft(db, d, lease)).rejects.toBeInstanceOf(StaleLeaseError);

    const after = await eventsOf(c, created.build_id);
    expect(after.length).toBe(before.length);
    const row = await env.DB.prepare("SELECT status, lease_owner FROM builds WHERE build_id = ?")
      .bind(created.build_id)
      .first<{ status: string; lease_owner: string }>();
    expect(row?.status).toBe("running");
    expect(row?.lease_owner).not.toBe("zombie");
    const fences = await env.DB.prepare("SELECT count(*) AS n FROM build_write_fences").first<{ n: number }>();
    expect(fences?.n).toBe(0);
  });

  it("a runner whose lease was taken over cannot change the build; it re-acquires a newer epoch later", async () => {
    const c = await caller({ sub: "user_fence_do" });
    const created = await createBuild(c, { metadata: { simulated_duration_ms: 60_000 } });
    const stub = buildRunner(env, created.build_id);
    await runInDurableObject(stub, async (instance) => {
      if (!(instance instanceof BuildRunner)) throw new Error("not a BuildRunner");
      await instance.alarm(); // make sure the first tick ran under this instance's lease
      const before = await eventsOf(c, created.build_id);
      const taken = (await epochOf(created.build_id)) + 1;
      // Another owner takes the lease.
      await env.DB.prepare("UPDATE builds SET lease_epoch = ?, lease_owner = 'other-runner' WHERE build_id = ?")
        .bind(taken, created.build_id)
        .run();
      const res = await instance.nudge();
      expect(res).toEqual({ ok: false, code: "lease_lost" });
      expect((await eventsOf(c, created.build_id)).length).toBe(before.length);
      const row = await env.DB.prepare("SELECT lease_owner FROM builds WHERE build_id = ?")
        .bind(created.build_id)
        .first<{ lease_owner: string }>();
      expect(row?.lease_owner).toBe("other-runner");
      // The next tick starts over: reloads from D1 under a fresh, newer epoch.
      const again = await instance.nudge();
      expect(again.ok).toBe(true);
      expect(await epochOf(created.build_id)).toBe(taken + 1);
    });
  });
});
