/**
 * Plain query functions over policy_profiles; tenant-scoped by the caller (policy.service.ts).
 */
import { and, desc, eq, lt, or } from "drizzle-orm";
import { type AuditEntry, auditStatement } from "../audit/audit";
import type { Db } from "../kernel/env";
import { policyProfiles } from "./program.tables";

export type PolicyProfileRow = typeof policyProfiles.$inferSelect;

/** Inserts a profile and its audit entry in one batch. */
export async function insertProfile(db: Db, row: PolicyProfileRow, audit: AuditEntry): Promise<void> {
  await db.batch([db.insert(policyProfiles).values(row), auditStatement(db, { ...audit, at: row.createdAt })]);
}

export async function getProfile(db: Db, tenantId: string, profileId: string): Promise<PolicyProfileRow | null> {
  const rows = await db
    .select()
    .from(policyProfiles)
    .where(and(eq(policyProfiles.profileId, profileId), eq(policyProfiles.tenantId, tenantId)));
  return rows[0] ?? null;
}

/** Newest first: (created_at, profile_id) descending. */
export async function listProfiles(
  db: Db,
  tenantId: string,
  limit: number,
  after?: { createdAt: string; profileId: string },
) {
  const conds = [eq(policyProfiles.tenantId, tenantId)];
  if (after) {
    const c = or(
      lt(policyProfiles.createdAt, after.createdAt),
      and(eq(policyProfiles.createdAt, after.createdAt), lt(policyProfiles.profileId, after.profileId)),
    );
    if (c) conds.push(c);
  }
  return db
    .select()
    .from(policyProfiles)
    .where(and(...conds))
    .orderBy(desc(policyProfiles.createdAt), desc(policyProfiles.profileId))
    .limit(limit);
}
