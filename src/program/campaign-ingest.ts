/**
 * Campaign builds become runs: a finished build's outcome (its current row: status, duration,
 * `findings_summary`) is stored as the run of its execution (`campaign_execution_runs`, kept for
 * ever) and, for the campaign's current execution, as the campaign's current run
 * (`campaign_runs`). When every planned build of an execution finished, its report is frozen.
 * Entered by the build-finished hook (`ingestFinishedBuild`, registered in src/index.ts) and by
 * reconciliation on reads and on the cron handler.
 */
import { drizzle } from "drizzle-orm/d1";
import { z } from "zod";
import type { BuildFinished } from "../builds/build-hooks";
import { getBuildRow } from "../builds/builds.repo";
import { parseFindingsSummary } from "../findings/baseline";
import type { Db } from "../kernel/env";
import { isoTimestamp, parseTimestamp } from "../lib/ids";
import type { RunStatus } from "./campaign-report";
import * as campaignsRepo from "./campaigns.repo";
import { type ExecutionRun, buildExecutionReport, zeroSeverities } from "./execution-report";
import * as repo from "./executions.repo";

const now = () => isoTimestamp(Date.now());
const FINISHED = new Set(["completed", "failed", "aborted"]);

const CampaignBuildMetadata = z.object({
  campaign_id: z.uuid(),
  campaign_execution_id: z.uuid(),
  campaign_run_id: z.string().min(1),
});

/**
 * Stores a finished build's outcome as the run of its execution, from the build's current row (so
 * any number of calls, in any order, converge on the latest outcome). Only the build linked to a
 * planned run of an execution of this campaign, in the campaign's tenant, is accepted.
 */
async function syncBuildRun(
  db: Db,
  campaign: campaignsRepo.CampaignRow,
  execution: repo.ExecutionRow,
  buildId: string,
  runId: string,
  hint?: BuildFinished,
): Promise<void> {
  const build = await getBuildRow(db, buildId);
  if (!build || build.tenantId !== campaign.tenantId || !FINISHED.has(build.status)) return;
  const spec = execution.plan.find((p) => p.run_id === runId);
  if (execution.campaignId !== campaign.campaignId || !spec || spec.repo !== build.repoUrl) return;
  if ((await campaignsRepo.linkedBuildId(db, campaign.campaignId, execution.executionId, runId)) !== buildId) return;
  const fromHint = hint !== undefined && hint.final_status === build.status;
  // The hook counts the build's findings rows; reconciliation reads the build's findings_summary
  // (the same count, written when it finished), which also gives them by severity.
  const summary = parseFindingsSummary(build.findingsSummary);
  const findingsTotal = fromHint ? hint.findings_total : (summary?.total ?? 0);
  const durationMs = Math.round(
    fromHint ? hint.duration_ms : Math.max(0, parseTimestamp(build.updatedAt) - parseTimestamp(build.createdAt)),
  );
  const ts = now();
  await repo.upsertExecutionRun(db, {
    executionId: execution.executionId,
    runId,
    campaignId: campaign.campaignId,
    tenantId: campaign.tenantId,
    repo: spec.repo,
    language: spec.language,
    status: build.status,
    durationMs,
    findingsTotal,
    findingsBySeverity: summary?.by_severity ?? zeroSeverities(),
    execution: build.metadata.runner_kind === "http" ? "real" : "simulated",
    buildId,
    observedAt: build.updatedAt,
    createdAt: ts,
    updatedAt: ts,
  });
  if (campaign.currentExecutionId === execution.executionId) {
    await campaignsRepo.upsertBuildRun(db, {
      campaignId: campaign.campaignId,
      runId,
      tenantId: campaign.tenantId,
      repo: spec.repo,
      language: spec.language,
      status: build.status,
      durationMs,
      findingsTotal,
      source: "build",
      buildId,
      observedAt: build.updatedAt,
      ingestedBy: "system",
      now: ts,
    });
  }
}

/**
 * Freezes an execution's report when it is over: every planned run has a linked build (an
 * execution older than migration 0011 only counts the builds it linked), every linked build
 * finished and is stored as its run. Written once; never rewritten.
 */
export async function maybeFreeze(
  db: Db,
  campaign: campaignsRepo.CampaignRow,
  execution: repo.ExecutionRow,
): Promise<boolean> {
  if (execution.status !== "running") return false;
  const links = await repo.executionLinks(db, campaign.campaignId, execution.executionId);
  if (links.some((l) => l.status === null || !FINISHED.has(l.status))) return false;
  if (execution.options !== null && execution.plan.some((p) => !links.some((l) => l.runId === p.run_id))) return false;
  const rows = await repo.listExecutionRuns(db, execution.executionId);
  if (links.some((l) => !rows.some((r) => r.runId === l.runId))) return false;
  const languages: Record<string, string> = {};
  for (const spec of execution.plan) languages[spec.repo] ??= spec.language;
  const runs: ExecutionRun[] = rows.map((r) => ({
    run_id: r.runId,
    repo: r.repo,
    language: r.language,
    status: r.status as RunStatus,
    duration_ms: r.durationMs,
    findings_total: r.findingsTotal,
    findings_by_severity: r.findingsBySeverity,
    execution: r.execution === "real" ? "real" : "simulated",
  }));
  const finishedAt = now();
  const report = buildExecutionReport({
    runs,
    profile: campaign.thresholdProfile,
    planRepos: [...new Set(execution.plan.map((p) => p.repo))],
    runsPerRepo: campaign.runsPerRepo,
    languages,
    generatedAt: finishedAt,
    dryRun: campaign.dryRun,
  });
  return repo.freezeExecution(db, execution.executionId, report, finishedAt);
}

/** Ingests one execution's finished builds that are not stored yet, then freezes it if over. */
export async function reconcileExecution(
  db: Db,
  campaign: campaignsRepo.CampaignRow,
  execution: repo.ExecutionRow,
): Promise<void> {
  const pending = await repo.unsyncedExecutionBuilds(db, campaign.campaignId, execution.executionId);
  for (const p of pending) await syncBuildRun(db, campaign, execution, p.buildId, p.runId);
  await maybeFreeze(db, campaign, execution);
}

/**
 * Reconciliation behind the completion hook: every running execution of the campaign (its runs,
 * its frozen report) and the campaign's current runs.
 */
export async function reconcile(db: Db, campaign: campaignsRepo.CampaignRow): Promise<void> {
  for (const execution of await repo.runningExecutionsOf(db, campaign.campaignId)) {
    await reconcileExecution(db, campaign, execution);
  }
  if (!campaign.currentExecutionId) return;
  const current = await repo.getExecution(db, campaign.currentExecutionId);
  if (!current) return;
  const pending = await campaignsRepo.unsyncedFinishedBuilds(db, campaign.campaignId, current.executionId);
  for (const { build, runId } of pending) await syncBuildRun(db, campaign, current, build.buildId, runId);
}

/** The build completion hook (registered in src/index.ts): campaign builds become runs. */
export async function ingestFinishedBuild(env: Env, event: BuildFinished): Promise<void> {
  const meta = CampaignBuildMetadata.safeParse(event.metadata);
  if (!meta.success) return;
  const db = drizzle(env.DB);
  const campaign = await campaignsRepo.getCampaign(db, event.tenant_id, meta.data.campaign_id);
  if (!campaign) return;
  const execution = await repo.getExecution(db, meta.data.campaign_execution_id);
  if (!execution || execution.campaignId !== campaign.campaignId) return;
  // The hook can fire before execute has linked the build; link it here too (first link wins).
  if (!execution.plan.some((p) => p.run_id === meta.data.campaign_run_id && p.repo === event.repo_url)) return;
  await campaignsRepo.linkBuild(db, {
    buildId: event.build_id,
    campaignId: campaign.campaignId,
    executionId: execution.executionId,
    runId: meta.data.campaign_run_id,
    tenantId: campaign.tenantId,
    createdAt: now(),
  });
  await syncBuildRun(db, campaign, execution, event.build_id, meta.data.campaign_run_id, event);
  await maybeFreeze(db, campaign, execution);
}
