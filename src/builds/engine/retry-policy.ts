/**
 * Retry policy as data (STYLE §10, DESIGN §4 "Retries"): the backoff before the next attempt of
 * a failed node. Pure; the build's policy comes from its run settings (`retry_policy`), and the
 * failure handling of a tick (engine/failure.ts) applies it.
 */

/** Delay = min(max, initial · multiplier^(attempt-1)) ± jitter. */
export interface RetryPolicy {
  initial_interval_ms: number;
  multiplier: number;
  max_interval_ms: number;
  jitter: number;
}
export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  initial_interval_ms: 1000,
  multiplier: 2,
  max_interval_ms: 30_000,
  jitter: 0.2,
};

/** Backoff before attempt `attempt + 1`; `rand` in [0,1) makes it testable. */
export function retryDelayMs(policy: RetryPolicy, attempt: number, rand: number): number {
  const base = Math.min(
    policy.max_interval_ms,
    policy.initial_interval_ms * policy.multiplier ** Math.max(0, attempt - 1),
  );
  const spread = base * policy.jitter;
  return Math.max(0, Math.round(base - spread + 2 * spread * rand));
}
