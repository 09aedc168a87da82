// @ts-check
/**
 * axe-core (WCAG 2.0/2.1 A and AA rules, none disabled) over every dashboard page and state of
 * support/pages.mjs with real data, at laptop and phone widths, in the light and the dark scheme.
 * A serious or critical violation fails; moderate and minor ones are printed. The engine runs in
 * the page under the dashboard's real CSP (support/axe.mjs). The project's own structure rules
 * (one h1, banner and main landmarks, unique ids, ARIA references that resolve) and a text-contrast
 * backstop for what axe leaves for review run on the same visit (support/audit.mjs).
 */
import { afterAll, beforeAll, describe, expect, inject, test } from "vitest";
import { auditContrast, auditStructure } from "./support/audit.mjs";
import { AXE_VERSION, BLOCKING, formatViolation, runAxe } from "./support/axe.mjs";
import { LAPTOP, launchBrowser, PHONE } from "./support/browser.mjs";
import { arrangePageData, openState, PAGES } from "./support/pages.mjs";

const baseUrl = /** @type {string} */ (inject("baseUrl"));

/** Laptop and phone widths, each in the light and the dark scheme. */
const VARIANTS = /** @type {const} */ ([
  { name: "laptop, light", viewport: LAPTOP, colorScheme: "light" },
  { name: "phone, light", viewport: PHONE, colorScheme: "light" },
  { name: "laptop, dark", viewport: LAPTOP, colorScheme: "dark" },
  { name: "phone, dark", viewport: PHONE, colorScheme: "dark" },
]);

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

test(`the harness: axe-core ${AXE_VERSION} runs under the dashboard's CSP and reports a planted violation`, async () => {
  const context = await browser.newContext({ viewport: LAPTOP });
  const page = await context.newPage();
  await page.goto(`${baseUrl}/#/sign-in`);
  await page.getByRole("button", { name: "Sign in with a development token" }).waitFor();
  // An unnamed button and a list item outside a list: both serious or critical.
  await page.evaluate(() => {
    const b = document.createElement("button");
    const li = document.createElement("li");
    li.textContent = "orphan";
    document.querySelector("main")?.append(b, li);
  });
  const ids = (await runAxe(page)).filter((v) => BLOCKING.has(v.impact)).map((v) => v.id);
  expect(ids).toEqual(expect.arrayContaining(["button-name", "listitem"]));
  await context.close();
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
        const { page, errors } = await openState(context, baseUrl, state, data);
        const violations = await runAxe(page);
        const structure = await page.evaluate(auditStructure);
        const contrast = await page.evaluate(auditContrast);
        await page.close();
        const where = `${state.name} (${variant.name})`;
        const minor = violations.filter((v) => !BLOCKING.has(v.impact));
        if (minor.length > 0) console.log(minor.map((v) => formatViolation(where, v)).join("\n"));
        const blocking = violations.filter((v) => BLOCKING.has(v.impact)).map((v) => formatViolation(where, v));
        expect(blocking, blocking.join("\n")).toEqual([]);
        expect(structure).toEqual([]);
        expect(contrast, "text contrast (backstop for what axe leaves for review)").toEqual([]);
        expect(errors).toEqual([]);
      });
    }
  });
}
