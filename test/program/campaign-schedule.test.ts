import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../../src/index";
import { eventually, expectProblem, operator } from "./program-helpers";

const ALPHA = "https://github.com/acme/alpha";
const BETA = "https://github.com/acme/beta";
const FAIL = { runner_results: { scanner: { status: "failed" } } };

type C = Awaited<ReturnType<typeof operator>>;

/** The real cron entry point at a chosen scheduled time (the controllable clock). */
async function cron(at: string | number): Promise<void> {
  const ctx = createExecutionContext();
  const scheduledTime = new Date(at);
  await worker.scheduled(createScheduledController({ scheduledTime, cron: "* * * * *" }), env, ctx);
  await waitOnExecutionContext(ctx);
}

async function executions(c: C, id: string): Promise<any[]> {
  return (await c.request("GET", `/v1/program/campaigns/${id}/executions?limit=50`)).body.items;
}

async function finished(c: C, id: string, n: number): Promise<any> {
  return eventually(
    async () => {
      const res = await c.request("GET", `/v1/program/campaigns/${id}/executions/${n}`);
      return res.status === 200 && res.body.status === "finished" ? res.body : null;
    },
    15_000,
    `execution ${n} finished`,
  );
}

const schedule = (extra: Record<string, unknown> = {}) => ({
  cron: "*/5 * * * *",
  timezone: "UTC",
  execute: { metadata: { simulated_duration_ms: 0 } },
  ...extra,
});

describe("scheduled campaigns", () => {
  it("execute on their own, once per due time even with overlapping cron invocations; both executions keep separate reports and the trends show the difference", async () => {
    const c = await operator("org-sched");
    const created = await c.request("POST", "/v1/program/campaigns", {
      name: "nightly",
      repos: [ALPHA, BETA],
      runs_per_repo: 2,
      dry_run: true,
      schedule: schedule(),
    });
    expect(created.status).toBe(201);
    const id = created.body.campaign_id;
    const due1 = created.body.next_due_at as string;
    expect(Date.parse(due1)).toBeGreaterThan(Date.now() - 1000);
    expect(new Date(due1).getUTCMinutes() % 5).toBe(0);

    // Before the due time nothing starts.
    await cron(Date.parse(due1) - 60_000);
    expect(await executions(c, id)).toEqual([]);

    // Two overlapping invocations at the due time start exactly one execution.
    await Promise.all([cron(due1), cron(due1), cron(Date.parse(due1) + 1000)]);
    const list1 = await executions(c, id);
    expect(list1.map((e) => [e.n, e.trigger, e.runner_mode])).toEqual([[1, "schedule", "simulated"]]);
    expect(Date.parse(list1[0].due_at)).toBe(Date.parse(due1));
    const one = await finished(c, id, 1);
    expect(one.runs.every((r: any) => r.execution === "simulated")).toBe(true);

    // The next due time moved on; the schedule now fails beta's runs (a regression).
    const put = await c.request("PUT", `/v1/program/campaigns/${id}/schedule`, {
      ...schedule(),
      execute: {
        metadata: { simulated_duration_ms: 0 },
        run_metadata: { "github.com_acme_beta-run-1": FAIL, "github.com_acme_beta-run-2": FAIL },
      },
    });
    expect(put.status).toBe(200);
    expect(put.body.recent_slots).toMatchObject([{ state: "started", execution_id: one.execution_id }]);
    // Fire at every due time the schedule names until the second execution exists (bounded).
    for (let i = 0; i < 3 && (await executions(c, id)).length < 2; i++) {
      const next = (await c.request("GET", `/v1/program/campaigns/${id}/schedule`)).body.next_due_at;
      await cron(next);
    }
    const list2 = await executions(c, id);
    expect(list2.map((e) => e.n)).toEqual([2, 1]);
    const two = await finished(c, id, 2);
    expect(two.report.run_stats.success_rate).toBe(0.5);
    expect((await c.request("GET", `/v1/program/campaigns/${id}/executions/1`)).body.report).toEqual(one.report);

    const trends = await c.request("GET", `/v1/program/campaigns/${id}/trends`);
    expect(trends.status).toBe(200);
    expect(trends.body.executions.map((e: any) => [e.n, e.success_rate, e.simulated_runs])).toEqual([
      [1, 1, 4],
      [2, 0.5, 4],
    ]);
    expect(trends.body.repos.map((r: any) => [r.repo, r.points.map((p: any) => p.success_rate)])).toEqual([
      [ALPHA, [1, 1]],
      [BETA, [1, 0]],
    ]);
    // Failed runs also end sooner, so the duration CV may move too: the success-rate reason is the certain one.
    expect(trends.body.drift.verdict).toBe("degrading");
    expect(trends.body.drift.reasons).toContain("success_rate_down:0.500");
  });

  it("a real (not dry-run) schedule without a runner records the due time as failed and starts nothing", async () => {
    const c = await operator("org-sched-real");
    const { campaign_id: id, next_due_at: due } = (
      await c.request("POST", "/v1/program/campaigns", { name: "real", repos: [ALPHA], schedule: schedule() })
    ).body;
    await cron(due);
    expect(await executions(c, id)).toEqual([]);
    const view = (await c.request("GET", `/v1/program/campaigns/${id}/schedule`)).body;
    expect(view.recent_slots).toMatchObject([{ due_at: due, state: "failed", reason: "runner_not_configured" }]);
    expect(Date.parse(view.next_due_at)).toBe(Date.parse(due) + 5 * 60_000);
  });

  it("keeps at most max_concurrent_builds unfinished and dispatches the rest on later invocations", async () => {
    const c = await operator("org-sched-conc");
    const { campaign_id: id, next_due_at: due } = (
      await c.request("POST", "/v1/program/campaigns", {
        name: "one at a time",
        repos: [ALPHA],
        runs_per_repo: 3,
        dry_run: true,
        schedule: schedule({ max_concurrent_builds: 1, execute: { metadata: { simulated_duration_ms: 150 } } }),
      })
    ).body;
    const counts = async () =>
      (await env.DB.prepare(
        `SELECT COUNT(*) AS linked, SUM(CASE WHEN b.status IS NULL OR b.status IN ('pending','running','paused') THEN 1 ELSE 0 END) AS unfinished
         FROM campaign_builds cb LEFT JOIN builds b ON b.build_id = cb.build_id WHERE cb.campaign_id = ?`,
      )
        .bind(id)
        .first<{ linked: number; unfinished: number }>()) ?? { linked: 0, unfinished: 0 };
    await cron(due);
    expect(await counts()).toEqual({ linked: 1, unfinished: 1 });
    // Invocations while that build runs start nothing more; later ones start the next, one at a time.
    await eventually(
      async () => {
        await cron(Date.parse(due) + 1000);
        const now = await counts();
        expect(now.unfinished).toBeLessThanOrEqual(1);
        return now.linked === 3;
      },
      30_000,
      "all 3 builds dispatched",
    );
    const one = await finished(c, id, 1);
    expect(one.runs).toHaveLength(3);
  });

  it("resumes a due time claimed by an invocation that crashed before starting, with the claimed execution id", async () => {
    const c = await operator("org-sched-crash");
    const { campaign_id: id, next_due_at: due } = (
      await c.request("POST", "/v1/program/campaigns", {
        name: "crash",
        repos: [ALPHA],
        runs_per_repo: 1,
        dry_run: true,
        schedule: schedule(),
      })
    ).body;
    const claimed = crypto.randomUUID();
    await env.DB.prepare(
      `INSERT INTO campaign_schedule_slots (campaign_id, due_at, tenant_id, execution_id, state, attempts, created_at, updated_at)
       VALUES (?, ?, 'org-sched-crash', ?, 'claimed', 0, ?, ?)`,
    )
      .bind(id, due, claimed, due, due)
      .run();
    await cron(due);
    await cron(due);
    const list = await executions(c, id);
    expect(list.map((e) => [e.n, e.execution_id])).toEqual([[1, claimed]]);
  });

  it("refuses a cron expression or time zone that does not parse with 422 invalid_schedule", async () => {
    const c = await operator("org-sched-bad");
    for (const bad of [
      { cron: "61 * * * *" },
      { cron: "0 0 * * * *" },
      { cron: "*/5 * * * *", timezone: "Mars/Base" },
    ]) {
      const res = await c.request("POST", "/v1/program/campaigns", { name: "bad", repos: [ALPHA], schedule: bad });
      expectProblem(res, 422, "invalid_schedule");
    }
    const { campaign_id: id } = (await c.request("POST", "/v1/program/campaigns", { name: "ok", repos: [ALPHA] })).body;
    expectProblem(
      await c.request("PUT", `/v1/program/campaigns/${id}/schedule`, { cron: "every day" }),
      422,
      "invalid_schedule",
    );
    const del = await c.request("DELETE", `/v1/program/campaigns/${id}/schedule`);
    expect(del.status).toBe(204);
  });
});
