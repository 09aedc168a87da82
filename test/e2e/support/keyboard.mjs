// @ts-check
/**
 * Keyboard sweep: records every visible, enabled control of the page and its unfocused look, then
 * presses Tab around the whole page (until focus comes back to the first stop) and checks that
 * every control was reached (one radio per group, as browsers do) and that each stop shows a
 * visible focus indicator — an outline of at least 2 px or a box-shadow — that differs from its
 * unfocused look, on screen.
 */

/** What counts as a control (Tab-reachable by default or by tabindex ≥ 0). */
const FOCUSABLE = 'a[href], button, input, select, textarea, summary, iframe, [tabindex]:not([tabindex="-1"]), [contenteditable=""], [contenteditable="true"]';

/**
 * In the page: the controls, their unfocused styles (kept on window for `stop`), their labels.
 * @param {string} selector
 */
function snapshot(selector) {
  /** @param {Element} el */
  const describe = (el) => {
    const name = (el.getAttribute("aria-label") ?? el.getAttribute("name") ?? el.textContent ?? "").trim().replace(/\s+/g, " ").slice(0, 50);
    return `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ""} "${name}"`;
  };
  /** @param {Element} el */
  const look = (el) => {
    const st = getComputedStyle(el);
    return [st.outlineStyle, st.outlineWidth, st.outlineColor, st.boxShadow].join("|");
  };
  // Unfocused looks: a page that moved focus itself (to the first invalid field, say) lets go first.
  if (document.activeElement instanceof HTMLElement) document.activeElement.blur();
  const els = [...document.querySelectorAll(selector)].filter((el) => {
    if (!(el instanceof HTMLElement) || el.matches(":disabled") || el.closest("[inert]")) return false;
    if (el instanceof HTMLInputElement && el.type === "hidden") return false;
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0 && el.checkVisibility({ visibilityProperty: true, opacityProperty: false });
  });
  /** A radio group is one Tab stop. @param {Element} el */
  const key = (el) => (el instanceof HTMLInputElement && el.type === "radio" && el.name ? `radio:${el.name}` : null);
  const w = /** @type {any} */ (window);
  w.__kbd = { els, looks: els.map(look) };
  return els.map((el, i) => ({ i, key: key(el) ?? `#${i}`, label: describe(el) }));
}

/** In the page: the focused element's index in the snapshot (-1: not a snapshot control), whether it was the first stop, its look. */
function stop() {
  const w = /** @type {any} */ (window);
  const el = document.activeElement;
  if (!el || el === document.body || el === document.documentElement) return null;
  const i = /** @type {Element[]} */ (w.__kbd.els).indexOf(el);
  const again = w.__kbd.first === el;
  w.__kbd.first ??= el;
  const st = getComputedStyle(el);
  const outline = st.outlineStyle !== "none" && Number.parseFloat(st.outlineWidth) >= 2;
  const shadow = st.boxShadow !== "none";
  const lookNow = [st.outlineStyle, st.outlineWidth, st.outlineColor, st.boxShadow].join("|");
  const r = el.getBoundingClientRect();
  const onScreen = r.width >= 1 && r.height >= 1 && r.bottom > 0 && r.right > 0 && r.top < innerHeight && r.left < innerWidth;
  const name = (el.getAttribute("aria-label") ?? el.getAttribute("name") ?? el.textContent ?? "").trim().replace(/\s+/g, " ").slice(0, 50);
  return {
    i,
    again,
    label: `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ""} "${name}"`,
    visible: (outline || shadow) && (i < 0 || lookNow !== w.__kbd.looks[i]),
    onScreen,
  };
}

/**
 * Tabs around the page once, from wherever the sequential focus starting point is (the document
 * start on a fresh load, else the control the page had focused).
 * @param {import("playwright-core").Page} page
 * @returns {Promise<{ controls: number, stops: number, unreached: string[], noIndicator: string[], offScreen: string[] }>}
 */
export async function tabSweep(page) {
  const controls = await page.evaluate(snapshot, FOCUSABLE);
  /** @type {Set<number>} */
  const reached = new Set();
  /** @type {string[]} */
  const noIndicator = [];
  /** @type {string[]} */
  const offScreen = [];
  let stops = 0;
  const max = controls.length * 2 + 20;
  for (let n = 0; n < max; n++) {
    await page.keyboard.press("Tab");
    const s = await page.evaluate(stop);
    if (!s) continue; // focus left the document (past the last control): the next Tab wraps
    if (s.again) break; // once around
    stops += 1;
    if (s.i >= 0) reached.add(s.i);
    if (!s.visible) noIndicator.push(s.label);
    if (!s.onScreen) offScreen.push(s.label);
  }
  const reachedKeys = new Set(controls.filter((c) => reached.has(c.i)).map((c) => c.key));
  const unreached = controls.filter((c) => !reachedKeys.has(c.key)).map((c) => c.label);
  return { controls: controls.length, stops, unreached, noIndicator: [...new Set(noIndicator)], offScreen: [...new Set(offScreen)] };
}
