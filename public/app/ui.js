// @ts-check
/**
 * Presentation of API outcomes shared by the pages: problem+json errors as notices (with the
 * role that would have the missing capability), and human wording for machine reasons.
 */
import { ApiError } from "./api.js";
import { h, notice } from "./dom.js";

/** SPEC §3.2: which roles carry each capability (admin `*` carries all). */
const CAPABILITY_ROLES = /** @type {Record<string, string[]>} */ ({
  "program.validation.read": ["viewer", "operator", "security"],
  "program.validation.write": ["operator"],
  "program.policy.read": ["viewer", "operator", "security"],
  "program.policy.write": ["operator", "security"],
  "program.policy.check": ["operator", "security"],
  "program.secrets.read": ["viewer", "security"],
  "program.secrets.write": ["security"],
  "program.webhook.ingest": ["security"],
  "program.runtime.read": ["viewer", "operator", "security"],
  "program.runtime.write": ["operator"],
  "program.release.read": ["viewer", "operator"],
  "program.release.write": ["operator"],
});

/** A link to GitHub only when the URL is https (it comes from a signed delivery, still never a script URL). @param {string | null | undefined} url */
function safeHref(url) {
  return typeof url === "string" && /^https:\/\//.test(url) ? url : null;
}

/**
 * What started a build (issue 21): "Manual", "Push to <branch>" with the commit, or "Pull
 * request #N" linking to it on GitHub.
 * @param {import("./api.js").BuildTrigger | undefined} trigger
 */
export function triggerView(trigger) {
  if (!trigger || trigger.kind === "manual") return h("span", { class: "trigger" }, "Manual");
  const href = safeHref(trigger.html_url);
  if (trigger.kind === "push") {
    const sha = h("span", { class: "mono" }, trigger.head_sha.slice(0, 7));
    return h(
      "span",
      { class: "trigger" },
      `Push to ${trigger.branch} `,
      href
        ? h("a", { href, rel: "noopener noreferrer", "aria-label": `Commit ${trigger.head_sha} on GitHub` }, sha)
        : sha,
    );
  }
  const label = `Pull request #${trigger.number}`;
  return h(
    "span",
    { class: "trigger" },
    href ? h("a", { href, rel: "noopener noreferrer" }, label) : label,
    ` (${trigger.head_ref} → ${trigger.base_ref})`,
  );
}

/** Whether the error is a missing-capability 403. @param {unknown} err */
export function isForbidden(err) {
  return err instanceof ApiError && (err.code === "insufficient_capability" || err.code === "capabilities_missing");
}

/** Whether the error means "this route does not exist on this deployment". @param {unknown} err */
export function isMissingRoute(err) {
  return err instanceof ApiError && err.status === 404 && err.code === "not_found";
}

/**
 * A notice for any failure; `what` says what was attempted ("Loading builds").
 * @param {unknown} err
 * @param {string} [what]
 */
export function errorNotice(err, what) {
  const lead = what ? `${what} failed: ` : "";
  if (!(err instanceof ApiError)) {
    return notice("error", `${lead}${err instanceof Error ? err.message : String(err)}`);
  }
  if (isForbidden(err)) {
    const cap = /capability: ([\w.]+)/.exec(err.detail)?.[1];
    const roles = cap ? [...(CAPABILITY_ROLES[cap] ?? []), "admin"] : ["admin"];
    return notice(
      "warn",
      h("strong", null, "Not permitted. "),
      cap ? ["Your token lacks ", h("code", null, cap), ". "] : `${err.detail} `,
      `Sign in with a role that has it (${roles.join(", ")}).`,
    );
  }
  if (isMissingRoute(err)) {
    return notice("warn", `${lead}this control plane does not serve that API yet (404 not_found).`);
  }
  return notice(
    "error",
    h("strong", null, `${lead}${err.title}`),
    err.detail && err.detail !== err.title ? ` — ${err.detail}` : "",
    err.errors.length > 0
      ? h(
          "ul",
          null,
          err.errors.map((e) => h("li", null, h("code", null, e.path), `: ${e.message}`)),
        )
      : null,
    h("span", { class: "problem-meta" }, ` (${err.code}${err.requestId ? `, request ${err.requestId}` : ""})`),
  );
}

/** Go-live reasons (SPEC §6.8) in words. */
const GO_LIVE_REASONS = /** @type {Record<string, string>} */ ({
  checklist_missing: "No release checklist recorded",
  security_review_incomplete: "Security review not done",
  slo_dashboard_missing: "SLO dashboard missing",
  docs_incomplete: "Documentation incomplete",
  runbooks_not_ready: "Runbooks not ready",
  rollback_not_tested: "Rollback not tested",
  rollback_drill_missing: "No rollback drill recorded",
  rollback_drill_failed: "Rollback drill failed",
  validation_not_release_ready: "Validation campaign is not release ready",
  simulated_evidence_excluded: "Simulated builds are not evidence",
});

/** Campaign report reasons / recommendations (SPEC §6.1) in words; unknown codes pass through. */
const REPORT_PHRASES = /** @type {Record<string, string>} */ ({
  no_repositories_evaluated: "No repositories evaluated",
  insufficient_runs: "Too few runs for",
  success_rate_below_threshold: "Success rate below threshold for",
  duration_variance_above_threshold: "Duration variance above threshold for",
  repo_count_below_threshold: "Too few repositories",
  total_runs_below_threshold: "Too few runs in total",
  average_success_rate_below_threshold: "Average success rate below threshold",
  configure_repo_targets_before_validation: "Configure repository targets before validating",
  expand_repo_matrix_coverage: "Cover more repositories",
  improve_task_success_rate_before_release: "Improve the task success rate before release",
  stabilize_runtime_variance_and_retry_policies: "Stabilise runtime variance and retry policies",
  ready_for_beta_cut: "Ready for the beta cut",
  simulated_evidence_excluded: "Simulated runs listed, not counted:",
  run_campaign_builds_on_a_real_runner: "Run the campaign's builds on a real runner",
});

/**
 * A reason code as words plus the code itself: "Rollback drill failed (rollback_drill_failed)".
 * @param {string} code
 */
export function reasonItem(code) {
  // `<reason>[:<subject>]:<value>` — the subject may itself contain colons (repository URLs).
  const i = code.indexOf(":");
  const head = i < 0 ? code : code.slice(0, i);
  const rest = i < 0 ? "" : code.slice(i + 1);
  const j = rest.lastIndexOf(":");
  const detail = rest === "" ? "" : j < 0 ? ` (${rest})` : ` ${rest.slice(0, j)} (${rest.slice(j + 1)})`;
  let words = GO_LIVE_REASONS[code] ?? REPORT_PHRASES[head];
  const m = /^increase_(total_benchmark_runs|runs_per_repo)_to_at_least_(\d+)$/.exec(code);
  if (m)
    words =
      m[1] === "runs_per_repo"
        ? `Run each repository at least ${m[2]} times`
        : `Run at least ${m[2]} benchmark runs in total`;
  return h("li", null, words ? `${words}${detail} ` : "", h("code", { class: "reason-code" }, code));
}
