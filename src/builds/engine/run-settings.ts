/**
 * Run settings read from a build's metadata: the adapter its nodes run on, their deadlines and
 * the parallelism limit. Pure; used by creation and the tick.
 */
/** Nodes of one level in flight at once: the deployment limit, lowered by `metadata.max_parallelism`. */
export function effectiveParallelism(metadata: Record<string, unknown>, limit: number): number {
  const v = Number(metadata.max_parallelism);
  return Number.isFinite(v) && v >= 1 ? Math.min(limit, Math.floor(v)) : limit;
}

/**
 * The adapter a build's nodes run on: `metadata.runner_kind: "http"` → the runner service, else
 * simulated. Creation resolves and stores the kind (`resolveRunnerKind`): http whenever a runner
 * is configured, unless the build asks for `simulated`.
 */
export function adapterOf(metadata: Record<string, unknown>): "http" | "simulated" {
  return typeof metadata.runner_kind === "string" && metadata.runner_kind.trim().toLowerCase() === "http" ? "http" : "simulated";
}

/** Deadline of a node on the http adapter: `metadata.node_timeouts_ms[node]`, else the default. */
export function nodeTimeoutMs(metadata: Record<string, unknown>, nodeId: string, fallback: number): number {
  const t = metadata.node_timeouts_ms;
  const v = t !== null && typeof t === "object" ? Number((t as Record<string, unknown>)[nodeId]) : Number.NaN;
  return Number.isFinite(v) && v > 0 ? v : fallback;
}
