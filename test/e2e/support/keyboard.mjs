// @ts-check
/**
 * Keyboard sweep: records every visible, enabled control of the page and its unfocused look, then
 * presses Tab around the whole page (until focus comes back to the first stop) and checks that
 * every control was reached (one radio per group, as browsers do) and that each stop shows a
 * visible focus indicator — an outline of at least 2 px or a box-shadow — that differs from its
 * unfocused look, on screen.
 *
 * Controls are identified by what they are (tag, id, name, href, text, and their rank among equals),
 * not by DOM node, so a page that re-renders itself mid-sweep (the builds list refreshes while a
 * build runs) is still checked control by control.
 */

/** What counts as a control (Tab-reachable by default or by tabindex ≥ 0). */
const FOCUSABLE =
  'a[href], button, input, select, textarea, summary, iframe, [tabindex]:not([tabindex="-1"]), [contenteditable=""], [contenteditable="true"]';

/**
 * In the page: installs the helpers `stop` uses, lets go of focus, and returns the controls with
 * their keys, labels and unfocused looks.
 * @param {string} selector
 */
function snapshot(selector) {
  const w = /** @type {any} */ (window);
  /** @param {Element} el */
  const text = (el) => (el.getAttribute("aria-label") ?? el.textContent ?? "").trim().replace(/\s+/g, " ").slice(0, 60);
  /** @param {Element} el */
  const identity = (el) => {
    // A radio group is one Tab stop.
    if (el instanceof HTMLInputElement && el.type === "radio" && el.name) return `radio:${el.name}`;
    const input = el instanceof HTMLInputElement ? `${el.type}=${el.value}` : "";
    const attrs = [
      el.id,
      el.getAttribute("name"),
      el.getAttribute("href"),
      el.getAttribute("data-action"),
      el.getAttribute("data-node-id"),
    ];
    // Text only when nothing stabler names it (a DAG card's text changes with its state).
    return [el.tagName, ...attrs, input, attrs.some(Boolean) ? "" : text(el)].join("|");
  };
  /** @param {Element} el */
  const key = (el) => {
    const id = identity(el);
    let rank = 0;
    for (const other of document.querySelectorAll(selector)) {
      if (other === el) break;
      if (identity(other) === id) rank += 1;
    }
    return id.startsWith("radio:") ? id : `${id}#${rank}`;
  };
  /** @param {Element} el */
  const look = (el) => {
    const st = getComputedStyle(el);
    return [st.outlineStyle, st.outlineWidth, st.outlineColor, st.boxShadow].join("|");
  };
  /** @param {Element} el */
  const label = (el) =>
    `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ""} "${(el.getAttribute("name") ?? text(el)).slice(0, 50)}"`;
  w.__kbdFns = { key, look, label };

  // Unfocused looks: a page that moved focus itself (to the first invalid field, say) lets go first.
  if (document.activeElement instanceof HTMLElement) document.activeElement.blur();
  const els = [...document.querySelectorAll(selector)].filter((el) => {
    if (!(el instanceof HTMLElement) || el.matches(":disabled") || el.closest("[inert]")) return false;
    if (el instanceof HTMLInputElement && el.type === "hidden") return false;
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0 && el.checkVisibility({ visibilityProperty: true, opacityProperty: false });
  });
  const controls = els.map((el) => ({ key: key(el), label: label(el), look: look(el) }));
  w.__kbd = { looks: new Map(controls.map((c) => [c.key, c.look])), first: null };
  return controls.map(({ key, label }) => ({ key, label }));
}

/** In the page: the focused control's key, whether it was the first stop, its focus indicator. */
function stop() {
  const w = /** @type {any} */ (window);
  const el = document.activeElement;
  if (!el || el === document.body || el === document.documentElement) return null;
  const { key, look, label } = w.__kbdFns;
  const k = /** @type {string} */ (key(el));
  const again = w.__kbd.first === k;
  w.__kbd.first ??= k;
  const st = getComputedStyle(el);
  const outline = st.outlineStyle !== "none" && Number.parseFloat(st.outlineWidth) >= 2;
  const shadow = st.boxShadow !== "none";
  const before = w.__kbd.looks.get(k);
  const r = el.getBoundingClientRect();
  const onScreen =
    r.width >= 1 && r.height >= 1 && r.bottom > 0 && r.right > 0 && r.top < innerHeight && r.left < innerWidth;
  return {
    key: k,
    again,
    label: /** @type {string} */ (label(el)),
    visible: (outline || shadow) && look(el) !== before,
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
  /** @type {Set<string>} */
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
    reached.add(s.key);
    if (!s.visible) noIndicator.push(s.label);
    if (!s.onScreen) offScreen.push(s.label);
  }
  const unreached = controls.filter((c) => !reached.has(c.key)).map((c) => c.label);
  return {
    controls: controls.length,
    stops,
    unreached,
    noIndicator: [...new Set(noIndicator)],
    offScreen: [...new Set(offScreen)],
  };
}
