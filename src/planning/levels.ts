/**
 * Topological "waves" of a build DAG (SPEC §4.5). Pure: used by the planner at creation and
 * preview, and by the run machine whenever a DAG is replaced (replan, fallback). Failures are
 * the `invalid_dag` messages of SPEC §4.4 step 3.
 */
import { AppError } from "../kernel/errors";

/** The only node fields level computation reads. */
export interface LevelNode {
  node_id: string;
  depends_on: readonly string[];
}

/** Non-throwing result: `message` is one of the `invalid_dag` messages below. */
export type LevelsResult = { ok: true; levels: string[][] } | { ok: false; message: string };

/** The `invalid_dag` messages, exactly as SPEC §4.4 step 3. */
export const DAG_CYCLE_DETECTED = "dag_cycle_detected";
export const missingDependency = (dep: string): string => `missing_dependency:${dep}`;
export const duplicateNodeId = (id: string): string => `duplicate_node_id:${id}`;
export const selfDependency = (id: string): string => `self_dependency:${id}`;

/**
 * Computes the levels of a DAG without throwing. Checks run in SPEC order: duplicate ids over the
 * whole list first, then per node (in list order) self-dependency before unknown dependencies,
 * then Kahn's algorithm; every level is sorted lexicographically.
 */
export function tryComputeLevels(nodes: readonly LevelNode[]): LevelsResult {
  const ids = new Set<string>();
  for (const node of nodes) {
    if (ids.has(node.node_id)) return { ok: false, message: duplicateNodeId(node.node_id) };
    ids.add(node.node_id);
  }

  for (const node of nodes) {
    if (node.depends_on.includes(node.node_id)) return { ok: false, message: selfDependency(node.node_id) };
    for (const dep of node.depends_on) {
      if (!ids.has(dep)) return { ok: false, message: missingDependency(dep) };
    }
  }

  // Remaining (distinct) dependency count per node, and the reverse edges.
  const remaining = new Map<string, number>();
  const dependents = new Map<string, string[]>();
  for (const node of nodes) {
    const deps = new Set(node.depends_on);
    remaining.set(node.node_id, deps.size);
    for (const dep of deps) {
      const list = dependents.get(dep);
      if (list) list.push(node.node_id);
      else dependents.set(dep, [node.node_id]);
    }
  }

  const levels: string[][] = [];
  let current = nodes.filter((n) => remaining.get(n.node_id) === 0).map((n) => n.node_id);
  let placed = 0;
  while (current.length > 0) {
    current.sort(compareIds);
    levels.push(current);
    placed += current.length;
    const next: string[] = [];
    for (const id of current) {
      for (const child of dependents.get(id) ?? []) {
        const left = (remaining.get(child) ?? 0) - 1;
        remaining.set(child, left);
        if (left === 0) next.push(child);
      }
    }
    current = next;
  }

  if (placed !== nodes.length) return { ok: false, message: DAG_CYCLE_DETECTED };
  return { ok: true, levels };
}

/**
 * Computes the levels of a DAG (SPEC §4.5).
 * @throws AppError("invalid_dag", message) with one of the SPEC §4.4 step 3 messages.
 */
export function computeLevels(nodes: readonly LevelNode[]): string[][] {
  const result = tryComputeLevels(nodes);
  if (!result.ok) throw new AppError("invalid_dag", result.message);
  return result.levels;
}

/** Maps each node id to the index of its level. */
export function levelIndex(levels: readonly (readonly string[])[]): Map<string, number> {
  const index = new Map<string, number>();
  levels.forEach((level, i) => {
    for (const id of level) index.set(id, i);
  });
  return index;
}

// Plain code-unit order, not localeCompare: levels must be identical on every runtime/locale.
function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
