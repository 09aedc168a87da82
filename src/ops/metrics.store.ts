/**
 * Writing and reading metric series in D1 (`ops_counters`): upsert statements for a write batch
 * (the BuildRunner adds them to its fenced batch) and a per-isolate coalescing writer for
 * counters moved by requests (rate-limit hits, idempotent replays, webhook rejections).
 */
import type { Db } from "../kernel/env";
import { isoTimestamp } from "../lib/ids";
import { type CounterIncrement, encodeLabels, mergeIncrements } from "./metrics.catalog";
import { logLine } from "../kernel/log";

const UPSERT_COUNTER = `INSERT INTO ops_counters (tenant_id, name, labels, value, updated_at)
  VALUES (?1, ?2, ?3, ?4, ?5)
  ON CONFLICT (tenant_id, name, labels) DO UPDATE SET value = value + excluded.value, updated_at = excluded.updated_at`;

/** One upsert per series, `value = value + increment`, as plain D1 statements (a build's batch is on the binding). */
export function counterUpserts(
  d1: D1Database,
  incs: readonly CounterIncrement[],
  now = isoTimestamp(Date.now()),
): D1PreparedStatement[] {
  return mergeIncrements(incs).map((i) =>
    d1.prepare(UPSERT_COUNTER).bind(i.tenant, i.name, encodeLabels(i.labels), i.value, now),
  );
}

/**
 * Upserts for series of a build's tenant, resolved in SQL from the build row (the caller does not
 * know the tenant, e.g. the alarm guard before the build is loaded). No row, no increment.
 * Plain D1 statements: they run in their own batch, outside any drizzle batch.
 */
export function buildCounterStatements(
  d1: D1Database,
  buildId: string,
  incs: readonly Omit<CounterIncrement, "tenant">[],
  now = isoTimestamp(Date.now()),
): D1PreparedStatement[] {
  return mergeIncrements(incs.map((i) => ({ ...i, tenant: "" }))).map((i) =>
    d1
      .prepare(
        `INSERT INTO ops_counters (tenant_id, name, labels, value, updated_at)
         SELECT tenant_id, ?1, ?2, ?3, ?4 FROM builds WHERE build_id = ?5
         ON CONFLICT (tenant_id, name, labels) DO UPDATE SET value = value + excluded.value,
           updated_at = excluded.updated_at`,
      )
      .bind(i.name, encodeLabels(i.labels), i.value, now, buildId),
  );
}

// ---- request-path writer ----------------------------------------------------------------------
// Requests that move a counter enqueue here; one drain per isolate writes everything queued in
// one batch, then whatever arrived meanwhile. Under a flood (e.g. rejected webhooks) that is at
// most one D1 write in flight per isolate, never one per request.

const pending = new Map<string, CounterIncrement>();
let draining: { started: number } | null = null;
/** A drain older than this is presumed dead (its request context was cancelled); start anew. */
const STALE_DRAIN_MS = 20_000;

async function drain(db: Db): Promise<void> {
  try {
    while (pending.size > 0) {
      const incs = [...pending.values()];
      pending.clear();
      const stmts = counterUpserts(db.$client, incs);
      try {
        if (stmts.length > 0) await db.$client.batch(stmts);
      } catch (err) {
        // Metrics never fail a request; a lost increment is logged, not retried in a loop.
        logLine("warn", "metrics_write_failed", { series: incs.length, error: err });
      }
    }
  } finally {
    draining = null;
  }
}

/**
 * Queues counter increments and makes sure a drain runs; `background` keeps the request's
 * context alive until the write finished (ctx.waitUntil).
 */
export function recordCounters(
  db: Db,
  incs: readonly CounterIncrement[],
  background: (p: Promise<unknown>) => void,
): void {
  for (const inc of mergeIncrements(incs)) {
    const key = `${inc.tenant}\u0000${inc.name}\u0000${encodeLabels(inc.labels)}`;
    const prev = pending.get(key);
    if (prev) prev.value += inc.value;
    else pending.set(key, { ...inc });
  }
  const now = Date.now();
  if (draining && now - draining.started < STALE_DRAIN_MS) return;
  draining = { started: now };
  background(drain(db));
}
