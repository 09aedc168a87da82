/**
 * Step 3 of the planner policy engine (policy-engine.ts): the per-node and build-wide knobs —
 * retry budgets, timeouts, parallelism and the deterministic fallback — each decision traced.
 * Pure: no I/O, no clock, no randomness.
 */
import type { DagNode } from "./dag";
import type { NodeStats } from "./history";
import {
  type PlanningFacts,
  type PolicyPlanInput,
  type TraceEntry,
  describeStats,
  pct,
  statsFor,
} from "./policy-facts";
import { isRecord, nonNegativeInt } from "../lib/values";

export function retryDecisions(
  dag: DagNode[],
  input: PolicyPlanInput,
  decisions: TraceEntry[],
): Record<string, number> {
  const doc = input.policy.document;
  const clientBase = nonNegativeInt(input.metadata.max_task_retries);
  const base = Math.max(doc.retry.default_budget, clientBase ?? 0);
  const client = isRecord(input.metadata.node_retry_budgets) ? input.metadata.node_retry_budgets : {};
  const rules = [...doc.retry.rules].sort((a, b) => b.min_failure_rate - a.min_failure_rate);
  const out: Record<string, number> = {};
  for (const node of dag) {
    const own = nonNegativeInt(client[node.node_id]);
    if (own !== null) {
      out[node.node_id] = own;
      decisions.push({
        decision: "retry_budget",
        node_id: node.node_id,
        value: own,
        reason: "client_override",
        detail: "metadata.node_retry_budgets from the request",
      });
      continue;
    }
    const s = statsFor(node, input.history, doc.history.min_builds);
    const baseDetail =
      clientBase !== null && clientBase >= doc.retry.default_budget
        ? `max_task_retries ${clientBase} from the request`
        : `policy default ${doc.retry.default_budget}`;
    if (s === null) {
      out[node.node_id] = base;
      decisions.push({
        decision: "retry_budget",
        node_id: node.node_id,
        value: base,
        reason: "insufficient_history",
        detail: `fewer than ${doc.history.min_builds} earlier builds ran this node or agent; ${baseDetail}`,
      });
      continue;
    }
    const rule = rules.find((r) => s.stats.failure_rate >= r.min_failure_rate);
    if (rule !== undefined && Math.min(rule.budget, doc.retry.max_budget) > base) {
      const value = Math.min(rule.budget, doc.retry.max_budget);
      out[node.node_id] = value;
      decisions.push({
        decision: "retry_budget",
        node_id: node.node_id,
        value,
        reason: s.basis === "node" ? "node_failure_rate" : "agent_failure_rate",
        detail: `${describeStats(node, s)} ≥ ${pct(rule.min_failure_rate)}: budget ${value}`,
      });
    } else {
      out[node.node_id] = base;
      decisions.push({
        decision: "retry_budget",
        node_id: node.node_id,
        value: base,
        reason: "below_threshold",
        detail: `${describeStats(node, s)}; ${baseDetail}`,
      });
    }
  }
  // Client entries for nodes outside this DAG (e.g. the deterministic fallback's) are kept too.
  for (const [k, v] of Object.entries(client)) {
    const n = nonNegativeInt(v);
    if (n !== null) out[k] = n;
  }
  return out;
}

export function timeoutDecisions(
  dag: DagNode[],
  input: PolicyPlanInput,
  facts: PlanningFacts,
  decisions: TraceEntry[],
): Record<string, number> {
  const t = input.policy.document.timeouts;
  const clamp = (ms: number) => Math.min(t.max_ms, Math.max(t.min_ms, Math.ceil(ms)));
  const client = isRecord(input.metadata.node_timeouts_ms) ? input.metadata.node_timeouts_ms : {};
  const out: Record<string, number> = {};
  for (const node of dag) {
    const own = nonNegativeInt(client[node.node_id]);
    if (own !== null && own > 0) {
      out[node.node_id] = own;
      decisions.push({
        decision: "timeout",
        node_id: node.node_id,
        value: own,
        reason: "client_override",
        detail: "metadata.node_timeouts_ms from the request",
      });
      continue;
    }
    const s = statsFor(node, input.history, input.policy.document.history.min_builds);
    if (s !== null && s.stats.p95_duration_ms !== null) {
      const value = clamp(s.stats.p95_duration_ms * t.history_multiplier);
      const who = s.basis === "node" ? `node '${node.node_id}'` : `agent '${node.agent}'`;
      decisions.push({
        decision: "timeout",
        node_id: node.node_id,
        value,
        reason: "history_p95",
        detail:
          `p95 of the completed runs of ${who}: ${s.stats.p95_duration_ms} ms × ${t.history_multiplier}, ` +
          `clamped to [${t.min_ms}, ${t.max_ms}]`,
      });
      out[node.node_id] = value;
      continue;
    }
    const byAgent = t.by_agent[node.agent];
    const large = facts.repo_size === "large";
    const value = clamp((byAgent ?? t.default_ms) * (large ? t.large_repo_multiplier : 1));
    out[node.node_id] = value;
    decisions.push({
      decision: "timeout",
      node_id: node.node_id,
      value,
      reason: byAgent !== undefined ? "agent_default" : "policy_default",
      detail:
        `${byAgent !== undefined ? `default for agent '${node.agent}'` : "policy default"} ` +
        `${byAgent ?? t.default_ms} ms${large ? ` × ${t.large_repo_multiplier} (large repository)` : ""}; ` +
        "no duration history",
    });
  }
  for (const [k, v] of Object.entries(client)) {
    const n = nonNegativeInt(v);
    if (n !== null && n > 0) out[k] = n;
  }
  return out;
}

export function parallelismDecision(
  input: PolicyPlanInput,
  facts: PlanningFacts,
  decisions: TraceEntry[],
): number | null {
  const p = input.policy.document.parallelism;
  const h = input.history;
  const client = Number(input.metadata.max_parallelism);
  if (input.metadata.max_parallelism !== undefined && Number.isFinite(client) && client >= 1) {
    decisions.push({
      decision: "parallelism",
      value: input.metadata.max_parallelism,
      reason: "client_override",
      detail: "metadata.max_parallelism from the request",
    });
    return null;
  }
  const size = facts.repo_size === "unknown" ? "medium" : facts.repo_size;
  let value = p[size];
  let reason = "repo_size";
  const sizeNote = facts.repo_size === "unknown" ? " (treated as medium)" : "";
  let detail = `repository size ${facts.repo_size}${sizeNote}: ${value}`;
  if (
    p.flaky_build_rate !== null &&
    h.builds_considered >= input.policy.document.history.min_builds &&
    h.build_failure_rate >= p.flaky_build_rate &&
    value > p.flaky_max
  ) {
    value = p.flaky_max;
    reason = "flaky_repo";
    detail =
      `${h.failed + h.aborted} of the last ${h.builds_considered} builds failed or aborted ` +
      `(${pct(h.build_failure_rate)} ≥ ${pct(p.flaky_build_rate)}): at most ${value} node(s) at once`;
  }
  decisions.push({ decision: "parallelism", value, reason, detail });
  return value;
}

export function fallbackDecision(dag: DagNode[], input: PolicyPlanInput, decisions: TraceEntry[]): boolean {
  const doc = input.policy.document;
  const h = input.history;
  if (input.metadata.fallback_scan_mode !== undefined) {
    decisions.push({
      decision: "fallback",
      value: input.metadata.fallback_scan_mode,
      reason: "client_override",
      detail: "metadata.fallback_scan_mode from the request",
    });
    return false;
  }
  const nodeRate = doc.fallback.arm_on_node_failure_rate;
  if (nodeRate !== null) {
    const risky = dag
      .map((node) => ({ node, s: statsFor(node, h, doc.history.min_builds) }))
      .filter(
        (x): x is { node: DagNode; s: { basis: "node" | "agent"; stats: NodeStats } } =>
          x.s !== null && x.s.stats.failure_rate >= nodeRate,
      );
    if (risky.length > 0) {
      decisions.push({
        decision: "fallback",
        value: "deterministic",
        reason: "node_failure_rate",
        detail:
          `${risky.map((r) => describeStats(r.node, r.s)).join("; ")} ≥ ${pct(nodeRate)}: a terminal ` +
          "failure falls back to the deterministic DAG",
      });
      return true;
    }
  }
  const fbRate = doc.fallback.arm_on_fallback_rate;
  if (fbRate !== null && h.builds_considered >= doc.history.min_builds && h.fallback_rate >= fbRate) {
    decisions.push({
      decision: "fallback",
      value: "deterministic",
      reason: "history_fallback_rate",
      detail:
        `${h.fallback_builds} of the last ${h.builds_considered} builds fell back ` +
        `(${pct(h.fallback_rate)} ≥ ${pct(fbRate)})`,
    });
    return true;
  }
  decisions.push({
    decision: "fallback",
    value: null,
    reason: "not_needed",
    detail: "no planned node or recent fallback rate reaches the policy's thresholds",
  });
  return false;
}
