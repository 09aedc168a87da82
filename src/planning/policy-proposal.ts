/**
 * Step 2 of the planner policy engine (policy-engine.ts): checking a model's proposed DAG
 * against the policy document and the nodes the plan requires. Pure.
 */
import { tryComputeLevels } from "./levels";
import { parseBlueprint } from "./planner";
import { isRecord } from "../lib/values";
import type { ProposalCheck } from "./policy-facts";
import type { PlannerPolicyDocument } from "./planning.schemas";

// ---------------------------------------------------------------------------------------------
// step 2: a model proposal

function shapeProblem(raw: unknown): string {
  if (!Array.isArray(raw)) return "the proposal is not a list of nodes";
  if (raw.length === 0) return "the proposal has no nodes";
  const ids = new Set<string>();
  for (const [i, entry] of (raw as unknown[]).entries()) {
    if (!isRecord(entry)) return `entry ${i} is not an object`;
    for (const key of ["node_id", "title", "agent"] as const) {
      const v = entry[key];
      if (typeof v !== "string" || v.trim() === "") return `entry ${i} has no ${key}`;
    }
    const id = String(entry.node_id).trim();
    if (ids.has(id)) return `duplicate node id '${id}'`;
    ids.add(id);
  }
  return "a depends_on entry is empty or a gate is not a GateType";
}

/**
 * Validates a model proposal: the SPEC §4.4 blueprint rules (parseBlueprint), the policy's node
 * limit and allowed agents, levels (cycle / missing or self dependency), a mandatory POLICY_GATE
 * and the guard nodes the policy requires. The first failed rule is the reason.
 */
export function validateProposal(
  proposal: unknown,
  doc: PlannerPolicyDocument,
  requiredNodes: readonly string[],
): ProposalCheck {
  const dag = parseBlueprint(proposal);
  if (dag === null) {
    const raw = typeof proposal === "string" ? safeJson(proposal) : proposal;
    return { ok: false, reason: "blueprint_invalid", detail: `SPEC §4.4 blueprint rules: ${shapeProblem(raw)}` };
  }
  const max = doc.model.max_nodes ?? doc.max_nodes;
  if (dag.length > max) return { ok: false, reason: "too_many_nodes", detail: `${dag.length} nodes > max ${max}` };
  const allowed = new Set(doc.allowed_agents);
  const foreign = dag.find((n) => !allowed.has(n.agent));
  if (foreign !== undefined) {
    return {
      ok: false,
      reason: "agent_not_allowed",
      detail: `node '${foreign.node_id}' uses agent '${foreign.agent}'; allowed: ${doc.allowed_agents.join(", ")}`,
    };
  }
  const levels = tryComputeLevels(dag);
  if (!levels.ok) {
    const reason = levels.message.split(":")[0] ?? levels.message;
    return { ok: false, reason, detail: `invalid DAG: ${levels.message}` };
  }
  if (doc.model.require_policy_gate && !dag.some((n) => n.gate === "POLICY_GATE")) {
    return { ok: false, reason: "policy_gate_missing", detail: "the policy requires at least one POLICY_GATE node" };
  }
  const missing = requiredNodes.filter((id) => !dag.some((n) => n.node_id === id));
  if (missing.length > 0) {
    return {
      ok: false,
      reason: "required_node_missing",
      detail: `guard node(s) required by the policy are missing: ${missing.join(", ")}`,
    };
  }
  return { ok: true, dag };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
