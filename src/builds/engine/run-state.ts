/**
 * The state of a build run as the pure core sees it (SPEC §4.2, DESIGN §4): the build, its DAG
 * nodes, task runs and runtime session, the rows a Draft records, and views derived from them
 * (done nodes, running runs, the active level). Read by every engine module, the repo and the DO.
 */
import type { Severity } from "../../findings/finding";
import type {
  BuildEventType,
  BuildStatus,
  DagNode,
  GateDecisionStatus,
  GateType,
  ReplanAction,
  TaskStatus,
  TransitionSource,
} from "../builds.types";
import { isDoneTaskStatus } from "../builds.types";
import { computeLevels } from "../../planning/levels";
import type { RunnerResult } from "../simulated-runner";
import type { RunSettings } from "./run-settings";

export interface NodeState extends DagNode {
  position: number;
  level: number;
  /** Earliest dispatch time of a scheduled retry (ISO), or null. */
  not_before: string | null;
}

export interface TaskRunState {
  task_run_id: string;
  node_id: string;
  attempt: number;
  status: TaskStatus;
  source: string;
  started_at: string;
  finished_at: string | null;
  error: string | null;
  due_at: string | null;
  /** Adapter of the run: simulated, http (runner service), policy (denied by the pre-check) or manual. */
  runner_kind: RunnerKind;
  heartbeat_at: string | null;
  event_seq: number;
}

export type RunnerKind = "simulated" | "http" | "policy" | "manual";

export interface BuildState {
  build_id: string;
  tenant_id: string;
  created_by: string;
  repo_url: string;
  objective: string;
  status: BuildStatus;
  scan_mode: string;
  /**
   * The build's metadata as stored and served (GET /v1/builds/{id}): the planned metadata plus
   * the mirror of `engine` (`level_cursor`, `dag_levels`, `fallback_*`). Output only: the engine
   * reads `settings` and `engine`, never this bag.
   */
  metadata: Record<string, unknown>;
  /** The metadata parsed once (engine/run-settings.ts): what the engine reads of it. */
  settings: RunSettings;
  /** The engine's own progress. */
  engine: EngineState;
  created_at: string;
  updated_at: string;
  nodes: NodeState[];
  task_runs: TaskRunState[];
  debt_items: DebtRow[];
  policy_violations: ViolationRow[];
  runtime: RuntimeSessionState;
  /** The seq the next event gets (events start at 1). */
  next_seq: number;
  findings: FindingTally;
}

/**
 * What the engine tracks of its own progress, typed (issue 20). D1 keeps it in the build's
 * metadata column, where the API has always shown it (`mirrorEngine`); a load reads it back
 * from there (`engineStateOf`).
 */
export interface EngineState {
  /** The highest level announced with LEVEL_STARTED in the current DAG. */
  level_cursor: number;
  /** The one-time deterministic fallback (SPEC §4.9) has been applied. */
  fallback_applied: boolean;
}

/**
 * The engine state of a stored build (its metadata column), or of a new one (its planned
 * metadata: a client that sends `fallback_applied` turns the fallback off, as it always did).
 */
export function engineStateOf(metadata: Record<string, unknown>): EngineState {
  const cursor = metadata.level_cursor;
  return {
    level_cursor: typeof cursor === "number" ? cursor : 0,
    fallback_applied: Boolean(metadata.fallback_applied),
  };
}

/**
 * Updates the engine state and its mirror in the served metadata, with `extra` served keys
 * (the DAG's levels, the fallback's facts) in the same write.
 */
export function mirrorEngine(s: BuildState, patch: Partial<EngineState>, extra: Record<string, unknown> = {}): void {
  s.engine = { ...s.engine, ...patch };
  const served: Record<string, unknown> = { ...extra };
  if (patch.level_cursor !== undefined) served.level_cursor = patch.level_cursor;
  if (patch.fallback_applied) served.fallback_applied = true;
  s.metadata = { ...s.metadata, ...served };
}

/** A copy of the state for a Draft; the settings are never mutated (parsed once), so the copy shares them. */
export function cloneState(s: BuildState): BuildState {
  const { settings, ...rest } = s;
  return { ...structuredClone(rest), settings };
}

/** SPEC RuntimeSession: bootstrapped at creation, running from the first tick, completed when the build ends. */
export interface RuntimeSessionState {
  runtime_id: string;
  status: "bootstrapped" | "running" | "completed" | "errored";
  sandbox_profile: string;
  metadata: Record<string, unknown>;
  created_at: string;
  updated_at: string;
}

export interface BuildEvent {
  seq: number;
  event_type: BuildEventType;
  build_id: string;
  timestamp: string;
  payload: Record<string, unknown>;
}

export interface TransitionRow {
  transition_id: string;
  from_status: BuildStatus;
  to_status: BuildStatus;
  reason: string;
  source: TransitionSource;
  event_seq: number;
  created_at: string;
}
export interface GateRow {
  decision_id: string;
  gate: GateType;
  status: GateDecisionStatus;
  reason: string;
  node_id: string | null;
  source: string;
  event_seq: number;
  created_at: string;
}
export interface ReplanRow {
  decision_id: string;
  action: ReplanAction;
  reason: string;
  source: string;
  replacement_nodes: DagNode[];
  event_seq: number;
  created_at: string;
}
export interface DebtRow {
  debt_id: string;
  node_id: string;
  summary: string;
  severity: string;
  event_seq: number;
  created_at: string;
}
export interface ViolationRow {
  violation_id: string;
  code: string;
  message: string;
  source: string;
  blocking: boolean;
  event_seq: number;
  created_at: string;
}
export interface FindingRow {
  finding_id: string;
  node_id: string;
  task_run_id: string;
  severity: string;
  severity_rank: number;
  category: string;
  title: string;
  detail: string;
  file: string | null;
  line: number | null;
  rule_id: string | null;
  tool: string | null;
  snippet: string | null;
  end_line: number | null;
  column: number | null;
  /** Set by the runner session before the commit (src/findings/fingerprint.ts is async). */
  fingerprint: string | null;
  event_seq: number;
  created_at: string;
}

/** A finding as the tally keeps it: what the gate's reason names. */
export type TallyFinding = Pick<FindingRow, "severity" | "category" | "title" | "file" | "line" | "rule_id" | "tool">;

/**
 * The build's findings so far, as the POLICY_GATE needs them (issue 16): counts by severity and
 * the most severe few. Kept with the run state (a load recounts it from D1), so deciding the gate
 * reads nothing.
 */
export interface FindingTally {
  counts: Record<Severity, number>;
  top: TallyFinding[];
}
export interface MetricRow {
  metric_id: string;
  metric: string;
  value: number;
  tags: Record<string, string>;
  fields: Record<string, unknown>;
  emitted_at: string;
}
export interface CheckpointRow {
  checkpoint_id: string;
  status: BuildStatus;
  reason: string;
  event_cursor: number;
  created_at: string;
}
export interface RunnerLogRow {
  log_id: string;
  runtime_id: string;
  node_id: string;
  task_run_id: string;
  runner: string;
  workspace_id: string;
  status: RunnerResult["status"];
  message: string;
  started_at: string;
  finished_at: string;
  duration_ms: number;
  error: string | null;
  metadata: Record<string, unknown>;
  event_seq: number;
}

/** Builds NodeState rows (with levels) from DAG nodes; throws invalid_dag on level errors. */
export function toNodeStates(dag: DagNode[]): { nodes: NodeState[]; levels: string[][] } {
  const levels = computeLevels(dag);
  const levelOf = new Map<string, number>();
  levels.forEach((ids, i) => ids.forEach((id) => levelOf.set(id, i)));
  const nodes = dag.map((n, position) => ({ ...n, position, level: levelOf.get(n.node_id) ?? 0, not_before: null }));
  return { nodes, levels };
}

// ---------------------------------------------------------------------------------------------
// Derived views of the state

export function doneNodeIds(state: BuildState): Set<string> {
  return new Set(state.task_runs.filter((r) => isDoneTaskStatus(r.status)).map((r) => r.node_id));
}

export function runningRuns(state: BuildState): TaskRunState[] {
  return state.task_runs.filter((r) => r.status === "running");
}

/** Lowest level that still has an undone node (DESIGN §4: derived from durable task state). */
export function activeLevel(state: BuildState): number | null {
  const done = doneNodeIds(state);
  let level: number | null = null;
  for (const n of state.nodes) if (!done.has(n.node_id) && (level === null || n.level < level)) level = n.level;
  return level;
}

export function dagLevels(state: BuildState): string[][] {
  const levels: string[][] = [];
  for (const n of state.nodes) (levels[n.level] ??= []).push(n.node_id);
  return levels.map((ids) => [...ids].sort());
}

export function levelCursor(state: BuildState): number {
  return state.engine.level_cursor;
}

/** The agent of `nodeId` in the build's current DAG ("unknown" for a node it no longer has). */
export function agentOf(s: BuildState, nodeId: string): string {
  return s.nodes.find((n) => n.node_id === nodeId)?.agent ?? "unknown";
}
