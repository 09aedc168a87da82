/**
 * Plain query functions over release_checklists, rollback_drills and go_live_decisions, each keyed
 * by (tenant_id, release_id). Upserts replace the whole record and report whether it was created
 * (revision 1) or replaced. Called by release.service.ts.
 */
import { and, eq, sql } from "drizzle-orm";
import { type AuditEntry, auditStatement } from "../audit/audit";
import type { Db } from "../kernel/env";
import { goLiveDecisions, releaseChecklists, rollbackDrills } from "./program.tables";

export type ChecklistRow = typeof releaseChecklists.$inferSelect;
export type DrillRow = typeof rollbackDrills.$inferSelect;
export type DecisionRow = typeof goLiveDecisions.$inferSelect;

export async function upsertChecklist(
  db: Db,
  row: Omit<ChecklistRow, "revision">,
  audit: AuditEntry,
): Promise<ChecklistRow> {
  const { tenantId, releaseId, createdAt, ...rest } = row;
  const [rows] = await db.batch([
    db
      .insert(releaseChecklists)
      .values({ ...row, revision: 1 })
      .onConflictDoUpdate({
        target: [releaseChecklists.tenantId, releaseChecklists.releaseId],
        set: { ...rest, revision: sql`${releaseChecklists.revision} + 1` },
      })
      .returning(),
    auditStatement(db, { ...audit, at: row.updatedAt }),
  ]);
  return rows[0] as ChecklistRow;
}

export async function getChecklist(db: Db, tenantId: string, releaseId: string): Promise<ChecklistRow | null> {
  const rows = await db
    .select()
    .from(releaseChecklists)
    .where(and(eq(releaseChecklists.tenantId, tenantId), eq(releaseChecklists.releaseId, releaseId)));
  return rows[0] ?? null;
}

export async function upsertDrill(db: Db, row: Omit<DrillRow, "revision">, audit: AuditEntry): Promise<DrillRow> {
  const { tenantId, releaseId, createdAt, ...rest } = row;
  const [rows] = await db.batch([
    db
      .insert(rollbackDrills)
      .values({ ...row, revision: 1 })
      .onConflictDoUpdate({
        target: [rollbackDrills.tenantId, rollbackDrills.releaseId],
        set: { ...rest, revision: sql`${rollbackDrills.revision} + 1` },
      })
      .returning(),
    auditStatement(db, { ...audit, at: row.updatedAt }),
  ]);
  return rows[0] as DrillRow;
}

export async function getDrill(db: Db, tenantId: string, releaseId: string): Promise<DrillRow | null> {
  const rows = await db
    .select()
    .from(rollbackDrills)
    .where(and(eq(rollbackDrills.tenantId, tenantId), eq(rollbackDrills.releaseId, releaseId)));
  return rows[0] ?? null;
}

export async function upsertDecision(
  db: Db,
  row: Omit<DecisionRow, "revision">,
  audit: AuditEntry,
): Promise<DecisionRow> {
  const { tenantId, releaseId, createdAt, ...rest } = row;
  const [rows] = await db.batch([
    db
      .insert(goLiveDecisions)
      .values({ ...row, revision: 1 })
      .onConflictDoUpdate({
        target: [goLiveDecisions.tenantId, goLiveDecisions.releaseId],
        set: { ...rest, revision: sql`${goLiveDecisions.revision} + 1` },
      })
      .returning(),
    auditStatement(db, { ...audit, at: row.decidedAt }),
  ]);
  return rows[0] as DecisionRow;
}

export async function getDecision(db: Db, tenantId: string, releaseId: string): Promise<DecisionRow | null> {
  const rows = await db
    .select()
    .from(goLiveDecisions)
    .where(and(eq(goLiveDecisions.tenantId, tenantId), eq(goLiveDecisions.releaseId, releaseId)));
  return rows[0] ?? null;
}
