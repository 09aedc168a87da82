/** D1 access for `webhook_deliveries` (plain functions, typed rows). */
import { and, desc, eq, isNull, lt, or } from "drizzle-orm";
import type { Db } from "../env";
import { webhookDeliveries } from "./security.tables";

export type DeliveryRow = typeof webhookDeliveries.$inferSelect;

/** Stores a delivery; false when (scheme, external_id) is already stored (a replay). */
export async function insertDelivery(db: Db, row: DeliveryRow): Promise<boolean> {
  const res = await db.insert(webhookDeliveries).values(row).onConflictDoNothing().run();
  return res.meta.changes === 1;
}

/** Deliveries visible to `tenantId`: deployment-global ones (tenant null) and the tenant's own. */
function visibleTo(tenantId: string) {
  return or(isNull(webhookDeliveries.tenantId), eq(webhookDeliveries.tenantId, tenantId));
}

/** Newest first, keyset-paged on (received_at, delivery_id). */
export async function listDeliveries(
  db: Db,
  q: { tenantId: string; scheme?: string; limit: number; after?: { receivedAt: string; deliveryId: string } },
): Promise<DeliveryRow[]> {
  const t = webhookDeliveries;
  const keyset = q.after
    ? or(lt(t.receivedAt, q.after.receivedAt), and(eq(t.receivedAt, q.after.receivedAt), lt(t.deliveryId, q.after.deliveryId)))
    : undefined;
  return db
    .select()
    .from(t)
    .where(and(visibleTo(q.tenantId), q.scheme ? eq(t.scheme, q.scheme) : undefined, keyset))
    .orderBy(desc(t.receivedAt), desc(t.deliveryId))
    .limit(q.limit)
    .all();
}

export async function getDelivery(db: Db, tenantId: string, deliveryId: string): Promise<DeliveryRow | undefined> {
  return db.select().from(webhookDeliveries).where(and(eq(webhookDeliveries.deliveryId, deliveryId), visibleTo(tenantId))).get();
}
