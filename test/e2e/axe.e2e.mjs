// @ts-check
/**
 * axe-core (WCAG 2.0/2.1 A and AA rules, none disabled) over every dashboard page and state with
 * real data, at laptop and phone widths, in the light and the dark scheme. A serious or critical
 * violation fails; moderate and minor ones are printed. The engine runs in the page under the
 * dashboard's real CSP (support/axe.mjs).
 *
 * PAGES is the table of pages and states: a page added to the dashboard gets one line here.
 */
import { afterAll, beforeAll, describe, expect, inject, test } from "vitest";
import { AXE_VERSION, BLOCKING, formatViolation, runAxe } from "./support/axe.mjs";
import { apiAs, LAPTOP, launchBrowser, PHONE } from "./support/browser.mjs";

const baseUrl = /** @type {string} */ (inject("baseUrl"));

/**
 * The data the pages show, arranged through the API before any page is visited.
 * @typedef {{ token: string, running: string, completed: string, failed: string, campaign: string }} Data
 */
/**
 * A page in one state: `hash` to open, `ready` waits (with deadlines, never sleeps) until the state
 * is on screen, after any interaction that produces it. `signedOut` pages are visited without a token.
 * @typedef {{ name: string, hash: (d: Data) => string, signedOut?: boolean,
 *   ready: (page: import("playwright-core").Page, d: Data) => Promise<void> }} PageState
 */

/** @param {import("playwright-core").Page} page @param {string} text */
const buildStatus = (page, text) => page.locator("#build-status .badge", { hasText: new RegExp(`^${text}$`) }).waitFor({ timeout: 30_000 });

/** @type {PageState[]} */
export const PAGES = [
  {
    name: "sign-in",
    signedOut: true,
    hash: () => "#/sign-in",
    ready: (page) => page.getByRole("button", { name: "Sign in with a development token" }).waitFor(),
  },
  {
    name: "sign-in, token rejected",
    signedOut: true,
    hash: () => "#/sign-in",
    ready: async (page) => {
      await page.getByRole("textbox", { name: "API token (JWT)" }).fill("not-a-token");
      await page.getByRole("button", { name: "Sign in", exact: true }).click();
      await page.getByRole("alert").waitFor();
    },
  },
  { name: "builds", hash: () => "#/builds", ready: (page) => page.locator("#builds-results table tbody tr").first().waitFor() },
  { name: "new scan", hash: () => "#/builds/new", ready: (page) => page.locator("#preview-status", { hasText: "Plan ready" }).waitFor() },
  {
    name: "new scan, form errors",
    hash: () => "#/builds/new",
    ready: async (page) => {
      await page.locator("#preview-status", { hasText: "Plan ready" }).waitFor();
      await page.getByRole("button", { name: "Start scan" }).click();
      await page.locator("#form-error [role=alert]").waitFor();
    },
  },
  {
    name: "build running",
    hash: (d) => `#/builds/${d.running}`,
    ready: async (page) => {
      await buildStatus(page, "Running");
      await page.locator('.dag-node[data-status="running"]').first().waitFor({ timeout: 30_000 });
      await page.locator("#timeline li").first().waitFor();
    },
  },
  {
    name: "build completed",
    hash: (d) => `#/builds/${d.completed}`,
    ready: async (page) => {
      await buildStatus(page, "Completed");
      await page.locator("#stream-state", { hasText: "Stream ended" }).waitFor({ timeout: 30_000 });
    },
  },
  {
    name: "build failed",
    hash: (d) => `#/builds/${d.failed}`,
    ready: async (page) => {
      await buildStatus(page, "Failed");
      await page.locator("#timeline li", { hasText: "failed" }).first().waitFor({ timeout: 30_000 });
    },
  },
  {
    name: "release readiness",
    hash: () => "#/release",
    ready: async (page, d) => {
      await page.getByLabel("Campaign", { exact: true }).selectOption(d.campaign);
      await page.locator("#rubric-score strong").waitFor();
      await page.getByRole("button", { name: "Evaluate go/no-go" }).click();
      await page.locator("#decision-status").waitFor();
      await page.locator("#slo .objective").first().waitFor();
    },
  },
  { name: "program ops", hash: () => "#/program", ready: (page) => page.locator("#secrets td", { hasText: "AXE_SECRET" }).waitFor() },
  { name: "not found", hash: () => "#/no-such-page", ready: (page) => page.getByRole("heading", { level: 1, name: "Not found" }).waitFor() },
  // Pages the open issues add (findings, trends, audit, repository bindings) get one line each here.
];

/** Laptop and phone widths, each in the light and the dark scheme. */
const VARIANTS = /** @type {const} */ ([
  { name: "laptop, light", viewport: LAPTOP, colorScheme: "light" },
  { name: "phone, light", viewport: PHONE, colorScheme: "light" },
  { name: "laptop, dark", viewport: LAPTOP, colorScheme: "dark" },
  { name: "phone, dark", viewport: PHONE, colorScheme: "dark" },
]);

/** @type {import("playwright-core").Browser} */
let browser;
/** @type {Data} */
let data;
/** @type {Awaited<ReturnType<typeof apiAs>>} */
let api;

beforeAll(async () => {
  browser = await launchBrowser();
  api = await apiAs(baseUrl, "admin");
  const profile = { autonomous_planner_profile: "static_v1" };
  const [running, completed, failed] = await Promise.all([
    // Long nodes: still running when the last variant visits it (aborted in afterAll).
    api.call("POST", "/v1/builds", { repo_url: "https://github.com/acme/axe-running", metadata: { ...profile, simulated_duration_ms: 600_000 } }),
    api.call("POST", "/v1/builds", { repo_url: "https://github.com/acme/axe-completed", metadata: { ...profile, simulated_duration_ms: 0 } }),
    api.call("POST", "/v1/builds", {
      repo_url: "https://github.com/acme/axe-failed",
      metadata: { ...profile, simulated_duration_ms: 0, runner_results: { builder: { status: "failed", error: "tests failed" } } },
    }),
  ]);
  const campaign = await api.call("POST", "/v1/program/campaigns", { name: "Axe campaign", repos: ["https://github.com/acme/axe-completed"], runs_per_repo: 1 });
  await api.call("POST", `/v1/program/campaigns/${campaign.campaign_id}/execute`, { metadata: { simulated_duration_ms: 0 } });
  await api.call("POST", "/v1/program/policy-profiles", { name: "Axe guard", blocked_commands: ["rm -rf"], restricted_paths: [] });
  await api.call("POST", "/v1/program/secrets", { name: "AXE_SECRET", value: "not-shown-anywhere" });
  await api.waitForStatus(completed.build_id, ["completed"]);
  await api.waitForStatus(failed.build_id, ["failed"]);
  data = { token: api.token, running: running.build_id, completed: completed.build_id, failed: failed.build_id, campaign: campaign.campaign_id };
});
afterAll(async () => {
  if (data) await api.call("POST", `/v1/builds/${data.running}/abort`, { reason: "axe suite done" }).catch(() => undefined);
  await browser?.close();
});

for (const variant of VARIANTS) {
  describe(`axe-core ${AXE_VERSION}, WCAG 2.1 A/AA (${variant.name})`, () => {
    /** @type {import("playwright-core").BrowserContext} */
    let context;
    beforeAll(async () => {
      context = await browser.newContext({ viewport: variant.viewport, colorScheme: variant.colorScheme });
    });
    afterAll(async () => {
      await context?.close();
    });

    for (const state of PAGES) {
      test(`${state.name}: no serious or critical violations`, async () => {
        const page = await context.newPage();
        /** @type {string[]} */
        const errors = [];
        page.on("pageerror", (err) => errors.push(err.message));
        if (!state.signedOut) await page.addInitScript((t) => sessionStorage.setItem("clarity.token", t), data.token);
        await page.goto(`${baseUrl}/${state.hash(data)}`);
        await state.ready(page, data);
        await page.locator("main:not([aria-busy])").waitFor();
        const violations = await runAxe(page);
        await page.close();
        const where = `${state.name} (${variant.name})`;
        const minor = violations.filter((v) => !BLOCKING.has(v.impact));
        if (minor.length > 0) console.log(minor.map((v) => formatViolation(where, v)).join("\n"));
        const blocking = violations.filter((v) => BLOCKING.has(v.impact)).map((v) => formatViolation(where, v));
        expect(blocking, blocking.join("\n")).toEqual([]);
        expect(errors).toEqual([]);
      });
    }
  });
}
