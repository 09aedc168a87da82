import { describe, expect, it } from "vitest";
import { DRIFT_RULE, driftVerdict, pool } from "../../src/program/trends";

const sev = (critical = 0, high = 0) => ({ critical, high, medium: 0, low: 0, info: 0 });
const repo = (name: string, runs: number, ok: number, mean: number, sd: number, simulated = 0, findings = sev()) => ({
  repo: name,
  run_count: runs,
  simulated_runs: simulated,
  success_count: ok,
  success_rate: runs === 0 ? 0 : ok / runs,
  mean_duration_ms: mean,
  duration_stddev_ms: sd,
  duration_cv: mean === 0 ? 0 : sd / mean,
  findings_total: findings.critical + findings.high,
  findings_by_severity: findings,
});

describe("pool (per-repo statistics into one point)", () => {
  it.each([
    ["no repos", [], { run_count: 0, success_rate: 0, duration_mean_ms: 0, duration_cv: 0 }],
    [
      "one repo keeps its numbers",
      [repo("a", 4, 3, 100, 10)],
      { run_count: 4, success_rate: 0.75, duration_mean_ms: 100, duration_cv: 0.1 },
    ],
    // Durations a: [90,110] (mean 100, sd 10), b: [290,310] (mean 300, sd 10): pooled mean 200,
    // pooled sd sqrt(((90-200)²+(110-200)²+(290-200)²+(310-200)²)/4) = sqrt(10100) ≈ 100.499
    [
      "two repos pool mean and variance",
      [repo("a", 2, 2, 100, 10), repo("b", 2, 0, 300, 10)],
      { run_count: 4, success_rate: 0.5, duration_mean_ms: 200, duration_cv: 0.5025 },
    ],
  ])("%s", (_n, repos, expected) => {
    expect(pool(1, repos)).toMatchObject(expected);
  });

  it("sums findings by severity and simulated runs", () => {
    const p = pool(3, [repo("a", 1, 1, 1, 0, 1, sev(1, 2)), repo("b", 1, 1, 1, 0, 0, sev(0, 4))]);
    expect(p).toMatchObject({ n: 3, simulated_runs: 1, findings_total: 7, findings_by_severity: sev(1, 6) });
  });
});

const pt = (score: number, success_rate = 1, duration_cv = 0.1) => ({ score, success_rate, duration_cv });

describe("driftVerdict (latest against the mean of the executions before it in the window)", () => {
  it.each([
    ["no executions", [], "insufficient_data", []],
    ["one execution", [pt(90)], "insufficient_data", []],
    ["flat", [pt(90), pt(90), pt(91)], "stable", []],
    ["score down exactly the threshold is not drift", [pt(90), pt(80)], "stable", []],
    ["score down more than the threshold", [pt(90), pt(92), pt(79)], "degrading", ["score_down:12.00"]],
    ["success rate down", [pt(90, 1), pt(90, 0.8)], "degrading", ["success_rate_down:0.200"]],
    ["variance up", [pt(90, 1, 0.1), pt(90, 1, 0.25)], "degrading", ["duration_variance_up:0.150"]],
    ["score up", [pt(60), pt(75)], "improving", []],
    ["only the window counts", [pt(10), pt(90), pt(90), pt(90), pt(90), pt(90)], "stable", []],
  ])("%s → %s %j", (_n, points, verdict, reasons) => {
    const d = driftVerdict(points);
    expect(d.verdict).toBe(verdict);
    expect(d.reasons).toEqual(reasons);
    expect(d.window).toBe(Math.min(points.length, DRIFT_RULE.window));
  });
});
