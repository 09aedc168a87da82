/**
 * Token leases of this worker isolate (rate-limit.middleware.ts): the RateLimiter DO hands out
 * up to `leaseSize(limit)` tokens at once; the isolate spends them on the next requests of the
 * same principal and route within LEASE_MS, so most requests need no limiter round trip. Only
 * one lease request per key is out at a time: a request that finds the pool empty while one is
 * out asks for its own single token (a request never waits on another request's I/O, which the
 * Workers runtime does not allow). An expired lease's tokens are dropped, never returned, so the
 * limiter stays the only source of tokens and leasing never admits more than the bucket holds.
 */
import { type HitResult, LEASE_MS } from "./rate-limit";

interface Lease {
  tokens: number;
  until: number;
  /** No token before this instant (the limiter's last denial): later requests are denied here. */
  deniedUntil: number;
  /** A lease request (want > 1) is out. */
  leasing: boolean;
}

const MAX_LEASES = 10_000;
const leases = new Map<string, Lease>();

function evict(now: number): void {
  for (const [k, l] of leases) if (l.until <= now && l.deniedUntil <= now && !l.leasing) leases.delete(k);
  if (leases.size >= MAX_LEASES) leases.clear();
}

/**
 * One request's token for `key`: from this isolate's lease when it has one, else from `hit`
 * (asking for `want` tokens and keeping the extra ones, or for one while a lease request is out).
 * A denial is remembered until its retry-after: the bucket cannot refill sooner.
 */
export async function leasedHit(
  key: string,
  want: number,
  hit: (want: number) => Promise<HitResult>,
  clock: () => number = Date.now,
): Promise<HitResult> {
  const now = clock();
  let lease = leases.get(key);
  if (!lease) {
    if (leases.size >= MAX_LEASES) evict(now);
    lease = { tokens: 0, until: 0, deniedUntil: 0, leasing: false };
    leases.set(key, lease);
  }
  if (lease.until > now && lease.tokens >= 1) {
    lease.tokens -= 1;
    return { allowed: true, granted: 1, remaining: lease.tokens, retry_after_ms: 0 };
  }
  if (lease.deniedUntil > now)
    return { allowed: false, granted: 0, remaining: 0, retry_after_ms: lease.deniedUntil - now };
  const asLease = want > 1 && !lease.leasing;
  if (asLease) lease.leasing = true;
  let res: HitResult;
  try {
    res = await hit(asLease ? want : 1);
  } finally {
    if (asLease) lease.leasing = false;
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
