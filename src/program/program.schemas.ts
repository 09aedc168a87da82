/**
 * Request and response schemas of the program routes (SPEC §6.1–6.2, §6.7–6.9). A schema and its type share
 * one name. Strings are trimmed; lists are bounded so every request does bounded work.
 */
import { BuildFindingThresholds, FindingThresholds } from "../findings/gate";
import { z } from "zod";
import { PolicyViolation } from "../builds/builds.schemas";
import { BETA_DEFAULT, RUN_EXECUTIONS, RUN_STATUSES, SIMULATED_EVIDENCE_EXCLUDED } from "./campaign-report";
import { int, opaqueCursor, registerResponses, ts } from "../kernel/api-schemas";
import { Schedule, ScheduleInput } from "./schedule.schemas";

const limit = (def: number, max: number) => z.coerce.number().int().min(1).max(max).default(def);

export const PageQuery = z.object({
  limit: limit(20, 200),
  cursor: z.string().min(1).max(1024).optional(),
});
export type PageQuery = z.infer<typeof PageQuery>;

/** Free-string keys used in paths (release ids, run ids): no slash, no control characters. */
const pathKey = (what: string) =>
  z
    .string()
    .trim()
    .min(1, `${what} is required`)
    .max(256)
    .regex(/^[^/\u0000-\u001f\u007f]+$/, `${what} must not contain '/' or control characters`);

const cleanList = (maxItems: number, maxLen: number) =>
  z
    .array(z.string().max(maxLen))
    .max(maxItems)
    .default([])
    .transform((xs) => xs.map((x) => x.trim()).filter((x) => x !== ""));

// ---------------------------------------------------------------------------------------------
// Campaigns

const ratio01 = z.number().min(0).max(1);

/** A custom threshold profile: any omitted threshold is beta_default's; the name is required. */
export const ThresholdProfileInput = z.object({
  profile_name: z
    .string()
    .trim()
    .min(1)
    .max(64)
    .refine((n) => n !== BETA_DEFAULT.profile_name, "beta_default is reserved; omit threshold_profile to use it"),
  min_repo_count: z.number().int().min(0).max(10_000).default(BETA_DEFAULT.min_repo_count),
  min_total_runs: z.number().int().min(0).max(1_000_000).default(BETA_DEFAULT.min_total_runs),
  min_runs_per_repo: z.number().int().min(0).max(10_000).default(BETA_DEFAULT.min_runs_per_repo),
  min_success_rate: ratio01.default(BETA_DEFAULT.min_success_rate),
  min_average_success_rate: ratio01.default(BETA_DEFAULT.min_average_success_rate),
  max_duration_cv: z.number().min(0).max(100).default(BETA_DEFAULT.max_duration_cv),
  release_ready_min_score: z.number().min(0).max(100).default(BETA_DEFAULT.release_ready_min_score),
});

export const MAX_CAMPAIGN_REPOS = 50;
export const MAX_RUNS_PER_REPO = 25;

export const CampaignCreateRequest = z.object({
  name: z.string().trim().min(1).max(200),
  repos: cleanList(MAX_CAMPAIGN_REPOS, 2048).transform((xs) => [...new Set(xs)]),
  // SPEC §6.1: clamped to ≥ 1 (not rejected); bounded above like the validation plan.
  runs_per_repo: z
    .number()
    .int()
    .max(MAX_RUNS_PER_REPO)
    .default(3)
    .transform((n) => Math.max(1, n)),
  threshold_profile: ThresholdProfileInput.optional(),
  /** Builds of a dry-run campaign are simulated (and labelled so); otherwise scheduled builds are real. */
  dry_run: z.boolean().default(false),
  schedule: ScheduleInput.optional(),
});
export type CampaignCreateRequest = z.infer<typeof CampaignCreateRequest>;

export const CampaignIdParam = z.object({ campaign_id: z.uuid({ message: "campaign id must be a UUID" }) });
export const CampaignRunParam = CampaignIdParam.extend({ run_id: pathKey("run_id") });

export const ValidationRunRequest = z.object({
  repo: z.string().trim().min(1).max(2048),
  language: z.string().trim().max(64),
  run_id: pathKey("run_id"),
  status: z.enum(RUN_STATUSES),
  duration_ms: z.number().int().min(-1_000_000_000).max(1_000_000_000_000).default(0),
  findings_total: z.number().int().min(0).max(1_000_000_000).default(0),
});
export type ValidationRunRequest = z.infer<typeof ValidationRunRequest>;

export { CampaignExecuteRequest } from "./schedule.schemas";

// ---------------------------------------------------------------------------------------------
// Policy

export const PolicyProfileCreateRequest = z.object({
  name: z.string().trim().min(1).max(200),
  blocked_commands: cleanList(200, 512),
  restricted_paths: cleanList(200, 1024),
  finding_thresholds: BuildFindingThresholds.optional().describe("POLICY_GATE of builds naming this profile."),
});
export type PolicyProfileCreateRequest = z.infer<typeof PolicyProfileCreateRequest>;

export const PolicyProfileIdParam = z.object({ profile_id: z.uuid({ message: "profile id must be a UUID" }) });

export const PolicyCheckRequest = z.object({
  profile_id: z.uuid(),
  command: z.string().max(16_384),
  path: z.string().max(4096).nullable().optional(),
  build_id: z.uuid().nullable().optional(),
});
export type PolicyCheckRequest = z.infer<typeof PolicyCheckRequest>;

// ---------------------------------------------------------------------------------------------
// Release

export const ReleaseIdParam = z.object({ release_id: pathKey("release_id") });

export const ChecklistRequest = z.object({
  release_id: pathKey("release_id"),
  security_review: z.boolean().default(false),
  slo_dashboard: z.boolean().default(false),
  rollback_tested: z.boolean().default(false),
  docs_complete: z.boolean().default(false),
  runbooks_ready: z.boolean().default(false),
});
export type ChecklistRequest = z.infer<typeof ChecklistRequest>;

export const RollbackDrillRequest = z.object({
  release_id: pathKey("release_id"),
  passed: z.boolean(),
  duration_minutes: z.number().int().min(0).max(525_600),
  issues_found: z.array(z.string().max(2000)).max(200).default([]),
});
export type RollbackDrillRequest = z.infer<typeof RollbackDrillRequest>;

export const GoLiveRequest = z.object({
  release_id: pathKey("release_id"),
  /** Client-asserted readiness (SPEC); ignored when `campaign_id` is given. */
  validation_release_ready: z.boolean().default(false),
  /** Compute readiness from this campaign's report instead of trusting the flag (quirk 15). */
  campaign_id: z.uuid().optional(),
});
export type GoLiveRequest = z.infer<typeof GoLiveRequest>;

// ---- responses (SPEC §5.3, §6.1–6.2, §6.6–6.8) ---------------------------------------------------

export const ThresholdProfile = z.object({
  profile_name: z.string(),
  min_repo_count: int,
  min_total_runs: int,
  min_runs_per_repo: int,
  min_success_rate: z.number(),
  min_average_success_rate: z.number(),
  max_duration_cv: z.number(),
  release_ready_min_score: z.number(),
});

const PlanSpec = z.object({ repo: z.string(), language: z.string(), run_id: z.string() });
export const BenchmarkPlan = z.object({ target_count: int, run_count: int, runs: z.array(PlanSpec) });

const ReportSummary = z.object({
  repo_count: int,
  run_count: int,
  avg_success_rate: z.number(),
  max_duration_cv: z.number(),
  repos: z.array(
    z.object({
      repo: z.string(),
      language: z.string(),
      run_count: int,
      success_count: int,
      success_rate: z.number(),
      mean_duration_ms: z.number(),
      duration_stddev_ms: z.number(),
      duration_cv: z.number(),
    }),
  ),
});

export const reportShape = {
  generated_at: ts,
  profile: ThresholdProfile,
  plan: BenchmarkPlan,
  summary: ReportSummary,
  gate: z.object({ passed: z.boolean(), reasons: z.array(z.string()), summary: ReportSummary }),
  rubric: z.object({
    profile_name: z.string(),
    passed: z.boolean(),
    release_ready: z.boolean(),
    score: z.number(),
    reasons: z.array(z.string()),
  }),
  recommendations: z.array(z.string()),
  excluded_runs: z
    .array(
      z.object({
        run_id: z.string(),
        repo: z.string(),
        execution: z.enum(RUN_EXECUTIONS),
        reason: z.literal(SIMULATED_EVIDENCE_EXCLUDED),
      }),
    )
    .describe("Runs listed but not counted: simulated builds are never evidence."),
};
export const ValidationReport = z.object(reportShape).describe("SPEC §6.1 report maths over the runs given.");

export const PromptContract = z.object({
  name: z.string(),
  version: z.string(),
  owner: z.string(),
  description: z.string(),
  input_schema_ref: z.string(),
  output_schema_ref: z.string(),
});
export const PromptContractPage = z.object({ items: z.array(PromptContract), next_cursor: z.null() });

export const Campaign = z.object({
  campaign_id: z.uuid(),
  name: z.string(),
  repos: z.array(z.string()),
  runs_per_repo: int,
  threshold_profile: ThresholdProfile,
  current_execution_id: z.uuid().nullable(),
  dry_run: z.boolean(),
  schedule: Schedule.nullable(),
  next_due_at: ts.nullable().describe("Next due time of the enabled schedule (UTC); null when none."),
  created_by: z.string(),
  created_at: ts,
  updated_at: ts,
});
export const CampaignPage = z.object({ items: z.array(Campaign), next_cursor: opaqueCursor });

export const RunAccepted = z.object({ status: z.literal("accepted"), run_id: z.string() });

export const CampaignRun = z.object({
  run_id: z.string(),
  repo: z.string(),
  language: z.string(),
  status: z.enum(RUN_STATUSES),
  duration_ms: int,
  findings_total: int,
  source: z.enum(["build", "manual"]),
  build_id: z.uuid().nullable(),
  observed_at: ts,
  ingested_by: z.string(),
  created_at: ts,
  updated_at: ts,
});
export const CampaignRunPage = z.object({ items: z.array(CampaignRun), next_cursor: opaqueCursor });

export const CampaignReport = z.object({
  campaign_id: z.uuid(),
  dry_run: z.boolean().describe("A dry-run campaign's report is never release ready (reason dry_run_campaign)."),
  ...reportShape,
  evidence: z.object({
    runs_from_builds: int,
    runs_real: int.describe("Runs from builds a real runner executed."),
    runs_simulated: int.describe("Runs from simulated builds: listed in excluded_runs, never counted."),
    runs_from_clients: int,
    execution_id: z.uuid().nullable(),
  }),
});

export const CampaignExecution = z.object({
  campaign_id: z.uuid(),
  execution_id: z.uuid(),
  n: int.describe("The execution's number within the campaign (GET …/executions/{n})."),
  run_count: int,
  runs: z.array(z.object({ run_id: z.string(), repo: z.string(), build_id: z.uuid() })),
});

// ---- policy, SLO, release (SPEC §6.2, §6.6–6.8) ------------------------------------------------

export const PolicyProfile = z.object({
  profile_id: z.uuid(),
  name: z.string(),
  blocked_commands: z.array(z.string()),
  restricted_paths: z.array(z.string()),
  finding_thresholds: FindingThresholds.nullable().describe("Null: the defaults (any critical or > 5 high fails)."),
  created_by: z.string(),
  created_at: ts,
});
export const PolicyProfilePage = z.object({ items: z.array(PolicyProfile), next_cursor: opaqueCursor });

export const PolicyCheckResult = z.object({
  action: z.enum(["ALLOW", "BLOCK"]),
  reason: z.string(),
  violation_code: z.enum(["blocked_command", "restricted_path"]).nullable(),
  build_id: z.uuid().nullable(),
  violation: PolicyViolation.nullable().describe("The violation written back to the build on a BLOCK with build_id."),
});

const nnum = z.number().nullable();

export const ReleaseChecklist = z.object({
  release_id: z.string(),
  security_review: z.boolean(),
  slo_dashboard: z.boolean(),
  rollback_tested: z.boolean(),
  docs_complete: z.boolean(),
  runbooks_ready: z.boolean(),
  updated_by: z.string(),
  updated_at: ts,
});

export const RollbackDrill = z.object({
  release_id: z.string(),
  passed: z.boolean(),
  duration_minutes: int,
  issues_found: z.array(z.string()),
  updated_by: z.string(),
  updated_at: ts,
});

export const GoLiveDecision = z.object({
  release_id: z.string(),
  status: z.enum(["GO", "NO_GO"]),
  reasons: z.array(z.string()).describe("SPEC §6.8 order."),
  decided_by: z.string(),
  decided_at: ts,
  validation: z.object({
    source: z.enum(["campaign", "asserted"]),
    campaign_id: z.uuid().nullable(),
    release_ready: z.boolean(),
    score: nnum,
    profile_name: z.string().nullable(),
    simulated_runs: int.optional().describe("Simulated runs the campaign report listed but did not count."),
    dry_run: z.boolean().optional().describe("The campaign is a dry run: no evidence (reason dry_run_campaign)."),
  }),
});

registerResponses({
  ThresholdProfile,
  BenchmarkPlan,
  ValidationReport,
  PromptContract,
  PromptContractPage,
  Campaign,
  CampaignPage,
  RunAccepted,
  CampaignRun,
  CampaignRunPage,
  CampaignReport,
  CampaignExecution,
  PolicyProfile,
  PolicyProfilePage,
  PolicyCheckResult,
  ReleaseChecklist,
  RollbackDrill,
  GoLiveDecision,
});
