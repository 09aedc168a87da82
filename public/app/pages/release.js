// @ts-check
/**
 * Release readiness (SPEC §8.4, DESIGN §6): validation campaigns (create, execute as real builds,
 * report with rubric score, reasons and recommendations), the release checklist, the rollback
 * drill, the go/no-go decision with its reasons (readiness taken from a campaign's report, or
 * asserted), and the SLO summary with burn rates and alert state.
 */
import { ApiError, program } from "../api.js";
import {
  badge,
  busy,
  dateTime,
  dl,
  field,
  h,
  notice,
  percent,
  replace,
  shortId,
  splitList,
  table,
  timeAgo,
} from "../dom.js";
import { errorNotice, reasonItem } from "../ui.js";
import { loadTrends } from "./trends-panel.js";

export const title = "Release readiness";

const CHECKLIST_ITEMS = /** @type {const} */ ([
  ["security_review", "Security review done"],
  ["slo_dashboard", "SLO dashboard in place"],
  ["rollback_tested", "Rollback tested"],
  ["docs_complete", "Documentation complete"],
  ["runbooks_ready", "Runbooks ready"],
]);

/** @param {import("../main.js").PageContext} ctx */
export async function mount(ctx) {
  /** @type {import("../api.js").Campaign[]} */
  let campaigns = [];
  /** @type {import("../api.js").CampaignReport | null} */
  let report = null;
  let stopped = false;

  const readyBadge = h("span", { id: "validation-badge" });
  function renderReadyBadge() {
    replace(
      readyBadge,
      report === null
        ? badge("pending", "Validation: no report loaded")
        : report.rubric.release_ready
          ? badge("release-ready", "Validation: Release ready")
          : badge("needs-hardening", "Validation: Needs hardening"),
    );
  }
  renderReadyBadge();

  // ---- campaigns ---------------------------------------------------------------------------------
  const cName = h("input", {
    type: "text",
    name: "campaign_name",
    required: true,
    maxlength: 200,
    autocomplete: "off",
  });
  const cRepos = h("textarea", {
    name: "campaign_repos",
    rows: 3,
    placeholder: "https://github.com/acme/api\nhttps://github.com/acme/web",
  });
  const cRuns = h("input", {
    type: "number",
    name: "runs_per_repo",
    min: 1,
    max: 25,
    value: "3",
    inputmode: "numeric",
  });
  const cCreate = h("button", { type: "submit", class: "btn btn-primary" }, "Create campaign");
  const cCreateResult = h("div");
  const createForm = h(
    "form",
    { novalidate: true },
    field("Campaign name", cName),
    field("Repositories", cRepos, "One per line or comma-separated."),
    field("Runs per repository", cRuns),
    h("div", { class: "actions" }, cCreate),
    cCreateResult,
  );

  const campaignSelect = h("select", { id: "campaign-select", name: "campaign" });
  const campaignDetail = h("div", { class: "campaign-detail" });
  const execDuration = h("input", {
    type: "number",
    name: "execute_duration",
    min: 0,
    max: 600000,
    step: 50,
    value: "100",
    inputmode: "numeric",
  });
  const execButton = h("button", { type: "button", class: "btn btn-primary" }, "Execute campaign");
  const execResult = h("div", { id: "execute-result" });
  const reportButton = h("button", { type: "button", class: "btn" }, "Refresh report");
  const reportSlot = h("div", { id: "report" });
  const trendsSlot = h("div", { id: "trends-slot", "aria-live": "polite" });

  /** @param {string} [select] the campaign to select (default: keep the current selection) */
  async function loadCampaigns(select) {
    try {
      campaigns = (await program.campaigns({ limit: 50 })).items;
    } catch (err) {
      replace(campaignDetail, errorNotice(err, "Loading campaigns"));
      return;
    }
    if (stopped) return;
    const selectId = select ?? campaignSelect.value;
    replace(
      campaignSelect,
      campaigns.length === 0
        ? h("option", { value: "" }, "No campaigns yet")
        : campaigns.map((c) =>
            h(
              "option",
              { value: c.campaign_id, selected: c.campaign_id === selectId },
              `${c.name} (${shortId(c.campaign_id)})`,
            ),
          ),
    );
    renderCampaign();
    renderGoLiveSource();
  }

  function selected() {
    return campaigns.find((c) => c.campaign_id === campaignSelect.value) ?? null;
  }

  function renderCampaign() {
    const c = selected();
    execButton.disabled = c === null;
    reportButton.disabled = c === null;
    if (!c) {
      replace(
        campaignDetail,
        h("p", { class: "muted" }, "Create a campaign to validate release readiness across repositories."),
      );
      return;
    }
    replace(
      campaignDetail,
      dl([
        [
          "Repositories",
          c.repos.length
            ? h(
                "ul",
                { class: "list-plain mono" },
                c.repos.map((r) => h("li", null, r)),
              )
            : "none",
        ],
        ["Runs per repo", String(c.runs_per_repo)],
        ["Threshold profile", c.threshold_profile.profile_name],
        [
          "Current execution",
          c.current_execution_id ? h("span", { class: "mono" }, shortId(c.current_execution_id)) : "not executed",
        ],
        ["Created", [dateTime(c.created_at), " by ", c.created_by]],
      ]),
    );
  }

  function renderReport() {
    renderReadyBadge();
    if (!report) {
      replace(reportSlot);
      replace(trendsSlot);
      return;
    }
    const r = report;
    const languages = r.summary.repos.some((s) => s.language !== "unknown");
    const repoName = (/** @type {string} */ repo) => repo.replace(/^https?:\/\//, "");
    replace(
      reportSlot,
      h("h3", { class: "report-title" }, "Report"),
      h(
        "div",
        { class: "row" },
        h(
          "div",
          { class: "score", id: "rubric-score" },
          h("strong", null, r.rubric.score.toFixed(2)),
          h("span", { class: "muted" }, "/ 100 rubric score"),
        ),
        r.rubric.release_ready ? badge("release-ready", "Release ready") : badge("needs-hardening", "Needs hardening"),
        badge(r.gate.passed ? "pass" : "fail", r.gate.passed ? "Gate passed" : "Gate failed"),
      ),
      h("meter", {
        min: 0,
        max: 100,
        low: 50,
        high: r.profile.release_ready_min_score,
        optimum: 100,
        value: r.rubric.score,
        "aria-label": "Rubric score",
      }),
      h(
        "p",
        { class: "muted" },
        `Profile ${r.rubric.profile_name}: release ready at ${r.profile.release_ready_min_score} with no reasons · generated ${dateTime(r.generated_at)}`,
      ),
      r.excluded_runs.length
        ? h(
            "div",
            { id: "excluded-runs" },
            notice(
              "warn",
              `${r.excluded_runs.length} simulated ${r.excluded_runs.length === 1 ? "run is" : "runs are"} listed but not counted: simulated builds are never evidence.`,
            ),
          )
        : null,
      h("h3", null, "Reasons"),
      r.rubric.reasons.length
        ? h("ul", { class: "reasons", id: "report-reasons" }, r.rubric.reasons.map(reasonItem))
        : h("p", null, "None."),
      h("h3", null, "Recommendations"),
      h("ul", { class: "reasons", id: "report-recommendations" }, r.recommendations.map(reasonItem)),
      h(
        "dl",
        { class: "stats" },
        [
          ["Repositories", String(r.summary.repo_count)],
          ["Runs", String(r.summary.run_count)],
          ["Avg success", percent(r.summary.avg_success_rate)],
          ["Max duration CV", r.summary.max_duration_cv.toFixed(3)],
          ["Runs from builds", String(r.evidence.runs_from_builds)],
        ].map(([k, v]) => h("div", { class: "stat" }, h("dt", null, k), h("dd", null, v))),
      ),
      r.summary.repos.length
        ? table(
            "Per repository",
            ["Repository", ...(languages ? ["Language"] : []), "Runs ok", "Success", "Mean", "CV"],
            r.summary.repos.map((s) => [
              h("span", { class: "mono", title: s.repo }, repoName(s.repo)),
              ...(languages ? [s.language] : []),
              `${s.success_count} / ${s.run_count}`,
              percent(s.success_rate),
              `${Math.round(s.mean_duration_ms)} ms`,
              s.duration_cv.toFixed(3),
            ]),
            { class: "cards" },
          )
        : null,
    );
  }

  async function loadReport() {
    const c = selected();
    if (!c) return;
    try {
      const r = await program.report(c.campaign_id);
      // A slower answer for a campaign that is no longer selected must not replace the current one.
      if (stopped || campaignSelect.value !== c.campaign_id) return;
      report = r;
      renderReport();
      await loadTrends(trendsSlot, c.campaign_id, () => !stopped && campaignSelect.value === c.campaign_id);
    } catch (err) {
      if (campaignSelect.value === c.campaign_id) replace(reportSlot, errorNotice(err, "Loading the report"));
    }
  }

  createForm.addEventListener("submit", (e) => {
    e.preventDefault();
    if (cName.value.trim() === "") {
      cName.setAttribute("aria-invalid", "true");
      replace(cCreateResult, notice("error", "Name the campaign."));
      cName.focus();
      return;
    }
    cName.removeAttribute("aria-invalid");
    void busy(cCreate, async () => {
      try {
        const c = await program.createCampaign({
          name: cName.value.trim(),
          repos: splitList(cRepos.value),
          runs_per_repo: Number(cRuns.value) || 3,
        });
        replace(cCreateResult, notice("ok", `Campaign “${c.name}” created.`));
        cName.value = "";
        cRepos.value = "";
        report = null;
        renderReport();
        await loadCampaigns(c.campaign_id);
      } catch (err) {
        replace(cCreateResult, errorNotice(err, "Creating the campaign"));
      }
    });
  });

  campaignSelect.addEventListener("change", () => {
    report = null;
    replace(execResult);
    renderCampaign();
    renderReport();
    renderGoLiveSource();
    void loadReport();
  });

  execButton.addEventListener("click", () => {
    const c = selected();
    if (!c) return;
    void busy(execButton, async () => {
      try {
        const metadata = execDuration.value !== "" ? { simulated_duration_ms: Number(execDuration.value) } : {};
        const x = await program.executeCampaign(c.campaign_id, { metadata });
        replace(
          execResult,
          notice(
            "ok",
            `Execution ${shortId(x.execution_id)} started ${x.run_count} builds. Refresh the report when they finish: `,
            h(
              "ul",
              { class: "list-plain" },
              x.runs.slice(0, 12).map((r) => h("li", null, h("a", { href: `#/builds/${r.build_id}` }, r.run_id))),
            ),
          ),
        );
        await loadCampaigns(c.campaign_id);
      } catch (err) {
        replace(execResult, errorNotice(err, "Executing the campaign"));
      }
    });
  });
  reportButton.addEventListener("click", () => void busy(reportButton, loadReport));

  // ---- release gates ------------------------------------------------------------------------------
  const releaseId = h("input", {
    type: "text",
    name: "release_id",
    value: `release-${new Date().toISOString().slice(0, 10)}`,
    maxlength: 256,
    autocomplete: "off",
  });
  const loadRelease = h("button", { type: "button", class: "btn" }, "Load");
  /** @type {Record<string, HTMLInputElement>} */
  const items = {};
  const checklistFieldset = h(
    "fieldset",
    null,
    h("legend", null, "Checklist"),
    h(
      "div",
      { class: "checks" },
      CHECKLIST_ITEMS.map(([key, label]) => {
        const box = h("input", { type: "checkbox", name: key });
        items[key] = box;
        return h("label", { class: "check" }, box, label);
      }),
    ),
  );
  const saveChecklist = h("button", { type: "button", class: "btn" }, "Save checklist");
  const checklistResult = h("div", { id: "checklist-result" });

  const drillPassed = h("input", { type: "checkbox", name: "drill_passed" });
  const drillMinutes = h("input", {
    type: "number",
    name: "drill_minutes",
    min: 1,
    max: 525600,
    value: "15",
    inputmode: "numeric",
  });
  const drillIssues = h("textarea", { name: "drill_issues", rows: 2, placeholder: "One issue per line" });
  const saveDrill = h("button", { type: "button", class: "btn" }, "Record drill");
  const drillResult = h("div", { id: "drill-result" });

  const srcCampaign = h("input", { type: "radio", name: "readiness_source", value: "campaign" });
  const srcAsserted = h("input", { type: "radio", name: "readiness_source", value: "asserted", checked: true });
  const asserted = h("input", { type: "checkbox", name: "asserted_ready" });
  const srcCampaignLabel = h("span");
  const decideButton = h("button", { type: "button", class: "btn btn-primary" }, "Evaluate go/no-go");
  const decisionSlot = h("div", { id: "decision" });

  /** Whether the operator picked the readiness source (else: the campaign when there is one). */
  let sourceChosen = false;
  function renderGoLiveSource() {
    const c = selected();
    srcCampaign.disabled = c === null;
    if (c === null && srcCampaign.checked) srcAsserted.checked = true;
    if (c !== null && !sourceChosen) srcCampaign.checked = true;
    srcCampaignLabel.textContent = c
      ? `From campaign “${c.name}” (computed by the server)`
      : "From a campaign (none selected)";
    asserted.disabled = !srcAsserted.checked;
  }
  for (const radio of [srcCampaign, srcAsserted]) {
    radio.addEventListener("change", () => {
      sourceChosen = true;
      renderGoLiveSource();
    });
  }

  function rid() {
    return releaseId.value.trim();
  }

  /** @param {import("../api.js").GoLiveDecision} d */
  function renderDecision(d) {
    replace(
      decisionSlot,
      h(
        "div",
        { class: "row" },
        h(
          "span",
          { class: `badge badge-lg badge-${d.status === "GO" ? "go" : "no-go"}`, id: "decision-status" },
          d.status === "GO" ? "GO" : "NO GO",
        ),
        h("span", { class: "muted" }, `${d.release_id} · decided ${dateTime(d.decided_at)} by ${d.decided_by}`),
      ),
      d.reasons.length
        ? [h("h3", null, "Reasons"), h("ul", { class: "reasons", id: "decision-reasons" }, d.reasons.map(reasonItem))]
        : h("p", null, "No blocking reasons."),
      h(
        "p",
        { class: "muted" },
        d.validation.source === "campaign"
          ? `Validation from campaign ${shortId(d.validation.campaign_id ?? "")}: ${d.validation.release_ready ? "release ready" : "not release ready"} (score ${d.validation.score ?? "–"}).`
          : `Validation readiness asserted: ${d.validation.release_ready ? "ready" : "not ready"}.`,
      ),
    );
  }

  /** The latest load: an earlier one that answers later (a slow or retried request) must not overwrite it. */
  let loadSeq = 0;
  async function loadReleaseRecords() {
    const id = rid();
    if (!id) return;
    const seq = ++loadSeq;
    // Until this load answers, no earlier result (e.g. the page's first load) stands for it.
    replace(checklistResult, notice("info", `Loading the records of ${id}…`));
    /** @template T @param {Promise<T>} p @returns {Promise<T | null>} */
    const orNull = (p) =>
      p.catch((err) =>
        err instanceof ApiError && err.status === 404 && err.code !== "not_found" ? null : Promise.reject(err),
      );
    try {
      const [checklist, drill, decision] = await Promise.all([
        orNull(program.checklist(id)),
        orNull(program.drill(id)),
        orNull(program.decision(id)),
      ]);
      if (seq !== loadSeq) return;
      for (const [key] of CHECKLIST_ITEMS) {
        const box = /** @type {HTMLInputElement} */ (items[key]);
        box.checked = checklist ? checklist[key] : false;
      }
      replace(
        checklistResult,
        checklist
          ? notice("info", `Saved ${timeAgo(checklist.updated_at).textContent} by ${checklist.updated_by}.`)
          : notice("info", "No checklist recorded for this release yet."),
      );
      drillPassed.checked = drill?.passed ?? false;
      drillMinutes.value = String(drill?.duration_minutes ?? 15);
      drillIssues.value = (drill?.issues_found ?? []).join("\n");
      replace(
        drillResult,
        drill
          ? notice(
              "info",
              `Drill recorded ${timeAgo(drill.updated_at).textContent}: ${drill.passed ? "passed" : "failed"}.`,
            )
          : notice("info", "No rollback drill recorded yet."),
      );
      if (decision) renderDecision(decision);
      else replace(decisionSlot, h("p", { class: "muted" }, "No decision yet for this release."));
    } catch (err) {
      if (seq === loadSeq) replace(decisionSlot, errorNotice(err, "Loading the release"));
    }
  }

  loadRelease.addEventListener("click", () => void busy(loadRelease, loadReleaseRecords));
  saveChecklist.addEventListener("click", () =>
    busy(saveChecklist, async () => {
      try {
        const c = await program.saveChecklist({
          release_id: rid(),
          security_review: items.security_review?.checked ?? false,
          slo_dashboard: items.slo_dashboard?.checked ?? false,
          rollback_tested: items.rollback_tested?.checked ?? false,
          docs_complete: items.docs_complete?.checked ?? false,
          runbooks_ready: items.runbooks_ready?.checked ?? false,
        });
        const done = CHECKLIST_ITEMS.filter(([k]) => c[k]).length;
        replace(checklistResult, notice("ok", `Checklist saved: ${done} of ${CHECKLIST_ITEMS.length} items done.`));
      } catch (err) {
        replace(checklistResult, errorNotice(err, "Saving the checklist"));
      }
    }),
  );
  saveDrill.addEventListener("click", () =>
    busy(saveDrill, async () => {
      try {
        const d = await program.saveDrill({
          release_id: rid(),
          passed: drillPassed.checked,
          duration_minutes: Math.max(1, Number(drillMinutes.value) || 1),
          issues_found: drillIssues.value
            .split("\n")
            .map((s) => s.trim())
            .filter(Boolean),
        });
        replace(
          drillResult,
          notice(
            d.passed ? "ok" : "warn",
            `Rollback drill recorded: ${d.passed ? "passed" : "failed"} in ${d.duration_minutes} min.`,
          ),
        );
      } catch (err) {
        replace(drillResult, errorNotice(err, "Recording the drill"));
      }
    }),
  );
  decideButton.addEventListener("click", () =>
    busy(decideButton, async () => {
      const c = selected();
      try {
        const d = await program.decide(
          srcCampaign.checked && c
            ? { release_id: rid(), campaign_id: c.campaign_id }
            : { release_id: rid(), validation_release_ready: asserted.checked },
        );
        renderDecision(d);
      } catch (err) {
        replace(decisionSlot, errorNotice(err, "The go/no-go decision"));
      }
    }),
  );

  // ---- SLO ------------------------------------------------------------------------------------------
  const sloButton = h("button", { type: "button", class: "btn btn-small" }, "Refresh");
  const sloSlot = h("div", { id: "slo" });

  async function loadSlo() {
    let s;
    try {
      s = await program.slo();
    } catch (err) {
      replace(sloSlot, errorNotice(err, "Loading the SLO summary"));
      return;
    }
    if (stopped) return;
    replace(
      sloSlot,
      h(
        "div",
        { class: "row" },
        h("span", null, "Alert state "),
        badge(s.state, s.state.replace("_", " ")),
        h(
          "span",
          { class: "muted" },
          `· over the ${s.scope === "tenant" ? "tenant's" : "caller's"} real builds · ${dateTime(s.generated_at)}`,
        ),
      ),
      s.simulated_builds_excluded > 0
        ? h(
            "p",
            { class: "muted" },
            `${s.simulated_builds_excluded} simulated build${s.simulated_builds_excluded === 1 ? "" : "s"} ` +
              "of the last 30 days left out: simulated work is no evidence.",
          )
        : null,
      h(
        "dl",
        { class: "stats" },
        [
          ["Builds", s.total_builds],
          ["Completed", s.completed_builds],
          ["Failed", s.failed_builds],
          ["Aborted", s.aborted_builds],
          ["Active", s.running_builds],
          ["Success rate", percent(s.success_rate)],
          ["Mean cycle", `${s.mean_cycle_seconds.toFixed(1)} s`],
        ].map(([k, v]) => h("div", { class: "stat" }, h("dt", null, k), h("dd", null, String(v)))),
      ),
      s.objectives.map((o) => {
        const windows = Object.entries(o.windows);
        return h(
          "section",
          { class: "objective", "aria-label": `Objective ${o.name}` },
          h(
            "div",
            { class: "card-head" },
            h("h3", null, o.name.replace(/_/g, " ")),
            badge(o.state, o.state.replace("_", " ")),
          ),
          h("p", { class: "muted" }, o.description),
          dl([
            ["Target", `${percent(o.target, 1)}${o.threshold_seconds ? ` within ${o.threshold_seconds} s` : ""}`],
            [
              "Error budget left",
              o.error_budget_remaining === null
                ? "no data"
                : `${percent(o.error_budget_remaining)}${o.error_budget_remaining < 0 ? " (overspent)" : ""}`,
            ],
          ]),
          h(
            "div",
            { class: "slo-tables" },
            table(
              `${o.name} windows`,
              ["Window", "Builds", "Good", "Bad", "SLI", "Burn rate"],
              windows.map(([name, w]) => [
                name,
                String(w.valid),
                String(w.good),
                String(w.bad),
                w.sli === null ? "–" : percent(w.sli),
                w.burn_rate === null ? "–" : `${w.burn_rate.toFixed(2)}×`,
              ]),
              { captionHidden: true, class: "compact" },
            ),
            table(
              `${o.name} burn-rate alerts`,
              ["Severity", "Windows", "Threshold", "Long burn", "Short burn", "Firing"],
              o.alerts.map((a) => [
                a.severity,
                `${a.long_window} / ${a.short_window}`,
                `${a.burn_rate_threshold}×`,
                a.long_burn_rate === null ? "–" : `${a.long_burn_rate.toFixed(2)}×`,
                a.short_burn_rate === null ? "–" : `${a.short_burn_rate.toFixed(2)}×`,
                a.firing ? badge(a.severity, "firing") : "no",
              ]),
              { captionHidden: true, class: "compact" },
            ),
          ),
        );
      }),
    );
  }
  sloButton.addEventListener("click", () => void busy(sloButton, loadSlo));

  // ---- layout ---------------------------------------------------------------------------------------
  ctx.main.append(
    h(
      "div",
      { class: "page-head" },
      h(
        "div",
        null,
        h("div", { class: "title-row" }, h("h1", null, "Release readiness"), readyBadge),
        h("p", { class: "sub" }, "Validation campaigns, release gates and service objectives"),
      ),
      h("a", { class: "btn", href: "#/program" }, "Program ops"),
    ),
    h(
      "div",
      { class: "grid-2 wide" },
      h(
        "section",
        { class: "card", "aria-labelledby": "camp-h" },
        h("h2", { id: "camp-h" }, "Validation campaigns"),
        h("details", { class: "card-sub" }, h("summary", null, "New campaign"), createForm),
        field("Campaign", campaignSelect),
        campaignDetail,
        h(
          "div",
          { class: "inline-fields" },
          field("Simulated node duration (ms)", execDuration, "Each planned run becomes a build."),
        ),
        h("div", { class: "actions" }, execButton, reportButton),
        execResult,
        reportSlot,
        h("h3", { id: "trends-h" }, "Trends"),
        trendsSlot,
      ),
      h(
        "section",
        { class: "card", "aria-labelledby": "gates-h" },
        h("h2", { id: "gates-h" }, "Release gates and go/no-go"),
        h(
          "div",
          { class: "row row-end" },
          h("div", { class: "field spacer" }, h("label", { for: "release-id" }, "Release id"), releaseId),
          loadRelease,
        ),
        checklistFieldset,
        h("div", { class: "actions" }, saveChecklist),
        checklistResult,
        h(
          "fieldset",
          null,
          h("legend", null, "Rollback drill"),
          h("label", { class: "check" }, drillPassed, "Drill passed"),
          h(
            "div",
            { class: "inline-fields" },
            field("Duration (minutes)", drillMinutes),
            field("Issues found", drillIssues),
          ),
          h("div", { class: "actions" }, saveDrill),
          drillResult,
        ),
        h(
          "fieldset",
          null,
          h("legend", null, "Validation readiness for the decision"),
          h(
            "div",
            { class: "checks-col" },
            h("label", { class: "check" }, srcCampaign, srcCampaignLabel),
            h("label", { class: "check" }, srcAsserted, "Asserted by me"),
            h("label", { class: "check indent" }, asserted, "Validation is release ready"),
          ),
        ),
        h("div", { class: "actions" }, decideButton),
        decisionSlot,
      ),
    ),
    h(
      "section",
      { class: "card", "aria-labelledby": "slo-h" },
      h("div", { class: "card-head" }, h("h2", { id: "slo-h" }, "SLO summary"), sloButton),
      sloSlot,
    ),
  );
  releaseId.id = "release-id";
  renderCampaign();
  renderGoLiveSource();
  void loadCampaigns().then(() => loadReport());
  void loadReleaseRecords();
  void loadSlo();
  return () => {
    stopped = true;
  };
}
