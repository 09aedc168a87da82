/**
 * Closed enums and core shapes of the build domain (SPEC §4.1–4.2). Pure data; imported by
 * the planner, the run machine, the service and the routes.
 */

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

/** Task run and DAG node status. */
export const TASK_STATUSES = [
  "pending", // not started
  "running", // dispatched, result outstanding
  "completed", // succeeded
  "failed", // failed
  "skipped", // skipped; counts as done, records no gate
] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

export const GATE_TYPES = ["MERGE_GATE", "TEST_GATE", "POLICY_GATE"] as const;
export type GateType = (typeof GATE_TYPES)[number];

export const GATE_DECISION_STATUSES = ["PASS", "FAIL", "BLOCKED"] as const;
export type GateDecisionStatus = (typeof GATE_DECISION_STATUSES)[number];

export const REPLAN_ACTIONS = ["CONTINUE", "MODIFY_DAG", "REDUCE_SCOPE", "ABORT"] as const;
export type ReplanAction = (typeof REPLAN_ACTIONS)[number];

export const TRANSITION_SOURCES = ["system", "manual", "runtime", "gate", "policy", "replanner"] as const;
export type TransitionSource = (typeof TRANSITION_SOURCES)[number];

/** A node of a build's DAG as clients send and receive it. */
export interface DagNode {
  node_id: string;
  title: string;
  agent: string;
  depends_on: string[];
  gate: GateType | null;
  status: TaskStatus;
}

/** Result of DAG planning (SPEC §4.4). */
export interface PlannedDag {
  dag: DagNode[];
  scan_mode: string;
  planner_trace: Record<string, unknown> | null;
  dag_levels: string[][];
  /** Metadata after planning: normalised scan_mode/profile, planner_trace, dag_levels, level_cursor. */
  metadata: Record<string, unknown>;
}

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
