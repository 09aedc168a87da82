/** D1 access for `webhook_deliveries` (plain functions, typed rows). */
import { and, desc, eq, isNull, lt, or } from "drizzle-orm";
import type { Db } from "../kernel/env";
import { rowsPerStatement } from "../lib/d1-limits";
import { webhookDeliveries } from "./security.tables";

export type DeliveryRow = typeof webhookDeliveries.$inferSelect;

const DELIVERY_COLUMNS = [
  "delivery_id",
  "scheme",
  "external_id",
  "tenant_id",
  "signed_at",
  "received_at",
  "content_type",
  "body",
  "body_encoding",
  "body_digest",
  "body_bytes",
  "event",
  "outcome",
  "outcome_reason",
  "build_id",
];
const ROWS_PER_STATEMENT = rowsPerStatement(DELIVERY_COLUMNS.length);
const ROW_PLACEHOLDERS = `(${DELIVERY_COLUMNS.map(() => "?").join(", ")})`;

function insertStatement(d1: D1Database, rows: readonly DeliveryRow[]): D1PreparedStatement {
  const values = rows.map(() => ROW_PLACEHOLDERS).join(", ");
  return d1
    .prepare(
      `INSERT INTO webhook_deliveries (${DELIVERY_COLUMNS.join(", ")}) VALUES ${values} ` +
        "ON CONFLICT DO NOTHING RETURNING delivery_id",
    )
    .bind(
      ...rows.flatMap((r) => [
        r.deliveryId,
        r.scheme,
        r.externalId,
        r.tenantId,
        r.signedAt,
        r.receivedAt,
        r.contentType,
        r.body,
        r.bodyEncoding,
        r.bodyDigest,
        r.bodyBytes,
        r.event,
        r.outcome,
        r.outcomeReason,
        r.buildId,
      ]),
    );
}

/**
 * Stores deliveries in one D1 batch (one transaction, multi-row statements); per row, false
 * when (scheme, external_id) is already stored — before or earlier in the same batch (a replay).
 * Plain statements: the DeliveryWriter calls it per batch.
 */
export async function insertDeliveries(d1: D1Database, rows: readonly DeliveryRow[]): Promise<boolean[]> {
  if (rows.length === 0) return [];
  const statements: D1PreparedStatement[] = [];
  for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT)
    statements.push(insertStatement(d1, rows.slice(i, i + ROWS_PER_STATEMENT)));
  const results = await d1.batch<{ delivery_id: string }>(statements);
  const inserted = new Set(results.flatMap((r) => r.results.map((x) => x.delivery_id)));
  return rows.map((r) => inserted.has(r.deliveryId));
}

/**
 * Deliveries visible to `tenantId`: the tenant's own, plus the tenant-less (deployment) ones when
 * the caller is a deployment administrator (issue 17 item 3).
 */
function visibleTo(tenantId: string, deploymentAdmin: boolean) {
  const own = eq(webhookDeliveries.tenantId, tenantId);
  return deploymentAdmin ? or(isNull(webhookDeliveries.tenantId), own) : own;
}

/** Newest first, keyset-paged on (received_at, delivery_id). */
export async function listDeliveries(
  db: Db,
  q: {
    tenantId: string;
    deploymentAdmin: boolean;
    scheme?: string;
    limit: number;
    after?: { receivedAt: string; deliveryId: string };
  },
): Promise<DeliveryRow[]> {
  const t = webhookDeliveries;
  const keyset = q.after
    ? or(
        lt(t.receivedAt, q.after.receivedAt),
        and(eq(t.receivedAt, q.after.receivedAt), lt(t.deliveryId, q.after.deliveryId)),
      )
    : undefined;
  return db
    .select()
    .from(t)
    .where(and(visibleTo(q.tenantId, q.deploymentAdmin), q.scheme ? eq(t.scheme, q.scheme) : undefined, keyset))
    .orderBy(desc(t.receivedAt), desc(t.deliveryId))
    .limit(q.limit)
    .all();
}

export async function getDelivery(
  db: Db,
  tenantId: string,
  deploymentAdmin: boolean,
  deliveryId: string,
): Promise<DeliveryRow | undefined> {
  return db
    .select()
    .from(webhookDeliveries)
    .where(and(eq(webhookDeliveries.deliveryId, deliveryId), visibleTo(tenantId, deploymentAdmin)))
    .get();
}
