/**
 * Closed enums and core shapes of the build domain (SPEC §4.1–4.2). Pure data; imported by
 * the run machine, the service and the routes. The DAG shapes the planner produces live one
 * layer down, in planning/dag.ts, and are re-exported here.
 */
import type { TaskStatus } from "../planning/dag";

export { GATE_TYPES, TASK_STATUSES } from "../planning/dag";
export type { DagNode, GateType, PlannedDag, TaskStatus } from "../planning/dag";

/** Build lifecycle (SPEC §4.6). */
export const BUILD_STATUSES = [
  "pending", // created, not yet started (never observable: creation starts it at once)
  "running", // the runner dispatches nodes
  "paused", // halted by a BLOCKED gate; resumable
  "completed", // every node done; terminal
  "failed", // a node or gate failed; resumable
  "aborted", // stopped by an operator or the replanner; terminal
] as const;
export type BuildStatus = (typeof BUILD_STATUSES)[number];

export const GATE_DECISION_STATUSES = ["PASS", "FAIL", "BLOCKED"] as const;
export type GateDecisionStatus = (typeof GATE_DECISION_STATUSES)[number];

export const REPLAN_ACTIONS = ["CONTINUE", "MODIFY_DAG", "REDUCE_SCOPE", "ABORT"] as const;
export type ReplanAction = (typeof REPLAN_ACTIONS)[number];

export const TRANSITION_SOURCES = ["system", "manual", "runtime", "gate", "policy", "replanner"] as const;
export type TransitionSource = (typeof TRANSITION_SOURCES)[number];

/** Every event type a build's log holds (SPEC §4.12): what the stream emits and the dashboard listens to. */
export const BUILD_EVENT_TYPES = [
  "BUILD_STATUS_CHANGED",
  "BUILD_STARTED",
  "LEVEL_STARTED",
  "CHECKPOINT_CREATED",
  "BUILD_RESUMED",
  "BUILD_ABORTED",
  "BUILD_FINISHED",
  "TASK_STARTED",
  "TASK_COMPLETED",
  "TASK_FAILED",
  "TASK_SKIPPED",
  "RUNNER_RESULT",
  "TASK_RETRY_SCHEDULED",
  "MERGE_GATE",
  "TEST_GATE",
  "POLICY_GATE",
  "REPLAN_DECISION",
  "REPLAN_SUGGESTED",
  "DEBT_ITEM_RECORDED",
  "POLICY_VIOLATION",
  "FALLBACK_MODE_SWITCHED",
  "RUNTIME_BOOTSTRAPPED",
] as const;
export type BuildEventType = (typeof BUILD_EVENT_TYPES)[number];

export function isTerminal(status: BuildStatus): boolean {
  return status === "completed" || status === "aborted";
}

const ALLOWED: Record<BuildStatus, readonly BuildStatus[]> = {
  pending: ["running", "aborted"],
  running: ["paused", "completed", "failed", "aborted"],
  paused: ["running", "aborted"],
  failed: ["running", "aborted"],
  completed: [],
  aborted: [],
};

/** The status machine of SPEC §4.6 in one place. Same-status is not a transition. */
export function canTransition(from: BuildStatus, to: BuildStatus): boolean {
  return ALLOWED[from].includes(to);
}

/** A task status that ends a task run. */
export function isFinalTaskStatus(status: TaskStatus): boolean {
  return status === "completed" || status === "failed" || status === "skipped";
}

/** A node counts as done when its latest run completed or was skipped. */
export function isDoneTaskStatus(status: TaskStatus): boolean {
  return status === "completed" || status === "skipped";
}
