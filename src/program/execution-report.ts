/**
 * The frozen report of one campaign execution, pure: the campaign report (SPEC §6.1 rubric over
 * the evidence, simulated runs excluded) plus run statistics over every run the execution made,
 * simulated ones counted and labelled, with findings by severity per repository. Written once
 * when the execution finished (executions.service.ts) and read by trends.
 */
import { type ReportRun, type RunStatus, type ThresholdProfile, buildReport, summarise } from "./campaign-report";

export const SEVERITY_KEYS = ["critical", "high", "medium", "low", "info"] as const;
export type SeverityKey = (typeof SEVERITY_KEYS)[number];
export type SeverityCounts = Record<SeverityKey, number>;

export function zeroSeverities(): SeverityCounts {
  return { critical: 0, high: 0, medium: 0, low: 0, info: 0 };
}

export function addSeverities(a: SeverityCounts, b: Partial<SeverityCounts>): SeverityCounts {
  const out = { ...a };
  for (const k of SEVERITY_KEYS) out[k] += b[k] ?? 0;
  return out;
}

export interface ExecutionRun {
  run_id: string;
  repo: string;
  language: string;
  status: RunStatus;
  duration_ms: number;
  findings_total: number;
  findings_by_severity: SeverityCounts;
  execution: "real" | "simulated";
}

export interface ExecutionReportInput {
  runs: readonly ExecutionRun[];
  profile: ThresholdProfile;
  planRepos: readonly string[];
  runsPerRepo: number;
  languages: Readonly<Record<string, string>>;
  generatedAt: string;
  dryRun?: boolean;
}

/** Per repository, over every run of the execution (simulated included and counted). */
function runStats(runs: readonly ExecutionRun[], planRepos: readonly string[]) {
  const summary = summarise(runs as readonly ReportRun[], planRepos);
  const repos = summary.repos.map((r) => {
    const mine = runs.filter((x) => x.repo === r.repo);
    return {
      repo: r.repo,
      run_count: r.run_count,
      simulated_runs: mine.filter((x) => x.execution === "simulated").length,
      success_count: r.success_count,
      success_rate: r.success_rate,
      mean_duration_ms: r.mean_duration_ms,
      duration_stddev_ms: r.duration_stddev_ms,
      duration_cv: r.duration_cv,
      findings_total: mine.reduce((a, x) => a + x.findings_total, 0),
      findings_by_severity: mine.reduce((a, x) => addSeverities(a, x.findings_by_severity), zeroSeverities()),
    };
  });
  const done = runs.filter((r) => r.status === "completed").length;
  return {
    run_count: runs.length,
    simulated_runs: runs.filter((r) => r.execution === "simulated").length,
    success_rate: runs.length === 0 ? 0 : done / runs.length,
    findings_total: runs.reduce((a, x) => a + x.findings_total, 0),
    findings_by_severity: runs.reduce((a, x) => addSeverities(a, x.findings_by_severity), zeroSeverities()),
    repos,
  };
}

/** The report of one execution: the rubric over its evidence and the statistics of all its runs. */
export function buildExecutionReport(input: ExecutionReportInput) {
  const report = buildReport({
    runs: input.runs,
    profile: input.profile,
    planRepos: input.planRepos,
    runsPerRepo: input.runsPerRepo,
    languages: input.languages,
    generatedAt: input.generatedAt,
    dryRun: input.dryRun,
  });
  return { ...report, run_stats: runStats(input.runs, input.planRepos) };
}
export type ExecutionReport = ReturnType<typeof buildExecutionReport>;
