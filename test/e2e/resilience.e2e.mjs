// @ts-check
/**
 * The dashboard's client holds up when a request is lost on the way (issue 22): the local dev
 * proxy resets or parks requests under bursts and answers POSTs with `503 Your worker restarted
 * mid-request`. Reads are retried; a create carries an Idempotency-Key, so retrying one whose
 * answer was lost after the server created the build gives the same build, never a second one.
 * The failures are injected in the browser (Playwright routes); the control plane is real.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, expect, inject, test } from "vitest";
import { apiAs, launchBrowser, openPage, useToken, fillNewScan } from "./support/browser.mjs";

const baseUrl = /** @type {string} */ (inject("baseUrl"));
const RESTARTED =
  "Your worker restarted mid-request. Please try sending the request again. Only GET or HEAD requests are retried automatically.";
/** @type {import("playwright-core").Browser} */
let browser;

beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

test("a builds poll whose connection is reset, then answered 503, is retried and the list shows", async () => {
  const api = await apiAs(baseUrl, "operator", `e2e-resilience-${randomUUID().slice(0, 8)}`);
  const made = await api.call("POST", "/v1/builds", {
    repo_url: "https://github.com/acme/resilient",
    metadata: { simulated_duration_ms: 0 },
  });
  const { page, context, errors } = await openPage(browser);
  await useToken(context, api.token);
  let attempts = 0;
  await page.route(/\/v1\/builds\?/, async (route) => {
    attempts++;
    if (attempts === 1) return route.abort("connectionreset");
    if (attempts === 2) return route.fulfill({ status: 503, contentType: "text/plain", body: RESTARTED });
    return route.continue();
  });
  await page.goto(`${baseUrl}/#/builds`);
  await page.locator("#builds-results tbody tr", { hasText: "github.com/acme/resilient" }).waitFor();
  expect(attempts).toBeGreaterThanOrEqual(3);
  expect(await page.locator('[role="alert"]').allTextContents()).toEqual([]);
  expect(errors).toEqual([]);
  expect(made.build_id).toBeTruthy();
  await context.close();
});

test("a create whose answer is lost after the server made the build is retried with its key: one build", async () => {
  const sub = `e2e-resilience-${randomUUID().slice(0, 8)}`;
  const api = await apiAs(baseUrl, "operator", sub);
  const { page, context, errors } = await openPage(browser);
  await useToken(context, api.token);
  /** @type {string[]} */
  const keys = [];
  let lost = false;
  await page.route(/\/v1\/builds$/, async (route) => {
    if (route.request().method() !== "POST") return route.continue();
    keys.push(route.request().headers()["idempotency-key"] ?? "");
    if (lost) return route.continue();
    lost = true;
    await route.fetch(); // the server creates the build; its answer never reaches the page
    return route.fulfill({ status: 503, contentType: "text/plain", body: RESTARTED });
  });
  await page.goto(`${baseUrl}/#/builds/new`);
  await page.getByRole("heading", { level: 1, name: "New scan" }).waitFor();
  await fillNewScan(page, "https://github.com/acme/once");
  await page.getByRole("button", { name: "Start scan" }).click();
  await page.waitForURL(/#\/builds\/[0-9a-f-]{36}$/);
  expect(keys).toHaveLength(2);
  expect(keys[0]).toMatch(/^[0-9a-f-]{36}$/);
  expect(keys[1]).toBe(keys[0]);
  const mine = (await api.call("GET", "/v1/builds?limit=50")).items;
  expect(mine).toHaveLength(1);
  expect(page.url().endsWith(mine[0].build_id)).toBe(true);
  expect(errors).toEqual([]);
  await context.close();
});

test("a retried create answered 409 idempotency_key_in_flight waits for the first attempt's answer: one build", async () => {
  const sub = `e2e-resilience-${randomUUID().slice(0, 8)}`;
  const api = await apiAs(baseUrl, "operator", sub);
  const { page, context, errors } = await openPage(browser);
  await useToken(context, api.token);
  /** @type {string[]} */
  const keys = [];
  await page.route(/\/v1\/builds$/, async (route) => {
    if (route.request().method() !== "POST") return route.continue();
    keys.push(route.request().headers()["idempotency-key"] ?? "");
    if (keys.length === 1) {
      await route.fetch(); // made; the answer is lost on the way back
      return route.fulfill({ status: 503, contentType: "text/plain", body: RESTARTED });
    }
    if (keys.length === 2) {
      // What the server answers while the first attempt is still being processed.
      return route.fulfill({
        status: 409,
        contentType: "application/problem+json",
        body: JSON.stringify({
          type: "about:blank",
          title: "idempotency key in flight",
          status: 409,
          code: "idempotency_key_in_flight",
        }),
      });
    }
    return route.continue();
  });
  await page.goto(`${baseUrl}/#/builds/new`);
  await page.getByRole("heading", { level: 1, name: "New scan" }).waitFor();
  await fillNewScan(page, "https://github.com/acme/in-flight");
  await page.getByRole("button", { name: "Start scan" }).click();
  await page.waitForURL(/#\/builds\/[0-9a-f-]{36}$/);
  expect(keys).toHaveLength(3);
  expect(new Set(keys).size).toBe(1);
  const mine = (await api.call("GET", "/v1/builds?limit=50")).items;
  expect(mine).toHaveLength(1);
  expect(page.url().endsWith(mine[0].build_id)).toBe(true);
  expect(await page.locator('[role="alert"]').allTextContents()).toEqual([]);
  expect(errors).toEqual([]);
  await context.close();
});
