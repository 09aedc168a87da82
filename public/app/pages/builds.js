// @ts-check
/**
 * Builds: the caller's builds (tenant admins: the tenant's), newest first — status, progress
 * (nodes done / total), age — filtered by status and paged with the API's keyset cursor. The
 * filter and cursor live in the URL hash; the page refreshes itself while builds are active.
 */
import { builds } from "../api.js";
import { badge, h, replace, select, shortId, table, timeAgo } from "../dom.js";
import { errorNotice, triggerView } from "../ui.js";
import { SEVERITIES } from "./findings-panel.js";

export const title = "Builds";

const STATUSES = ["running", "paused", "failed", "completed", "aborted", "pending"];
const ACTIVE = new Set(["running", "paused", "pending"]);
const REFRESH_MS = 4000;

/** Cursors of the pages before the current one, per filter (so "Newer" can go back). */
const history = /** @type {Map<string, string[]>} */ (new Map());

/** @param {import("../main.js").PageContext} ctx */
export async function mount(ctx) {
  const status = ctx.query.get("status") ?? "";
  const cursor = ctx.query.get("cursor") ?? "";
  const limit = Number(ctx.query.get("limit") ?? "20") || 20;
  const filterKey = `${status}|${limit}`;
  const stack = history.get(filterKey) ?? [];
  history.set(filterKey, stack);
  if (!cursor) stack.length = 0;

  /** @param {Record<string, string>} q */
  const hashFor = (q) => {
    const params = new URLSearchParams({
      ...(status ? { status } : {}),
      ...(limit !== 20 ? { limit: String(limit) } : {}),
      ...q,
    });
    const s = params.toString();
    return `#/builds${s ? `?${s}` : ""}`;
  };

  const statusSelect = select(
    { name: "status" },
    [["", "All statuses"], ...STATUSES.map((s) => /** @type {[string, string]} */ ([s, s]))],
    status,
  );
  const limitSelect = select(
    { name: "limit" },
    [
      ["10", "10"],
      ["20", "20"],
      ["50", "50"],
    ],
    String(limit),
  );
  const onFilter = () => {
    const q = new URLSearchParams();
    if (statusSelect.value) q.set("status", statusSelect.value);
    if (limitSelect.value !== "20") q.set("limit", limitSelect.value);
    const s = q.toString();
    ctx.navigate(`#/builds${s ? `?${s}` : ""}`);
  };
  statusSelect.addEventListener("change", onFilter);
  limitSelect.addEventListener("change", onFilter);
  statusSelect.id = "builds-status";
  limitSelect.id = "builds-limit";

  const refreshButton = h("button", { type: "button", class: "btn btn-small" }, "Refresh");
  const updated = h("span", { class: "muted", id: "builds-updated", "aria-live": "off" });
  const results = h("div", { id: "builds-results", tabindex: "-1" });
  const pager = h("nav", { class: "pager", "aria-label": "Build pages" });

  ctx.main.append(
    h(
      "div",
      { class: "page-head" },
      h("div", null, h("h1", null, "Builds"), h("p", { class: "sub" }, "Scans on this control plane, newest first")),
      h("a", { class: "btn btn-primary", href: "#/builds/new" }, "New scan"),
    ),
    h(
      "section",
      { class: "card", "aria-labelledby": "builds-h" },
      h("h2", { id: "builds-h", class: "visually-hidden" }, "Build list"),
      h(
        "div",
        { class: "row", role: "group", "aria-label": "Filter" },
        h("label", { for: "builds-status" }, "Status"),
        statusSelect,
        h("label", { for: "builds-limit" }, "Per page"),
        limitSelect,
        h("span", { class: "spacer" }),
        updated,
        refreshButton,
      ),
      results,
      pager,
    ),
  );

  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;
  let stopped = false;

  async function load() {
    clearTimeout(timer);
    let page;
    try {
      page = await builds.list({ status: status || undefined, limit, cursor: cursor || undefined });
    } catch (err) {
      if (!stopped) replace(results, errorNotice(err, "Loading builds"));
      return;
    }
    if (stopped) return;
    // A self-refresh replaces the rows: a keyboard user on a link keeps their place (same href).
    const focused = document.activeElement;
    const keep =
      focused instanceof HTMLAnchorElement && (results.contains(focused) || pager.contains(focused))
        ? focused.getAttribute("href")
        : null;
    updated.textContent = `Updated ${new Date().toLocaleTimeString()}`;
    if (page.items.length === 0) {
      replace(
        results,
        h(
          "p",
          { class: "empty" },
          status ? `No ${status} builds.` : "No builds yet. ",
          status ? null : h("a", { href: "#/builds/new" }, "Start a new scan"),
        ),
      );
    } else {
      replace(
        results,
        table(
          status ? `Builds with status ${status}` : "All builds",
          ["Build", "Status", "Trigger", "Progress", "Findings", "Started", "Objective"],
          page.items.map((b) => [
            h(
              "a",
              { href: `#/builds/${b.build_id}`, class: "build-link", title: b.repo_url },
              h("span", { class: "mono" }, shortId(b.build_id)),
              " ",
              h("span", null, b.repo_url.replace(/^https?:\/\//, "")),
            ),
            badge(b.status),
            triggerView(b.trigger),
            h(
              "div",
              { class: "progress-cell" },
              h("progress", {
                max: Math.max(1, b.node_total),
                value: b.node_done,
                "aria-label": `Nodes done for ${shortId(b.build_id)}`,
              }),
              h("span", null, `${b.node_done} / ${b.node_total} nodes`),
            ),
            findingCounts(b.findings_summary),
            timeAgo(b.created_at),
            h("span", { class: "truncate", title: b.objective }, b.objective),
          ]),
          { captionHidden: true, class: "cards builds-table" },
        ),
      );
    }
    const prev = stack.length > 0 ? stack[stack.length - 1] : undefined;
    replace(
      pager,
      cursor ? h("a", { class: "btn btn-small", href: hashFor({}) }, "First page") : null,
      cursor
        ? h(
            "a",
            {
              class: "btn btn-small",
              href: hashFor(prev ? { cursor: prev } : {}),
              onclick: () => void stack.pop(),
            },
            "← Newer",
          )
        : null,
      page.next_cursor
        ? h(
            "a",
            {
              class: "btn btn-small",
              href: hashFor({ cursor: String(page.next_cursor) }),
              onclick: () => void (cursor ? stack.push(cursor) : undefined),
            },
            "Older →",
          )
        : null,
    );
    if (keep !== null && !results.contains(document.activeElement) && !pager.contains(document.activeElement)) {
      const again = [...results.querySelectorAll("a[href]"), ...pager.querySelectorAll("a[href]")].find(
        (a) => a.getAttribute("href") === keep,
      );
      if (again instanceof HTMLElement) again.focus({ preventScroll: true });
      else results.focus({ preventScroll: true });
    }
    if (page.items.some((b) => ACTIVE.has(b.status)) && !stopped) timer = setTimeout(() => void load(), REFRESH_MS);
  }

  refreshButton.addEventListener("click", () => void load());
  void load();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}

/**
 * A build's findings in the list: counts of the severities present (critical first) and how
 * many are new, or a dash before the build finished.
 * @param {import("../api.js").BuildSummary["findings_summary"]} summary
 */
function findingCounts(summary) {
  if (!summary) return h("span", { class: "muted" }, "—");
  if (summary.total === 0) return h("span", { class: "findings-cell" }, "None");
  const parts = SEVERITIES.filter((s) => summary.by_severity[s] > 0).map((s) => `${summary.by_severity[s]} ${s}`);
  return h("span", { class: "findings-cell" }, parts.join(" · "), summary.new > 0 ? ` (${summary.new} new)` : "");
}
