/**
 * Release checklist, rollback drills and the go-live decision (SPEC §6.7–6.8, quirk 15 fixed):
 * records are upserted per (tenant, release_id); the decision reads the tenant's checklist and
 * drill and, with a `campaign_id`, takes validation readiness from that campaign's report
 * instead of the client's flag. Called by program.routes.ts.
 */
import { type AuditAction, type AuditEntry, actorOf } from "../audit/audit";
import { AppError } from "../kernel/errors";
import { isoTimestamp } from "../lib/ids";
import { getCampaign } from "./campaigns.repo";
import { type ProgramDeps, computeReport } from "./campaigns.service";
import { decideGoLive } from "./go-live";
import type { ValidationEvidence } from "./program.tables";
import type { ChecklistRequest, GoLiveRequest, RollbackDrillRequest } from "./program.schemas";
import * as repo from "./release.repo";

/** What an upsert returns: the DTO and whether the record was created (201) or replaced (200). */
export interface Upserted<T> {
  created: boolean;
  body: T;
}

function checklistDto(r: repo.ChecklistRow) {
  return {
    release_id: r.releaseId,
    security_review: r.securityReview,
    slo_dashboard: r.sloDashboard,
    rollback_tested: r.rollbackTested,
    docs_complete: r.docsComplete,
    runbooks_ready: r.runbooksReady,
    updated_by: r.updatedBy,
    updated_at: r.updatedAt,
  };
}

function drillDto(r: repo.DrillRow) {
  return {
    release_id: r.releaseId,
    passed: r.passed,
    duration_minutes: r.durationMinutes,
    issues_found: r.issuesFound,
    updated_by: r.updatedBy,
    updated_at: r.updatedAt,
  };
}

function decisionDto(r: repo.DecisionRow) {
  return {
    release_id: r.releaseId,
    status: r.status as "GO" | "NO_GO",
    reasons: r.reasons,
    decided_by: r.decidedBy,
    decided_at: r.decidedAt,
    validation: r.validation,
  };
}

const now = () => isoTimestamp(Date.now());

function releaseAudit(
  deps: ProgramDeps,
  action: AuditAction,
  releaseId: string,
  detail: Record<string, unknown> = {},
): AuditEntry {
  return { actor: actorOf(deps), action, target_type: "release", target_id: releaseId, detail };
}

/** Full replace: unspecified items are false (SPEC §6.7). */
export async function upsertChecklist(
  deps: ProgramDeps,
  body: ChecklistRequest,
): Promise<Upserted<ReturnType<typeof checklistDto>>> {
  const ts = now();
  const row = await repo.upsertChecklist(
    deps.db,
    {
      tenantId: deps.principal.tenantId,
      releaseId: body.release_id,
      securityReview: body.security_review,
      sloDashboard: body.slo_dashboard,
      rollbackTested: body.rollback_tested,
      docsComplete: body.docs_complete,
      runbooksReady: body.runbooks_ready,
      updatedBy: deps.principal.sub,
      createdAt: ts,
      updatedAt: ts,
    },
    releaseAudit(deps, "release.checklist_write", body.release_id),
  );
  return { created: row.revision === 1, body: checklistDto(row) };
}

export async function getChecklist(deps: ProgramDeps, releaseId: string) {
  const row = await repo.getChecklist(deps.db, deps.principal.tenantId, releaseId);
  if (!row) throw new AppError("checklist_not_found", "Release checklist not found.");
  return checklistDto(row);
}

export async function upsertDrill(
  deps: ProgramDeps,
  body: RollbackDrillRequest,
): Promise<Upserted<ReturnType<typeof drillDto>>> {
  const ts = now();
  const row = await repo.upsertDrill(
    deps.db,
    {
      tenantId: deps.principal.tenantId,
      releaseId: body.release_id,
      passed: body.passed,
      durationMinutes: body.duration_minutes,
      issuesFound: body.issues_found,
      updatedBy: deps.principal.sub,
      createdAt: ts,
      updatedAt: ts,
    },
    releaseAudit(deps, "release.drill_write", body.release_id, { passed: body.passed }),
  );
  return { created: row.revision === 1, body: drillDto(row) };
}

export async function getDrill(deps: ProgramDeps, releaseId: string) {
  const row = await repo.getDrill(deps.db, deps.principal.tenantId, releaseId);
  if (!row) throw new AppError("rollback_drill_not_found", "Rollback drill not found.");
  return drillDto(row);
}

async function validationEvidence(deps: ProgramDeps, body: GoLiveRequest): Promise<ValidationEvidence> {
  if (body.campaign_id === undefined) {
    return {
      source: "asserted",
      campaign_id: null,
      release_ready: body.validation_release_ready,
      score: null,
      profile_name: null,
      simulated_runs: 0,
    };
  }
  const campaign = await getCampaign(deps.db, deps.principal.tenantId, body.campaign_id);
  if (!campaign) throw new AppError("campaign_not_found", "Campaign not found.");
  const report = await computeReport(deps.db, campaign);
  return {
    source: "campaign",
    campaign_id: campaign.campaignId,
    release_ready: report.rubric.release_ready,
    score: report.rubric.score,
    profile_name: report.rubric.profile_name,
    simulated_runs: report.excluded_runs.length,
    dry_run: campaign.dryRun,
  };
}

/** Decides GO/NO_GO from the tenant's records and stores it, replacing the previous decision. */
export async function makeGoLiveDecision(
  deps: ProgramDeps,
  body: GoLiveRequest,
): Promise<Upserted<ReturnType<typeof decisionDto>>> {
  const [checklist, drill, validation] = await Promise.all([
    repo.getChecklist(deps.db, deps.principal.tenantId, body.release_id),
    repo.getDrill(deps.db, deps.principal.tenantId, body.release_id),
    validationEvidence(deps, body),
  ]);
  const outcome = decideGoLive({
    checklist: checklist && {
      security_review: checklist.securityReview,
      slo_dashboard: checklist.sloDashboard,
      rollback_tested: checklist.rollbackTested,
      docs_complete: checklist.docsComplete,
      runbooks_ready: checklist.runbooksReady,
    },
    drill,
    validationReleaseReady: validation.release_ready,
    simulatedEvidenceExcluded: (validation.simulated_runs ?? 0) > 0,
    dryRunCampaign: validation.dry_run === true,
  });
  const ts = now();
  const row = await repo.upsertDecision(
    deps.db,
    {
      tenantId: deps.principal.tenantId,
      releaseId: body.release_id,
      status: outcome.status,
      reasons: outcome.reasons,
      validation,
      decidedBy: deps.principal.sub,
      createdAt: ts,
      decidedAt: ts,
    },
    releaseAudit(deps, "release.go_no_go", body.release_id, { status: outcome.status }),
  );
  return { created: row.revision === 1, body: decisionDto(row) };
}

export async function getDecision(deps: ProgramDeps, releaseId: string) {
  const row = await repo.getDecision(deps.db, deps.principal.tenantId, releaseId);
  if (!row) throw new AppError("go_live_decision_not_found", "Decision not found.");
  return decisionDto(row);
}
