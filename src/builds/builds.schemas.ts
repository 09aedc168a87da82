/**
 * Request and response schemas of the build routes (SPEC §4.2, §5.1–5.2). A schema and its type
 * share one name; response schemas are named for the OpenAPI document with `registerResponses`.
 */
import { z } from "zod";
import { BUILD_CONTROL_ACTIONS } from "./allowed-actions";
import {
  BUILD_EVENT_TYPES,
  BUILD_STATUSES,
  GATE_DECISION_STATUSES,
  GATE_TYPES,
  REPLAN_ACTIONS,
  TASK_STATUSES,
} from "./builds.types";
import { DagNodeSchema } from "./build-runner.client";
import { BuildTrigger } from "./build-trigger";
import { RepoSignals } from "../planning/planning.schemas";
import { int, nts, opaqueCursor, record, registerResponses, seqCursor, ts } from "../kernel/api-schemas";
import type { ErrorCode } from "../kernel/errors";

export const DEFAULT_OBJECTIVE = "Run autonomous code quality orchestration.";

/** Bounds of build metadata: it is stored in one D1 row (≤ 2 MB) and walked recursively. */
export const MAX_METADATA_DEPTH = 32;
export const MAX_METADATA_BYTES = 256 * 1024;

/** Whether a JSON value nests deeper than `max` levels (iterative: safe on any input). */
function nestsDeeperThan(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop() as [unknown, number];
    if (v === null || typeof v !== "object") continue;
    if (depth > max) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push([child, depth + 1]);
  }
  return false;
}

/**
 * Build metadata: any JSON object within the bounds (found by the fuzz suite: deeper nesting
 * overflowed the stack, larger objects exceeded the D1 row limit — both were 500s).
 */
export const BuildMetadata = z.record(z.string(), z.unknown()).superRefine((value, ctx) => {
  if (nestsDeeperThan(value, MAX_METADATA_DEPTH)) {
    ctx.addIssue({ code: "custom", message: `metadata nests deeper than ${MAX_METADATA_DEPTH} levels` });
  } else if (new TextEncoder().encode(JSON.stringify(value)).length > MAX_METADATA_BYTES) {
    ctx.addIssue({ code: "custom", message: `metadata is larger than ${MAX_METADATA_BYTES} bytes of JSON` });
  }
});

export const BuildCreateRequest = z.object({
  repo_url: z.string().trim().min(1).max(2048),
  objective: z.string().max(4000).default(DEFAULT_OBJECTIVE),
  dag: z.array(DagNodeSchema).max(200).nullable().default(null),
  metadata: BuildMetadata.default({}),
  /** Repository signals for the planner policy layer (docs/planner-policy.md); unused by SPEC profiles. */
  repo_signals: RepoSignals.optional(),
});
export type BuildCreateRequest = z.infer<typeof BuildCreateRequest>;

export const BuildIdParam = z.object({ id: z.uuid({ message: "build id must be a UUID" }) });

const limit = (def: number, max: number) => z.coerce.number().int().min(1).max(max).default(def);

export const ListBuildsQuery = z.object({
  status: z.enum(BUILD_STATUSES).optional(),
  limit: limit(20, 200),
  cursor: z.string().max(512).optional(),
});
export type ListBuildsQuery = z.infer<typeof ListBuildsQuery>;

export const EventsHistoryQuery = z.object({
  cursor: z.coerce.number().int().min(0).default(0),
  limit: limit(500, 2000),
});

export const EventsStreamQuery = z.object({
  cursor: z.coerce.number().int().min(0).optional(),
  stream_token: z.string().optional(),
});

const reasonBody = z.object({ reason: z.string().max(1000).nullish() }).default({});
export const ReasonBody = reasonBody;

const page200 = { limit: limit(200, 500), cursor: z.coerce.number().int().min(0).optional() };
export const TaskListQuery = z.object({
  node_id: z.string().optional(),
  status: z.enum(TASK_STATUSES).optional(),
  ...page200,
});
export const GateListQuery = z.object({ gate: z.enum(GATE_TYPES).optional(), ...page200 });
export const PageQuery = z.object(page200);
export const TaskRunParam = z.object({ id: z.uuid(), task_run_id: z.string().min(1).max(128) });
export const GateParam = z.object({ id: z.uuid(), gate: z.enum(GATE_TYPES) });

export const StartTaskBody = z.object({ node_id: z.string().min(1).max(128) });
export const CompleteTaskBody = z
  .object({ status: z.enum(TASK_STATUSES).default("completed"), error: z.string().max(4000).nullish() })
  .default({ status: "completed" });
export const GateBody = z
  .object({
    status: z.enum(GATE_DECISION_STATUSES).default("PASS"),
    reason: z.string().max(1000).default("manual_gate_decision"),
    node_id: z.string().max(128).nullish(),
  })
  .default({ status: "PASS", reason: "manual_gate_decision" });
export const ReplanBody = z
  .object({
    action: z.enum(REPLAN_ACTIONS).default("CONTINUE"),
    reason: z.string().max(1000).default("manual_replan"),
    replacement_nodes: z.array(DagNodeSchema).max(100).default([]),
  })
  .default({ action: "CONTINUE", reason: "manual_replan", replacement_nodes: [] });
export const DebtBody = z.object({
  node_id: z.string().min(1).max(128),
  summary: z.string().min(1).max(4000),
  severity: z.string().min(1).max(32).default("medium"),
});
export const ViolationBody = z.object({
  code: z.string().min(1).max(128),
  message: z.string().max(4000),
  source: z.string().max(128).default("policy_engine"),
  blocking: z.boolean().default(true),
});
export const CheckpointBody = z
  .object({ reason: z.string().min(1).max(1000).default("manual_checkpoint") })
  .default({ reason: "manual_checkpoint" });

/** Domain errors of every route under /v1/builds/{id} (documented on the routes). */
export const BUILD_ERRORS: readonly ErrorCode[] = ["build_not_found", "build_access_denied"];
/** … and of the routes that act on the build through its runner. */
export const BUILD_ACTION_ERRORS: readonly ErrorCode[] = [...BUILD_ERRORS, "lease_lost", "build_dead_lettered"];

// ---- responses (SPEC §4.2, §5.1–5.2) -------------------------------------------------------------

export const DagNode = z.object({
  node_id: z.string(),
  title: z.string(),
  agent: z.string(),
  depends_on: z.array(z.string()),
  gate: z.enum(GATE_TYPES).nullable(),
  status: z.enum(TASK_STATUSES),
});
/** A node of a stored build: a DAG node and the level the planner gave it. */
export const BuildNode = DagNode.extend({
  level: int.describe("The node's level (SPEC §4.5): the 0-based topological wave it runs in."),
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

export const DebtItem = z.object({
  debt_id: z.uuid(),
  node_id: z.string(),
  summary: z.string(),
  severity: z.string(),
  created_at: ts,
});

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

export const FindingsSummary = z
  .object({
    total: int,
    by_severity: z.object({ critical: int, high: int, medium: int, low: int, info: int }),
    new: int,
    unchanged: int,
    fixed: int,
    baseline_build_id: z.string().nullable(),
  })
  .describe("Counts of the build's findings by severity and baseline state, stored when it finished.");

export const BuildRun = z
  .object({
    build_id: z.uuid(),
    created_by: z.string(),
    repo_url: z.string(),
    objective: z.string(),
    status: z.enum(BUILD_STATUSES),
    created_at: ts,
    updated_at: ts,
    dag: z.array(BuildNode),
    task_runs: z.array(TaskRun),
    replan_history: z.array(ReplanDecision),
    debt_items: z.array(DebtItem),
    policy_violations: z.array(PolicyViolation),
    state_transitions: z.array(StateTransition),
    gate_history: z.array(GateDecision),
    metadata: record.describe(
      "Build metadata (SPEC §4.3) after planning: scan_mode, dag_levels, planner_trace, runner knobs …",
    ),
    progress: z.object({ nodes_total: int, nodes_done: int }),
    allowed_actions: z
      .array(z.enum(BUILD_CONTROL_ACTIONS))
      .describe(
        "The control actions that change the build in its current status (SPEC §4.10.1; no-ops left out), in " +
          "display order.",
      ),
    findings_summary: FindingsSummary.nullable().describe("Null until the build finished (issue 16)."),
    trigger: BuildTrigger.optional(),
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
  findings_summary: FindingsSummary.nullable().describe(
    "Null until the build finished (and for builds before issue 16).",
  ),
  trigger: BuildTrigger.optional(),
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
  event_type: z.enum(BUILD_EVENT_TYPES).describe("SPEC §4.12 event catalogue."),
  build_id: z.uuid(),
  timestamp: ts,
  payload: record,
});
export const BuildEventPage = z.object({ items: z.array(BuildEvent), next_cursor: seqCursor });

export const StreamToken = z.object({
  token: z
    .string()
    .describe("Pass as `?stream_token=` to GET /v1/builds/{id}/events (EventSource cannot send headers)."),
  expires_at: z.string(),
  event_types: z
    .array(z.enum(BUILD_EVENT_TYPES))
    .describe("Every event name the stream may send (EventSource dispatches only the names a client listens to)."),
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

export const ReplanSuggestion = z.object({
  action: z.enum(REPLAN_ACTIONS),
  reason: z.string(),
  replacement_nodes: z.array(DagNode),
});

export const RunnerCallbackAccepted = z.object({
  accepted: z.boolean().describe("False for a late or duplicate report (ignored)."),
});

export const IdempotentCheckpointResult = z.object({
  replayed: z.boolean(),
  checkpoint_id: z.uuid(),
  status: z.string(),
  reason: z.string(),
});

registerResponses({
  DagNode,
  BuildNode,
  TaskRun,
  ReplanDecision,
  DebtItem,
  PolicyViolation,
  StateTransition,
  GateDecision,
  BuildRun,
  BuildTrigger,
  BuildSummary,
  BuildPage,
  DagPreview,
  BuildEvent,
  BuildEventPage,
  StreamToken,
  Checkpoint,
  TaskRunPage,
  GateDecisionPage,
  ReplanDecisionPage,
  DebtItemPage,
  PolicyViolationPage,
  CheckpointPage,
  ReplanSuggestion,
  FindingsSummary,
  RunnerCallbackAccepted,
  IdempotentCheckpointResult,
});
