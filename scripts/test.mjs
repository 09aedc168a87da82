#!/usr/bin/env node
// The one test command (README and .ci/run): static checks, then every vitest suite inside
// workerd (real D1/KV/DO via @cloudflare/vitest-pool-workers). Ends with "N passed, N failed".
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { writeDashboardModule } from "./lib/dashboard-module.mjs";

const root = new URL("..", import.meta.url).pathname;
process.chdir(root);
const env = {
  ...process.env,
  WRANGLER_SEND_METRICS: "false",
  WRANGLER_SEND_ERROR_REPORTS: "false",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  WRANGLER_HIDE_BANNER: "true",
};
const bin = (name) => join(root, "node_modules", ".bin", name);
let passed = 0;
let failed = 0;

function run(cmd, args, opts = {}) {
  return spawnSync(cmd, args, { stdio: opts.capture ? "pipe" : "inherit", env, encoding: "utf8" });
}

function check(name, fn) {
  process.stdout.write(`check: ${name} … `);
  const problem = fn();
  if (problem) {
    failed++;
    console.log(`FAILED\n${problem}`);
  } else {
    passed++;
    console.log("ok");
  }
}

function hashDir(dir) {
  const h = createHash("sha256");
  const walk = (d) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else h.update(p).update(readFileSync(p));
    }
  };
  if (existsSync(dir)) walk(dir);
  return h.digest("hex");
}

check("typecheck (src, test, test/node, dashboard, test/e2e, runner)", () => {
  // The worker imports the dashboard as a generated module (src/http/dashboard.ts).
  writeDashboardModule();
  const a = run(bin("tsc"), ["--noEmit", "-p", "tsconfig.json"], { capture: true });
  const b = run(bin("tsc"), ["--noEmit", "-p", "test/tsconfig.json"], { capture: true });
  const n = run(bin("tsc"), ["--noEmit", "-p", "test/node/tsconfig.json"], { capture: true });
  // The dashboard's plain ES modules (public/app) and its browser suite, through their JSDoc types.
  const d = run(bin("tsc"), ["--noEmit", "-p", "tsconfig.dashboard.json"], { capture: true });
  const e = run(bin("tsc"), ["--noEmit", "-p", "test/e2e/tsconfig.json"], { capture: true });
  // The runner service (runner/, Node) with the protocol module it shares with the control plane.
  const r = run(bin("tsc"), ["--noEmit", "-p", "runner/tsconfig.json"], { capture: true });
  return [a, b, n, d, e, r].every((x) => x.status === 0) ? null : [a, b, n, d, e, r].map((x) => x.stdout).join("");
});

// One formatter and linter (Biome, biome.json): 120 columns, the recommended rules with the
// exceptions recorded in docs/DECISIONS.md. `npm run format` fixes what it can.
check("format and lint (biome ci)", () => {
  const r = run(bin("biome"), ["ci", "--max-diagnostics=30"], { capture: true });
  return r.status === 0 ? null : r.stdout + r.stderr;
});

check("migrations match src/db/schema.ts (drizzle-kit generate adds nothing)", () => {
  const before = hashDir("migrations");
  const r = run(bin("drizzle-kit"), ["generate"], { capture: true });
  if (r.status !== 0) return r.stdout + r.stderr;
  return hashDir("migrations") === before
    ? null
    : "drizzle-kit generated a new migration: commit it (npm run db:generate).";
});

check("worker-configuration.d.ts matches wrangler.toml (wrangler types)", () => {
  // Regenerate in place (imports are relative to the file) and restore the committed copy.
  const file = "worker-configuration.d.ts";
  const committed = readFileSync(file, "utf8");
  const r = run(
    bin("wrangler"),
    ["types", "--include-runtime=false", "--strict-vars=false", "--env-file", "/dev/null"],
    { capture: true },
  );
  const fresh = existsSync(file) ? readFileSync(file, "utf8") : "";
  writeFileSync(file, committed);
  if (r.status !== 0) return r.stdout + r.stderr;
  return fresh === committed ? null : "worker-configuration.d.ts is stale: run npm run cf-typegen and commit it.";
});

// The committed OpenAPI document (a workers test proves it is what /openapi.json serves) is valid
// OpenAPI 3.1 for a third-party validator, and the typed client generated from it is current.
check("OpenAPI document valid (swagger-parser) and generated client types current (openapi-typescript)", () => {
  const r = run(process.execPath, ["scripts/check-openapi.mjs"], { capture: true });
  return r.status === 0 ? null : r.stdout + r.stderr;
});

// Every npm script, script file and wrangler subcommand/flag the runbooks and deploy guide name exists.
check("commands in docs/deploy.md and docs/runbooks exist (npm scripts, wrangler subcommands and flags)", () => {
  const r = run(process.execPath, ["scripts/check-docs.mjs"], { capture: true });
  return r.status === 0 ? null : r.stdout + r.stderr;
});

// The shipped Prometheus alerts: promtool check/test rules (never skipped: a missing promtool is a
// failure) and drift against the metrics catalogue, the runbooks and wrangler.toml.
check("Prometheus alerts (promtool check rules + unit tests; series, labels and runbook anchors exist)", () => {
  const r = run(process.execPath, ["scripts/check-alerts.mjs"], { capture: true });
  return r.status === 0 ? null : r.stdout + r.stderr;
});

/** Runs one vitest suite (config) and adds its counts to the totals. */
function vitestSuite(label, config) {
  console.log(`\n== ${label} ==`);
  const report = join(root, `.vitest-report${config ? `-${label}` : ""}.json`);
  rmSync(report, { force: true });
  const args = [
    "run",
    "--reporter=default",
    "--reporter=json",
    `--outputFile=${report}`,
    ...(config ? ["--config", config] : []),
  ];
  const vt = run(bin("vitest"), args);
  const before = failed;
  if (existsSync(report)) {
    const r = JSON.parse(readFileSync(report, "utf8"));
    passed += r.numPassedTests ?? 0;
    failed += (r.numFailedTests ?? 0) + (r.numTotalTests === 0 ? 1 : 0);
    // A suite that fails to load has no failed tests but is still a failure.
    failed += (r.testResults ?? []).filter(
      (s) => s.status === "failed" && (s.assertionResults ?? []).length === 0,
    ).length;
    rmSync(report, { force: true });
  } else {
    failed++;
    console.log(`${label}: vitest produced no report (exit ${vt.status})`);
  }
  if (vt.status !== 0 && failed === before) failed++;
}

// Unit, repo, HTTP and Durable Object suites inside workerd (real D1/KV/DO).
vitestSuite("workers", null);
// The same worker with the development/test-only fault hook on (30% node failures, throwing
// ticks, redelivered alarms): test/faults/*injection*.test.ts.
vitestSuite("faults", "vitest.faults.config.ts");
// The http runner adapter with a configured runner (RUNNER_URL; outbound fetch stubbed).
vitestSuite("http-runner", "vitest.http-runner.config.ts");
// Node-side suites against `wrangler dev` on loopback (reference runner end to end).
vitestSuite("node", "vitest.node.config.ts");
// Browser suite: the dashboard in headless Chromium (Debian's, via playwright-core) against
// `wrangler dev`. A missing browser is a failure, never a skip.
const chromiumPath = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
if (existsSync(chromiumPath)) {
  vitestSuite("e2e", "vitest.e2e.config.ts");
} else {
  failed++;
  console.log(
    `\n== e2e ==\nFAILED: Chromium not found at ${chromiumPath}. Install it with \`apt-get install -y chromium\` (.ci/run does) or set CHROMIUM_PATH; the browser suite is never skipped.`,
  );
}

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
