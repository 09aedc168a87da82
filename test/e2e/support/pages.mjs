// @ts-check
/**
 * The dashboard's pages and states, as a table the accessibility suites (axe.e2e.mjs, a11y.e2e.mjs)
 * iterate: a page the dashboard gains gets one line in PAGES. `arrangePageData` creates, through
 * the API, the real data the pages show (a running, a completed and a failed build, an executed
 * campaign, a policy profile, a secret, a repository binding).
 */
import { apiAs } from "./browser.mjs";

/**
 * @typedef {{ api: Awaited<ReturnType<typeof apiAs>>, token: string, running: string, completed: string, failed: string, campaign: string, secret: string, repository: string,
 *   events: { completed: number, failed: number } }} PageData
 * @typedef {import("playwright-core").Page} Page
 */
/**
 * A page in one state: `hash` to open; `ready` waits (deadlines, never sleeps) until the state is on
 * screen, after any interaction that produces it. `signedOut` pages are opened without a token.
 * @typedef {{ name: string, hash: (d: PageData) => string, signedOut?: boolean, ready: (page: Page, d: PageData) => Promise<void> }} PageState
 */

/** @param {Page} page @param {string} text */
const buildStatus = (page, text) =>
  page.locator("#build-status .badge", { hasText: new RegExp(`^${text}$`) }).waitFor({ timeout: 30_000 });

/** Until the live view has shown at least `n` events (its history replayed). @param {Page} page @param {number} n */
const replayed = (page, n) =>
  page.waitForFunction((min) => Number(document.getElementById("event-count")?.textContent) >= min, n, {
    timeout: 30_000,
  });

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
      await page.getByRole("button", { name: "Sign in with a development token" }).waitFor();
      await page.getByRole("textbox", { name: "API token (JWT)" }).fill("not-a-token");
      await page.getByRole("button", { name: "Sign in", exact: true }).click();
      await page.getByRole("alert").waitFor();
    },
  },
  {
    name: "builds",
    hash: () => "#/builds",
    ready: (page) => page.locator("#builds-results table tbody tr").first().waitFor(),
  },
  {
    name: "new scan",
    hash: () => "#/builds/new",
    ready: (page) => page.locator("#preview-status", { hasText: "Plan ready" }).waitFor(),
  },
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
    ready: async (page, d) => {
      await buildStatus(page, "Completed");
      await page.locator("#stream-state", { hasText: "Stream ended" }).waitFor({ timeout: 30_000 });
      await replayed(page, d.events.completed);
    },
  },
  {
    name: "build failed",
    hash: (d) => `#/builds/${d.failed}`,
    ready: async (page, d) => {
      await buildStatus(page, "Failed");
      await page.locator('.dag-node[data-status="failed"]').first().waitFor({ timeout: 30_000 });
      // The failed build's stream stays open: wait until its whole history has been replayed.
      await replayed(page, d.events.failed);
    },
  },
  {
    name: "release readiness",
    hash: () => "#/release",
    ready: async (page, d) => {
      await page.getByLabel("Campaign", { exact: true }).selectOption(d.campaign);
      await page.locator("#rubric-score strong").waitFor();
      // The trends section (charts, or "no finished executions" while the seeded one still runs).
      await page.locator("#trends, #trends-empty").waitFor();
      await page.getByRole("button", { name: "Evaluate go/no-go" }).click();
      await page.locator("#decision-status").waitFor();
      await page.locator("#slo .objective").first().waitFor();
    },
  },
  {
    name: "program ops",
    hash: () => "#/program",
    ready: async (page, d) => {
      await page.locator("#secrets td", { hasText: d.secret }).waitFor();
      await page.locator("#repositories td", { hasText: d.repository }).waitFor();
      await page.locator("#audit td", { hasText: "secret.create" }).first().waitFor();
    },
  },
  {
    name: "not found",
    hash: () => "#/no-such-page",
    ready: (page) => page.getByRole("heading", { level: 1, name: "Not found" }).waitFor(),
  },
  // Pages the open issues add (findings, trends) get one line each here.
];

/**
 * Creates the data the pages show (as admin, so every section has data). The running build's
 * nodes take 10 minutes: call `release` at the end (it aborts that build).
 * @param {string} baseUrl
 * @returns {Promise<PageData & { release: () => Promise<void> }>}
 */
export async function arrangePageData(baseUrl) {
  const api = await apiAs(baseUrl, "admin");
  const profile = { autonomous_planner_profile: "static_v1" };
  const [running, completed, failed] = await Promise.all([
    api.call("POST", "/v1/builds", {
      repo_url: "https://github.com/acme/a11y-running",
      metadata: { ...profile, simulated_duration_ms: 600_000 },
    }),
    api.call("POST", "/v1/builds", {
      repo_url: "https://github.com/acme/a11y-completed",
      metadata: { ...profile, simulated_duration_ms: 0 },
    }),
    api.call("POST", "/v1/builds", {
      repo_url: "https://github.com/acme/a11y-failed",
      metadata: {
        ...profile,
        simulated_duration_ms: 0,
        runner_results: { builder: { status: "failed", error: "tests failed" } },
      },
    }),
  ]);
  const campaign = await api.call("POST", "/v1/program/campaigns", {
    name: "A11y campaign",
    repos: ["https://github.com/acme/a11y-completed"],
    runs_per_repo: 1,
  });
  await api.call("POST", `/v1/program/campaigns/${campaign.campaign_id}/execute`, {
    metadata: { simulated_duration_ms: 0 },
  });
  // Several suites arrange data on the same control plane: names get a suffix.
  const suffix = String(Date.now() % 1_000_000);
  await api.call("POST", "/v1/program/policy-profiles", {
    name: `Guard ${suffix}`,
    blocked_commands: ["rm -rf"],
    restricted_paths: [],
  });
  const secret = `A11Y_SECRET_${suffix}`;
  await api.call("POST", "/v1/program/secrets", { name: secret, value: "not-shown-anywhere" });
  const repository = `a11y/app-${suffix}`;
  await api.call("POST", "/v1/program/repositories", { repository, push_branches: ["main", "release"] });
  await api.waitForStatus(completed.build_id, ["completed"]);
  await api.waitForStatus(failed.build_id, ["failed"]);
  const events = {
    completed: (await api.events(completed.build_id)).length,
    failed: (await api.events(failed.build_id)).length,
  };
  return {
    events,
    api,
    token: api.token,
    running: running.build_id,
    completed: completed.build_id,
    failed: failed.build_id,
    campaign: campaign.campaign_id,
    secret,
    repository,
    release: async () => {
      await api
        .call("POST", `/v1/builds/${running.build_id}/abort`, { reason: "accessibility suite done" })
        .catch(() => undefined);
    },
  };
}

/**
 * Opens `state` in a new page of `context` (signed in with `d.token` unless it is a signed-out page)
 * and waits until it is on screen; the page records uncaught errors in `errors`.
 * @param {import("playwright-core").BrowserContext} context
 * @param {string} baseUrl
 * @param {PageState} state
 * @param {PageData} d
 */
export async function openState(context, baseUrl, state, d) {
  const page = await context.newPage();
  /** @type {string[]} */
  const errors = [];
  page.on("pageerror", (err) => errors.push(err.message));
  if (!state.signedOut) await page.addInitScript((t) => sessionStorage.setItem("clarity.token", t), d.token);
  await page.goto(`${baseUrl}/${state.hash(d)}`);
  await state.ready(page, d);
  await page.locator("main:not([aria-busy])").waitFor();
  return { page, errors };
}
