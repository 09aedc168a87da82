/**
 * Request schemas of the build routes (SPEC §5.1). A schema and its type share one name.
 */
import { z } from "zod";
import { BUILD_STATUSES, GATE_DECISION_STATUSES, GATE_TYPES, REPLAN_ACTIONS, TASK_STATUSES } from "./builds.types";
import { DagNodeSchema } from "./build-runner.client";
import { RepoSignals } from "../planning/planning.schemas";

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
export const TaskListQuery = z.object({ node_id: z.string().optional(), status: z.enum(TASK_STATUSES).optional(), ...page200 });
export const GateListQuery = z.object({ gate: z.enum(GATE_TYPES).optional(), ...page200 });
export const PageQuery = z.object(page200);
export const TaskRunParam = z.object({ id: z.uuid(), task_run_id: z.string().min(1).max(128) });
export const GateParam = z.object({ id: z.uuid(), gate: z.enum(GATE_TYPES) });

export const StartTaskBody = z.object({ node_id: z.string().min(1).max(128) });
export const CompleteTaskBody = z.object({ status: z.enum(TASK_STATUSES).default("completed"), error: z.string().max(4000).nullish() }).default({ status: "completed" });
export const GateBody = z
  .object({ status: z.enum(GATE_DECISION_STATUSES).default("PASS"), reason: z.string().max(1000).default("manual_gate_decision"), node_id: z.string().max(128).nullish() })
  .default({ status: "PASS", reason: "manual_gate_decision" });
export const ReplanBody = z
  .object({ action: z.enum(REPLAN_ACTIONS).default("CONTINUE"), reason: z.string().max(1000).default("manual_replan"), replacement_nodes: z.array(DagNodeSchema).max(100).default([]) })
  .default({ action: "CONTINUE", reason: "manual_replan", replacement_nodes: [] });
export const DebtBody = z.object({ node_id: z.string().min(1).max(128), summary: z.string().min(1).max(4000), severity: z.string().min(1).max(32).default("medium") });
export const ViolationBody = z.object({
  code: z.string().min(1).max(128), message: z.string().max(4000), source: z.string().max(128).default("policy_engine"), blocking: z.boolean().default(true),
});
export const CheckpointBody = z.object({ reason: z.string().min(1).max(1000).default("manual_checkpoint") }).default({ reason: "manual_checkpoint" });

export const MetricsQuery = z.object({ metric: z.string().max(64).optional(), limit: limit(200, 1000) });
export const LogsQuery = z.object({ node_id: z.string().optional(), status: z.string().max(32).optional(), limit: limit(200, 1000), cursor: z.coerce.number().int().min(0).optional() });

export const FindingsQuery = z.object({
  severity: z.enum(["critical", "high", "medium", "low", "info"]).optional(),
  limit: limit(100, 500),
  cursor: z.coerce.number().int().min(0).optional(),
});
