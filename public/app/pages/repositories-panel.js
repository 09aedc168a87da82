// @ts-check
/**
 * The Repositories card of Program ops (issue 21): the tenant's GitHub repository bindings —
 * which repositories' pushes (on which branches) and pull requests start scans, whether a newer
 * push supersedes a running build, whether SARIF goes to code scanning — how to point a GitHub
 * webhook at this control plane, and the reports to GitHub that were dead-lettered. Read-only;
 * bindings are managed (and reports re-driven) through the API.
 */
import { security } from "../api.js";
import { h, replace, shortId, table, timeAgo } from "../dom.js";
import { errorNotice } from "../ui.js";

/** @param {boolean} on */
const yesNo = (on) => (on ? "Yes" : "No");

/**
 * The card and its loader.
 * @param {{ tenantId: string | null }} opts the signed-in tenant, for the webhook URL hint
 */
export function repositoriesPanel(opts) {
  const slot = h("div", { id: "repositories" });
  const refresh = h("button", { type: "button", class: "btn btn-small" }, "Refresh");
  const hookUrl = `${location.origin}/v1/program/webhook/github/${encodeURIComponent(opts.tenantId ?? "<tenant id>")}`;

  const failedSlot = h("div", { id: "github-reports-failed" });

  async function loadFailed() {
    let page;
    try {
      page = await security.githubReports({ state: "dead_lettered", limit: 20 });
    } catch (err) {
      replace(failedSlot, errorNotice(err, "Loading failed reports to GitHub"));
      return;
    }
    replace(
      failedSlot,
      page.items.length === 0
        ? null
        : [
            h("h3", null, "Reports to GitHub that failed"),
            table(
              "Dead-lettered reports to GitHub",
              ["Build", "Kind", "Repository", "Attempts", "Last error"],
              page.items.map((r) => [
                h("a", { href: `#/builds/${r.build_id}`, class: "mono" }, shortId(r.build_id)),
                r.kind === "check_run" ? "Check run" : "SARIF upload",
                h("span", { class: "mono" }, r.repository),
                String(r.attempts),
                h("span", { class: "truncate", title: r.last_error ?? "" }, r.last_error ?? "–"),
              ]),
              { captionHidden: true, class: "cards" },
            ),
          ],
    );
  }

  async function load() {
    void loadFailed();
    let page;
    try {
      page = await security.repositories({ limit: 50 });
    } catch (err) {
      replace(slot, errorNotice(err, "Loading repository bindings"));
      return;
    }
    replace(
      slot,
      page.items.length === 0
        ? h("p", { class: "muted" }, "No repositories bound yet: deliveries of any repository are stored and ignored.")
        : table(
            "Repository bindings",
            ["Repository", "Push branches", "Pull requests", "Supersede on push", "SARIF upload", "Bound"],
            page.items.map((b) => [
              h("span", { class: "mono" }, b.repository),
              b.push_branches.length > 0 ? b.push_branches.join(", ") : "–",
              yesNo(b.pull_requests),
              yesNo(b.supersede_on_push),
              yesNo(b.sarif_upload),
              timeAgo(b.created_at),
            ]),
            { captionHidden: true, class: "cards" },
          ),
    );
  }
  refresh.addEventListener("click", () => void load());

  const card = h(
    "section",
    { class: "card", "aria-labelledby": "repo-h" },
    h("div", { class: "card-head" }, h("h2", { id: "repo-h" }, "Repositories"), refresh),
    h(
      "details",
      { class: "card-sub" },
      h("summary", null, "Connect a GitHub webhook"),
      h(
        "p",
        null,
        "Payload URL ",
        h("code", { class: "mono" }, hookUrl),
        ", content type application/json, events push and pull_request. Store its secret as the tenant secret ",
        h("code", null, "github_webhook_secret"),
        " and a token that may write checks as ",
        h("code", null, "github_token"),
        ".",
      ),
    ),
    slot,
    failedSlot,
  );
  return { card, load };
}
