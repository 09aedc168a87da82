/**
 * Results back to GitHub (issue 21) through a D1 outbox (`github_reports`, docs/DECISIONS.md):
 * when a GitHub-triggered build finishes, its build-finished hook (registered by src/index.ts)
 * enqueues a check run — and a SARIF upload when the binding asks for one — and sends them at once;
 * the cron (`scheduled`) retries what is due with backoff; a report that keeps failing, or fails
 * for good (no `github_token` secret, a 4xx), is dead-lettered on its row. A report never blocks,
 * fails or changes its build. The token is a tenant secret, read per attempt and never logged.
 */
import { drizzle } from "drizzle-orm/d1";
import type { BuildFinished } from "../builds/build-hooks";
import { type GitTrigger, triggerOf } from "../builds/build-trigger";
import * as findingsRepo from "../findings/findings.repo";
import { findingDto, sarifLog } from "../findings/findings.service";
import { type Config, type Db, loadConfig } from "../kernel/env";
import { AppError } from "../kernel/errors";
import { logLine } from "../kernel/log";
import { isoTimestamp, newId } from "../lib/ids";
import { toBase64 } from "../lib/crypto";
import { resolveSecretValue } from "../security/secrets.service";
import { checkRunRequest } from "./github.check-run";
import * as repo from "./github.repo";
import { type Attempt, afterFailure } from "./github.retry";

/** The tenant secret holding the token that reports to GitHub (a PAT or an installation token). */
export const TOKEN_SECRET_NAME = "github_token";
/** How long one sender holds a report (longer than one attempt's requests). */
const LEASE_MS = 60_000;
const REQUEST_TIMEOUT_MS = 15_000;

interface ReportPayload {
  repository: string;
  trigger: GitTrigger;
  final_status: BuildFinished["final_status"];
  finished_at: string;
  findings_total: number;
}

/** Build-finished hook: enqueues the reports of a GitHub-triggered build and sends them. */
export async function reportFinishedBuild(env: Env, event: BuildFinished): Promise<void> {
  const trigger = triggerOf(event.metadata);
  if (trigger.kind === "manual") return;
  const config = loadConfig(env);
  const db = drizzle(env.DB);
  const binding = await repo.getBindingByName(db, event.tenant_id, trigger.repository);
  const payload: ReportPayload = {
    repository: trigger.repository,
    trigger,
    final_status: event.final_status,
    finished_at: event.finished_at,
    findings_total: event.findings_total,
  };
  const now = Date.now();
  const row = (kind: "check_run" | "sarif"): repo.ReportRow => ({
    reportId: newId(),
    buildId: event.build_id,
    tenantId: event.tenant_id,
    kind,
    state: "pending",
    payload: JSON.stringify(payload),
    attempts: 0,
    nextAttemptAt: now,
    lastError: null,
    createdAt: isoTimestamp(now),
    updatedAt: isoTimestamp(now),
  });
  // An aborted build has no complete results to upload; its check run still says so.
  const sarif = binding?.sarifUpload === true && event.final_status !== "aborted";
  await repo.enqueueReports(db, sarif ? [row("check_run"), row("sarif")] : [row("check_run")]);
  await sendDueReports({ db, config }, now, event.build_id);
}

/** Cron: sends every due report (at most `limit` per run). */
export async function drainGithubReports(env: Env, limit = 50): Promise<number> {
  return sendDueReports({ db: drizzle(env.DB), config: loadConfig(env) }, Date.now(), undefined, limit);
}

async function sendDueReports(deps: { db: Db; config: Config }, now: number, buildId?: string, limit = 50) {
  const due = await repo.dueReports(deps.db, now, limit, buildId);
  let sent = 0;
  for (const r of due) {
    if (!(await repo.leaseReport(deps.db, r, now + LEASE_MS))) continue;
    const result = await attempt(deps, r);
    const at = Date.now();
    const attempts = r.attempts + 1;
    const next = result.ok
      ? { state: "delivered" as const, nextAttemptAt: at, lastError: null }
      : { ...afterFailure(attempts, at, result), lastError: result.error.slice(0, 500) };
    await repo.settleReport(deps.db, r.reportId, { ...next, attempts, updatedAt: isoTimestamp(at) });
    if (result.ok) sent++;
    else
      logLine(next.state === "dead_lettered" ? "error" : "warn", "github_report_failed", {
        build_id: r.buildId,
        kind: r.kind,
        attempts,
        state: next.state,
        error: next.lastError,
      });
  }
  return sent;
}

async function attempt(deps: { db: Db; config: Config }, r: repo.ReportRow): Promise<Attempt> {
  let token: string;
  try {
    token = await resolveSecretValue(deps, r.tenantId, { name: TOKEN_SECRET_NAME });
  } catch (err) {
    if (err instanceof AppError && err.code === "secret_not_found")
      return { ok: false, retryable: false, error: `no ${TOKEN_SECRET_NAME} secret in the tenant` };
    return { ok: false, retryable: true, error: err instanceof AppError ? err.code : "secrets_error" };
  }
  const p = JSON.parse(r.payload) as ReportPayload;
  const [owner, name] = p.repository.split("/");
  const base = `${deps.config.GITHUB_API_URL.replace(/\/+$/, "")}/repos/${owner}/${name}`;
  try {
    if (r.kind === "check_run") {
      const findings = (await findingsRepo.buildFindings(deps.db, r.buildId, 500)).map(findingDto);
      const body = checkRunRequest(
        {
          build_id: r.buildId,
          final_status: p.final_status,
          finished_at: p.finished_at,
          head_sha: p.trigger.head_sha,
          findings_total: p.findings_total,
        },
        findings,
        `${deps.config.PUBLIC_BASE_URL.replace(/\/+$/, "")}/#/builds/${r.buildId}`,
      );
      return await post(`${base}/check-runs`, token, body);
    }
    const summary = await findingsRepo.findingsSummaryOf(deps.db, r.buildId);
    const log = await sarifLog(
      deps.db,
      { build_id: r.buildId, repo_url: `https://github.com/${p.repository}`, summary },
      { name: "clarity", version: "1" },
    );
    const ref = p.trigger.kind === "push" ? `refs/heads/${p.trigger.branch}` : `refs/pull/${p.trigger.number}/head`;
    return await post(`${base}/code-scanning/sarifs`, token, {
      commit_sha: p.trigger.head_sha,
      ref,
      sarif: await gzipBase64(JSON.stringify(log)),
      tool_name: "clarity",
    });
  } catch (err) {
    return { ok: false, retryable: true, error: err instanceof Error ? err.message : String(err) };
  }
}

async function post(url: string, token: string, body: unknown): Promise<Attempt> {
  const res = await fetch(url, {
    method: "POST",
    headers: {
      authorization: `Bearer ${token}`,
      accept: "application/vnd.github+json",
      "x-github-api-version": "2022-11-28",
      "content-type": "application/json",
      "user-agent": "clarity-control-plane",
    },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  if (res.ok) {
    await res.body?.cancel();
    return { ok: true };
  }
  const text = (await res.text().catch(() => "")).slice(0, 300);
  const retryable = res.status === 408 || res.status === 429 || res.status >= 500;
  return { ok: false, retryable, error: `HTTP ${res.status} from GitHub: ${text}` };
}

/** gzip, then base64 (what code scanning's `sarif` field takes). */
export async function gzipBase64(text: string): Promise<string> {
  const stream = new Blob([text]).stream().pipeThrough(new CompressionStream("gzip"));
  return toBase64(new Uint8Array(await new Response(stream).arrayBuffer()));
}
