/**
 * Queries over `findings` for the findings API, baselines and SARIF export (issue 16). Reads
 * only: a build's findings are written by its BuildRunner in the build's fenced batches.
 */
import { and, asc, desc, eq, gte, inArray, lte, ne, sql, type SQL } from "drizzle-orm";
import { builds, findings } from "../db/schema";
import type { Db } from "../kernel/env";
import { D1_MAX_BOUND_PARAMS } from "../lib/d1-limits";
import { type FindingsSummary, parseFindingsSummary } from "./baseline";
import { SEVERITY_RANK, type Severity } from "./finding";

export type FindingRow = typeof findings.$inferSelect;

/** The most findings of one build a baseline or export reads. */
const FINDINGS_CAP = 5000;

/** Filters of `GET /v1/builds/{id}/findings`. */
export interface FindingFilters {
  /** Exactly this severity (the original filter). */
  severity?: Severity;
  min_severity?: Severity;
  category?: string;
  node_id?: string;
  rule_id?: string;
  state?: "new" | "unchanged";
}

/**
 * One page of a build's findings, most severe first, then in report order (`event_seq`, rowid):
 * keyset on (severity_rank desc, rowid asc) — the cursor is the last row's pair.
 */
export async function findingsPage(
  db: Db,
  buildId: string,
  f: FindingFilters,
  limit: number,
  after?: { rank: number; rowid: number },
) {
  const rowid = sql<number>`${findings}.rowid`;
  const conds: SQL[] = [eq(findings.buildId, buildId)];
  if (f.severity) conds.push(eq(findings.severity, f.severity));
  if (f.min_severity) conds.push(gte(findings.severityRank, SEVERITY_RANK[f.min_severity]));
  if (f.category) conds.push(eq(findings.category, f.category));
  if (f.node_id) conds.push(eq(findings.nodeId, f.node_id));
  if (f.rule_id) conds.push(eq(findings.ruleId, f.rule_id));
  if (f.state) conds.push(eq(findings.state, f.state));
  if (after)
    conds.push(
      sql`(${findings.severityRank} < ${after.rank}
        OR (${findings.severityRank} = ${after.rank} AND ${findings}.rowid > ${after.rowid}))`,
    );
  return db
    .select({ row: findings, rowid })
    .from(findings)
    .where(and(...conds))
    .orderBy(desc(findings.severityRank), asc(rowid))
    .limit(limit + 1);
}

/** Every finding of a build (bounded), most severe first. */
export async function buildFindings(db: Db, buildId: string, cap = FINDINGS_CAP): Promise<FindingRow[]> {
  return db
    .select()
    .from(findings)
    .where(eq(findings.buildId, buildId))
    .orderBy(desc(findings.severityRank), asc(findings.eventSeq))
    .limit(cap);
}

/**
 * The build a scan is compared with: the newest earlier build of the same tenant and repository
 * (the URL, `#ref` included, names the branch) that finished (`completed` or `failed`) on a real
 * runner — a real scan is never compared with a simulated one, and a simulated build has no
 * baseline at all (its caller does not ask) — and its findings.
 */
export async function baselineOf(
  db: Db,
  b: { buildId: string; tenantId: string; repoUrl: string; createdAt: string },
): Promise<{ buildId: string | null; findings: FindingRow[] }> {
  const baselineId = () =>
    db
      .select({ buildId: builds.buildId })
      .from(builds)
      .where(
        and(
          eq(builds.tenantId, b.tenantId),
          eq(builds.repoUrl, b.repoUrl),
          lte(builds.createdAt, b.createdAt),
          ne(builds.buildId, b.buildId),
          inArray(builds.status, ["completed", "failed"]),
          sql`json_extract(${builds.metadata}, '$.runner_kind') = 'http'`,
        ),
      )
      .orderBy(desc(builds.createdAt), desc(builds.buildId))
      .limit(1);
  // One round trip: the baseline's id and its findings (the same rule as a subquery).
  const [ids, rows] = await db.batch([
    baselineId(),
    db
      .select()
      .from(findings)
      .where(inArray(findings.buildId, baselineId()))
      .orderBy(desc(findings.severityRank), asc(findings.eventSeq))
      .limit(FINDINGS_CAP),
  ]);
  return { buildId: ids[0]?.buildId ?? null, findings: rows };
}

/** UPDATE statements setting `state` on findings, chunked under D1's parameter limit. */
export function stateStatements(db: Db, states: ReadonlyMap<string, "new" | "unchanged">) {
  const byState = new Map<string, string[]>();
  for (const [id, s] of states) byState.set(s, [...(byState.get(s) ?? []), id]);
  const out = [];
  const step = D1_MAX_BOUND_PARAMS - 1;
  for (const [state, ids] of byState) {
    for (let i = 0; i < ids.length; i += step) {
      out.push(
        db
          .update(findings)
          .set({ state })
          .where(inArray(findings.findingId, ids.slice(i, i + step))),
      );
    }
  }
  return out;
}

/** The stored `findings_summary` of a build (null before its first finish or when unreadable). */
export async function findingsSummaryOf(db: Db, buildId: string): Promise<FindingsSummary | null> {
  const rows = await db.select({ s: builds.findingsSummary }).from(builds).where(eq(builds.buildId, buildId));
  return parseFindingsSummary(rows[0]?.s);
}
