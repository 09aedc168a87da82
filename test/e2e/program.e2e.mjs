// @ts-check
/**
 * Program ops in real Chromium: policy profiles and the policy check (with write-back that fails
 * a running build), idempotent checkpoints (replayed on the same key), secrets (masked only; the
 * plaintext never reaches the page after submit), webhook deliveries, and what a role without a
 * capability sees.
 */
import { createHmac, randomUUID } from "node:crypto";
import { afterAll, beforeAll, expect, inject, test } from "vitest";
import { apiAs, launchBrowser, openPage, useToken } from "./support/browser.mjs";
import { DEPLOYMENT_ADMIN_SUB } from "./support/server.mjs";

const baseUrl = /** @type {string} */ (inject("baseUrl"));
const webhookSecret = /** @type {string} */ (inject("platformWebhookSecret"));
/** Each test runs as its own user (its own tenant), independent of the other suites' data. */
const user = (/** @type {string} */ role) => `e2e-program-${role}-${randomUUID().slice(0, 8)}`;
/** @type {import("playwright-core").Browser} */
let browser;

beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

test("operator: policy profile + check with write-back, idempotent checkpoints, no secrets capability", async () => {
  const api = await apiAs(baseUrl, "operator", user("operator"));
  const running = await api.call("POST", "/v1/builds", {
    repo_url: "https://github.com/acme/policy",
    metadata: { autonomous_planner_profile: "static_v1", simulated_duration_ms: 60_000 },
  });
  const { page, context, errors } = await openPage(browser);
  await useToken(context, api.token);
  await page.goto(`${baseUrl}/#/builds`);
  await page.getByRole("navigation", { name: "Primary" }).getByRole("link", { name: "Program ops" }).click();
  await page.getByRole("heading", { level: 1, name: "Program ops" }).waitFor();

  // Secrets and webhook deliveries need capabilities the operator role lacks: said, not hidden.
  await page.locator("#secrets [role=status]", { hasText: "program.secrets.read" }).waitFor();
  expect(await page.locator("#secrets").textContent()).toContain("security, admin");
  expect(await page.getByLabel("Value", { exact: true }).isVisible()).toBe(false);
  await page.locator("#deliveries", { hasText: "program.webhook.ingest" }).waitFor();
  // The audit log is for tenant administrators: said, not hidden.
  await page.locator("#audit [role=status]", { hasText: "tenant administrators" }).waitFor();

  // Policy profile.
  await page.getByText("New profile").click();
  await page.getByLabel("Profile name").fill("Default guard");
  await page.getByLabel("Blocked commands").fill("rm -rf\ncurl | sh");
  await page.getByLabel("Restricted paths").fill("/.git, /etc");
  await page.getByRole("button", { name: "Create profile" }).click();
  await page.getByText("Profile “Default guard” created.").waitFor();
  await page.locator("#profiles td", { hasText: "rm -rf, curl | sh" }).waitFor();

  // Policy check: ALLOW, BLOCK by path, BLOCK by command written back to a running build.
  await page.getByLabel("Command", { exact: true }).fill("npm test");
  await page.getByLabel("Path (optional)").fill("/src/http/app.ts");
  await page.getByRole("button", { name: "Check policy" }).click();
  await page.locator("#policy-action", { hasText: "ALLOW" }).waitFor();
  expect(await page.locator("#policy-result").textContent()).toContain("policy_pass");
  await page.getByLabel("Path (optional)").fill("/.github/workflows/ci.yml");
  await page.getByRole("button", { name: "Check policy" }).click();
  await page.locator("#policy-result", { hasText: "restricted_path:/.git" }).waitFor();
  await page.getByLabel("Command", { exact: true }).fill("RM -RF /");
  await page.getByLabel("Path (optional)").fill("");
  await page.getByLabel("Write a blocking violation back to").selectOption(running.build_id);
  await page.getByRole("button", { name: "Check policy" }).click();
  await page.locator("#policy-result", { hasText: "blocked_command:rm -rf" }).waitFor();
  await page.locator("#policy-result", { hasText: "Blocking violation blocked_command recorded on build" }).waitFor();
  expect((await api.waitForStatus(running.build_id, ["failed"])).status).toBe("failed");

  // Idempotent checkpoint: the same key replays the first checkpoint; a new key makes another.
  await page.getByLabel("Build", { exact: true }).selectOption(running.build_id);
  await page.getByRole("button", { name: "Create checkpoint" }).click();
  await page.locator("#checkpoint-replayed", { hasText: "no" }).waitFor();
  const first = await page.locator("#checkpoint-id").textContent();
  await page.getByRole("button", { name: "Create checkpoint" }).click();
  await page.locator("#checkpoint-replayed", { hasText: "yes" }).waitFor();
  expect(await page.locator("#checkpoint-id").textContent()).toBe(first);
  await page.getByRole("button", { name: "New key" }).click();
  await page.getByRole("button", { name: "Create checkpoint" }).click();
  await page.locator("#checkpoint-replayed", { hasText: "no" }).waitFor();
  expect(await page.locator("#checkpoint-id").textContent()).not.toBe(first);
  const checkpoints = await api.call("GET", `/v1/builds/${running.build_id}/checkpoints`);
  expect(
    checkpoints.items.filter((/** @type {{ reason: string }} */ c) => c.reason === "idempotent_checkpoint"),
  ).toHaveLength(2);
  expect(errors).toEqual([]);
  await context.close();
});

test("admin: secrets are stored and listed masked only, their audit entries shown; webhook deliveries are listed and viewable", async () => {
  const adminSub = user("admin");
  const admin = await apiAs(baseUrl, "admin", adminSub);
  const { page, context, errors } = await openPage(browser);
  await useToken(context, admin.token);
  await page.goto(`${baseUrl}/#/program`);
  await page.getByRole("heading", { level: 1, name: "Program ops" }).waitFor();
  await page.locator("#secrets", { hasText: "No secrets stored." }).waitFor();

  const plaintext = "ghp_test_1234567890";
  await page.getByLabel("Name", { exact: true }).fill("GITHUB_TOKEN");
  await page.getByLabel("Value", { exact: true }).fill(plaintext);
  await page.getByRole("button", { name: "Store secret" }).click();
  await page.locator("#secret-result", { hasText: "Secret “GITHUB_TOKEN” stored as gh***90" }).waitFor();
  await page.locator("#secrets td", { hasText: "GITHUB_TOKEN" }).waitFor();
  // Seen as the mask, read out as "masked".
  const valueCell = page.locator("#secrets tbody tr").first().locator("td").nth(1);
  expect(await valueCell.locator('[aria-hidden="true"]').textContent()).toBe("***");
  expect(await valueCell.locator(".visually-hidden").textContent()).toBe("masked");
  expect(await page.getByLabel("Value", { exact: true }).inputValue()).toBe("");
  expect(await page.content()).not.toContain(plaintext);

  // Delete, confirmed in a dialog.
  await page.getByRole("button", { name: "Delete secret GITHUB_TOKEN" }).click();
  await page.getByRole("dialog").getByRole("button", { name: "Delete" }).click();
  await page.locator("#secrets", { hasText: "No secrets stored." }).waitFor();

  // The audit log names who stored and deleted it; the action filter narrows it.
  await page.getByRole("button", { name: "Filter" }).click();
  await page.locator("#audit td", { hasText: "secret.delete" }).waitFor();
  await page.locator("#audit td", { hasText: "secret.create" }).waitFor();
  await page.getByLabel("Action", { exact: true }).fill("secret.delete");
  await page.getByRole("button", { name: "Filter" }).click();
  await page.locator("#audit td", { hasText: "secret.create" }).waitFor({ state: "detached" });
  expect(await page.locator("#audit tbody tr").count()).toBe(1);
  expect(await page.locator("#audit").textContent()).toContain(adminSub);

  // A signed platform webhook delivery (SPEC §6.4) shows up in the list and can be opened.
  const nonce = randomUUID();
  const timestamp = String(Math.floor(Date.now() / 1000));
  const body = JSON.stringify({ event: "deploy.finished", service: "api" });
  const signature = createHmac("sha256", webhookSecret).update(`${timestamp}.${nonce}.${body}`).digest("hex");
  const res = await fetch(`${baseUrl}/v1/program/webhook/ingest`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "x-platform-nonce": nonce,
      "x-platform-timestamp": timestamp,
      "x-platform-signature": signature,
    },
    body,
  });
  expect(res.status).toBe(200);
  // Signed with the deployment-wide secret, it belongs to no tenant: this tenant's admin does not
  // see it, a deployment administrator does (issue 17).
  const own = await admin.call("GET", "/v1/program/webhook/deliveries");
  expect(own.items.some((/** @type {{ external_id: string }} */ d) => d.external_id === nonce)).toBe(false);
  expect(errors).toEqual([]);
  await context.close();

  const deployment = await apiAs(baseUrl, "admin", DEPLOYMENT_ADMIN_SUB);
  const ops = await openPage(browser);
  await useToken(ops.context, deployment.token);
  await ops.page.goto(`${baseUrl}/#/program`);
  await ops.page.getByRole("heading", { level: 1, name: "Program ops" }).waitFor();
  await ops.page.locator("#deliveries td", { hasText: nonce }).waitFor();
  await ops.page.getByRole("button", { name: `View delivery ${nonce}` }).click();
  await ops.page.locator("#delivery-detail pre", { hasText: "deploy.finished" }).waitFor();
  expect(await ops.page.evaluate(() => document.activeElement?.id)).toBe("delivery-detail");
  expect(ops.errors).toEqual([]);
  await ops.context.close();
});
