/**
 * The planner policy engine: a PURE function (intake, repository signals, history summary, policy,
 * model outcome) → a planned DAG, metadata additions and a trace that explains every decision.
 * No I/O, no clock, no randomness: the service (planning.service.ts) gathers the inputs and calls
 * `basePlan` (to know what to ask the model) and `planWithPolicy` (the final plan). Reuses the
 * SPEC §4.4 DAG builders, the blueprint parser and level computation from src/builds.
 */
import type { DagNode, PlannedDag } from "./dag";
import { computeLevels } from "./levels";
import { adaptiveDag, deterministicDag, staticDag } from "./planner";
import type { PlannerPolicyDocument } from "./planning.schemas";
import {
  type BasePlan,
  type ModelOutcome,
  type PolicyPlanInput,
  type TraceEntry,
  POLICY_PROFILE,
  conditionHolds,
  pct,
  planningFacts,
} from "./policy-facts";
import { validateProposal } from "./policy-proposal";
import { fallbackDecision, parallelismDecision, retryDecisions, timeoutDecisions } from "./policy-knobs";

export * from "./policy-facts";
export { validateProposal } from "./policy-proposal";

// ---------------------------------------------------------------------------------------------
// step 1: mode, profile and guards

/**
 * The policy's own DAG before any model proposal: deterministic pre-selection from history, the
 * profile (static_v1 / adaptive_parallel_v1) and the guard nodes. Pure.
 */
export function basePlan(input: PolicyPlanInput): BasePlan {
  const doc = input.policy.document;
  const h = input.history;
  const facts = planningFacts(input.metadata, input.repoSignals, doc);
  const decisions: TraceEntry[] = [];

  const preselect = doc.fallback.preselect_deterministic_on_fallback_rate;
  if (preselect !== null && h.builds_considered >= doc.history.min_builds && h.fallback_rate >= preselect) {
    decisions.push({
      decision: "scan_mode",
      value: "deterministic",
      reason: "history_fallback_rate",
      detail:
        `${h.fallback_builds} of the last ${h.builds_considered} builds fell back to deterministic ` +
        `(${pct(h.fallback_rate)} ≥ ${pct(preselect)}); starting in deterministic mode`,
    });
    return {
      facts,
      scan_mode: "deterministic",
      profile: "deterministic",
      dag: deterministicDag(),
      base_trace: { profile: "deterministic_default_v1" },
      guard_nodes: [],
      decisions,
    };
  }
  decisions.push({
    decision: "scan_mode",
    value: "autonomous",
    reason:
      h.builds_considered < doc.history.min_builds ? "insufficient_history" : "history_fallback_rate_below_threshold",
    detail:
      h.builds_considered < doc.history.min_builds
        ? `${h.builds_considered} earlier build(s) of this repository ` +
          `(< ${doc.history.min_builds}); autonomous by default`
        : `fallback rate ${pct(h.fallback_rate)} over ${h.builds_considered} builds ` +
          "is below the pre-selection threshold",
  });

  // Guards are evaluated against the adaptive base (their dependencies are its nodes).
  const adaptive = adaptiveDag(input.metadata.project_intake);
  const dag = adaptive.dag;
  const planner = dag.find((n) => n.node_id === "planner");
  const guardNodes: string[] = [];
  for (const guard of doc.guards) {
    let matched: string | null = null;
    for (const condition of guard.when) {
      matched = conditionHolds(condition, facts);
      if (matched !== null) break;
    }
    if (matched === null) {
      decisions.push({
        decision: "guard_node",
        node_id: guard.node_id,
        value: "not_triggered",
        reason: "conditions_not_met",
        detail: "no condition of this guard holds",
      });
      continue;
    }
    if (dag.some((n) => n.node_id === guard.node_id)) {
      guardNodes.push(guard.node_id);
      decisions.push({
        decision: "guard_node",
        node_id: guard.node_id,
        value: "provided_by_base",
        reason: "condition_matched",
        detail: `${matched}; the adaptive_parallel_v1 base already contains it`,
      });
      continue;
    }
    const missing = guard.depends_on.find((d) => !dag.some((n) => n.node_id === d));
    if (missing !== undefined) {
      decisions.push({
        decision: "guard_node",
        node_id: guard.node_id,
        value: "skipped",
        reason: "missing_dependency",
        detail: `${matched}, but its dependency '${missing}' is not in the plan`,
      });
      continue;
    }
    if (dag.length >= doc.max_nodes) {
      decisions.push({
        decision: "guard_node",
        node_id: guard.node_id,
        value: "skipped",
        reason: "max_nodes",
        detail: `${matched}, but the plan already has ${dag.length} nodes (max_nodes ${doc.max_nodes})`,
      });
      continue;
    }
    dag.splice(dag.length - 1, 0, {
      node_id: guard.node_id,
      title: guard.title,
      agent: guard.agent,
      depends_on: [...guard.depends_on],
      gate: guard.gate,
      status: "pending",
    });
    if (guard.feeds_planner && planner !== undefined)
      planner.depends_on = [...new Set([...planner.depends_on, guard.node_id])].sort();
    guardNodes.push(guard.node_id);
    decisions.push({
      decision: "guard_node",
      node_id: guard.node_id,
      value: "added",
      reason: "condition_matched",
      detail: matched,
    });
  }

  const addedGuards = decisions.filter((d) => d.decision === "guard_node" && d.value === "added").length;
  const intakeReasons = [
    facts.flows > 0 ? `${facts.flows} must-not-break flow(s)` : null,
    facts.sensitive_data ? "sensitive data" : null,
    facts.scale_high ? "high scale expectation" : null,
  ].filter((x): x is string => x !== null);

  let profile: "static_v1" | "adaptive_parallel_v1" = "adaptive_parallel_v1";
  let reason: string;
  let detail: string;
  if (intakeReasons.length > 0) {
    reason = "intake_requires_adaptive";
    detail = `intake has ${intakeReasons.join(", ")}`;
  } else if (addedGuards > 0) {
    reason = "guards_require_adaptive";
    detail = `${addedGuards} guard node(s) attach to the adaptive DAG`;
  } else if (doc.profile.default === "static_v1") {
    profile = "static_v1";
    reason = "policy_default";
    detail = "empty intake, no guard triggered; the policy's default profile is static_v1";
  } else if (doc.profile.static_for_small_repos && facts.repo_size === "small") {
    profile = "static_v1";
    reason = "small_repo_empty_intake";
    detail = "small repository, empty intake and no guard triggered: the 4-node static DAG suffices";
  } else {
    reason = "policy_default";
    detail = `repository size ${facts.repo_size}; the policy's default profile is adaptive_parallel_v1`;
  }
  decisions.push({ decision: "profile", value: profile, reason, detail });

  if (profile === "static_v1") {
    return {
      facts,
      scan_mode: "autonomous",
      profile,
      dag: staticDag(),
      base_trace: { profile: "static_v1" },
      guard_nodes: [],
      decisions,
    };
  }
  return {
    facts,
    scan_mode: "autonomous",
    profile,
    dag,
    base_trace: adaptive.trace,
    guard_nodes: guardNodes,
    decisions,
  };
}

// ---------------------------------------------------------------------------------------------
// step 3: per-node and build-wide knobs (policy-knobs.ts), the model, and the final plan

function modelDecision(
  base: BasePlan,
  model: ModelOutcome,
  doc: PlannerPolicyDocument,
  decisions: TraceEntry[],
): { dag: DagNode[] | null; trace: Record<string, unknown> } {
  if (base.scan_mode === "deterministic") {
    decisions.push({
      decision: "model",
      value: "skipped",
      reason: "deterministic_preselected",
      detail: "the model is not asked when history pre-selects deterministic mode",
    });
    return { dag: null, trace: { status: "skipped", reason: "deterministic_preselected" } };
  }
  switch (model.status) {
    case "not_configured":
      decisions.push({
        decision: "model",
        value: "not_configured",
        reason: "not_configured",
        detail: "no PLANNER_MODEL_URL on this deployment; the policy's own plan is used",
      });
      return { dag: null, trace: { status: "not_configured" } };
    case "disabled":
      decisions.push({
        decision: "model",
        value: "disabled",
        reason: "policy_disabled",
        detail: "the policy sets model.enabled=false",
      });
      return { dag: null, trace: { status: "disabled" } };
    case "unavailable":
      decisions.push({
        decision: "model",
        value: "unavailable",
        reason: model.reason,
        detail: `${model.detail}; the policy's own plan is used`,
      });
      return { dag: null, trace: { status: "unavailable", reason: model.reason, detail: model.detail } };
    case "proposed": {
      const required = doc.model.require_guard_nodes ? base.guard_nodes : [];
      const check = validateProposal(model.proposal, doc, required);
      if (!check.ok) {
        decisions.push({
          decision: "model",
          value: "rejected",
          reason: check.reason,
          detail: `${check.detail}; the policy's own plan is used`,
        });
        return {
          dag: null,
          trace: { status: "rejected", model: model.model, reason: check.reason, detail: check.detail },
        };
      }
      decisions.push({
        decision: "model",
        value: "accepted",
        reason: "proposal_valid",
        detail: `${check.dag.length} nodes from model '${model.model}' passed the SPEC §4.4 and policy rules`,
      });
      decisions.push({
        decision: "profile",
        value: "model_blueprint",
        reason: "model_proposal_accepted",
        detail: "the validated model proposal replaces the policy's DAG",
      });
      return { dag: check.dag, trace: { status: "accepted", model: model.model, node_count: check.dag.length } };
    }
  }
}

/** The policy-planned result: a PlannedDag (as planDag returns) plus the decision list. */
export interface PolicyPlan extends PlannedDag {
  decisions: TraceEntry[];
  /** Which DAG was used: the policy's own, or a validated model proposal. */
  source: "policy" | "model";
}

/**
 * Plans a build with the policy (pure). The returned metadata is the client's plus
 * `scan_mode`, `autonomous_planner_profile: "policy_v1"`, `planner_trace`, `node_retry_budgets`,
 * `node_timeouts_ms`, `max_parallelism`, `fallback_scan_mode` (when armed), `repo_signals`,
 * `dag_levels` and `level_cursor: 0`. Explicit client values of those knobs win and are traced
 * as `client_override`.
 */
export function planWithPolicy(input: PolicyPlanInput & { model: ModelOutcome }): PolicyPlan {
  const doc = input.policy.document;
  const base = basePlan(input);
  const decisions = [...base.decisions];
  const model = modelDecision(base, input.model, doc, decisions);
  const dag = model.dag ?? base.dag;
  const source: PolicyPlan["source"] = model.dag === null ? "policy" : "model";

  const budgets = retryDecisions(dag, input, decisions);
  const timeouts = timeoutDecisions(dag, input, base.facts, decisions);
  const parallelism = parallelismDecision(input, base.facts, decisions);
  const armFallback = base.scan_mode === "autonomous" ? fallbackDecision(dag, input, decisions) : false;
  if (base.scan_mode === "deterministic") {
    decisions.push({
      decision: "fallback",
      value: null,
      reason: "deterministic_preselected",
      detail: "already deterministic; nothing to fall back to",
    });
  }

  const levels = computeLevels(dag);
  const h = input.history;
  const trace: Record<string, unknown> = {
    profile: POLICY_PROFILE,
    policy: { version: input.policy.version, source: input.policy.source },
    source,
    selected_profile: source === "model" ? "model_blueprint" : base.profile,
    base: base.base_trace,
    inputs: {
      ...base.facts,
      history: {
        builds_considered: h.builds_considered,
        build_failure_rate: h.build_failure_rate,
        fallback_rate: h.fallback_rate,
        median_build_duration_ms: h.median_build_duration_ms,
      },
    },
    model: model.trace,
    decisions,
  };

  const metadata: Record<string, unknown> = { ...input.metadata };
  metadata.scan_mode = base.scan_mode;
  metadata.autonomous_planner_profile = POLICY_PROFILE;
  metadata.planner_trace = trace;
  metadata.node_retry_budgets = budgets;
  metadata.node_timeouts_ms = timeouts;
  if (parallelism !== null) metadata.max_parallelism = parallelism;
  if (armFallback) metadata.fallback_scan_mode = "deterministic";
  if (input.repoSignals !== null) metadata.repo_signals = input.repoSignals;
  metadata.dag_levels = levels.map((l) => [...l]);
  metadata.level_cursor = 0;

  return { dag, scan_mode: base.scan_mode, planner_trace: trace, dag_levels: levels, metadata, decisions, source };
}
