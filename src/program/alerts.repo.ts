/**
 * Plain query functions of the control plane's alerting: destinations, alert states and the
 * notification outbox. Tenant-scoped by every caller. Used by alerts.service.ts.
 */
import { and, asc, desc, eq, lt, lte, sql } from "drizzle-orm";
import { builds } from "../db/schema";
import type { Db } from "../kernel/env";
import { alertDestinations, alertNotifications, alertStates } from "./alerts.tables";

export type DestinationRow = typeof alertDestinations.$inferSelect;
export type AlertStateRow = typeof alertStates.$inferSelect;
export type NotificationRow = typeof alertNotifications.$inferSelect;

export async function insertDestination(db: Db, row: DestinationRow): Promise<void> {
  await db.insert(alertDestinations).values(row);
}

export async function listDestinations(db: Db, tenantId: string): Promise<DestinationRow[]> {
  return db
    .select()
    .from(alertDestinations)
    .where(eq(alertDestinations.tenantId, tenantId))
    .orderBy(asc(alertDestinations.createdAt), asc(alertDestinations.destinationId))
    .limit(100);
}

export async function getDestination(db: Db, tenantId: string, id: string): Promise<DestinationRow | null> {
  const rows = await db
    .select()
    .from(alertDestinations)
    .where(and(eq(alertDestinations.tenantId, tenantId), eq(alertDestinations.destinationId, id)));
  return rows[0] ?? null;
}

export async function deleteDestination(db: Db, tenantId: string, id: string): Promise<boolean> {
  const rows = await db
    .delete(alertDestinations)
    .where(and(eq(alertDestinations.tenantId, tenantId), eq(alertDestinations.destinationId, id)))
    .returning({ id: alertDestinations.destinationId });
  return rows.length > 0;
}

/** Tenants to evaluate: those with a destination or an alert still firing. */
export async function alertTenants(db: Db): Promise<string[]> {
  const rows = await db.all<{ tenant_id: string }>(
    sql`SELECT tenant_id FROM alert_destinations
      UNION SELECT tenant_id FROM alert_states WHERE state = 'firing' LIMIT 500`,
  );
  return rows.map((r) => r.tenant_id);
}

export async function getState(db: Db, tenantId: string, key: string): Promise<AlertStateRow | null> {
  const rows = await db
    .select()
    .from(alertStates)
    .where(and(eq(alertStates.tenantId, tenantId), eq(alertStates.alertKey, key)));
  return rows[0] ?? null;
}

/**
 * Writes a transition only from the state this evaluation read (compare-and-set on state and
 * firing_seq); true when this call made it. An overlapping evaluation that lost gets false.
 */
export async function writeState(
  db: Db,
  prev: AlertStateRow | null,
  next: typeof alertStates.$inferInsert,
): Promise<boolean> {
  if (!prev) {
    const rows = await db.insert(alertStates).values(next).onConflictDoNothing().returning({ k: alertStates.alertKey });
    return rows.length > 0;
  }
  const rows = await db
    .update(alertStates)
    .set(next)
    .where(
      and(
        eq(alertStates.tenantId, prev.tenantId),
        eq(alertStates.alertKey, prev.alertKey),
        eq(alertStates.state, prev.state),
        eq(alertStates.firingSeq, prev.firingSeq),
      ),
    )
    .returning({ k: alertStates.alertKey });
  return rows.length > 0;
}

export async function listStates(db: Db, tenantId: string, limit: number): Promise<AlertStateRow[]> {
  return db
    .select()
    .from(alertStates)
    .where(eq(alertStates.tenantId, tenantId))
    .orderBy(desc(alertStates.updatedAt))
    .limit(limit);
}

/** Enqueues one notification; the unique (destination, alert, firing, kind) key drops duplicates. */
export async function enqueue(db: Db, row: typeof alertNotifications.$inferInsert): Promise<void> {
  await db.insert(alertNotifications).values(row).onConflictDoNothing();
}

export async function dueNotifications(db: Db, nowIso: string, limit: number): Promise<NotificationRow[]> {
  return db
    .select()
    .from(alertNotifications)
    .where(and(eq(alertNotifications.status, "pending"), lte(alertNotifications.nextAttemptAt, nowIso)))
    .orderBy(asc(alertNotifications.nextAttemptAt))
    .limit(limit);
}

/** Leases a due notification to this invocation (moves its next attempt past the request deadline). */
export async function claimNotification(db: Db, n: NotificationRow, leaseUntil: string): Promise<boolean> {
  const rows = await db
    .update(alertNotifications)
    .set({ nextAttemptAt: leaseUntil })
    .where(
      and(
        eq(alertNotifications.notificationId, n.notificationId),
        eq(alertNotifications.status, "pending"),
        eq(alertNotifications.nextAttemptAt, n.nextAttemptAt),
      ),
    )
    .returning({ id: alertNotifications.notificationId });
  return rows.length > 0;
}

export async function settleNotification(
  db: Db,
  id: string,
  set: Pick<NotificationRow, "status" | "attempts" | "nextAttemptAt" | "lastError" | "deliveredAt">,
): Promise<void> {
  await db.update(alertNotifications).set(set).where(eq(alertNotifications.notificationId, id));
}

/** The latest notification of each of a tenant's alerts (for GET /alerts). */
export async function latestNotifications(db: Db, tenantId: string, keys: string[]): Promise<NotificationRow[]> {
  if (keys.length === 0) return [];
  const rows = await db
    .select()
    .from(alertNotifications)
    .where(eq(alertNotifications.tenantId, tenantId))
    .orderBy(desc(alertNotifications.createdAt))
    .limit(500);
  const seen = new Set<string>();
  return rows.filter((r) => keys.includes(r.alertKey) && !seen.has(r.alertKey) && seen.add(r.alertKey));
}

/** Running builds of a tenant whose lease expired before `beforeIso` (the watchdog's stale ones). */
export async function countStuckBuilds(db: Db, tenantId: string, beforeIso: string): Promise<number> {
  const rows = await db
    .select({ n: sql<number>`count(*)` })
    .from(builds)
    .where(and(eq(builds.tenantId, tenantId), eq(builds.status, "running"), lt(builds.leaseExpiresAt, beforeIso)));
  return rows[0]?.n ?? 0;
}
