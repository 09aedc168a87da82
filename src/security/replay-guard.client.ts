/**
 * How the Worker reaches the ReplayGuard: shard selection by key hash, a timeout and one retry
 * for transient Durable Object errors, and fail-closed conversion of any failure to 503
 * `coordination_unavailable`. Also the KV edge cache in front of it (fast reject of known
 * replays, cached completed responses) — KV only ever short-circuits to a rejection or a replay
 * of something the guard already decided, never to an acceptance.
 *
 * Test seam: the guard is reached only through `env.REPLAY_GUARD`; a test passes the worker an
 * env whose REPLAY_GUARD is absent or throws to simulate an outage (test/security/helpers.ts).
 * There is no flag that could switch the guard off in a deployment.
 */
import { z } from "zod";
import type { Config } from "../kernel/env";
import { AppError } from "../kernel/errors";
import { sha256Hex } from "../lib/crypto";
import { cacheKey, kvGet, kvPut } from "../lib/kv-cache";
import { withTimeout } from "../lib/timeout";
import type { ReplayGuard } from "./replay-guard.do";
import {
  type ClaimOutcome,
  type GuardResult,
  type StoredResponse,
  StoredResponseSchema,
  shardOf,
} from "./replay-guard";

export interface ReplayGuardClient {
  claim(key: string, token: string, fingerprint: string, lockMs: number): Promise<ClaimOutcome>;
  complete(key: string, token: string, ttlMs: number, response: StoredResponse | null): Promise<GuardResult>;
  release(key: string, token: string): Promise<GuardResult>;
}

/** The guard key for a scoped key: SHA-256 hex (raw nonces and idempotency keys are never stored). */
export function guardKey(...scope: string[]): Promise<string> {
  return sha256Hex(scope.map((s) => `${s.length}:${s}`).join("|"));
}

export function newClaimToken(): string {
  return crypto.randomUUID();
}

function unavailable(cause: unknown): AppError {
  return new AppError("coordination_unavailable", "Distributed coordination unavailable in fail-closed mode.", {
    cause,
  });
}

function isRetryable(err: unknown): boolean {
  if (typeof err !== "object" || err === null) return false;
  const e = err as { retryable?: unknown; overloaded?: unknown };
  return e.retryable === true && e.overloaded !== true;
}

/** The ReplayGuard client; every failure (missing binding, DO error, timeout) → 503, fail-closed. */
export function replayGuard(env: Env, config: Config): ReplayGuardClient {
  const call = async <T>(key: string, fn: (stub: DurableObjectStub<ReplayGuard>) => Promise<T>): Promise<T> => {
    const attempt = () => {
      const ns = env.REPLAY_GUARD;
      const stub = ns.get(ns.idFromName(`shard-${shardOf(key, config.REPLAY_GUARD_SHARDS)}`));
      return withTimeout(() => fn(stub), config.REPLAY_GUARD_TIMEOUT_MS, "replay guard");
    };
    try {
      try {
        return await attempt();
      } catch (err) {
        // Claims carry the caller's token, so a retry after a lost answer is idempotent.
        if (!isRetryable(err)) throw err;
        return await attempt();
      }
    } catch (err) {
      throw unavailable(err);
    }
  };
  return {
    claim: (key, token, fingerprint, lockMs) =>
      call<ClaimOutcome>(key, async (s) => await s.claim({ key, token, fingerprint, lock_ms: lockMs })),
    complete: (key, token, ttlMs, response) =>
      call<GuardResult>(key, async (s) => await s.complete({ key, token, ttl_ms: ttlMs, response })),
    release: (key, token) => call<GuardResult>(key, async (s) => await s.release({ key, token })),
  };
}

// ---------------------------------------------------------------------------------------------
// KV edge cache (never the decider)
// ---------------------------------------------------------------------------------------------

const SeenSchema = z.object({ seen: z.literal(true) });
const CompletedSchema = z.object({ fingerprint: z.string(), response: StoredResponseSchema });

/** True when KV already knows this key was used (a fast 409 without asking the guard). */
export async function knownReplay(env: Env, key: string): Promise<boolean> {
  return (await kvGet(env.CACHE, cacheKey("replay", key), SeenSchema)) !== null;
}

export function rememberReplay(env: Env, key: string, ttlSeconds: number): Promise<void> {
  return kvPut(env.CACHE, cacheKey("replay", key), { seen: true }, ttlSeconds);
}

/** A completed idempotent response cached at the edge, or null. */
export function cachedCompletion(env: Env, key: string): Promise<z.infer<typeof CompletedSchema> | null> {
  return kvGet(env.CACHE, cacheKey("idem", key), CompletedSchema);
}

export function cacheCompletion(
  env: Env,
  key: string,
  fingerprint: string,
  response: StoredResponse,
  ttlSeconds: number,
): Promise<void> {
  return kvPut(env.CACHE, cacheKey("idem", key), { fingerprint, response }, ttlSeconds);
}
