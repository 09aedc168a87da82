/**
 * DeliveryWriter — group commit of accepted webhook deliveries into D1 (docs/DECISIONS.md, "Hot
 * paths"). One instance per deployment; the ingest path hands it each row and waits for the batch
 * that writes it, so its answer (stored / already stored under this id) is D1's own, read after
 * write holds, and the D1 unique (scheme, external_id) stays the lasting replay decider. While one
 * batch is in D1, the rows that arrive queue and go in together as the next batch (one
 * transaction, one round trip). A failed batch is retried row by row, so one bad row fails only
 * its own request. It keeps nothing in storage: a restart loses only queued rows whose requests
 * are cut off with it (their claims lapse; the senders retry).
 */
import { DurableObject } from "cloudflare:workers";
import { withoutParams } from "../lib/db-errors";
import { logLine } from "../kernel/log";
import { DeliveryRowSchema, type StoreResult, takeBatch } from "./delivery-writer";
import { type DeliveryRow, insertDeliveries } from "./webhooks.repo";

interface Queued {
  row: DeliveryRow;
  resolve(result: StoreResult): void;
}

export class DeliveryWriter extends DurableObject<Env> {
  private readonly queue: Queued[] = [];
  private writing = false;
  /** D1 batches written by this instance (tests read it: fewer batches than rows = coalesced). */
  batches = 0;

  /** Stores one delivery; resolves once the batch holding it is in D1. */
  async store(raw: DeliveryRow): Promise<StoreResult> {
    const row = DeliveryRowSchema.parse(raw);
    const result = new Promise<StoreResult>((resolve) => this.queue.push({ row, resolve }));
    void this.drain();
    return result;
  }

  private async drain(): Promise<void> {
    if (this.writing) return;
    this.writing = true;
    try {
      while (this.queue.length > 0) await this.write(takeBatch(this.queue));
    } finally {
      this.writing = false;
    }
  }

  /** Writes `batch` in one D1 batch; never throws (every row gets its result). */
  private async write(batch: Queued[]): Promise<void> {
    try {
      this.batches++;
      const stored = await insertDeliveries(
        this.env.DB,
        batch.map((q) => q.row),
      );
      batch.forEach((q, i) => q.resolve({ ok: true, stored: stored[i] === true }));
    } catch (err) {
      if (batch.length > 1) {
        for (const q of batch) await this.write([q]);
        return;
      }
      // The request path wraps this as "storing a webhook delivery failed: …" and logs it with its request id.
      const error = withoutParams(err, "D1 refused the row").message;
      logLine("error", "webhook_delivery_store_failed", { delivery_id: batch[0]?.row.deliveryId ?? null, error });
      for (const q of batch) q.resolve({ ok: false, error });
    }
  }
}
