// @ts-check
/**
 * First-load budget: everything the browser fetches to show the first page — HTML, CSS, ES
 * modules, icon and API calls — is under 100 KB compressed (each body gzip-compressed as the edge
 * serves it), all from the control plane's own origin (no CDN, no fonts), and the static
 * dashboard carries its security headers (a CSP without inline script or style).
 */
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, expect, inject, test } from "vitest";
import { apiAs, launchBrowser, openPage, useToken } from "./support/browser.mjs";

const baseUrl = /** @type {string} */ (inject("baseUrl"));
const BUDGET_BYTES = 100 * 1024;
/** @type {import("playwright-core").Browser} */
let browser;

beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

/**
 * Loads `hash` in a fresh context and measures every response of the first load.
 * @param {string} hash
 * @param {string | null} token a session token, as if already signed in
 */
async function measure(hash, token) {
  const { page, context, errors } = await openPage(browser);
  if (token) await useToken(context, token);
  /** @type {import("playwright-core").Response[]} */
  const responses = [];
  /** @type {string[]} */
  const cspViolations = [];
  page.on("response", (r) => responses.push(r));
  page.on("console", (m) => {
    if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
  });
  const doc = await page.goto(`${baseUrl}/${hash}`, { waitUntil: "networkidle" });
  await page.locator("main h1").waitFor();
  await page.waitForLoadState("networkidle");
  const rows = [];
  for (const r of responses) {
    const body = await r.body().catch(() => Buffer.alloc(0));
    rows.push({ url: r.url(), raw: body.length, gzip: body.length === 0 ? 0 : gzipSync(body).length });
  }
  const headers = (await doc?.allHeaders()) ?? {};
  await context.close();
  return {
    rows,
    headers,
    errors,
    cspViolations,
    gzip: rows.reduce((a, r) => a + r.gzip, 0),
    raw: rows.reduce((a, r) => a + r.raw, 0),
  };
}

test("first load (signed out → sign-in, signed in → builds) is under 100 KB compressed, same-origin only", async () => {
  const api = await apiAs(baseUrl, "operator");
  await api.call("POST", "/v1/builds", {
    repo_url: "https://github.com/acme/size",
    metadata: { simulated_duration_ms: 0 },
  });
  for (const [hash, token] of /** @type {const} */ ([
    ["", null],
    ["#/builds", api.token],
  ])) {
    const m = await measure(hash, token);
    const summary = `${hash || "/"}: ${m.rows.length} responses, ${m.raw} B raw, ${m.gzip} B gzip`;
    console.log(`first load ${summary}`);
    expect(m.gzip, summary).toBeLessThan(BUDGET_BYTES);
    expect(m.rows.length).toBeGreaterThan(4);
    for (const r of m.rows) expect(r.url.startsWith(`${baseUrl}/`), `${r.url} is not same-origin`).toBe(true);
    expect(m.errors).toEqual([]);
    expect(m.cspViolations).toEqual([]);
    expect(m.headers["content-security-policy"]).toContain("script-src 'self'");
    expect(m.headers["content-security-policy"]).not.toContain("unsafe-inline");
    expect(m.headers["x-content-type-options"]).toBe("nosniff");
  }
});

test("the whole dashboard, every page module included, is under the budget too", async () => {
  const files = [
    "/",
    "/app/styles.css",
    "/favicon.svg",
    ...["main", "api", "auth", "dom", "ui", "events", "dag"].map((f) => `/app/${f}.js`),
    ...["sign-in", "builds", "new-scan", "build-live", "release", "program"].map((f) => `/app/pages/${f}.js`),
  ];
  let gzip = 0;
  for (const f of files) {
    const res = await fetch(`${baseUrl}${f}`);
    expect(res.status, f).toBe(200);
    gzip += gzipSync(Buffer.from(await res.arrayBuffer())).length;
  }
  console.log(`whole dashboard: ${files.length} files, ${gzip} B gzip`);
  expect(gzip).toBeLessThan(BUDGET_BYTES);
});
