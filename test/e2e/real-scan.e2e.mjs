/**
 * Issue 15's "done when" in real Chromium: a control plane with a runner configured (its own
 * `wrangler dev`, and the runner service started as `npm run runner` does — scripts/runner.mjs,
 * the esbuild bundle — both on loopback), a local git repository under the runner's roots, the
 * dashboard's New scan with no extra options → the build completes on the real runner and
 * `GET /v1/builds/{id}/findings` has the real findings.
 */
import { execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { applyLocalMigrations, freePort, startWranglerDev } from "../../scripts/lib/wrangler.mjs";
import {
  LAPTOP,
  PHONE,
  apiAs,
  fillNewScan,
  launchBrowser,
  openPage,
  screenshotPath,
  signIn,
} from "./support/browser.mjs";

const hex = (n = 24) => randomBytes(n).toString("hex");
let tmp;
let runner;
let cp;
let browser;
let repo;

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), "clarity-real-scan-"));
  repo = join(tmp, "shop");
  mkdirSync(join(repo, "src"), { recursive: true });
  writeFileSync(
    join(repo, "src", "app.js"),
    'const { execSync } = require("child_process");\nmodule.exports = (req) => execSync("ls " + req.query.dir);\n',
  );
  writeFileSync(join(repo, "README.md"), "# shop\n");
  const git = (...a) =>
    execFileSync("git", ["-c", "user.name=e2e", "-c", "user.email=e2e@example.invalid", ...a], {
      cwd: repo,
      stdio: "pipe",
    });
  git("init", "-q");
  git("add", "-A");
  git("commit", "-qm", "shop");
  const whsec = `whsec_${randomBytes(32).toString("base64")}`;
  const runnerPort = await freePort();
  let runnerOut = "";
  runner = spawn(process.execPath, [resolve("scripts/runner.mjs")], {
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      RUNNER_ENVIRONMENT: "development",
      RUNNER_SHARED_SECRET: whsec,
      RUNNER_PORT: String(runnerPort),
      RUNNER_REPO_ROOTS: tmp,
      RUNNER_WORK_DIR: join(tmp, "work"),
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  runner.stdout.on("data", (d) => (runnerOut += d));
  runner.stderr.on("data", (d) => (runnerOut += d));
  const deadline = Date.now() + 60_000;
  for (;;) {
    const ok = await fetch(`http://127.0.0.1:${runnerPort}/health`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline || runner.exitCode !== null) throw new Error(`runner did not start:\n${runnerOut}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const persistTo = join(tmp, "state");
  await applyLocalMigrations({ persistTo });
  const envFile = join(tmp, "e2e.env");
  writeFileSync(envFile, "# settings come from --var\n");
  const port = await freePort();
  cp = await startWranglerDev({
    port,
    persistTo,
    envFile,
    logLevel: "warn",
    vars: {
      ENVIRONMENT: "development",
      JWT_SECRET: hex(),
      STREAM_TOKEN_SECRET: hex(),
      RUNNER_URL: `http://127.0.0.1:${runnerPort}`,
      RUNNER_SHARED_SECRETS: whsec,
      PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
    },
  });
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await cp?.stop();
  if (runner && runner.exitCode === null) {
    const exited = new Promise((r) => runner.once("exit", r));
    runner.kill("SIGTERM");
    await exited;
  }
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe("real scan from the dashboard", () => {
  test("New scan of a local repository, no extra options → completed with real findings", async () => {
    const { page } = await openPage(browser);
    await signIn(page, cp.url);
    await page.getByRole("navigation", { name: "Primary" }).getByRole("link", { name: "New scan" }).click();
    await page.getByRole("heading", { level: 1, name: "New scan" }).waitFor();
    await fillNewScan(page, `file://${repo}`);
    await page.getByRole("button", { name: "Start scan" }).click();
    await page.waitForURL(/#\/builds\/[0-9a-f-]{36}$/);
    const buildId = /** @type {string} */ (page.url().split("/").pop());
    await page.locator("#execution-badge", { hasText: "Real runner" }).waitFor();
    await page.locator("#build-status .badge", { hasText: /^(Completed|Failed)$/ }).waitFor({ timeout: 90_000 });
    const api = await apiAs(cp.url, "operator");
    const build = await api.call("GET", `/v1/builds/${buildId}`);
    expect(build.metadata.runner_kind).toBe("http");
    expect(build.status, JSON.stringify(build.task_runs.map((t) => [t.node_id, t.status, t.error]))).toBe("completed");
    const findings = (await api.call("GET", `/v1/builds/${buildId}/findings?limit=200`)).items;
    expect(findings.map((f) => [f.rule_id, f.file, f.line])).toContainEqual(["js-exec-user-input", "src/app.js", 2]);
    expect(findings.some((f) => f.rule_id === "inventory" && f.tool === "inventory")).toBe(true);

    // The Findings panel (issue 16): chips with the summary's counts, the table with the rule,
    // file:line and a `new` badge (a first scan), and the SARIF download.
    const report = await api.call("GET", `/v1/builds/${buildId}/report`);
    expect(report.findings_summary).toMatchObject({
      total: findings.length,
      new: findings.length,
      fixed: 0,
      baseline_build_id: null,
    });
    const panel = page.locator("#findings");
    await panel.locator("#findings-summary", { hasText: `${findings.length} findings` }).waitFor();
    for (const [severity, n] of Object.entries(report.findings_summary.by_severity)) {
      expect(await panel.locator(`button[data-severity="${severity}"] strong`).textContent()).toBe(String(n));
    }
    const row = panel
      .locator("tbody tr", { hasText: "js-exec-user-input" })
      .filter({ hasText: "src/app.js:2" })
      .first(); // the scanner and the security node may both report it
    await row.waitFor();
    expect(await row.textContent()).toContain("src/app.js:2");
    expect(await row.locator(".badge", { hasText: /^New$/ }).count()).toBe(1);
    await page.screenshot({ path: screenshotPath("findings-laptop"), fullPage: true });
    await page.setViewportSize(PHONE);
    await row.waitFor();
    await page.screenshot({ path: screenshotPath("findings-phone"), fullPage: true });
    await page.setViewportSize(LAPTOP);

    // Filter by severity through its chip: only that severity (or worse) is listed.
    await panel.locator('button[data-severity="high"]').click();
    await expect
      .poll(async () => (await panel.locator("tbody tr").allTextContents()).every((t) => /Critical|High/.test(t)))
      .toBe(true);

    const download = page.waitForEvent("download");
    await panel.getByRole("button", { name: "Download SARIF" }).click();
    const file = await (await download).path();
    const log = JSON.parse(readFileSync(/** @type {string} */ (file), "utf8"));
    expect(log.version).toBe("2.1.0");
    expect(
      log.runs
        .flatMap((r) => r.results ?? [])
        .some((r) => r.ruleId === "js-exec-user-input" && r.baselineState === "new"),
    ).toBe(true);

    // The builds list shows the build's findings by severity.
    await page.getByRole("navigation", { name: "Primary" }).getByRole("link", { name: "Builds" }).click();
    const listed = page.locator("tr", { has: page.locator(`a[href="#/builds/${buildId}"]`) });
    await listed.locator(".findings-cell", { hasText: `${report.findings_summary.by_severity.high} high` }).waitFor();
    expect(await listed.locator(".findings-cell").textContent()).toContain(`(${findings.length} new)`);
  });
});
