/**
 * The DAG shapes the planner produces and the build domain runs (SPEC §4.2, §4.4). Pure data;
 * builds/builds.types.ts re-exports them for the layers above.
 */

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
