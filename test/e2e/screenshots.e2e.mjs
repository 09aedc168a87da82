// @ts-check
/**
 * Screenshots of every page at a laptop (1366×860) and a phone (390×844) width, with real data,
 * into reports/screenshots/ (gitignored) for a human to look at. Also asserts that no page
 * overflows the phone viewport horizontally (tables and the DAG scroll inside their own boxes).
 */
import { afterAll, beforeAll, expect, inject, test } from "vitest";
import { LAPTOP, PHONE, apiAs, launchBrowser, openPage, screenshotPath, signIn } from "./support/browser.mjs";

const baseUrl = /** @type {string} */ (inject("baseUrl"));
/** @type {import("playwright-core").Browser} */
let browser;
/** @type {{ completed: string, failed: string, running: string, campaign: string }} */
let ids;

beforeAll(async () => {
  browser = await launchBrowser();
  const api = await apiAs(baseUrl, "admin");
  const intake = {
    must_not_break_flows: ["Checkout", "Sign up & login"],
    sensitive_data: ["payments"],
    scale_expectation: "Expected rapid growth",
  };
  const completed = await api.call("POST", "/v1/builds", {
    repo_url: "https://github.com/acme/storefront",
    objective: "Audit https://github.com/acme/storefront for product risk and reliability",
    metadata: {
      autonomous_planner_profile: "agentic_llm_v1",
      fallback_scan_mode: "deterministic",
      project_intake: intake,
      simulated_duration_ms: 60,
      max_task_retries: 1,
      retry_policy: { initial_interval_ms: 100, jitter: 0 },
      runner_results: { "test-baseline": { status_sequence: ["failed", "completed"] } },
    },
  });
  const failed = await api.call("POST", "/v1/builds", {
    repo_url: "https://github.com/acme/payments-api",
    metadata: {
      autonomous_planner_profile: "static_v1",
      simulated_duration_ms: 60,
      runner_results: { security: { status: "failed", error: "secret-like string in config/prod.env" } },
    },
  });
  const running = await api.call("POST", "/v1/builds", {
    repo_url: "https://github.com/acme/mobile-bff",
    metadata: {
      autonomous_planner_profile: "adaptive_parallel_v1",
      project_intake: intake,
      simulated_duration_ms: 120_000,
    },
  });
  const aborted = await api.call("POST", "/v1/builds", {
    repo_url: "https://github.com/acme/legacy-admin",
    metadata: { simulated_duration_ms: 120_000 },
  });
  await api.call("POST", `/v1/builds/${aborted.build_id}/abort`, { reason: "superseded by a new release branch" });
  await api.waitForStatus(completed.build_id, ["completed"]);
  await api.waitForStatus(failed.build_id, ["failed"]);

  const campaign = await api.call("POST", "/v1/program/campaigns", {
    name: "Q3 beta validation",
    repos: ["https://github.com/acme/api", "https://github.com/acme/web", "https://github.com/acme/worker"],
    runs_per_repo: 2,
  });
  await api.call("POST", `/v1/program/campaigns/${campaign.campaign_id}/execute`, {
    metadata: { simulated_duration_ms: 30 },
    // One run fails, so the report has per-repo reasons to show.
    run_metadata: {
      "github.com_acme_web-run-2": {
        autonomous_planner_profile: "static_v1",
        runner_results: { scanner: { status: "failed" } },
      },
    },
  });
  await api.call("POST", "/v1/program/checklist", {
    release_id: "release-q3",
    security_review: true,
    slo_dashboard: true,
    rollback_tested: true,
    docs_complete: false,
    runbooks_ready: true,
  });
  await api.call("POST", "/v1/program/rollback-drills", {
    release_id: "release-q3",
    passed: true,
    duration_minutes: 18,
    issues_found: ["DNS TTL too long"],
  });
  await api.call("POST", "/v1/program/go-live-decision", {
    release_id: "release-q3",
    campaign_id: campaign.campaign_id,
  });
  await api.call("POST", "/v1/program/policy-profiles", {
    name: "Default guard",
    blocked_commands: ["rm -rf", "curl | sh"],
    restricted_paths: ["/.git", "/etc"],
  });
  await api.call("POST", "/v1/program/secrets", { name: "GITHUB_TOKEN", value: "ghp_screenshot_only_0000" });
  await api.call("POST", "/v1/program/secrets", {
    name: "SLACK_WEBHOOK_URL",
    value: "https://hooks.slack.invalid/T000/B000",
  });
  await new Promise((r) => setTimeout(r, 1500)); // let the campaign builds finish
  ids = {
    completed: completed.build_id,
    failed: failed.build_id,
    running: running.build_id,
    campaign: campaign.campaign_id,
  };
});
afterAll(async () => {
  await browser?.close();
});

for (const [device, viewport] of /** @type {const} */ ([
  ["laptop", LAPTOP],
  ["phone", PHONE],
])) {
  test(`every page at ${device} width (${viewport.width}px)`, async () => {
    const { page, context, errors } = await openPage(browser, { viewport });
    /** @param {string} name */
    const shoot = async (name) => {
      // Top of the page, nothing focused: sticky parts render where they belong in a full-page shot.
      await page.evaluate(() => {
        /** @type {HTMLElement | null} */ (document.activeElement)?.blur();
        window.scrollTo(0, 0);
      });
      await page.waitForTimeout(250); // let edges and layout settle
      const overflow = await page.evaluate(
        () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
      );
      expect(overflow, `${name} overflows horizontally by ${overflow}px`).toBeLessThanOrEqual(0);
      await page.screenshot({ path: screenshotPath(`${device}-${name}`), fullPage: true });
    };

    await page.goto(`${baseUrl}/#/sign-in`);
    await page.getByRole("button", { name: "Sign in with a development token" }).waitFor();
    await shoot("sign-in");

    await signIn(page, baseUrl, "admin");
    await page.locator("#builds-results table").waitFor();
    await shoot("builds");

    await page.goto(`${baseUrl}/#/builds/new`);
    await page.getByLabel("Repository URL").fill("https://github.com/acme/storefront");
    await page.getByLabel("Product summary").fill("Storefront and checkout for a furniture retailer");
    await page.getByLabel("Target users").fill("Shoppers and store staff");
    await page.getByLabel("Payments").check();
    await page.getByLabel("Flows").fill("Checkout\nSign up & login");
    await page.getByLabel("Scale expectation").selectOption("Expected rapid growth");
    await expect.poll(() => page.locator("#preview-nodes").textContent()).toBe("11");
    await shoot("new-scan");

    for (const [name, id, status] of /** @type {const} */ ([
      ["live-completed", "completed", "Completed"],
      ["live-failed", "failed", "Failed"],
      ["live-running", "running", "Running"],
    ])) {
      await page.goto(`${baseUrl}/#/builds/${ids[id]}`);
      await page.locator("#build-status .badge", { hasText: status }).waitFor();
      await page.locator("#stream-state .badge", { hasText: id === "completed" ? "Stream ended" : "Live" }).waitFor();
      await shoot(name);
    }

    await page.goto(`${baseUrl}/#/release`);
    await page.getByLabel("Campaign", { exact: true }).selectOption(ids.campaign);
    await page.getByRole("button", { name: "Refresh report" }).click();
    await page.locator("#rubric-score").waitFor();
    await page.getByLabel("Release id").fill("release-q3");
    await page.getByRole("button", { name: "Load" }).click();
    await page.locator("#decision-status").waitFor();
    await page.locator("#slo .objective").first().waitFor();
    await shoot("release");

    await page.goto(`${baseUrl}/#/program`);
    await page.locator("#secrets td", { hasText: "GITHUB_TOKEN" }).waitFor();
    await page.locator("#profiles td", { hasText: "Default guard" }).waitFor();
    await shoot("program");
    expect(errors).toEqual([]);
    await context.close();
  });
}

test("dark scheme: builds and a live view at laptop width", async () => {
  const { page, context, errors } = await openPage(browser, { viewport: LAPTOP, colorScheme: "dark" });
  await signIn(page, baseUrl, "admin");
  await page.locator("#builds-results table").waitFor();
  await page.screenshot({ path: screenshotPath("laptop-dark-builds"), fullPage: true });
  await page.goto(`${baseUrl}/#/builds/${ids.failed}`);
  await page.locator("#build-status .badge", { hasText: "Failed" }).waitFor();
  await page.locator("#timeline li").first().waitFor();
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.waitForTimeout(250);
  await page.screenshot({ path: screenshotPath("laptop-dark-live-failed"), fullPage: true });
  expect(errors).toEqual([]);
  await context.close();
});
