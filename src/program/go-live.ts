/**
 * The go-live decision of SPEC §6.8, pure: reasons accumulate in the reference's exact order
 * (checklist items, drill, validation readiness), then `simulated_evidence_excluded` when the
 * campaign's report saw simulated runs and `dry_run_campaign` for a dry-run campaign; GO only
 * without reasons.
 * Called by release.service.ts.
 */

export interface ChecklistItems {
  security_review: boolean;
  slo_dashboard: boolean;
  rollback_tested: boolean;
  docs_complete: boolean;
  runbooks_ready: boolean;
}

export interface GoLiveInput {
  checklist: ChecklistItems | null;
  drill: { passed: boolean } | null;
  validationReleaseReady: boolean;
  /** The campaign's report saw simulated runs (listed, never counted as evidence). */
  simulatedEvidenceExcluded?: boolean;
  /** The campaign is a dry run: its report is never evidence for a GO. */
  dryRunCampaign?: boolean;
}

export interface GoLiveOutcome {
  status: "GO" | "NO_GO";
  reasons: string[];
}

/** Checklist item → reason, in the order the reference reports them (not the field order). */
const CHECKLIST_REASONS: ReadonlyArray<[keyof ChecklistItems, string]> = [
  ["security_review", "security_review_incomplete"],
  ["slo_dashboard", "slo_dashboard_missing"],
  ["docs_complete", "docs_incomplete"],
  ["runbooks_ready", "runbooks_not_ready"],
  ["rollback_tested", "rollback_not_tested"],
];

export function decideGoLive(input: GoLiveInput): GoLiveOutcome {
  const reasons: string[] = [];
  if (input.checklist === null) reasons.push("checklist_missing");
  else for (const [item, reason] of CHECKLIST_REASONS) if (!input.checklist[item]) reasons.push(reason);
  if (input.drill === null) reasons.push("rollback_drill_missing");
  else if (!input.drill.passed) reasons.push("rollback_drill_failed");
  if (!input.validationReleaseReady) reasons.push("validation_not_release_ready");
  if (input.simulatedEvidenceExcluded) reasons.push("simulated_evidence_excluded");
  if (input.dryRunCampaign) reasons.push("dry_run_campaign");
  return { status: reasons.length === 0 ? "GO" : "NO_GO", reasons };
}
