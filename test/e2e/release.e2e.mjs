// @ts-check
/**
 * Release readiness in real Chromium: a validation campaign created, executed as real builds and
 * reported (rubric score, reasons, recommendations); checklist, rollback drill and the go/no-go
 * decision with its reasons; the SLO summary with burn rates and alert state.
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

test("campaign create → execute → report, checklist, rollback drill, go/no-go and SLO summary", async () => {
  const api = await apiAs(baseUrl, "operator");
  const { page, context, errors } = await openPage(browser);
  await signIn(page, baseUrl);
  await page.getByRole("navigation", { name: "Primary" }).getByRole("link", { name: "Release readiness" }).click();
  await page.getByRole("heading", { level: 1, name: "Release readiness" }).waitFor();
  await page.locator("#validation-badge", { hasText: "no report loaded" }).waitFor();

  // Create a campaign over two repositories, two runs each.
  await page.getByText("New campaign").click();
  await page.getByLabel("Campaign name").fill("Beta cut validation");
  await page
    .getByRole("textbox", { name: "Repositories", exact: true })
    .fill("https://github.com/acme/api\nhttps://github.com/acme/web");
  await page.getByLabel("Runs per repository").fill("2");
  await page.getByRole("button", { name: "Create campaign" }).click();
  await page.getByText("Campaign “Beta cut validation” created.").waitFor();
  const campaigns = await api.call("GET", "/v1/program/campaigns");
  const campaign = campaigns.items.find((/** @type {{ name: string }} */ c) => c.name === "Beta cut validation");
  expect(await page.getByLabel("Campaign", { exact: true }).inputValue()).toBe(campaign.campaign_id);

  // Execute: every planned run becomes a build; the report collects them when they finish.
  await page.getByLabel("Simulated node duration (ms)").fill("50");
  await page.getByRole("button", { name: "Execute campaign" }).click();
  await page.locator("#execute-result", { hasText: "started 4 builds" }).waitFor();
  expect(await page.locator("#execute-result a").count()).toBe(4);
  const execution = (await api.call("GET", `/v1/program/campaigns/${campaign.campaign_id}`)).current_execution_id;
  expect(execution).toBeTruthy();
  await expect
    .poll(
      async () =>
        (await api.call("GET", `/v1/program/campaigns/${campaign.campaign_id}/report`)).evidence.runs_from_builds,
      { timeout: 30_000, interval: 300 },
    )
    .toBe(4);

  await page.getByRole("button", { name: "Refresh report" }).click();
  const report = await api.call("GET", `/v1/program/campaigns/${campaign.campaign_id}/report`);
  await expect.poll(() => page.locator("#rubric-score strong").textContent()).toBe(report.rubric.score.toFixed(2));
  await page.locator("#validation-badge", { hasText: "Validation: Needs hardening" }).waitFor();
  const reasons = await page.locator("#report-reasons li").allTextContents();
  expect(reasons.length).toBe(report.rubric.reasons.length);
  expect(reasons.join("\n")).toContain("repo_count_below_threshold:2");
  expect(reasons.join("\n")).toContain("Too few repositories");
  // This server has no runner: the campaign's builds are simulated, listed and never counted.
  expect(reasons.join("\n")).toContain("simulated_evidence_excluded:4");
  await page.locator("#excluded-runs", { hasText: "4 simulated runs are listed but not counted" }).waitFor();
  const recommendations = await page.locator("#report-recommendations li").allTextContents();
  expect(recommendations.join("\n")).toContain("expand_repo_matrix_coverage");
  expect(recommendations.length).toBe(report.recommendations.length);

  // Release gates: checklist and drill, then the decision from the campaign's report.
  await page.getByLabel("Release id").fill("rel-2026.05");
  await page.getByRole("button", { name: "Load" }).click();
  await page.locator("#checklist-result", { hasText: "No checklist recorded" }).waitFor();
  for (const label of [
    "Security review done",
    "SLO dashboard in place",
    "Rollback tested",
    "Documentation complete",
    "Runbooks ready",
  ])
    await page.getByLabel(label).check();
  await page.getByRole("button", { name: "Save checklist" }).click();
  await page.locator("#checklist-result", { hasText: "Checklist saved: 5 of 5 items done." }).waitFor();
  await page.getByLabel("Drill passed").check();
  await page.getByLabel("Duration (minutes)").fill("20");
  await page.getByRole("button", { name: "Record drill" }).click();
  await page.locator("#drill-result", { hasText: "Rollback drill recorded: passed in 20 min." }).waitFor();

  await page.getByLabel(/From campaign “Beta cut validation”/).check();
  await page.getByRole("button", { name: "Evaluate go/no-go" }).click();
  await page.locator("#decision-status", { hasText: "NO GO" }).waitFor();
  expect(await page.locator("#decision-reasons li").allTextContents()).toEqual([
    "Validation campaign is not release ready validation_not_release_ready",
    "Simulated builds are not evidence simulated_evidence_excluded",
  ]);
  expect(await page.locator("#decision").textContent()).toContain(
    `Validation from campaign ${campaign.campaign_id.slice(0, 8)}: not release ready`,
  );

  // An unchecked item is a reason; asserted readiness and a full checklist make it GO.
  await page.getByLabel("Runbooks ready").uncheck();
  await page.getByRole("button", { name: "Save checklist" }).click();
  await page.locator("#checklist-result", { hasText: "4 of 5" }).waitFor();
  await page.getByLabel("Asserted by me").check();
  await page.getByLabel("Validation is release ready").check();
  await page.getByRole("button", { name: "Evaluate go/no-go" }).click();
  await page.locator("#decision-reasons li", { hasText: "runbooks_not_ready" }).waitFor();
  expect(await page.locator("#decision-reasons li").count()).toBe(1);
  await page.getByLabel("Runbooks ready").check();
  await page.getByRole("button", { name: "Save checklist" }).click();
  await page.locator("#checklist-result", { hasText: "5 of 5" }).waitFor();
  await page.getByRole("button", { name: "Evaluate go/no-go" }).click();
  await page.locator("#decision-status", { hasText: /^GO$/ }).waitFor();
  expect(await page.locator("#decision").textContent()).toContain("No blocking reasons.");
  expect((await api.call("GET", "/v1/program/go-live-decision/rel-2026.05")).status).toBe("GO");

  // Loading the release again restores what was recorded.
  await page.reload();
  await page.getByRole("heading", { level: 1, name: "Release readiness" }).waitFor();
  await page.getByLabel("Release id").fill("rel-2026.05");
  await page.getByRole("button", { name: "Load" }).click();
  await page.locator("#decision-status", { hasText: /^GO$/ }).waitFor();
  expect(await page.getByLabel("Drill passed").isChecked()).toBe(true);
  expect(await page.getByLabel("Runbooks ready").isChecked()).toBe(true);

  // SLO summary: the reference counters, objectives with windows, burn rates and alert state.
  await page.getByRole("button", { name: "Refresh", exact: true }).click();
  const slo = await api.call("GET", "/v1/program/slo-summary");
  await expect.poll(() => page.locator("#slo .stat").first().textContent()).toBe(`Builds${slo.total_builds}`);
  for (const o of slo.objectives) {
    const section = page.getByRole("region", { name: `Objective ${o.name}` });
    await section.waitFor();
    expect(await section.locator(".badge").first().textContent()).toBe(
      o.state.charAt(0).toUpperCase() + o.state.slice(1).replace("_", " "),
    );
    expect(await section.locator("table").first().locator("tbody tr").count()).toBe(Object.keys(o.windows).length);
    expect(await section.locator("table").nth(1).locator("tbody tr").count()).toBe(o.alerts.length);
    expect(await section.textContent()).toContain("Burn rate");
  }
  expect(errors).toEqual([]);
  await context.close();
});
