// @ts-check
/**
 * The Trends section of Release readiness (issue 23): for the selected campaign, its finished
 * executions as charts — score over time, success rate per repository, findings by severity
 * stacked — with each chart's data as a table, and the drift verdict with its reasons. Mounted by
 * pages/release.js; charts from ../charts.js.
 */
import { program } from "../api.js";
import { barChart, lineChart } from "../charts.js";
import { badge, h, notice, percent, replace } from "../dom.js";
import { errorNotice, reasonItem } from "../ui.js";

const SEVERITIES = /** @type {const} */ (["critical", "high", "medium", "low", "info"]);
const VERDICT_TONE = { degrading: "fail", improving: "pass", stable: "pending", insufficient_data: "pending" };

/** @param {string} repo */
const repoName = (repo) => repo.replace(/^https?:\/\//, "");

/** @param {import("../api.js").CampaignTrends} t */
export function renderTrends(t) {
  if (t.executions.length === 0) return h("p", { class: "muted", id: "trends-empty" }, "No finished executions yet.");
  const labels = t.executions.map((e) => `#${e.n}`);
  const simulated = t.executions.some((e) => e.simulated_runs > 0);
  const d = t.drift;
  return h(
    "div",
    { id: "trends" },
    h(
      "div",
      { class: "row", id: "drift" },
      badge(VERDICT_TONE[d.verdict], `Drift: ${d.verdict.replace("_", " ")}`),
      h(
        "span",
        { class: "muted" },
        `latest of ${d.window} vs the mean before it: score down > ${d.rule.score_drop_points}, success down > ${percent(d.rule.success_rate_drop)} or duration CV up > ${d.rule.duration_cv_rise} is drift`,
      ),
    ),
    d.reasons.length ? h("ul", { class: "reasons", id: "drift-reasons" }, d.reasons.map(reasonItem)) : null,
    simulated
      ? notice(
          "warn",
          "Some executions ran simulated builds (dry run): they are not evidence, and the score does not count them.",
        )
      : null,
    lineChart({
      id: "chart-score",
      title: "Rubric score over time",
      description: `Score per execution, ${labels.map((l, i) => `${l}: ${t.executions[i]?.score}`).join(", ")}.`,
      labels,
      series: [{ name: "Score", values: t.executions.map((e) => e.score) }],
      max: 100,
      tableHeaders: ["Execution", "Score"],
    }),
    barChart({
      id: "chart-success",
      title: "Success rate per repository",
      description: `Share of completed runs per execution for ${t.repos.length} repositories.`,
      labels,
      series: t.repos.map((r) => ({
        name: repoName(r.repo),
        values: t.executions.map((e) => r.points.find((p) => p.n === e.n)?.success_rate ?? 0),
      })),
      max: 1,
      format: (v) => percent(v),
      tableHeaders: ["Execution", ...t.repos.map((r) => repoName(r.repo))],
    }),
    barChart({
      id: "chart-findings",
      title: "Findings by severity",
      description: `Findings per execution stacked by severity, totals ${t.executions.map((e, i) => `${labels[i]}: ${e.findings_total}`).join(", ")}.`,
      labels,
      stacked: true,
      series: SEVERITIES.map((s) => ({ name: s, values: t.executions.map((e) => e.findings_by_severity[s]) })),
      tableHeaders: ["Execution", ...SEVERITIES],
    }),
  );
}

/** The chart (its svg id) a "Show the data" disclosure belongs to. @param {Element} details */
const chartOf = (details) => details.closest("figure")?.querySelector("svg.chart")?.id ?? "";

/**
 * `next` with the data tables open that the reader had opened in `slot`: a refresh re-renders
 * the charts, and must not fold away the numbers someone is reading.
 * @param {HTMLElement} slot @param {HTMLElement} next
 */
function keepOpenData(slot, next) {
  const open = new Set([...slot.querySelectorAll("details.chart-data[open]")].map(chartOf));
  for (const d of next.querySelectorAll("details.chart-data")) if (open.has(chartOf(d))) d.setAttribute("open", "");
  return next;
}

/**
 * Loads and renders the trends of one campaign into `slot`; `isCurrent` drops a late answer.
 * @param {HTMLElement} slot @param {string} campaignId @param {() => boolean} isCurrent
 */
export async function loadTrends(slot, campaignId, isCurrent) {
  try {
    const t = await program.trends(campaignId);
    if (isCurrent()) replace(slot, keepOpenData(slot, renderTrends(t)));
  } catch (err) {
    if (isCurrent()) replace(slot, errorNotice(err, "Loading the trends"));
  }
}
