/**
 * Plain queries over `ops_dead_letters` (written by the BuildRunner's alarm guard,
 * dead-letters.guard.ts). Every read is tenant-scoped.
 */
import { and, count, desc, eq, lt, or, type SQL } from "drizzle-orm";
import { builds } from "../db/schema";
import type { Db } from "../kernel/env";
import { opsDeadLetters } from "../ops/ops.tables";

const columns = { row: opsDeadLetters, buildStatus: builds.status };

export type DeadLetterRow = typeof opsDeadLetters.$inferSelect & { buildStatus: string | null };

function flatten(r: { row: typeof opsDeadLetters.$inferSelect; buildStatus: string | null }): DeadLetterRow {
  return { ...r.row, buildStatus: r.buildStatus };
}

/**
 * A tenant's dead letters (one creator's when `createdBy` is set) newest first, keyset on (dead_lettered_at, build_id).
 */
export async function listDeadLetters(
  db: Db,
  q: {
    tenantId: string;
    createdBy?: string | null;
    state?: string;
    limit: number;
    after?: { at: string; buildId: string };
  },
): Promise<DeadLetterRow[]> {
  const conds: SQL[] = [eq(opsDeadLetters.tenantId, q.tenantId)];
  if (q.createdBy != null) conds.push(eq(opsDeadLetters.createdBy, q.createdBy));
  if (q.state) conds.push(eq(opsDeadLetters.state, q.state));
  if (q.after) {
    const c = or(
      lt(opsDeadLetters.deadLetteredAt, q.after.at),
      and(eq(opsDeadLetters.deadLetteredAt, q.after.at), lt(opsDeadLetters.buildId, q.after.buildId)),
    );
    if (c) conds.push(c);
  }
  const rows = await db
    .select(columns)
    .from(opsDeadLetters)
    .leftJoin(builds, eq(builds.buildId, opsDeadLetters.buildId))
    .where(and(...conds))
    .orderBy(desc(opsDeadLetters.deadLetteredAt), desc(opsDeadLetters.buildId))
    .limit(q.limit);
  return rows.map(flatten);
}

export async function getDeadLetter(db: Db, tenantId: string, buildId: string): Promise<DeadLetterRow | null> {
  const rows = await db
    .select(columns)
    .from(opsDeadLetters)
    .leftJoin(builds, eq(builds.buildId, opsDeadLetters.buildId))
    .where(and(eq(opsDeadLetters.tenantId, tenantId), eq(opsDeadLetters.buildId, buildId)));
  const r = rows[0];
  return r ? flatten(r) : null;
}

export async function countOpen(db: Db, tenantId: string, createdBy: string | null = null): Promise<number> {
  const conds: SQL[] = [eq(opsDeadLetters.tenantId, tenantId), eq(opsDeadLetters.state, "open")];
  if (createdBy !== null) conds.push(eq(opsDeadLetters.createdBy, createdBy));
  const rows = await db
    .select({ n: count() })
    .from(opsDeadLetters)
    .where(and(...conds));
  return rows[0]?.n ?? 0;
}

/** The open dead letter of a build, if any (any tenant; worker-health has already authorised). */
export async function openDeadLetterOf(db: Db, buildId: string) {
  const rows = await db
    .select()
    .from(opsDeadLetters)
    .where(and(eq(opsDeadLetters.buildId, buildId), eq(opsDeadLetters.state, "open")));
  return rows[0] ?? null;
}
