// @ts-check
/**
 * Browser-suite helpers: launch Debian's Chromium through playwright-core (never a downloaded
 * browser), sign in through the dashboard, and a small Node-side API client (development tokens
 * from /v1/dev/token) for arranging data and checking what the dashboard shows.
 */
import { expect } from "vitest";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { ROOT } from "../../../scripts/lib/wrangler.mjs";

/** The Chromium binary (Debian package `chromium`); override with CHROMIUM_PATH. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];
/** Where screenshots go (gitignored). */
export const SCREENSHOT_DIR = join(ROOT, "reports", "screenshots");
export const LAPTOP = { width: 1366, height: 860 };
export const PHONE = { width: 390, height: 844 };

/** Throws (loudly, never skips) when Chromium is missing. */
export function assertChromium() {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `Chromium not found at ${CHROMIUM_PATH}. The browser suite drives Debian's Chromium and never downloads one: ` +
        "run `apt-get install -y chromium` (as root; .ci/run does it) or set CHROMIUM_PATH.",
    );
  }
}

export async function launchBrowser() {
  assertChromium();
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
}

/**
 * A page that records uncaught page errors (each test asserts there were none).
 * @param {import("playwright-core").Browser} browser
 * @param {import("playwright-core").BrowserContextOptions} [options]
 */
export async function openPage(browser, options = {}) {
  const context = await browser.newContext({ viewport: LAPTOP, ...options });
  const page = await context.newPage();
  /** @type {string[]} */
  const errors = [];
  page.on("pageerror", (err) => errors.push(err.message));
  return { context, page, errors };
}

/**
 * Signs in with the one-click development token of `role` and waits for the builds page.
 * @param {import("playwright-core").Page} page
 * @param {string} baseUrl
 * @param {string} [role]
 */
export async function signIn(page, baseUrl, role = "operator") {
  await page.goto(`${baseUrl}/#/sign-in`);
  await page.getByLabel("Development role").selectOption(role);
  await page.getByRole("button", { name: "Sign in with a development token" }).click();
  await page.waitForURL(/#\/builds$/);
  await page.getByRole("heading", { level: 1, name: "Builds" }).waitFor();
}

/**
 * Signs a context in with `token` (as the sign-in page would store it), before any page loads.
 * @param {import("playwright-core").BrowserContext} context
 * @param {string} token
 */
export async function useToken(context, token) {
  await context.addInitScript((t) => sessionStorage.setItem("clarity.token", t), token);
}

/** @param {string} name */
export function screenshotPath(name) {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  return join(SCREENSHOT_DIR, `${name}.png`);
}

/**
 * A Node-side API client holding a development token of `role` (and `sub`, default `dev-<role>`).
 * @param {string} baseUrl
 * @param {string} [role]
 * @param {string} [sub]
 */
export async function apiAs(baseUrl, role = "operator", sub = undefined) {
  const res = await fetch(`${baseUrl}/v1/dev/token`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ role, sub }),
  });
  if (!res.ok) throw new Error(`dev token: ${res.status} ${await res.text()}`);
  const { token } = /** @type {{ token: string }} */ (await res.json());
  /**
   * @param {string} method
   * @param {string} path
   * @param {unknown} [body]
   * @returns {Promise<any>}
   */
  async function call(method, path, body) {
    const r = await fetch(`${baseUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${text}`);
    return text ? JSON.parse(text) : null;
  }
  return {
    token,
    call,
    /** All events of a build, through the history API. @param {string} buildId */
    async events(buildId) {
      /** @type {any[]} */
      const all = [];
      let cursor = 0;
      for (;;) {
        const page = await call("GET", `/v1/builds/${buildId}/events/history?cursor=${cursor}&limit=2000`);
        all.push(...page.items);
        if (page.next_cursor === null) return all;
        cursor = page.next_cursor;
      }
    },
    /** @param {string} buildId @param {string[]} statuses @param {number} [timeoutMs] */
    async waitForStatus(buildId, statuses, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const b = await call("GET", `/v1/builds/${buildId}`);
        if (statuses.includes(b.status)) return b;
        if (Date.now() > deadline) throw new Error(`build ${buildId} still ${b.status}`);
        await new Promise((r) => setTimeout(r, 150));
      }
    },
  };
}

/**
 * The seq numbers of the timeline lines currently in the DOM.
 * @param {import("playwright-core").Page} page
 * @returns {Promise<number[]>}
 */
export function timelineSeqs(page) {
  return page.$$eval("#timeline li", (lis) => lis.map((li) => Number(/** @type {HTMLElement} */ (li).dataset.seq)));
}

/**
 * Fills the New scan form (the page must show it) with `repoUrl` and a minimal intake, and waits
 * until "Start scan" is enabled (the preview has answered).
 * @param {import("playwright-core").Page} page
 * @param {string} repoUrl
 */
export async function fillNewScan(page, repoUrl) {
  await page.getByLabel("Repository URL").fill(repoUrl);
  await page.getByLabel("Product summary").fill("A small shop");
  await page.getByLabel("Target users").fill("Shoppers");
  await page.getByLabel("None", { exact: true }).check();
  await page.getByLabel("Flows").fill("Checkout");
  await page.getByLabel("Scale expectation").selectOption("Expected rapid growth");
  await expect.poll(() => page.getByRole("button", { name: "Start scan" }).isEnabled(), { timeout: 15_000 }).toBe(true);
}
