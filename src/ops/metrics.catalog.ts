/**
 * The metric families served by GET /metrics (Prometheus text exposition 0.0.4): names, types,
 * help texts, label sets and histogram buckets, and the canonical label encoding shared by the
 * writers (metrics.events.ts, the request observer, the dead-letter guard) and the renderer
 * (metrics.exposition.ts). Pure data; imports nothing.
 */

export type MetricType = "counter" | "gauge" | "histogram";

export interface MetricFamily {
  name: string;
  type: MetricType;
  help: string;
  /** Histogram upper bounds in seconds, ascending (+Inf is implicit). */
  buckets?: readonly number[];
  /** Series printed with value 0 when nothing was recorded yet (so alerts see 0, not absence). */
  zeroSeries?: readonly Labels[];
}

export type Labels = Readonly<Record<string, string>>;

const TICK_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;
const NODE_BUCKETS = [0.1, 0.5, 1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600] as const;

/** Build statuses (SPEC §4.6), the label values of `clarity_builds`. */
const STATUSES = ["pending", "running", "paused", "completed", "failed", "aborted"] as const;

/** Node failure modes (`clarity_node_failures_total{mode}`), a closed set. */
export const FAILURE_MODES = [
  "runner_error", // the runner (or the simulated runner) reported the node failed
  "timeout", // the node's deadline passed (http deadline, planner node timeout)
  "heartbeat_missed", // an http runner stopped heartbeating
  "dispatch", // the dispatch to the runner service was rejected or failed
  "policy_denied", // the execution-policy pre-check denied the node
  "fault_injected", // development/test fault injection (issue 9)
] as const;
export type FailureMode = (typeof FAILURE_MODES)[number];

export const METRIC_FAMILIES = {
  builds: {
    name: "clarity_builds",
    type: "gauge",
    help: "Builds by current status (moved by each status transition).",
    zeroSeries: STATUSES.map((status) => ({ status })),
  },
  buildsCreated: { name: "clarity_builds_created_total", type: "counter", help: "Builds created.", zeroSeries: [{}] },
  buildsFinished: {
    name: "clarity_builds_finished_total",
    type: "counter",
    help: "BUILD_FINISHED events by final status (completed, failed, aborted).",
  },
  tickDuration: {
    name: "clarity_tick_duration_seconds",
    type: "histogram",
    help: "Wall time of one BuildRunner alarm tick (load, decide, D1 batch).",
    buckets: TICK_BUCKETS,
  },
  tickFailures: {
    name: "clarity_tick_failures_total",
    type: "counter",
    help: "Alarm ticks that threw (retried by the runtime; dead-lettered when they keep failing).",
    zeroSeries: [{}],
  },
  nodeDuration: {
    name: "clarity_node_duration_seconds",
    type: "histogram",
    help: "Duration of node executions (RUNNER_RESULT) by runner and status.",
    buckets: NODE_BUCKETS,
  },
  nodeFailures: {
    name: "clarity_node_failures_total",
    type: "counter",
    help: "Failed node executions by failure mode.",
  },
  taskRetries: {
    name: "clarity_task_retries_total",
    type: "counter",
    help: "Node retries scheduled (TASK_RETRY_SCHEDULED).",
    zeroSeries: [{}],
  },
  fallbacks: {
    name: "clarity_fallbacks_total",
    type: "counter",
    help: "Deterministic fallbacks applied (FALLBACK_MODE_SWITCHED).",
    zeroSeries: [{}],
  },
  fallbackRatio: {
    name: "clarity_fallback_ratio",
    type: "gauge",
    help:
      "Fallbacks per created build since metrics began (rate over time: rate(clarity_fallbacks_total) / " +
      "rate(clarity_builds_created_total)).",
  },
  gateFailures: {
    name: "clarity_gate_failures_total",
    type: "counter",
    help: "Gate decisions with status FAIL by gate.",
  },
  webhookRejections: {
    name: "clarity_webhook_rejections_total",
    type: "counter",
    help: "Rejected signed deliveries (webhook ingest, runner callbacks) by route and reason (problem code).",
  },
  idempotentReplays: {
    name: "clarity_idempotent_replays_total",
    type: "counter",
    help:
      "Replayed idempotent requests by route: Idempotency-Key replays and idempotent checkpoints answered " +
      "replayed.",
  },
  rateLimitHits: {
    name: "clarity_rate_limit_hits_total",
    type: "counter",
    help: "Requests answered 429 rate_limited, by route.",
  },
  deadLettersOpen: {
    name: "clarity_dead_letters",
    type: "gauge",
    help: "Builds currently dead-lettered (open).",
    zeroSeries: [{}],
  },
  deadLettered: {
    name: "clarity_dead_lettered_total",
    type: "counter",
    help: "Builds moved to dead letters.",
    zeroSeries: [{}],
  },
  deadLetterRedrives: {
    name: "clarity_dead_letter_redrives_total",
    type: "counter",
    help: "Dead-lettered builds re-driven by an operator.",
    zeroSeries: [{}],
  },
} as const satisfies Record<string, MetricFamily>;

export type FamilyKey = keyof typeof METRIC_FAMILIES;

/** Escapes a label value for the text format: backslash, double quote and line feed. */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

/** The canonical label set: sorted by name, `name="value"` joined by commas; '' for none. */
export function encodeLabels(labels: Labels): string {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}="${escapeLabelValue(labels[k] ?? "")}"`)
    .join(",");
}

/** Prometheus `le` label value of a bucket bound (`+Inf` for the overflow bucket). */
export function formatBound(bound: number): string {
  return Number.isFinite(bound) ? String(bound) : "+Inf";
}

/** One increment of one stored series. */
export interface CounterIncrement {
  /** '' for deployment-wide series. */
  tenant: string;
  /** Stored series name (histograms: `<name>_bucket` with `le`, `<name>_sum`, `<name>_count`). */
  name: string;
  labels: Labels;
  value: number;
}

export function counter(tenant: string, family: FamilyKey, labels: Labels = {}, value = 1): CounterIncrement {
  return { tenant, name: METRIC_FAMILIES[family].name, labels, value };
}

/** The three stored series one histogram observation moves (non-cumulative bucket, sum, count). */
export function observation(
  tenant: string,
  family: "tickDuration" | "nodeDuration",
  seconds: number,
  labels: Labels = {},
): CounterIncrement[] {
  const f = METRIC_FAMILIES[family];
  const v = Number.isFinite(seconds) && seconds > 0 ? seconds : 0;
  const bound = f.buckets.find((b) => v <= b) ?? Number.POSITIVE_INFINITY;
  return [
    { tenant, name: `${f.name}_bucket`, labels: { ...labels, le: formatBound(bound) }, value: 1 },
    { tenant, name: `${f.name}_sum`, labels, value: v },
    { tenant, name: `${f.name}_count`, labels, value: 1 },
  ];
}

/** Sums increments of the same series, so one batch writes each row once. */
export function mergeIncrements(incs: readonly CounterIncrement[]): CounterIncrement[] {
  const merged = new Map<string, CounterIncrement>();
  for (const inc of incs) {
    const key = `${inc.tenant}\u0000${inc.name}\u0000${encodeLabels(inc.labels)}`;
    const prev = merged.get(key);
    if (prev) prev.value += inc.value;
    else merged.set(key, { ...inc });
  }
  return [...merged.values()].filter((i) => i.value !== 0);
}
