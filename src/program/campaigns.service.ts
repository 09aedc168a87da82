/**
 * Validation campaigns (SPEC §6.1 with quirk 14 fixed, DESIGN §6): create/get/list, client run
 * ingest, the report, and execution — every planned repo × run becomes a build through the normal
 * build path, and a finished build is ingested as its run by `ingestFinishedBuild` (the build
 * completion hook) or, as a safety net, by reconciliation on every campaign/report read.
 * Everything is scoped to the caller's tenant. Called by program.routes.ts and src/index.ts.
 */
import { drizzle } from "drizzle-orm/d1";
import { z } from "zod";
import type { BuildFinished } from "../builds/build-hooks";
import { getBuildRow } from "../builds/builds.repo";
import { DEFAULT_OBJECTIVE } from "../builds/builds.schemas";
import { type Deps, createBuild, previewDag } from "../builds/builds.service";
import type { Db } from "../kernel/env";
import { AppError } from "../kernel/errors";
import { isoTimestamp, newId, parseTimestamp } from "../lib/ids";
import { hasCapability } from "../kernel/principal";
import {
  BETA_DEFAULT,
  type ReportRun,
  type RunStatus,
  UNKNOWN_LANGUAGE,
  buildReport,
  planRunId,
} from "./campaign-report";
import * as repo from "./campaigns.repo";
import { decodeCursor, page } from "../kernel/cursor";
import type { CampaignCreateRequest, CampaignExecuteRequest, PageQuery, ValidationRunRequest } from "./program.schemas";

export type ProgramDeps = Pick<Deps, "db" | "principal" | "requestId">;

/** Upper bound on stored runs per campaign, so a report is bounded work. */
export const MAX_RUNS_PER_CAMPAIGN = 5000;
/** Upper bound on builds one execute request creates (each is a Durable Object call). */
export const MAX_EXECUTION_BUILDS = 100;

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

export async function createCampaign(deps: ProgramDeps, body: CampaignCreateRequest) {
  const ts = now();
  const row = {
    campaignId: newId(),
    tenantId: deps.principal.tenantId,
    name: body.name,
    repos: body.repos,
    runsPerRepo: body.runs_per_repo,
    thresholdProfile: body.threshold_profile ?? { ...BETA_DEFAULT },
    currentExecutionId: null,
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
  });
  return {
    campaign_id: campaign.campaignId,
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

function shallowMerge(...parts: Array<Record<string, unknown> | undefined>): Record<string, unknown> {
  return Object.assign({}, ...parts.filter((p) => p !== undefined)) as Record<string, unknown>;
}

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

  if (campaign.currentExecutionId) {
    const pending = await repo.unfinishedBuilds(deps.db, campaignId, campaign.currentExecutionId);
    if (pending.length > 0) {
      throw new AppError(
        "campaign_execution_in_progress",
        `${pending.length} build(s) of the current execution have not finished.`,
      );
    }
  }

  const executionId = newId();
  const requests = plan.map((spec) => ({
    spec,
    body: {
      repo_url: spec.repo,
      objective: body.objective ?? DEFAULT_OBJECTIVE,
      dag: null,
      metadata: shallowMerge(body.metadata, body.repo_metadata[spec.repo], body.run_metadata[spec.run_id], {
        campaign_id: campaignId,
        campaign_execution_id: executionId,
        campaign_run_id: spec.run_id,
        campaign_language: spec.language,
      }),
    },
  }));
  for (const r of requests) previewDag(r.body); // throws invalid_dag before anything is stored

  await repo.insertExecution(deps.db, {
    executionId,
    campaignId,
    tenantId: campaign.tenantId,
    plan,
    createdBy: deps.principal.sub,
    createdAt: now(),
  });
  const started: Array<{ run_id: string; repo: string; build_id: string }> = [];
  // Bounded concurrency: each create is a Durable Object round trip plus D1 writes.
  for (let i = 0; i < requests.length; i += 8) {
    const chunk = requests.slice(i, i + 8);
    const made = await Promise.all(
      chunk.map(async ({ spec, body: buildBody }) => {
        const build = await createBuild(deps, buildBody);
        await repo.linkBuild(deps.db, {
          buildId: build.build_id,
          campaignId,
          executionId,
          runId: spec.run_id,
          tenantId: campaign.tenantId,
          createdAt: now(),
        });
        return { run_id: spec.run_id, repo: spec.repo, build_id: build.build_id };
      }),
    );
    started.push(...made);
  }
  return { campaign_id: campaignId, execution_id: executionId, run_count: started.length, runs: started };
}

const CampaignBuildMetadata = z.object({
  campaign_id: z.uuid(),
  campaign_execution_id: z.uuid(),
  campaign_run_id: z.string().min(1),
});

/**
 * Stores a finished build's outcome as its campaign run, from the build's current row (so any
 * number of calls, in any order, converge on the latest outcome). Only the build linked to a run
 * of the campaign's current execution, in the campaign's tenant, is accepted.
 */
async function syncBuildRun(
  db: Db,
  campaign: repo.CampaignRow,
  buildId: string,
  runId: string,
  hint?: BuildFinished,
): Promise<void> {
  const build = await getBuildRow(db, buildId);
  if (!build || build.tenantId !== campaign.tenantId) return;
  if (build.status !== "completed" && build.status !== "failed" && build.status !== "aborted") return;
  const execution = campaign.currentExecutionId ? await repo.getExecution(db, campaign.currentExecutionId) : null;
  const spec = execution?.plan.find((p) => p.run_id === runId);
  if (!execution || !spec || spec.repo !== build.repoUrl) return;
  if ((await repo.linkedBuildId(db, campaign.campaignId, execution.executionId, runId)) !== buildId) return;
  const fromHint = hint !== undefined && hint.final_status === build.status;
  const ts = now();
  await repo.upsertBuildRun(db, {
    campaignId: campaign.campaignId,
    runId,
    tenantId: campaign.tenantId,
    repo: spec.repo,
    language: spec.language,
    status: build.status,
    durationMs: Math.round(
      fromHint ? hint.duration_ms : Math.max(0, parseTimestamp(build.updatedAt) - parseTimestamp(build.createdAt)),
    ),
    findingsTotal: fromHint ? hint.findings_total : 0,
    source: "build",
    buildId,
    observedAt: build.updatedAt,
    ingestedBy: "system",
    now: ts,
  });
}

/** Ingests every finished build of the current execution that is not stored as its run yet. */
async function reconcile(db: Db, campaign: repo.CampaignRow): Promise<void> {
  if (!campaign.currentExecutionId) return;
  const pending = await repo.unsyncedFinishedBuilds(db, campaign.campaignId, campaign.currentExecutionId);
  for (const { build, runId } of pending) await syncBuildRun(db, campaign, build.buildId, runId);
}

/** The build completion hook (registered in src/index.ts): campaign builds become runs. */
export async function ingestFinishedBuild(env: Env, event: BuildFinished): Promise<void> {
  const meta = CampaignBuildMetadata.safeParse(event.metadata);
  if (!meta.success) return;
  const db = drizzle(env.DB);
  const campaign = await repo.getCampaign(db, event.tenant_id, meta.data.campaign_id);
  if (!campaign || campaign.currentExecutionId !== meta.data.campaign_execution_id) return;
  // The hook can fire before execute has linked the build; link it here too (first link wins).
  const execution = await repo.getExecution(db, meta.data.campaign_execution_id);
  if (!execution?.plan.some((p) => p.run_id === meta.data.campaign_run_id && p.repo === event.repo_url)) return;
  await repo.linkBuild(db, {
    buildId: event.build_id,
    campaignId: campaign.campaignId,
    executionId: execution.executionId,
    runId: meta.data.campaign_run_id,
    tenantId: campaign.tenantId,
    createdAt: now(),
  });
  await syncBuildRun(db, campaign, event.build_id, meta.data.campaign_run_id, event);
}
