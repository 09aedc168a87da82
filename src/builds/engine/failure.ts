/**
 * What a failed node leads to (SPEC §4.8.5, §4.9): the replanner's decision (retry → fallback →
 * abort → fail), the retry with backoff, and the one-time switch to the deterministic DAG.
 */
import type { ReplanAction } from "../builds.types";
import { deterministicDag } from "../../planning/planner";
import { isoTimestamp } from "../../lib/ids";
import type { Draft } from "./draft";
import type { NodeState, TaskRunState } from "./run-state";
import { retryBudget, retryDelayMs, retryPolicyFrom } from "./retry-policy";

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

/** The replanner on a failed run of a running build: retry, fall back, abort or fail the build. */
export function handleFailure(d: Draft, node: NodeState, run: TaskRunState, rand: () => number): void {
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
