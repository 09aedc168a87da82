import { describe, expect, it } from "vitest";
import { caller, createBuild, waitForStatus } from "../helpers/api";
import { operator, seedBuildRow } from "./program-helpers";

const S = 1000;
const MIN = 60 * S;
const H = 60 * MIN;
const D = 24 * H;

function objective(body: any, name: string) {
  return body.objectives.find((o: any) => o.name === name);
}

describe("GET /v1/program/slo-summary", () => {
  it("with no builds: zero reference fields and no_data (not healthy)", async () => {
    const c = await operator("org-slo-empty");
    const res = await c.request("GET", "/v1/program/slo-summary");
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      total_builds: 0,
      completed_builds: 0,
      failed_builds: 0,
      aborted_builds: 0,
      running_builds: 0,
      success_rate: 0,
      mean_cycle_seconds: 0,
      scope: "caller",
      state: "no_data",
    });
    expect(res.body.objectives.map((o: any) => [o.name, o.state, o.error_budget_remaining])).toEqual([
      ["build_success", "no_data", null],
      ["completion_latency", "no_data", null],
    ]);
    expect(Object.keys(objective(res.body, "build_success").windows)).toEqual(["5m", "30m", "1h", "6h", "3d", "30d"]);
  });

  it("gives the exact reference fields over the caller's builds only (SPEC §6.6)", async () => {
    const now = Date.now();
    const t = "org-slo-ref";
    const me = "user_slo_ref";
    const seed = (status: string, createdAgo: number, cycleMs: number, createdBy = me, tenantId = t) =>
      seedBuildRow({ tenantId, createdBy, status, createdAt: now - createdAgo, updatedAt: now - createdAgo + cycleMs });
    await seed("completed", 10 * MIN, 10 * S);
    await seed("completed", 9 * MIN, 20 * S);
    await seed("failed", 8 * MIN, 5.5 * S);
    await seed("aborted", 7 * MIN, 1 * S);
    await seed("running", 6 * MIN, 3 * S);
    await seed("paused", 5 * MIN, 0);
    await seed("pending", 4 * MIN, -2 * S); // clock skew: counts as 0
    await seed("completed", 3 * MIN, 99 * S, "user_someone_else"); // same tenant, other user
    await seed("completed", 3 * MIN, 99 * S, me, "org-other"); // same sub, other tenant

    const c = await caller({ sub: me, org_id: t, roles: ["viewer"] });
    const body = (await c.request("GET", "/v1/program/slo-summary")).body;
    expect(body).toMatchObject({
      total_builds: 7,
      completed_builds: 2,
      failed_builds: 1,
      aborted_builds: 1,
      running_builds: 3,
      success_rate: 0.2857, // 2/7
      mean_cycle_seconds: 5.6429, // (10 + 20 + 5.5 + 1 + 3 + 0 + 0) / 7 = 5.642857…
      scope: "caller",
    });

    // A tenant admin sees the tenant's builds.
    const admin = await caller({ sub: "user_slo_admin", org_id: t, roles: ["admin"] });
    expect((await admin.request("GET", "/v1/program/slo-summary")).body).toMatchObject({
      total_builds: 8,
      completed_builds: 3,
      scope: "tenant",
    });
  });

  it("computes windows, burn rates, budget and alert state for a seeded failure burst", async () => {
    const now = Date.now();
    const t = "org-slo-burst";
    const me = "user_slo_burst";
    const seed = (status: string, finishedAgo: number, cycleMs: number, abortedBy?: "manual" | "replanner") =>
      seedBuildRow({
        tenantId: t,
        createdBy: me,
        status,
        createdAt: now - finishedAgo - cycleMs,
        updatedAt: now - finishedAgo,
        abortedBy,
      });
    // Last 5 minutes: the burst — 2 failed, 1 aborted by the replanner (bad), 1 aborted by an operator
    // (excluded), 1 completed in 60 s.
    await seed("failed", 1 * MIN, 30 * S);
    await seed("failed", 2 * MIN, 30 * S);
    await seed("aborted", 2 * MIN, 30 * S, "replanner");
    await seed("aborted", 3 * MIN, 30 * S, "manual");
    await seed("completed", 1 * MIN, 60 * S);
    // 2 hours ago: 10 completed but slow (20 min > the 900 s latency threshold).
    for (let i = 0; i < 10; i++) await seed("completed", 2 * H, 20 * MIN);
    // 1 day ago: 30 fast completed; 10 days ago: 56 fast completed.
    for (let i = 0; i < 30; i++) await seed("completed", 1 * D, 5 * MIN);
    for (let i = 0; i < 56; i++) await seed("completed", 10 * D, 5 * MIN);
    // Created before the 30-day budget period: outside every window.
    await seed("failed", 31 * D, 1 * MIN);

    const c = await caller({ sub: me, org_id: t, roles: ["viewer"] });
    const body = (await c.request("GET", "/v1/program/slo-summary")).body;

    // Target 0.95 (error budget 5 %): burn rate = bad share / 0.05.
    //            valid  good  bad   bad share   burn
    // 5m, 30m, 1h    4     1    3   0.75        15
    // 6h            14    11    3   0.2142857    4.2857
    // 3d            44    41    3   0.0681818    1.3636
    // 30d          100    97    3   0.03         0.6   → budget remaining 0.4
    // 14.4× (1h & 5m) fires → page; 6× (6h & 30m) not (6h is 4.29); 1× (3d & 6h) fires.
    const success = objective(body, "build_success");
    expect(success.target).toBe(0.95);
    expect(
      Object.fromEntries(
        Object.entries(success.windows).map(([w, v]: [string, any]) => [w, [v.valid, v.good, v.bad, v.burn_rate]]),
      ),
    ).toEqual({
      "5m": [4, 1, 3, 15],
      "30m": [4, 1, 3, 15],
      "1h": [4, 1, 3, 15],
      "6h": [14, 11, 3, 4.2857],
      "3d": [44, 41, 3, 1.3636],
      "30d": [100, 97, 3, 0.6],
    });
    expect(success.windows["6h"].sli).toBe(0.7857);
    expect(success.error_budget_remaining).toBe(0.4);
    expect(
      success.alerts.map((a: any) => [
        a.severity,
        a.long_window,
        a.short_window,
        a.long_burn_rate,
        a.short_burn_rate,
        a.firing,
      ]),
    ).toEqual([
      ["page", "1h", "5m", 15, 15, true],
      ["page", "6h", "30m", 4.2857, 15, false],
      ["ticket", "3d", "6h", 1.3636, 4.2857, true],
    ]);
    expect(success.state).toBe("page");

    // Latency (completed builds within 900 s, target 0.95):
    // 5m..1h: 1 valid, 1 good → 0; 6h: 11 valid, 1 good → 10/11/0.05 = 18.1818;
    // 3d: 41 valid, 31 good → 4.878; 30d: 97 valid, 87 good → 2.0619 → budget −1.0619.
    // 6× needs 30m too (0) → no page; 1× on 3d & 6h → ticket.
    const latency = objective(body, "completion_latency");
    expect(latency.threshold_seconds).toBe(900);
    expect(
      Object.fromEntries(
        Object.entries(latency.windows).map(([w, v]: [string, any]) => [w, [v.valid, v.good, v.burn_rate]]),
      ),
    ).toEqual({
      "5m": [1, 1, 0],
      "30m": [1, 1, 0],
      "1h": [1, 1, 0],
      "6h": [11, 1, 18.1818],
      "3d": [41, 31, 4.878],
      "30d": [97, 87, 2.0619],
    });
    expect(latency.error_budget_remaining).toBe(-1.0619);
    expect(latency.alerts.map((a: any) => a.firing)).toEqual([false, false, true]);
    expect(latency.state).toBe("ticket");

    expect(body.state).toBe("page");
    // The reference fields cover every build of the caller, in or out of the windows.
    expect(body).toMatchObject({
      total_builds: 102,
      completed_builds: 97,
      failed_builds: 3,
      aborted_builds: 2,
      running_builds: 0,
      success_rate: 0.951,
    });
  });

  it("simulated builds are no evidence: counted apart, never in the objectives (issue 16)", async () => {
    // This pool has no runner, so these builds are simulated (the http-runner suite has the real ones).
    const c = await operator("org-slo-simulated");
    const done = await createBuild(c, { metadata: { simulated_duration_ms: 0 } });
    const stopped = await createBuild(c, { metadata: { simulated_duration_ms: 60_000 } });
    await waitForStatus(c, done.build_id);
    expect((await c.request("POST", `/v1/builds/${stopped.build_id}/abort`, {})).status).toBe(200);
    const body = (await c.request("GET", "/v1/program/slo-summary")).body;
    expect(body).toMatchObject({ total_builds: 0, simulated_builds_excluded: 2, state: "no_data" });
    expect(objective(body, "build_success").windows["5m"]).toMatchObject({ valid: 0, good: 0, bad: 0 });
  });
});
