import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { waitForStatus } from "../helpers/api";
import { eventually, expectProblem, operator } from "./program-helpers";

const ALPHA = "https://github.com/acme/alpha";
const BETA = "https://github.com/acme/beta";
const FAIL = { runner_results: { scanner: { status: "failed" } } };

type C = Awaited<ReturnType<typeof operator>>;

async function finished(c: C, campaignId: string, n: number): Promise<any> {
  return eventually(
    async () => {
      const res = await c.request("GET", `/v1/program/campaigns/${campaignId}/executions/${n}`);
      return res.status === 200 && res.body.status === "finished" ? res.body : null;
    },
    15_000,
    `execution ${n} finished`,
  );
}

describe("campaign history: GET /v1/program/campaigns/{id}/executions", () => {
  it("keeps every execution with its own runs and frozen report; a re-execution overwrites nothing", async () => {
    const c = await operator("org-history");
    const { campaign_id } = (
      await c.request("POST", "/v1/program/campaigns", { name: "hist", repos: [ALPHA, BETA], runs_per_repo: 2 })
    ).body;

    const first = await c.request("POST", `/v1/program/campaigns/${campaign_id}/execute`, {
      metadata: { simulated_duration_ms: 0 },
    });
    expect(first.status).toBe(202);
    expect(first.body.n).toBe(1);
    await Promise.all(first.body.runs.map((r: any) => waitForStatus(c, r.build_id)));
    const one = await finished(c, campaign_id, 1);

    const second = await c.request("POST", `/v1/program/campaigns/${campaign_id}/execute`, {
      metadata: { simulated_duration_ms: 0 },
      run_metadata: { "github.com_acme_beta-run-1": FAIL, "github.com_acme_beta-run-2": FAIL },
    });
    expect(second.body.n).toBe(2);
    await Promise.all(second.body.runs.map((r: any) => waitForStatus(c, r.build_id)));
    const two = await finished(c, campaign_id, 2);

    // Each execution keeps its own runs (its own builds) and its own report.
    expect(one.runs.map((r: any) => [r.run_id, r.status, r.execution])).toEqual([
      ["github.com_acme_alpha-run-1", "completed", "simulated"],
      ["github.com_acme_alpha-run-2", "completed", "simulated"],
      ["github.com_acme_beta-run-1", "completed", "simulated"],
      ["github.com_acme_beta-run-2", "completed", "simulated"],
    ]);
    expect(two.runs.map((r: any) => r.status)).toEqual(["completed", "completed", "failed", "failed"]);
    expect(new Set([...one.runs, ...two.runs].map((r: any) => r.build_id)).size).toBe(8);
    expect(one.report.run_stats.success_rate).toBe(1);
    expect(two.report.run_stats.success_rate).toBe(0.5);
    expect(two.report.run_stats.repos.map((r: any) => [r.repo, r.success_rate, r.simulated_runs])).toEqual([
      [ALPHA, 1, 2],
      [BETA, 0, 2],
    ]);
    // Simulated runs stay excluded from the rubric, labelled in the report.
    expect(one.report.excluded_runs).toHaveLength(4);
    expect(one.report.rubric.release_ready).toBe(false);

    // The first report is frozen: reading it after the second execution gives the same report.
    const again = (await c.request("GET", `/v1/program/campaigns/${campaign_id}/executions/1`)).body;
    expect(again.report).toEqual(one.report);
    expect(again.finished_at).toBe(one.finished_at);

    // Newest first, keyset-paged with an opaque cursor.
    const p1 = (await c.request("GET", `/v1/program/campaigns/${campaign_id}/executions?limit=1`)).body;
    expect(p1.items.map((e: any) => e.n)).toEqual([2]);
    expect(typeof p1.next_cursor).toBe("string");
    const p2 = (
      await c.request("GET", `/v1/program/campaigns/${campaign_id}/executions?limit=1&cursor=${p1.next_cursor}`)
    ).body;
    expect(p2.items.map((e: any) => [e.n, e.trigger, e.status])).toEqual([[1, "manual", "finished"]]);
    expect(p2.next_cursor).toBeNull();
  });

  it("answers 404 campaign_execution_not_found for a number that does not exist, and 404 for another tenant", async () => {
    const c = await operator("org-history-404");
    const other = await operator("org-history-other");
    const { campaign_id } = (await c.request("POST", "/v1/program/campaigns", { name: "x", repos: [ALPHA] })).body;
    expectProblem(
      await c.request("GET", `/v1/program/campaigns/${campaign_id}/executions/1`),
      404,
      "campaign_execution_not_found",
    );
    expectProblem(
      await other.request("GET", `/v1/program/campaigns/${campaign_id}/executions`),
      404,
      "campaign_not_found",
    );
    expectProblem(
      await c.request("GET", `/v1/program/campaigns/${campaign_id}/executions?cursor=bm90LWEtbnVtYmVy`),
      422,
      "validation_failed",
    );
  });

  it("runs ingested by reconciliation carry the build's real findings counts (findings_summary)", async () => {
    const c = await operator("org-history-findings");
    const { campaign_id } = (
      await c.request("POST", "/v1/program/campaigns", { name: "f", repos: [ALPHA], runs_per_repo: 1 })
    ).body;
    const exec = (
      await c.request("POST", `/v1/program/campaigns/${campaign_id}/execute`, {
        metadata: { simulated_duration_ms: 0 },
      })
    ).body;
    const buildId = exec.runs[0].build_id;
    await waitForStatus(c, buildId);
    await finished(c, campaign_id, 1);
    // Forget what the hook stored and give the build findings: reconciliation must read them.
    const summary = {
      total: 6,
      by_severity: { critical: 1, high: 2, medium: 3, low: 0, info: 0 },
      new: 6,
      unchanged: 0,
      fixed: 0,
      baseline_build_id: null,
    };
    await env.DB.batch([
      env.DB.prepare("DELETE FROM campaign_runs WHERE campaign_id = ?").bind(campaign_id),
      env.DB.prepare("DELETE FROM campaign_execution_runs WHERE campaign_id = ?").bind(campaign_id),
      env.DB.prepare("UPDATE campaign_executions SET status = 'running', report = NULL WHERE campaign_id = ?").bind(
        campaign_id,
      ),
      env.DB.prepare("UPDATE builds SET findings_summary = ? WHERE build_id = ?").bind(
        JSON.stringify(summary),
        buildId,
      ),
    ]);
    // Reconciliation runs on the campaign and report reads.
    expect((await c.request("GET", `/v1/program/campaigns/${campaign_id}/report`)).status).toBe(200);
    const run = (await c.request("GET", `/v1/program/campaigns/${campaign_id}/runs/github.com_acme_alpha-run-1`)).body;
    expect(run.findings_total).toBe(6);
    const one = (await c.request("GET", `/v1/program/campaigns/${campaign_id}/executions/1`)).body;
    expect(one.runs[0]).toMatchObject({ findings_total: 6, findings_by_severity: summary.by_severity });
    expect(one.report.run_stats.findings_by_severity).toEqual(summary.by_severity);
  });
});
