// @ts-check
/**
 * Small inline-SVG charts (no library, no CDN): a line chart, grouped bars and stacked bars. Each
 * chart is a <figure> with an <svg role="img"> carrying an aria-label and a <title>, a legend, and
 * the same numbers as a data table (the accessible fallback, and what a reader who prefers numbers
 * reads). Colours come from CSS classes (`chart-s0` … `chart-s4`), so the light and dark schemes
 * and the strict CSP (no inline style) both hold. Used by pages/trends-panel.js.
 */
import { h, svg, table } from "./dom.js";

const W = 560;
const H = 220;
const PAD = { top: 12, right: 12, bottom: 34, left: 44 };
const plotW = W - PAD.left - PAD.right;
const plotH = H - PAD.top - PAD.bottom;

/**
 * @typedef {{ name: string, values: number[] }} Series
 * @typedef {{ id: string, title: string, description: string, labels: string[], series: Series[],
 *   max?: number, format?: (v: number) => string, tableHeaders?: string[] }} ChartSpec
 */

/** @param {number} v */
const plain = (v) => String(Math.round(v * 100) / 100);

/** Y axis with 4 gridlines from 0 to max. @param {number} max @param {(v: number) => string} fmt */
function axes(max, fmt) {
  const g = svg("g", { class: "chart-axes", "aria-hidden": "true" });
  for (let i = 0; i <= 4; i++) {
    const y = PAD.top + plotH - (plotH * i) / 4;
    g.append(
      svg("line", { x1: PAD.left, x2: W - PAD.right, y1: y, y2: y, class: "chart-grid" }),
      Object.assign(svg("text", { x: PAD.left - 6, y: y + 4, "text-anchor": "end", class: "chart-tick" }), {
        textContent: fmt((max * i) / 4),
      }),
    );
  }
  return g;
}

/** X labels under slot centres. @param {string[]} labels @param {(i: number) => number} xOf */
function xLabels(labels, xOf) {
  const g = svg("g", { class: "chart-axes", "aria-hidden": "true" });
  labels.forEach((label, i) => {
    const t = svg("text", { x: xOf(i), y: H - PAD.bottom + 16, "text-anchor": "middle", class: "chart-tick" });
    t.textContent = label;
    g.append(t);
  });
  return g;
}

/** @param {ChartSpec} spec @param {SVGElement} body */
function figure(spec, body) {
  const fmt = spec.format ?? plain;
  const summary = `${spec.title}. ${spec.description}`;
  const titleId = `${spec.id}-title`;
  const root = svg("svg", {
    viewBox: `0 0 ${W} ${H}`,
    role: "img",
    "aria-labelledby": titleId,
    "aria-label": summary,
    class: "chart",
    id: spec.id,
  });
  const title = svg("title", { id: titleId });
  title.textContent = summary;
  root.append(title, body);
  const legend = h(
    "ul",
    { class: "chart-legend", "aria-hidden": "true" },
    spec.series.map((s, i) => h("li", null, h("span", { class: `chart-key chart-s${i % 5}` }), s.name)),
  );
  const data = table(
    `${spec.title} (data)`,
    spec.tableHeaders ?? ["", ...spec.series.map((s) => s.name)],
    spec.labels.map((label, i) => [label, ...spec.series.map((s) => fmt(s.values[i] ?? 0))]),
  );
  return h(
    "figure",
    { class: "chart-figure" },
    h("figcaption", null, spec.title),
    root,
    legend,
    h("details", { class: "chart-data" }, h("summary", null, "Show the data"), data),
  );
}

/** A line per series over the labels (e.g. score per execution). @param {ChartSpec} spec */
export function lineChart(spec) {
  const fmt = spec.format ?? plain;
  const max = spec.max ?? Math.max(1, ...spec.series.flatMap((s) => s.values));
  const n = spec.labels.length;
  const xOf = (/** @type {number} */ i) => PAD.left + (n <= 1 ? plotW / 2 : (plotW * i) / (n - 1));
  const yOf = (/** @type {number} */ v) => PAD.top + plotH - (plotH * Math.min(v, max)) / max;
  const g = svg("g");
  g.append(axes(max, fmt), xLabels(spec.labels, xOf));
  spec.series.forEach((s, si) => {
    const points = s.values.map((v, i) => `${xOf(i)},${yOf(v)}`).join(" ");
    g.append(svg("polyline", { points, class: `chart-line chart-s${si % 5}`, fill: "none" }));
    s.values.forEach((v, i) => {
      const dot = svg("circle", { cx: xOf(i), cy: yOf(v), r: 4, class: `chart-dot chart-s${si % 5}` });
      const tip = svg("title");
      tip.textContent = `${s.name}, ${spec.labels[i]}: ${fmt(v)}`;
      dot.append(tip);
      g.append(dot);
    });
  });
  return figure(spec, g);
}

/**
 * Bars per label: side by side (`stacked: false`, e.g. success rate per repository per
 * execution) or stacked (e.g. findings by severity per execution).
 * @param {ChartSpec & { stacked?: boolean }} spec
 */
export function barChart(spec) {
  const fmt = spec.format ?? plain;
  const n = Math.max(1, spec.labels.length);
  const totals = spec.labels.map((_, i) => spec.series.reduce((a, s) => a + (s.values[i] ?? 0), 0));
  const max = spec.max ?? Math.max(1, ...(spec.stacked ? totals : spec.series.flatMap((s) => s.values)));
  const slot = plotW / n;
  const xOf = (/** @type {number} */ i) => PAD.left + slot * i + slot / 2;
  const g = svg("g");
  g.append(axes(max, fmt), xLabels(spec.labels, xOf));
  const groupW = Math.min(slot * 0.7, 80);
  const barW = spec.stacked ? groupW : groupW / Math.max(1, spec.series.length);
  spec.labels.forEach((label, i) => {
    let base = 0;
    spec.series.forEach((s, si) => {
      const v = s.values[i] ?? 0;
      const hgt = (plotH * Math.min(v, max)) / max;
      const x = spec.stacked ? xOf(i) - groupW / 2 : xOf(i) - groupW / 2 + barW * si;
      const y = PAD.top + plotH - hgt - (spec.stacked ? (plotH * base) / max : 0);
      if (spec.stacked) base += v;
      const bar = svg("rect", { x, y, width: Math.max(1, barW - 2), height: hgt, class: `chart-bar chart-s${si % 5}` });
      const tip = svg("title");
      tip.textContent = `${s.name}, ${label}: ${fmt(v)}`;
      bar.append(tip);
      g.append(bar);
    });
  });
  return figure(spec, g);
}
