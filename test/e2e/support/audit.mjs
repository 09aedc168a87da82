// @ts-check
/**
 * The project's own structure rules, run in the page with `page.evaluate` next to axe-core
 * (support/axe.mjs, which owns names, roles, contrast and the rest of WCAG 2.1 A/AA): one h1, the
 * banner and main landmarks, html[lang], unique ids, ARIA references that resolve, decorative SVGs
 * hidden. Text contrast is axe's `color-contrast` rule (the hand-written check it replaced is gone).
 */

/** @returns {string[]} problems */
export function auditStructure() {
  /** @param {Element} el */
  const visible = (el) => {
    const r = el.getBoundingClientRect();
    const st = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && st.visibility !== "hidden" && st.display !== "none" && !el.closest("[hidden]");
  };
  /** @type {string[]} */
  const problems = [];
  for (const el of document.querySelectorAll("input, select, textarea")) {
    const control = /** @type {HTMLInputElement} */ (el);
    if (control.type === "hidden" || !visible(control)) continue;
    const byLabel = [...(control.labels ?? [])].some((l) => (l.textContent ?? "").trim() !== "");
    const byAria = (control.getAttribute("aria-label") ?? "").trim() !== "" || (control.getAttribute("aria-labelledby") ?? "") !== "";
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
    const refs = [el.getAttribute("aria-labelledby"), el.getAttribute("aria-describedby"), el.getAttribute("for")].filter(Boolean).join(" ").split(/\s+/);
    for (const ref of refs) if (ref && !document.getElementById(ref)) problems.push(`dangling reference #${ref} from ${el.tagName.toLowerCase()}`);
  }
  for (const el of document.querySelectorAll("svg")) {
    if (el.getAttribute("aria-hidden") !== "true" && !el.getAttribute("aria-label") && !el.querySelector("title")) problems.push("svg without aria-hidden or a name");
  }
  return problems;
}
