// @ts-check
/**
 * Build live view: the DAG by levels with node states driven by the event stream, an event
 * timeline with filters (category, node), gate / replan decisions, retries and fallback, and the
 * control actions valid for the build's current status (SPEC §4.10.1: the BuildRun's
 * `allowed_actions`, never re-derived here). The stream reconnects after a drop without repeating
 * lines (events.js).
 */
import { ApiError, builds } from "../api.js";
import { DagView, levelsOf } from "../dag.js";
import {
  badge,
  busy,
  clockTime,
  confirmDialog,
  dateTime,
  dl,
  field,
  h,
  notice,
  replace,
  shortId,
  table,
  timeAgo,
  toast,
} from "../dom.js";
import { BuildEventStream, CATEGORIES, categoryOf, describe, severityOf } from "../events.js";
import { errorNotice, triggerView } from "../ui.js";
import { findingsPanel, loadFindingsPanel } from "./findings-panel.js";

export const title = "Build";

const CONNECTION_LABEL = {
  connecting: "Connecting",
  live: "Live",
  reconnecting: "Reconnecting",
  ended: "Stream ended",
};

/** @param {import("../main.js").PageContext} ctx */
export async function mount(ctx) {
  const id = /** @type {string} */ (ctx.params[0]).toLowerCase();
  /** @type {import("../api.js").BuildRun | null} */
  let build = null;
  let status = "";
  /** @type {Map<string, import("../dag.js").NodeView>} */
  const nodes = new Map();
  /** @type {number | null} */
  let activeLevel = null;
  let eventCount = 0;
  /** @type {string | null} */
  let failureReason = null;
  let fallback = /** @type {{ from: string, reason: string } | null} */ (null);
  /** @type {import("../api.js").BuildEvent[]} */
  const decisions = [];
  /** @type {string | null} */
  let selectedNode = null;
  let stopped = false;

  // ---- skeleton --------------------------------------------------------------------------------
  const statusBadge = h("span", { id: "build-status", "aria-live": "polite" });
  const connBadge = h("span", { id: "stream-state", role: "status" });
  const summary = h("div");
  const notices = h("div");
  const controlsSlot = h("div", { class: "row", id: "controls" });
  const controlResult = h("div", { tabindex: "-1", id: "control-result" });
  const reason = h("input", {
    type: "text",
    id: "control-reason",
    name: "reason",
    placeholder: "e.g. release freeze",
    maxlength: 1000,
    autocomplete: "off",
  });
  const dagView = new DagView((nodeId) => {
    selectedNode = nodeId;
    applyFilters();
  });
  // The list keeps its list semantics; the scrolling box around it is the polite live region
  // (role=log) announcing new lines without moving focus, and a Tab stop for scrolling by keyboard.
  const timeline = h("ol", { class: "timeline-list", id: "timeline" });
  const timelineLog = h(
    "div",
    {
      class: "timeline",
      id: "timeline-log",
      role: "log",
      "aria-live": "polite",
      "aria-labelledby": "tl-h",
      tabindex: "0",
    },
    timeline,
  );
  const shown = h("p", { class: "muted", id: "timeline-count" });
  const nodeFilter = h("span", { id: "node-filter" });
  /** @type {Record<string, HTMLInputElement>} */
  const catBoxes = {};
  const filterSet = h(
    "fieldset",
    null,
    h("legend", null, "Show"),
    h(
      "div",
      { class: "checks" },
      CATEGORIES.map(([key, label]) => {
        const box = h("input", {
          type: "checkbox",
          checked: true,
          name: "category",
          value: key,
          onchange: () => applyFilters(),
        });
        catBoxes[key] = box;
        return h("label", { class: "check" }, box, label);
      }),
    ),
  );
  const decisionsSlot = h("div");
  const findingsSlot = h("div", { id: "findings-slot" });
  /** Renders the Findings panel (again when the build finishes: states and summary are set then). */
  const renderFindings = async () => {
    const panel = await loadFindingsPanel(id);
    if (!stopped) replace(findingsSlot, panel);
  };
  /** Whether the panel already shows a finished build's findings (a replayed BUILD_FINISHED changes nothing). */
  let findingsFinal = false;

  ctx.main.append(
    h(
      "div",
      { class: "page-head" },
      h(
        "div",
        null,
        h("div", { class: "title-row" }, h("h1", null, `Build ${shortId(id)}`), statusBadge, connBadge),
        h("p", { class: "sub mono" }, id),
      ),
      h("a", { class: "btn", href: "#/builds" }, "All builds"),
    ),
    notices,
    h(
      "div",
      { class: "live-summary" },
      h("section", { class: "card", "aria-labelledby": "sum-h" }, h("h2", { id: "sum-h" }, "Summary"), summary),
      h(
        "section",
        { class: "card controls", "aria-labelledby": "ctl-h" },
        h("h2", { id: "ctl-h" }, "Controls"),
        field("Reason (optional)", reason, "Recorded with the action."),
        controlsSlot,
        controlResult,
      ),
    ),
    findingsSlot,
    h(
      "section",
      { class: "card", "aria-labelledby": "dag-h" },
      h(
        "div",
        { class: "card-head" },
        h("h2", { id: "dag-h" }, "DAG"),
        h("span", { class: "muted" }, "Select a node to filter the timeline"),
      ),
      dagView.root,
    ),
    h(
      "section",
      { class: "card", "aria-labelledby": "tl-h" },
      h("div", { class: "card-head" }, h("h2", { id: "tl-h" }, "Event timeline"), shown),
      h("div", { class: "timeline-tools" }, filterSet, nodeFilter),
      timelineLog,
    ),
    h(
      "section",
      { class: "card", "aria-labelledby": "dec-h" },
      h("h2", { id: "dec-h" }, "Gate and replan decisions"),
      decisionsSlot,
    ),
  );

  // ---- rendering -------------------------------------------------------------------------------
  function renderSummary() {
    if (!build) return;
    const done = build.dag.filter((n) =>
      ["completed", "skipped"].includes(nodes.get(n.node_id)?.status ?? n.status),
    ).length;
    const total = build.dag.length;
    const meta = build.metadata;
    replace(
      summary,
      dl([
        ["Repository", h("span", { class: "mono" }, build.repo_url)],
        ["Objective", build.objective],
        ["Trigger", h("span", { id: "build-trigger" }, triggerView(build.trigger))],
        ["Scan mode", String(meta.scan_mode ?? "–")],
        // Issue 15: a simulated build executes nothing and says so; it never shows a runner's name.
        [
          "Execution",
          h(
            "span",
            { id: "execution-badge" },
            meta.runner_kind === "http"
              ? badge("real", "Real runner")
              : badge("simulated", "Simulated: nothing executed"),
          ),
        ],
        ["Planner", String(meta.autonomous_planner_profile ?? "–")],
        [
          "Progress",
          h(
            "span",
            { class: "progress-cell" },
            h("progress", { max: Math.max(1, total), value: done, "aria-label": "Nodes done" }),
            h("span", { id: "progress-text" }, `${done} / ${total} nodes done`),
          ),
        ],
        ["Started", [dateTime(build.created_at), " (", timeAgo(build.created_at), ")"]],
        ["Created by", build.created_by],
        ["Events", h("span", { id: "event-count" }, String(eventCount))],
      ]),
    );
  }

  /** The actions the control buttons were last rendered for. */
  let renderedActions = "";
  function renderStatus() {
    // A polite live region: only a real change is put in it (and announced).
    if (statusBadge.dataset.status !== (status || "pending")) {
      statusBadge.dataset.status = status || "pending";
      replace(statusBadge, badge(status || "pending"), h("span", { class: "visually-hidden" }, " build status"));
    }
    // The server's list for the status shown; while a streamed status change waits for its
    // snapshot (fetched at once), no control is offered rather than a stale one.
    const actions = build && build.status === (status || "pending") ? build.allowed_actions : [];
    // The same actions stay the same buttons (a status replay re-renders often; a screen reader or
    // keyboard user on one keeps their place).
    if (actions.join() === renderedActions) {
      renderNotices();
      return;
    }
    renderedActions = actions.join();
    /** @type {Record<import("../api.js").BuildControlAction, HTMLElement>} */
    const buttons = {
      resume: h(
        "button",
        {
          type: "button",
          class: "btn btn-primary",
          "data-action": "resume",
          onclick: (/** @type {Event} */ e) => act(e, "resume"),
        },
        "Resume build",
      ),
      // The dashboard's replan is a scope reduction.
      replan: h(
        "button",
        {
          type: "button",
          class: "btn",
          "data-action": "reduce",
          onclick: (/** @type {Event} */ e) => act(e, "reduce"),
        },
        "Reduce scope",
      ),
      checkpoint: h(
        "button",
        {
          type: "button",
          class: "btn",
          "data-action": "checkpoint",
          onclick: (/** @type {Event} */ e) => act(e, "checkpoint"),
        },
        "Create checkpoint",
      ),
      abort: h(
        "button",
        {
          type: "button",
          class: "btn btn-danger",
          "data-action": "abort",
          onclick: (/** @type {Event} */ e) => act(e, "abort"),
        },
        "Abort build",
      ),
    };
    const hadFocus = controlsSlot.contains(document.activeElement)
      ? /** @type {HTMLElement} */ (document.activeElement).dataset.action
      : null;
    replace(
      controlsSlot,
      actions.map((a) => buttons[a]),
    );
    if (hadFocus) {
      const again = controlsSlot.querySelector(`[data-action="${hadFocus}"]`);
      if (again instanceof HTMLElement) again.focus();
      else controlResult.focus();
    }
    renderNotices();
  }

  /** What the notices were last rendered from: an alert re-inserted unchanged would be announced again. */
  let renderedNotices = "";
  function renderNotices() {
    const key = JSON.stringify([fallback, status, failureReason]);
    if (key === renderedNotices) return;
    renderedNotices = key;
    replace(
      notices,
      fallback
        ? notice(
            "warn",
            h("strong", null, "Fallback applied. "),
            `The DAG switched from ${fallback.from} to the deterministic plan: ${fallback.reason}.`,
          )
        : null,
      status === "failed"
        ? notice(
            "error",
            h("strong", null, "Build failed. "),
            failureReason ?? "",
            " Resume to run the unfinished nodes again.",
          )
        : null,
      status === "paused"
        ? notice("warn", h("strong", null, "Build paused. "), failureReason ?? "", " Resume to continue.")
        : null,
    );
  }

  function renderDecisions() {
    const gates = decisions.filter((e) => e.event_type.endsWith("_GATE"));
    const replans = decisions.filter((e) => e.event_type === "REPLAN_DECISION");
    replace(
      decisionsSlot,
      gates.length === 0
        ? h("p", { class: "muted" }, "No gate decisions yet.")
        : table(
            "Gate decisions",
            ["#", "Time", "Gate", "Decision", "Node", "Reason", "Source"],
            gates.map((e) => [
              String(e.seq),
              clockTime(e.timestamp),
              e.event_type,
              badge(e.payload.status),
              e.payload.node_id ?? "–",
              e.payload.reason,
              e.payload.source,
            ]),
            { class: "cards" },
          ),
      replans.length === 0
        ? h("p", { class: "muted" }, "No replan decisions yet.")
        : table(
            "Replan decisions",
            ["#", "Time", "Action", "Reason", "New nodes", "Source"],
            replans.map((e) => [
              String(e.seq),
              clockTime(e.timestamp),
              e.payload.action,
              e.payload.reason,
              (e.payload.replacement_node_ids ?? []).join(", ") || "–",
              e.payload.source,
            ]),
            { class: "cards" },
          ),
    );
  }

  function applyFilters() {
    let visible = 0;
    for (const li of timeline.children) {
      if (!(li instanceof HTMLElement)) continue;
      const show =
        (catBoxes[li.dataset.cat ?? ""]?.checked ?? true) &&
        (selectedNode === null || li.dataset.node === selectedNode);
      li.hidden = !show;
      if (show) visible += 1;
    }
    shown.textContent = `Showing ${visible} of ${timeline.children.length} events`;
    replace(
      nodeFilter,
      selectedNode
        ? [
            "Node ",
            h("code", null, selectedNode),
            " ",
            h(
              "button",
              {
                type: "button",
                class: "btn btn-small",
                onclick: () => dagView.cards.get(/** @type {string} */ (selectedNode))?.click(),
              },
              "Show all nodes",
            ),
          ]
        : null,
    );
  }

  /** @param {import("../api.js").BuildEvent} e */
  function appendLine(e) {
    const atBottom = timelineLog.scrollHeight - timelineLog.scrollTop - timelineLog.clientHeight < 40;
    const cat = categoryOf(e.event_type);
    const node = typeof e.payload?.node_id === "string" ? e.payload.node_id : "";
    const li = h(
      "li",
      { class: `sev-${severityOf(e) || "none"}`, dataset: { seq: String(e.seq), cat, node, type: e.event_type } },
      h("span", { class: "seq" }, `#${e.seq}`),
      h("time", { class: "ts", datetime: e.timestamp }, clockTime(e.timestamp)),
      h("span", { class: "type" }, e.event_type),
      h("span", { class: "msg" }, describe(e)),
    );
    li.hidden = !(catBoxes[cat]?.checked ?? true) || (selectedNode !== null && node !== selectedNode);
    timeline.append(li);
    if (atBottom) timelineLog.scrollTop = timelineLog.scrollHeight;
  }

  /** @param {string} nodeId */
  function nodeView(nodeId) {
    let v = nodes.get(nodeId);
    if (!v) {
      v = { status: "pending", attempt: 0, retries: 0, error: null, gate: null };
      nodes.set(nodeId, v);
    }
    return v;
  }

  // ---- events ----------------------------------------------------------------------------------
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let refetchTimer;
  let refetchStructure = false;
  /** @param {boolean} [structure] re-render the DAG (its nodes changed) */
  function scheduleRefetch(structure = false) {
    refetchStructure ||= structure;
    clearTimeout(refetchTimer);
    refetchTimer = setTimeout(() => void refetch(), 250);
  }

  async function refetch() {
    const structure = refetchStructure;
    refetchStructure = false;
    try {
      const fresh = await builds.get(id);
      if (stopped) return;
      const changed =
        structure || !build || fresh.dag.map((n) => n.node_id).join() !== build.dag.map((n) => n.node_id).join();
      build = fresh;
      if (changed) dagView.render(fresh.dag, nodes, activeLevel);
      renderSummary();
      renderStatus();
    } catch {
      // the stream keeps the view current; a failed refresh only delays the summary
    }
  }

  /** @param {import("../api.js").BuildEvent} e */
  function onEvent(e) {
    eventCount += 1;
    appendLine(e);
    const p = e.payload ?? {};
    /** @type {string | null} */
    let touched = null;
    switch (e.event_type) {
      case "BUILD_STATUS_CHANGED":
        status = p.to_status;
        if (p.to_status === "failed" || p.to_status === "paused") failureReason = `${p.reason}.`;
        renderStatus();
        // The controls of a live status change come with a fresh snapshot (a replayed one is
        // older than the snapshot, which already has the later status and its controls).
        if (build && build.status !== status && e.timestamp > build.updated_at) void refetch();
        break;
      case "LEVEL_STARTED":
        activeLevel = typeof p.level === "number" ? p.level : null;
        dagView.setActiveLevel(activeLevel);
        break;
      case "TASK_STARTED": {
        const v = nodeView(p.node_id);
        v.status = "running";
        v.attempt = p.attempt ?? v.attempt + 1;
        touched = p.node_id;
        break;
      }
      case "TASK_COMPLETED":
      case "TASK_FAILED":
      case "TASK_SKIPPED": {
        const v = nodeView(p.node_id);
        v.status = e.event_type.slice(5).toLowerCase();
        v.attempt = p.attempt ?? v.attempt;
        v.error = p.error ?? null;
        touched = p.node_id;
        break;
      }
      case "TASK_RETRY_SCHEDULED": {
        const v = nodeView(p.node_id);
        v.status = "retrying";
        v.retries += 1;
        touched = p.node_id;
        break;
      }
      case "MERGE_GATE":
      case "TEST_GATE":
      case "POLICY_GATE":
        decisions.push(e);
        renderDecisions();
        if (p.node_id) {
          nodeView(p.node_id).gate = { gate: e.event_type, status: p.status, reason: p.reason };
          touched = p.node_id;
        }
        break;
      case "REPLAN_DECISION":
        decisions.push(e);
        renderDecisions();
        if ((p.replacement_node_ids ?? []).length > 0) scheduleRefetch(true);
        break;
      case "FALLBACK_MODE_SWITCHED":
        fallback = { from: p.from_mode, reason: p.reason };
        renderNotices();
        scheduleRefetch(true);
        break;
      case "BUILD_FINISHED":
        if (p.final_status !== "failed") {
          activeLevel = null;
          dagView.setActiveLevel(null);
        }
        scheduleRefetch();
        if (!findingsFinal) {
          findingsFinal = true;
          void renderFindings();
        }
        break;
      default:
        break;
    }
    if (touched) dagView.update(touched, nodeView(touched));
    const countEl = document.getElementById("event-count");
    if (countEl) countEl.textContent = String(eventCount);
    if (touched) renderSummary();
    if (!shownTimer)
      shownTimer = requestAnimationFrame(() => {
        shownTimer = 0;
        applyFilters();
      });
  }
  let shownTimer = 0;

  const stream = new BuildEventStream(id, {
    onEvent,
    onState: (state, detail) => {
      replace(connBadge, badge(state, CONNECTION_LABEL[state]));
      connBadge.title = detail ?? "";
      if (state === "ended") void stream.catchUp().catch(() => undefined);
    },
  });

  // ---- controls --------------------------------------------------------------------------------
  /**
   * A control action answers the build as it now is: its controls apply as soon as the stream
   * shows the same status (the stream stays the one source of the status shown).
   * @param {import("../api.js").BuildRun} fresh
   */
  function adopt(fresh) {
    if (stopped) return;
    build = fresh;
    renderStatus();
  }

  /** @param {Event} e @param {string} action */
  async function act(e, action) {
    const button = /** @type {HTMLButtonElement} */ (e.currentTarget);
    const why = reason.value.trim();
    if (action === "abort") {
      const ok = await confirmDialog({
        title: "Abort this build?",
        body: "Running nodes stop and the build ends as aborted. An aborted build cannot be resumed.",
        confirm: "Abort build",
        danger: true,
      });
      if (!ok) return;
    }
    await busy(button, async () => {
      try {
        let message;
        if (action === "abort") {
          adopt(await builds.abort(id, why || "manual_abort_from_dashboard"));
          message = "Abort requested.";
        } else if (action === "resume") {
          adopt(await builds.resume(id, why || "manual_resume_from_dashboard"));
          message = "Resume requested.";
        } else if (action === "reduce") {
          const d = await builds.replan(id, {
            action: "REDUCE_SCOPE",
            reason: why || "manual_scope_reduction_from_dashboard",
          });
          message = `Scope reduction recorded (decision ${shortId(d.decision_id)}).`;
        } else {
          const c = await builds.checkpoint(id, why || "manual_checkpoint_from_dashboard");
          message = `Checkpoint ${shortId(c.checkpoint_id)} created at ${c.status}.`;
        }
        replace(controlResult, notice("ok", message));
        toast(message, "ok");
        reason.value = "";
        if (stream.source === null) await stream.catchUp();
        scheduleRefetch();
      } catch (err) {
        replace(controlResult, errorNotice(err, "The action"));
      }
    });
  }

  // ---- start -----------------------------------------------------------------------------------
  try {
    build = await builds.get(id);
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) throw err;
    replace(notices, errorNotice(err, "Loading the build"));
    replace(summary, h("p", { class: "muted" }, "Build not available."));
    return () => dagView.destroy();
  }
  status = build.status;
  document.title = `Build ${shortId(id)} · Clarity Control Plane`;
  // The stream replays from seq 1, so node state is rebuilt from events; the snapshot fills in until then.
  for (const n of build.dag)
    nodes.set(n.node_id, { status: n.status, attempt: 0, retries: 0, error: null, gate: null });
  const levels = levelsOf(build.dag);
  activeLevel = levels.findIndex((ids) =>
    ids.some((nid) => !["completed", "skipped"].includes(nodes.get(nid)?.status ?? "")),
  );
  if (activeLevel < 0) activeLevel = null;
  renderSummary();
  renderStatus();
  renderDecisions();
  // The panel starts from the build itself (its summary and runner); it is rendered again once
  // when a running build finishes (the baseline states and the summary are stored then).
  findingsFinal = build.status === "completed" || build.status === "aborted";
  replace(
    findingsSlot,
    findingsPanel(id, build.findings_summary ?? null, build.metadata.runner_kind === "http" ? "real" : "simulated"),
  );
  dagView.render(build.dag, nodes, activeLevel);
  applyFilters();
  stream.start();

  return () => {
    stopped = true;
    clearTimeout(refetchTimer);
    stream.close();
    dagView.destroy();
  };
}
