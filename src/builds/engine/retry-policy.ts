/**
 * Retry policy as data (STYLE §10, DESIGN §4 "Retries"): the backoff of a failed node and its
 * retry budget. Pure; used by the failure handling of a tick (engine/failure.ts).
 */
/** Retry policy as data (STYLE §10). Delay = min(max, initial · multiplier^(attempt-1)) ± jitter. */
export interface RetryPolicy { initial_interval_ms: number; multiplier: number; max_interval_ms: number; jitter: number }
export const DEFAULT_RETRY_POLICY: RetryPolicy = { initial_interval_ms: 1000, multiplier: 2, max_interval_ms: 30_000, jitter: 0.2 };

export function retryPolicyFrom(metadata: Record<string, unknown>): RetryPolicy {
  const raw = metadata.retry_policy;
  const o = raw !== null && typeof raw === "object" && !Array.isArray(raw) ? (raw as Record<string, unknown>) : {};
  const num = (v: unknown, def: number, min: number, max: number) =>
    typeof v === "number" && Number.isFinite(v) ? Math.min(max, Math.max(min, v)) : def;
  return {
    initial_interval_ms: num(o.initial_interval_ms, DEFAULT_RETRY_POLICY.initial_interval_ms, 0, 3_600_000),
    multiplier: num(o.multiplier, DEFAULT_RETRY_POLICY.multiplier, 1, 10),
    max_interval_ms: num(o.max_interval_ms, DEFAULT_RETRY_POLICY.max_interval_ms, 0, 3_600_000),
    jitter: num(o.jitter, DEFAULT_RETRY_POLICY.jitter, 0, 1),
  };
}

/** Backoff before attempt `attempt + 1`; `rand` in [0,1) makes it testable. */
export function retryDelayMs(policy: RetryPolicy, attempt: number, rand: number): number {
  const base = Math.min(policy.max_interval_ms, policy.initial_interval_ms * policy.multiplier ** Math.max(0, attempt - 1));
  const spread = base * policy.jitter;
  return Math.max(0, Math.round(base - spread + 2 * spread * rand));
}

/**
 * Retry budget of a node: `metadata.node_retry_budgets[node]` (set by the planner policy) or the
 * build-wide `max_task_retries` (default 0; negatives count as 0).
 */
export function retryBudget(metadata: Record<string, unknown>, nodeId?: string): number {
  const perNode = metadata.node_retry_budgets;
  const own = nodeId !== undefined && perNode !== null && typeof perNode === "object" ? (perNode as Record<string, unknown>)[nodeId] : undefined;
  const v = Number(own ?? metadata.max_task_retries ?? 0);
  return Number.isFinite(v) ? Math.max(0, Math.floor(v)) : 0;
}
