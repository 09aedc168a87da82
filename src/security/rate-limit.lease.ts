/**
 * Token leases of this worker isolate (rate-limit.middleware.ts): the RateLimiter DO hands out
 * up to `leaseSize(limit)` tokens at once; the isolate spends them on the next requests of the
 * same principal and route within LEASE_MS, so most requests need no limiter round trip. One
 * lease request per key is in flight at a time (others wait for it), and an expired lease's
 * tokens are dropped, never returned: the limiter stays the only source of tokens.
 */
import { type HitResult, LEASE_MS } from "./rate-limit";

interface Lease {
  tokens: number;
  until: number;
  /** No token before this instant (the limiter's last denial): later requests are denied here. */
  deniedUntil: number;
  inflight: Promise<unknown> | null;
}

const MAX_LEASES = 10_000;
const leases = new Map<string, Lease>();

function evict(now: number): void {
  for (const [k, l] of leases) if (l.until <= now && l.deniedUntil <= now && l.inflight === null) leases.delete(k);
  if (leases.size >= MAX_LEASES) leases.clear();
}

/**
 * One request's token for `key`: from this isolate's lease when it has one, else from `hit`
 * (asking for `want` tokens, keeping the extra ones as the new lease). While a lease request is
 * in flight, other requests for the key wait for it (and share its failure); a denial is
 * remembered until its retry-after, since the bucket cannot refill sooner.
 */
export async function leasedHit(key: string, want: number, hit: (want: number) => Promise<HitResult>, clock: () => number = Date.now): Promise<HitResult> {
  for (;;) {
    const now = clock();
    let lease = leases.get(key);
    if (!lease) {
      if (leases.size >= MAX_LEASES) evict(now);
      lease = { tokens: 0, until: 0, deniedUntil: 0, inflight: null };
      leases.set(key, lease);
    }
    if (lease.until > now && lease.tokens >= 1) {
      lease.tokens -= 1;
      return { allowed: true, granted: 1, remaining: lease.tokens, retry_after_ms: 0 };
    }
    if (lease.deniedUntil > now) return { allowed: false, granted: 0, remaining: 0, retry_after_ms: lease.deniedUntil - now };
    if (want > 1 && lease.inflight) {
      await lease.inflight;
      continue;
    }
    const pending = hit(want);
    lease.inflight = pending;
    let res: HitResult;
    try {
      res = await pending;
    } finally {
      if (lease.inflight === pending) lease.inflight = null;
    }
    const at = clock();
    if (!res.allowed) lease.deniedUntil = at + res.retry_after_ms;
    const extra = res.allowed ? res.granted - 1 : 0;
    if (extra > 0) {
      if (lease.until <= at) lease.tokens = 0;
      lease.tokens += extra;
      lease.until = at + LEASE_MS;
    }
    return res;
  }
}
