/**
 * DeliveryWriter pure core: the RPC schema of a delivery row and how the writer cuts its queue
 * into D1 batches. No I/O here (the Durable Object is delivery-writer.do.ts).
 */
import { z } from "zod";
import type { DeliveryRow } from "./webhooks.repo";

/** One delivery row as the ingest path hands it to the writer (the RPC boundary). */
export const DeliveryRowSchema = z.object({
  deliveryId: z.string().min(1).max(64),
  scheme: z.enum(["platform", "standard", "github"]),
  externalId: z.string().min(1),
  tenantId: z.string().nullable(),
  signedAt: z.number().int(),
  receivedAt: z.string().min(1),
  contentType: z.string().max(255).nullable(),
  body: z.string(),
  bodyEncoding: z.enum(["utf8", "base64"]),
  bodyDigest: z.string().regex(/^[0-9a-f]{64}$/),
  bodyBytes: z.number().int().min(0),
  event: z.string().max(100).nullable(),
  outcome: z.enum(["build_started", "ignored", "ping"]).nullable(),
  outcomeReason: z.string().max(500).nullable(),
  buildId: z.string().max(64).nullable(),
}) satisfies z.ZodType<DeliveryRow>;

/** What the writer answers for one row: stored, already stored (a replay), or the batch failed. */
export type StoreResult = { ok: true; stored: boolean } | { ok: false; error: string };

/** Rows per D1 batch (one transaction) and the body characters one batch carries at most. */
export const BATCH_LIMITS = { rows: 50, chars: 2 * 1024 * 1024 };

/**
 * Takes the next batch off the front of `queue` (in arrival order): up to `limits.rows` rows and
 * `limits.chars` body characters, and always at least one row (a large body goes alone).
 */
export function takeBatch<T extends { row: Pick<DeliveryRow, "body"> }>(queue: T[], limits = BATCH_LIMITS): T[] {
  let n = 0;
  let chars = 0;
  while (n < queue.length && n < limits.rows) {
    const size = (queue[n] as T).row.body.length;
    if (n > 0 && chars + size > limits.chars) break;
    chars += size;
    n++;
  }
  return queue.splice(0, n);
}
