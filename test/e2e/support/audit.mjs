// @ts-check
/**
 * The project's own structure rules, run in the page with `page.evaluate` next to axe-core
 * (support/axe.mjs, which owns names, roles, contrast and the rest of WCAG 2.1 A/AA): one h1, the
 * banner and main landmarks, html[lang], unique ids, ARIA references that resolve, decorative SVGs
 * hidden. And a text-contrast backstop (`auditContrast`): axe's `color-contrast` rule leaves text it
 * cannot resolve for review (under the DAG's SVG edge overlay, say), which this check still measures.
 */

/** @returns {string[]} problems */
export function auditStructure() {
  /** @param {Element} el */
  const visible = (el) => {
    const r = el.getBoundingClientRect();
    const st = getComputedStyle(el);
    return (
      r.width > 0 && r.height > 0 && st.visibility !== "hidden" && st.display !== "none" && !el.closest("[hidden]")
    );
  };
  /** @type {string[]} */
  const problems = [];
  for (const el of document.querySelectorAll("input, select, textarea")) {
    const control = /** @type {HTMLInputElement} */ (el);
    if (control.type === "hidden" || !visible(control)) continue;
    const byLabel = [...(control.labels ?? [])].some((l) => (l.textContent ?? "").trim() !== "");
    const byAria =
      (control.getAttribute("aria-label") ?? "").trim() !== "" ||
      (control.getAttribute("aria-labelledby") ?? "") !== "";
    if (!byLabel && !byAria) problems.push(`unlabelled ${control.tagName.toLowerCase()}[name=${control.name}]`);
  }
  for (const el of document.querySelectorAll("button, a[href], [role=button]")) {
    if (!visible(el)) continue;
    const name = (el.getAttribute("aria-label") ?? el.textContent ?? "").trim();
    if (name === "") problems.push(`nameless ${el.outerHTML.slice(0, 80)}`);
  }
  const h1s = document.querySelectorAll("h1");
  if (h1s.length !== 1) problems.push(`${h1s.length} h1 elements`);
  if (!document.querySelector("header")) problems.push("no banner (header)");
  if (!document.querySelector("main")) problems.push("no main landmark");
  if (!document.documentElement.lang) problems.push("no html[lang]");
  /** @type {Map<string, number>} */
  const ids = new Map();
  for (const el of document.querySelectorAll("[id]")) ids.set(el.id, (ids.get(el.id) ?? 0) + 1);
  for (const [id, n] of ids) if (n > 1) problems.push(`duplicate id ${id}`);
  for (const el of document.querySelectorAll("[aria-labelledby], [aria-describedby], label[for]")) {
    const refs = [el.getAttribute("aria-labelledby"), el.getAttribute("aria-describedby"), el.getAttribute("for")]
      .filter(Boolean)
      .join(" ")
      .split(/\s+/);
    for (const ref of refs)
      if (ref && !document.getElementById(ref))
        problems.push(`dangling reference #${ref} from ${el.tagName.toLowerCase()}`);
  }
  for (const el of document.querySelectorAll("svg")) {
    if (el.getAttribute("aria-hidden") !== "true" && !el.getAttribute("aria-label") && !el.querySelector("title"))
      problems.push("svg without aria-hidden or a name");
  }
  return problems;
}

/**
 * WCAG 2.x text contrast (4.5:1, 3:1 for large text) of every visible text node against its
 * composited background, including ancestor opacity.
 * @returns {string[]} contrast failures
 */
export function auditContrast() {
  /** @typedef {{ r: number, g: number, b: number, a: number }} RGBA */
  /** @param {string} c @returns {RGBA | null} */
  const parse = (c) => {
    const m = /^rgba?\(([^)]+)\)$/.exec(c.trim());
    if (!m?.[1]) return null;
    const p = m[1]
      .split(/[\s,/]+/)
      .filter(Boolean)
      .map(Number);
    return { r: p[0] ?? 0, g: p[1] ?? 0, b: p[2] ?? 0, a: p.length > 3 ? (p[3] ?? 1) : 1 };
  };
  /** @param {RGBA} fg @param {RGBA} bg @returns {RGBA} */
  const over = (fg, bg) => ({
    r: fg.r * fg.a + bg.r * (1 - fg.a),
    g: fg.g * fg.a + bg.g * (1 - fg.a),
    b: fg.b * fg.a + bg.b * (1 - fg.a),
    a: 1,
  });
  /** @param {RGBA} c */
  const lum = (c) => {
    /** @param {number} v */
    const f = (v) => {
      const s = v / 255;
      return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
    };
    return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b);
  };
  /** @param {Element} el */
  const background = (el) => {
    /** @type {RGBA[]} */
    const layers = [];
    for (let e = /** @type {Element | null} */ (el); e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c && c.a > 0) {
        layers.push(c);
        if (c.a >= 1) break;
      }
    }
    const dark = matchMedia("(prefers-color-scheme: dark)").matches;
    let bg = dark ? { r: 18, g: 18, b: 18, a: 1 } : { r: 255, g: 255, b: 255, a: 1 };
    for (const layer of layers.reverse()) bg = over(layer, bg);
    return bg;
  };
  /** @param {Element} el */
  const opacity = (el) => {
    let o = 1;
    for (let e = /** @type {Element | null} */ (el); e; e = e.parentElement) o *= Number(getComputedStyle(e).opacity);
    return o;
  };
  /** @type {string[]} */
  const failures = [];
  const seen = new Set();
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const text = walker.currentNode;
    const el = text.parentElement;
    if (!el || seen.has(el) || (text.textContent ?? "").trim() === "") continue;
    seen.add(el);
    const rect = el.getBoundingClientRect();
    const st = getComputedStyle(el);
    if (
      rect.width <= 1 ||
      rect.height <= 1 ||
      st.visibility === "hidden" ||
      el.closest("[hidden], .visually-hidden, option, [disabled], [aria-disabled=true]")
    )
      continue;
    const fg = parse(st.color);
    if (!fg) continue;
    fg.a *= opacity(el);
    const bg = background(el);
    const c1 = lum(over(fg, bg));
    const c2 = lum(bg);
    const ratio = (Math.max(c1, c2) + 0.05) / (Math.min(c1, c2) + 0.05);
    const size = Number.parseFloat(st.fontSize);
    const large = size >= 24 || (size >= 18.66 && Number(st.fontWeight) >= 700);
    const need = large ? 3 : 4.5;
    if (ratio < need)
      failures.push(
        `${ratio.toFixed(2)}:1 < ${need}:1 "${(text.textContent ?? "").trim().slice(0, 40)}" <${el.tagName.toLowerCase()} class="${el.className}">`,
      );
  }
  return failures;
}
