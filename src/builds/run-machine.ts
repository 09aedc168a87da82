/**
 * The pure core of a build run: state, the status machine, control effects and the runtime tick
 * (SPEC §4.6–4.9, DESIGN §4). Nothing here does I/O. Callers (the BuildRunner DO) open a `Draft`
 * on the loaded state, apply operations, then persist `draft` as one D1 batch. Every operation
 * appends events with consecutive `seq` and records which rows changed.
 */
import type { AuditEntry } from "../audit/audit";
import {
  type BuildStatus,
  type DagNode,
  type GateDecisionStatus,
  type GateType,
  type ReplanAction,
  type TaskStatus,
  type TransitionSource,
  canTransition,
  isDoneTaskStatus,
} from "./builds.types";
import { computeLevels } from "../planning/levels";
import { deterministicDag } from "../planning/planner";
import { type PolicyDenial, precheckNode, runnerCommand } from "./execution-policy";
import { encodeDetail } from "../findings/detail-envelope";
import { type FindingInput, type NodeFaults, type RunnerResult, SIMULATED, runnerOverride, simulateNode, simulatedDurationMs, withNodeFault } from "./simulated-runner";
import { isoTimestamp, newId, parseTimestamp } from "../lib/ids";

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
  metadata: Record<string, unknown>;
  created_at: string;
  updated_at: string;
  nodes: NodeState[];
  task_runs: TaskRunState[];
  debt_items: DebtRow[];
  policy_violations: ViolationRow[];
  runtime: RuntimeSessionState;
  /** The seq the next event gets (events start at 1). */
  next_seq: number;
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
  event_type: string;
  build_id: string;
  timestamp: string;
  payload: Record<string, unknown>;
}

export interface TransitionRow { transition_id: string; from_status: BuildStatus; to_status: BuildStatus; reason: string; source: TransitionSource; event_seq: number; created_at: string }
export interface GateRow { decision_id: string; gate: GateType; status: GateDecisionStatus; reason: string; node_id: string | null; source: string; event_seq: number; created_at: string }
export interface ReplanRow { decision_id: string; action: ReplanAction; reason: string; source: string; replacement_nodes: DagNode[]; event_seq: number; created_at: string }
export interface DebtRow { debt_id: string; node_id: string; summary: string; severity: string; event_seq: number; created_at: string }
export interface ViolationRow { violation_id: string; code: string; message: string; source: string; blocking: boolean; event_seq: number; created_at: string }
export interface FindingRow { finding_id: string; node_id: string; task_run_id: string; severity: string; severity_rank: number; category: string; title: string; detail: string; file: string | null; line: number | null; event_seq: number; created_at: string }
export interface MetricRow { metric_id: string; metric: string; value: number; tags: Record<string, string>; fields: Record<string, unknown>; emitted_at: string }
export interface CheckpointRow { checkpoint_id: string; status: BuildStatus; reason: string; event_cursor: number; created_at: string }
export interface RunnerLogRow {
  log_id: string; runtime_id: string; node_id: string; task_run_id: string; runner: string; workspace_id: string;
  status: RunnerResult["status"]; message: string; started_at: string; finished_at: string; duration_ms: number;
  error: string | null; metadata: Record<string, unknown>; event_seq: number;
}

/** Retry policy as data (STYLE §10). Delay = min(max, initial · multiplier^(attempt-1)) ± jitter. */
export interface RetryPolicy { initial_interval_ms: number; multiplier: number; max_interval_ms: number; jitter: number }
export const DEFAULT_RETRY_POLICY: RetryPolicy = { initial_interval_ms: 1000, multiplier: 2, max_interval_ms: 30_000, jitter: 0.2 };

export function retryPolicyFrom(metadata: Record<string, unknown>): RetryPolicy {
  const raw = metadata.retry_policy;
  const o = raw !== null && typeof raw === "object" && !Array.isArray(raw) ? (raw as Record<string, unknown>) : {};
  const num = (v: unknown, def: number, min: number, max: number) =>
    typeof v === "number" && Number.isFinite(v) ? Math.min(max, Math.max(min, v)) : def;
  return {
    initial_interval_ms: num(o.initial_interval_ms, DEFAULT_RETRY_POLICY.initial_interval_ms, 0, 3_600_000),
    multiplier: num(o.multiplier, DEFAULT_RETRY_POLICY.multiplier, 1, 10),
    max_interval_ms: num(o.max_interval_ms, DEFAULT_RETRY_POLICY.max_interval_ms, 0, 3_600_000),
    jitter: num(o.jitter, DEFAULT_RETRY_POLICY.jitter, 0, 1),
  };
}

/** Backoff before attempt `attempt + 1`; `rand` in [0,1) makes it testable. */
export function retryDelayMs(policy: RetryPolicy, attempt: number, rand: number): number {
  const base = Math.min(policy.max_interval_ms, policy.initial_interval_ms * policy.multiplier ** Math.max(0, attempt - 1));
  const spread = base * policy.jitter;
  return Math.max(0, Math.round(base - spread + 2 * spread * rand));
}

/** SPEC §4.8.5: retry → fallback → abort → none. */
export function decideReplan(input: { nodeId: string; attempt: number; retryBudget: number; metadata: Record<string, unknown> }): {
  action: ReplanAction | null;
  reason: string;
} {
  const { nodeId, attempt, retryBudget, metadata } = input;
  if (attempt <= retryBudget) return { action: "CONTINUE", reason: `retry_node:${nodeId}:attempt_${attempt}` };
  if (metadata.scan_mode === "autonomous" && metadata.fallback_scan_mode === "deterministic" && !metadata.fallback_applied) {
    return { action: "REDUCE_SCOPE", reason: `fallback_to_deterministic:${nodeId}` };
  }
  if (metadata.replanner_abort_on_terminal_failure) return { action: "ABORT", reason: `terminal_failure_abort:${nodeId}` };
  return { action: null, reason: `terminal_failure_no_replan:${nodeId}` };
}

/**
 * Retry budget of a node: `metadata.node_retry_budgets[node]` (set by the planner policy) or the
 * build-wide `max_task_retries` (default 0; negatives count as 0).
 */
export function retryBudget(metadata: Record<string, unknown>, nodeId?: string): number {
  const perNode = metadata.node_retry_budgets;
  const own = nodeId !== undefined && perNode !== null && typeof perNode === "object" ? (perNode as Record<string, unknown>)[nodeId] : undefined;
  const v = Number(own ?? metadata.max_task_retries ?? 0);
  return Number.isFinite(v) ? Math.max(0, Math.floor(v)) : 0;
}

/** Nodes of one level in flight at once: the deployment limit, lowered by `metadata.max_parallelism`. */
export function effectiveParallelism(metadata: Record<string, unknown>, limit: number): number {
  const v = Number(metadata.max_parallelism);
  return Number.isFinite(v) && v >= 1 ? Math.min(limit, Math.floor(v)) : limit;
}

/** Builds NodeState rows (with levels) from DAG nodes; throws invalid_dag on level errors. */
export function toNodeStates(dag: DagNode[]): { nodes: NodeState[]; levels: string[][] } {
  const levels = computeLevels(dag);
  const levelOf = new Map<string, number>();
  levels.forEach((ids, i) => ids.forEach((id) => levelOf.set(id, i)));
  const nodes = dag.map((n, position) => ({ ...n, position, level: levelOf.get(n.node_id) ?? 0, not_before: null }));
  return { nodes, levels };
}

/**
 * A unit of change on a build: the mutated state plus what must be written. One Draft becomes
 * one atomic D1 batch.
 */
export class Draft {
  readonly events: BuildEvent[] = [];
  readonly transitions: TransitionRow[] = [];
  readonly gates: GateRow[] = [];
  readonly replans: ReplanRow[] = [];
  readonly checkpoints: CheckpointRow[] = [];
  readonly runnerLogs: RunnerLogRow[] = [];
  readonly debts: DebtRow[] = [];
  readonly violations: ViolationRow[] = [];
  readonly metrics: MetricRow[] = [];
  readonly findings: FindingRow[] = [];
  /** Audit log entries of the operator action this draft applies (src/audit), committed in its batch. */
  readonly audit: AuditEntry[] = [];
  sessionTouched = false;
  readonly touchedNodes = new Set<string>();
  readonly newRuns = new Set<string>();
  readonly touchedRuns = new Set<string>();
  nodesReplaced = false;
  readonly ts: string;

  constructor(readonly state: BuildState, readonly now: number) {
    this.ts = isoTimestamp(now);
  }

  get changed(): boolean {
    return this.audit.length > 0 || this.findings.length > 0 || this.events.length > 0 || this.touchedNodes.size > 0 || this.touchedRuns.size > 0 || this.nodesReplaced || this.sessionTouched || this.metrics.length > 0;
  }

  setSession(status: RuntimeSessionState["status"], metadata?: Record<string, unknown>): void {
    const r = this.state.runtime;
    if (r.status === status && metadata === undefined) return;
    r.status = status;
    if (metadata) r.metadata = { ...r.metadata, ...metadata };
    r.updated_at = this.ts;
    this.sessionTouched = true;
  }

  metric(metric: string, value: number, tags: Record<string, string>, fields: Record<string, unknown>): void {
    this.metrics.push({ metric_id: newId(), metric, value, tags, fields, emitted_at: this.ts });
  }

  debt(nodeId: string, summary: string, severity: string, source: string): DebtRow {
    const debt_id = newId();
    const ev = this.emit("DEBT_ITEM_RECORDED", { debt_id, node_id: nodeId, severity, summary, source });
    const row = { debt_id, node_id: nodeId, summary, severity, event_seq: ev.seq, created_at: this.ts };
    this.state.debt_items.push(row);
    this.debts.push(row);
    return row;
  }

  /** Records a violation; a blocking one fails a running build (SPEC §4.10.7). */
  violation(code: string, message: string, source: string, blocking: boolean): ViolationRow {
    const violation_id = newId();
    const ev = this.emit("POLICY_VIOLATION", { violation_id, code, message, source, blocking });
    const row = { violation_id, code, message, source, blocking, event_seq: ev.seq, created_at: this.ts };
    this.state.policy_violations.push(row);
    this.violations.push(row);
    if (blocking && this.transition("failed", `policy_violation:${code}`, "policy")) this.finished("failed");
    return row;
  }

  emit(event_type: string, payload: Record<string, unknown>): BuildEvent {
    const event: BuildEvent = { seq: this.state.next_seq++, event_type, build_id: this.state.build_id, timestamp: this.ts, payload };
    this.events.push(event);
    this.state.updated_at = this.ts;
    return event;
  }

  /** A real transition appends a row and BUILD_STATUS_CHANGED; same-status is a silent no-op. */
  transition(to: BuildStatus, reason: string, source: TransitionSource): boolean {
    const from = this.state.status;
    if (from === to || !canTransition(from, to)) return false;
    const transition_id = newId();
    const ev = this.emit("BUILD_STATUS_CHANGED", { transition_id, from_status: from, to_status: to, reason, source });
    this.state.status = to;
    this.transitions.push({ transition_id, from_status: from, to_status: to, reason, source, event_seq: ev.seq, created_at: this.ts });
    return true;
  }

  finished(final_status: "completed" | "failed" | "aborted"): void {
    this.emit("BUILD_FINISHED", { final_status });
  }

  checkpoint(reason: string): CheckpointRow {
    const checkpoint_id = newId();
    const ev = this.emit("CHECKPOINT_CREATED", { checkpoint_id, reason, status: this.state.status });
    const row = { checkpoint_id, status: this.state.status, reason, event_cursor: ev.seq, created_at: this.ts };
    this.checkpoints.push(row);
    return row;
  }

  gate(gate: GateType, status: GateDecisionStatus, reason: string, nodeId: string | null, source: string): GateRow {
    const decision_id = newId();
    const ev = this.emit(gate, { decision_id, gate, status, reason, node_id: nodeId, source });
    const row = { decision_id, gate, status, reason, node_id: nodeId, source, event_seq: ev.seq, created_at: this.ts };
    this.gates.push(row);
    return row;
  }

  replan(action: ReplanAction, reason: string, source: string, replacement: DagNode[] = []): ReplanRow {
    const decision_id = newId();
    const ev = this.emit("REPLAN_DECISION", {
      decision_id, action, reason, replacement_node_ids: replacement.map((n) => n.node_id), source,
    });
    const row = { decision_id, action, reason, source, replacement_nodes: replacement, event_seq: ev.seq, created_at: this.ts };
    this.replans.push(row);
    return row;
  }

  setNode(nodeId: string, patch: Partial<Pick<NodeState, "status" | "not_before">>): void {
    const node = this.state.nodes.find((n) => n.node_id === nodeId);
    if (!node) return;
    Object.assign(node, patch);
    this.touchedNodes.add(nodeId);
  }

  startTask(nodeId: string, source: string, dueAt: string | null, runnerKind: RunnerKind = "manual"): TaskRunState {
    const attempt = 1 + Math.max(0, ...this.state.task_runs.filter((r) => r.node_id === nodeId).map((r) => r.attempt));
    const task_run_id = newId();
    const ev = this.emit("TASK_STARTED", { node_id: nodeId, task_run_id, attempt, source });
    const run: TaskRunState = {
      task_run_id, node_id: nodeId, attempt, status: "running", source, started_at: this.ts,
      finished_at: null, error: null, due_at: dueAt, runner_kind: runnerKind, heartbeat_at: null, event_seq: ev.seq,
    };
    this.state.task_runs.push(run);
    this.newRuns.add(task_run_id);
    this.setNode(nodeId, { status: "running", not_before: null });
    return run;
  }

  finishTask(run: TaskRunState, status: Extract<TaskStatus, "completed" | "failed" | "skipped">, error: string | null, source: string, finishedAt = this.ts): void {
    run.status = status;
    run.finished_at = finishedAt;
    run.error = error;
    run.due_at = null;
    this.touchedRuns.add(run.task_run_id);
    const type = status === "completed" ? "TASK_COMPLETED" : status === "failed" ? "TASK_FAILED" : "TASK_SKIPPED";
    this.emit(type, { node_id: run.node_id, task_run_id: run.task_run_id, attempt: run.attempt, error, source });
    this.setNode(run.node_id, { status });
  }

  /** Replaces the DAG; `keep` carries node state (status, retry time) of surviving node ids. */
  replaceDag(dag: DagNode[], keep: NodeState[] = []): string[][] {
    const { nodes, levels } = toNodeStates(dag);
    for (const n of nodes) {
      const old = keep.find((k) => k.node_id === n.node_id);
      if (old) Object.assign(n, { status: old.status, not_before: old.not_before });
    }
    this.state.nodes = nodes;
    this.nodesReplaced = true;
    return levels;
  }
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
  const v = state.metadata.level_cursor;
  return typeof v === "number" ? v : 0;
}

// ---------------------------------------------------------------------------------------------
// Creation

export interface CreateInput {
  build_id: string;
  runtime_id: string;
  tenant_id: string;
  created_by: string;
  repo_url: string;
  objective: string;
  scan_mode: string;
  metadata: Record<string, unknown>;
  dag: DagNode[];
}

/** SPEC §4.7: created pending, then running, BUILD_STARTED, LEVEL_STARTED(0), checkpoint. */
export function createBuild(input: CreateInput, now: number): Draft {
  const ts = isoTimestamp(now);
  const { nodes, levels } = toNodeStates(input.dag);
  const state: BuildState = {
    build_id: input.build_id, tenant_id: input.tenant_id, created_by: input.created_by,
    repo_url: input.repo_url, objective: input.objective, status: "pending", scan_mode: input.scan_mode,
    metadata: { ...input.metadata, dag_levels: levels, level_cursor: 0 },
    created_at: ts, updated_at: ts, nodes, task_runs: [], debt_items: [], policy_violations: [], next_seq: 1,
    runtime: {
      // The sandbox the nodes run in: the runner's bubblewrap profile, or none (simulated; issue 15).
      runtime_id: input.runtime_id, status: "bootstrapped", sandbox_profile: adapterOf(input.metadata) === "http" ? "runner-bubblewrap" : "simulated", created_at: ts, updated_at: ts,
      metadata: { repo_url: input.repo_url, objective: input.objective, dag_nodes: nodes.map((n) => n.node_id), level_count: levels.length },
    },
  };
  const d = new Draft(state, now);
  d.nodesReplaced = true;
  d.sessionTouched = true;
  d.transition("running", "build_created", "system");
  d.emit("BUILD_STARTED", {
    repo_url: state.repo_url, objective: state.objective, scan_mode: state.scan_mode, dag_nodes: nodes.map((n) => n.node_id),
  });
  if (levels.length > 0) d.emit("LEVEL_STARTED", { level: 0, nodes: levels[0] });
  d.checkpoint("build_created");
  return d;
}

// ---------------------------------------------------------------------------------------------
// The runtime tick

export interface TickOptions {
  parallelism: number;
  /** Upper bound of dispatch/collect rounds per tick, so one batch stays small. */
  maxRounds?: number;
  random?: () => number;
  /** Results reported by http runners for runs of this build, by task_run_id. */
  reported?: ReadonlyMap<string, RunnerResult>;
  /** http adapter limits: default node deadline and the heartbeat timeout. */
  http?: { defaultTimeoutMs: number; heartbeatTimeoutMs: number };
  /** Fault hook (development/test only): fail a deterministic fraction of simulated node attempts. */
  faults?: NodeFaults;
}

export const DEFAULT_HTTP_LIMITS = { defaultTimeoutMs: 600_000, heartbeatTimeoutMs: 60_000 };

/**
 * The adapter a build's nodes run on: `metadata.runner_kind: "http"` → the runner service, else
 * simulated. Creation resolves and stores the kind (`resolveRunnerKind`): http whenever a runner
 * is configured, unless the build asks for `simulated`.
 */
export function adapterOf(metadata: Record<string, unknown>): "http" | "simulated" {
  return typeof metadata.runner_kind === "string" && metadata.runner_kind.trim().toLowerCase() === "http" ? "http" : "simulated";
}

/** Deadline of a node on the http adapter: `metadata.node_timeouts_ms[node]`, else the default. */
export function nodeTimeoutMs(metadata: Record<string, unknown>, nodeId: string, fallback: number): number {
  const t = metadata.node_timeouts_ms;
  const v = t !== null && typeof t === "object" ? Number((t as Record<string, unknown>)[nodeId]) : Number.NaN;
  return Number.isFinite(v) && v > 0 ? v : fallback;
}

/** The agent of `nodeId` in the build's current DAG ("unknown" for a node it no longer has). */
export function agentOf(s: BuildState, nodeId: string): string {
  return s.nodes.find((n) => n.node_id === nodeId)?.agent ?? "unknown";
}

export interface TickReport {
  executed_nodes: string[];
  dispatched_nodes: string[];
  pending_nodes: string[];
  active_level: number | null;
  levels_started: number[];
  finished: boolean;
  /** When the runner must tick again (ms epoch), or null when nothing is outstanding. */
  next_wake_at: number | null;
  /** Runs dispatched to the http runner in this tick: the DO sends them after the commit. */
  http_dispatches: TaskRunState[];
}

/**
 * One tick: collect due results → post-process (retry / fallback / abort / fail, gate auto-pass)
 * → complete, or advance the active level and dispatch ready nodes (parallelism limit). Rounds
 * repeat while results are already due (zero-duration nodes finish in one tick). Idempotent:
 * re-running it at the same instant finds nothing due and nothing ready.
 */
export function tick(d: Draft, opts: TickOptions): TickReport {
  const s = d.state;
  const rand = opts.random ?? Math.random;
  const executed: string[] = [];
  const dispatched: string[] = [];
  const levelsStarted: number[] = [];
  const httpDispatches: TaskRunState[] = [];
  const maxRounds = opts.maxRounds ?? 16;
  const http = opts.http ?? DEFAULT_HTTP_LIMITS;

  for (let round = 0; round < maxRounds; round++) {
    let progressed = false;

    // 1. Collect results that are in (due simulated work, reported or timed-out http runs).
    for (const run of runningRuns(s).sort((a, b) => a.event_seq - b.event_seq)) {
      const agent = agentOf(s, run.node_id);
      const outcome = outcomeOf(s, run, agent, d.now, opts, http);
      if (!outcome) continue;
      applyResult(d, run, outcome.result, outcome.denial, rand);
      executed.push(run.node_id);
      progressed = true;
    }

    if (s.status !== "running") break;

    // 2. Completion: every node of the current DAG done. Runs still in flight are redundant then
    //    (e.g. a manual run of a node that completed meanwhile) and are cancelled.
    const done = doneNodeIds(s);
    if (s.nodes.every((n) => done.has(n.node_id))) {
      for (const run of runningRuns(s)) d.finishTask(run, "skipped", "cancelled:build_completed", "runtime_tick");
      d.transition("completed", "runtime_tick_completed", "runtime");
      d.finished("completed");
      d.checkpoint("runtime_tick_completed");
      break;
    }

    // 3. Active level, derived from task state; announce a level the first time it becomes active.
    const level = activeLevel(s);
    if (level !== null && level > levelCursor(s)) {
      s.metadata = { ...s.metadata, level_cursor: level };
      d.emit("LEVEL_STARTED", { level, nodes: dagLevels(s)[level] ?? [] });
      levelsStarted.push(level);
    }

    // 4. Dispatch ready nodes of the active level, in DAG order, within the parallelism limit.
    if (level !== null) {
      const inFlight = new Set(runningRuns(s).map((r) => r.node_id));
      let slots = Math.max(0, effectiveParallelism(s.metadata, opts.parallelism) - inFlight.size);
      for (const n of s.nodes) {
        if (slots <= 0) break;
        if (n.level !== level || done.has(n.node_id) || inFlight.has(n.node_id)) continue;
        if (!n.depends_on.every((dep) => done.has(dep))) continue;
        if (n.not_before !== null && parseTimestamp(n.not_before) > d.now) continue;
        // A node the execution policy denies never reaches an adapter: its failure is due at once.
        const kind: RunnerKind = precheck(s, n.node_id, n.agent) !== null ? "policy" : adapterOf(s.metadata);
        const dueAt = isoTimestamp(
          d.now + (kind === "policy" ? 0 : kind === "http" ? nodeTimeoutMs(s.metadata, n.node_id, http.defaultTimeoutMs) : Math.min(simulatedDurationMs(s.metadata, n.node_id), nodeTimeoutMs(s.metadata, n.node_id, Number.POSITIVE_INFINITY))),
        );
        const run = d.startTask(n.node_id, "runtime_tick", dueAt, kind);
        if (kind === "http") httpDispatches.push(run);
        dispatched.push(n.node_id);
        slots--;
        if (parseTimestamp(dueAt) <= d.now) progressed = true;
      }
    }
    if (!progressed) break;
  }

  const done = doneNodeIds(s);
  const pending = s.nodes.filter((n) => !done.has(n.node_id)).map((n) => n.node_id);
  if (s.status === "completed" || s.status === "aborted") d.setSession("completed");
  else if (s.runtime.status === "bootstrapped") d.setSession("running");
  if (executed.length > 0 || dispatched.length > 0) {
    d.metric("runtime_tick", executed.length, { build_id: s.build_id, runtime_id: s.runtime.runtime_id }, {
      pending: pending.length, finished: s.status === "completed", status: s.runtime.status, active_level: activeLevel(s),
      dispatched: dispatched.length, levels_started: levelsStarted,
    });
  }
  return {
    executed_nodes: executed,
    dispatched_nodes: dispatched,
    pending_nodes: pending,
    active_level: activeLevel(s),
    levels_started: levelsStarted,
    finished: s.status === "completed",
    next_wake_at: nextWakeAt(s, http.heartbeatTimeoutMs),
    http_dispatches: httpDispatches,
  };
}

/** The result of a running run if it is in, else null (still working). */
function outcomeOf(
  s: BuildState, run: TaskRunState, agent: string, now: number, opts: TickOptions, http: { heartbeatTimeoutMs: number },
): { result: RunnerResult; denial: PolicyDenial | null } | null {
  const due = run.due_at !== null && parseTimestamp(run.due_at) <= now;
  switch (run.runner_kind) {
    case "manual":
      return null;
    case "policy": {
      const denial = precheck(s, run.node_id, agent);
      if (!due) return null;
      if (denial) return { result: policyResult(s, run.node_id, agent, denial), denial };
      return { result: httpFailure(run, agent, now, "policy_changed"), denial: null };
    }
    case "http": {
      const reported = opts.reported?.get(run.task_run_id);
      if (reported) return { result: reported, denial: null };
      if (due) return { result: httpFailure(run, agent, now, "deadline_exceeded"), denial: null };
      const last = parseTimestamp(run.heartbeat_at ?? run.started_at);
      if (now - last > http.heartbeatTimeoutMs) return { result: httpFailure(run, agent, now, "heartbeat_missed"), denial: null };
      return null;
    }
    case "simulated": {
      if (!due) return null;
      // A node whose simulated work outlasts its planner-set timeout fails at the timeout.
      if (simulatedDurationMs(s.metadata, run.node_id) > nodeTimeoutMs(s.metadata, run.node_id, Number.POSITIVE_INFINITY)) {
        return { result: { ...httpFailure(run, agent, now, "node_timeout"), runner: SIMULATED, workspace_id: `simulated-${s.build_id}` }, denial: null };
      }
      const result = simulateNode({ buildId: s.build_id, metadata: s.metadata, nodeId: run.node_id, agent, attempt: run.attempt });
      return { result: opts.faults ? withNodeFault(result, opts.faults, s.build_id, run.node_id, run.attempt) : result, denial: null };
    }
  }
}

/** A failure the control plane decides for an http run (deadline, missed heartbeats, dispatch). */
export function httpFailure(run: TaskRunState, agent: string, now: number, error: string): RunnerResult {
  return {
    status: "failed", error, duration_ms: Math.max(0, now - parseTimestamp(run.started_at)), runner: "http",
    workspace_id: "runner", message: `runner ${error} for ${run.node_id}`, metadata: { exit_code: 1, agent, execution_mode: "http" },
  };
}

/** Earliest instant at which a tick has work: a result due, a heartbeat overdue, or a retry's backoff elapsed. */
export function nextWakeAt(s: BuildState, heartbeatTimeoutMs = DEFAULT_HTTP_LIMITS.heartbeatTimeoutMs): number | null {
  const times: number[] = [];
  for (const r of runningRuns(s)) {
    if (r.due_at) times.push(parseTimestamp(r.due_at));
    if (r.runner_kind === "http") times.push(parseTimestamp(r.heartbeat_at ?? r.started_at) + heartbeatTimeoutMs + 1);
  }
  if (s.status === "running") {
    for (const n of s.nodes) if (n.not_before) times.push(parseTimestamp(n.not_before));
  }
  return times.length ? Math.min(...times) : null;
}

const SEVERITY_RANKS: Record<string, number> = { critical: 4, high: 3, medium: 2, low: 1, info: 0 };

function findingRow(f: FindingInput, run: TaskRunState, seq: number, ts: string): FindingRow {
  const severity = f.severity.trim().toLowerCase() in SEVERITY_RANKS ? f.severity.trim().toLowerCase() : "info";
  return {
    finding_id: newId(), node_id: run.node_id, task_run_id: run.task_run_id, severity, severity_rank: SEVERITY_RANKS[severity] ?? 0,
    category: f.category, title: f.title, detail: encodeDetail(f), file: f.file ?? null, line: f.line ?? null, event_seq: seq, created_at: ts,
  };
}

/**
 * The pre-check of a node: the runner-side command of its agent on the http adapter; simulated
 * runs execute nothing, so only the capability rules apply to them.
 */
function precheck(s: BuildState, nodeId: string, agent: string): PolicyDenial | null {
  return precheckNode({ metadata: s.metadata, nodeId, command: adapterOf(s.metadata) === "http" ? runnerCommand(agent) : null });
}

function policyResult(s: BuildState, nodeId: string, agent: string, denial: PolicyDenial): RunnerResult {
  const runner = adapterOf(s.metadata);
  const override = runnerOverride(s.metadata, nodeId);
  return {
    status: "failed", error: denial.message, duration_ms: 1, runner,
    workspace_id: typeof override.workspace_id === "string" ? override.workspace_id : typeof s.metadata.workspace_id === "string" ? s.metadata.workspace_id : `${runner}-${s.build_id}`,
    message: denial.message,
    metadata: {
      exit_code: 1, agent, execution_mode: "policy_precheck", command: denial.command,
      policy_violation: { code: denial.code, message: denial.message, source: "execution_policy", blocking: true, details: denial.details },
    },
  };
}

function applyResult(d: Draft, run: TaskRunState, result: RunnerResult, denial: PolicyDenial | null, rand: () => number): void {
  const s = d.state;
  const finishedAt = isoTimestamp(parseTimestamp(run.started_at) + result.duration_ms);
  const log_id = newId();
  const ev = d.emit("RUNNER_RESULT", {
    log_id, node_id: run.node_id, runner: result.runner, workspace_id: result.workspace_id,
    status: result.status, duration_ms: result.duration_ms, error: result.error, findings_count: result.findings?.length ?? 0,
  });
  d.runnerLogs.push({
    log_id, runtime_id: s.runtime.runtime_id, node_id: run.node_id, task_run_id: run.task_run_id, runner: result.runner,
    workspace_id: result.workspace_id, status: result.status, message: result.message, started_at: run.started_at,
    finished_at: finishedAt, duration_ms: result.duration_ms, error: result.error, metadata: result.metadata, event_seq: ev.seq,
  });
  for (const f of result.findings ?? []) d.findings.push(findingRow(f, run, ev.seq, d.ts));
  const node = s.nodes.find((n) => n.node_id === run.node_id);
  const running = s.status === "running";

  if (denial) {
    // SPEC §4.8.2 5a: task failed, blocking violation (fails a running build), POLICY_GATE FAIL.
    d.finishTask(run, "failed", denial.message, "runtime_tick", finishedAt);
    d.violation(denial.code, denial.message, "execution_policy", true);
    d.gate("POLICY_GATE", "FAIL", `policy_violation:${denial.code}`, run.node_id, "runtime_tick");
    return;
  }
  if (result.status === "failed") {
    d.finishTask(run, "failed", result.error ?? result.message, "runtime_tick", finishedAt);
    // A real run that fails its node's gate says so and why (issue 15: a failing test suite is a
    // TEST_GATE FAIL with the runner's reason); the replanner's decision follows as before.
    if (running && node?.gate && run.runner_kind === "http") d.gate(node.gate, "FAIL", `runner_failed:${(result.error ?? result.message).slice(0, 300)}`, node.node_id, "runtime_tick");
    if (!running || !node) return;
    handleFailure(d, node, run, rand);
    return;
  }
  d.finishTask(run, result.status, null, "runtime_tick", finishedAt);
  if (running && node?.gate && result.status === "completed") {
    d.gate(node.gate, "PASS", "runtime_auto_pass", node.node_id, "runtime_tick");
  }
}

function handleFailure(d: Draft, node: NodeState, run: TaskRunState, rand: () => number): void {
  const s = d.state;
  const budget = retryBudget(s.metadata, node.node_id);
  let decision = decideReplan({ nodeId: node.node_id, attempt: run.attempt, retryBudget: budget, metadata: s.metadata });

  if (decision.action === "CONTINUE") {
    const delay = retryDelayMs(retryPolicyFrom(s.metadata), run.attempt, rand());
    const notBefore = isoTimestamp(d.now + delay);
    d.replan("CONTINUE", decision.reason, "runtime_tick");
    d.emit("TASK_RETRY_SCHEDULED", {
      node_id: node.node_id, attempt: run.attempt, next_attempt: run.attempt + 1, retry_budget: budget,
      retry_level: node.level, retry_delay_ms: delay, not_before: notBefore,
    });
    d.setNode(node.node_id, { not_before: notBefore });
    return;
  }
  if (decision.action === "REDUCE_SCOPE") {
    if (applyFallback(d, node.node_id)) return;
    decision = decideReplan({ nodeId: node.node_id, attempt: run.attempt, retryBudget: budget, metadata: { ...s.metadata, fallback_applied: true } });
  }
  if (decision.action === "ABORT") {
    d.transition("aborted", `replan_abort:${decision.reason}`, "replanner");
    d.finished("aborted");
    d.replan("ABORT", decision.reason, "runtime_tick");
    return;
  }
  d.gate("POLICY_GATE", "FAIL", "runner_execution_failed", node.node_id, "runtime_tick");
  if (d.transition("failed", "POLICY_GATE:runner_execution_failed", "gate")) d.finished("failed");
}

/** SPEC §4.9: replace the DAG by the deterministic one, once. Returns whether it applied. */
export function applyFallback(d: Draft, nodeId: string): boolean {
  const s = d.state;
  if (s.metadata.fallback_applied || s.scan_mode === "deterministic" || s.metadata.fallback_scan_mode !== "deterministic") return false;
  const dag = deterministicDag();
  const levels = d.replaceDag(dag);
  const fromMode = s.scan_mode;
  const reason = `runner_failed:${nodeId}`;
  s.scan_mode = "deterministic";
  s.metadata = {
    ...s.metadata, scan_mode: "deterministic", fallback_applied: true, fallback_from_mode: fromMode,
    fallback_reason: reason, dag_levels: levels, level_cursor: 0,
  };
  d.emit("FALLBACK_MODE_SWITCHED", {
    from_mode: fromMode, to_mode: "deterministic", reason, source: "runtime_tick", dag_nodes: dag.map((n) => n.node_id),
  });
  d.replan("REDUCE_SCOPE", `fallback_to_deterministic:${nodeId}`, "runtime_tick");
  if (levels.length > 0) d.emit("LEVEL_STARTED", { level: 0, nodes: levels[0] });
  return true;
}
