/**
 * The Draft: a unit of change on a build — the mutated state plus every row that must be
 * written. Operations append events with consecutive `seq`. The BuildRunner opens one on its
 * loaded state, applies a tick or a control action, and commits it as one D1 batch.
 */
import type { FindingsSummary } from "../../findings/baseline";
import type { FindingState } from "../../findings/finding";
import type { AuditEntry } from "../../audit/audit";
import {
  type BuildEventType,
  type BuildStatus,
  type DagNode,
  type GateDecisionStatus,
  type GateType,
  type ReplanAction,
  type TaskStatus,
  type TransitionSource,
  canTransition,
} from "../builds.types";
import { isoTimestamp, newId } from "../../lib/ids";
import {
  type BuildEvent,
  type BuildState,
  type CheckpointRow,
  type DebtRow,
  type FindingRow,
  type GateRow,
  type MetricRow,
  type NodeState,
  type ReplanRow,
  type RunnerKind,
  type RunnerLogRow,
  type RuntimeSessionState,
  type TaskRunState,
  type TransitionRow,
  type ViolationRow,
  toNodeStates,
} from "./run-state";

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
  /** Set by the runner session when this draft finishes the build (issue 16): committed with it. */
  baseline: { states: ReadonlyMap<string, FindingState>; summary: FindingsSummary } | null = null;
  /** Audit log entries of the operator action this draft applies (src/audit), committed in its batch. */
  readonly audit: AuditEntry[] = [];
  sessionTouched = false;
  readonly touchedNodes = new Set<string>();
  readonly newRuns = new Set<string>();
  readonly touchedRuns = new Set<string>();
  nodesReplaced = false;
  readonly ts: string;

  constructor(
    readonly state: BuildState,
    readonly now: number,
  ) {
    this.ts = isoTimestamp(now);
  }

  get changed(): boolean {
    return (
      this.audit.length > 0 ||
      this.findings.length > 0 ||
      this.events.length > 0 ||
      this.touchedNodes.size > 0 ||
      this.touchedRuns.size > 0 ||
      this.nodesReplaced ||
      this.sessionTouched ||
      this.metrics.length > 0
    );
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

  emit(event_type: BuildEventType, payload: Record<string, unknown>): BuildEvent {
    const event: BuildEvent = {
      seq: this.state.next_seq++,
      event_type,
      build_id: this.state.build_id,
      timestamp: this.ts,
      payload,
    };
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
    this.transitions.push({
      transition_id,
      from_status: from,
      to_status: to,
      reason,
      source,
      event_seq: ev.seq,
      created_at: this.ts,
    });
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
      decision_id,
      action,
      reason,
      replacement_node_ids: replacement.map((n) => n.node_id),
      source,
    });
    const row = {
      decision_id,
      action,
      reason,
      source,
      replacement_nodes: replacement,
      event_seq: ev.seq,
      created_at: this.ts,
    };
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
      task_run_id,
      node_id: nodeId,
      attempt,
      status: "running",
      source,
      started_at: this.ts,
      finished_at: null,
      error: null,
      due_at: dueAt,
      runner_kind: runnerKind,
      heartbeat_at: null,
      event_seq: ev.seq,
    };
    this.state.task_runs.push(run);
    this.newRuns.add(task_run_id);
    this.setNode(nodeId, { status: "running", not_before: null });
    return run;
  }

  finishTask(
    run: TaskRunState,
    status: Extract<TaskStatus, "completed" | "failed" | "skipped">,
    error: string | null,
    source: string,
    finishedAt = this.ts,
  ): void {
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
