// @ts-check
/**
 * New scan → live view in real Chromium: the intake with its live DAG preview and POLICY_GATE
 * risk check, starting a scan, the DAG going to completed live from the event stream, retries,
 * fallback and gate decisions, and the control actions valid for each status.
 */
import { afterAll, beforeAll, describe, expect, inject, test } from "vitest";
import { apiAs, launchBrowser, openPage, signIn, timelineSeqs } from "./support/browser.mjs";

const baseUrl = /** @type {string} */ (inject("baseUrl"));
/** @type {import("playwright-core").Browser} */
let browser;
/** @type {Awaited<ReturnType<typeof apiAs>>} */
let api;

beforeAll(async () => {
  browser = await launchBrowser();
  api = await apiAs(baseUrl, "operator");
});
afterAll(async () => {
  await browser?.close();
});

/** Node card locator. @param {import("playwright-core").Page} page @param {string} id */
const nodeCard = (page, id) => page.locator(`.dag-node[data-node-id="${id}"]`);

/** Opens the live view of a build created through the API. @param {import("playwright-core").Page} page @param {Record<string, unknown>} metadata */
async function openBuild(page, metadata) {
  const build = await api.call("POST", "/v1/builds", { repo_url: "https://github.com/acme/e2e", metadata });
  await page.goto(`${baseUrl}/#/builds/${build.build_id}`);
  await page.getByRole("heading", { level: 1, name: `Build ${build.build_id.slice(0, 8)}` }).waitFor();
  return /** @type {{ build_id: string }} */ (build);
}

/** @param {import("playwright-core").Page} page @param {string} label */
async function waitForStatus(page, label, timeout = 30_000) {
  await page.locator("#build-status .badge", { hasText: new RegExp(`^${label}$`) }).waitFor({ timeout });
}

/** Timeline lines have unique, contiguous seqs 1..N and N = the stored event count. @param {import("playwright-core").Page} page @param {string} buildId */
async function expectCompleteTimeline(page, buildId) {
  const stored = await api.events(buildId);
  await page.waitForFunction((n) => document.querySelectorAll("#timeline li").length >= n, stored.length, {
    timeout: 10_000,
  });
  const seqs = await timelineSeqs(page);
  expect(seqs).toEqual(stored.map((e) => e.seq));
  expect(new Set(seqs).size).toBe(seqs.length);
  return stored;
}

describe("new scan", () => {
  test("intake → live DAG preview with the POLICY_GATE check → start → DAG completes live", async () => {
    const { page, context, errors } = await openPage(browser);
    await signIn(page, baseUrl);
    await page.getByRole("navigation", { name: "Primary" }).getByRole("link", { name: "New scan" }).click();
    await page.getByRole("heading", { level: 1, name: "New scan" }).waitFor();

    // The preview is live before anything is typed (the default agentic profile → adaptive plan).
    await page.locator("#preview-status", { hasText: "Plan ready" }).waitFor();
    await expect.poll(() => page.locator("#preview-profile").textContent()).toBe("agentic_llm_v1");
    expect(await page.locator("#preview-nodes").textContent()).toBe("7");

    await page.getByLabel("Repository URL").fill("https://github.com/acme/shop");
    await page.getByLabel("Product summary").fill("An online shop for garden furniture");
    await page.getByLabel("Target users").fill("Home owners");
    await page.getByLabel("Personal data (PII)").check();
    await page.getByLabel("Payments").check();
    await page.getByLabel("Flows").fill("Sign up & login!!\nCheckout");
    await page.getByLabel("Scale expectation").selectOption("Expected rapid growth");

    // The server's plan for exactly this intake is what the preview shows.
    const expected = await api.call("POST", "/v1/builds/preview-dag", {
      repo_url: "https://github.com/acme/shop",
      metadata: {
        scan_mode: "autonomous",
        autonomous_planner_profile: "agentic_llm_v1",
        project_intake: {
          sensitive_data: ["payments", "pii"],
          must_not_break_flows: ["Sign up & login!!", "Checkout"],
          scale_expectation: "Expected rapid growth",
        },
      },
    });
    await expect.poll(() => page.locator("#preview-nodes").textContent()).toBe(String(expected.dag.length));
    expect(await page.locator("#preview-levels").textContent()).toBe(String(expected.dag_levels.length));
    const previewText = await page.locator("#preview").textContent();
    for (const id of [
      "flow-guard-sign-up-login",
      "flow-guard-checkout",
      "data-boundary-review",
      "scale-readiness-check",
    ])
      expect(previewText).toContain(id);
    await expect
      .poll(() => page.locator("#policy-risk").textContent())
      .toContain("POLICY_GATE on security-review, data-boundary-review");

    // "None" excludes the others; the sensitive-data review node leaves the plan.
    await page.getByLabel("None", { exact: true }).check();
    expect(await page.getByLabel("Payments").isChecked()).toBe(false);
    await expect.poll(() => page.locator("#preview").textContent()).not.toContain("data-boundary-review");
    await page.getByLabel("Personal data (PII)").check();
    expect(await page.getByLabel("None", { exact: true }).isChecked()).toBe(false);

    // Policy risk: the deterministic plan has no POLICY_GATE node → starting is blocked.
    await page.getByText("Planner and runner options").click();
    await page.getByLabel("Planner profile").selectOption("deterministic");
    await page.locator("#policy-risk", { hasText: "Planned DAG is missing a POLICY_GATE node." }).waitFor();
    expect(await page.getByRole("button", { name: "Start scan" }).isDisabled()).toBe(true);
    await page.getByLabel("Planner profile").selectOption("agentic_llm_v1");
    await page.locator("#policy-risk", { hasText: "POLICY_GATE on" }).waitFor();
    await page.getByLabel("Simulated node duration (ms)").fill("400");
    await expect.poll(() => page.getByRole("button", { name: "Start scan" }).isEnabled()).toBe(true);

    await page.getByRole("button", { name: "Start scan" }).click();
    await page.waitForURL(/#\/builds\/[0-9a-f-]{36}$/);
    const buildId = /** @type {string} */ (page.url().split("/").pop());
    await page.getByRole("heading", { level: 1, name: `Build ${buildId.slice(0, 8)}` }).waitFor();

    // Live: a node is seen running, then every node completes, level by level.
    await page.locator('.dag-node[data-status="running"]').first().waitFor({ timeout: 10_000 });
    expect(await page.locator(".dag-level").count()).toBe(expected.dag_levels.length);
    await waitForStatus(page, "Completed");
    const cards = page.locator(".dag-node");
    expect(await cards.count()).toBe(expected.dag.length);
    await expect.poll(() => page.locator('.dag-node[data-status="completed"]').count()).toBe(expected.dag.length);
    await expect
      .poll(() => page.locator("#progress-text").textContent())
      .toBe(`${expected.dag.length} / ${expected.dag.length} nodes done`);
    await page.locator("#stream-state", { hasText: "Stream ended" }).waitFor();

    const stored = await expectCompleteTimeline(page, buildId);
    expect(stored.at(-2).event_type).toBe("BUILD_FINISHED");
    await page.locator("#timeline li", { hasText: "Build finished (completed)" }).waitFor();
    // Gate decisions are listed (runtime auto-pass of every gated node).
    const gated = expected.dag.filter((/** @type {{ gate: string | null }} */ n) => n.gate).length;
    expect(
      await page
        .locator("table.data", { has: page.locator("caption", { hasText: "Gate decisions" }) })
        .locator("tbody tr")
        .count(),
    ).toBe(gated);

    // The build carries the intake metadata the reference sends.
    const build = await api.call("GET", `/v1/builds/${buildId}`);
    expect(build.objective).toBe("Audit https://github.com/acme/shop for product risk and reliability");
    expect(build.metadata).toMatchObject({
      scan_mode: "autonomous",
      fallback_scan_mode: "deterministic",
      autonomous_planner_profile: "agentic_llm_v1",
      project_intake: {
        project_origin: "inspired_by_me",
        product_summary: "An online shop for garden furniture",
        target_users: "Home owners",
        sensitive_data: ["pii"],
        must_not_break_flows: ["Sign up & login!!", "Checkout"],
        deployment_target: "Cloudflare Workers",
        scale_expectation: "Expected rapid growth",
      },
    });

    // Completed: only a checkpoint is a valid control; its event appears after the stream ended.
    await expect.poll(() => page.locator("#controls button").allTextContents()).toEqual(["Create checkpoint"]);
    await page.getByRole("button", { name: "Create checkpoint" }).click();
    await page
      .locator("#timeline li", { hasText: "Checkpoint at completed: manual_checkpoint_from_dashboard" })
      .waitFor();
    await expectCompleteTimeline(page, buildId);
    expect(errors).toEqual([]);
    await context.close();
  });

  test("the intake refuses to start without the required answers", async () => {
    const { page, context, errors } = await openPage(browser);
    await signIn(page, baseUrl);
    await page.goto(`${baseUrl}/#/builds/new`);
    await page.locator("#preview-status", { hasText: "Plan ready" }).waitFor();
    await page.getByRole("button", { name: "Start scan" }).click();
    const alert = page.locator("#form-error [role=alert]");
    await alert.waitFor();
    expect(await alert.textContent()).toContain("Enter the repository URL.");
    expect(await alert.textContent()).toContain("Pick at least one kind of sensitive data.");
    // Focus goes to the first invalid field, which is marked invalid.
    expect(await page.evaluate(() => document.activeElement?.getAttribute("name"))).toBe("repo_url");
    expect(await page.getByLabel("Repository URL").getAttribute("aria-invalid")).toBe("true");
    expect(page.url()).toMatch(/#\/builds\/new$/);
    expect(errors).toEqual([]);
    await context.close();
  });
});

describe("live view controls", () => {
  test("running: reduce scope, checkpoint, abort (with confirmation, by keyboard)", async () => {
    const { page, context, errors } = await openPage(browser);
    await signIn(page, baseUrl);
    const { build_id } = await openBuild(page, {
      autonomous_planner_profile: "static_v1",
      simulated_duration_ms: 60_000,
    });
    await waitForStatus(page, "Running");
    await page.locator('.dag-node[data-node-id="scanner"][data-status="running"]').waitFor();
    await page.locator("#stream-state", { hasText: "Live" }).waitFor();
    await expect
      .poll(() => page.locator("#controls button").allTextContents())
      .toEqual(["Abort build", "Reduce scope", "Create checkpoint"]);

    await page.getByLabel("Reason (optional)").fill("too wide for this release");
    await page.getByRole("button", { name: "Reduce scope" }).click();
    await page
      .locator("#timeline li", { hasText: "Replan REDUCE_SCOPE: too wide for this release [manual]" })
      .waitFor();
    await page.locator("#control-result", { hasText: "Scope reduction recorded" }).waitFor();
    expect(await page.locator("#dec-h ~ div").textContent()).toContain("REDUCE_SCOPE");

    await page.getByRole("button", { name: "Create checkpoint" }).click();
    await page
      .locator("#timeline li", { hasText: "Checkpoint at running: manual_checkpoint_from_dashboard" })
      .waitFor();

    // Abort asks first; Escape cancels and returns focus to the button.
    const abort = page.getByRole("button", { name: "Abort build" });
    await abort.focus();
    await page.keyboard.press("Enter");
    const dialog = page.getByRole("dialog", { name: "Abort this build?" });
    await dialog.waitFor();
    await page.keyboard.press("Escape");
    await dialog.waitFor({ state: "detached" });
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("Abort build");
    expect((await api.call("GET", `/v1/builds/${build_id}`)).status).toBe("running");

    await page.keyboard.press("Enter");
    await dialog.waitFor();
    await page.keyboard.press("Tab"); // Cancel → Abort build
    await page.keyboard.press("Enter");
    await waitForStatus(page, "Aborted");
    await page.locator("#timeline li", { hasText: "Build finished (aborted)" }).waitFor();
    await page.locator("#stream-state", { hasText: "Stream ended" }).waitFor();
    // The controls follow the build's snapshot, fetched once the stream reports the status change
    // (until it arrives none is offered): wait for it rather than read at once.
    await expect.poll(() => page.locator("#controls button").allTextContents()).toEqual(["Create checkpoint"]);
    expect((await api.call("GET", `/v1/builds/${build_id}`)).status).toBe("aborted");
    await expectCompleteTimeline(page, build_id);
    expect(errors).toEqual([]);
    await context.close();
  });

  test("retries and gate decisions are visible; a failed build is resumed to completion", async () => {
    const { page, context, errors } = await openPage(browser);
    await signIn(page, baseUrl);

    // A retry: attempt 1 of the scanner fails, attempt 2 completes.
    const retried = await openBuild(page, {
      autonomous_planner_profile: "static_v1",
      simulated_duration_ms: 150,
      max_task_retries: 1,
      retry_policy: { initial_interval_ms: 200, jitter: 0 },
      runner_results: { scanner: { status_sequence: ["failed", "completed"] } },
    });
    await page.locator("#timeline li", { hasText: "scanner: retry scheduled, attempt 2" }).waitFor();
    await waitForStatus(page, "Completed");
    expect(await nodeCard(page, "scanner").textContent()).toContain("attempt 2");
    expect(await page.locator('#timeline li[data-type="TASK_FAILED"]').count()).toBe(1);
    await expectCompleteTimeline(page, retried.build_id);

    // No retries, no fallback: the scanner fails → POLICY_GATE FAIL → failed; resume completes it.
    const failing = await openBuild(page, {
      autonomous_planner_profile: "static_v1",
      simulated_duration_ms: 150,
      runner_results: { scanner: { status_sequence: ["failed", "completed"] } },
    });
    await waitForStatus(page, "Failed");
    await page.getByRole("alert").filter({ hasText: "Build failed." }).waitFor();
    // The badge and notice can come from the build snapshot before the stream has replayed the
    // history that fills in the node card: wait for the card, not just for the status.
    await nodeCard(page, "scanner").filter({ hasText: "POLICY_GATE: FAIL runner_execution_failed" }).waitFor();
    expect(await nodeCard(page, "scanner").getAttribute("data-status")).toBe("failed");
    await expect
      .poll(() => page.locator("#controls button").allTextContents())
      .toEqual(["Resume build", "Abort build", "Reduce scope", "Create checkpoint"]);
    // The stream of a failed build stays open (it is resumable).
    await page.locator("#stream-state", { hasText: /^Live$/ }).waitFor();
    await page.getByRole("button", { name: "Resume build" }).click();
    await waitForStatus(page, "Completed");
    expect(await nodeCard(page, "scanner").textContent()).toContain("attempt 2");
    await page.locator("#timeline li", { hasText: "Resumed: manual_resume_from_dashboard" }).waitFor();
    await expectCompleteTimeline(page, failing.build_id);
    expect(errors).toEqual([]);
    await context.close();
  });

  test("fallback: a failing node switches the DAG to the deterministic plan, redrawn live", async () => {
    const { page, context, errors } = await openPage(browser);
    await signIn(page, baseUrl);
    const { build_id } = await openBuild(page, {
      autonomous_planner_profile: "static_v1",
      fallback_scan_mode: "deterministic",
      simulated_duration_ms: 150,
      runner_results: { builder: { status: "failed" } },
    });
    await page.locator("[role=status]", { hasText: "Fallback applied." }).waitFor();
    await page.locator("#timeline li", { hasText: "→ deterministic: runner_failed:builder" }).waitFor();
    await waitForStatus(page, "Completed");
    await expect
      .poll(() =>
        page.locator(".dag-node").evaluateAll((els) => els.map((e) => /** @type {HTMLElement} */ (e).dataset.nodeId)),
      )
      .toEqual(["deterministic-scan", "deterministic-summary"]);
    await expect.poll(() => page.locator('.dag-node[data-status="completed"]').count()).toBe(2);
    expect(await page.locator("#dec-h ~ div").textContent()).toContain("fallback_to_deterministic:builder");
    await expectCompleteTimeline(page, build_id);
    expect(errors).toEqual([]);
    await context.close();
  });
});
