/**
 * Request and response schemas of campaign history and trends (issue 23): numbered executions
 * with their frozen reports, the runs of one execution, and the trends with their drift verdict.
 */
import { z } from "zod";
import { int, opaqueCursor, registerResponses, ts } from "../kernel/api-schemas";
import { CampaignIdParam, reportShape } from "./program.schemas";

export const ExecutionParam = CampaignIdParam.extend({
  n: z.coerce.number().int().min(1).max(1_000_000_000),
});

export const TrendsQuery = z.object({
  limit: z.coerce.number().int().min(2).max(100).default(20).describe("How many of the latest finished executions."),
});
export type TrendsQuery = z.infer<typeof TrendsQuery>;

export const SeverityCounts = z.object({ critical: int, high: int, medium: int, low: int, info: int });

const RunStatsRepo = z.object({
  repo: z.string(),
  run_count: int,
  simulated_runs: int,
  success_count: int,
  success_rate: z.number(),
  mean_duration_ms: z.number(),
  duration_stddev_ms: z.number(),
  duration_cv: z.number(),
  findings_total: int,
  findings_by_severity: SeverityCounts,
});

export const ExecutionReport = z
  .object({
    ...reportShape,
    run_stats: z
      .object({
        run_count: int,
        simulated_runs: int,
        success_rate: z.number(),
        findings_total: int,
        findings_by_severity: SeverityCounts,
        repos: z.array(RunStatsRepo),
      })
      .describe("Every run of the execution, simulated ones counted and labelled (the rubric counts evidence only)."),
  })
  .describe("Frozen when the execution's last build finished; never rewritten.");

const executionShape = {
  campaign_id: z.uuid(),
  execution_id: z.uuid(),
  n: int.describe("1, 2, … within the campaign."),
  trigger: z.enum(["manual", "schedule"]),
  due_at: ts.nullable().describe("The schedule's due time this execution answers."),
  status: z.enum(["running", "finished"]),
  runner_mode: z
    .enum(["default", "real", "simulated"])
    .describe("simulated: dry-run campaign; real: scheduled, needs a runner; default: real when one is configured."),
  max_concurrent_builds: int.nullable(),
  plan: z.array(z.object({ run_id: z.string(), repo: z.string(), language: z.string() })),
  created_by: z.string(),
  created_at: ts,
  finished_at: ts.nullable(),
  report: ExecutionReport.nullable().describe("Null while the execution runs."),
};
export const CampaignExecutionRecord = z.object(executionShape);
export const CampaignExecutionPage = z.object({ items: z.array(CampaignExecutionRecord), next_cursor: opaqueCursor });

export const CampaignExecutionDetail = z.object({
  ...executionShape,
  runs: z.array(
    z.object({
      run_id: z.string(),
      repo: z.string(),
      language: z.string(),
      status: z.enum(["completed", "failed", "aborted"]),
      duration_ms: int,
      findings_total: int,
      findings_by_severity: SeverityCounts,
      execution: z.enum(["real", "simulated"]),
      build_id: z.uuid(),
      observed_at: ts,
    }),
  ),
});

const TrendPoint = z.object({
  n: int,
  run_count: int,
  simulated_runs: int,
  success_rate: z.number(),
  duration_mean_ms: z.number(),
  duration_cv: z.number(),
  findings_total: int,
  findings_by_severity: SeverityCounts,
});

export const CampaignTrends = z.object({
  campaign_id: z.uuid(),
  generated_at: ts,
  executions: z.array(
    TrendPoint.extend({
      execution_id: z.uuid(),
      trigger: z.enum(["manual", "schedule"]),
      finished_at: ts,
      score: z.number(),
      release_ready: z.boolean(),
    }),
  ),
  repos: z.array(z.object({ repo: z.string(), points: z.array(TrendPoint) })),
  drift: z.object({
    verdict: z.enum(["insufficient_data", "stable", "improving", "degrading"]),
    reasons: z.array(z.string()),
    window: int.describe("Executions compared: the latest against the mean of the ones before it."),
    score_delta: z.number().nullable(),
    success_rate_delta: z.number().nullable(),
    duration_cv_delta: z.number().nullable(),
    rule: z.object({
      window: int,
      score_drop_points: z.number(),
      success_rate_drop: z.number(),
      duration_cv_rise: z.number(),
    }),
  }),
});

registerResponses({
  ExecutionReport,
  CampaignExecutionRecord,
  CampaignExecutionPage,
  CampaignExecutionDetail,
  CampaignTrends,
});
