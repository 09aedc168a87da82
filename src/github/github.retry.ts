/**
 * Retry policy of reports to GitHub (issue 21) as data: exponential backoff (× 3) from 30 s, capped at
 * one hour (about three hours in all), at most 8 attempts; a non-retryable failure (4xx other than
 * 408/429, no token) is dead-lettered at once. Pure.
 */

export const REPORT_RETRY = {
  maxAttempts: 8,
  initialIntervalMs: 30_000,
  backoff: 3,
  maxIntervalMs: 3_600_000,
} as const;

/** One attempt's result. */
export type Attempt = { ok: true } | { ok: false; retryable: boolean; error: string };

/** The row's next state after the `attempts`-th attempt failed at `now`. */
export function afterFailure(
  attempts: number,
  now: number,
  failure: { retryable: boolean },
  policy: typeof REPORT_RETRY = REPORT_RETRY,
): { state: "pending" | "dead_lettered"; nextAttemptAt: number } {
  if (!failure.retryable || attempts >= policy.maxAttempts) return { state: "dead_lettered", nextAttemptAt: now };
  const delay = Math.min(policy.initialIntervalMs * policy.backoff ** (attempts - 1), policy.maxIntervalMs);
  return { state: "pending", nextAttemptAt: now + delay };
}
