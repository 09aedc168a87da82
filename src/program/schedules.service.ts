/**
 * Campaign schedules (issue 23): setting one (PUT/DELETE …/schedule, or with the campaign) and
 * the cron handler's part (`runCampaignSchedules`, called by src/index.ts every minute). A due
 * time starts at most one execution: the (campaign, due time) slot is claimed with
 * INSERT … ON CONFLICT DO NOTHING before anything starts and carries the execution id, and every
 * step after it is idempotent, so overlapping invocations and a crash mid-start converge on one
 * execution. The handler also dispatches running executions (max concurrent builds) and freezes
 * the reports of finished ones.
 */
import { drizzle } from "drizzle-orm/d1";
import { eq } from "drizzle-orm";
import { previewDag } from "../builds/builds.service";
import { type Config, type Db, loadConfig } from "../kernel/env";
import { AppError } from "../kernel/errors";
import { type Principal, hasCapability } from "../kernel/principal";
import { isoTimestamp, newId, parseTimestamp } from "../lib/ids";
import { reconcileExecution } from "./campaign-ingest";
import * as campaignsRepo from "./campaigns.repo";
import * as repo from "./executions.repo";
import {
  dispatchExecution,
  executionInProgress,
  planExecution,
  runBuildRequest,
  startExecution,
  systemPrincipal,
} from "./executions.service";
import { campaigns } from "./program.tables";
import { type StoredSchedule, checkCron, dueDecision, nextDueAfter } from "./schedule";
import type { ScheduleInput } from "./schedule.schemas";

const iso = (ms: number) => isoTimestamp(ms);

/** Validates a schedule (422 `invalid_schedule` for the expression or zone) and gives its next due time. */
export function resolveSchedule(
  campaign: Pick<campaignsRepo.CampaignRow, "repos" | "runsPerRepo">,
  input: ScheduleInput,
  who: string,
  nowMs: number,
): { schedule: StoredSchedule; nextDueAt: string | null } {
  const check = checkCron(input.cron, input.timezone);
  if (!check.ok) {
    throw new AppError("invalid_schedule", `The schedule's ${check.path} is not valid: ${check.message}`, {
      errors: [{ path: `schedule.${check.path}`, message: check.message }],
    });
  }
  // The overrides must name planned targets, as for POST …/execute.
  if (campaign.repos.length > 0) planExecution(campaign as campaignsRepo.CampaignRow, input.execute);
  const schedule: StoredSchedule = { ...input, updated_by: who, updated_at: iso(nowMs) };
  const next = input.enabled ? nextDueAfter(input.cron, input.timezone, nowMs) : null;
  return { schedule, nextDueAt: next === null ? null : iso(next) };
}

/** A schedule starts builds on its author's behalf: it needs what POST …/execute needs. */
function requireRuntimeWrite(config: Config, principal: Principal): void {
  if (config.ENFORCE_CAPABILITY_AUTH && !hasCapability(principal, "program.runtime.write")) {
    throw new AppError("insufficient_capability", "Missing required capability: program.runtime.write");
  }
}
export { requireRuntimeWrite };

async function loadCampaign(db: Db, tenantId: string, campaignId: string) {
  const row = await campaignsRepo.getCampaign(db, tenantId, campaignId);
  if (!row) throw new AppError("campaign_not_found", "Campaign not found.");
  return row;
}

async function scheduleView(db: Db, campaign: campaignsRepo.CampaignRow) {
  const slots = await repo.recentSlots(db, campaign.campaignId, 10);
  return {
    campaign_id: campaign.campaignId,
    dry_run: campaign.dryRun,
    schedule: campaign.schedule,
    next_due_at: campaign.nextDueAt,
    recent_slots: slots.map((s) => ({
      due_at: s.dueAt,
      state: s.state as "claimed" | "started" | "skipped" | "failed",
      reason: s.reason,
      execution_id: s.executionId,
    })),
  };
}

type ScheduleDeps = { db: Db; config: Config; principal: Principal };

export async function getSchedule(deps: Pick<ScheduleDeps, "db" | "principal">, campaignId: string) {
  return scheduleView(deps.db, await loadCampaign(deps.db, deps.principal.tenantId, campaignId));
}

/** PUT …/schedule: sets or replaces the schedule; the next due time is computed from now. */
export async function putSchedule(deps: ScheduleDeps, campaignId: string, input: ScheduleInput) {
  requireRuntimeWrite(deps.config, deps.principal);
  const campaign = await loadCampaign(deps.db, deps.principal.tenantId, campaignId);
  const { schedule, nextDueAt } = resolveSchedule(campaign, input, deps.principal.sub, Date.now());
  await deps.db
    .update(campaigns)
    .set({ schedule, nextDueAt, updatedAt: schedule.updated_at })
    .where(eq(campaigns.campaignId, campaign.campaignId));
  return scheduleView(deps.db, { ...campaign, schedule, nextDueAt });
}

/** DELETE …/schedule: manual execution only from now on (history is kept). */
export async function deleteSchedule(deps: ScheduleDeps, campaignId: string) {
  requireRuntimeWrite(deps.config, deps.principal);
  const campaign = await loadCampaign(deps.db, deps.principal.tenantId, campaignId);
  await deps.db
    .update(campaigns)
    .set({ schedule: null, nextDueAt: null, updatedAt: iso(Date.now()) })
    .where(eq(campaigns.campaignId, campaign.campaignId));
}

// ---------------------------------------------------------------------------------------------
// The cron handler's part

function runnerConfigured(config: Config): boolean {
  return config.RUNNER_URL !== undefined && (config.RUNNER_SHARED_SECRETS?.length ?? 0) > 0;
}

function logLine(level: "info" | "warn" | "error", msg: string, fields: Record<string, unknown>): void {
  console.log(JSON.stringify({ level, msg, ...fields }));
}

/**
 * Starts the execution of a claimed slot, or settles the slot as skipped (an execution still has
 * work) or failed (a start that can never succeed: no runner for real builds, a plan that does not
 * plan). Transient errors propagate: the slot stays claimed and the next invocation retries it
 * with the same execution id.
 */
async function startSlot(env: Env, db: Db, config: Config, campaign: campaignsRepo.CampaignRow, slot: repo.SlotRow) {
  const s = campaign.schedule as StoredSchedule;
  const nowIso = iso(Date.now());
  const existing = await repo.getExecution(db, slot.executionId);
  const mode = campaign.dryRun ? "simulated" : "real";
  const options = {
    objective: s.execute.objective,
    metadata: s.execute.metadata,
    repo_metadata: s.execute.repo_metadata,
    run_metadata: s.execute.run_metadata,
  };
  let plan = existing?.plan;
  if (!plan) {
    if ((await executionInProgress(db, campaign, slot.executionId)) > 0) {
      await repo.settleSlot(db, slot, "skipped", "execution_in_progress", nowIso);
      return;
    }
    if (mode === "real" && !runnerConfigured(config)) {
      await repo.settleSlot(db, slot, "failed", "runner_not_configured", nowIso);
      return;
    }
    try {
      plan = planExecution(campaign, s.execute);
      for (const spec of plan) previewDag(runBuildRequest(campaign.campaignId, slot.executionId, mode, options, spec));
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      await repo.settleSlot(db, slot, "failed", err.code, nowIso);
      return;
    }
  }
  const deps = { env, db, config, principal: systemPrincipal(s.updated_by, campaign.tenantId) };
  await startExecution(deps, campaign, {
    executionId: slot.executionId,
    plan,
    options,
    trigger: "schedule",
    dueAt: slot.dueAt,
    maxConcurrentBuilds: s.max_concurrent_builds,
    runnerMode: mode,
    createdBy: s.updated_by,
  });
  await repo.settleSlot(db, slot, "started", null, nowIso);
}

/** One due campaign: claim its slot, start (or settle) it, then move its due time on. */
async function fireDue(env: Env, db: Db, config: Config, campaign: campaignsRepo.CampaignRow, nowMs: number) {
  const dueAt = campaign.nextDueAt as string;
  const s = campaign.schedule;
  if (!s?.enabled) {
    await repo.advanceDue(db, campaign.campaignId, dueAt, null);
    return "disabled";
  }
  const decision = dueDecision(parseTimestamp(dueAt), nowMs, s.cron, s.timezone);
  if (!decision.due) return "not_due";
  const claimedAt = iso(nowMs);
  const slot = await repo.claimSlot(db, {
    campaignId: campaign.campaignId,
    dueAt,
    tenantId: campaign.tenantId,
    executionId: newId(),
    state: "claimed",
    reason: null,
    createdAt: claimedAt,
    updatedAt: claimedAt,
  });
  if (slot.state === "claimed") await startSlot(env, db, config, campaign, slot);
  await repo.advanceDue(db, campaign.campaignId, dueAt, decision.next === null ? null : iso(decision.next));
  return slot.state;
}

/**
 * The cron handler's campaign work at `nowMs` (the invocation's scheduled time): start the
 * executions that are due, dispatch further builds of running executions within their
 * concurrency, and ingest and freeze finished ones. A failure of one campaign is logged and does
 * not stop the others.
 */
export async function runCampaignSchedules(env: Env, nowMs: number): Promise<{ due: number; running: number }> {
  const db = drizzle(env.DB);
  const config = loadConfig(env);
  const due = await repo.dueCampaigns(db, iso(nowMs), 50);
  for (const campaign of due) {
    try {
      await fireDue(env, db, config, campaign, nowMs);
    } catch (err) {
      logLine("error", "campaign_schedule_failed", { campaign_id: campaign.campaignId, error: String(err) });
    }
  }
  const running = await repo.runningExecutions(db, 200);
  for (const execution of running) {
    try {
      const campaign = await campaignsRepo.getCampaign(db, execution.tenantId, execution.campaignId);
      if (!campaign) continue;
      await reconcileExecution(db, campaign, execution);
      const fresh = await repo.getExecution(db, execution.executionId);
      if (fresh?.status !== "running") continue;
      const deps = { env, db, config, principal: systemPrincipal(execution.createdBy, execution.tenantId) };
      await dispatchExecution(deps, campaign, fresh);
    } catch (err) {
      logLine("error", "campaign_dispatch_failed", { execution_id: execution.executionId, error: String(err) });
    }
  }
  return { due: due.length, running: running.length };
}
