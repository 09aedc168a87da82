// @ts-check
/**
 * Dashboard shell: hash router (`#/builds`, `#/builds/new`, `#/builds/<id>`, `#/release`,
 * `#/program`, `#/sign-in`), the signed-in header, 401 → sign-in, and focus management on every
 * route change (focus moves to the page heading; the document title names the page). Pages are
 * ES modules loaded on first use, so the first load only fetches what it shows.
 */
import { ApiError, onUnauthorized } from "./api.js";
import { claims, clearToken, getToken, roles } from "./auth.js";
import { h, replace } from "./dom.js";
import { errorNotice } from "./ui.js";

/**
 * @typedef {{ params: string[], query: URLSearchParams, navigate: (hash: string) => void, main: HTMLElement }} PageContext
 * @typedef {{ title: string, mount: (ctx: PageContext) => Promise<(() => void) | void> }} Page
 */

/** @type {Array<{ pattern: RegExp, nav: string | null, public?: boolean, load: () => Promise<Page> }>} */
const ROUTES = [
  { pattern: /^\/sign-in$/, nav: null, public: true, load: () => import("./pages/sign-in.js") },
  { pattern: /^\/builds$/, nav: "builds", load: () => import("./pages/builds.js") },
  { pattern: /^\/builds\/new$/, nav: "new", load: () => import("./pages/new-scan.js") },
  { pattern: /^\/builds\/([0-9a-fA-F-]{36})$/, nav: "builds", load: () => import("./pages/build-live.js") },
  { pattern: /^\/release$/, nav: "release", load: () => import("./pages/release.js") },
  { pattern: /^\/program$/, nav: "program", load: () => import("./pages/program.js") },
];

const NAV = [
  ["builds", "#/builds", "Builds"],
  ["new", "#/builds/new", "New scan"],
  ["release", "#/release", "Release readiness"],
  ["program", "#/program", "Program ops"],
];

const main = /** @type {HTMLElement} */ (document.getElementById("main"));
const nav = /** @type {HTMLElement} */ (document.getElementById("nav"));
const session = /** @type {HTMLElement} */ (document.getElementById("session"));

/** @type {(() => void) | void} */
let cleanup;
let generation = 0;
let rendered = false;

/** @param {string} hash */
function navigate(hash) {
  if (location.hash === hash) void route();
  else location.hash = hash;
}

/** @returns {{ path: string, query: URLSearchParams }} */
function current() {
  const raw = location.hash.startsWith("#/") ? location.hash.slice(1) : "/builds";
  const [path = "/builds", qs = ""] = raw.split("?");
  return { path: path === "/" ? "/builds" : path, query: new URLSearchParams(qs) };
}

function renderChrome(/** @type {string | null} */ active) {
  const signedIn = getToken() !== null;
  nav.hidden = !signedIn;
  replace(
    nav,
    h(
      "ul",
      null,
      NAV.map(([key, href, label]) =>
        h("li", null, h("a", { href, "aria-current": key === active ? "page" : null }, label)),
      ),
    ),
  );
  if (!signedIn) {
    replace(session);
    return;
  }
  const c = claims();
  const who = c?.sub ?? "unknown";
  const r = roles();
  replace(
    session,
    h(
      "span",
      { class: "who", title: c?.iss ? `issuer ${c.iss}` : null },
      h("span", { class: "visually-hidden" }, "Signed in as "),
      who,
      r.length ? h("span", { class: "roles" }, ` · ${r.join(", ")}`) : null,
    ),
    h(
      "button",
      {
        type: "button",
        class: "btn btn-small",
        onclick: () => {
          clearToken();
          navigate("#/sign-in");
        },
      },
      "Sign out",
    ),
  );
}

async function route() {
  const gen = ++generation;
  const { path, query } = current();
  const match = ROUTES.map((r) => ({ r, m: r.pattern.exec(path) })).find((x) => x.m !== null);
  if (typeof cleanup === "function") cleanup();
  cleanup = undefined;

  if (!match) {
    renderChrome(null);
    replace(
      main,
      h("h1", { tabindex: "-1" }, "Not found"),
      h("p", null, h("a", { href: "#/builds" }, "Back to builds")),
    );
    if (rendered) focusHeading();
    rendered = true;
    return;
  }
  if (!match.r.public && getToken() === null) {
    navigate(`#/sign-in?next=${encodeURIComponent(location.hash || "#/builds")}`);
    return;
  }
  renderChrome(match.r.nav);
  main.setAttribute("aria-busy", "true");
  try {
    const page = await match.r.load();
    if (gen !== generation) return;
    replace(main);
    document.title = `${page.title} · Clarity Control Plane`;
    cleanup = await page.mount({ params: (match.m ?? []).slice(1), query, navigate, main });
  } catch (err) {
    if (gen !== generation) return;
    if (err instanceof ApiError && err.status === 401) return; // handled: back to sign-in
    replace(main, h("h1", { tabindex: "-1" }, "Something went wrong"), errorNotice(err));
  } finally {
    if (gen === generation) main.removeAttribute("aria-busy");
  }
  if (gen === generation) {
    // On the first page of a visit focus stays at the document start (the skip link comes first);
    // after that every navigation moves focus to the new page's heading.
    if (rendered) focusHeading();
    rendered = true;
  }
}

/** Moves focus to the page's h1 so keyboard and screen-reader users land on the new page. */
function focusHeading() {
  const h1 = main.querySelector("h1");
  if (!h1) return;
  h1.setAttribute("tabindex", "-1");
  h1.focus({ preventScroll: true });
  window.scrollTo(0, 0);
}

onUnauthorized(() => {
  clearToken();
  // Several calls in flight can fail together: the first one decides where to come back to.
  if (location.hash.startsWith("#/sign-in")) return;
  navigate(`#/sign-in?expired=1&next=${encodeURIComponent(location.hash || "#/builds")}`);
});

document.querySelector(".skip-link")?.addEventListener("click", (e) => {
  e.preventDefault(); // the hash is the router's: don't navigate to "#main"
  if (main.querySelector("h1")) focusHeading();
  else main.focus();
});
window.addEventListener("hashchange", () => void route());
void route();
