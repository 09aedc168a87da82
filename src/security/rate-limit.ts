/**
 * Rate-limit policy and the token bucket (pure). Limits are per principal and per route key
 * (route-key.ts), expressed per minute; a bucket holds `limit` tokens and refills continuously,
 * so a burst of `limit` is allowed and then `limit` per minute. 0 means unlimited.
 */
import { z } from "zod";
import type { Config } from "../kernel/env";
import { isMutatingMethod } from "./route-key";

export const RATE_LIMIT_PERIOD_MS = 60_000;

/**
 * Built-in rules, overridable by RATE_LIMIT_RULES. Runtime nudges are never limited (SPEC §10.4
 * quirk 11): a tick is idempotent and serialised by the build's runner, and a client fallback
 * loop or watchdog must not be starved by the write limit. Signed runner callbacks are not
 * limited either: a runner host reports for many builds from one address, and throttling it
 * would stall builds.
 */
export const DEFAULT_RATE_LIMIT_RULES: Readonly<Record<string, number>> = {
  "POST /v1/builds/:id/runtime/tick": 0,
  "POST /v1/runner/callback": 0,
};

/** Per-minute limit for a route key; 0 = unlimited. Reads are unlimited unless configured. */
export function limitFor(
  config: Pick<Config, "RATE_LIMIT_RULES" | "RATE_LIMIT_WRITES_PER_MINUTE" | "RATE_LIMIT_READS_PER_MINUTE">,
  method: string,
  key: string,
): number {
  const configured = config.RATE_LIMIT_RULES?.[key];
  if (configured !== undefined) return configured;
  const builtIn = DEFAULT_RATE_LIMIT_RULES[key];
  if (builtIn !== undefined) return builtIn;
  return isMutatingMethod(method) ? config.RATE_LIMIT_WRITES_PER_MINUTE : config.RATE_LIMIT_READS_PER_MINUTE;
}

export const HitInputSchema = z.object({
  bucket: z.string().min(1).max(512),
  limit: z.number().int().min(1).max(1_000_000),
  period_ms: z.number().int().min(1000).max(86_400_000),
  /** Tokens wanted at once (a worker isolate's lease, see rate-limit.lease.ts); at least one is needed to pass. */
  want: z.number().int().min(1).max(1000).default(1),
});
export type HitInput = z.infer<typeof HitInputSchema>;

export interface Bucket {
  tokens: number;
  updated_ms: number;
}

export interface HitResult {
  allowed: boolean;
  /** Tokens taken: 1..want when allowed (one for this request, the rest leased), else 0. */
  granted: number;
  remaining: number;
  /** 0 when allowed; otherwise how long until one token is available. */
  retry_after_ms: number;
}

/** Takes up to `want` (default 1) whole tokens from the bucket (refilled since `updated_ms`); at least one to allow. */
export function takeToken(
  bucket: Bucket | undefined,
  input: Omit<HitInput, "want"> & { want?: number },
  now: number,
): { bucket: Bucket; result: HitResult } {
  const rate = input.limit / input.period_ms;
  const elapsed = bucket === undefined ? Number.POSITIVE_INFINITY : Math.max(0, now - bucket.updated_ms);
  const tokens = Math.min(input.limit, (bucket?.tokens ?? input.limit) + elapsed * rate);
  if (tokens >= 1) {
    const granted = Math.min(Math.max(1, input.want ?? 1), Math.floor(tokens));
    return {
      bucket: { tokens: tokens - granted, updated_ms: now },
      result: { allowed: true, granted, remaining: Math.floor(tokens - granted), retry_after_ms: 0 },
    };
  }
  return {
    bucket: { tokens, updated_ms: now },
    result: { allowed: false, granted: 0, remaining: 0, retry_after_ms: Math.ceil((1 - tokens) / rate) },
  };
}

/**
 * How many tokens a worker isolate leases at once for a limit: 1 below 200/min (every request
 * asks the limiter, exact), then limit/100 up to 50. A lease is used within LEASE_MS or dropped,
 * so leasing never admits more than the bucket holds; at worst an isolate forfeits one lease.
 */
export function leaseSize(limit: number): number {
  return Math.max(1, Math.min(50, Math.floor(limit / 100)));
}
export const LEASE_MS = 1000;

/** A bucket is full again (and can be forgotten) once it has been idle for a whole period. */
export function isIdle(bucket: Bucket, periodMs: number, now: number): boolean {
  return now - bucket.updated_ms >= periodMs;
}
