/**
 * What a failed node leads to (SPEC §4.8.5, §4.9): the replanner's decision (retry → fallback →
 * abort → fail), the retry with backoff, and the one-time switch to the deterministic DAG.
 */
import type { ReplanAction } from "../builds.types";
import { deterministicDag } from "../../planning/planner";
import { isoTimestamp } from "../../lib/ids";
import type { Draft } from "./draft";
import { type BuildState, type NodeState, type TaskRunState, mirrorEngine } from "./run-state";
import { retryDelayMs } from "./retry-policy";
import { retryBudget } from "./run-settings";

/** What the replanner decides on: the failed attempt, the node's budget and the build's switches. */
export interface ReplanInput {
  nodeId: string;
  attempt: number;
  retryBudget: number;
  scanMode: string;
  /** `settings.fallback_scan_mode`: `deterministic` arms the fallback of an autonomous build. */
  fallbackScanMode: "deterministic" | null;
  fallbackApplied: boolean;
  abortOnTerminalFailure: boolean;
}

/** SPEC §4.8.5: retry → fallback → abort → none. */
export function decideReplan(input: ReplanInput): { action: ReplanAction | null; reason: string } {
  const { nodeId, attempt } = input;
  if (attempt <= input.retryBudget) return { action: "CONTINUE", reason: `retry_node:${nodeId}:attempt_${attempt}` };
  if (input.scanMode === "autonomous" && input.fallbackScanMode === "deterministic" && !input.fallbackApplied) {
    return { action: "REDUCE_SCOPE", reason: `fallback_to_deterministic:${nodeId}` };
  }
  if (input.abortOnTerminalFailure) return { action: "ABORT", reason: `terminal_failure_abort:${nodeId}` };
  return { action: null, reason: `terminal_failure_no_replan:${nodeId}` };
}

/** The replanner's input for a failed attempt of `nodeId` in build state `s`. */
export function replanInput(s: BuildState, nodeId: string, attempt: number): ReplanInput {
  return {
    nodeId,
    attempt,
    retryBudget: retryBudget(s.settings, nodeId),
    scanMode: s.scan_mode,
    fallbackScanMode: s.settings.fallback_scan_mode,
    fallbackApplied: s.engine.fallback_applied,
    abortOnTerminalFailure: s.settings.replanner_abort_on_terminal_failure,
  };
}

/** The replanner on a failed run of a running build: retry, fall back, abort or fail the build. */
export function handleFailure(d: Draft, node: NodeState, run: TaskRunState, rand: () => number): void {
  const s = d.state;
  const input = replanInput(s, node.node_id, run.attempt);
  const budget = input.retryBudget;
  let decision = decideReplan(input);

  if (decision.action === "CONTINUE") {
    const delay = retryDelayMs(s.settings.retry_policy, run.attempt, rand());
    const notBefore = isoTimestamp(d.now + delay);
    d.replan("CONTINUE", decision.reason, "runtime_tick");
    d.emit("TASK_RETRY_SCHEDULED", {
      node_id: node.node_id,
      attempt: run.attempt,
      next_attempt: run.attempt + 1,
      retry_budget: budget,
      retry_level: node.level,
      retry_delay_ms: delay,
      not_before: notBefore,
    });
    d.setNode(node.node_id, { not_before: notBefore });
    return;
  }
  if (decision.action === "REDUCE_SCOPE") {
    if (applyFallback(d, node.node_id)) return;
    decision = decideReplan({ ...input, fallbackApplied: true });
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
  if (s.engine.fallback_applied || s.scan_mode === "deterministic" || s.settings.fallback_scan_mode !== "deterministic")
    return false;
  const dag = deterministicDag();
  const levels = d.replaceDag(dag);
  const fromMode = s.scan_mode;
  const reason = `runner_failed:${nodeId}`;
  s.scan_mode = "deterministic";
  mirrorEngine(
    s,
    { fallback_applied: true, level_cursor: 0 },
    {
      scan_mode: "deterministic",
      fallback_applied: true,
      fallback_from_mode: fromMode,
      fallback_reason: reason,
      dag_levels: levels,
      level_cursor: 0,
    },
  );
  d.emit("FALLBACK_MODE_SWITCHED", {
    from_mode: fromMode,
    to_mode: "deterministic",
    reason,
    source: "runtime_tick",
    dag_nodes: dag.map((n) => n.node_id),
  });
  d.replan("REDUCE_SCOPE", `fallback_to_deterministic:${nodeId}`, "runtime_tick");
  if (levels.length > 0) d.emit("LEVEL_STARTED", { level: 0, nodes: levels[0] });
  return true;
}
