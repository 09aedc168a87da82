#!/usr/bin/env node
// The one test command (README and .ci/run): static checks, then every vitest suite inside
// workerd (real D1/KV/DO via @cloudflare/vitest-pool-workers). Ends with "N passed, N failed".
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";

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

check("typecheck (src, test, test/node)", () => {
  const a = run(bin("tsc"), ["--noEmit", "-p", "tsconfig.json"], { capture: true });
  const b = run(bin("tsc"), ["--noEmit", "-p", "test/tsconfig.json"], { capture: true });
  const n = run(bin("tsc"), ["--noEmit", "-p", "test/node/tsconfig.json"], { capture: true });
  return a.status === 0 && b.status === 0 && n.status === 0 ? null : `${a.stdout}${b.stdout}${n.stdout}`;
});

check("migrations match src/db/schema.ts (drizzle-kit generate adds nothing)", () => {
  const before = hashDir("migrations");
  const r = run(bin("drizzle-kit"), ["generate"], { capture: true });
  if (r.status !== 0) return r.stdout + r.stderr;
  return hashDir("migrations") === before ? null : "drizzle-kit generated a new migration: commit it (npm run db:generate).";
});

check("worker-configuration.d.ts matches wrangler.toml (wrangler types)", () => {
  // Regenerate in place (imports are relative to the file) and restore the committed copy.
  const file = "worker-configuration.d.ts";
  const committed = readFileSync(file, "utf8");
  const r = run(bin("wrangler"), ["types", "--include-runtime=false", "--strict-vars=false", "--env-file", "/dev/null"], { capture: true });
  const fresh = existsSync(file) ? readFileSync(file, "utf8") : "";
  writeFileSync(file, committed);
  if (r.status !== 0) return r.stdout + r.stderr;
  return fresh === committed ? null : "worker-configuration.d.ts is stale: run npm run cf-typegen and commit it.";
});

/** Runs one vitest suite (config) and adds its counts to the totals. */
function vitestSuite(label, config) {
  console.log(`\n== ${label} ==`);
  const report = join(root, `.vitest-report${config ? `-${label}` : ""}.json`);
  rmSync(report, { force: true });
  const args = ["run", "--reporter=default", "--reporter=json", `--outputFile=${report}`, ...(config ? ["--config", config] : [])];
  const vt = run(bin("vitest"), args);
  const before = failed;
  if (existsSync(report)) {
    const r = JSON.parse(readFileSync(report, "utf8"));
    passed += r.numPassedTests ?? 0;
    failed += (r.numFailedTests ?? 0) + (r.numTotalTests === 0 ? 1 : 0);
    // A suite that fails to load has no failed tests but is still a failure.
    failed += (r.testResults ?? []).filter((s) => s.status === "failed" && (s.assertionResults ?? []).length === 0).length;
    rmSync(report, { force: true });
  } else {
    failed++;
    console.log(`${label}: vitest produced no report (exit ${vt.status})`);
  }
  if (vt.status !== 0 && failed === before) failed++;
}

// Unit, repo, HTTP and Durable Object suites inside workerd (real D1/KV/DO).
vitestSuite("workers", null);
// Node-side suites against `wrangler dev` on loopback (reference runner end to end).
vitestSuite("node", "vitest.node.config.ts");

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
