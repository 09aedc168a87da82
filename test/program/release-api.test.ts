import { describe, expect, it } from "vitest";
import { type Caller, waitForStatus } from "../helpers/api";
import { eventually, expectProblem, operator } from "./program-helpers";

const ALL_TRUE = {
  security_review: true,
  slo_dashboard: true,
  rollback_tested: true,
  docs_complete: true,
  runbooks_ready: true,
};

describe("release checklist (SPEC §6.7)", () => {
  it("upserts as a full replace (201 then 200), unspecified items false; GET returns it", async () => {
    const c = await operator("org-rel-check");
    const first = await c.request("POST", "/v1/program/checklist", {
      release_id: "r-1",
      security_review: true,
      docs_complete: true,
    });
    expect(first.status).toBe(201);
    expect(first.headers.get("location")).toBe("/v1/program/checklist/r-1");
    expect(first.body).toMatchObject({
      release_id: "r-1",
      security_review: true,
      slo_dashboard: false,
      rollback_tested: false,
      docs_complete: true,
      runbooks_ready: false,
      updated_by: "user_org-rel-check",
    });
    const replaced = await c.request("POST", "/v1/program/checklist", { release_id: "r-1", slo_dashboard: true });
    expect(replaced.status).toBe(200);
    expect(replaced.body).toMatchObject({ security_review: false, slo_dashboard: true, docs_complete: false });
    expect((await c.request("GET", "/v1/program/checklist/r-1")).body).toEqual(replaced.body);
    const missing = await c.request("GET", "/v1/program/checklist/r-404");
    expectProblem(missing, 404, "checklist_not_found");
    expect(missing.body.detail).toBe("Release checklist not found.");
    expectProblem(
      await c.request("POST", "/v1/program/checklist", { release_id: "r", security_review: "yes" }),
      422,
      "validation_failed",
    );
    expectProblem(await c.request("POST", "/v1/program/checklist", { release_id: "  " }), 422, "validation_failed");
  });

  it("accepts free-form release ids with spaces and unicode in the path", async () => {
    const c = await operator("org-rel-ids");
    const id = "2026.04 beta·1";
    const res = await c.request("POST", "/v1/program/checklist", { release_id: id });
    expect(res.headers.get("location")).toBe(`/v1/program/checklist/${encodeURIComponent(id)}`);
    expect((await c.request("GET", res.headers.get("location") as string)).body.release_id).toBe(id);
  });
});

describe("rollback drills (SPEC §6.8)", () => {
  it("upserts by release id and requires passed and duration_minutes", async () => {
    const c = await operator("org-rel-drill");
    const first = await c.request("POST", "/v1/program/rollback-drills", {
      release_id: "r-1",
      passed: true,
      duration_minutes: 12,
    });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({
      release_id: "r-1",
      passed: true,
      duration_minutes: 12,
      issues_found: [],
      updated_by: "user_org-rel-drill",
    });
    const replaced = await c.request("POST", "/v1/program/rollback-drills", {
      release_id: "r-1",
      passed: false,
      duration_minutes: 30,
      issues_found: ["db lag"],
    });
    expect(replaced.status).toBe(200);
    expect((await c.request("GET", "/v1/program/rollback-drills/r-1")).body).toMatchObject({
      passed: false,
      duration_minutes: 30,
      issues_found: ["db lag"],
    });
    const missing = await c.request("GET", "/v1/program/rollback-drills/none");
    expectProblem(missing, 404, "rollback_drill_not_found");
    expect(missing.body.detail).toBe("Rollback drill not found.");
    expectProblem(
      await c.request("POST", "/v1/program/rollback-drills", { release_id: "r", duration_minutes: 1 }),
      422,
      "validation_failed",
    );
    expectProblem(
      await c.request("POST", "/v1/program/rollback-drills", { release_id: "r", passed: true }),
      422,
      "validation_failed",
    );
  });
});

async function decide(c: Caller, body: Record<string, unknown>) {
  const res = await c.request("POST", "/v1/program/go-live-decision", body);
  expect([200, 201]).toContain(res.status);
  return res;
}

describe("go-live decision (SPEC §6.8)", () => {
  it("nothing recorded → NO_GO [checklist_missing, rollback_drill_missing, validation_not_release_ready]", async () => {
    const c = await operator("org-golive-empty");
    const res = await decide(c, { release_id: "r-empty" });
    expect(res.status).toBe(201);
    expect(res.headers.get("location")).toBe("/v1/program/go-live-decision/r-empty");
    expect(res.body).toMatchObject({
      release_id: "r-empty",
      status: "NO_GO",
      reasons: ["checklist_missing", "rollback_drill_missing", "validation_not_release_ready"],
      decided_by: "user_org-golive-empty",
      validation: { source: "asserted", campaign_id: null, release_ready: false, score: null, profile_name: null },
    });
    expect((await c.request("GET", "/v1/program/go-live-decision/r-empty")).body).toEqual(res.body);
  });

  it("all items false + failed drill + ready=true → NO_GO with the six reasons in SPEC order", async () => {
    const c = await operator("org-golive-false");
    await c.request("POST", "/v1/program/checklist", { release_id: "r" });
    await c.request("POST", "/v1/program/rollback-drills", { release_id: "r", passed: false, duration_minutes: 5 });
    const res = await decide(c, { release_id: "r", validation_release_ready: true });
    expect(res.body.status).toBe("NO_GO");
    expect(res.body.reasons).toEqual([
      "security_review_incomplete",
      "slo_dashboard_missing",
      "docs_incomplete",
      "runbooks_not_ready",
      "rollback_not_tested",
      "rollback_drill_failed",
    ]);
  });

  it("everything in place → GO; a new decision replaces the stored one (200)", async () => {
    const c = await operator("org-golive-go");
    await c.request("POST", "/v1/program/checklist", { release_id: "r", ...ALL_TRUE });
    await c.request("POST", "/v1/program/rollback-drills", { release_id: "r", passed: true, duration_minutes: 12 });
    const go = await decide(c, { release_id: "r", validation_release_ready: true });
    expect(go.body).toMatchObject({ status: "GO", reasons: [] });
    const noGo = await decide(c, { release_id: "r" });
    expect(noGo.status).toBe(200);
    expect(noGo.body).toMatchObject({ status: "NO_GO", reasons: ["validation_not_release_ready"] });
    expect((await c.request("GET", "/v1/program/go-live-decision/r")).body.status).toBe("NO_GO");
    const missing = await c.request("GET", "/v1/program/go-live-decision/none");
    expectProblem(missing, 404, "go_live_decision_not_found");
    expect(missing.body.detail).toBe("Decision not found.");
  });

  it("with campaign_id, validation readiness comes from the campaign's report of real evidence, not the client's flag", async () => {
    const c = await operator("org-golive-campaign");
    await c.request("POST", "/v1/program/checklist", { release_id: "r", ...ALL_TRUE });
    await c.request("POST", "/v1/program/rollback-drills", { release_id: "r", passed: true, duration_minutes: 12 });
    // A small custom profile so 1 repo × 3 runs can be release ready.
    const profile = { profile_name: "smoke", min_repo_count: 1, min_total_runs: 3, max_duration_cv: 100 };
    const repo = "https://github.com/acme/a";
    const newCampaign = async (name: string) =>
      (
        await c.request("POST", "/v1/program/campaigns", {
          name,
          repos: [repo],
          runs_per_repo: 3,
          threshold_profile: profile,
        })
      ).body;
    const ready = await newCampaign("good");
    const flaky = await newCampaign("bad");
    const simulated = await newCampaign("simulated");

    // Before any evidence: not ready, whatever the client asserts.
    const early = await decide(c, { release_id: "r", campaign_id: ready.campaign_id, validation_release_ready: true });
    expect(early.body).toMatchObject({ status: "NO_GO", reasons: ["validation_not_release_ready"] });
    expect(early.body.validation).toMatchObject({
      source: "campaign",
      campaign_id: ready.campaign_id,
      release_ready: false,
      profile_name: "smoke",
      simulated_runs: 0,
    });

    // Evidence reported by a client holding the ingest capability counts; a failed run makes the other campaign not ready.
    const ingest = (campaignId: string, i: number, status: string) =>
      c.request("POST", `/v1/program/campaigns/${campaignId}/runs`, {
        repo,
        language: "ts",
        run_id: `run-${i}`,
        status,
        duration_ms: 1000,
      });
    for (const i of [1, 2, 3]) {
      expect((await ingest(ready.campaign_id, i, "completed")).status).toBe(201);
      expect((await ingest(flaky.campaign_id, i, i === 2 ? "failed" : "completed")).status).toBe(201);
    }
    const go = await decide(c, { release_id: "r", campaign_id: ready.campaign_id, validation_release_ready: false });
    expect(go.body).toMatchObject({ status: "GO", reasons: [] });
    expect(go.body.validation).toEqual({
      source: "campaign",
      campaign_id: ready.campaign_id,
      release_ready: true,
      score: 100,
      profile_name: "smoke",
      simulated_runs: 0,
      dry_run: false,
    });

    const report = (await c.request("GET", `/v1/program/campaigns/${flaky.campaign_id}/report`)).body;
    expect(report.gate.reasons).toEqual([`success_rate_below_threshold:${repo}:0.667`]);
    const noGo = await decide(c, { release_id: "r", campaign_id: flaky.campaign_id, validation_release_ready: true });
    expect(noGo.body).toMatchObject({ status: "NO_GO", reasons: ["validation_not_release_ready"] });
    expect(noGo.body.validation).toMatchObject({
      source: "campaign",
      release_ready: false,
      score: report.rubric.score,
    });

    // A campaign executed with simulated builds only (this pool has no runner) is never evidence.
    const exec = (
      await c.request("POST", `/v1/program/campaigns/${simulated.campaign_id}/execute`, {
        metadata: { simulated_duration_ms: 0 },
      })
    ).body;
    for (const r of exec.runs) await waitForStatus(c, r.build_id);
    await eventually(
      async () =>
        (await c.request("GET", `/v1/program/campaigns/${simulated.campaign_id}/report`)).body.excluded_runs.length ===
        3,
      10_000,
      "3 excluded runs",
    );
    const sim = await decide(c, {
      release_id: "r",
      campaign_id: simulated.campaign_id,
      validation_release_ready: true,
    });
    expect(sim.body).toMatchObject({
      status: "NO_GO",
      reasons: ["validation_not_release_ready", "simulated_evidence_excluded"],
    });
    expect(sim.body.validation).toMatchObject({ source: "campaign", release_ready: false, simulated_runs: 3 });

    // A dry-run campaign is never evidence, even with runs that would pass: its report says so.
    const dry = (
      await c.request("POST", "/v1/program/campaigns", {
        name: "dry",
        repos: [repo],
        runs_per_repo: 3,
        threshold_profile: profile,
        dry_run: true,
      })
    ).body;
    for (const i of [1, 2, 3]) expect((await ingest(dry.campaign_id, i, "completed")).status).toBe(201);
    const dryReport = (await c.request("GET", `/v1/program/campaigns/${dry.campaign_id}/report`)).body;
    expect(dryReport).toMatchObject({ dry_run: true, rubric: { release_ready: false, reasons: ["dry_run_campaign"] } });
    const dryDecision = await decide(c, {
      release_id: "r",
      campaign_id: dry.campaign_id,
      validation_release_ready: true,
    });
    expect(dryDecision.body).toMatchObject({
      status: "NO_GO",
      reasons: ["validation_not_release_ready", "dry_run_campaign"],
    });
    expect(dryDecision.body.validation).toMatchObject({ source: "campaign", dry_run: true, release_ready: false });

    expectProblem(
      await c.request("POST", "/v1/program/go-live-decision", { release_id: "r", campaign_id: crypto.randomUUID() }),
      404,
      "campaign_not_found",
    );
  });
});
