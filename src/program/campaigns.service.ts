/**
 * Validation campaigns (SPEC §6.1 with quirk 14 fixed, DESIGN §6): create/get/list, client run
 * ingest, the report, and execution — every planned repo × run becomes a build through the normal
 * build path, and a finished build is ingested as its run by `ingestFinishedBuild` (the build
 * completion hook) or, as a safety net, by reconciliation on every campaign/report read.
 * Everything is scoped to the caller's tenant. Called by program.routes.ts and src/index.ts.
 */
import { type Deps, previewDag } from "../builds/builds.service";
import type { Db } from "../kernel/env";
import { AppError } from "../kernel/errors";
import { isoTimestamp, newId } from "../lib/ids";
import { hasCapability } from "../kernel/principal";
import { BETA_DEFAULT, type ReportRun, type RunStatus, buildReport } from "./campaign-report";
import { reconcile } from "./campaign-ingest";
import * as repo from "./campaigns.repo";
import { requireRuntimeWrite, resolveSchedule } from "./schedules.service";
import { executionInProgress, planExecution, runBuildRequest, startExecution } from "./executions.service";
import { decodeCursor, page } from "../kernel/cursor";
import type { CampaignCreateRequest, CampaignExecuteRequest, PageQuery, ValidationRunRequest } from "./program.schemas";

export type ProgramDeps = Pick<Deps, "db" | "principal" | "requestId">;

/** Upper bound on stored runs per campaign, so a report is bounded work. */
export const MAX_RUNS_PER_CAMPAIGN = 5000;

/** Build metadata keys the system sets on campaign builds (client values are overwritten). */
export const CAMPAIGN_METADATA_KEYS = [
  "campaign_id",
  "campaign_execution_id",
  "campaign_run_id",
  "campaign_language",
] as const;

const now = () => isoTimestamp(Date.now());

function campaignDto(row: repo.CampaignRow) {
  return {
    campaign_id: row.campaignId,
    name: row.name,
    repos: row.repos,
    runs_per_repo: row.runsPerRepo,
    threshold_profile: row.thresholdProfile,
    current_execution_id: row.currentExecutionId,
    dry_run: row.dryRun,
    schedule: row.schedule,
    next_due_at: row.nextDueAt,
    created_by: row.createdBy,
    created_at: row.createdAt,
    updated_at: row.updatedAt,
  };
}

function runDto(row: repo.CampaignRunRow) {
  return {
    run_id: row.runId,
    repo: row.repo,
    language: row.language,
    status: row.status as RunStatus,
    duration_ms: row.durationMs,
    findings_total: row.findingsTotal,
    source: row.source as "build" | "manual",
    build_id: row.buildId,
    observed_at: row.observedAt,
    ingested_by: row.ingestedBy,
    created_at: row.createdAt,
    updated_at: row.updatedAt,
  };
}

async function loadCampaign(deps: ProgramDeps, campaignId: string): Promise<repo.CampaignRow> {
  const row = await repo.getCampaign(deps.db, deps.principal.tenantId, campaignId);
  if (!row) throw new AppError("campaign_not_found", "Campaign not found.");
  return row;
}

export async function createCampaign(deps: ProgramDeps & Pick<Deps, "config">, body: CampaignCreateRequest) {
  const ts = now();
  if (body.schedule) requireRuntimeWrite(deps.config, deps.principal);
  const scheduled = body.schedule
    ? resolveSchedule(
        { repos: body.repos, runsPerRepo: body.runs_per_repo },
        body.schedule,
        deps.principal.sub,
        Date.now(),
      )
    : { schedule: null, nextDueAt: null };
  const row = {
    campaignId: newId(),
    tenantId: deps.principal.tenantId,
    name: body.name,
    repos: body.repos,
    runsPerRepo: body.runs_per_repo,
    thresholdProfile: body.threshold_profile ?? { ...BETA_DEFAULT },
    currentExecutionId: null,
    dryRun: body.dry_run,
    schedule: scheduled.schedule,
    nextDueAt: scheduled.nextDueAt,
    createdBy: deps.principal.sub,
    createdAt: ts,
    updatedAt: ts,
  };
  await repo.insertCampaign(deps.db, row);
  return campaignDto(row);
}

export async function getCampaign(deps: ProgramDeps, campaignId: string) {
  const row = await loadCampaign(deps, campaignId);
  await reconcile(deps.db, row);
  return campaignDto(row);
}

export async function listCampaigns(deps: ProgramDeps, q: PageQuery) {
  const after = q.cursor ? decodeCursor(q.cursor, 2) : undefined;
  const rows = await repo.listCampaigns(
    deps.db,
    deps.principal.tenantId,
    q.limit + 1,
    after ? { createdAt: after[0] as string, campaignId: after[1] as string } : undefined,
  );
  return page(rows, q.limit, campaignDto, (r) => [r.createdAt, r.campaignId]);
}

/**
 * Client ingest (SPEC §6.1): the same run_id replaces a client-ingested run. A run the system
 * collected from a campaign build is evidence a client cannot overwrite (409). When the campaign
 * has a plan, the run's repo must be one of its repos.
 */
export async function ingestRun(deps: ProgramDeps, campaignId: string, body: ValidationRunRequest) {
  const campaign = await loadCampaign(deps, campaignId);
  if (campaign.repos.length > 0 && !campaign.repos.includes(body.repo)) {
    throw new AppError("validation_failed", "Run repo is not one of the campaign's repos.", {
      errors: [{ path: "repo", message: `must be one of the campaign's repos (${campaign.repos.length})` }],
    });
  }
  const existing = await repo.getRun(deps.db, campaignId, body.run_id);
  if (!existing && (await repo.countRuns(deps.db, campaignId)) >= MAX_RUNS_PER_CAMPAIGN) {
    throw new AppError("campaign_run_limit_exceeded", `A campaign holds at most ${MAX_RUNS_PER_CAMPAIGN} runs.`);
  }
  const ts = now();
  const result = await repo.upsertManualRun(deps.db, {
    campaignId,
    runId: body.run_id,
    tenantId: campaign.tenantId,
    repo: body.repo,
    language: body.language,
    status: body.status,
    durationMs: body.duration_ms,
    findingsTotal: body.findings_total,
    source: "manual",
    buildId: null,
    observedAt: ts,
    ingestedBy: deps.principal.sub,
    now: ts,
  });
  if (!result) {
    throw new AppError(
      "campaign_run_conflict",
      `Run ${body.run_id} was collected from a campaign build and cannot be replaced by a client.`,
    );
  }
  return { created: result.created, body: { status: "accepted" as const, run_id: body.run_id } };
}

export async function listRuns(deps: ProgramDeps, campaignId: string, q: PageQuery) {
  await loadCampaign(deps, campaignId);
  const after = q.cursor ? decodeCursor(q.cursor, 1)[0] : undefined;
  const rows = await repo.listRuns(deps.db, campaignId, q.limit + 1, after);
  return page(rows, q.limit, runDto, (r) => [r.runId]);
}

export async function getRun(deps: ProgramDeps, campaignId: string, runId: string) {
  await loadCampaign(deps, campaignId);
  const row = await repo.getRun(deps.db, campaignId, runId);
  if (!row) throw new AppError("campaign_run_not_found", "Campaign run not found.");
  return runDto(row);
}

/** The report over the campaign's runs (reconciled with its finished builds first). */
export async function campaignReport(deps: ProgramDeps, campaignId: string) {
  const campaign = await loadCampaign(deps, campaignId);
  return computeReport(deps.db, campaign);
}

export async function computeReport(db: Db, campaign: repo.CampaignRow) {
  await reconcile(db, campaign);
  const rows = await repo.listAllRuns(db, campaign.campaignId);
  const execution = campaign.currentExecutionId ? await repo.getExecution(db, campaign.currentExecutionId) : null;
  const languages: Record<string, string> = {};
  for (const spec of execution?.plan ?? []) languages[spec.repo] ??= spec.language;
  const executions = await repo.buildExecutions(
    db,
    rows.flatMap((r) => (r.buildId ? [r.buildId] : [])),
  );
  const runs: ReportRun[] = rows.map((r) => ({
    repo: r.repo,
    language: r.language,
    run_id: r.runId,
    status: r.status as RunStatus,
    duration_ms: r.durationMs,
    findings_total: r.findingsTotal,
    // A build's run is evidence of what its runner did; a build that is gone is not evidence.
    execution: r.buildId === null ? "reported" : (executions.get(r.buildId) ?? "simulated"),
  }));
  const report = buildReport({
    runs,
    profile: campaign.thresholdProfile,
    planRepos: campaign.repos,
    runsPerRepo: campaign.runsPerRepo,
    languages,
    generatedAt: now(),
    dryRun: campaign.dryRun,
  });
  return {
    campaign_id: campaign.campaignId,
    dry_run: campaign.dryRun,
    ...report,
    evidence: {
      runs_from_builds: rows.filter((r) => r.source === "build").length,
      runs_real: runs.filter((r) => r.execution === "real").length,
      runs_simulated: runs.filter((r) => r.execution === "simulated").length,
      runs_from_clients: rows.filter((r) => r.source === "manual").length,
      execution_id: campaign.currentExecutionId,
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Execution

/**
 * POST …/execute: one build per planned run (repo × runs_per_repo), created through the normal
 * build path on behalf of the caller, who therefore also needs `program.runtime.write`. Refused
 * while builds of the previous execution are still unfinished. Every build is planned before any
 * is created, so a bad metadata override fails the request without side effects.
 */
export async function executeCampaign(deps: Deps, campaignId: string, body: CampaignExecuteRequest) {
  if (deps.config.ENFORCE_CAPABILITY_AUTH && !hasCapability(deps.principal, "program.runtime.write")) {
    throw new AppError("insufficient_capability", "Missing required capability: program.runtime.write");
  }
  const campaign = await loadCampaign(deps, campaignId);
  const plan = planExecution(campaign, body);

  const pending = await executionInProgress(deps.db, campaign);
  if (pending > 0) {
    throw new AppError(
      "campaign_execution_in_progress",
      `${pending} build(s) of an earlier execution have not finished.`,
    );
  }

  const executionId = newId();
  const mode = campaign.dryRun ? "simulated" : "default";
  const options = {
    objective: body.objective,
    metadata: body.metadata,
    repo_metadata: body.repo_metadata,
    run_metadata: body.run_metadata,
  };
  // Every build is planned before anything is stored: invalid_dag fails the request cleanly.
  for (const spec of plan) previewDag(runBuildRequest(campaignId, executionId, mode, options, spec));
  const { execution, runs: started } = await startExecution(deps, campaign, {
    executionId,
    plan,
    options,
    trigger: "manual",
    dueAt: null,
    maxConcurrentBuilds: null,
    runnerMode: mode,
    createdBy: deps.principal.sub,
  });
  return {
    campaign_id: campaignId,
    execution_id: executionId,
    n: execution.seq,
    run_count: started.length,
    runs: started,
  };
}

/** The build completion hook lives in campaign-ingest.ts; re-exported for the worker entry. */
export { ingestFinishedBuild } from "./campaign-ingest";
