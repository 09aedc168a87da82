/**
 * The validation benchmark report (SPEC §6.1), pure: summary, gate, rubric, recommendations and
 * plan from a campaign's runs, its plan and a threshold profile. The formulas and reason strings
 * are the reference's exactly; the plan fix of quirk 14 (planned repos without runs count as
 * missing evidence, runs_per_repo raises min_runs_per_repo) is applied here too.
 * Called by campaigns.service.ts; unit-tested table-driven in test/program/campaign-report.test.ts.
 */

import { formatFixed, roundTo } from "./rounding";

export interface ThresholdProfile {
  profile_name: string;
  min_repo_count: number;
  min_total_runs: number;
  min_runs_per_repo: number;
  /** Per repo. */
  min_success_rate: number;
  min_average_success_rate: number;
  max_duration_cv: number;
  release_ready_min_score: number;
}

/** The reference's default profile. */
export const BETA_DEFAULT: Readonly<ThresholdProfile> = Object.freeze({
  profile_name: "beta_default",
  min_repo_count: 10,
  min_total_runs: 30,
  min_runs_per_repo: 3,
  min_success_rate: 0.8,
  min_average_success_rate: 0.85,
  max_duration_cv: 0.35,
  release_ready_min_score: 85.0,
});

export const RUN_STATUSES = ["completed", "failed", "aborted"] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/**
 * What a run is evidence of: `real` (a build whose nodes a runner executed), `simulated` (a
 * build of the simulated adapter: never evidence) or `reported` (ingested by a client that holds
 * the ingest capability, attesting work done elsewhere).
 */
export const RUN_EXECUTIONS = ["real", "simulated", "reported"] as const;
export type RunExecution = (typeof RUN_EXECUTIONS)[number];

/** The reason a report gives for every run it lists but does not count. */
export const SIMULATED_EVIDENCE_EXCLUDED = "simulated_evidence_excluded";

export interface ReportRun {
  repo: string;
  language: string;
  run_id: string;
  status: RunStatus;
  duration_ms: number;
  findings_total: number;
  /** Absent means `reported` (a run a client ingested). */
  execution?: RunExecution;
}

export interface ExcludedRun {
  run_id: string;
  repo: string;
  execution: RunExecution;
  reason: typeof SIMULATED_EVIDENCE_EXCLUDED;
}

export interface RepoSummary {
  repo: string;
  language: string;
  run_count: number;
  success_count: number;
  success_rate: number;
  mean_duration_ms: number;
  duration_stddev_ms: number;
  duration_cv: number;
}

export interface ReportSummary {
  repo_count: number;
  run_count: number;
  avg_success_rate: number;
  max_duration_cv: number;
  repos: RepoSummary[];
}

export interface PlanSpec {
  repo: string;
  language: string;
  run_id: string;
}

export interface BenchmarkPlan {
  target_count: number;
  run_count: number;
  runs: PlanSpec[];
}

export interface ReportInput {
  runs: readonly ReportRun[];
  profile: ThresholdProfile;
  /** The campaign's plan targets; each appears in the summary even without runs. */
  planRepos?: readonly string[];
  /** Planned runs per repo: the plan's size and a floor for min_runs_per_repo. */
  runsPerRepo?: number;
  /** Language per planned repo for plan specs of repos without runs. */
  languages?: Readonly<Record<string, string>>;
  generatedAt: string;
  /** A dry-run campaign (issue 16): its report says so and is never release ready. */
  dryRun?: boolean;
}

/** The rubric reason of a dry-run campaign's report (and the go/no-go's). */
export const DRY_RUN_CAMPAIGN = "dry_run_campaign";

export const UNKNOWN_LANGUAGE = "unknown";

/** SPEC §5.3: trim, strip http(s)://, `/` → `_`. */
export function normaliseRepo(repo: string): string {
  return repo.trim().replaceAll("https://", "").replaceAll("http://", "").replaceAll("/", "_");
}

export function planRunId(repo: string, i: number): string {
  return `${normaliseRepo(repo)}-run-${i}`;
}

function ratio(value: number, base: number): number {
  if (base <= 0) return 1;
  return Math.min(1, Math.max(0, value / base));
}

function mean(xs: readonly number[]): number {
  return xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length;
}

function summariseRepo(repo: string, runs: readonly ReportRun[]): RepoSummary {
  const durations = runs.map((r) => Math.max(0, r.duration_ms));
  const m = mean(durations);
  const stddev =
    durations.length <= 1 ? 0 : Math.sqrt(durations.reduce((acc, d) => acc + (d - m) ** 2, 0) / durations.length);
  const successCount = runs.filter((r) => r.status === "completed").length;
  return {
    repo,
    language: runs[0]?.language ?? UNKNOWN_LANGUAGE,
    run_count: runs.length,
    success_count: successCount,
    success_rate: runs.length === 0 ? 0 : successCount / runs.length,
    mean_duration_ms: m,
    duration_stddev_ms: stddev,
    duration_cv: m <= 0 ? 0 : stddev / m,
  };
}

/** Runs grouped by repo (plus planned repos without runs), sorted by repo name. */
export function summarise(runs: readonly ReportRun[], planRepos: readonly string[] = []): ReportSummary {
  const groups = new Map<string, ReportRun[]>();
  for (const repo of planRepos) groups.set(repo, []);
  for (const run of runs) {
    const g = groups.get(run.repo);
    if (g) g.push(run);
    else groups.set(run.repo, [run]);
  }
  const names = [...groups.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const repos = names.map((name) => summariseRepo(name, groups.get(name) ?? []));
  return {
    repo_count: repos.length,
    run_count: runs.length,
    avg_success_rate: mean(repos.map((r) => r.success_rate)),
    max_duration_cv: repos.reduce((acc, r) => Math.max(acc, r.duration_cv), 0),
    repos,
  };
}

export function gateReasons(summary: ReportSummary, p: ThresholdProfile): string[] {
  if (summary.repo_count === 0) return ["no_repositories_evaluated"];
  const reasons: string[] = [];
  for (const r of summary.repos) {
    if (r.run_count < p.min_runs_per_repo) reasons.push(`insufficient_runs:${r.repo}:${r.run_count}`);
    if (r.success_rate < p.min_success_rate)
      reasons.push(`success_rate_below_threshold:${r.repo}:${formatFixed(r.success_rate, 3)}`);
    if (r.duration_cv > p.max_duration_cv)
      reasons.push(`duration_variance_above_threshold:${r.repo}:${formatFixed(r.duration_cv, 3)}`);
  }
  return reasons;
}

function dedupe(xs: readonly string[]): string[] {
  return [...new Set(xs)];
}

export function rubricScore(summary: ReportSummary, p: ThresholdProfile): number {
  const coverage =
    25 * (0.6 * ratio(summary.repo_count, p.min_repo_count) + 0.4 * ratio(summary.run_count, p.min_total_runs));
  const success = 50 * ratio(summary.avg_success_rate, p.min_average_success_rate);
  const t = p.max_duration_cv;
  const stability =
    summary.max_duration_cv <= t ? 25 : 25 * Math.max(0, 1 - (summary.max_duration_cv - t) / Math.max(t, 0.001));
  return roundTo(coverage + success + stability, 2);
}

const RECOMMENDATIONS: ReadonlyArray<[prefix: string, rec: (p: ThresholdProfile) => string]> = [
  ["no_repositories_evaluated", () => "configure_repo_targets_before_validation"],
  ["repo_count_below_threshold", () => "expand_repo_matrix_coverage"],
  ["total_runs_below_threshold", (p) => `increase_total_benchmark_runs_to_at_least_${p.min_total_runs}`],
  ["insufficient_runs", (p) => `increase_runs_per_repo_to_at_least_${p.min_runs_per_repo}`],
  ["success_rate_below_threshold", () => "improve_task_success_rate_before_release"],
  ["average_success_rate_below_threshold", () => "improve_task_success_rate_before_release"],
  ["duration_variance_above_threshold", () => "stabilize_runtime_variance_and_retry_policies"],
  [SIMULATED_EVIDENCE_EXCLUDED, () => "run_campaign_builds_on_a_real_runner"],
];

export function recommendations(reasons: readonly string[], releaseReady: boolean, p: ThresholdProfile): string[] {
  if (releaseReady) return ["ready_for_beta_cut"];
  const out: string[] = [];
  for (const reason of reasons) {
    const prefix = reason.split(":")[0];
    const hit = RECOMMENDATIONS.find(([pre]) => pre === prefix);
    if (hit) out.push(hit[1](p));
  }
  return dedupe(out);
}

/** The profile a campaign is judged by: runs_per_repo is the plan, so it raises the per-repo floor. */
export function effectiveProfile(profile: ThresholdProfile, runsPerRepo?: number): ThresholdProfile {
  if (runsPerRepo === undefined) return { ...profile };
  return { ...profile, min_runs_per_repo: Math.max(profile.min_runs_per_repo, runsPerRepo) };
}

export function buildPlan(
  summary: ReportSummary,
  input: Pick<ReportInput, "planRepos" | "runsPerRepo" | "languages">,
): BenchmarkPlan {
  const langOf = (repo: string) =>
    input.languages?.[repo] ??
    summary.repos.find((r) => r.repo === repo && r.run_count > 0)?.language ??
    UNKNOWN_LANGUAGE;
  const planRepos = input.planRepos ?? [];
  const targets: Array<[string, number]> =
    planRepos.length > 0
      ? planRepos.map((repo) => [repo, Math.max(1, input.runsPerRepo ?? 1)])
      : summary.repos.map((r) => [r.repo, r.run_count]);
  const runs: PlanSpec[] = [];
  for (const [repo, n] of targets) {
    for (let i = 1; i <= n; i++) runs.push({ repo, language: langOf(repo), run_id: planRunId(repo, i) });
  }
  return { target_count: targets.length, run_count: runs.length, runs };
}

/** Splits runs into evidence and the simulated ones a report lists but never counts. */
export function partitionEvidence(runs: readonly ReportRun[]): { evidence: ReportRun[]; excluded: ExcludedRun[] } {
  const evidence: ReportRun[] = [];
  const excluded: ExcludedRun[] = [];
  for (const run of runs) {
    if (run.execution === "simulated") {
      excluded.push({
        run_id: run.run_id,
        repo: run.repo,
        execution: run.execution,
        reason: SIMULATED_EVIDENCE_EXCLUDED,
      });
    } else {
      evidence.push(run);
    }
  }
  return { evidence, excluded };
}

/**
 * The report. Only evidence counts: simulated runs are listed in `excluded_runs` and add the
 * reason `simulated_evidence_excluded:<n>`, so a report that saw any simulated run is never
 * release ready (a GO can never rest on simulated builds).
 */
export function buildReport(input: ReportInput) {
  const profile = effectiveProfile(input.profile, input.runsPerRepo);
  const { evidence, excluded } = partitionEvidence(input.runs);
  const summary = summarise(evidence, input.planRepos);
  const gate = gateReasons(summary, profile);
  const rubricReasons = [...gate];
  if (summary.repo_count < profile.min_repo_count)
    rubricReasons.push(`repo_count_below_threshold:${summary.repo_count}`);
  if (summary.run_count < profile.min_total_runs) rubricReasons.push(`total_runs_below_threshold:${summary.run_count}`);
  if (summary.avg_success_rate < profile.min_average_success_rate) {
    rubricReasons.push(`average_success_rate_below_threshold:${formatFixed(summary.avg_success_rate, 3)}`);
  }
  if (excluded.length > 0) rubricReasons.push(`${SIMULATED_EVIDENCE_EXCLUDED}:${excluded.length}`);
  if (input.dryRun) rubricReasons.push(DRY_RUN_CAMPAIGN);
  const reasons = dedupe(rubricReasons);
  const score = rubricScore(summary, profile);
  const passed = reasons.length === 0;
  const releaseReady = passed && score >= profile.release_ready_min_score;
  return {
    generated_at: input.generatedAt,
    profile,
    plan: buildPlan(summary, input),
    summary,
    gate: { passed: gate.length === 0, reasons: gate, summary },
    rubric: { profile_name: profile.profile_name, passed, release_ready: releaseReady, score, reasons },
    recommendations: recommendations([...gate, ...reasons], releaseReady, profile),
    excluded_runs: excluded,
  };
}
export type CampaignReport = ReturnType<typeof buildReport>;
