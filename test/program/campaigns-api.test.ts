import { describe, expect, it } from "vitest";
import { expectProblem, operator } from "./program-helpers";

const run = (repo: string, run_id: string, status: string, duration_ms = 100) => ({
  repo,
  language: "ts",
  run_id,
  status,
  duration_ms,
});

describe("POST/GET /v1/program/campaigns", () => {
  it("creates a campaign (201 + Location), trims and de-duplicates repos, clamps runs_per_repo to ≥ 1", async () => {
    const c = await operator("org-camp-create");
    const res = await c.request("POST", "/v1/program/campaigns", {
      name: " Beta ",
      repos: [" a ", "b", "", "a"],
      runs_per_repo: 0,
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      name: "Beta",
      repos: ["a", "b"],
      runs_per_repo: 1,
      created_by: "user_org-camp-create",
      current_execution_id: null,
      threshold_profile: {
        profile_name: "beta_default",
        min_repo_count: 10,
        min_total_runs: 30,
        min_runs_per_repo: 3,
        min_success_rate: 0.8,
        min_average_success_rate: 0.85,
        max_duration_cv: 0.35,
        release_ready_min_score: 85,
      },
    });
    expect(res.headers.get("location")).toBe(`/v1/program/campaigns/${res.body.campaign_id}`);
    const got = await c.request("GET", res.headers.get("location") as string);
    expect(got.status).toBe(200);
    expect(got.body).toEqual(res.body);
    expect((await c.request("POST", "/v1/program/campaigns", { name: "x" })).body).toMatchObject({
      repos: [],
      runs_per_repo: 3,
    });
  });

  it("validates the body (422 validation_failed) and rejects a custom profile named beta_default", async () => {
    const c = await operator("org-camp-invalid");
    expectProblem(await c.request("POST", "/v1/program/campaigns", { repos: [] }), 422, "validation_failed");
    expectProblem(
      await c.request("POST", "/v1/program/campaigns", { name: "x", runs_per_repo: 26 }),
      422,
      "validation_failed",
    );
    expectProblem(
      await c.request("POST", "/v1/program/campaigns", {
        name: "x",
        threshold_profile: { profile_name: "beta_default", min_repo_count: 1 },
      }),
      422,
      "validation_failed",
    );
    expectProblem(await c.request("POST", "/v1/program/campaigns", "{nope"), 400, "malformed_json");
    const custom = await c.request("POST", "/v1/program/campaigns", {
      name: "x",
      threshold_profile: { profile_name: "smoke", min_repo_count: 1 },
    });
    expect(custom.body.threshold_profile).toMatchObject({
      profile_name: "smoke",
      min_repo_count: 1,
      min_total_runs: 30,
    });
  });

  it("404 campaign_not_found for an unknown id, 422 for a malformed one", async () => {
    const c = await operator("org-camp-404");
    const res = await c.request("GET", `/v1/program/campaigns/${crypto.randomUUID()}`);
    expectProblem(res, 404, "campaign_not_found");
    expect(res.body.detail).toBe("Campaign not found.");
    expectProblem(await c.request("GET", "/v1/program/campaigns/not-a-uuid"), 422, "validation_failed");
    expectProblem(
      await c.request("GET", `/v1/program/campaigns/${crypto.randomUUID()}/report`),
      404,
      "campaign_not_found",
    );
    expectProblem(
      await c.request("POST", `/v1/program/campaigns/${crypto.randomUUID()}/runs`, run("a", "r1", "completed")),
      404,
      "campaign_not_found",
    );
  });

  it("lists the tenant's campaigns newest first with a keyset cursor", async () => {
    const c = await operator("org-camp-list");
    const other = await operator("org-camp-list-other");
    await other.request("POST", "/v1/program/campaigns", { name: "foreign" });
    const made: string[] = [];
    for (let i = 0; i < 5; i++)
      made.push((await c.request("POST", "/v1/program/campaigns", { name: `c${i}` })).body.campaign_id);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res: any = await c.request("GET", `/v1/program/campaigns?limit=2${cursor ? `&cursor=${cursor}` : ""}`);
      expect(res.status).toBe(200);
      expect(res.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...res.body.items.map((x: any) => x.campaign_id));
      cursor = res.body.next_cursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual([...made].reverse());
    expectProblem(await c.request("GET", "/v1/program/campaigns?cursor=garbage"), 422, "validation_failed");
  });
});

describe("POST /v1/program/campaigns/{id}/runs and the report", () => {
  it("reports the empty campaign exactly as SPEC §6.1 (score 25.0 and four reasons)", async () => {
    const c = await operator("org-report-empty");
    const { campaign_id } = (await c.request("POST", "/v1/program/campaigns", { name: "empty" })).body;
    const res = await c.request("GET", `/v1/program/campaigns/${campaign_id}/report`);
    expect(res.status).toBe(200);
    expect(res.body.rubric).toEqual({
      profile_name: "beta_default",
      passed: false,
      release_ready: false,
      score: 25.0,
      reasons: [
        "no_repositories_evaluated",
        "repo_count_below_threshold:0",
        "total_runs_below_threshold:0",
        "average_success_rate_below_threshold:0.000",
      ],
    });
    expect(res.body.gate).toEqual({ passed: false, reasons: ["no_repositories_evaluated"], summary: res.body.summary });
    expect(res.body.summary).toEqual({
      repo_count: 0,
      run_count: 0,
      avg_success_rate: 0,
      max_duration_cv: 0,
      repos: [],
    });
    expect(res.body.plan).toEqual({ target_count: 0, run_count: 0, runs: [] });
    expect(res.body.recommendations).toEqual([
      "configure_repo_targets_before_validation",
      "expand_repo_matrix_coverage",
      "increase_total_benchmark_runs_to_at_least_30",
      "improve_task_success_rate_before_release",
    ]);
    expect(typeof res.body.generated_at).toBe("string");
  });

  it("ingests runs (201 new, 200 replace by run_id) and reports over them (SPEC week 8 example)", async () => {
    const c = await operator("org-report-runs");
    const { campaign_id } = (await c.request("POST", "/v1/program/campaigns", { name: "w8" })).body;
    const path = `/v1/program/campaigns/${campaign_id}/runs`;
    const first = await c.request("POST", path, run("a", "a1", "failed"));
    expect(first.status).toBe(201);
    expect(first.body).toEqual({ status: "accepted", run_id: "a1" });
    expect(first.headers.get("location")).toBe(`${path}/a1`);
    const replaced = await c.request("POST", path, run("a", "a1", "completed"));
    expect(replaced.status).toBe(200);
    expect(replaced.body).toEqual({ status: "accepted", run_id: "a1" });
    for (const r of [
      run("a", "a2", "completed"),
      run("a", "a3", "failed"),
      run("b", "b1", "completed"),
      run("b", "b2", "completed"),
      run("b", "b3", "completed"),
    ]) {
      expect((await c.request("POST", path, r)).status).toBe(201);
    }
    const one = await c.request("GET", `${path}/a1`);
    expect(one.body).toMatchObject({
      run_id: "a1",
      status: "completed",
      source: "manual",
      build_id: null,
      ingested_by: "user_org-report-runs",
    });

    const report = (await c.request("GET", `/v1/program/campaigns/${campaign_id}/report`)).body;
    expect(report.summary).toMatchObject({ repo_count: 2, run_count: 6 });
    expect(report.summary.repos.map((r: any) => [r.repo, r.run_count, r.success_count])).toEqual([
      ["a", 3, 2],
      ["b", 3, 3],
    ]);
    expect(report.gate.reasons).toEqual(["success_rate_below_threshold:a:0.667"]);
    expect(report.rubric.reasons).toEqual([
      "success_rate_below_threshold:a:0.667",
      "repo_count_below_threshold:2",
      "total_runs_below_threshold:6",
      "average_success_rate_below_threshold:0.833",
    ]);
    expect(report.evidence).toEqual({
      runs_from_builds: 0,
      runs_real: 0,
      runs_simulated: 0,
      runs_from_clients: 6,
      execution_id: null,
    });
    expect(report.excluded_runs).toEqual([]);

    const page1 = await c.request("GET", `${path}?limit=4`);
    expect(page1.body.items.map((r: any) => r.run_id)).toEqual(["a1", "a2", "a3", "b1"]);
    const page2 = await c.request("GET", `${path}?limit=4&cursor=${page1.body.next_cursor}`);
    expect(page2.body.items.map((r: any) => r.run_id)).toEqual(["b2", "b3"]);
    expect(page2.body.next_cursor).toBeNull();
    expectProblem(await c.request("GET", `${path}/zz`), 404, "campaign_run_not_found");
  });

  it("rejects a bad run status (422) and, for a planned campaign, a repo outside the plan", async () => {
    const c = await operator("org-report-422");
    const { campaign_id } = (await c.request("POST", "/v1/program/campaigns", { name: "p", repos: ["a"] })).body;
    const path = `/v1/program/campaigns/${campaign_id}/runs`;
    expectProblem(await c.request("POST", path, run("a", "r1", "running")), 422, "validation_failed");
    expectProblem(
      await c.request("POST", path, { repo: "a", run_id: "r1", status: "completed" }),
      422,
      "validation_failed",
    );
    expectProblem(await c.request("POST", path, run("a", "r/1", "completed")), 422, "validation_failed");
    const off = await c.request("POST", path, run("elsewhere", "r1", "completed"));
    expectProblem(off, 422, "validation_failed");
    expect(off.body.errors[0].path).toBe("repo");
    expect((await c.request("POST", path, run("a", "r1", "completed"))).status).toBe(201);
  });

  it("uses the campaign plan in the report: planned repos without runs are missing evidence (quirk 14)", async () => {
    const c = await operator("org-report-plan");
    const { campaign_id } = (
      await c.request("POST", "/v1/program/campaigns", {
        name: "p",
        repos: ["https://github.com/o/a", "https://github.com/o/b"],
        runs_per_repo: 2,
      })
    ).body;
    for (const id of ["1", "2"])
      await c.request(
        "POST",
        `/v1/program/campaigns/${campaign_id}/runs`,
        run("https://github.com/o/a", id, "completed"),
      );
    const report = (await c.request("GET", `/v1/program/campaigns/${campaign_id}/report`)).body;
    expect(report.plan.target_count).toBe(2);
    expect(report.plan.runs.map((r: any) => r.run_id)).toEqual([
      "github.com_o_a-run-1",
      "github.com_o_a-run-2",
      "github.com_o_b-run-1",
      "github.com_o_b-run-2",
    ]);
    expect(report.gate.reasons).toEqual([
      "insufficient_runs:https://github.com/o/a:2", // min_runs_per_repo stays 3 (beta_default ≥ runs_per_repo 2)
      "insufficient_runs:https://github.com/o/b:0",
      "success_rate_below_threshold:https://github.com/o/b:0.000",
    ]);
    expect(report.profile.min_runs_per_repo).toBe(3);
  });
});
