/**
 * RateLimiter — one Durable Object per principal (id = idFromName of the principal key, or the
 * client IP for signature-authenticated routes), holding that principal's token buckets per
 * route in memory. Memory is enough: an instance is only evicted after being idle, and a bucket
 * idle for a whole period is full anyway. The policy (limit, period) comes with each call; the
 * token-bucket math is the pure `takeToken` in rate-limit.ts.
 */
import { DurableObject } from "cloudflare:workers";
import { type Bucket, type HitInput, HitInputSchema, type HitResult, isIdle, takeToken } from "./rate-limit";

const MAX_BUCKETS = 1000;

export class RateLimiter extends DurableObject<Env> {
  private readonly buckets = new Map<string, Bucket & { period_ms: number }>();

  /** Takes one token from `bucket`; answers whether the request may proceed. */
  async hit(raw: HitInput): Promise<HitResult> {
    const input = HitInputSchema.parse(raw);
    const now = Date.now();
    const { bucket, result } = takeToken(this.buckets.get(input.bucket), input, now);
    // Re-inserted: the map's order is least recently used first.
    this.buckets.delete(input.bucket);
    this.buckets.set(input.bucket, { ...bucket, period_ms: input.period_ms });
    if (this.buckets.size > MAX_BUCKETS) {
      for (const [name, b] of this.buckets) if (isIdle(b, b.period_ms, now)) this.buckets.delete(name);
      // Still over (every bucket active): a hard bound, least recently used first.
      for (const name of this.buckets.keys()) {
        if (this.buckets.size <= MAX_BUCKETS) break;
        this.buckets.delete(name);
      }
    }
    return result;
  }

  /** Number of buckets held (tests: the map is bounded). */
  async size(): Promise<number> {
    return this.buckets.size;
  }
}
