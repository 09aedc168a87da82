/**
 * POST /v1/program/idempotent-checkpoints (SPEC §6.5, DESIGN §7): a build checkpoint created at
 * most once per (build_id, trimmed idempotency_key) within IDEMPOTENCY_TTL_SECONDS. Fixes the
 * reference gaps: build ownership is checked (404 before 403) before any lookup, the claim is
 * atomic in the ReplayGuard (concurrent first requests create one checkpoint; the others get 409
 * in flight), and a different `reason` under a used key is 422 `idempotency_key_reused`.
 */
import { z } from "zod";
import { authorizeBuild, type Deps } from "./builds.service";
import { createCheckpoint } from "./control.service";
import { AppError } from "../kernel/errors";
import { sha256Hex } from "../lib/crypto";
import { parseOrThrow } from "../kernel/validation";
import {
  cacheCompletion,
  cachedCompletion,
  guardKey,
  newClaimToken,
  replayGuard,
} from "../security/replay-guard.client";
import type { StoredResponse } from "../security/replay-guard";

export const IdempotentCheckpointRequest = z.object({
  build_id: z.uuid(),
  idempotency_key: z.string().max(255),
  reason: z.string().min(1).max(1000).default("idempotent_checkpoint"),
});
export type IdempotentCheckpointRequest = z.infer<typeof IdempotentCheckpointRequest>;

const StoredResult = z.object({ checkpoint_id: z.string(), status: z.string(), reason: z.string() });

function reused(): AppError {
  return new AppError(
    "idempotency_key_reused",
    "This idempotency_key was already used for this build with a different payload.",
  );
}

function replayed(stored: StoredResponse) {
  return { ...parseOrThrow(StoredResult, JSON.parse(stored.body ?? "null"), "stored checkpoint"), replayed: true };
}

export async function idempotentCheckpoint(deps: Deps, body: IdempotentCheckpointRequest) {
  const idemKey = body.idempotency_key.trim();
  if (idemKey === "") throw new AppError("invalid_idempotency_request", "idempotency_key_required");
  await authorizeBuild(deps, body.build_id);

  const key = await guardKey("checkpoint", body.build_id, idemKey);
  const fingerprint = await sha256Hex(body.reason);
  const cached = await cachedCompletion(deps.env, key);
  if (cached) {
    if (cached.fingerprint !== fingerprint) throw reused();
    return replayed(cached.response);
  }
  const cfg = deps.config;
  const guard = replayGuard(deps.env, cfg);
  const token = newClaimToken();
  const claim = await guard.claim(key, token, fingerprint, cfg.IDEMPOTENCY_LOCK_SECONDS * 1000);
  if (claim.outcome === "pending") {
    if (!claim.same_fingerprint) throw reused();
    throw new AppError(
      "idempotency_key_in_flight",
      "A checkpoint with this idempotency_key is still being created; retry shortly.",
    );
  }
  if (claim.outcome === "done") {
    if (!claim.same_fingerprint) throw reused();
    if (claim.response === null)
      throw new AppError("idempotency_key_in_flight", "The checkpoint for this idempotency_key has no stored result.");
    return replayed(claim.response);
  }

  let checkpoint: Awaited<ReturnType<typeof createCheckpoint>>;
  try {
    checkpoint = await createCheckpoint(deps, body.build_id, { reason: body.reason });
  } catch (err) {
    await guard.release(key, token).catch(() => undefined);
    throw err;
  }
  const result = { checkpoint_id: checkpoint.checkpoint_id, status: checkpoint.status, reason: checkpoint.reason };
  const stored: StoredResponse = { status: 200, headers: {}, body: JSON.stringify(result) };
  try {
    await guard.complete(key, token, cfg.IDEMPOTENCY_TTL_SECONDS * 1000, stored);
    await cacheCompletion(deps.env, key, fingerprint, stored, cfg.IDEMPOTENCY_TTL_SECONDS);
  } catch (err) {
    console.warn(
      JSON.stringify({
        level: "warn",
        msg: "idempotent_checkpoint_complete_failed",
        error: err instanceof Error ? err.message : String(err),
      }),
    );
  }
  return { ...result, replayed: false };
}
