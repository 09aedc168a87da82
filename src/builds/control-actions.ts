/**
 * Operator control actions on a build (SPEC §4.10 with the DESIGN §4 fixes), pure: each takes a
 * Draft and either records its effects or throws an AppError before changing anything (no side
 * effects before a rejection — quirks 2, 4, 5 fixed). The BuildRunner DO applies them.
 */
import type { AuditActor, AuditEntry } from "../audit/audit";
import { AppError } from "../kernel/errors";
import type { ControlAction } from "./build-runner.client";
import type { DagNode, GateDecisionStatus, GateType, ReplanAction, TaskStatus } from "./builds.types";
import { isFinalTaskStatus } from "./builds.types";
import { tryComputeLevels } from "../planning/levels";
import {
  type CheckpointRow,
  type DebtRow,
  type Draft,
  type GateRow,
  type ReplanRow,
  type TaskRunState,
  type ViolationRow,
  activeLevel,
  doneNodeIds,
  mirrorEngine,
  runningRuns,
} from "./run-machine";

/** In-flight runs end when the build is aborted (their results would arrive after BUILD_FINISHED). */
function cancelInFlight(d: Draft, why: string): void {
  for (const run of runningRuns(d.state)) d.finishTask(run, "skipped", `cancelled:${why}`, "manual");
}

export function abort(d: Draft, reason: string | null | undefined): { changed: boolean } {
  const s = d.state;
  if (s.status === "completed") throw new AppError("build_abort_conflict", "cannot_abort_completed");
  if (s.status === "aborted") return { changed: false }; // idempotent (quirk 4): 200, no new events
  const r = reason?.trim() || "manual_abort";
  cancelInFlight(d, "build_aborted");
  d.transition("aborted", r, "manual");
  d.emit("BUILD_ABORTED", { reason: r });
  d.finished("aborted");
  d.checkpoint(r);
  d.setSession("completed");
  return { changed: true };
}

export function resume(d: Draft, reason: string | null | undefined): void {
  const s = d.state;
  if (s.status === "completed") throw new AppError("build_resume_conflict", "cannot_resume_completed");
  if (s.status === "aborted") throw new AppError("build_resume_conflict", "cannot_resume_aborted");
  const r = reason?.trim() || "manual_resume";
  d.transition("running", r, "manual");
  d.emit("BUILD_RESUMED", { reason: r });
  d.checkpoint(r);
}

export function checkpoint(d: Draft, reason: string): CheckpointRow {
  return d.checkpoint(reason);
}

export function addDebt(d: Draft, input: { node_id: string; summary: string; severity: string }): DebtRow {
  return d.debt(input.node_id, input.summary, input.severity, "manual");
}

export function addViolation(
  d: Draft,
  input: { code: string; message: string; source: string; blocking: boolean },
): ViolationRow {
  return d.violation(input.code, input.message, input.source, input.blocking);
}

/** Manual gate decision: BLOCKED pauses and FAIL fails a running build (SPEC §4.10.8). */
export function gateDecision(
  d: Draft,
  gate: GateType,
  input: { status: GateDecisionStatus; reason: string; node_id: string | null },
): GateRow {
  const row = d.gate(gate, input.status, input.reason, input.node_id, "manual");
  if (d.state.status === "running") {
    if (input.status === "BLOCKED") d.transition("paused", `${gate}:${input.reason}`, "gate");
    if (input.status === "FAIL" && d.transition("failed", `${gate}:${input.reason}`, "gate")) d.finished("failed");
  }
  return row;
}

/** Default cap on a build's total DAG size after MODIFY_DAG replans (BUILD_MAX_DAG_NODES; issue 17 item 6). */
export const DEFAULT_MAX_DAG_NODES = 300;

/** Validates appended nodes against the current DAG without mutating anything. */
function validateModifyDag(d: Draft, nodes: DagNode[], maxNodes: number): void {
  const total = d.state.nodes.length + nodes.length;
  if (total > maxNodes) throw new AppError("invalid_replan", `dag_node_limit_exceeded:${total}>${maxNodes}`);
  const existing = new Set(d.state.nodes.map((n) => n.node_id));
  for (const n of nodes)
    if (existing.has(n.node_id)) throw new AppError("invalid_replan", `duplicate_replan_node_id:${n.node_id}`);
  const levels = tryComputeLevels([...d.state.nodes, ...nodes]);
  if (!levels.ok) throw new AppError("invalid_replan", levels.message);
}

/** Manual replan (SPEC §4.10.4), MODIFY_DAG validated before it mutates (quirk 5). */
export function replan(
  d: Draft,
  input: { action: ReplanAction; reason: string; replacement_nodes: DagNode[]; max_dag_nodes?: number | undefined },
  source = "manual",
): ReplanRow {
  const s = d.state;
  if (input.action === "MODIFY_DAG" && input.replacement_nodes.length > 0) {
    validateModifyDag(d, input.replacement_nodes, input.max_dag_nodes ?? DEFAULT_MAX_DAG_NODES);
    const dag: DagNode[] = [
      ...s.nodes.map(({ node_id, title, agent, depends_on, gate, status }) => ({
        node_id,
        title,
        agent,
        depends_on,
        gate,
        status,
      })),
      ...input.replacement_nodes.map((n) => ({ ...n, status: "pending" as TaskStatus })),
    ];
    const levels = d.replaceDag(dag, s.nodes);
    mirrorEngine(s, {}, { dag_levels: levels });
  }
  if (input.action === "ABORT" && s.status !== "completed" && s.status !== "aborted") {
    cancelInFlight(d, "build_aborted");
    d.transition("aborted", `replan_abort:${input.reason}`, "replanner");
    d.finished("aborted");
    d.setSession("completed");
  }
  return d.replan(input.action, input.reason, source, input.replacement_nodes);
}

const SEVERITY_RANK: Record<string, number> = { critical: 4, high: 3, medium: 2, low: 1 };
const rank = (severity: string) => SEVERITY_RANK[severity.trim().toLowerCase()] ?? 2;

export interface ReplanSuggestion {
  action: ReplanAction;
  reason: string;
  replacement_nodes: DagNode[];
}

/** Debt triage (SPEC §4.10.5); pure over the state. */
export function suggestReplan(d: Draft): ReplanSuggestion {
  const s = d.state;
  const blocking = [...new Set(s.policy_violations.filter((v) => v.blocking).map((v) => v.code))].sort();
  if (blocking.length > 0)
    return { action: "ABORT", reason: `blocking_policy_violation:${blocking.join(",")}`, replacement_nodes: [] };
  const critical = s.debt_items.filter((x) => rank(x.severity) >= 4);
  if (critical.length > 0)
    return { action: "REDUCE_SCOPE", reason: `critical_debt_detected:${critical.length}`, replacement_nodes: [] };
  const high = s.debt_items.filter((x) => rank(x.severity) >= 3);
  if (high.length >= 2)
    return {
      action: "MODIFY_DAG",
      reason: `high_severity_debt:${high.length}`,
      replacement_nodes: remediationNodes(d, high.slice(0, 2)),
    };
  const medium = s.debt_items.filter((x) => rank(x.severity) >= 2);
  if (medium.length >= 3)
    return {
      action: "MODIFY_DAG",
      reason: `medium_severity_debt:${medium.length}`,
      replacement_nodes: remediationNodes(d, medium.slice(0, 1)),
    };
  return { action: "CONTINUE", reason: "debt_below_triage_threshold", replacement_nodes: [] };
}

function remediationNodes(d: Draft, items: DebtRow[]): DagNode[] {
  const taken = new Set(d.state.nodes.map((n) => n.node_id));
  const out: DagNode[] = [];
  for (const item of items) {
    const base = `debt-remediation-${item.node_id}`;
    let id = base;
    for (let i = 2; taken.has(id); i++) id = `${base}-${i}`;
    taken.add(id);
    out.push({
      node_id: id,
      title: `Debt remediation: ${item.node_id}`,
      agent: "planner",
      depends_on: d.state.nodes.some((n) => n.node_id === item.node_id) ? [item.node_id] : [],
      gate: null,
      status: "pending",
    });
  }
  return out;
}

/** GET /replan/suggest has a side effect: it records REPLAN_SUGGESTED (kept as the reference). */
export function recordSuggestion(d: Draft): ReplanSuggestion {
  const suggestion = suggestReplan(d);
  d.emit("REPLAN_SUGGESTED", {
    action: suggestion.action,
    reason: suggestion.reason,
    replacement_node_ids: suggestion.replacement_nodes.map((n) => n.node_id),
    source: "debt_triage",
  });
  return suggestion;
}

export function applySuggestion(d: Draft, reason: string | null | undefined, maxDagNodes?: number): ReplanRow {
  const suggestion = recordSuggestion(d);
  return replan(
    d,
    {
      action: suggestion.action,
      reason: reason?.trim() || suggestion.reason,
      replacement_nodes: suggestion.replacement_nodes,
      max_dag_nodes: maxDagNodes,
    },
    "debt_triage",
  );
}

export function startTask(d: Draft, nodeId: string): TaskRunState {
  if (!d.state.nodes.some((n) => n.node_id === nodeId)) throw new AppError("dag_node_not_found", "DAG node not found.");
  if (d.state.status !== "running") throw new AppError("task_run_conflict", `cannot_start_task_when_${d.state.status}`);
  return d.startTask(nodeId, "manual", null);
}

export function completeTask(
  d: Draft,
  taskRunId: string,
  input: { status: TaskStatus; error: string | null },
): TaskRunState {
  const run = d.state.task_runs.find((r) => r.task_run_id === taskRunId);
  if (!run) throw new AppError("task_run_not_found", "Task run not found.");
  if (isFinalTaskStatus(run.status)) throw new AppError("task_run_conflict", "task_already_finalized");
  if (!isFinalTaskStatus(input.status)) throw new AppError("task_run_conflict", "task_final_status_required");
  d.finishTask(run, input.status as "completed" | "failed" | "skipped", input.error, "manual");
  return run;
}

/** Bootstrap (SPEC R1): reuses the session and records RUNTIME_BOOTSTRAPPED on every call. */
export function bootstrap(d: Draft, workerEnabled: boolean): void {
  const r = d.state.runtime;
  d.emit("RUNTIME_BOOTSTRAPPED", { runtime_id: r.runtime_id, status: r.status, runtime_worker_enabled: workerEnabled });
  d.metric(
    "runtime_bootstrap",
    1,
    { build_id: d.state.build_id },
    { runtime_id: r.runtime_id, status: r.status, level_count: new Set(d.state.nodes.map((n) => n.level)).size },
  );
}

/**
 * A tick on a build that is not running: 409 when its active level has nodes ready to run
 * (without any side effect — quirk 2 fixed), otherwise nothing to do.
 */
export function assertTickable(d: Draft): void {
  const s = d.state;
  if (s.status === "running" || s.status === "completed") return;
  const level = activeLevel(s);
  if (level === null) return;
  const done = doneNodeIds(s);
  const inFlight = new Set(runningRuns(s).map((r) => r.node_id));
  const ready = s.nodes.some(
    (n) =>
      n.level === level && !done.has(n.node_id) && !inFlight.has(n.node_id) && n.depends_on.every((x) => done.has(x)),
  );
  if (ready) throw new AppError("runtime_tick_conflict", `cannot_start_task_when_${s.status}`);
}

export type ControlInput = ControlAction | { type: "assert_tickable" };

/** Dispatches one control action; returns the row or view it produced. */
export function applyControl(d: Draft, action: ControlInput, opts: { workerEnabled?: boolean } = {}): unknown {
  switch (action.type) {
    case "abort":
      return abort(d, action.reason);
    case "resume":
      return resume(d, action.reason);
    case "checkpoint":
      return checkpoint(d, action.reason);
    case "debt":
      return addDebt(d, action);
    case "violation":
      return addViolation(d, action);
    case "gate":
      return gateDecision(d, action.gate, action);
    case "replan":
      return replan(d, action);
    case "suggest":
      return recordSuggestion(d);
    case "apply_suggestion":
      return applySuggestion(d, action.reason, action.max_dag_nodes);
    case "start_task":
      return startTask(d, action.node_id);
    case "complete_task":
      return completeTask(d, action.task_run_id, action);
    case "bootstrap":
      return bootstrap(d, opts.workerEnabled ?? true);
    case "assert_tickable":
      return assertTickable(d);
  }
}

/** The audit log entry of an operator control action (src/audit): small, non-secret facts only. */
export function controlAudit(actor: AuditActor, a: ControlAction, buildId: string): AuditEntry {
  const base = { actor, target_type: "build", target_id: buildId };
  switch (a.type) {
    case "abort":
    case "resume":
    case "checkpoint":
      return { ...base, action: `build.${a.type}`, detail: { reason: a.reason ?? null } };
    case "apply_suggestion":
      return { ...base, action: "build.apply_suggestion", detail: { reason: a.reason ?? null } };
    case "debt":
      return { ...base, action: "build.debt", detail: { node_id: a.node_id, severity: a.severity } };
    case "violation":
      return { ...base, action: "build.violation", detail: { code: a.code, source: a.source, blocking: a.blocking } };
    case "gate":
      return { ...base, action: "build.gate", detail: { gate: a.gate, status: a.status, node_id: a.node_id } };
    case "replan":
      return { ...base, action: "build.replan", detail: { replan_action: a.action, reason: a.reason } };
    case "start_task":
      return { ...base, action: "build.start_task", detail: { node_id: a.node_id } };
    case "complete_task":
      return { ...base, action: "build.complete_task", detail: { task_run_id: a.task_run_id, status: a.status } };
    case "bootstrap":
      return { ...base, action: "build.bootstrap", detail: {} };
    case "suggest":
      throw new Error("suggest is a read; it is not audited");
  }
}
