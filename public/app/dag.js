// @ts-check
/**
 * The DAG drawing of the live view: levels (topological waves, SPEC §4.5) as columns of node
 * cards with dependency edges drawn in an SVG overlay from the laid-out card positions; on a phone
 * the levels stack and each card names its dependencies instead. Cards are toggle buttons (filter the timeline to that node); their state, attempts
 * and gate decision are updated in place as events arrive.
 */
import { badge, h, replace, svg } from "./dom.js";

/**
 * The DAG's levels, from the level the planner gave each node (`level` on the build's nodes):
 * node ids per level, sorted. Nothing is derived here.
 * @param {import("./api.js").BuildNode[]} dag
 * @returns {string[][]}
 */
export function levelsOf(dag) {
  /** @type {string[][]} */
  const levels = [];
  for (const n of dag) (levels[n.level] ??= []).push(n.node_id);
  return levels.filter(Boolean).map((ids) => ids.sort());
}

/**
 * @typedef {{ status: string, attempt: number, retries: number, error: string | null,
 *   gate: { gate: string, status: string, reason: string } | null }} NodeView
 */

export class DagView {
  /**
   * @param {(nodeId: string | null) => void} onSelect called with the selected node (null = none)
   */
  constructor(onSelect) {
    this.onSelect = onSelect;
    this.root = h("div", { class: "dag-wrap" });
    /** @type {Map<string, HTMLButtonElement>} */
    this.cards = new Map();
    /** @type {import("./api.js").BuildNode[]} */
    this.dag = [];
    /** @type {string | null} */
    this.selected = null;
    this.edges = svg("svg", { class: "dag-edges", "aria-hidden": "true", focusable: "false" });
    this.resize = new ResizeObserver(() => this.drawEdges());
    this.resize.observe(this.root);
  }

  destroy() {
    this.resize.disconnect();
  }

  /**
   * (Re)draws the structure; per-node state comes from `views`.
   * @param {import("./api.js").BuildNode[]} dag
   * @param {Map<string, NodeView>} views
   * @param {number | null} activeLevel
   */
  render(dag, views, activeLevel) {
    this.dag = dag;
    this.cards.clear();
    const byId = new Map(dag.map((n) => [n.node_id, n]));
    if (this.selected && !byId.has(this.selected)) this.selected = null;
    const levels = levelsOf(dag);
    const container = h(
      "div",
      { class: "dag" },
      this.edges,
      levels.map((ids, i) =>
        h(
          "section",
          {
            class: `dag-level${i === activeLevel ? " active" : ""}`,
            "aria-label": `Level ${i}`,
            dataset: { level: String(i) },
          },
          h("h3", null, `Level ${i}`),
          h(
            "ul",
            null,
            ids.map((id) => {
              const node = byId.get(id);
              if (!node) return null;
              const card = this.card(node);
              this.cards.set(id, card);
              this.update(
                id,
                views.get(id) ?? { status: node.status, attempt: 0, retries: 0, error: null, gate: null },
              );
              return h("li", null, card);
            }),
          ),
        ),
      ),
    );
    replace(this.root, dag.length === 0 ? h("p", { class: "muted" }, "This build has an empty DAG.") : container);
    requestAnimationFrame(() => this.drawEdges());
  }

  /** @param {number | null} level */
  setActiveLevel(level) {
    for (const section of this.root.querySelectorAll(".dag-level")) {
      section.classList.toggle("active", section instanceof HTMLElement && section.dataset.level === String(level));
    }
  }

  /** @param {import("./api.js").BuildNode} node */
  card(node) {
    const button = h("button", {
      type: "button",
      class: "dag-node",
      "aria-pressed": String(this.selected === node.node_id),
      dataset: { nodeId: node.node_id },
      title: node.depends_on.length ? `Depends on ${node.depends_on.join(", ")}` : "No dependencies",
    });
    button.addEventListener("click", () => {
      this.selected = this.selected === node.node_id ? null : node.node_id;
      for (const [id, c] of this.cards) c.setAttribute("aria-pressed", String(id === this.selected));
      this.onSelect(this.selected);
    });
    return button;
  }

  /**
   * Updates one card's text and state in place.
   * @param {string} nodeId
   * @param {NodeView} v
   */
  update(nodeId, v) {
    const card = this.cards.get(nodeId);
    const node = this.dag.find((n) => n.node_id === nodeId);
    if (!card || !node) return;
    card.dataset.status = v.status;
    const statusLabel = v.status === "retrying" ? "retry scheduled" : v.status;
    // The card's name is its visible text (title, id, state, agent, gate …), so what a voice-control
    // user sees is what they can say (WCAG 2.5.3); the dependencies are its description (`title`).
    replace(
      card,
      h("span", { class: "n-title" }, node.title),
      h("span", { class: "n-id" }, node.node_id),
      h(
        "span",
        { class: "n-meta" },
        badge(v.status, statusLabel),
        h("span", { class: "muted" }, node.agent),
        v.attempt > 1 ? h("span", null, `attempt ${v.attempt}`) : null,
        node.gate
          ? h(
              "span",
              { class: "chip" },
              h("span", { class: `gate${node.gate === "POLICY_GATE" ? " gate-policy" : ""}` }, node.gate),
            )
          : null,
      ),
      v.gate ? h("span", { class: "n-gate" }, `${v.gate.gate}: `, badge(v.gate.status), ` ${v.gate.reason}`) : null,
      v.status === "failed" && v.error ? h("span", { class: "n-error" }, v.error) : null,
      node.depends_on.length ? h("span", { class: "n-deps" }, `after ${node.depends_on.join(", ")}`) : null,
    );
    this.drawEdgeStates();
  }

  /**
   * Edge paths between cards, from the current layout (columns, left to right).
   * Each card's incoming and outgoing edges get their own ports along its side, ordered by the
   * position of the other end, so edges fan out instead of meeting in one point.
   */
  drawEdges() {
    const container = this.root.querySelector(".dag");
    if (!(container instanceof HTMLElement)) return;
    const box = container.getBoundingClientRect();
    const vertical = getComputedStyle(container).flexDirection === "column";
    this.edges.setAttribute("width", String(container.scrollWidth));
    this.edges.setAttribute("height", String(container.scrollHeight));
    this.edges.replaceChildren();
    // Stacked levels (a phone) cannot show edges legibly; each card lists its dependencies instead.
    if (vertical) return;
    /** @type {Map<string, DOMRect>} */
    const rects = new Map([...this.cards].map(([id, card]) => [id, card.getBoundingClientRect()]));
    /** @type {Array<{ from: string, to: string }>} */
    const edges = this.dag.flatMap((n) =>
      n.depends_on.filter((d) => rects.has(d) && rects.has(n.node_id)).map((d) => ({ from: d, to: n.node_id })),
    );
    const along = (/** @type {DOMRect} */ r) => r.top + r.height / 2;
    /** Port offset (0..1) of `edge` among the edges sharing its `end`. @param {"from" | "to"} end */
    const port = (/** @type {{ from: string, to: string }} */ edge, end) => {
      const other = end === "from" ? "to" : "from";
      const siblings = edges
        .filter((e) => e[end] === edge[end])
        .sort(
          (a, b) =>
            along(/** @type {DOMRect} */ (rects.get(a[other]))) - along(/** @type {DOMRect} */ (rects.get(b[other]))),
        );
      return (siblings.indexOf(edge) + 1) / (siblings.length + 1);
    };
    for (const edge of edges) {
      const a = /** @type {DOMRect} */ (rects.get(edge.from));
      const b = /** @type {DOMRect} */ (rects.get(edge.to));
      const pa = port(edge, "from");
      const pb = port(edge, "to");
      const x1 = a.right - box.left,
        y1 = a.top + a.height * pa - box.top;
      const x2 = b.left - box.left,
        y2 = b.top + b.height * pb - box.top;
      const dx = Math.max(12, Math.min(40, (x2 - x1) / 2));
      const d = `M${x1},${y1} C${x1 + dx},${y1} ${x2 - dx},${y2} ${x2},${y2}`;
      this.edges.append(svg("path", { d, "data-from": edge.from, "data-to": edge.to }));
    }
    this.drawEdgeStates();
  }

  /** Edges out of finished nodes are drawn as done. */
  drawEdgeStates() {
    for (const path of this.edges.querySelectorAll("path")) {
      const from = this.cards.get(path.getAttribute("data-from") ?? "");
      const done = from?.dataset.status === "completed" || from?.dataset.status === "skipped";
      path.classList.toggle("done", done);
    }
  }
}
