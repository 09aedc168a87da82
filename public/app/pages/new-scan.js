// @ts-check
/**
 * New scan: the intake of SPEC §8.2 (repository, product summary, target users, sensitive data,
 * must-not-break flows, deployment target, scale) on one form, a live DAG preview
 * (POST /v1/builds/preview-dag, re-run on every change) with the POLICY_GATE risk check, then
 * start → the build's live view. Starting previews once more and refuses a plan without a
 * POLICY_GATE node, as the reference does.
 */
import { builds } from "../api.js";
import { busy, dl, field, h, notice, replace, select } from "../dom.js";
import { errorNotice } from "../ui.js";

export const title = "New scan";

const SENSITIVE = [
  ["payments", "Payments"],
  ["pii", "Personal data (PII)"],
  ["health", "Health data"],
  ["auth_secrets", "Auth secrets"],
  ["none", "None"],
  ["not_sure", "Not sure"],
];
const EXCLUSIVE = new Set(["none", "not_sure"]);
const DEPLOYMENT = [
  "Cloudflare Workers",
  "Vercel / Netlify",
  "AWS",
  "Google Cloud",
  "Azure",
  "Kubernetes (self-managed)",
  "On-premises",
  "Not sure",
];
const SCALE = ["MVP / low traffic", "Early growth", "Expected rapid growth", "Enterprise / high traffic", "Not sure"];
const PROFILES = /** @type {Array<[string, string]>} */ ([
  ["agentic_llm_v1", "Agentic (intake-driven, default)"],
  ["adaptive_parallel_v1", "Adaptive parallel"],
  ["static_v1", "Static v1"],
  ["deterministic", "Deterministic (no autonomous planning)"],
]);
const POLICY_RISK = "Planned DAG is missing a POLICY_GATE node.";

/** @param {import("../main.js").PageContext} ctx */
export async function mount(ctx) {
  const repo = h("input", {
    type: "text",
    name: "repo_url",
    inputmode: "url",
    autocomplete: "off",
    required: true,
    placeholder: "https://github.com/acme/shop",
  });
  const originOwn = h("input", { type: "radio", name: "project_origin", value: "inspired_by_me", checked: true });
  const originExt = h("input", { type: "radio", name: "project_origin", value: "external_project" });
  const summary = h("textarea", { name: "product_summary", rows: 3, required: true, minlength: 3, maxlength: 2000 });
  const users = h("input", {
    type: "text",
    name: "target_users",
    required: true,
    minlength: 2,
    maxlength: 500,
    autocomplete: "off",
  });
  /** @type {HTMLInputElement[]} */
  const sensitive = SENSITIVE.map(([value]) => h("input", { type: "checkbox", name: "sensitive_data", value }));
  const flows = h("textarea", {
    name: "must_not_break_flows",
    rows: 3,
    required: true,
    placeholder: "Sign up & login\nCheckout",
  });
  const deployment = select(
    { name: "deployment_target" },
    DEPLOYMENT.map((d) => /** @type {[string, string]} */ ([d, d])),
    DEPLOYMENT[0],
  );
  const scale = select(
    { name: "scale_expectation" },
    SCALE.map((d) => /** @type {[string, string]} */ ([d, d])),
    SCALE[1],
  );
  const profile = select({ name: "planner_profile" }, PROFILES, "agentic_llm_v1");
  const fallback = h("input", { type: "checkbox", name: "fallback", checked: true });
  const duration = h("input", {
    type: "number",
    name: "simulated_duration_ms",
    min: 0,
    max: 600000,
    step: 50,
    inputmode: "numeric",
  });
  const retries = h("input", {
    type: "number",
    name: "max_task_retries",
    min: 0,
    max: 10,
    step: 1,
    inputmode: "numeric",
  });
  const extra = h("textarea", {
    name: "extra_metadata",
    rows: 3,
    class: "mono",
    spellcheck: "false",
    placeholder: '{"runner_results": {"scanner": {"status_sequence": ["failed", "completed"]}}}',
  });
  const sensitiveError = h("p", { class: "form-error", id: "sensitive-error", hidden: true });
  const formError = h("div", { id: "form-error" });
  const start = h(
    "button",
    { type: "submit", class: "btn btn-primary", "aria-describedby": "start-hint" },
    "Start scan",
  );
  const startHint = h("span", { class: "muted", id: "start-hint" });

  const previewStatus = h(
    "p",
    { class: "muted", id: "preview-status", role: "status" },
    "Fill in the intake to preview the plan.",
  );
  const previewBody = h("div", { id: "preview" });
  const riskSlot = h("div", { id: "policy-risk" });

  for (const box of sensitive) {
    box.addEventListener("change", () => {
      if (box.checked && EXCLUSIVE.has(box.value))
        for (const other of sensitive) if (other !== box) other.checked = false;
      if (box.checked && !EXCLUSIVE.has(box.value))
        for (const other of sensitive) if (EXCLUSIVE.has(other.value)) other.checked = false;
    });
  }

  const form = h(
    "form",
    { novalidate: true, id: "intake", "aria-describedby": "form-error" },
    h(
      "fieldset",
      null,
      h("legend", null, "1. Repository"),
      field(
        "Repository URL",
        repo,
        "An https:// Git URL, or a local git repository (file:// URL or absolute path) under the runner's roots.",
      ),
      h(
        "div",
        { role: "radiogroup", "aria-labelledby": "origin-l", class: "field" },
        h("span", { id: "origin-l", class: "label" }, "Project origin"),
        h(
          "div",
          { class: "checks" },
          h("label", { class: "check" }, originOwn, "Inspired by me"),
          h("label", { class: "check" }, originExt, "External project"),
        ),
      ),
    ),
    h(
      "fieldset",
      null,
      h("legend", null, "2. Product"),
      field("Product summary", summary, "What the product does (at least 3 characters)."),
      field("Target users", users, "Who uses it (at least 2 characters)."),
    ),
    h(
      "fieldset",
      { "aria-describedby": "sensitive-hint sensitive-error" },
      h("legend", null, "3. Sensitive data"),
      h("p", { class: "hint", id: "sensitive-hint" }, "Pick at least one. “None” and “Not sure” exclude the others."),
      h(
        "div",
        { class: "checks" },
        sensitive.map((box, i) => h("label", { class: "check" }, box, SENSITIVE[i]?.[1] ?? "")),
      ),
      sensitiveError,
    ),
    h(
      "fieldset",
      null,
      h("legend", null, "4. Must-not-break flows"),
      field("Flows", flows, "One per line; the first four become flow guards in the plan."),
    ),
    h(
      "fieldset",
      null,
      h("legend", null, "5. Deployment"),
      h("div", { class: "inline-fields" }, field("Deployment target", deployment), field("Scale expectation", scale)),
    ),
    h(
      "details",
      { class: "card-sub" },
      h("summary", null, "Planner and runner options"),
      h(
        "div",
        { class: "inline-fields" },
        field("Planner profile", profile),
        field("Simulated node duration (ms)", duration, "Simulated runner only; default 250 ms."),
        field("Retries per node", retries, "max_task_retries; default 0."),
      ),
      h("label", { class: "check" }, fallback, "Fall back to the deterministic plan when a node fails"),
      field(
        "Extra build metadata (JSON object)",
        extra,
        "Merged into the build metadata, e.g. runner_results overrides.",
      ),
    ),
    formError,
    h("div", { class: "actions row" }, start, startHint),
  );

  ctx.main.append(
    h(
      "div",
      { class: "page-head" },
      h(
        "div",
        null,
        h("h1", null, "New scan"),
        h("p", { class: "sub" }, "Describe the project; the plan updates as you type."),
      ),
    ),
    h(
      "div",
      { class: "scan-layout" },
      h("section", { class: "card", "aria-labelledby": "intake-h" }, h("h2", { id: "intake-h" }, "Intake"), form),
      h(
        "section",
        { class: "card preview", "aria-labelledby": "preview-h" },
        h("h2", { id: "preview-h" }, "DAG preview"),
        previewStatus,
        riskSlot,
        previewBody,
      ),
    ),
  );

  // ---- request -----------------------------------------------------------------------------------
  /** @returns {{ body: import("../api.js").BuildCreateRequest, problems: Array<[HTMLElement, string]> }} */
  function readForm() {
    /** @type {Array<[HTMLElement, string]>} */
    const problems = [];
    const repoUrl = repo.value.trim();
    if (repoUrl === "") problems.push([repo, "Enter the repository URL."]);
    if (summary.value.trim().length < 3) problems.push([summary, "The product summary needs at least 3 characters."]);
    if (users.value.trim().length < 2) problems.push([users, "Target users need at least 2 characters."]);
    const data = sensitive.filter((b) => b.checked).map((b) => b.value);
    if (data.length === 0)
      problems.push([/** @type {HTMLInputElement} */ (sensitive[0]), "Pick at least one kind of sensitive data."]);
    const flowList = flows.value
      .split("\n")
      .map((s) => s.trim())
      .filter(Boolean);
    if (flowList.length === 0) problems.push([flows, "Name at least one must-not-break flow."]);
    /** @type {Record<string, unknown>} */
    let extraMeta = {};
    if (extra.value.trim() !== "") {
      try {
        const parsed = JSON.parse(extra.value);
        if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) throw new Error("not an object");
        extraMeta = parsed;
      } catch {
        problems.push([extra, "Extra metadata must be a JSON object."]);
      }
    }
    const chosen = profile.value;
    /** @type {Record<string, unknown>} */
    const metadata = {
      scan_mode: chosen === "deterministic" ? "deterministic" : "autonomous",
      ...(fallback.checked ? { fallback_scan_mode: "deterministic" } : {}),
      ...(chosen === "deterministic" ? {} : { autonomous_planner_profile: chosen }),
      project_intake: {
        project_origin: originExt.checked ? "external_project" : "inspired_by_me",
        product_summary: summary.value.trim(),
        target_users: users.value.trim(),
        sensitive_data: data,
        must_not_break_flows: flowList,
        deployment_target: deployment.value,
        scale_expectation: scale.value,
      },
      ...(duration.value !== "" ? { simulated_duration_ms: Number(duration.value) } : {}),
      ...(retries.value !== "" ? { max_task_retries: Number(retries.value) } : {}),
      ...extraMeta,
    };
    return {
      body: {
        repo_url: repoUrl,
        objective: `Audit ${repoUrl || "the repository"} for product risk and reliability`,
        metadata,
      },
      problems,
    };
  }

  /** @param {import("../api.js").DagPreview} p */
  function policyGateNodes(p) {
    return p.dag.filter((n) => n.gate === "POLICY_GATE").map((n) => n.node_id);
  }

  // ---- live preview ---------------------------------------------------------------------------
  /** @type {import("../api.js").DagPreview | null} */
  let preview = null;
  /** @type {AbortController | null} */
  let inflight = null;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;
  let seq = 0;

  let lastPreviewed = "";

  function schedulePreview() {
    // A blur "change" with nothing changed must not re-plan (nor disable Start under the pointer).
    if (JSON.stringify(readForm().body) === lastPreviewed) return;
    clearTimeout(timer);
    previewStatus.textContent = "Updating preview…";
    timer = setTimeout(() => void runPreview(), 300);
  }

  async function runPreview() {
    const mine = ++seq;
    inflight?.abort();
    inflight = new AbortController();
    const { body } = readForm();
    lastPreviewed = JSON.stringify(body);
    try {
      const p = await builds.previewDag({ ...body, repo_url: body.repo_url || "preview" }, inflight.signal);
      if (mine !== seq) return;
      preview = p;
      renderPreview(p);
    } catch (err) {
      if (mine !== seq || (err instanceof DOMException && err.name === "AbortError")) return;
      preview = null;
      lastPreviewed = "";
      previewStatus.textContent = "Preview unavailable.";
      replace(previewBody, errorNotice(err, "Planning"));
      replace(riskSlot);
    } finally {
      updateStart();
    }
  }

  /** @param {import("../api.js").DagPreview} p */
  function renderPreview(p) {
    const gated = policyGateNodes(p);
    const levels = p.dag_levels;
    const byId = new Map(p.dag.map((n) => [n.node_id, n]));
    const gates = p.dag.filter((n) => n.gate).length;
    const trace = typeof p.planner_trace.profile === "string" ? p.planner_trace.profile : null;
    previewStatus.textContent = `Plan ready: ${p.dag.length} nodes in ${levels.length} levels.`;
    replace(
      riskSlot,
      gated.length === 0
        ? notice("error", h("strong", null, "Policy risk. "), POLICY_RISK, " Starting is blocked.")
        : notice("ok", "POLICY_GATE on ", gated.join(", "), "."),
    );
    replace(
      previewBody,
      dl([
        ["Profile", h("span", { class: "mono", id: "preview-profile" }, p.planner_profile ?? p.scan_mode)],
        ["Scan mode", p.scan_mode],
        ...(trace ? /** @type {Array<[string, string]>} */ ([["Planner trace", trace]]) : []),
      ]),
      h(
        "dl",
        { class: "stats" },
        [
          ["Levels", String(levels.length)],
          ["Nodes", String(p.dag.length)],
          ["Gates", String(gates)],
        ].map(([k, v]) =>
          h("div", { class: "stat" }, h("dt", null, k), h("dd", { id: `preview-${k.toLowerCase()}` }, v)),
        ),
      ),
      h(
        "ol",
        { class: "preview-levels", "aria-label": "Planned levels" },
        levels.map((ids, i) =>
          h(
            "li",
            null,
            h("span", { class: "lvl" }, `Level ${i}`),
            h(
              "span",
              { class: "nodes" },
              ids.map((nid) => {
                const n = byId.get(nid);
                return h(
                  "span",
                  { class: "chip", title: n?.title ?? nid },
                  nid,
                  n?.gate
                    ? h(
                        "span",
                        { class: `gate${n.gate === "POLICY_GATE" ? " gate-policy" : ""}` },
                        n.gate.replace("_GATE", ""),
                      )
                    : null,
                );
              }),
            ),
          ),
        ),
      ),
    );
  }

  /** Start is blocked only by a known policy risk; starting previews again anyway. */
  function updateStart() {
    const risk = preview !== null && policyGateNodes(preview).length === 0;
    start.disabled = risk;
    startHint.textContent =
      preview === null
        ? ""
        : risk
          ? "Blocked: the plan has no POLICY_GATE node."
          : `Plan: ${preview.dag.length} nodes in ${preview.dag_levels.length} levels.`;
  }

  form.addEventListener("input", schedulePreview);
  form.addEventListener("change", schedulePreview);

  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const { body, problems } = readForm();
    for (const el of form.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
    sensitiveError.hidden = true;
    if (problems.length > 0) {
      for (const [el, msg] of problems) {
        el.setAttribute("aria-invalid", "true");
        if (el.getAttribute("name") === "sensitive_data") {
          sensitiveError.hidden = false;
          sensitiveError.textContent = msg;
        }
      }
      replace(
        formError,
        notice(
          "error",
          h("strong", null, "Check the intake: "),
          h(
            "ul",
            null,
            problems.map(([, m]) => h("li", null, m)),
          ),
        ),
      );
      problems[0]?.[0].focus();
      return;
    }
    replace(formError);
    void busy(start, async () => {
      try {
        // Preview again right before starting (SPEC §8.2): never start a plan with a policy risk.
        const p = await builds.previewDag(body);
        preview = p;
        renderPreview(p);
        if (policyGateNodes(p).length === 0) {
          replace(formError, notice("error", h("strong", null, "Build blocked by policy risk. "), POLICY_RISK));
          return;
        }
        const created = await builds.create(body, crypto.randomUUID());
        ctx.navigate(`#/builds/${created.build_id}`);
      } catch (err) {
        replace(formError, errorNotice(err, "Starting the scan"));
      }
    }).then(updateStart);
  });

  schedulePreview();
  return () => {
    clearTimeout(timer);
    inflight?.abort();
  };
}
