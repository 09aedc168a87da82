import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ingestFinishedBuild } from "../../src/program/campaigns.service";
import { createBuild, waitForStatus } from "../helpers/api";
import { eventually, expectProblem, operator, withCaps } from "./program-helpers";

const ALPHA = "https://github.com/acme/alpha";
const BETA = "https://github.com/acme/beta";
const FAIL = { runner_results: { scanner: { status: "failed" } } };

async function runsOf(c: Awaited<ReturnType<typeof operator>>, campaignId: string): Promise<any[]> {
  return (await c.request("GET", `/v1/program/campaigns/${campaignId}/runs?limit=200`)).body.items;
}

describe("POST /v1/program/campaigns/{id}/execute", () => {
  it("runs 2 repos × 3 runs as builds, ingests all 6 outcomes by itself and lists the simulated ones as excluded evidence", async () => {
    const c = await operator("org-exec");
    const { campaign_id } = (
      await c.request("POST", "/v1/program/campaigns", { name: "exec", repos: [ALPHA, BETA], runs_per_repo: 3 })
    ).body;

    const res = await c.request("POST", `/v1/program/campaigns/${campaign_id}/execute`, {
      metadata: { simulated_duration_ms: 0 },
      run_metadata: { "github.com_acme_beta-run-1": FAIL, "github.com_acme_beta-run-2": FAIL },
      languages: { [ALPHA]: "typescript", [BETA]: "python" },
    });
    expect(res.status).toBe(202);
    expect(res.headers.get("location")).toBe(`/v1/program/campaigns/${campaign_id}/report`);
    expect(res.body).toMatchObject({ campaign_id, run_count: 6 });
    expect(res.body.runs.map((r: any) => r.run_id)).toEqual([
      "github.com_acme_alpha-run-1",
      "github.com_acme_alpha-run-2",
      "github.com_acme_alpha-run-3",
      "github.com_acme_beta-run-1",
      "github.com_acme_beta-run-2",
      "github.com_acme_beta-run-3",
    ]);

    // The builds are real builds of the caller, tagged with the campaign.
    const builds = await Promise.all(res.body.runs.map((r: any) => waitForStatus(c, r.build_id)));
    expect(builds.map((b) => b.status)).toEqual([
      "completed",
      "completed",
      "completed",
      "failed",
      "failed",
      "completed",
    ]);
    expect(builds[3].metadata).toMatchObject({
      campaign_id,
      campaign_execution_id: res.body.execution_id,
      campaign_run_id: "github.com_acme_beta-run-1",
    });

    // The completion hook ingests every outcome; no client ingest and no report read needed.
    const runs = await eventually(
      async () => {
        const items = await runsOf(c, campaign_id);
        return items.length === 6 ? items : null;
      },
      10_000,
      "6 ingested runs",
    );
    expect(runs.map((r) => [r.run_id, r.status, r.source, r.language])).toEqual([
      ["github.com_acme_alpha-run-1", "completed", "build", "typescript"],
      ["github.com_acme_alpha-run-2", "completed", "build", "typescript"],
      ["github.com_acme_alpha-run-3", "completed", "build", "typescript"],
      ["github.com_acme_beta-run-1", "failed", "build", "python"],
      ["github.com_acme_beta-run-2", "failed", "build", "python"],
      ["github.com_acme_beta-run-3", "completed", "build", "python"],
    ]);
    for (const r of runs) {
      expect(r.build_id).toBe(res.body.runs.find((x: any) => x.run_id === r.run_id).build_id);
      expect(r.duration_ms).toBeGreaterThanOrEqual(0);
      expect(r.ingested_by).toBe("system");
    }

    // This pool has no runner: every campaign build is simulated, so the report lists all six
    // runs as excluded and counts none (a GO can never rest on simulated builds).
    const report = (await c.request("GET", `/v1/program/campaigns/${campaign_id}/report`)).body;
    expect(report.summary.repos.map((r: any) => [r.repo, r.run_count])).toEqual([
      [ALPHA, 0],
      [BETA, 0],
    ]);
    expect(report.excluded_runs.map((r: any) => [r.run_id, r.execution, r.reason])).toEqual(
      runs.map((r) => [r.run_id, "simulated", "simulated_evidence_excluded"]),
    );
    expect(report.rubric.reasons).toContain("simulated_evidence_excluded:6");
    expect(report.gate.reasons).toContain(`insufficient_runs:${BETA}:0`);
    expect(report.rubric.release_ready).toBe(false);
    expect(report.recommendations).toContain("run_campaign_builds_on_a_real_runner");
    expect(report.evidence).toEqual({
      runs_from_builds: 6,
      runs_real: 0,
      runs_simulated: 6,
      runs_from_clients: 0,
      execution_id: res.body.execution_id,
    });
    expect(report.plan.runs.map((r: any) => [r.run_id, r.language])).toEqual([
      ["github.com_acme_alpha-run-1", "typescript"],
      ["github.com_acme_alpha-run-2", "typescript"],
      ["github.com_acme_alpha-run-3", "typescript"],
      ["github.com_acme_beta-run-1", "python"],
      ["github.com_acme_beta-run-2", "python"],
      ["github.com_acme_beta-run-3", "python"],
    ]);

    // System evidence cannot be overwritten by a client.
    const forged = await c.request("POST", `/v1/program/campaigns/${campaign_id}/runs`, {
      repo: BETA,
      language: "python",
      run_id: "github.com_acme_beta-run-1",
      status: "completed",
    });
    expectProblem(forged, 409, "campaign_run_conflict");
  });

  it("ingests idempotently: the hook may run many times; the latest state of the build wins", async () => {
    const c = await operator("org-exec-idem");
    const { campaign_id } = (
      await c.request("POST", "/v1/program/campaigns", { name: "idem", repos: [ALPHA], runs_per_repo: 1 })
    ).body;
    const exec = (
      await c.request("POST", `/v1/program/campaigns/${campaign_id}/execute`, {
        metadata: { simulated_duration_ms: 0 },
      })
    ).body;
    const build = await waitForStatus(c, exec.runs[0].build_id);
    const event = {
      build_id: build.build_id,
      tenant_id: "org-exec-idem",
      created_by: "user_org-exec-idem",
      repo_url: ALPHA,
      final_status: "completed" as const,
      metadata: build.metadata,
      created_at: build.created_at,
      finished_at: build.updated_at,
      duration_ms: 42,
      findings_total: 7,
    };
    await ingestFinishedBuild(env, event);
    await ingestFinishedBuild(env, event);
    const runs = await runsOf(c, campaign_id);
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({
      status: "completed",
      duration_ms: 42,
      findings_total: 7,
      build_id: build.build_id,
    });

    // A stale duplicate claiming another outcome does not override the build's real state.
    await ingestFinishedBuild(env, { ...event, final_status: "failed" });
    expect((await runsOf(c, campaign_id))[0]).toMatchObject({ status: "completed" });

    // Builds that merely claim to belong to the campaign (wrong tenant, unknown run, not linked) are ignored.
    await ingestFinishedBuild(env, { ...event, tenant_id: "org-other" });
    await ingestFinishedBuild(env, { ...event, metadata: { ...build.metadata, campaign_run_id: "ghost-run-1" } });
    const stray = await createBuild(c, { repo_url: ALPHA, metadata: { simulated_duration_ms: 0, ...build.metadata } });
    await waitForStatus(c, stray.build_id);
    await ingestFinishedBuild(env, { ...event, build_id: stray.build_id, metadata: stray.metadata });
    const after = await runsOf(c, campaign_id);
    expect(after).toHaveLength(1);
    expect(after[0].build_id).toBe(build.build_id);
  });

  it("reconciles on read: a finished campaign build whose run is missing is ingested by GET report", async () => {
    const c = await operator("org-exec-reconcile");
    const { campaign_id } = (
      await c.request("POST", "/v1/program/campaigns", { name: "rec", repos: [ALPHA], runs_per_repo: 2 })
    ).body;
    const exec = (
      await c.request("POST", `/v1/program/campaigns/${campaign_id}/execute`, {
        metadata: { simulated_duration_ms: 0 },
      })
    ).body;
    for (const r of exec.runs) await waitForStatus(c, r.build_id);
    await eventually(async () => (await runsOf(c, campaign_id)).length === 2, 10_000, "hook ingest");
    // Simulate a lost hook: drop the stored runs.
    await env.DB.prepare("DELETE FROM campaign_runs WHERE campaign_id = ?").bind(campaign_id).run();
    expect(await runsOf(c, campaign_id)).toHaveLength(0);
    const report = (await c.request("GET", `/v1/program/campaigns/${campaign_id}/report`)).body;
    expect(report.excluded_runs).toHaveLength(2); // ingested again, and listed (simulated: not counted)
    expect(report.evidence).toMatchObject({ runs_from_builds: 2, runs_simulated: 2 });
    expect((await runsOf(c, campaign_id)).map((r) => r.source)).toEqual(["build", "build"]);
  });

  it("refuses while builds are unfinished (409), then re-executes with fresh builds", async () => {
    const c = await operator("org-exec-again");
    const { campaign_id } = (
      await c.request("POST", "/v1/program/campaigns", { name: "again", repos: [ALPHA], runs_per_repo: 1 })
    ).body;
    const slow = await c.request("POST", `/v1/program/campaigns/${campaign_id}/execute`, {
      metadata: { simulated_duration_ms: 400 },
    });
    expect(slow.status).toBe(202);
    expectProblem(
      await c.request("POST", `/v1/program/campaigns/${campaign_id}/execute`, {}),
      409,
      "campaign_execution_in_progress",
    );
    await waitForStatus(c, slow.body.runs[0].build_id);
    const again = await c.request("POST", `/v1/program/campaigns/${campaign_id}/execute`, {
      metadata: { simulated_duration_ms: 0 },
    });
    expect(again.status).toBe(202);
    expect(again.body.execution_id).not.toBe(slow.body.execution_id);
    await waitForStatus(c, again.body.runs[0].build_id);
    const runs = await eventually(
      async () => {
        const items = await runsOf(c, campaign_id);
        return items[0]?.build_id === again.body.runs[0].build_id ? items : null;
      },
      10_000,
      "re-executed run",
    );
    expect(runs).toHaveLength(1);
    expect((await c.request("GET", `/v1/program/campaigns/${campaign_id}`)).body.current_execution_id).toBe(
      again.body.execution_id,
    );
  });

  it("rejects an empty plan and unknown override targets without creating builds", async () => {
    const c = await operator("org-exec-invalid");
    const empty = (await c.request("POST", "/v1/program/campaigns", { name: "empty" })).body;
    expectProblem(
      await c.request("POST", `/v1/program/campaigns/${empty.campaign_id}/execute`, {}),
      422,
      "campaign_plan_invalid",
    );
    const { campaign_id } = (
      await c.request("POST", "/v1/program/campaigns", { name: "x", repos: [ALPHA], runs_per_repo: 2 })
    ).body;
    const typo = await c.request("POST", `/v1/program/campaigns/${campaign_id}/execute`, {
      run_metadata: { "alpha-run-1": FAIL },
      repo_metadata: { nope: {} },
    });
    expectProblem(typo, 422, "validation_failed");
    expect(typo.body.errors.map((e: any) => e.path).sort()).toEqual(["repo_metadata.nope", "run_metadata.alpha-run-1"]);
    expect((await c.request("GET", "/v1/builds")).body.items).toEqual([]);
    expect((await c.request("GET", `/v1/program/campaigns/${campaign_id}`)).body.current_execution_id).toBeNull();
  });

  it("needs program.runtime.write besides program.validation.write, since it creates builds", async () => {
    const owner = await operator("org-exec-caps");
    const { campaign_id } = (
      await owner.request("POST", "/v1/program/campaigns", { name: "caps", repos: [ALPHA], runs_per_repo: 1 })
    ).body;
    const validationOnly = await withCaps("org-exec-caps", ["program.validation.write"]);
    const res = await validationOnly.request("POST", `/v1/program/campaigns/${campaign_id}/execute`, {});
    expectProblem(res, 403, "insufficient_capability");
    expect(res.body.detail).toBe("Missing required capability: program.runtime.write");
  });
});
