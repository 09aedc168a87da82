// @ts-check
/**
 * Network drop in the middle of a live build: the browser talks to the control plane through a
 * proxy that cuts every connection and refuses new ones for a moment. The live view shows the
 * reconnect, resumes with Last-Event-ID, and ends with every event exactly once.
 */
import { afterAll, beforeAll, expect, inject, test } from "vitest";
import { apiAs, launchBrowser, openPage, signIn, timelineSeqs } from "./support/browser.mjs";
import { startProxy } from "./support/proxy.mjs";

const upstream = /** @type {string} */ (inject("baseUrl"));
/** @type {import("playwright-core").Browser} */
let browser;
/** @type {Awaited<ReturnType<typeof startProxy>>} */
let proxy;

beforeAll(async () => {
  browser = await launchBrowser();
  proxy = await startProxy(upstream);
});
afterAll(async () => {
  await browser?.close();
  await proxy?.close();
});

test("after a network drop the stream reconnects with Last-Event-ID and no timeline line is duplicated", async () => {
  const api = await apiAs(upstream, "operator");
  const { page, context, errors } = await openPage(browser);
  // Every connection state the page shows, in order (a state may last only a few milliseconds).
  await context.addInitScript(() => {
    const states = /** @type {string[]} */ ([]);
    Object.assign(window, { streamStates: states });
    new MutationObserver(() => {
      const text = document.getElementById("stream-state")?.textContent ?? "";
      if (text && states[states.length - 1] !== text) states.push(text);
    }).observe(document, { subtree: true, childList: true, characterData: true });
  });
  await signIn(page, proxy.url);
  const build = await api.call("POST", "/v1/builds", {
    repo_url: "https://github.com/acme/flaky-network",
    metadata: {
      autonomous_planner_profile: "adaptive_parallel_v1",
      simulated_duration_ms: 1000,
      project_intake: {
        must_not_break_flows: ["Checkout", "Login"],
        sensitive_data: ["pii"],
        scale_expectation: "high",
      },
    },
  });
  const streamPath = `/v1/builds/${build.build_id}/events`;
  await page.goto(`${proxy.url}/#/builds/${build.build_id}`);
  await page.locator("#stream-state", { hasText: "Live" }).waitFor();
  await page.locator('#timeline li[data-type="TASK_COMPLETED"]').first().waitFor({ timeout: 10_000 });

  // Cut the network: every open connection dies, new ones are refused for 1.5 s.
  const before = proxy.requests.length;
  proxy.block(1500);
  expect(proxy.drop()).toBeGreaterThan(0);
  await page.locator("#stream-state", { hasText: "Reconnecting" }).waitFor({ timeout: 5000 });
  const seenAtDrop = Math.max(...(await timelineSeqs(page)));
  expect((await api.call("GET", `/v1/builds/${build.build_id}`)).status).toBe("running"); // the build went on meanwhile

  // Reconnected and live again until the build's terminal events end the stream normally.
  await page.locator("#build-status .badge", { hasText: /^Completed$/ }).waitFor({ timeout: 30_000 });
  await page.locator("#stream-state", { hasText: "Stream ended" }).waitFor({ timeout: 15_000 });
  const states = await page.evaluate(() => /** @type {string[]} */ (/** @type {any} */ (window).streamStates));
  expect(states.slice(states.indexOf("Reconnecting"))).toEqual(["Reconnecting", "Live", "Stream ended"]);

  // The reconnect resumed after the last event the page had: Last-Event-ID (browser reconnect) or cursor (fresh token).
  const reconnects = proxy.requests.slice(before).filter((r) => r.path.startsWith(streamPath));
  expect(reconnects.length).toBeGreaterThan(0);
  const first = /** @type {(typeof reconnects)[number]} */ (reconnects[0]);
  const resumedFrom = first.headers["last-event-id"] ?? new URL(first.path, upstream).searchParams.get("cursor");
  expect(Number(resumedFrom)).toBe(seenAtDrop);
  expect(first.headers["last-event-id"]).toBe(String(seenAtDrop));

  // Every stored event exactly once, in order.
  const stored = await api.events(build.build_id);
  await page.waitForFunction((n) => document.querySelectorAll("#timeline li").length >= n, stored.length);
  const seqs = await timelineSeqs(page);
  expect(seqs).toEqual(stored.map((/** @type {{ seq: number }} */ e) => e.seq));
  expect(new Set(seqs).size).toBe(seqs.length);
  expect(await page.locator('.dag-node[data-status="completed"]').count()).toBe(build.dag.length);
  expect(errors).toEqual([]);
  await context.close();
});
