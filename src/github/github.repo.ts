/**
 * D1 access of the GitHub integration (plain functions, typed rows; every binding query filters on
 * tenant_id): repository bindings, the reports outbox with its lease-by-next_attempt_at claim, and
 * the running push builds of a branch (for supersede).
 */
import { and, asc, desc, eq, inArray, lt, lte, ne, or, sql } from "drizzle-orm";
import { type AuditEntry, auditStatement } from "../audit/audit";
import { builds } from "../db/schema";
import type { Db } from "../kernel/env";
import { githubReports, githubRepositories } from "./github.tables";

export type BindingRow = typeof githubRepositories.$inferSelect;
export type ReportRow = typeof githubReports.$inferSelect;

/** Inserts a binding and its audit entry in one batch; false (no audit row) when the tenant already binds it. */
export async function insertBinding(db: Db, row: BindingRow, audit: AuditEntry): Promise<boolean> {
  const [r] = await db.batch([
    db.insert(githubRepositories).values(row).onConflictDoNothing().returning({ id: githubRepositories.bindingId }),
    auditStatement(db, audit, { ifChanged: true }),
  ]);
  return r.length === 1;
}

export async function getBinding(db: Db, tenantId: string, bindingId: string): Promise<BindingRow | undefined> {
  return db
    .select()
    .from(githubRepositories)
    .where(and(eq(githubRepositories.tenantId, tenantId), eq(githubRepositories.bindingId, bindingId)))
    .get();
}

export async function getBindingByName(db: Db, tenantId: string, fullName: string): Promise<BindingRow | undefined> {
  return db
    .select()
    .from(githubRepositories)
    .where(and(eq(githubRepositories.tenantId, tenantId), eq(githubRepositories.fullName, fullName)))
    .get();
}

/** Newest first, keyset-paged on (created_at, binding_id). */
export async function listBindings(
  db: Db,
  tenantId: string,
  limit: number,
  after?: { createdAt: string; bindingId: string },
): Promise<BindingRow[]> {
  const t = githubRepositories;
  const keyset = after
    ? or(lt(t.createdAt, after.createdAt), and(eq(t.createdAt, after.createdAt), lt(t.bindingId, after.bindingId)))
    : undefined;
  return db
    .select()
    .from(t)
    .where(and(eq(t.tenantId, tenantId), keyset))
    .orderBy(desc(t.createdAt), desc(t.bindingId))
    .limit(limit)
    .all();
}

/** Deletes a binding and writes its audit entry in one batch; false when there is none. */
export async function deleteBinding(db: Db, tenantId: string, bindingId: string, audit: AuditEntry): Promise<boolean> {
  const [r] = await db.batch([
    db
      .delete(githubRepositories)
      .where(and(eq(githubRepositories.tenantId, tenantId), eq(githubRepositories.bindingId, bindingId)))
      .returning({ id: githubRepositories.bindingId }),
    auditStatement(db, audit, { ifChanged: true }),
  ]);
  return r.length === 1;
}

/**
 * Push builds of the same tenant and repository URL (`#branch` included) that are still active
 * and were created before `buildId`'s creation: those a newer push supersedes.
 */
export async function activePushBuilds(
  db: Db,
  q: { tenantId: string; repoUrl: string; buildId: string; createdAt: string },
): Promise<string[]> {
  const rows = await db
    .select({ buildId: builds.buildId })
    .from(builds)
    .where(
      and(
        eq(builds.tenantId, q.tenantId),
        eq(builds.repoUrl, q.repoUrl),
        ne(builds.buildId, q.buildId),
        lte(builds.createdAt, q.createdAt),
        inArray(builds.status, ["pending", "running", "paused"]),
        sql`json_extract(${builds.metadata}, '$.trigger.kind') = 'push'`,
      ),
    )
    .limit(20);
  return rows.map((r) => r.buildId);
}

// ---- reports outbox ------------------------------------------------------------------------------

/**
 * Adds reports, one per build and kind. The same finish announced again changes nothing; a build
 * that finishes again differently (a failed build resumed to completion) replaces the report's
 * payload and sends it anew, with a fresh attempt budget.
 */
export async function enqueueReports(db: Db, rows: ReportRow[]): Promise<void> {
  if (rows.length === 0) return;
  const t = githubReports;
  await db
    .insert(t)
    .values(rows)
    .onConflictDoUpdate({
      target: [t.buildId, t.kind],
      set: {
        payload: sql`excluded.payload`,
        state: "pending",
        attempts: 0,
        nextAttemptAt: sql`excluded.next_attempt_at`,
        lastError: null,
        updatedAt: sql`excluded.updated_at`,
      },
      setWhere: sql`${t.payload} <> excluded.payload`,
    });
}

/** Pending reports due at `now` (of one build when given), oldest first. */
export async function dueReports(db: Db, now: number, limit: number, buildId?: string): Promise<ReportRow[]> {
  const t = githubReports;
  return db
    .select()
    .from(t)
    .where(and(eq(t.state, "pending"), lte(t.nextAttemptAt, now), buildId ? eq(t.buildId, buildId) : undefined))
    .orderBy(asc(t.nextAttemptAt))
    .limit(limit)
    .all();
}

/**
 * Takes a report for one attempt: moves its next_attempt_at to `leaseUntil` if it is still the
 * value read (compare-and-set), so the cron and a build's finish never send it twice at once.
 */
export async function leaseReport(db: Db, row: ReportRow, leaseUntil: number): Promise<boolean> {
  const t = githubReports;
  const r = await db
    .update(t)
    .set({ nextAttemptAt: leaseUntil })
    .where(and(eq(t.reportId, row.reportId), eq(t.state, "pending"), eq(t.nextAttemptAt, row.nextAttemptAt)))
    .returning({ id: t.reportId });
  return r.length === 1;
}

export async function settleReport(
  db: Db,
  reportId: string,
  patch: Pick<ReportRow, "state" | "attempts" | "nextAttemptAt" | "lastError" | "updatedAt">,
): Promise<void> {
  await db.update(githubReports).set(patch).where(eq(githubReports.reportId, reportId));
}

/** A tenant's reports of a build (newest kinds first). */
export async function reportsOfBuild(db: Db, tenantId: string, buildId: string): Promise<ReportRow[]> {
  return db
    .select()
    .from(githubReports)
    .where(and(eq(githubReports.tenantId, tenantId), eq(githubReports.buildId, buildId)))
    .all();
}

/** A tenant's reports in `state`, newest first, keyset-paged on (created_at, report_id). */
export async function listReports(
  db: Db,
  q: { tenantId: string; state?: string; limit: number; after?: { createdAt: string; reportId: string } },
): Promise<ReportRow[]> {
  const t = githubReports;
  const keyset = q.after
    ? or(lt(t.createdAt, q.after.createdAt), and(eq(t.createdAt, q.after.createdAt), lt(t.reportId, q.after.reportId)))
    : undefined;
  return db
    .select()
    .from(t)
    .where(and(eq(t.tenantId, q.tenantId), q.state ? eq(t.state, q.state) : undefined, keyset))
    .orderBy(desc(t.createdAt), desc(t.reportId))
    .limit(q.limit)
    .all();
}

/**
 * Puts a tenant's dead-lettered report back to pending, due now, with its audit entry; false when
 * it is not dead-lettered.
 */
export async function redriveReport(
  db: Db,
  tenantId: string,
  reportId: string,
  now: { ms: number; iso: string },
  audit: AuditEntry,
): Promise<boolean> {
  const t = githubReports;
  const [r] = await db.batch([
    db
      .update(t)
      .set({ state: "pending", attempts: 0, nextAttemptAt: now.ms, updatedAt: now.iso })
      .where(and(eq(t.tenantId, tenantId), eq(t.reportId, reportId), eq(t.state, "dead_lettered")))
      .returning({ id: t.reportId }),
    auditStatement(db, audit, { ifChanged: true }),
  ]);
  return r.length === 1;
}

export async function getReport(db: Db, tenantId: string, reportId: string): Promise<ReportRow | undefined> {
  return db
    .select()
    .from(githubReports)
    .where(and(eq(githubReports.tenantId, tenantId), eq(githubReports.reportId, reportId)))
    .get();
}
