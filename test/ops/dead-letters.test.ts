/**
 * Dead letters: a build whose alarm ticks keep failing (the development/test poison seam,
 * `metadata.test_poison_ticks`) is dead-lettered after RUNTIME_DEAD_LETTER_AFTER_FAILURES
 * consecutive failures — a D1 record with its reason, no re-arm, skipped by the watchdog, flagged
 * in worker-health, nudges refused — listed by the tenant's operators, and completes after a
 * re-drive. Real D1 and Durable Objects; alarms driven with runInDurableObject.
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { BuildRunner } from "../../src/builds/build-runner.do";
import { runWatchdog } from "../../src/builds/watchdog";
import { loadConfig } from "../../src/kernel/env";
import { INSTANT, type Caller, caller, createBuild, waitForStatus } from "../helpers/api";
import { tokenFor } from "../helpers/auth";
import { scrape, scrapeUntil } from "./metrics-helpers";

const ORG = "dead-letter-org";
const LIMIT = loadConfig(env).RUNTIME_DEAD_LETTER_AFTER_FAILURES;

function stub(buildId: string) {
  return env.BUILD_RUNNER.get(env.BUILD_RUNNER.idFromName(buildId));
}

/** Runs the build's alarm until it is dead-lettered; returns the failures seen. */
async function driveUntilDeadLettered(buildId: string): Promise<string[]> {
  const errors: string[] = [];
  for (let i = 0; i < LIMIT + 5; i++) {
    const dead = await runInDurableObject(stub(buildId), async (instance, state) => {
      if (!(instance instanceof BuildRunner)) throw new Error("not a BuildRunner");
      try {
        await instance.alarm();
      } catch (err) {
        errors.push(err instanceof Error ? err.message : String(err));
      }
      return (
        ((await state.storage.get<{ dead: boolean }>("ops:alarm_health"))?.dead ?? false) &&
        (await state.storage.getAlarm()) === null
      );
    });
    if (dead) return errors;
  }
  throw new Error(`build ${buildId} was not dead-lettered: ${errors.join("; ")}`);
}

async function poisonedBuild(c: Caller) {
  return createBuild(c, { metadata: { ...INSTANT, test_poison_ticks: true } });
}

describe("dead letters", () => {
  it("dead-letters a poisoned build, lists it, refuses nudges, and completes it after a re-drive", async () => {
    const operator = await caller({ sub: "dl-operator", org_id: ORG });
    const metricsToken = await tokenFor({ sub: "dl-viewer", org_id: ORG, roles: ["viewer"] });
    const before = await scrape(metricsToken);
    const build = await poisonedBuild(operator);

    const errors = await driveUntilDeadLettered(build.build_id);
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.every((e) => e.includes("fault_injected:poison_tick"))).toBe(true);

    // The record, tenant-scoped, for operators.
    const list = await operator.request("GET", "/v1/ops/dead-letters");
    expect(list.status).toBe(200);
    expect(list.body.items).toHaveLength(1);
    const letter = list.body.items[0];
    expect(letter).toMatchObject({
      build_id: build.build_id,
      created_by: "dl-operator",
      state: "open",
      reason: "tick_failures_exhausted",
      attempts: LIMIT,
      redrive_count: 0,
      redriven_at: null,
      redriven_by: null,
      build_status: "running",
    });
    expect(letter.last_error).toContain("fault_injected:poison_tick");
    expect((await operator.request("GET", `/v1/ops/dead-letters/${build.build_id}`)).body).toEqual(letter);

    // Clients see it: status kept (SPEC statuses), worker-health flags it, a nudge is refused.
    const got = await operator.request("GET", `/v1/builds/${build.build_id}`);
    expect(got.body.status).toBe("running");
    const health = await operator.request("GET", `/v1/builds/${build.build_id}/runtime/worker-health`);
    expect(health.body).toMatchObject({ dead_lettered: true, worker_stale: true, nudge_allowed: false });
    const nudge = await operator.request("POST", `/v1/builds/${build.build_id}/runtime/tick`);
    expect([nudge.status, nudge.body.code]).toEqual([409, "build_dead_lettered"]);

    // No re-arm: the alarm is gone and the watchdog leaves it alone, even long after its lease expired.
    expect(await runInDurableObject(stub(build.build_id), (_i, state) => state.storage.getAlarm())).toBeNull();
    expect(await stub(build.build_id).wake()).toBe(false);
    const watchdog = await runWatchdog(env, Date.now() + 3_600_000);
    expect(watchdog.checked).toBe(0);

    const dead = await scrapeUntil(
      metricsToken,
      (s) => s.value("clarity_tick_failures_total") >= before.value("clarity_tick_failures_total") + LIMIT,
    );
    expect(dead.value("clarity_dead_letters")).toBe(1);
    expect(dead.value("clarity_dead_lettered_total") - before.value("clarity_dead_lettered_total")).toBe(1);
    expect(
      dead.value("clarity_tick_failures_total") - before.value("clarity_tick_failures_total"),
    ).toBeGreaterThanOrEqual(LIMIT);

    // Re-drive: the tick loop runs again (the seam poisons only until the first re-drive) and the build completes.
    const redriven = await operator.request("POST", `/v1/ops/dead-letters/${build.build_id}/redrive`);
    expect(redriven.status).toBe(200);
    expect(redriven.body.was_dead_lettered).toBe(true);
    expect(redriven.body.dead_letter).toMatchObject({
      state: "redriven",
      redrive_count: 1,
      redriven_by: "dl-operator",
    });
    const done = await waitForStatus(operator, build.build_id);
    expect(done.status).toBe("completed");
    expect(
      (await operator.request("GET", `/v1/builds/${build.build_id}/runtime/worker-health`)).body.dead_lettered,
    ).toBe(false);
    expect((await operator.request("GET", "/v1/ops/dead-letters")).body.items).toEqual([]);
    expect(
      (await operator.request("GET", "/v1/ops/dead-letters?state=redriven")).body.items.map((x: any) => x.build_id),
    ).toEqual([build.build_id]);

    // A repeated re-drive is harmless and counts once.
    const again = await operator.request("POST", `/v1/ops/dead-letters/${build.build_id}/redrive`);
    expect([again.status, again.body.was_dead_lettered, again.body.dead_letter.redrive_count]).toEqual([200, false, 1]);
    const after = await scrape(metricsToken);
    expect(after.value("clarity_dead_letters")).toBe(0);
    expect(after.value("clarity_dead_letter_redrives_total") - before.value("clarity_dead_letter_redrives_total")).toBe(
      1,
    );
  });

  it("re-drives every open dead letter of the tenant in one call", async () => {
    const operator = await caller({ sub: "dl-bulk", org_id: "dead-letter-bulk-org" });
    const a = await poisonedBuild(operator);
    const b = await poisonedBuild(operator);
    await driveUntilDeadLettered(a.build_id);
    await driveUntilDeadLettered(b.build_id);
    const res = await operator.request("POST", "/v1/ops/dead-letters/redrive?limit=10");
    expect(res.status).toBe(200);
    expect([...res.body.redriven].sort()).toEqual([a.build_id, b.build_id].sort());
    expect(res.body.remaining).toBe(0);
    expect((await waitForStatus(operator, a.build_id)).status).toBe("completed");
    expect((await waitForStatus(operator, b.build_id)).status).toBe("completed");
  });

  it("is scoped like builds (tenant, then creator or tenant admin) and needs program.runtime.write", async () => {
    const owner = await caller({ sub: "dl-owner", org_id: "dead-letter-scope-org" });
    const build = await poisonedBuild(owner);
    await driveUntilDeadLettered(build.build_id);

    const stranger = await caller({ sub: "dl-stranger", org_id: "another-org" });
    expect((await stranger.request("GET", "/v1/ops/dead-letters")).body.items).toEqual([]);
    const get = await stranger.request("GET", `/v1/ops/dead-letters/${build.build_id}`);
    expect([get.status, get.body.code]).toEqual([404, "dead_letter_not_found"]);
    const redrive = await stranger.request("POST", `/v1/ops/dead-letters/${build.build_id}/redrive`);
    expect([redrive.status, redrive.body.code]).toEqual([404, "dead_letter_not_found"]);

    const viewer = await caller({ sub: "dl-viewer-2", org_id: "dead-letter-scope-org", roles: ["viewer"] });
    const denied = await viewer.request("GET", "/v1/ops/dead-letters");
    expect([denied.status, denied.body.code]).toEqual([403, "insufficient_capability"]);

    // Issue 17 item 12: a teammate operator of the same tenant (not the creator) neither sees nor
    // re-drives it — as with builds (403 for the same tenant); a tenant admin does.
    const teammate = await caller({ sub: "dl-teammate", org_id: "dead-letter-scope-org" });
    expect((await teammate.request("GET", "/v1/ops/dead-letters?state=all")).body.items).toEqual([]);
    const peek = await teammate.request("GET", `/v1/ops/dead-letters/${build.build_id}`);
    expect([peek.status, peek.body.code]).toEqual([403, "build_access_denied"]);
    const push = await teammate.request("POST", `/v1/ops/dead-letters/${build.build_id}/redrive`);
    expect([push.status, push.body.code]).toEqual([403, "build_access_denied"]);
    const bulk = await teammate.request("POST", "/v1/ops/dead-letters/redrive?limit=10");
    expect([bulk.status, bulk.body.redriven, bulk.body.remaining]).toEqual([200, [], 0]);
    const admin = await caller({ sub: "dl-admin", org_id: "dead-letter-scope-org", roles: ["admin"] });
    expect((await admin.request("GET", "/v1/ops/dead-letters")).body.items.map((x: any) => x.build_id)).toEqual([
      build.build_id,
    ]);
    expect((await admin.request("POST", `/v1/ops/dead-letters/${build.build_id}/redrive`)).status).toBe(200);
    expect((await waitForStatus(owner, build.build_id)).status).toBe("completed");
  });

  it("does not dead-letter a build whose ticks recover, and ignores the seam outside development/test", async () => {
    const operator = await caller({ sub: "dl-healthy", org_id: "dead-letter-healthy-org" });
    const build = await createBuild(operator, { metadata: INSTANT });
    expect((await waitForStatus(operator, build.build_id)).status).toBe("completed");
    expect((await operator.request("GET", "/v1/ops/dead-letters?state=all")).body.items).toEqual([]);
    expect(loadConfig({ ...env, ENVIRONMENT: "production", FAULT_INJECTION: undefined } as Env).ENVIRONMENT).toBe(
      "production",
    );
  });
});
