// @ts-check
/**
 * Issue 21 in real Chromium against `wrangler dev`: GitHub deliveries signed as GitHub signs them
 * (`sign()` of @octokit/webhooks-methods) start builds that the builds list and the build page show
 * with their trigger — "Push to main" with the commit, "Pull request #N" linking to GitHub — and
 * Program ops lists the repository binding. Runs as its own admin (dev tokens: tenant = sub).
 */
import { randomUUID } from "node:crypto";
import { sign } from "@octokit/webhooks-methods";
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

/** @param {string} seed */
const sha = (seed) =>
  Array.from({ length: 40 }, (_, i) => "0123456789abcdef"[(seed.charCodeAt(i % seed.length) + i) % 16]).join("");

test("GitHub-triggered builds show their trigger; Program ops lists the binding", async () => {
  const tenant = `e2e-gh-${randomUUID().slice(0, 8)}`;
  const api = await apiAs(baseUrl, "admin", tenant);
  const secret = `hook-${randomUUID()}`;
  const repo = `acme/e2e-${tenant.slice(-8)}`;
  await api.call("POST", "/v1/program/secrets", { name: "github_webhook_secret", value: secret });
  await api.call("POST", "/v1/program/repositories", { repository: repo, push_branches: ["main"] });

  /** @param {string} event @param {unknown} payload */
  const deliver = async (event, payload) => {
    const body = JSON.stringify(payload);
    const res = await fetch(`${baseUrl}/v1/program/webhook/github/${tenant}`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-github-event": event,
        "x-github-delivery": randomUUID(),
        "x-hub-signature-256": await sign(secret, body),
      },
      body,
    });
    expect(res.status).toBe(200);
    const answer = await res.json();
    expect(answer.outcome).toBe("build_started");
    return /** @type {string} */ (answer.build_id);
  };
  const repository = { full_name: repo, clone_url: `https://github.com/${repo}.git` };
  const after = sha("e2e-push");
  const pushBuild = await deliver("push", {
    ref: "refs/heads/main",
    after,
    head_commit: { id: after, url: `https://github.com/${repo}/commit/${after}` },
    repository,
  });
  const side = (/** @type {string} */ ref, /** @type {string} */ s) => ({ ref, sha: s, repo: repository });
  await deliver("pull_request", {
    action: "opened",
    number: 5,
    pull_request: {
      html_url: `https://github.com/${repo}/pull/5`,
      head: side("feature", sha("head")),
      base: side("main", sha("base")),
    },
    repository,
  });

  const { page, context, errors } = await openPage(browser);
  await useToken(context, api.token);
  await page.goto(`${baseUrl}/#/builds`);
  await expect.poll(() => page.locator("#builds-results tbody tr").count()).toBe(2);
  const rows = page.locator("#builds-results tbody tr");
  const pr = rows.filter({ hasText: "Pull request #5" });
  expect(await pr.getByRole("link", { name: "Pull request #5" }).getAttribute("href")).toBe(
    `https://github.com/${repo}/pull/5`,
  );
  const push = rows.filter({ hasText: "Push to main" });
  expect(await push.getByRole("link", { name: `Commit ${after} on GitHub` }).textContent()).toBe(after.slice(0, 7));

  await page.goto(`${baseUrl}/#/builds/${pushBuild}`);
  await page.locator("#build-trigger", { hasText: "Push to main" }).waitFor();

  await page.goto(`${baseUrl}/#/program`);
  await page.locator("#repositories td", { hasText: repo }).waitFor();
  expect(await page.locator("#repositories").textContent()).toContain("main");
  expect(errors).toEqual([]);
});
