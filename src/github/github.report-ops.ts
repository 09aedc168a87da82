/**
 * Operators' view of the reports outbox (issue 21): a tenant's reports to GitHub by state
 * (dead-lettered ones first of all) and the re-drive of a dead-lettered one, which puts it back
 * to pending, due now, with a fresh attempt budget (the cron or the next drain sends it).
 */
import { type AuditEntry, actorOf } from "../audit/audit";
import { decodeCursor, page } from "../kernel/cursor";
import type { Db } from "../kernel/env";
import { AppError } from "../kernel/errors";
import type { Principal } from "../kernel/principal";
import { isoTimestamp } from "../lib/ids";
import * as repo from "./github.repo";
import type { ListReportsQuery } from "./github.schemas";

interface Deps {
  db: Db;
  principal: Principal;
  requestId?: string;
}

function reportDto(r: repo.ReportRow) {
  let repository = "";
  let headSha = "";
  try {
    const p = JSON.parse(r.payload) as { repository?: unknown; trigger?: { head_sha?: unknown } };
    repository = typeof p.repository === "string" ? p.repository : "";
    headSha = typeof p.trigger?.head_sha === "string" ? p.trigger.head_sha : "";
  } catch {
    // an unreadable payload shows empty fields; the row itself is still listed
  }
  return {
    report_id: r.reportId,
    build_id: r.buildId,
    kind: r.kind as "check_run" | "sarif",
    state: r.state as "pending" | "delivered" | "dead_lettered",
    repository,
    head_sha: headSha,
    attempts: r.attempts,
    next_attempt_at: isoTimestamp(r.nextAttemptAt),
    last_error: r.lastError,
    created_at: r.createdAt,
    updated_at: r.updatedAt,
  };
}

export async function listReports(deps: Deps, q: ListReportsQuery) {
  let after: { createdAt: string; reportId: string } | undefined;
  if (q.cursor !== undefined) {
    const [createdAt, reportId] = decodeCursor(q.cursor, 2) as [string, string];
    after = { createdAt, reportId };
  }
  const rows = await repo.listReports(deps.db, {
    tenantId: deps.principal.tenantId,
    state: q.state,
    limit: q.limit + 1,
    after,
  });
  return page(rows, q.limit, reportDto, (r) => [r.createdAt, r.reportId]);
}

/** Re-drives a dead-lettered report: 404 unknown, 409 `github_report_conflict` when it is not dead-lettered. */
export async function redriveReport(deps: Deps, reportId: string) {
  const now = Date.now();
  const audit: AuditEntry = {
    actor: actorOf(deps),
    action: "github_report.redrive",
    target_type: "github_report",
    target_id: reportId,
  };
  const done = await repo.redriveReport(
    deps.db,
    deps.principal.tenantId,
    reportId,
    { ms: now, iso: isoTimestamp(now) },
    audit,
  );
  const row = await repo.getReport(deps.db, deps.principal.tenantId, reportId);
  if (!row) throw new AppError("github_report_not_found", "Report not found.");
  if (!done)
    throw new AppError(
      "github_report_conflict",
      `The report is ${row.state}; only a dead-lettered report is re-driven.`,
    );
  return reportDto(row);
}
