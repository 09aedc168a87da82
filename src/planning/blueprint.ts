/**
 * The `planner_dag_blueprint` parser (SPEC §4.4 agentic rules): a client-proposed DAG as an
 * array or a JSON string of one. Pure.
 */
import { isRecord, trimmedString as nonEmptyString } from "../lib/values";
import { type DagNode, GATE_TYPES, type GateType } from "./dag";

function isGateType(value: string): value is GateType {
  return (GATE_TYPES as readonly string[]).includes(value);
}

/**
 * Parses `planner_dag_blueprint` (an array, or a JSON string of an array). Returns null when the
 * blueprint is absent or invalid in any way (SPEC §4.4 agentic rules); dependencies are not checked
 * here — a missing one surfaces later as `invalid_dag`.
 */
export function parseBlueprint(raw: unknown): DagNode[] | null {
  let value: unknown = raw;
  if (typeof value === "string") {
    try {
      value = JSON.parse(value) as unknown;
    } catch {
      return null;
    }
  }
  if (!Array.isArray(value) || value.length === 0) return null;

  const ids = new Set<string>();
  const dag: DagNode[] = [];
  for (const entry of value as unknown[]) {
    if (!isRecord(entry)) return null;
    const nodeId = nonEmptyString(entry.node_id);
    const title = nonEmptyString(entry.title);
    const agent = nonEmptyString(entry.agent);
    if (nodeId === null || title === null || agent === null) return null;
    if (ids.has(nodeId)) return null;
    ids.add(nodeId);

    const dependsOn: string[] = [];
    if (Array.isArray(entry.depends_on)) {
      for (const dep of entry.depends_on as unknown[]) {
        const d = nonEmptyString(dep);
        if (d === null) return null;
        dependsOn.push(d);
      }
    }

    let gate: GateType | null = null;
    const rawGate = nonEmptyString(entry.gate);
    if (rawGate !== null) {
      const upper = rawGate.toUpperCase();
      if (!isGateType(upper)) return null;
      gate = upper;
    }

    dag.push({ node_id: nodeId, title, agent: agent.toLowerCase(), depends_on: dependsOn, gate, status: "pending" });
  }
  return dag;
}
