// @ts-check
/**
 * DOM helpers for the dashboard. `h()` builds elements from data and only ever sets text with
 * `textContent` / attributes — never `innerHTML` — so nothing from the API is parsed as HTML.
 * Also: formatters (timestamps, ages, durations) and the small shared widgets (badges, notices,
 * confirm dialog, toasts) every page uses.
 */

/** @typedef {string | number | Node | null | undefined | false} Child */
/** @typedef {Child | Child[] | Array<Child | Child[]> | Array<Child | Child[] | Array<Child | Child[]>>} Children Nested up to three levels. */

/** Attributes set as DOM properties (not attributes) so that live state is right. */
const PROPS = new Set([
  "value",
  "checked",
  "disabled",
  "selected",
  "hidden",
  "indeterminate",
  "open",
  "readOnly",
  "required",
]);

/**
 * Creates an element. `attrs`: `class`, `on<event>` handlers, `dataset`, DOM properties, else attributes.
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Record<string, unknown> | null} [attrs]
 * @param {...Children} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [key, value] of Object.entries(attrs)) {
      if (value === undefined || value === null) continue;
      if (key === "class") el.className = String(value);
      else if (key === "dataset") Object.assign(el.dataset, value);
      else if (key.startsWith("on") && typeof value === "function")
        el.addEventListener(key.slice(2), /** @type {EventListener} */ (value));
      else if (PROPS.has(key)) /** @type {any} */ (el)[key] = value;
      else if (value === false) continue;
      else el.setAttribute(key, value === true ? "" : String(value));
    }
  }
  append(el, children);
  return el;
}

/**
 * Creates an SVG element (attributes only).
 * @param {string} tag
 * @param {Record<string, string | number>} [attrs]
 * @returns {SVGElement}
 */
export function svg(tag, attrs = {}) {
  const el = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  return /** @type {SVGElement} */ (el);
}

/**
 * Appends children (text, numbers, nodes, nested arrays); falsy ones are skipped.
 * @param {Node} parent
 * @param {Children[]} children
 */
export function append(parent, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(parent, child);
    else
      parent.appendChild(
        typeof child === "object" ? /** @type {Node} */ (child) : document.createTextNode(String(child)),
      );
  }
}

/**
 * Replaces all children of `parent`.
 * @param {Element} parent
 * @param {...Children} children
 */
export function replace(parent, ...children) {
  parent.replaceChildren();
  append(parent, children);
}

let idCounter = 0;
/** A document-unique id for label/control wiring. @param {string} prefix */
export function uid(prefix) {
  idCounter += 1;
  return `${prefix}-${idCounter}`;
}

// ---- formatting --------------------------------------------------------------------------------

/**
 * Parses the API's timestamps (microsecond precision, `…T15:59:34.123000Z`).
 * @param {string | null | undefined} ts
 */
export function parseTs(ts) {
  if (!ts) return NaN;
  return Date.parse(ts.replace(/(\.\d{3})\d+Z$/, "$1Z"));
}

/** "12 s ago", "5 min ago", "3 h ago", "2 d ago". @param {string | null | undefined} ts @param {number} [now] */
export function age(ts, now = Date.now()) {
  const t = parseTs(ts);
  if (Number.isNaN(t)) return "–";
  const s = Math.max(0, Math.round((now - t) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

/** Local date-time, e.g. "2026-05-01 14:03:07". @param {string | null | undefined} ts */
export function dateTime(ts) {
  const t = parseTs(ts);
  if (Number.isNaN(t)) return "–";
  const d = new Date(t);
  const p = (/** @type {number} */ n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** Local time with milliseconds, for the event timeline. @param {string} ts */
export function clockTime(ts) {
  const t = parseTs(ts);
  if (Number.isNaN(t)) return "–";
  const d = new Date(t);
  const p = (/** @type {number} */ n, w = 2) => String(n).padStart(w, "0");
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

/** A `<time>` element showing the age, with the exact time as its title. @param {string} ts */
export function timeAgo(ts) {
  return h("time", { datetime: ts, title: dateTime(ts) }, age(ts));
}

/** "850 ms", "12.4 s", "3 min 5 s". @param {number | null | undefined} ms */
export function duration(ms) {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return "–";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

/** "87.5 %" from a 0..1 ratio. @param {number | null | undefined} r @param {number} [digits] */
export function percent(r, digits = 1) {
  return r === null || r === undefined || !Number.isFinite(r) ? "–" : `${(r * 100).toFixed(digits)} %`;
}

/** First 8 characters of a UUID. @param {string} id */
export function shortId(id) {
  return id.slice(0, 8);
}

/** Splits a textarea value on newlines and commas; trims; drops empties. @param {string} text */
export function splitList(text) {
  return text
    .split(/[\n,]/)
    .map((s) => s.trim())
    .filter((s) => s !== "");
}

// ---- widgets -------------------------------------------------------------------------------------

/** Status pill (text, never colour alone). @param {string} status @param {string} [label] */
export function badge(status, label) {
  const text = label ?? status.replace(/_/g, " ");
  return h(
    "span",
    { class: `badge badge-${status.toLowerCase().replace(/[^a-z0-9]+/g, "-")}` },
    text.charAt(0).toUpperCase() + text.slice(1),
  );
}

/**
 * A notice box. Errors are `role=alert`; the rest `role=status`.
 * @param {"info" | "ok" | "warn" | "error"} kind
 * @param {...Children} children
 */
export function notice(kind, ...children) {
  return h("div", { class: `notice notice-${kind}`, role: kind === "error" ? "alert" : "status" }, ...children);
}

/**
 * A labelled form field: `<div class=field><label for>…</label>control<p hint></div>`.
 * @param {string} label
 * @param {HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement} control
 * @param {string} [hint]
 */
export function field(label, control, hint) {
  if (!control.id) control.id = uid("f");
  const hintEl = hint ? h("p", { class: "hint", id: `${control.id}-hint` }, hint) : null;
  if (hintEl) control.setAttribute("aria-describedby", hintEl.id);
  return h("div", { class: "field" }, h("label", { for: control.id }, label), control, hintEl);
}

/**
 * A `<select>` from [value, label] pairs.
 * @param {Record<string, unknown>} attrs
 * @param {Array<[string, string]>} options
 * @param {string} [selected]
 */
export function select(attrs, options, selected) {
  return h(
    "select",
    attrs,
    options.map(([value, label]) => h("option", { value, selected: value === selected }, label)),
  );
}

/** A key/value description list. @param {Array<[string, Children]>} rows */
export function dl(rows) {
  return h(
    "dl",
    { class: "kv" },
    rows.map(([k, v]) => [h("dt", null, k), h("dd", null, v)]),
  );
}

/**
 * A responsive table: on narrow screens each row becomes a card labelled by `data-label`.
 * @param {string} caption
 * @param {string[]} headers
 * @param {Children[][]} rows
 * @param {{ captionHidden?: boolean, class?: string }} [opts]
 */
export function table(caption, headers, rows, opts = {}) {
  const captionId = uid("cap");
  return scrollable(
    h(
      "div",
      { class: "table-wrap" },
      h(
        "table",
        { class: `data ${opts.class ?? ""}`.trim() },
        h("caption", { id: captionId, class: opts.captionHidden ? "visually-hidden" : null }, caption),
        h(
          "thead",
          null,
          h(
            "tr",
            null,
            headers.map((t) => h("th", { scope: "col" }, t)),
          ),
        ),
        h(
          "tbody",
          null,
          rows.map((cells) =>
            h(
              "tr",
              null,
              cells.map((c, i) => h("td", { "data-label": headers[i] ?? "" }, c)),
            ),
          ),
        ),
      ),
    ),
    captionId,
  );
}

/** Elements `overflowWatch` has seen in the document (so a removed one can be let go). */
const laidOut = new WeakSet();
/** Every overflow container `scrollable()` watches, re-checked whenever it or its content resizes. */
const overflowWatch = new ResizeObserver((entries) => {
  for (const { target } of entries) {
    if (!target.isConnected) {
      if (laidOut.has(target)) overflowWatch.unobserve(target); // the page re-rendered it away
      continue;
    }
    laidOut.add(target);
    const wrap = target instanceof HTMLElement && target.dataset.scroll !== undefined ? target : target.parentElement;
    if (wrap) syncScrollable(wrap);
  }
});

/** @param {HTMLElement} wrap */
function syncScrollable(wrap) {
  const scrolls = wrap.scrollWidth > wrap.clientWidth + 1 || wrap.scrollHeight > wrap.clientHeight + 1;
  if (scrolls === (wrap.getAttribute("tabindex") === "0")) return;
  if (scrolls) {
    // While it scrolls (a wide table on a phone) the container is a named region in the Tab order,
    // so keyboard users can scroll it with the arrow keys (WCAG 2.1.1).
    wrap.setAttribute("tabindex", "0");
    wrap.setAttribute("role", "region");
    wrap.setAttribute("aria-labelledby", wrap.dataset.scroll ?? "");
  } else {
    wrap.removeAttribute("tabindex");
    wrap.removeAttribute("role");
    wrap.removeAttribute("aria-labelledby");
  }
}

/**
 * Makes an overflow container keyboard-scrollable exactly while its content overflows it: then it
 * is a focusable region named by `labelledBy` (an element id); otherwise it is plain and no Tab stop.
 * @template {HTMLElement} E
 * @param {E} wrap
 * @param {string} labelledBy
 * @returns {E}
 */
export function scrollable(wrap, labelledBy) {
  wrap.dataset.scroll = labelledBy;
  overflowWatch.observe(wrap);
  if (wrap.firstElementChild) overflowWatch.observe(wrap.firstElementChild);
  return wrap;
}

/**
 * Asks for confirmation in a modal `<dialog>` (focus trapped, Esc cancels, focus returns).
 * @param {{ title: string, body: string, confirm: string, danger?: boolean }} opts
 * @returns {Promise<boolean>}
 */
export function confirmDialog(opts) {
  return new Promise((resolve) => {
    const opener = /** @type {HTMLElement | null} */ (document.activeElement);
    const titleId = uid("dlg");
    const cancel = h("button", { type: "button", class: "btn", value: "cancel" }, "Cancel");
    const ok = h(
      "button",
      { type: "submit", class: `btn ${opts.danger ? "btn-danger" : "btn-primary"}`, value: "ok" },
      opts.confirm,
    );
    const dialog = h(
      "dialog",
      { class: "dialog", "aria-labelledby": titleId },
      h(
        "form",
        { method: "dialog" },
        h("h2", { id: titleId }, opts.title),
        h("p", null, opts.body),
        h("div", { class: "actions" }, cancel, ok),
      ),
    );
    cancel.addEventListener("click", () => dialog.close("cancel"));
    dialog.addEventListener("close", () => {
      dialog.remove();
      opener?.focus();
      resolve(dialog.returnValue === "ok");
    });
    document.body.append(dialog);
    dialog.showModal();
    cancel.focus();
  });
}

/**
 * A transient message in the polite live region.
 * @param {string} text
 * @param {"info" | "ok" | "warn" | "error"} [kind]
 */
export function toast(text, kind = "info") {
  const region = document.getElementById("toasts");
  if (!region) return;
  const item = h("div", { class: `toast toast-${kind}` }, text);
  region.append(item);
  setTimeout(() => item.remove(), 5000);
}

/**
 * Runs `work` with `button` disabled and `aria-busy` set; returns what it returns.
 * @template T
 * @param {HTMLButtonElement} button
 * @param {() => Promise<T>} work
 * @returns {Promise<T>}
 */
export async function busy(button, work) {
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  try {
    return await work();
  } finally {
    button.disabled = false;
    button.removeAttribute("aria-busy");
  }
}
