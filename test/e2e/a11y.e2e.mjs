// @ts-check
/**
 * Accessibility basics in real Chromium: labels and names on every page, landmarks, contrast in
 * the light and the dark scheme, a visible focus indicator, focus moved to the page heading on
 * navigation, the skip link, and a scan started with the keyboard alone.
 */
import { afterAll, beforeAll, expect, inject, test } from "vitest";
import { auditContrast, auditStructure } from "./support/audit.mjs";
import { apiAs, launchBrowser, openPage, signIn } from "./support/browser.mjs";

const baseUrl = /** @type {string} */ (inject("baseUrl"));
/** @type {import("playwright-core").Browser} */
let browser;
/** @type {{ failed: string, campaign: string }} */
let ids;

beforeAll(async () => {
  browser = await launchBrowser();
  const api = await apiAs(baseUrl, "admin");
  const failed = await api.call("POST", "/v1/builds", {
    repo_url: "https://github.com/acme/a11y",
    metadata: { autonomous_planner_profile: "static_v1", simulated_duration_ms: 30, runner_results: { builder: { status: "failed", error: "tests failed" } } },
  });
  await api.waitForStatus(failed.build_id, ["failed"]);
  const campaign = await api.call("POST", "/v1/program/campaigns", { name: "A11y campaign", repos: ["https://github.com/acme/a11y"], runs_per_repo: 1 });
  await api.call("POST", "/v1/program/policy-profiles", { name: "Guard", blocked_commands: ["rm -rf"], restricted_paths: [] });
  await api.call("POST", "/v1/program/secrets", { name: "A11Y_SECRET", value: "not-shown-anywhere" });
  ids = { failed: failed.build_id, campaign: campaign.campaign_id };
});
afterAll(async () => {
  await browser?.close();
});

/**
 * Visits every page (admin, so every section has data) and runs `check` on each.
 * @param {import("playwright-core").Page} page
 * @param {(name: string) => Promise<void>} check
 */
async function eachPage(page, check) {
  await page.goto(`${baseUrl}/#/sign-in`);
  await page.getByRole("button", { name: "Sign in with a development token" }).waitFor();
  await check("sign-in");
  await page.getByRole("textbox", { name: "API token (JWT)" }).fill("");
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await page.getByRole("alert").waitFor();
  await check("sign-in with an error");
  await signIn(page, baseUrl, "admin");
  await page.locator("#builds-results table").waitFor();
  await check("builds");
  await page.goto(`${baseUrl}/#/builds/new`);
  await page.locator("#preview-status", { hasText: "Plan ready" }).waitFor();
  await page.getByRole("button", { name: "Start scan" }).click();
  await page.locator("#form-error [role=alert]").waitFor();
  await check("new scan with errors");
  await page.goto(`${baseUrl}/#/builds/${ids.failed}`);
  await page.locator("#build-status .badge", { hasText: "Failed" }).waitFor();
  await page.locator("#timeline li").first().waitFor();
  await check("live view");
  await page.goto(`${baseUrl}/#/release`);
  await page.getByLabel("Campaign", { exact: true }).selectOption(ids.campaign);
  await page.locator("#rubric-score").waitFor();
  await page.getByRole("button", { name: "Evaluate go/no-go" }).click();
  await page.locator("#decision-status").waitFor();
  await page.locator("#slo .objective").first().waitFor();
  await check("release readiness");
  await page.goto(`${baseUrl}/#/program`);
  await page.locator("#secrets td", { hasText: "A11Y_SECRET" }).waitFor();
  await check("program ops");
}

for (const colorScheme of /** @type {const} */ (["light", "dark"])) {
  test(`labels, names, landmarks and text contrast on every page (${colorScheme} scheme)`, async () => {
    const { page, context, errors } = await openPage(browser, { colorScheme });
    /** @type {string[]} */
    const problems = [];
    await eachPage(page, async (name) => {
      for (const p of await page.evaluate(auditStructure)) problems.push(`${name}: ${p}`);
      for (const p of await page.evaluate(auditContrast)) problems.push(`${name}: contrast ${p}`);
    });
    expect(problems).toEqual([]);
    expect(errors).toEqual([]);
    await context.close();
  });
}

/** @param {import("playwright-core").Page} page */
const focused = (page) =>
  page.evaluate(() => {
    const el = /** @type {HTMLElement | null} */ (document.activeElement);
    if (!el || el === document.body) return null;
    const st = getComputedStyle(el);
    return {
      tag: el.tagName.toLowerCase(),
      text: (el.getAttribute("aria-label") ?? el.textContent ?? "").trim().slice(0, 60),
      name: el.getAttribute("name"),
      outline: st.outlineStyle !== "none" && Number.parseFloat(st.outlineWidth) >= 2,
    };
  });

/**
 * Presses Tab until `match` holds for the focused element; every stop must show a focus outline.
 * @param {import("playwright-core").Page} page
 * @param {(f: NonNullable<Awaited<ReturnType<typeof focused>>>) => boolean} match
 * @param {"Tab" | "Shift+Tab"} [key]
 */
async function tabTo(page, match, key = "Tab", max = 60) {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press(key);
    const f = await focused(page);
    if (!f) continue;
    expect(f.outline, `no visible focus indicator on ${f.tag} "${f.text}"`).toBe(true);
    if (match(f)) return f;
  }
  throw new Error("focus never reached the target");
}

test("keyboard only: skip link, sign-in, navigation with focus on the heading, a scan started from the intake", async () => {
  const { page, context, errors } = await openPage(browser);
  await page.goto(`${baseUrl}/#/sign-in`);
  await page.getByRole("button", { name: "Sign in with a development token" }).waitFor();

  // The first Tab stop is the skip link; it becomes visible and moves focus to the page heading.
  await page.keyboard.press("Tab");
  expect((await focused(page))?.text).toBe("Skip to content");
  expect(await page.locator(".skip-link").evaluate((el) => el.getBoundingClientRect().top >= 0)).toBe(true);
  await page.keyboard.press("Enter");
  expect(await focused(page)).toMatchObject({ tag: "h1", text: "Sign in" });

  await tabTo(page, (f) => f.text === "Sign in with a development token");
  await page.keyboard.press("Enter");
  await page.waitForURL(/#\/builds$/);
  await expect.poll(async () => (await focused(page))?.text).toBe("Builds");
  expect((await focused(page))?.tag).toBe("h1");

  // Primary navigation by keyboard; focus lands on the new page's heading.
  await tabTo(page, (f) => f.tag === "a" && f.text === "New scan", "Shift+Tab"); // back up into the header
  await page.keyboard.press("Enter");
  await page.waitForURL(/#\/builds\/new$/);
  await expect.poll(async () => (await focused(page))?.tag).toBe("h1");
  expect(await page.title()).toBe("New scan · Clarity Control Plane");

  // The whole intake with the keyboard.
  await tabTo(page, (f) => f.name === "repo_url");
  await page.keyboard.type("https://github.com/acme/keyboard");
  await tabTo(page, (f) => f.name === "product_summary");
  await page.keyboard.type("Keyboard-only operator console");
  await tabTo(page, (f) => f.name === "target_users");
  await page.keyboard.type("Operators");
  await tabTo(page, (f) => f.name === "sensitive_data" && f.text === "");
  await page.keyboard.press("Space"); // Payments
  await tabTo(page, (f) => f.name === "must_not_break_flows");
  await page.keyboard.type("Login");
  await page.locator("#preview-status", { hasText: "Plan ready" }).waitFor();
  await tabTo(page, (f) => f.text === "Start scan");
  await page.keyboard.press("Enter");
  await page.waitForURL(/#\/builds\/[0-9a-f-]{36}$/);
  await expect.poll(async () => (await focused(page))?.tag).toBe("h1");
  await page.locator("#build-status .badge", { hasText: /^Completed$/ }).waitFor({ timeout: 30_000 });

  // DAG nodes are toggle buttons that filter the timeline, operable with the keyboard.
  await tabTo(page, (f) => f.tag === "button" && f.text.startsWith("Static scan (scanner)"));
  await page.keyboard.press("Enter");
  expect(await page.locator('.dag-node[data-node-id="scanner"]').getAttribute("aria-pressed")).toBe("true");
  const shown = await page.locator("#timeline li:not([hidden])").evaluateAll((lis) => lis.map((li) => /** @type {HTMLElement} */ (li).dataset.node));
  expect(shown.length).toBeGreaterThan(0);
  expect(new Set(shown)).toEqual(new Set(["scanner"]));
  await page.keyboard.press("Enter");
  expect(await page.locator('.dag-node[data-node-id="scanner"]').getAttribute("aria-pressed")).toBe("false");
  expect(errors).toEqual([]);
  await context.close();
});
