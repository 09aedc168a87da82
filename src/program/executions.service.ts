/**
 * Campaign executions (issue 23): starting one (manual execute or a schedule's due time),
 * dispatching its builds — all at once, or at most `max_concurrent_builds` unfinished — and the
 * history API (`GET …/executions`, `…/executions/{n}`). Starting is idempotent per execution and
 * per planned run: the build id is linked to the run before the build is created, and creating a
 * build with the same id again is a no-op, so a retried or overlapping start never makes a second
 * build. Called by campaigns.service.ts, schedules.service.ts and program history routes.
 */
import { DEFAULT_OBJECTIVE } from "../builds/builds.schemas";
import { type Deps, createBuild } from "../builds/builds.service";
import { decodeCursor, page } from "../kernel/cursor";
import type { Db } from "../kernel/env";
import { AppError } from "../kernel/errors";
import type { Principal } from "../kernel/principal";
import { isoTimestamp, newId } from "../lib/ids";
import { UNKNOWN_LANGUAGE, planRunId } from "./campaign-report";
import { reconcile } from "./campaign-ingest";
import type { CampaignRow } from "./campaigns.repo";
import * as repo from "./executions.repo";
import type { CampaignExecuteRequest, PageQuery } from "./program.schemas";
import type { ExecutionOptions } from "./program.tables";

const now = () => isoTimestamp(Date.now());

/** Upper bound on builds one execution creates (each is a Durable Object call). */
export const MAX_EXECUTION_BUILDS = 100;
const UNFINISHED = new Set(["running", "paused", "pending"]);

export type PlannedRun = { run_id: string; repo: string; language: string };
/** `default`: real when a runner is configured (manual execute); `real`: must be; `simulated`: dry run. */
export type RunnerMode = "default" | "real" | "simulated";

export interface StartExecution {
  executionId: string;
  plan: PlannedRun[];
  options: ExecutionOptions;
  trigger: "manual" | "schedule";
  dueAt: string | null;
  maxConcurrentBuilds: number | null;
  runnerMode: RunnerMode;
  createdBy: string;
}

/** The build request of one planned run: options merged per level, then the system keys on top. */
export function runBuildRequest(
  campaignId: string,
  executionId: string,
  mode: RunnerMode,
  o: ExecutionOptions,
  spec: PlannedRun,
) {
  const runner = mode === "simulated" ? { runner_kind: "simulated" } : mode === "real" ? { runner_kind: "http" } : {};
  return {
    repo_url: spec.repo,
    objective: o.objective ?? DEFAULT_OBJECTIVE,
    dag: null,
    metadata: Object.assign({}, o.metadata, o.repo_metadata[spec.repo], o.run_metadata[spec.run_id], runner, {
      campaign_id: campaignId,
      campaign_execution_id: executionId,
      campaign_run_id: spec.run_id,
      campaign_language: spec.language,
    }) as Record<string, unknown>,
  };
}

/** The principal scheduled work runs as: the schedule's author, in the campaign's tenant, able to start builds only. */
export function systemPrincipal(sub: string, tenantId: string): Principal {
  return { sub, tenantId, roles: [], capabilities: ["program.runtime.write"] };
}

/**
 * The planned runs of an execution (repo × runs_per_repo, bounded) and a check that every
 * override names a planned target. Shared by manual execute and the schedule.
 */
export function planExecution(
  campaign: CampaignRow,
  body: Pick<CampaignExecuteRequest, "languages" | "repo_metadata" | "run_metadata">,
): PlannedRun[] {
  if (campaign.repos.length === 0) throw new AppError("campaign_plan_invalid", "The campaign has no repos to execute.");
  const plan = campaign.repos.flatMap((repoName) =>
    Array.from({ length: campaign.runsPerRepo }, (_, i) => ({
      run_id: planRunId(repoName, i + 1),
      repo: repoName,
      language: body.languages[repoName] ?? UNKNOWN_LANGUAGE,
    })),
  );
  if (plan.length > MAX_EXECUTION_BUILDS) {
    throw new AppError(
      "campaign_plan_invalid",
      `An execution creates at most ${MAX_EXECUTION_BUILDS} builds; this plan has ${plan.length}.`,
    );
  }
  const unknown = [
    ...Object.keys(body.repo_metadata)
      .filter((k) => !campaign.repos.includes(k))
      .map((k) => ({ path: `repo_metadata.${k}`, message: "not a campaign repo" })),
    ...Object.keys(body.languages)
      .filter((k) => !campaign.repos.includes(k))
      .map((k) => ({ path: `languages.${k}`, message: "not a campaign repo" })),
    ...Object.keys(body.run_metadata)
      .filter((k) => !plan.some((p) => p.run_id === k))
      .map((k) => ({ path: `run_metadata.${k}`, message: "not a planned run id" })),
  ];
  if (unknown.length > 0)
    throw new AppError("validation_failed", "Execution overrides name unknown targets.", { errors: unknown });
  return plan;
}

/**
 * True while an execution of the campaign still has work: a linked build unfinished (or not yet
 * created), or planned runs its dispatcher has not started. Reconciles first, so an execution
 * whose builds all finished is frozen and no longer counts. `except`: the execution being started
 * (an overlapping start of the same due time is not "another execution in progress").
 */
export async function executionInProgress(db: Db, campaign: CampaignRow, except?: string): Promise<number> {
  await reconcile(db, campaign);
  let pending = 0;
  for (const e of await repo.runningExecutionsOf(db, campaign.campaignId)) {
    if (e.executionId === except) continue;
    const links = await repo.executionLinks(db, campaign.campaignId, e.executionId);
    pending += links.filter((l) => l.status === null || UNFINISHED.has(l.status)).length;
    if (e.options !== null) pending += e.plan.filter((p) => !links.some((l) => l.runId === p.run_id)).length;
  }
  return pending;
}

/** Inserts the execution (idempotent on its id) and dispatches its first builds. */
export async function startExecution(deps: Deps, campaign: CampaignRow, start: StartExecution) {
  await repo.insertNumberedExecution(deps.db, {
    executionId: start.executionId,
    campaignId: campaign.campaignId,
    tenantId: campaign.tenantId,
    plan: start.plan,
    createdBy: start.createdBy,
    createdAt: now(),
    trigger: start.trigger,
    dueAt: start.dueAt,
    maxConcurrentBuilds: start.maxConcurrentBuilds,
    options: start.options,
    runnerMode: start.runnerMode,
  });
  const execution = await repo.getExecution(deps.db, start.executionId);
  if (!execution) throw new Error("execution vanished after insert");
  return { execution, runs: await dispatchExecution(deps, campaign, execution) };
}

/**
 * Creates the builds an execution may have now: builds linked but never created (a crash between
 * link and create) and, within `max_concurrent_builds`, the next planned runs. Returns every
 * build it created or confirmed, in plan order.
 */
export async function dispatchExecution(deps: Deps, campaign: CampaignRow, execution: repo.ExecutionRow) {
  const options = execution.options;
  const links = await repo.executionLinks(deps.db, campaign.campaignId, execution.executionId);
  let active = links.filter((l) => l.status === null || UNFINISHED.has(l.status)).length;
  const cap = execution.maxConcurrentBuilds ?? Number.POSITIVE_INFINITY;
  const todo: Array<{ spec: PlannedRun; buildId: string }> = [];
  for (const spec of execution.plan) {
    const link = links.find((l) => l.runId === spec.run_id);
    if (link) {
      if (link.status === null) todo.push({ spec, buildId: link.buildId });
      continue;
    }
    if (options === null || active >= cap) continue;
    const buildId = await repo.claimRunBuild(deps.db, {
      buildId: newId(),
      campaignId: campaign.campaignId,
      executionId: execution.executionId,
      runId: spec.run_id,
      tenantId: campaign.tenantId,
      createdAt: now(),
    });
    active++;
    todo.push({ spec, buildId });
  }
  if (options === null) return [];
  const mode = execution.runnerMode as RunnerMode;
  const started: Array<{ run_id: string; repo: string; build_id: string }> = [];
  // Bounded concurrency: each create is a Durable Object round trip plus D1 writes.
  for (let i = 0; i < todo.length; i += 8) {
    const made = await Promise.all(
      todo.slice(i, i + 8).map(async ({ spec, buildId }) => {
        const body = runBuildRequest(campaign.campaignId, execution.executionId, mode, options, spec);
        await createBuild(deps, body, { buildId });
        return { run_id: spec.run_id, repo: spec.repo, build_id: buildId };
      }),
    );
    started.push(...made);
  }
  return started;
}

// ---------------------------------------------------------------------------------------------
// History API

function executionDto(row: repo.ExecutionRow) {
  return {
    campaign_id: row.campaignId,
    execution_id: row.executionId,
    n: row.seq,
    trigger: row.trigger as "manual" | "schedule",
    due_at: row.dueAt,
    status: row.status as "running" | "finished",
    runner_mode: row.runnerMode as RunnerMode,
    max_concurrent_builds: row.maxConcurrentBuilds,
    plan: row.plan,
    created_by: row.createdBy,
    created_at: row.createdAt,
    finished_at: row.finishedAt,
    report: row.report ?? null,
  };
}

function executionRunDto(r: repo.ExecutionRunRow) {
  return {
    run_id: r.runId,
    repo: r.repo,
    language: r.language,
    status: r.status as "completed" | "failed" | "aborted",
    duration_ms: r.durationMs,
    findings_total: r.findingsTotal,
    findings_by_severity: r.findingsBySeverity,
    execution: r.execution as "real" | "simulated",
    build_id: r.buildId,
    observed_at: r.observedAt,
  };
}

/** Executions newest first (keyset on n); each with its frozen report (null while running). */
export async function listExecutions(db: Db, campaign: CampaignRow, q: PageQuery) {
  await reconcile(db, campaign);
  const before = q.cursor ? Number(decodeCursor(q.cursor, 1)[0]) : undefined;
  if (before !== undefined && !Number.isSafeInteger(before)) {
    throw new AppError("validation_failed", "Invalid cursor.", {
      errors: [{ path: "cursor", message: "not a cursor issued by this API" }],
    });
  }
  const rows = await repo.listExecutions(db, campaign.campaignId, q.limit + 1, before);
  return page(rows, q.limit, executionDto, (r) => [String(r.seq)]);
}

/** One execution by its number, with its runs. */
export async function getExecution(db: Db, campaign: CampaignRow, n: number) {
  await reconcile(db, campaign);
  const row = await repo.getExecutionBySeq(db, campaign.campaignId, n);
  if (!row) throw new AppError("campaign_execution_not_found", "Campaign execution not found.");
  const runs = await repo.listExecutionRuns(db, row.executionId);
  return { ...executionDto(row), runs: runs.map(executionRunDto) };
}
