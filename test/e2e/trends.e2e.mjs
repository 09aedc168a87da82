// @ts-check
/**
 * Campaign trends on Release readiness in real Chromium (issue 23): two executions of a dry-run
 * campaign — the second fails one repository's runs — drawn as inline-SVG charts (score over
 * time, success rate per repository, findings by severity stacked), each an accessible image
 * with its data table, and the drift verdict.
 */
import { afterAll, beforeAll, expect, inject, test } from "vitest";
import { apiAs, launchBrowser, openPage, signIn } from "./support/browser.mjs";

const baseUrl = /** @type {string} */ (inject("baseUrl"));
/** @type {import("playwright-core").Browser} */
let browser;

beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

const API = "https://github.com/acme/trend-api";
const WEB = "https://github.com/acme/trend-web";
const FAIL = { runner_results: { scanner: { status: "failed" } } };

test("trend charts render as accessible SVG with data tables and the drift verdict", async () => {
  const api = await apiAs(baseUrl, "operator");
  const campaign = await api.call("POST", "/v1/program/campaigns", {
    name: "Trend charts",
    repos: [API, WEB],
    runs_per_repo: 2,
    dry_run: true,
  });
  const id = campaign.campaign_id;
  /** @param {number} n */
  const finished = (n) =>
    expect
      .poll(async () => (await api.call("GET", `/v1/program/campaigns/${id}/executions/${n}`)).status, {
        timeout: 30_000,
        interval: 300,
      })
      .toBe("finished");
  await api.call("POST", `/v1/program/campaigns/${id}/execute`, { metadata: { simulated_duration_ms: 20 } });
  await finished(1);
  await api.call("POST", `/v1/program/campaigns/${id}/execute`, {
    metadata: { simulated_duration_ms: 20 },
    run_metadata: { "github.com_acme_trend-web-run-1": FAIL, "github.com_acme_trend-web-run-2": FAIL },
  });
  await finished(2);

  const { page, context, errors } = await openPage(browser);
  await signIn(page, baseUrl);
  await page.getByRole("navigation", { name: "Primary" }).getByRole("link", { name: "Release readiness" }).click();
  await page.getByRole("heading", { level: 1, name: "Release readiness" }).waitFor();
  await page.getByLabel("Campaign", { exact: true }).selectOption(id);
  await page.getByRole("button", { name: "Refresh report" }).click();
  await page.locator("#trends").waitFor();

  // Score over time: one point per execution, an image with a title and a label.
  const score = page.getByRole("img", { name: /Rubric score over time/ });
  await score.waitFor();
  expect(await page.locator("#chart-score circle").count()).toBe(2);
  expect(await page.locator("#chart-score > title").textContent()).toContain("Rubric score over time");
  // Success rate per repository: 2 executions × 2 repositories; web fell to 0 in #2.
  await page.getByRole("img", { name: /Success rate per repository/ }).waitFor();
  expect(await page.locator("#chart-success rect").count()).toBe(4);
  const tips = await page.locator("#chart-success rect title").allTextContents();
  expect(tips).toContain("github.com/acme/trend-web, #2: 0.0 %");
  expect(tips).toContain("github.com/acme/trend-api, #2: 100.0 %");
  // Findings by severity: one stacked segment per severity per execution.
  await page.getByRole("img", { name: /Findings by severity/ }).waitFor();
  expect(await page.locator("#chart-findings rect").count()).toBe(10);

  // Every chart has its numbers as a table.
  const successFigure = page.locator("figure", { has: page.locator("#chart-success") });
  await successFigure.getByText("Show the data").click();
  const rows = successFigure.getByRole("table", { name: "Success rate per repository (data)" }).locator("tbody tr");
  expect(await rows.allTextContents()).toEqual(["#1100.0 %100.0 %", "#2100.0 %0.0 %"]);
  // A refresh re-renders the charts and keeps the table the reader opened open.
  const shown = await successFigure.elementHandle();
  await page.getByRole("button", { name: "Refresh report" }).click();
  await expect.poll(() => shown.evaluate((e) => e.isConnected), { timeout: 10_000, interval: 50 }).toBe(false);
  expect(await rows.allTextContents()).toEqual(["#1100.0 %100.0 %", "#2100.0 %0.0 %"]);

  // The drift verdict: success down by half.
  await page.locator("#drift", { hasText: "Drift: degrading" }).waitFor();
  expect((await page.locator("#drift-reasons li").allTextContents()).join("\n")).toContain("success_rate_down:0.500");

  expect(errors).toEqual([]);
  await context.close();
});
