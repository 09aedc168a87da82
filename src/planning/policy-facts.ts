/**
 * The planner policy engine's inputs, trace and facts (policy-engine.ts): the types every step
 * shares and the facts derived from the inputs once. Pure.
 */
import type { DagNode } from "./dag";
import type { HistorySummary, NodeStats } from "./history";
import { hasSensitiveData, isHighScale, selectFlows } from "./planner";
import type { GuardCondition, PlannerPolicyDocument, RepoSignals, RepoSize } from "./planning.schemas";
import { isRecord, lowerTrim } from "../lib/values";

/** The `autonomous_planner_profile` written on policy-planned builds (and accepted as a request). */
export const POLICY_PROFILE = "policy_v1";
/** Request values of `autonomous_planner_profile` that select the policy layer. */
export const POLICY_PROFILE_ALIASES: ReadonlySet<string> = new Set(["policy", POLICY_PROFILE]);

/** What the model-backed planner returned (planning.model.ts), as plain data. */
export type ModelOutcome =
  | { status: "not_configured" } // no PLANNER_MODEL_URL on this deployment
  | { status: "disabled" } // the policy switched the model off
  | { status: "unavailable"; reason: string; detail: string } // no usable answer (network, HTTP, timeout, not JSON)
  | { status: "proposed"; model: string; proposal: unknown }; // a parsed JSON value, still to be validated

export interface PolicyRef {
  /** 0 for the built-in default. */
  version: number;
  source: "stored" | "builtin";
  document: PlannerPolicyDocument;
}

export interface PolicyPlanInput {
  objective: string;
  /** The client's metadata: project_intake and any explicit overrides. */
  metadata: Record<string, unknown>;
  repoSignals: RepoSignals | null;
  history: HistorySummary;
  policy: PolicyRef;
}

/** Kinds of decision the engine records, one trace entry each. */
export type DecisionKind =
  | "scan_mode" // deterministic pre-selected, or autonomous
  | "profile" // static_v1 / adaptive_parallel_v1 / model blueprint
  | "guard_node" // an extra node a guard rule added (or did not)
  | "model" // what happened to the model proposal
  | "retry_budget" // node_retry_budgets[node]
  | "timeout" // node_timeouts_ms[node]
  | "parallelism" // max_parallelism
  | "fallback"; // fallback_scan_mode

export interface TraceEntry {
  decision: DecisionKind;
  node_id?: string;
  value: unknown;
  /** Stable machine reason (docs/planner-policy.md lists them). */
  reason: string;
  /** Human explanation with the numbers behind it. */
  detail: string;
}

/** Facts derived from the inputs once, shared by every rule. */
export interface PlanningFacts {
  flows: number;
  sensitive_data: boolean;
  scale_high: boolean;
  deployment_target: string | null;
  repo_size: RepoSize | "unknown";
  repo_size_basis: "declared" | "counts" | "unknown";
  has_tests: boolean | null;
  languages: string[];
  manifests: string[];
}

export interface BasePlan {
  facts: PlanningFacts;
  scan_mode: "autonomous" | "deterministic";
  profile: "static_v1" | "adaptive_parallel_v1" | "deterministic";
  dag: DagNode[];
  base_trace: Record<string, unknown>;
  /** Guard node ids present in the DAG because a guard rule fired. */
  guard_nodes: string[];
  decisions: TraceEntry[];
}

export type ProposalCheck = { ok: true; dag: DagNode[] } | { ok: false; reason: string; detail: string };

// ---------------------------------------------------------------------------------------------
// helpers

export const pct = (r: number) => `${Math.round(r * 1000) / 10}%`;

/** Derives the facts every rule reads. */
export function planningFacts(
  metadata: Record<string, unknown>,
  signals: RepoSignals | null,
  doc: PlannerPolicyDocument,
): PlanningFacts {
  const intake = isRecord(metadata.project_intake) ? metadata.project_intake : {};
  let size: RepoSize | "unknown" = "unknown";
  let basis: PlanningFacts["repo_size_basis"] = "unknown";
  if (signals?.size !== undefined) {
    size = signals.size;
    basis = "declared";
  } else if (signals !== null && (signals.file_count !== undefined || signals.loc !== undefined)) {
    const t = doc.repo_size;
    const files = signals.file_count;
    const loc = signals.loc;
    basis = "counts";
    if ((files !== undefined && files >= t.large_min_files) || (loc !== undefined && loc >= t.large_min_loc))
      size = "large";
    else if ((files === undefined || files <= t.small_max_files) && (loc === undefined || loc <= t.small_max_loc))
      size = "small";
    else size = "medium";
  }
  return {
    flows: selectFlows(intake.must_not_break_flows).length,
    sensitive_data: hasSensitiveData(intake.sensitive_data),
    scale_high: isHighScale(intake.scale_expectation),
    deployment_target: lowerTrim(intake.deployment_target),
    repo_size: size,
    repo_size_basis: basis,
    has_tests: signals?.has_tests ?? null,
    languages: (signals?.languages ?? []).map((l) => l.toLowerCase()),
    manifests: (signals?.manifests ?? []).map((m) => m.toLowerCase()),
  };
}

/** Explains why a guard condition holds, or returns null when it does not. */
export function conditionHolds(c: GuardCondition, f: PlanningFacts): string | null {
  const why: string[] = [];
  if (c.scale_high !== undefined) {
    if (f.scale_high !== c.scale_high) return null;
    why.push(`intake scale_high=${f.scale_high}`);
  }
  if (c.sensitive_data !== undefined) {
    if (f.sensitive_data !== c.sensitive_data) return null;
    why.push(`intake sensitive_data=${f.sensitive_data}`);
  }
  if (c.deployment_targets !== undefined) {
    const target = f.deployment_target;
    const hit = target === null ? undefined : c.deployment_targets.find((t) => target.includes(t));
    if (hit === undefined) return null;
    why.push(`deployment_target '${target}' matches '${hit}'`);
  }
  if (c.repo_sizes !== undefined) {
    if (f.repo_size === "unknown" || !c.repo_sizes.includes(f.repo_size)) return null;
    why.push(`repo size ${f.repo_size}`);
  }
  if (c.has_tests !== undefined) {
    if (f.has_tests !== c.has_tests) return null;
    why.push(`repo_signals.has_tests=${f.has_tests}`);
  }
  if (c.languages_any !== undefined) {
    const hit = c.languages_any.find((l) => f.languages.includes(l));
    if (hit === undefined) return null;
    why.push(`language '${hit}'`);
  }
  if (c.manifests_any !== undefined) {
    const hit = c.manifests_any.find((m) => f.manifests.includes(m));
    if (hit === undefined) return null;
    why.push(`manifest '${hit}'`);
  }
  return why.join(", ");
}

/** Node stats with enough samples: per node id first, else per agent; null without. */
export function statsFor(
  node: DagNode,
  history: HistorySummary,
  minBuilds: number,
): { basis: "node" | "agent"; stats: NodeStats } | null {
  const own = history.nodes[node.node_id];
  if (own !== undefined && own.builds >= minBuilds) return { basis: "node", stats: own };
  const agent = history.agents[node.agent];
  if (agent !== undefined && agent.builds >= minBuilds) return { basis: "agent", stats: agent };
  return null;
}

export function describeStats(node: DagNode, s: { basis: "node" | "agent"; stats: NodeStats }): string {
  const who = s.basis === "node" ? `node '${node.node_id}'` : `agent '${node.agent}'`;
  return (
    `${who} failed in ${s.stats.failed_builds} of the last ${s.stats.builds} builds that ran it ` +
    `(${pct(s.stats.failure_rate)})`
  );
}
