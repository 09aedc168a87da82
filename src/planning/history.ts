/**
 * Build history summarised into plain data for the planner policy engine. Pure: the service reads
 * the rows (planning.repo.ts: the last N finished builds of one repo_url in a tenant, their nodes
 * and task runs) and this module turns them into per-node and per-agent failure/retry rates,
 * fallback frequency and durations.
 */
import { ADAPTIVE_BASE_NODES, DETERMINISTIC_NODES, STATIC_V1_NODES } from "./planner";
import { parseTimestamp } from "../lib/ids";

export interface HistoryBuildRow {
  buildId: string;
  status: string;
  metadata: Record<string, unknown>;
  createdAt: string;
  updatedAt: string;
}
export interface HistoryNodeRow {
  buildId: string;
  nodeId: string;
  agent: string;
}
export interface HistoryRunRow {
  buildId: string;
  nodeId: string;
  attempt: number;
  status: string;
  startedAt: string;
  finishedAt: string | null;
}

/** Failure statistics of one node id (or one agent) over the builds that ran it. */
export interface NodeStats {
  /** Builds in which the node (agent) ran at least once. */
  builds: number;
  /** … of which at least one attempt failed (whether or not a retry then succeeded). */
  failed_builds: number;
  failure_rate: number;
  /** … of which the node needed more than one attempt. */
  retried_builds: number;
  /** Mean highest attempt per build. */
  avg_attempts: number;
  /** Completed-run durations: 95th percentile (nearest rank) and maximum, or null without any. */
  p95_duration_ms: number | null;
  max_duration_ms: number | null;
}

export interface HistorySummary {
  /** Finished builds considered (newest first, at most the policy's window). */
  builds_considered: number;
  completed: number;
  failed: number;
  aborted: number;
  /** (failed + aborted) / builds_considered, 0 without builds. */
  build_failure_rate: number;
  /** Builds whose runtime fell back to the deterministic DAG. */
  fallback_builds: number;
  fallback_rate: number;
  median_build_duration_ms: number | null;
  nodes: Record<string, NodeStats>;
  agents: Record<string, NodeStats>;
}

export const EMPTY_HISTORY: HistorySummary = {
  builds_considered: 0,
  completed: 0,
  failed: 0,
  aborted: 0,
  build_failure_rate: 0,
  fallback_builds: 0,
  fallback_rate: 0,
  median_build_duration_ms: null,
  nodes: {},
  agents: {},
};

/**
 * Agents of node ids that a fallback removed from build_nodes (the deterministic DAG replaces the
 * original one): the built-in templates' ids. Unknown ids then only count per node, not per agent.
 */
const TEMPLATE_AGENTS: ReadonlyMap<string, string> = new Map([
  ...[...STATIC_V1_NODES, ...ADAPTIVE_BASE_NODES, ...DETERMINISTIC_NODES].map((n): [string, string] => [
    n.node_id,
    n.agent,
  ]),
  ["data-boundary-review", "security"],
  ["scale-readiness-check", "builder"],
]);

function templateAgent(nodeId: string): string | undefined {
  return TEMPLATE_AGENTS.get(nodeId) ?? (nodeId.startsWith("flow-guard-") ? "builder" : undefined);
}

interface Acc {
  builds: Set<string>;
  failed: Set<string>;
  retried: Set<string>;
  maxAttempt: Map<string, number>;
  durations: number[];
}

const newAcc = (): Acc => ({
  builds: new Set(),
  failed: new Set(),
  retried: new Set(),
  maxAttempt: new Map(),
  durations: [],
});

function ratio(n: number, d: number): number {
  return d === 0 ? 0 : Math.round((n / d) * 10_000) / 10_000;
}

/** Nearest-rank percentile of a non-empty sorted list. */
function percentile(sorted: readonly number[], p: number): number {
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1));
  return sorted[idx] ?? 0;
}

function finish(acc: Acc): NodeStats {
  const attempts = [...acc.maxAttempt.values()];
  const sorted = [...acc.durations].sort((a, b) => a - b);
  return {
    builds: acc.builds.size,
    failed_builds: acc.failed.size,
    failure_rate: ratio(acc.failed.size, acc.builds.size),
    retried_builds: acc.retried.size,
    avg_attempts:
      attempts.length === 0 ? 0 : Math.round((attempts.reduce((a, b) => a + b, 0) / attempts.length) * 100) / 100,
    p95_duration_ms: sorted.length === 0 ? null : percentile(sorted, 0.95),
    max_duration_ms: sorted.length === 0 ? null : (sorted[sorted.length - 1] ?? null),
  };
}

function add(acc: Acc, run: HistoryRunRow): void {
  acc.builds.add(run.buildId);
  if (run.status === "failed") acc.failed.add(run.buildId);
  if (run.attempt > 1) acc.retried.add(run.buildId);
  acc.maxAttempt.set(run.buildId, Math.max(acc.maxAttempt.get(run.buildId) ?? 0, run.attempt));
  if (run.status === "completed" && run.finishedAt !== null) {
    const ms = parseTimestamp(run.finishedAt) - parseTimestamp(run.startedAt);
    if (Number.isFinite(ms) && ms >= 0) acc.durations.push(ms);
  }
}

/** Summarises the rows of the last finished builds of one repository (pure). */
export function summariseHistory(
  builds: readonly HistoryBuildRow[],
  nodes: readonly HistoryNodeRow[],
  runs: readonly HistoryRunRow[],
): HistorySummary {
  if (builds.length === 0) return { ...EMPTY_HISTORY, nodes: {}, agents: {} };
  const considered = new Set(builds.map((b) => b.buildId));
  const agentOf = new Map<string, string>();
  for (const n of nodes) agentOf.set(`${n.buildId}\u0000${n.nodeId}`, n.agent);

  const perNode = new Map<string, Acc>();
  const perAgent = new Map<string, Acc>();
  for (const run of runs) {
    if (!considered.has(run.buildId)) continue;
    const nodeAcc = perNode.get(run.nodeId) ?? newAcc();
    perNode.set(run.nodeId, nodeAcc);
    add(nodeAcc, run);
    const agent = agentOf.get(`${run.buildId}\u0000${run.nodeId}`) ?? templateAgent(run.nodeId);
    if (agent !== undefined) {
      const agentAcc = perAgent.get(agent) ?? newAcc();
      perAgent.set(agent, agentAcc);
      add(agentAcc, run);
    }
  }

  const count = (status: string) => builds.filter((b) => b.status === status).length;
  const failed = count("failed");
  const aborted = count("aborted");
  const fallbacks = builds.filter((b) => b.metadata.fallback_applied === true).length;
  const durations = builds
    .map((b) => parseTimestamp(b.updatedAt) - parseTimestamp(b.createdAt))
    .filter((ms) => Number.isFinite(ms) && ms >= 0)
    .sort((a, b) => a - b);

  const sortedRecord = (m: Map<string, Acc>) =>
    Object.fromEntries([...m.keys()].sort().map((k) => [k, finish(m.get(k) ?? newAcc())]));

  return {
    builds_considered: builds.length,
    completed: count("completed"),
    failed,
    aborted,
    build_failure_rate: ratio(failed + aborted, builds.length),
    fallback_builds: fallbacks,
    fallback_rate: ratio(fallbacks, builds.length),
    median_build_duration_ms: durations.length === 0 ? null : percentile(durations, 0.5),
    nodes: sortedRecord(perNode),
    agents: sortedRecord(perAgent),
  };
}
