/**
 * ReplayGuard pure core: the claim record, RPC input schemas and the decisions behind the
 * ReplayGuard Durable Object (claim / complete / release with TTL). Used for webhook nonces and
 * delivery ids, Idempotency-Key records and idempotent checkpoints. No I/O here.
 *
 * A claim is `pending` (in flight, blocks others until `lock_ms` passes, so a crashed request
 * cannot hold a key for a whole TTL) and becomes `done` on `complete` (kept `ttl_ms`, with the
 * stored response for idempotent replays). Claim tokens are chosen by the caller, so retrying a
 * claim whose answer was lost recognises itself instead of reporting a conflict.
 */
import { z } from "zod";

/** An HTTP response kept for idempotent replay. `body` is null when it was too large to keep. */
export const StoredResponseSchema = z.object({
  status: z.number().int().min(100).max(599),
  headers: z.record(z.string(), z.string()),
  body: z.string().nullable(),
});
export type StoredResponse = z.infer<typeof StoredResponseSchema>;

/** Keys reach the guard as SHA-256 hex of the scoped key (raw nonces/keys are never stored). */
const KeySchema = z.string().regex(/^[0-9a-f]{64}$/);
const TokenSchema = z.string().min(8).max(64);
const MAX_MS = 7 * 24 * 3600 * 1000;

export const ClaimInputSchema = z.object({
  key: KeySchema,
  token: TokenSchema,
  /** Digest of the request payload; a different payload under the same key is a conflict. */
  fingerprint: z.string().max(128),
  /** How long a pending claim blocks the key before it may be taken over. */
  lock_ms: z.number().int().min(1).max(MAX_MS),
});
export type ClaimInput = z.infer<typeof ClaimInputSchema>;

export const CompleteInputSchema = z.object({
  key: KeySchema,
  token: TokenSchema,
  /** How long the completed record (and its response) is kept. */
  ttl_ms: z.number().int().min(1).max(MAX_MS),
  response: StoredResponseSchema.nullable(),
});
export type CompleteInput = z.infer<typeof CompleteInputSchema>;

export const ReleaseInputSchema = z.object({ key: KeySchema, token: TokenSchema });
export type ReleaseInput = z.infer<typeof ReleaseInputSchema>;

export const ClaimRecordSchema = z.object({
  key: KeySchema,
  token: z.string(),
  fingerprint: z.string(),
  state: z.enum(["pending", "done"]),
  response: StoredResponseSchema.nullable(),
  expires_at: z.number(),
});
export type ClaimRecord = z.infer<typeof ClaimRecordSchema>;

/** What a claim found. `claimed` = the caller now owns the key. */
export type ClaimOutcome =
  | { outcome: "claimed" }
  | { outcome: "pending"; same_fingerprint: boolean }
  | { outcome: "done"; same_fingerprint: boolean; response: StoredResponse | null; expires_at: number };

/** Expected failures at the RPC boundary: the caller's pending claim expired and was taken over. */
export type GuardResult = { ok: true } | { ok: false; code: "claim_lost" };

function live(record: ClaimRecord | null, now: number): ClaimRecord | null {
  return record !== null && record.expires_at > now ? record : null;
}

/** Decides a claim; `write` is the record to store (null = nothing changes). */
export function decideClaim(
  existing: ClaimRecord | null,
  input: ClaimInput,
  now: number,
): { outcome: ClaimOutcome; write: ClaimRecord | null } {
  const current = live(existing, now);
  if (current === null) {
    return {
      outcome: { outcome: "claimed" },
      write: {
        key: input.key,
        token: input.token,
        fingerprint: input.fingerprint,
        state: "pending",
        response: null,
        expires_at: now + input.lock_ms,
      },
    };
  }
  const same = current.fingerprint === input.fingerprint;
  if (current.token === input.token) {
    // A retried claim of our own: idempotent.
    return {
      outcome:
        current.state === "pending"
          ? { outcome: "claimed" }
          : { outcome: "done", same_fingerprint: same, response: current.response, expires_at: current.expires_at },
      write: null,
    };
  }
  if (current.state === "pending") return { outcome: { outcome: "pending", same_fingerprint: same }, write: null };
  return {
    outcome: { outcome: "done", same_fingerprint: same, response: current.response, expires_at: current.expires_at },
    write: null,
  };
}

/** Marks the caller's pending claim done (idempotent for the same token). */
export function decideComplete(
  existing: ClaimRecord | null,
  input: CompleteInput,
  now: number,
): { result: GuardResult; write: ClaimRecord | null } {
  const current = live(existing, now);
  if (current === null || current.token !== input.token)
    return { result: { ok: false, code: "claim_lost" }, write: null };
  if (current.state === "done") return { result: { ok: true }, write: null };
  return {
    result: { ok: true },
    write: { ...current, state: "done", response: input.response, expires_at: now + input.ttl_ms },
  };
}

/** Whether the caller's pending claim may be dropped (a done record is never released). */
export function mayRelease(existing: ClaimRecord | null, input: ReleaseInput): boolean {
  return existing !== null && existing.token === input.token && existing.state === "pending";
}

/** Shard of a key: the first 32 bits of its SHA-256 hex modulo the shard count. */
export function shardOf(keyHex: string, shards: number): number {
  return Number.parseInt(keyHex.slice(0, 8), 16) % Math.max(1, shards);
}
