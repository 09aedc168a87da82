// @ts-check
/**
 * Keyboard accessibility in real Chromium, on every page and state of support/pages.mjs (at a
 * laptop width in the light scheme and a phone width in the dark one): Tab reaches every visible
 * control and each stop shows a focus indicator that differs from its unfocused look; live updates
 * never move or drop focus (the event timeline is a polite log, the builds list keeps the focused
 * link across a self-refresh); and one journey by keyboard alone (skip link, sign-in, navigation
 * with focus on the heading, a scan started from the intake, DAG nodes toggled). axe-core's rules
 * run in axe.e2e.mjs.
 */
import { afterAll, beforeAll, describe, expect, inject, test } from "vitest";
import { LAPTOP, launchBrowser, openPage, PHONE } from "./support/browser.mjs";
import { tabSweep } from "./support/keyboard.mjs";
import { arrangePageData, openState, PAGES } from "./support/pages.mjs";

const baseUrl = /** @type {string} */ (inject("baseUrl"));
/** @type {import("playwright-core").Browser} */
let browser;
/** @type {Awaited<ReturnType<typeof arrangePageData>>} */
let data;

beforeAll(async () => {
  browser = await launchBrowser();
  data = await arrangePageData(baseUrl);
});
afterAll(async () => {
  await data?.release();
  await browser?.close();
});

const VARIANTS = /** @type {const} */ ([
  { name: "laptop, light", viewport: LAPTOP, colorScheme: "light" },
  { name: "phone, dark", viewport: PHONE, colorScheme: "dark" },
]);

test("the sweep's harness: it reports a control Tab skips and a focus stop without an indicator", async () => {
  const { page, context } = await openPage(browser);
  await page.goto(`${baseUrl}/#/sign-in`);
  await page.getByRole("button", { name: "Sign in with a development token" }).waitFor();
  await page.evaluate(() => {
    const skipped = Object.assign(document.createElement("button"), {
      type: "button",
      tabIndex: -1,
      textContent: "Planted skipped",
    });
    const bare = Object.assign(document.createElement("button"), { type: "button", textContent: "Planted bare" });
    bare.style.outline = "none"; // CSSOM, which the CSP allows: beats :focus-visible
    document.querySelector("main")?.append(skipped, bare);
  });
  const sweep = await tabSweep(page);
  expect(sweep.unreached).toEqual(['button "Planted skipped"']);
  expect(sweep.noIndicator).toEqual(['button "Planted bare"']);
  await context.close();
});

for (const variant of VARIANTS) {
  describe(`Tab through every page (${variant.name})`, () => {
    /** @type {import("playwright-core").BrowserContext} */
    let context;
    beforeAll(async () => {
      context = await browser.newContext({ viewport: variant.viewport, colorScheme: variant.colorScheme });
    });
    afterAll(async () => {
      await context?.close();
    });
    for (const state of PAGES) {
      test(`${state.name}: every control is reached by Tab and shows a visible focus indicator`, async () => {
        const { page, errors } = await openState(context, baseUrl, state, data);
        const sweep = await tabSweep(page);
        await page.close();
        expect(sweep.controls, "no controls found").toBeGreaterThan(0);
        expect(sweep.unreached, "controls Tab never reached").toEqual([]);
        expect(sweep.noIndicator, "focus stops without a visible focus indicator").toEqual([]);
        expect(sweep.offScreen, "focus stops outside the viewport").toEqual([]);
        expect(errors).toEqual([]);
      });
    }
  });
}

test("the event timeline is a polite log: new lines are announced without moving focus", async () => {
  const build = await data.api.call("POST", "/v1/builds", {
    repo_url: "https://github.com/acme/a11y-live",
    metadata: { autonomous_planner_profile: "static_v1", simulated_duration_ms: 1500 },
  });
  const { page, context, errors } = await openPage(browser);
  await page.addInitScript((t) => sessionStorage.setItem("clarity.token", t), data.token);
  await page.goto(`${baseUrl}/#/builds/${build.build_id}`);
  await page.locator("#timeline li").first().waitFor();

  const log = page.getByRole("log", { name: "Event timeline" });
  expect(await log.getAttribute("aria-live")).toBe("polite");
  expect(await log.getAttribute("aria-atomic")).toBeNull(); // additions only, not the whole log again
  expect(await log.evaluate((el) => el.querySelector("ol")?.children.length ?? 0)).toBeGreaterThan(0); // a real list inside

  // Focus a control by keyboard, then let the stream append lines and change node states.
  const reason = page.getByLabel("Reason (optional)");
  await reason.focus();
  await page.keyboard.type("x");
  const before = await page.locator("#timeline li").count();
  await expect.poll(() => page.locator("#timeline li").count(), { timeout: 30_000 }).toBeGreaterThan(before + 2);
  expect(await reason.evaluate((el) => el === document.activeElement)).toBe(true);
  // Same with focus on a DAG node whose card text is replaced as events arrive.
  const scanner = page.locator('.dag-node[data-node-id="builder"]');
  await scanner.focus();
  const count = await page.locator("#timeline li").count();
  await expect.poll(() => page.locator("#timeline li").count(), { timeout: 30_000 }).toBeGreaterThan(count);
  expect(await scanner.evaluate((el) => el === document.activeElement)).toBe(true);
  expect(await page.locator("#timeline-log").evaluate((el) => el === document.activeElement)).toBe(false);
  expect(errors).toEqual([]);
  await context.close();
  await data.api.call("POST", `/v1/builds/${build.build_id}/abort`, { reason: "done" }).catch(() => undefined);
});

test("the builds list keeps keyboard focus on the same link across its self-refresh", async () => {
  const { page, context, errors } = await openPage(browser);
  await page.addInitScript((t) => sessionStorage.setItem("clarity.token", t), data.token);
  await page.goto(`${baseUrl}/#/builds`);
  // The running build keeps the list refreshing itself.
  const link = page.locator(`#builds-results a[href="#/builds/${data.running}"]`);
  await link.waitFor();
  const stamp = await page.locator("#builds-updated").textContent();
  await link.focus();
  await expect.poll(() => page.locator("#builds-updated").textContent(), { timeout: 20_000 }).not.toBe(stamp);
  const active = await page.evaluate(
    () => document.activeElement?.getAttribute("href") ?? document.activeElement?.tagName,
  );
  expect(active).toBe(`#/builds/${data.running}`);
  expect(errors).toEqual([]);
  await context.close();
});

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
      node: el.dataset.nodeId ?? null,
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
  await tabTo(page, (f) => f.tag === "button" && f.node === "scanner");
  // Its name is its visible text (what a voice-control user sees is what they can say).
  expect(
    await page.getByRole("button", { name: /^Static scan\s*scanner\s*Completed/ }).getAttribute("data-node-id"),
  ).toBe("scanner");
  await page.keyboard.press("Enter");
  expect(await page.locator('.dag-node[data-node-id="scanner"]').getAttribute("aria-pressed")).toBe("true");
  const shown = await page
    .locator("#timeline li:not([hidden])")
    .evaluateAll((lis) => lis.map((li) => /** @type {HTMLElement} */ (li).dataset.node));
  expect(shown.length).toBeGreaterThan(0);
  expect(new Set(shown)).toEqual(new Set(["scanner"]));
  await page.keyboard.press("Enter");
  expect(await page.locator('.dag-node[data-node-id="scanner"]').getAttribute("aria-pressed")).toBe("false");
  expect(errors).toEqual([]);
  await context.close();
});
