import { describe, expect, it } from "vitest";
import {
  BETA_DEFAULT,
  type ReportRun,
  type ThresholdProfile,
  buildReport,
  normaliseRepo,
  planRunId,
} from "../../src/program/campaign-report";
import { formatFixed, roundTo } from "../../src/program/rounding";

const GEN = "2026-01-01T00:00:00.000000Z";

function runs(repo: string, statuses: Array<ReportRun["status"]>, durations: number[], language = "ts"): ReportRun[] {
  return statuses.map((status, i) => ({
    repo,
    language,
    run_id: `${repo}-${i + 1}`,
    status,
    duration_ms: durations[i] ?? 0,
    findings_total: 0,
  }));
}

const ok = (n: number) => Array<ReportRun["status"]>(n).fill("completed");
const same = (n: number, d = 100) => Array<number>(n).fill(d);

interface Case {
  name: string;
  runs: ReportRun[];
  planRepos?: string[];
  runsPerRepo?: number;
  profile?: ThresholdProfile;
  gate: string[];
  reasons: string[];
  score: number;
  releaseReady?: boolean;
  recommendations: string[];
}

const cases: Case[] = [
  {
    name: "empty campaign (SPEC §6.1 example)",
    runs: [],
    gate: ["no_repositories_evaluated"],
    reasons: [
      "no_repositories_evaluated",
      "repo_count_below_threshold:0",
      "total_runs_below_threshold:0",
      "average_success_rate_below_threshold:0.000",
    ],
    score: 25.0,
    recommendations: [
      "configure_repo_targets_before_validation",
      "expand_repo_matrix_coverage",
      "increase_total_benchmark_runs_to_at_least_30",
      "improve_task_success_rate_before_release",
    ],
  },
  {
    // durations 100/300: population std 100, cv 0.5 (a sample std would give 0.707).
    name: "too few runs and high variance (population std-dev CV)",
    runs: runs("a", ok(2), [100, 300]),
    gate: ["insufficient_runs:a:2", "duration_variance_above_threshold:a:0.500"],
    reasons: [
      "insufficient_runs:a:2",
      "duration_variance_above_threshold:a:0.500",
      "repo_count_below_threshold:1",
      "total_runs_below_threshold:2",
    ],
    // coverage 25·(0.6·0.1 + 0.4·2/30) = 2.1667; success 50; stability 25·(1 − 0.15/0.35) = 14.2857 → 66.452 → 66.45
    score: 66.45,
    recommendations: [
      "increase_runs_per_repo_to_at_least_3",
      "stabilize_runtime_variance_and_retry_policies",
      "expand_repo_matrix_coverage",
      "increase_total_benchmark_runs_to_at_least_30",
    ],
  },
  {
    name: "per-repo and average success rate below threshold (2/3 → 0.667)",
    runs: runs("b", ["completed", "failed", "completed"], same(3)),
    gate: ["success_rate_below_threshold:b:0.667"],
    reasons: [
      "success_rate_below_threshold:b:0.667",
      "repo_count_below_threshold:1",
      "total_runs_below_threshold:3",
      "average_success_rate_below_threshold:0.667",
    ],
    // coverage 2.5; success 50·(2/3)/0.85 = 39.2157; stability 25 → 66.7157 → 66.72
    score: 66.72,
    recommendations: [
      "improve_task_success_rate_before_release",
      "expand_repo_matrix_coverage",
      "increase_total_benchmark_runs_to_at_least_30",
    ],
  },
  {
    // 1/16 = 0.0625 exactly: Python "%.3f" gives 0.062 (ties to even), toFixed would give 0.063.
    name: "an exact half-way rate is rounded half-even like the reference",
    runs: runs("c", ["completed", ...Array<ReportRun["status"]>(15).fill("aborted")], same(16)),
    gate: ["success_rate_below_threshold:c:0.062"],
    reasons: [
      "success_rate_below_threshold:c:0.062",
      "repo_count_below_threshold:1",
      "total_runs_below_threshold:16",
      "average_success_rate_below_threshold:0.062",
    ],
    // coverage 25·(0.06 + 0.4·16/30) = 6.8333; success 50·0.0625/0.85 = 3.6765; stability 25 → 35.5098 → 35.51
    score: 35.51,
    recommendations: [
      "improve_task_success_rate_before_release",
      "expand_repo_matrix_coverage",
      "increase_total_benchmark_runs_to_at_least_30",
    ],
  },
  {
    name: "repos are evaluated in name order, reasons per repo in rule order",
    runs: [
      ...runs("zeta", ["failed", "failed", "completed"], [10, 10, 70]),
      ...runs("alpha", ok(3), same(3)),
      ...runs("mid", ok(1), [50]),
    ],
    gate: [
      "insufficient_runs:mid:1",
      "success_rate_below_threshold:zeta:0.333",
      "duration_variance_above_threshold:zeta:0.943",
    ],
    reasons: [
      "insufficient_runs:mid:1",
      "success_rate_below_threshold:zeta:0.333",
      "duration_variance_above_threshold:zeta:0.943",
      "repo_count_below_threshold:3",
      "total_runs_below_threshold:7",
      "average_success_rate_below_threshold:0.778",
    ],
    // zeta: mean 30, pop std sqrt((400+400+1600)/3) = 28.2843, cv 0.9428
    // coverage 25·(0.18 + 0.4·7/30) = 6.8333; success 50·0.7778/0.85 = 45.7516; stability 25·max(0, 1 − 0.5928/0.35) = 0 → 52.5850 → 52.58
    score: 52.58,
    recommendations: [
      "increase_runs_per_repo_to_at_least_3",
      "improve_task_success_rate_before_release",
      "stabilize_runtime_variance_and_retry_policies",
      "expand_repo_matrix_coverage",
      "increase_total_benchmark_runs_to_at_least_30",
    ],
  },
  {
    name: "ten healthy repos × 3 runs are release ready",
    runs: Array.from({ length: 10 }, (_, i) => runs(`repo-${i}`, ok(3), [100, 110, 90])).flat(),
    gate: [],
    reasons: [],
    score: 100,
    releaseReady: true,
    recommendations: ["ready_for_beta_cut"],
  },
  {
    // quirk 14: planned repos without runs are missing evidence; runs_per_repo 4 raises the floor.
    name: "the campaign plan: a planned repo without runs and runs_per_repo above the profile",
    runs: runs("a", ok(3), same(3)),
    planRepos: ["a", "b"],
    runsPerRepo: 4,
    gate: ["insufficient_runs:a:3", "insufficient_runs:b:0", "success_rate_below_threshold:b:0.000"],
    reasons: [
      "insufficient_runs:a:3",
      "insufficient_runs:b:0",
      "success_rate_below_threshold:b:0.000",
      "repo_count_below_threshold:2",
      "total_runs_below_threshold:3",
      "average_success_rate_below_threshold:0.500",
    ],
    // coverage 25·(0.12 + 0.04) = 4; success 50·0.5/0.85 = 29.4118; stability 25 → 58.41
    score: 58.41,
    recommendations: [
      "increase_runs_per_repo_to_at_least_4",
      "improve_task_success_rate_before_release",
      "expand_repo_matrix_coverage",
      "increase_total_benchmark_runs_to_at_least_30",
    ],
  },
  {
    name: "a custom profile changes thresholds and the recommendation numbers",
    runs: [...runs("a", ok(2), same(2)), ...runs("b", ok(2), same(2))],
    profile: { ...BETA_DEFAULT, profile_name: "smoke", min_repo_count: 2, min_total_runs: 5, min_runs_per_repo: 2 },
    gate: [],
    reasons: ["total_runs_below_threshold:4"],
    // coverage 25·(0.6 + 0.4·0.8) = 23; success 50; stability 25 → 98
    score: 98,
    recommendations: ["increase_total_benchmark_runs_to_at_least_5"],
  },
];

describe("campaign report (SPEC §6.1)", () => {
  it.each(cases)("$name", (c) => {
    const report = buildReport({
      runs: c.runs,
      profile: c.profile ?? BETA_DEFAULT,
      planRepos: c.planRepos,
      runsPerRepo: c.runsPerRepo,
      generatedAt: GEN,
    });
    expect(report.gate.reasons).toEqual(c.gate);
    expect(report.gate.passed).toBe(c.gate.length === 0);
    expect(report.rubric.reasons).toEqual(c.reasons);
    expect(report.rubric.passed).toBe(c.reasons.length === 0);
    expect(report.rubric.score).toBe(c.score);
    expect(report.rubric.release_ready).toBe(c.releaseReady ?? false);
    expect(report.rubric.profile_name).toBe((c.profile ?? BETA_DEFAULT).profile_name);
    expect(report.recommendations).toEqual(c.recommendations);
    expect(report.gate.summary).toEqual(report.summary);
  });

  it("summarises per repo with population std-dev, cv, mean of max(0, duration) and the first run's language", () => {
    const report = buildReport({
      runs: [
        ...runs("r", ["completed", "failed", "aborted", "completed"], [-50, 100, 200, 300], "py"),
        ...runs("q", ok(1), [0], "go"),
      ],
      profile: BETA_DEFAULT,
      generatedAt: GEN,
    });
    const [q, r] = report.summary.repos;
    expect(q).toEqual({
      repo: "q",
      language: "go",
      run_count: 1,
      success_count: 1,
      success_rate: 1,
      mean_duration_ms: 0,
      duration_stddev_ms: 0,
      duration_cv: 0,
    });
    // durations 0,100,200,300: mean 150, population variance 12500
    expect(r).toMatchObject({
      repo: "r",
      language: "py",
      run_count: 4,
      success_count: 2,
      success_rate: 0.5,
      mean_duration_ms: 150,
    });
    expect(r?.duration_stddev_ms).toBeCloseTo(Math.sqrt(12500), 10);
    expect(r?.duration_cv).toBeCloseTo(Math.sqrt(12500) / 150, 10);
    expect(report.summary).toMatchObject({ repo_count: 2, run_count: 5, avg_success_rate: 0.75 });
    expect(report.summary.max_duration_cv).toBeCloseTo(Math.sqrt(12500) / 150, 10);
  });

  it("plans synthetic run ids per summary repo, or from the campaign plan when there is one", () => {
    const adhoc = buildReport({
      runs: runs("https://github.com/org/repo-a", ok(2), same(2)),
      profile: BETA_DEFAULT,
      generatedAt: GEN,
    });
    expect(adhoc.plan).toEqual({
      target_count: 1,
      run_count: 2,
      runs: [
        { repo: "https://github.com/org/repo-a", language: "ts", run_id: "github.com_org_repo-a-run-1" },
        { repo: "https://github.com/org/repo-a", language: "ts", run_id: "github.com_org_repo-a-run-2" },
      ],
    });
    const planned = buildReport({
      runs: [],
      profile: BETA_DEFAULT,
      planRepos: ["x/y", "z"],
      runsPerRepo: 2,
      languages: { z: "rust" },
      generatedAt: GEN,
    });
    expect(planned.plan.target_count).toBe(2);
    expect(planned.plan.runs.map((r) => [r.run_id, r.language])).toEqual([
      ["x_y-run-1", "unknown"],
      ["x_y-run-2", "unknown"],
      ["z-run-1", "rust"],
      ["z-run-2", "rust"],
    ]);
    expect(normaliseRepo("  http://gitlab.com/a/b ")).toBe("gitlab.com_a_b");
    expect(planRunId("https://github.com/org/repo-a", 1)).toBe("github.com_org_repo-a-run-1");
  });
});

describe("evidence: only real and reported runs count (issue 16)", () => {
  const profile: ThresholdProfile = {
    ...BETA_DEFAULT,
    profile_name: "one",
    min_repo_count: 1,
    min_total_runs: 3,
    max_duration_cv: 100,
  };
  const tag = (rs: ReportRun[], execution: ReportRun["execution"]) => rs.map((r) => ({ ...r, execution }));

  it("real runs alone are release ready; the same runs simulated are excluded with the reason and never ready", () => {
    const real = buildReport({ runs: tag(runs("a", ok(3), same(3)), "real"), profile, generatedAt: GEN });
    expect(real.rubric).toMatchObject({ release_ready: true, score: 100, reasons: [] });
    expect(real.excluded_runs).toEqual([]);

    const sim = buildReport({ runs: tag(runs("a", ok(3), same(3)), "simulated"), profile, generatedAt: GEN });
    expect(sim.summary.run_count).toBe(0);
    expect(sim.excluded_runs).toEqual(
      ["a-1", "a-2", "a-3"].map((run_id) => ({
        run_id,
        repo: "a",
        execution: "simulated",
        reason: "simulated_evidence_excluded",
      })),
    );
    expect(sim.rubric.reasons).toEqual([
      "no_repositories_evaluated",
      "repo_count_below_threshold:0",
      "total_runs_below_threshold:0",
      "average_success_rate_below_threshold:0.000",
      "simulated_evidence_excluded:3",
    ]);
    expect(sim.rubric.release_ready).toBe(false);
    expect(sim.recommendations).toContain("run_campaign_builds_on_a_real_runner");
  });

  it("a mix counts the real and reported runs, lists the simulated ones and is not ready while any is there", () => {
    const mixed = [
      ...tag(runs("a", ["completed", "failed", "completed"], same(3)), "real"),
      ...tag(runs("b", ok(3), same(3)), "simulated").map((r) => ({ ...r, repo: "a", run_id: `sim-${r.run_id}` })),
      ...runs("c", ok(3), same(3)), // no execution: reported by a client
    ];
    const report = buildReport({ runs: mixed, profile, generatedAt: GEN });
    expect(report.summary.repos.map((r) => [r.repo, r.run_count, r.success_count])).toEqual([
      ["a", 3, 2],
      ["c", 3, 3],
    ]);
    expect(report.excluded_runs.map((r) => r.run_id)).toEqual(["sim-b-1", "sim-b-2", "sim-b-3"]);
    expect(report.rubric.reasons).toContain("simulated_evidence_excluded:3");
    expect(report.gate.reasons).toEqual(["success_rate_below_threshold:a:0.667"]);
    expect(report.rubric.release_ready).toBe(false);
  });
});

describe("Python-compatible rounding", () => {
  it.each([
    [0.0625, 3, "0.062"],
    [0.1875, 3, "0.188"],
    [2 / 3, 3, "0.667"],
    [0.5, 3, "0.500"],
    [0, 3, "0.000"],
    [2.675, 2, "2.67"], // binary 2.67499999…
    [0.125, 2, "0.12"],
    [0.375, 2, "0.38"],
    [66.4523809, 2, "66.45"],
    [2.5, 0, "2"],
    [3.5, 0, "4"],
    [-0.0625, 3, "-0.062"],
  ] as const)("formatFixed(%d, %d) = %s", (x, d, expected) => {
    expect(formatFixed(x, d)).toBe(expected);
  });

  it("roundTo returns numbers", () => {
    expect(roundTo(25, 2)).toBe(25);
    expect(roundTo(0.66666, 4)).toBe(0.6667);
  });
});
