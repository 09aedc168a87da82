// @ts-check
/**
 * The builds list in real Chromium: status, progress (nodes done / total) and age per build,
 * the status filter, keyset paging both ways, and the self-refresh while builds are active.
 * Runs as its own user, so the list holds exactly the builds made here.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, expect, inject, test } from "vitest";
import { apiAs, launchBrowser, openPage, useToken } from "./support/browser.mjs";

const baseUrl = /** @type {string} */ (inject("baseUrl"));
/** @type {import("playwright-core").Browser} */
let browser;

beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

test("list with status, progress and age; filter by status; page older and newer; refreshes itself", async () => {
  const api = await apiAs(baseUrl, "operator", `e2e-list-${randomUUID().slice(0, 8)}`);
  /** @type {string[]} */
  const done = [];
  for (let i = 0; i < 10; i++) {
    const b = await api.call("POST", "/v1/builds", {
      repo_url: `https://github.com/acme/done-${i}`,
      metadata: { autonomous_planner_profile: "static_v1", simulated_duration_ms: 0 },
    });
    done.push(b.build_id);
  }
  const running = [];
  for (let i = 0; i < 2; i++) {
    const b = await api.call("POST", "/v1/builds", {
      repo_url: `https://github.com/acme/live-${i}`,
      metadata: { autonomous_planner_profile: "static_v1", simulated_duration_ms: 120_000 },
    });
    running.push(b.build_id);
  }
  for (const id of done) await api.waitForStatus(id, ["completed"]);

  const { page, context, errors } = await openPage(browser);
  await useToken(context, api.token);
  await page.goto(`${baseUrl}/#/builds`);
  await page.locator("#builds-results tbody tr").first().waitFor();
  expect(await page.locator("#builds-results tbody tr").count()).toBe(12);

  // Newest first: the running builds were created last.
  const first = page.locator("#builds-results tbody tr").first();
  expect(await first.locator("td").nth(0).textContent()).toContain("github.com/acme/live-1");
  expect(await first.locator("td a").getAttribute("title")).toBe("https://github.com/acme/live-1");
  expect(await first.locator(".badge").textContent()).toBe("Running");
  // Issue 21: the trigger column (API-created builds are manual).
  expect(await first.locator("td").nth(2).textContent()).toBe("Manual");
  expect(await first.locator("td").nth(3).textContent()).toBe("0 / 4 nodes");
  expect(await first.locator("td time").textContent()).toMatch(/^\d+ (s|min) ago$/);
  const last = page.locator("#builds-results tbody tr").last();
  expect(await last.locator(".badge").textContent()).toBe("Completed");
  expect(await last.locator("td").nth(3).textContent()).toBe("4 / 4 nodes");
  expect(await last.locator("progress").getAttribute("max")).toBe("4");

  // Filter by status (kept in the URL).
  await page.getByLabel("Status", { exact: true }).selectOption("running");
  await page.waitForURL(/#\/builds\?status=running$/);
  await expect.poll(() => page.locator("#builds-results tbody tr").count()).toBe(2);
  expect(new Set(await page.locator("#builds-results .badge").allTextContents())).toEqual(new Set(["Running"]));
  await page.getByLabel("Status", { exact: true }).selectOption("aborted");
  await page.locator("#builds-results", { hasText: "No aborted builds." }).waitFor();

  // Paging with the API's keyset cursor: 10 per page → 2 pages.
  await page.getByLabel("Status", { exact: true }).selectOption("");
  await page.getByLabel("Per page").selectOption("10");
  await page.waitForURL(/#\/builds\?limit=10$/);
  await expect.poll(() => page.locator("#builds-results tbody tr").count()).toBe(10);
  expect(await page.getByRole("link", { name: "← Newer" }).count()).toBe(0);
  await page.getByRole("link", { name: "Older →" }).click();
  await expect.poll(() => page.locator("#builds-results tbody tr").count()).toBe(2);
  expect(await page.locator("#builds-results tbody tr").last().locator("td").first().textContent()).toContain("done-0");
  expect(await page.getByRole("link", { name: "Older →" }).count()).toBe(0);
  await page.getByRole("link", { name: "← Newer" }).click();
  await expect.poll(() => page.locator("#builds-results tbody tr").count()).toBe(10);
  expect(await page.locator("#builds-results tbody tr").first().locator("td").first().textContent()).toContain(
    "live-1",
  );

  // While builds are active the list refreshes itself.
  await api.call("POST", `/v1/builds/${running[1]}/abort`, { reason: "e2e" });
  await expect
    .poll(() => page.locator("#builds-results tbody tr").first().locator(".badge").textContent(), { timeout: 10_000 })
    .toBe("Aborted");

  // A row opens the build's live view.
  await page.locator("#builds-results tbody tr").first().getByRole("link").click();
  await page.waitForURL(new RegExp(`#/builds/${running[1]}$`));
  await page.locator("#build-status .badge", { hasText: "Aborted" }).waitFor();
  expect(errors).toEqual([]);
  await context.close();
});
