/**
 * Campaign trends, pure: per execution and per repository success rate, duration mean and
 * coefficient of variation, findings by severity and score, from the executions' frozen reports,
 * and the drift verdict (rule below, documented in docs/program-plane.md). Called by
 * trends.service.ts; unit-tested table-driven in test/program/trends.test.ts.
 */
import type { ExecutionReport, SeverityCounts } from "./execution-report";
import { addSeverities, zeroSeverities } from "./execution-report";
import { formatFixed, roundTo } from "./rounding";

/**
 * Drift: the latest finished execution against the mean of the (up to window − 1) finished
 * executions before it. Degrading when the score fell by more than `score_drop_points`, the
 * success rate by more than `success_rate_drop`, or the duration CV rose by more than
 * `duration_cv_rise`; improving when none of those and the score rose by more than
 * `score_drop_points` or the success rate by more than `success_rate_drop`; stable otherwise;
 * insufficient_data with fewer than 2 finished executions.
 */
export const DRIFT_RULE = Object.freeze({
  window: 5,
  score_drop_points: 10,
  success_rate_drop: 0.1,
  duration_cv_rise: 0.1,
});
export type DriftRule = typeof DRIFT_RULE;

export interface TrendInput {
  n: number;
  execution_id: string;
  trigger: "manual" | "schedule";
  finished_at: string;
  report: ExecutionReport;
}

export interface TrendPoint {
  n: number;
  run_count: number;
  simulated_runs: number;
  success_rate: number;
  duration_mean_ms: number;
  duration_cv: number;
  findings_total: number;
  findings_by_severity: SeverityCounts;
}

type RepoStats = ExecutionReport["run_stats"]["repos"][number];

/** Pools per-repo statistics (population mean and variance) into one point. */
export function pool(n: number, repos: readonly RepoStats[]): TrendPoint {
  const count = repos.reduce((a, r) => a + r.run_count, 0);
  const success = repos.reduce((a, r) => a + r.success_count, 0);
  const mean = count === 0 ? 0 : repos.reduce((a, r) => a + r.run_count * r.mean_duration_ms, 0) / count;
  const second =
    count === 0
      ? 0
      : repos.reduce((a, r) => a + r.run_count * (r.duration_stddev_ms ** 2 + r.mean_duration_ms ** 2), 0) / count;
  const sd = Math.sqrt(Math.max(0, second - mean ** 2));
  return {
    n,
    run_count: count,
    simulated_runs: repos.reduce((a, r) => a + r.simulated_runs, 0),
    success_rate: count === 0 ? 0 : roundTo(success / count, 4),
    duration_mean_ms: roundTo(mean, 2),
    duration_cv: mean <= 0 ? 0 : roundTo(sd / mean, 4),
    findings_total: repos.reduce((a, r) => a + r.findings_total, 0),
    findings_by_severity: repos.reduce((a, r) => addSeverities(a, r.findings_by_severity), zeroSeverities()),
  };
}

const avg = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

export function driftVerdict(
  points: ReadonlyArray<{ score: number; success_rate: number; duration_cv: number }>,
  rule: DriftRule = DRIFT_RULE,
) {
  const window = points.slice(-rule.window);
  const base = { window: window.length, rule: { ...rule } };
  const latest = window[window.length - 1];
  if (window.length < 2 || !latest) {
    return {
      ...base,
      verdict: "insufficient_data" as const,
      reasons: [] as string[],
      score_delta: null,
      success_rate_delta: null,
      duration_cv_delta: null,
    };
  }
  const before = window.slice(0, -1);
  const scoreDelta = roundTo(latest.score - avg(before.map((p) => p.score)), 2);
  const successDelta = roundTo(latest.success_rate - avg(before.map((p) => p.success_rate)), 4);
  const cvDelta = roundTo(latest.duration_cv - avg(before.map((p) => p.duration_cv)), 4);
  const reasons: string[] = [];
  if (scoreDelta < -rule.score_drop_points) reasons.push(`score_down:${formatFixed(-scoreDelta, 2)}`);
  if (successDelta < -rule.success_rate_drop) reasons.push(`success_rate_down:${formatFixed(-successDelta, 3)}`);
  if (cvDelta > rule.duration_cv_rise) reasons.push(`duration_variance_up:${formatFixed(cvDelta, 3)}`);
  const improving = scoreDelta > rule.score_drop_points || successDelta > rule.success_rate_drop;
  const verdict = reasons.length > 0 ? "degrading" : improving ? "improving" : "stable";
  return {
    ...base,
    verdict: verdict as "degrading" | "improving" | "stable",
    reasons,
    score_delta: scoreDelta,
    success_rate_delta: successDelta,
    duration_cv_delta: cvDelta,
  };
}

/** Trends over finished executions given oldest first. */
export function computeTrends(executions: readonly TrendInput[], rule: DriftRule = DRIFT_RULE) {
  const rows = executions.map((e) => ({
    ...pool(e.n, e.report.run_stats.repos),
    execution_id: e.execution_id,
    trigger: e.trigger,
    finished_at: e.finished_at,
    score: e.report.rubric.score,
    release_ready: e.report.rubric.release_ready,
  }));
  const names = [...new Set(executions.flatMap((e) => e.report.run_stats.repos.map((r) => r.repo)))].sort();
  const repos = names.map((repo) => ({
    repo,
    points: executions.flatMap((e) => {
      const r = e.report.run_stats.repos.find((x) => x.repo === repo);
      return r ? [pool(e.n, [r])] : [];
    }),
  }));
  return { executions: rows, repos, drift: driftVerdict(rows, rule) };
}
