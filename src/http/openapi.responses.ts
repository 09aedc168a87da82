/**
 * Response DTO schemas of every route (the request schemas are the ones `validate(...)` enforces,
 * read from the routes themselves). Written by hand after the services' DTO mappers (STYLE §4);
 * the OpenAPI document publishes them and every HTTP test validates the bodies it receives
 * against the document (test/helpers/api.ts), so a DTO and its schema cannot drift apart
 * unnoticed. Registered names (`RESPONSE_SCHEMAS`) become `components.schemas`.
 */
import { z } from "zod";
import { BUILD_STATUSES, GATE_DECISION_STATUSES, GATE_TYPES, REPLAN_ACTIONS, TASK_STATUSES } from "../builds/builds.types";
import { RUN_EXECUTIONS, RUN_STATUSES, SIMULATED_EVIDENCE_EXCLUDED } from "../program/campaign-report";
import { PlannerPolicyDocument } from "../planning/planning.schemas";
import { ERROR_CODES } from "../kernel/errors";
import { DeadLetter, DeadLetterPage, RedriveAllResult, RedriveResult } from "../builds/dead-letters.schemas";
import { AuditEntry, AuditPage } from "../audit/audit.schemas";

export { DeadLetter, DeadLetterPage, RedriveAllResult, RedriveResult, AuditEntry, AuditPage };

const ts = z.string().describe("ISO-8601 UTC timestamp with microseconds, e.g. 2026-02-21T15:59:34.123000Z.");
const nts = ts.nullable();
const record = z.record(z.string(), z.unknown());
const int = z.number().int();
const seqCursor = int.nullable().describe("Pass as `cursor` for the next page; null on the last page.");
const opaqueCursor = z.string().nullable().describe("Opaque; pass as `cursor` for the next page; null on the last page.");

// ---- errors ----------------------------------------------------------------------------------

export const Problem = z
  .object({
    type: z.string(),
    title: z.string(),
    status: int,
    detail: z.string().optional(),
    code: z.enum(ERROR_CODES).describe("Stable machine code; each maps to one HTTP status."),
    request_id: z.string().describe("Also in the `x-request-id` response header; quote it when reporting a problem."),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional().describe("Field errors of `validation_failed`."),
  })
  .describe("RFC 9457 problem details (`application/problem+json`).");

// ---- builds (SPEC §4.2, §5.1–5.2) -------------------------------------------------------------

export const DagNode = z.object({
  node_id: z.string(),
  title: z.string(),
  agent: z.string(),
  depends_on: z.array(z.string()),
  gate: z.enum(GATE_TYPES).nullable(),
  status: z.enum(TASK_STATUSES),
});

export const TaskRun = z.object({
  task_run_id: z.string(),
  node_id: z.string(),
  attempt: int,
  status: z.enum(TASK_STATUSES),
  started_at: ts,
  finished_at: nts,
  error: z.string().nullable(),
});

export const ReplanDecision = z.object({
  decision_id: z.uuid(),
  action: z.enum(REPLAN_ACTIONS),
  reason: z.string(),
  created_at: ts,
  replacement_nodes: z.array(DagNode),
});

export const DebtItem = z.object({ debt_id: z.uuid(), node_id: z.string(), summary: z.string(), severity: z.string(), created_at: ts });

export const PolicyViolation = z.object({
  violation_id: z.uuid(),
  code: z.string(),
  message: z.string(),
  source: z.string(),
  blocking: z.boolean(),
  created_at: ts,
});

export const StateTransition = z.object({
  transition_id: z.uuid(),
  from_status: z.enum(BUILD_STATUSES),
  to_status: z.enum(BUILD_STATUSES),
  reason: z.string(),
  source: z.string(),
  created_at: ts,
});

export const GateDecision = z.object({
  decision_id: z.uuid(),
  build_id: z.uuid(),
  gate: z.enum(GATE_TYPES),
  status: z.enum(GATE_DECISION_STATUSES),
  reason: z.string(),
  node_id: z.string().nullable(),
  created_at: ts,
});

export const BuildRun = z
  .object({
    build_id: z.uuid(),
    created_by: z.string(),
    repo_url: z.string(),
    objective: z.string(),
    status: z.enum(BUILD_STATUSES),
    created_at: ts,
    updated_at: ts,
    dag: z.array(DagNode),
    task_runs: z.array(TaskRun),
    replan_history: z.array(ReplanDecision),
    debt_items: z.array(DebtItem),
    policy_violations: z.array(PolicyViolation),
    state_transitions: z.array(StateTransition),
    gate_history: z.array(GateDecision),
    metadata: record.describe("Build metadata (SPEC §4.3) after planning: scan_mode, dag_levels, planner_trace, runner knobs …"),
    progress: z.object({ nodes_total: int, nodes_done: int }),
  })
  .describe("A build with its DAG and history (SPEC §4.2 BuildRun).");

export const BuildSummary = z.object({
  build_id: z.uuid(),
  repo_url: z.string(),
  objective: z.string(),
  status: z.enum(BUILD_STATUSES),
  created_at: ts,
  updated_at: ts,
  task_total: int,
  task_completed: int,
  task_failed: int,
  node_total: int,
  node_done: int,
});
export const BuildPage = z.object({ items: z.array(BuildSummary), next_cursor: opaqueCursor });

export const DagPreview = z.object({
  scan_mode: z.string(),
  planner_profile: z.string().nullable(),
  planner_trace: record,
  dag: z.array(DagNode),
  dag_levels: z.array(z.array(z.string())),
  metadata: record,
});

export const BuildEvent = z.object({
  seq: int.describe("Per-build, strictly increasing from 1; the SSE `id`."),
  event_type: z.string().describe("SPEC §4.12 event catalogue."),
  build_id: z.uuid(),
  timestamp: ts,
  payload: record,
});
export const BuildEventPage = z.object({ items: z.array(BuildEvent), next_cursor: seqCursor });

export const StreamToken = z.object({
  token: z.string().describe("Pass as `?stream_token=` to GET /v1/builds/{id}/events (EventSource cannot send headers)."),
  expires_at: z.string(),
});

export const Checkpoint = z.object({
  checkpoint_id: z.uuid(),
  build_id: z.uuid(),
  status: z.enum(BUILD_STATUSES),
  reason: z.string(),
  event_cursor: int.describe("Seq of this checkpoint's CHECKPOINT_CREATED event."),
  created_at: ts,
});

export const TaskRunPage = z.object({ items: z.array(TaskRun), next_cursor: seqCursor });
export const GateDecisionPage = z.object({ items: z.array(GateDecision), next_cursor: seqCursor });
export const ReplanDecisionPage = z.object({ items: z.array(ReplanDecision), next_cursor: seqCursor });
export const DebtItemPage = z.object({ items: z.array(DebtItem), next_cursor: seqCursor });
export const PolicyViolationPage = z.object({ items: z.array(PolicyViolation), next_cursor: seqCursor });
export const CheckpointPage = z.object({ items: z.array(Checkpoint), next_cursor: seqCursor });

export const ReplanSuggestion = z.object({ action: z.enum(REPLAN_ACTIONS), reason: z.string(), replacement_nodes: z.array(DagNode) });

export const RuntimeSession = z.object({
  runtime_id: z.string(),
  build_id: z.uuid(),
  status: z.string(),
  sandbox_profile: z.string(),
  created_at: ts,
  updated_at: ts,
  metadata: record,
});

export const WorkerHealth = z.object({
  build_id: z.uuid(),
  worker_enabled: z.boolean(),
  worker_stale: z.boolean(),
  nudge_allowed: z.boolean(),
  stale_after_seconds: int,
  last_runtime_event_at: nts,
  heartbeat_at: nts,
  lease_owner: z.string().nullable(),
  lease_epoch: int,
  lease_expires_at: nts,
  lease_expired: z.boolean(),
  dead_lettered: z.boolean().describe("The build's ticks kept failing and it is dead-lettered: it keeps its status but does not run until re-driven (POST /v1/ops/dead-letters/{build_id}/redrive)."),
});

export const RuntimeMetric = z.object({
  metric: z.string(),
  build_id: z.uuid().nullable(),
  runtime_id: z.string().nullable(),
  value: z.number(),
  tags: z.record(z.string(), z.string()),
  fields: record,
  emitted_at: ts,
});
export const RuntimeMetricPage = z.object({ items: z.array(RuntimeMetric), next_cursor: z.null() });

export const TelemetrySummary = z.object({
  build_id: z.uuid(),
  metric_count: int,
  bootstrap_count: int,
  tick_count: int,
  total_executed_nodes: z.number(),
  latest_runtime_id: z.string().nullable(),
  latest_status: z.unknown().describe("`fields.status` of the newest metric, or null."),
  last_emitted_at: nts,
});

export const RunnerLog = z.object({
  log_id: z.uuid(),
  build_id: z.uuid(),
  runtime_id: z.string(),
  node_id: z.string(),
  task_run_id: z.string(),
  runner: z.string(),
  workspace_id: z.string(),
  status: z.string(),
  message: z.string(),
  started_at: ts,
  finished_at: ts,
  duration_ms: z.number(),
  error: z.string().nullable(),
  metadata: record,
});
export const RunnerLogPage = z.object({ items: z.array(RunnerLog), next_cursor: seqCursor });

export const TickResult = z.object({
  build_id: z.uuid(),
  runtime_id: z.string(),
  executed_nodes: z.array(z.string()),
  dispatched_nodes: z.array(z.string()),
  pending_nodes: z.array(z.string()),
  active_level: int.nullable(),
  level_started: int.nullable(),
  level_completed: int.nullable(),
  finished: z.boolean(),
});

export const Finding = z.object({
  finding_id: z.uuid(),
  build_id: z.uuid(),
  node_id: z.string(),
  task_run_id: z.string(),
  rule_id: z.string().nullable().describe("The rule that fired (e.g. `aws/AWSAccessKeyID`, `js-exec-user-input`); null for findings without one."),
  tool: z.string().nullable().describe("The tool that produced the finding (secretlint, ast-grep, dependencies, inventory, builder)."),
  severity: z.enum(["critical", "high", "medium", "low", "info"]),
  category: z.string(),
  title: z.string(),
  detail: z.string(),
  file: z.string().nullable(),
  line: int.nullable(),
  end_line: int.nullable(),
  column: int.nullable().describe("1-based column of the start, when known."),
  snippet: z.string().nullable().describe("The line with any secret value masked."),
  created_at: ts,
});
export const FindingPage = z.object({ items: z.array(Finding), next_cursor: seqCursor });

export const BuildReport = z.object({
  build_id: z.uuid(),
  status: z.enum(BUILD_STATUSES),
  repo_url: z.string(),
  execution: z.enum(["real", "simulated"]).describe("`real`: the nodes ran on the runner service; `simulated`: nothing was executed (issue 15)."),
  findings_total: int,
  by_severity: z.record(z.string(), int),
  by_node: z.record(z.string(), int),
  top_findings: z.array(Finding),
  nodes: z.array(z.object({ node_id: z.string(), agent: z.string(), status: z.string(), summary: z.string().nullable(), duration_ms: z.number().nullable() })),
  remediation_plan: z.string().nullable(),
});

export const RunnerCallbackAccepted = z.object({ accepted: z.boolean().describe("False for a late or duplicate report (ignored).") });

// ---- validation helpers and campaigns (SPEC §5.3, §6.1) ---------------------------------------

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

const reportShape = {
  generated_at: ts,
  profile: ThresholdProfile,
  plan: BenchmarkPlan,
  summary: ReportSummary,
  gate: z.object({ passed: z.boolean(), reasons: z.array(z.string()), summary: ReportSummary }),
  rubric: z.object({ profile_name: z.string(), passed: z.boolean(), release_ready: z.boolean(), score: z.number(), reasons: z.array(z.string()) }),
  recommendations: z.array(z.string()),
  excluded_runs: z
    .array(z.object({ run_id: z.string(), repo: z.string(), execution: z.enum(RUN_EXECUTIONS), reason: z.literal(SIMULATED_EVIDENCE_EXCLUDED) }))
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
  run_count: int,
  runs: z.array(z.object({ run_id: z.string(), repo: z.string(), build_id: z.uuid() })),
});

// ---- policy, SLO, release (SPEC §6.2, §6.6–6.8) ------------------------------------------------

export const PolicyProfile = z.object({
  profile_id: z.uuid(),
  name: z.string(),
  blocked_commands: z.array(z.string()),
  restricted_paths: z.array(z.string()),
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

const SLO_WINDOWS = ["5m", "30m", "1h", "6h", "3d", "30d"] as const;
const SLO_STATES = ["page", "ticket", "healthy", "no_data"] as const;
const nnum = z.number().nullable();

export const SloSummary = z.object({
  scope: z.enum(["tenant", "caller"]),
  generated_at: ts,
  state: z.enum(SLO_STATES),
  objectives: z.array(
    z.object({
      name: z.string(),
      description: z.string(),
      target: z.number(),
      threshold_seconds: z.number().optional().describe("Latency objective: the completion-time threshold."),
      budget_period: z.enum(SLO_WINDOWS),
      error_budget_remaining: nnum,
      windows: z.record(z.enum(SLO_WINDOWS), z.object({ valid: int, good: int, bad: int, sli: nnum, burn_rate: nnum })),
      alerts: z.array(
        z.object({
          severity: z.enum(["page", "ticket"]),
          long_window: z.enum(SLO_WINDOWS),
          short_window: z.enum(SLO_WINDOWS),
          burn_rate_threshold: z.number(),
          budget_consumed: z.number(),
          long_burn_rate: nnum,
          short_burn_rate: nnum,
          firing: z.boolean(),
        }),
      ),
      state: z.enum(SLO_STATES),
    }),
  ),
  total_builds: int,
  completed_builds: int,
  failed_builds: int,
  aborted_builds: int,
  running_builds: int,
  success_rate: z.number(),
  mean_cycle_seconds: z.number(),
});

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
  }),
});

// ---- security plane (SPEC §6.3–6.5) ------------------------------------------------------------

export const SecretRef = z.object({
  secret_id: z.uuid(),
  name: z.string(),
  masked_value: z.string().describe("`gh***90` on create (values of ≥ 8 characters), `***` in lists."),
  cipher_digest: z.string(),
  key_version: int,
  created_at: ts,
});
export const SecretRefPage = z.object({ items: z.array(SecretRef), next_cursor: opaqueCursor });

export const SecretMetadata = z.object({
  secret_id: z.uuid(),
  name: z.string(),
  cipher_digest: z.string(),
  cipher_length: int,
  key_version: int,
  created_by: z.string(),
  created_at: ts,
  updated_at: ts,
  rotated_at: nts,
});

export const SecretRotation = z.object({ key_version: int, rotated: int, remaining: int });

const acceptedBase = { status: z.literal("accepted"), scheme: z.enum(["platform", "standard"]), delivery_id: z.uuid(), timestamp: int };
export const WebhookAccepted = z.union([
  z.object({ ...acceptedBase, nonce: z.string().describe("X-Platform-Nonce of the reference scheme.") }),
  z.object({ ...acceptedBase, webhook_id: z.string().describe("webhook-id of Standard Webhooks.") }),
]);

const deliveryShape = {
  delivery_id: z.uuid(),
  scheme: z.enum(["platform", "standard"]),
  external_id: z.string(),
  tenant_id: z.string().nullable(),
  signed_at: int,
  received_at: ts,
  content_type: z.string().nullable(),
  body_digest: z.string(),
  body_bytes: int,
};
export const WebhookDeliverySummary = z.object(deliveryShape);
export const WebhookDeliveryPage = z.object({ items: z.array(WebhookDeliverySummary), next_cursor: opaqueCursor });
export const WebhookDelivery = z.object({ ...deliveryShape, body: z.string(), body_encoding: z.enum(["utf8", "base64"]) });

export const IdempotentCheckpointResult = z.object({
  replayed: z.boolean(),
  checkpoint_id: z.uuid(),
  status: z.string(),
  reason: z.string(),
});

// ---- planner policies ---------------------------------------------------------------------------

export const PlannerPolicy = z.object({
  version: int.describe("0 = the built-in policy."),
  source: z.enum(["stored", "builtin"]),
  description: z.string(),
  document: PlannerPolicyDocument,
  active: z.boolean(),
  activated_at: nts,
  activated_by: z.string().nullable(),
  created_by: z.string().nullable(),
  created_at: nts,
});
export const PlannerPolicyPage = z.object({ items: z.array(PlannerPolicy), next_cursor: seqCursor });

// ---- public, development, operability -----------------------------------------------------------

export const Health = z.object({ status: z.literal("healthy") });

export const DevTokenInfo = z.object({ available: z.literal(true), roles: z.array(z.string()), issuer: z.string(), expires_in: int });
export const DevToken = z.object({ token: z.string(), token_type: z.literal("Bearer"), role: z.string(), sub: z.string(), expires_at: ts });

export const OpenApiDocument = z.record(z.string(), z.unknown()).describe("This OpenAPI 3.1 document.");

/** Every named response schema: its key is its `components.schemas` name. */
export const RESPONSE_SCHEMAS = {
  Problem, DagNode, TaskRun, ReplanDecision, DebtItem, PolicyViolation, StateTransition, GateDecision, BuildRun, BuildSummary, BuildPage,
  DagPreview, BuildEvent, BuildEventPage, StreamToken, Checkpoint, TaskRunPage, GateDecisionPage, ReplanDecisionPage, DebtItemPage,
  PolicyViolationPage, CheckpointPage, ReplanSuggestion, RuntimeSession, WorkerHealth, RuntimeMetric, RuntimeMetricPage, TelemetrySummary,
  RunnerLog, RunnerLogPage, TickResult, Finding, FindingPage, BuildReport, RunnerCallbackAccepted, ThresholdProfile, BenchmarkPlan,
  ValidationReport, PromptContract, PromptContractPage, Campaign, CampaignPage, RunAccepted, CampaignRun, CampaignRunPage, CampaignReport,
  CampaignExecution, PolicyProfile, PolicyProfilePage, PolicyCheckResult, SloSummary, ReleaseChecklist, RollbackDrill, GoLiveDecision,
  SecretRef, SecretRefPage, SecretMetadata, SecretRotation, WebhookAccepted, WebhookDeliverySummary, WebhookDeliveryPage, WebhookDelivery,
  IdempotentCheckpointResult, PlannerPolicy, PlannerPolicyPage, Health, DevTokenInfo, DevToken, DeadLetter, DeadLetterPage, RedriveResult,
  RedriveAllResult, AuditEntry, AuditPage, OpenApiDocument,
} as const;
