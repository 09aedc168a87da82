/** D1 access for `secrets` (plain functions, typed rows; every query filters on tenant_id). */
import { and, asc, count, desc, eq, gte, lt, or } from "drizzle-orm";
import type { AuditEntry } from "../audit/audit";
import { auditStatement } from "../audit/audit";
import type { Db } from "../kernel/env";
import { secrets } from "./security.tables";

export type SecretRow = typeof secrets.$inferSelect;

/**
 * Inserts a secret and its audit entry in one batch; false (and no audit entry) when
 * (tenant_id, name) — or the id — already exists.
 */
export async function insertSecret(db: Db, row: SecretRow, audit: AuditEntry): Promise<boolean> {
  const [res] = await db.batch([
    db.insert(secrets).values(row).onConflictDoNothing(),
    auditStatement(db, audit, { ifChanged: true }),
  ]);
  return res.meta.changes === 1;
}

export async function getSecret(db: Db, tenantId: string, secretId: string): Promise<SecretRow | undefined> {
  return db
    .select()
    .from(secrets)
    .where(and(eq(secrets.tenantId, tenantId), eq(secrets.secretId, secretId)))
    .get();
}

export async function getSecretByName(db: Db, tenantId: string, name: string): Promise<SecretRow | undefined> {
  return db
    .select()
    .from(secrets)
    .where(and(eq(secrets.tenantId, tenantId), eq(secrets.name, name)))
    .get();
}

/**
 * A tenant's secrets whose name is `name` or starts with `name` + "_" (e.g. `github_webhook_secret`
 * and `github_webhook_secret_next`: several values for rotation), by name, at most `limit`.
 */
export async function getSecretsByNameFamily(
  db: Db,
  tenantId: string,
  name: string,
  limit: number,
): Promise<SecretRow[]> {
  const family = or(eq(secrets.name, name), and(gte(secrets.name, `${name}_`), lt(secrets.name, `${name}\``)));
  return db
    .select()
    .from(secrets)
    .where(and(eq(secrets.tenantId, tenantId), family))
    .orderBy(asc(secrets.name))
    .limit(limit)
    .all();
}

/** Newest first, keyset-paged on (created_at, secret_id). */
export async function listSecrets(
  db: Db,
  tenantId: string,
  limit: number,
  after?: { createdAt: string; secretId: string },
): Promise<SecretRow[]> {
  const keyset = after
    ? or(
        lt(secrets.createdAt, after.createdAt),
        and(eq(secrets.createdAt, after.createdAt), lt(secrets.secretId, after.secretId)),
      )
    : undefined;
  return db
    .select()
    .from(secrets)
    .where(and(eq(secrets.tenantId, tenantId), keyset))
    .orderBy(desc(secrets.createdAt), desc(secrets.secretId))
    .limit(limit)
    .all();
}

/** Deletes a secret and records `audit` in the same batch (only when a row was deleted). */
export async function deleteSecret(db: Db, tenantId: string, secretId: string, audit: AuditEntry): Promise<boolean> {
  const [res] = await db.batch([
    db.delete(secrets).where(and(eq(secrets.tenantId, tenantId), eq(secrets.secretId, secretId))),
    auditStatement(db, audit, { ifChanged: true }),
  ]);
  return res.meta.changes === 1;
}

/** Secrets of the tenant wrapped under a version older than `newest`. */
export async function listStale(db: Db, tenantId: string, newest: number, limit: number): Promise<SecretRow[]> {
  return db
    .select()
    .from(secrets)
    .where(and(eq(secrets.tenantId, tenantId), lt(secrets.keyVersion, newest)))
    .orderBy(secrets.createdAt, secrets.secretId)
    .limit(limit)
    .all();
}

export async function countStale(db: Db, tenantId: string, newest: number): Promise<number> {
  const row = await db
    .select({ n: count() })
    .from(secrets)
    .where(and(eq(secrets.tenantId, tenantId), lt(secrets.keyVersion, newest)))
    .get();
  return row?.n ?? 0;
}

/** Conditional re-wrap (compare-and-set on the old wrap); the statement for a batch. */
export function rewrapStatement(db: Db, row: SecretRow, wrappedKey: string, keyVersion: number, now: string) {
  return db
    .update(secrets)
    .set({ wrappedKey, keyVersion, rotatedAt: now, updatedAt: now })
    .where(
      and(
        eq(secrets.secretId, row.secretId),
        eq(secrets.keyVersion, row.keyVersion),
        eq(secrets.wrappedKey, row.wrappedKey),
      ),
    );
}
