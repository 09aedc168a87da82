/**
 * Findings as the product (issue 16): the API shape of a finding, keyset pages with filters,
 * the baseline of a build against the previous finished scan of its repository and branch, and
 * the SARIF 2.1.0 export. The caller (builds/control.service.ts) authorises the build first.
 */
import type { Db } from "../kernel/env";
import { decodeIntCursor, page } from "../kernel/cursor";
import { type FindingsSummary, diffBaseline, summarize } from "./baseline";
import { decodeDetail } from "./detail-envelope";
import type { FindingState } from "./finding";
import * as repo from "./findings.repo";
import { type SarifExportInput, toSarif } from "./sarif";

/** A finding as the API serves it. Rows written before migration 0010 read their envelope. */
export function findingDto(f: repo.FindingRow) {
  const d = decodeDetail(f.detail);
  return {
    finding_id: f.findingId,
    build_id: f.buildId,
    node_id: f.nodeId,
    task_run_id: f.taskRunId,
    rule_id: f.ruleId ?? d.rule_id,
    tool: f.tool ?? d.tool,
    severity: f.severity,
    category: f.category,
    title: f.title,
    detail: d.detail,
    file: f.file,
    line: f.line,
    end_line: f.endLine ?? d.end_line,
    column: f.columnNumber ?? d.column,
    snippet: f.snippet ?? d.snippet,
    fingerprint: f.fingerprint,
    state: (f.state as FindingState | null) ?? null,
    created_at: f.createdAt,
  };
}
export type FindingDto = ReturnType<typeof findingDto>;

/** A page of a build's findings, most severe first; the cursor is opaque. */
export async function findingsPage(
  db: Db,
  buildId: string,
  q: repo.FindingFilters & { limit: number; cursor?: string },
) {
  let after: { rank: number; rowid: number } | undefined;
  if (q.cursor !== undefined) {
    const [rank, rowid] = decodeIntCursor(q.cursor, 2);
    after = { rank: rank!, rowid: rowid! };
  }
  const rows = await repo.findingsPage(db, buildId, q, q.limit, after);
  return page(
    rows,
    q.limit,
    (r) => findingDto(r.row),
    (r) => [String(r.row.severityRank), String(r.rowid)],
  );
}

export interface BaselineSubject {
  buildId: string;
  tenantId: string;
  repoUrl: string;
  createdAt: string;
  real: boolean;
}

/**
 * The baseline of a finished build: each finding's state, the previous build's findings that
 * are gone (`fixed`) and the summary stored on the build. Findings without a fingerprint (rows
 * from before fingerprints) get no state. A simulated build has no baseline: it scanned nothing.
 */
export async function computeBaseline(db: Db, build: BaselineSubject, current: readonly BaselineFinding[]) {
  // A simulated build scanned nothing: it is compared with nothing (and reads nothing to say so).
  const baseline = build.real ? await repo.baselineOf(db, build) : { buildId: null, findings: [] };
  const baselineId = baseline.buildId;
  const previous = baselineId ? baseline.findings.filter(hasFingerprint) : null;
  const diff = diffBaseline(current.filter(hasFingerprint), previous);
  const states = new Map<string, FindingState>(diff.findings.map((f) => [f.findingId, f.state]));
  const withStates = current.map((f) => ({ severity: f.severity, state: states.get(f.findingId) ?? null }));
  return {
    states,
    fixed: diff.fixed,
    baseline_build_id: baselineId,
    summary: summarize(withStates, diff.fixed, baselineId),
  };
}

/** What a baseline needs of a finding. */
export interface BaselineFinding {
  findingId: string;
  fingerprint: string | null;
  severity: string;
}

const hasFingerprint = <F extends { fingerprint: string | null }>(f: F): f is F & { fingerprint: string } =>
  f.fingerprint !== null;

/** The findings of the build compared against that are gone now (from the stored summary's baseline). */
export async function fixedFindings(db: Db, buildId: string, summary: FindingsSummary | null) {
  if (!summary?.baseline_build_id) return [];
  const [current, previous] = await Promise.all([
    repo.buildFindings(db, buildId),
    repo.buildFindings(db, summary.baseline_build_id),
  ]);
  return diffBaseline(current.filter(hasFingerprint), previous.filter(hasFingerprint)).fixed.map(findingDto);
}

/** The SARIF 2.1.0 log of a build's findings (one run per tool; fixed ones as `absent`). */
export async function sarifLog(
  db: Db,
  build: { build_id: string; repo_url: string; summary: FindingsSummary | null },
  product: SarifExportInput["product"],
  tools?: SarifExportInput["tools"],
) {
  const all = (await repo.buildFindings(db, build.build_id)).map(findingDto);
  const fixed = await fixedFindings(db, build.build_id, build.summary);
  const [url, ref] = build.repo_url.split("#", 2);
  return toSarif({
    findings: all,
    fixed,
    build: {
      build_id: build.build_id,
      repo_url: url,
      branch: ref ?? undefined,
      baseline_build_id: build.summary?.baseline_build_id ?? undefined,
    },
    product,
    tools,
  });
}
