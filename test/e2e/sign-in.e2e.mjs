// @ts-check
/**
 * Sign-in in real Chromium: the one-click development token (offered only when the control plane
 * answers GET /v1/dev/token), a pasted token checked before it is kept, sessionStorage only,
 * 401 → back to sign-in (and then back to where the user was), sign-out.
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

test("one-click development sign-in keeps the token in sessionStorage only; sign-out clears it", async () => {
  const { page, context, errors } = await openPage(browser);
  await page.goto(`${baseUrl}/`);
  await page.waitForURL(/#\/sign-in/); // signed out: every page redirects to sign-in
  expect(await page.getByRole("navigation", { name: "Primary" }).isVisible()).toBe(false);
  await signIn(page, baseUrl, "operator");
  const storage = await page.evaluate(() => ({
    session: sessionStorage.getItem("clarity.token"),
    local: localStorage.length,
    cookie: document.cookie,
  }));
  expect(storage.session).toMatch(/^ey[\w-]+\.[\w-]+\.[\w-]+$/);
  expect(storage.local).toBe(0);
  expect(storage.cookie).toBe("");
  expect(await page.locator("#session").textContent()).toContain("dev-operator");
  expect(await page.locator("#session").textContent()).toContain("operator");

  await page.getByRole("button", { name: "Sign out" }).click();
  await page.waitForURL(/#\/sign-in/);
  expect(await page.evaluate(() => sessionStorage.getItem("clarity.token"))).toBeNull();
  await page.goto(`${baseUrl}/#/release`);
  await page.waitForURL(/#\/sign-in\?next=/);
  expect(errors).toEqual([]);
  await context.close();
});

test("a pasted token is checked with the API first; a rejected one is reported and not kept", async () => {
  const api = await apiAs(baseUrl, "viewer");
  const { page, context, errors } = await openPage(browser);
  await page.goto(`${baseUrl}/#/sign-in?next=${encodeURIComponent("#/program")}`);
  const field = page.getByLabel("API token (JWT)");
  await field.fill("not-a-jwt");
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await page.getByRole("alert").filter({ hasText: "Token rejected." }).waitFor();
  expect(await field.getAttribute("aria-invalid")).toBe("true");
  expect(await page.evaluate(() => sessionStorage.getItem("clarity.token"))).toBeNull();

  await field.fill(`Bearer ${api.token}`);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await page.waitForURL(/#\/program$/); // back to where the user was going
  await page.getByRole("heading", { level: 1, name: "Program ops" }).waitFor();
  expect(await page.evaluate(() => sessionStorage.getItem("clarity.token"))).toBe(api.token);
  expect(await page.locator("#session").textContent()).toContain("dev-viewer");
  expect(errors).toEqual([]);
  await context.close();
});

test("a 401 from any call sends the user back to sign-in, then back to the page", async () => {
  const { page, context, errors } = await openPage(browser);
  await signIn(page, baseUrl);
  await page.goto(`${baseUrl}/#/release`);
  await page.getByRole("heading", { level: 1, name: "Release readiness" }).waitFor();
  // Let the page's own first loads finish (campaigns, report, SLO): one of them answering 401 after
  // the token is spoilt would leave for sign-in before the click below and detach its button.
  await page.locator("#slo .objective").first().waitFor();
  await page.waitForLoadState("networkidle");
  // The session token stops being valid (expired, revoked, rotated secret…).
  await page.evaluate(() =>
    sessionStorage.setItem("clarity.token", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.invalid-signature"),
  );
  await page.getByRole("button", { name: "Refresh", exact: true }).click();
  await page.waitForURL(/#\/sign-in\?expired=1&next=%23%2Frelease$/);
  await page.getByRole("status").filter({ hasText: "Your session ended or the token was rejected (401)." }).waitFor();
  expect(await page.evaluate(() => sessionStorage.getItem("clarity.token"))).toBeNull();
  await page.getByRole("button", { name: "Sign in with a development token" }).click();
  await page.waitForURL(/#\/release$/);
  await page.getByRole("heading", { level: 1, name: "Release readiness" }).waitFor();
  expect(errors).toEqual([]);
  await context.close();
});

test("the one-click button is offered only when the control plane has development tokens", async () => {
  const { page, context, errors } = await openPage(browser);
  // What a deployed control plane answers (src/dev/dev.routes.ts outside development).
  await page.route("**/v1/dev/token", (route) =>
    route.fulfill({
      status: 404,
      contentType: "application/problem+json",
      body: JSON.stringify({ status: 404, code: "not_found", title: "Not Found" }),
    }),
  );
  await page.goto(`${baseUrl}/#/sign-in`);
  await page.getByLabel("API token (JWT)").waitFor();
  await page.waitForLoadState("networkidle");
  expect(await page.getByRole("button", { name: "Sign in with a development token" }).count()).toBe(0);
  expect(await page.getByText("or, in local development").count()).toBe(0);
  expect(errors).toEqual([]);
  await context.close();
});
