// @ts-check
/**
 * The Findings panel of the build page (issue 16): severity chips with counts, filters
 * (severity at least, state, rule), the findings table (rule, file:line, title, masked snippet,
 * `new`/`unchanged` badge) paged with the API's cursor, the findings fixed since the baseline
 * build, and a SARIF download. Everything shown comes from the API; nothing is derived here.
 */
import { request } from "../api.js";
import { badge, busy, field, h, notice, replace, select, table } from "../dom.js";
import { errorNotice } from "../ui.js";

/** @typedef {import("../api.js").Schemas["Finding"]} Finding */
/** @typedef {import("../api.js").Schemas["FindingsSummary"]} FindingsSummary */
/** @typedef {keyof FindingsSummary["by_severity"]} Severity */

/** Most severe first (the API's order); the builds list shows its counts in this order too. */
export const SEVERITIES = /** @type {const} @satisfies {readonly Severity[]} */ ([
  "critical",
  "high",
  "medium",
  "low",
  "info",
]);
const PAGE = 50;
const enc = encodeURIComponent;

/**
 * @param {string} buildId
 * @param {FindingsSummary | null} summary the build's `findings_summary` (null before it finished)
 * @param {string} execution `real` or `simulated`
 */
export function findingsPanel(buildId, summary, execution) {
  const minSeverity = select({ name: "min_severity", id: "findings-min-severity" }, [
    ["", "Any"],
    ...SEVERITIES.map((s) => /** @type {[string, string]} */ ([s, `${cap(s)} or worse`])),
  ]);
  const state = select({ name: "state", id: "findings-state" }, [
    ["", "Any"],
    ["new", "New"],
    ["unchanged", "Unchanged"],
  ]);
  const rule = h("input", {
    type: "text",
    name: "rule_id",
    id: "findings-rule",
    maxlength: 200,
    autocomplete: "off",
    placeholder: "e.g. no-eval",
  });
  const results = h("div", { id: "findings-results", "aria-live": "polite" });
  const fixedSlot = h("div", { id: "findings-fixed" });
  const more = h("button", { type: "button", class: "secondary", hidden: true }, "Load more findings");
  const download = h("button", { type: "button", class: "secondary", id: "findings-sarif" }, "Download SARIF");
  const downloadResult = h("div");
  /** @type {Finding[]} */
  let shown = [];
  /** @type {string | null} */
  let cursor = null;

  const chips = h(
    "ul",
    { class: "severity-chips", "aria-label": "Findings by severity" },
    SEVERITIES.map((s) =>
      h(
        "li",
        null,
        h(
          "button",
          {
            type: "button",
            class: `chip chip-${s}`,
            "data-severity": s,
            "aria-pressed": "false",
            onclick: () => choose(s),
          },
          `${cap(s)} `,
          h("strong", null, summary ? String(summary.by_severity[s] ?? 0) : "–"),
        ),
      ),
    ),
  );

  /** @param {string} s */
  function choose(s) {
    minSeverity.value = minSeverity.value === s ? "" : s;
    void load(true);
  }

  function query() {
    const q = new URLSearchParams({ limit: String(PAGE) });
    if (minSeverity.value) q.set("min_severity", minSeverity.value);
    if (state.value) q.set("state", state.value);
    if (rule.value.trim()) q.set("rule_id", rule.value.trim());
    if (cursor) q.set("cursor", cursor);
    return q.toString();
  }

  /** @param {boolean} fresh */
  async function load(fresh) {
    if (fresh) {
      shown = [];
      cursor = null;
    }
    for (const b of chips.querySelectorAll("button"))
      b.setAttribute("aria-pressed", String(b.getAttribute("data-severity") === minSeverity.value));
    try {
      const page = /** @type {{ items: Finding[], next_cursor: string | null }} */ (
        await request("GET", `/v1/builds/${enc(buildId)}/findings?${query()}`)
      );
      shown = [...shown, ...page.items];
      cursor = page.next_cursor;
      more.hidden = cursor === null;
      replace(
        results,
        shown.length === 0
          ? h(
              "p",
              { class: "muted" },
              summary && summary.total > 0 ? "No findings match these filters." : "No findings.",
            )
          : table(
              `Findings (${shown.length}${cursor ? "+" : ""})`,
              ["Severity", "Rule", "Location", "Title", "Snippet", "State"],
              shown.map(row),
            ),
      );
    } catch (err) {
      replace(results, errorNotice(err, "Loading findings"));
    }
  }

  async function loadFixed() {
    if (!summary?.baseline_build_id) {
      replace(fixedSlot, h("p", { class: "muted" }, "No earlier scan of this repository and branch to compare with."));
      return;
    }
    try {
      const fixed = /** @type {{ items: Finding[] }} */ (
        await request("GET", `/v1/builds/${enc(buildId)}/findings/fixed`)
      );
      replace(
        fixedSlot,
        h("h3", null, `Fixed since build ${summary.baseline_build_id.slice(0, 8)} (${fixed.items.length})`),
        fixed.items.length === 0
          ? h("p", { class: "muted" }, "None.")
          : h(
              "ul",
              { class: "fixed-findings" },
              fixed.items.map((f) =>
                h("li", null, h("code", null, f.rule_id ?? f.category), ` ${location(f)} — ${f.title}`),
              ),
            ),
      );
    } catch (err) {
      replace(fixedSlot, errorNotice(err, "Loading fixed findings"));
    }
  }

  download.addEventListener(
    "click",
    () =>
      void busy(download, async () => {
        try {
          const log = await request("GET", `/v1/builds/${enc(buildId)}/findings.sarif`);
          const url = URL.createObjectURL(new Blob([JSON.stringify(log, null, 2)], { type: "application/sarif+json" }));
          const a = h("a", { href: url, download: `build-${buildId}.sarif` });
          document.body.append(a);
          a.click();
          a.remove();
          setTimeout(() => URL.revokeObjectURL(url), 10_000);
          replace(downloadResult, notice("ok", `SARIF downloaded: ${log.runs?.length ?? 0} tool runs.`));
        } catch (err) {
          replace(downloadResult, errorNotice(err, "Exporting SARIF"));
        }
      }),
  );
  more.addEventListener("click", () => void load(false));
  for (const control of [minSeverity, state]) control.addEventListener("change", () => void load(true));
  rule.addEventListener("change", () => void load(true));

  const section = h(
    "section",
    { class: "card", id: "findings", "aria-labelledby": "findings-title" },
    h("h2", { id: "findings-title" }, "Findings"),
    execution === "simulated"
      ? notice("warn", "Simulated build: nothing was scanned, so there are no findings to show.")
      : null,
    summary
      ? h(
          "p",
          { id: "findings-summary" },
          `${summary.total} findings · ${summary.new} new · ${summary.unchanged} unchanged · ${summary.fixed} fixed`,
          summary.baseline_build_id
            ? ` since build ${summary.baseline_build_id.slice(0, 8)}`
            : " (first scan of this repository and branch)",
        )
      : null,
    chips,
    h(
      "form",
      { class: "filters row", onsubmit: (/** @type {Event} */ e) => e.preventDefault() },
      field("Severity", minSeverity),
      field("State", state),
      field("Rule", rule),
    ),
    results,
    more,
    fixedSlot,
    h("div", { class: "row" }, download),
    downloadResult,
  );
  void load(true);
  void loadFixed();
  return section;
}

/** @param {Finding} f */
function row(f) {
  return [
    badge(f.severity),
    f.rule_id
      ? h("code", null, f.tool ? `${f.tool}/${f.rule_id}` : f.rule_id)
      : h("span", { class: "muted" }, f.category),
    location(f),
    f.title,
    f.snippet ? h("code", { class: "snippet" }, f.snippet) : "",
    f.state ? badge(f.state === "new" ? "new" : "unchanged", f.state) : h("span", { class: "muted" }, "—"),
  ];
}

/** @param {Finding} f */
function location(f) {
  return f.file ? `${f.file}${f.line ? `:${f.line}` : ""}` : "whole repository";
}

/** @param {string} s */
function cap(s) {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/**
 * The panel for a build, from its report (findings summary and execution): a placeholder while
 * the report loads, an error notice when it fails.
 * @param {string} buildId
 */
export async function loadFindingsPanel(buildId) {
  try {
    const report = /** @type {{ execution: string, findings_summary: FindingsSummary | null }} */ (
      await request("GET", `/v1/builds/${enc(buildId)}/report`)
    );
    return findingsPanel(buildId, report.findings_summary, report.execution);
  } catch (err) {
    return h(
      "section",
      { class: "card", id: "findings", "aria-labelledby": "findings-title" },
      h("h2", { id: "findings-title" }, "Findings"),
      errorNotice(err, "Loading findings"),
    );
  }
}
