#!/usr/bin/env node
// The shipped Prometheus alerts (prometheus/alerts.yml) against promtool and against the code
// (npm run alerts:check; part of npm test). Fails, never skips, when promtool is missing.
//   promtool check rules prometheus/alerts.yml          syntax, PromQL, templates
//   promtool test rules prometheus/tests/*.yml           unit tests on series fixtures
// and drift checks promtool cannot make:
//   - every clarity_* series named in the rules and the tests is a family of the /metrics
//     catalogue (metrics.catalog.ts, found under src/ wherever it lives; histograms add
//     _bucket/_sum/_count), and every clarity:* series used is recorded by a rule;
//   - label values in matchers are real: route = an operation of docs/openapi.json, mode = a
//     catalogue failure mode, status/gate/reason = a string literal in src/;
//   - every alert has severity page|ticket, summary, description and a runbook_url whose
//     docs/runbooks file and heading anchor (GitHub slug) exist, and a row in the alert index
//     of docs/runbooks/README.md linking the same section;
//   - every alert has a firing and a not-firing unit test;
//   - the SLO error budget in the rules, (1 - target), matches SLO_BUILD_SUCCESS_TARGET.
// The rules and tests files are read as text; keep one `- alert:`/`- record:` per rule item and,
// in tests, `alertname:` before `exp_alerts:` in each alert_rule_test item.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { build } from "esbuild";

const root = new URL("..", import.meta.url).pathname;
const rulesFile = "prometheus/alerts.yml";
const testsDir = "prometheus/tests";
const promtool = process.env.PROMTOOL || "promtool";
const problems = [];

// --- promtool -------------------------------------------------------------------------------
const version = spawnSync(promtool, ["--version"], { cwd: root, encoding: "utf8" });
if (version.error || version.status !== 0) {
  console.error(
    `promtool not found (${promtool}): install it with \`apt-get install -y --no-install-recommends prometheus\` ` +
      "(Debian/Ubuntu; .ci/run does) or set PROMTOOL to its path. The alert checks are never skipped.",
  );
  process.exit(1);
}
const testFiles = existsSync(join(root, testsDir))
  ? readdirSync(join(root, testsDir))
      .filter((f) => f.endsWith(".yml") || f.endsWith(".yaml"))
      .sort()
      .map((f) => `${testsDir}/${f}`)
  : [];
if (testFiles.length === 0) problems.push(`no promtool unit tests in ${testsDir}/`);
for (const args of [
  ["check", "rules", rulesFile],
  ...(testFiles.length > 0 ? [["test", "rules", ...testFiles]] : []),
]) {
  const r = spawnSync(promtool, args, { cwd: root, encoding: "utf8" });
  const out = `${r.stdout ?? ""}${r.stderr ?? ""}`.trim();
  if (r.status !== 0) problems.push(`promtool ${args.join(" ")} failed:\n${out}`);
  else console.log(`promtool ${args.slice(0, 2).join(" ")}: ok (${args.length - 2} file${args.length > 3 ? "s" : ""})`);
}

// --- the code's side: metric catalogue, source literals, OpenAPI operations -------------------
function walk(dir, out = []) {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else out.push(p);
  }
  return out;
}
const srcFiles = walk(join(root, "src")).filter((p) => p.endsWith(".ts"));
const catalogs = srcFiles.filter((p) => p.endsWith("/metrics.catalog.ts"));
if (catalogs.length !== 1) {
  console.error(
    `expected exactly one metrics.catalog.ts under src/, found ${catalogs.length}: ${catalogs.map((p) => relative(root, p)).join(", ")}`,
  );
  process.exit(1);
}
const catalogPath = catalogs[0];
const bundled = await build({
  entryPoints: [catalogPath],
  bundle: true,
  format: "esm",
  platform: "neutral",
  write: false,
  logLevel: "silent",
  external: ["cloudflare:*"],
});
const catalog = await import(
  `data:text/javascript;base64,${Buffer.from(bundled.outputFiles[0].text).toString("base64")}`
);
if (!catalog.METRIC_FAMILIES) {
  console.error(`${relative(root, catalogPath)} no longer exports METRIC_FAMILIES: update scripts/check-alerts.mjs`);
  process.exit(1);
}
const seriesNames = new Set();
for (const f of Object.values(catalog.METRIC_FAMILIES)) {
  seriesNames.add(f.name);
  if (f.type === "histogram") for (const s of ["_bucket", "_sum", "_count"]) seriesNames.add(f.name + s);
}
const failureModes = new Set(catalog.FAILURE_MODES ?? []);
const srcText = srcFiles.map((p) => readFileSync(p, "utf8")).join("\n");
const openapi = JSON.parse(readFileSync(join(root, "docs/openapi.json"), "utf8"));
const operations = new Set(
  Object.entries(openapi.paths ?? {}).flatMap(([path, item]) =>
    Object.keys(item).map((m) => `${m.toUpperCase()} ${path}`),
  ),
);

// --- the rules and tests, as text ---------------------------------------------------------------
const rulesText = readFileSync(join(root, rulesFile), "utf8");
const testTexts = testFiles.map((f) => [f, readFileSync(join(root, f), "utf8")]);
const indexFile = "docs/runbooks/README.md";
const indexText = readFileSync(join(root, indexFile), "utf8");

// Rule items: from one `- alert:` / `- record:` line to the next.
const items = rulesText.split(/^(?=[ \t]*- (?:alert|record):)/m).slice(1);
const alerts = [];
const recorded = new Set();
for (const item of items) {
  const rec = item.match(/^[ \t]*- record:[ \t]*(\S+)/);
  if (rec) {
    recorded.add(rec[1]);
    continue;
  }
  const name = item.match(/^[ \t]*- alert:[ \t]*(\S+)/)?.[1];
  alerts.push(name);
  const severity = item.match(/^[ \t]+severity:[ \t]*(\S+)[ \t]*$/m)?.[1];
  if (severity !== "page" && severity !== "ticket")
    problems.push(`${name}: label severity must be page or ticket (found ${severity ?? "none"})`);
  for (const a of ["summary", "description", "runbook_url"])
    if (!new RegExp(`^[ \\t]+${a}:`, "m").test(item)) problems.push(`${name}: annotation ${a} missing`);
  const url = item.match(/^[ \t]+runbook_url:[ \t]*["']?([^\s"']+)/m)?.[1];
  if (url) checkRunbookUrl(name, url);
  // The index in docs/runbooks/README.md lists the alert with the same section.
  const row = indexText.split("\n").find((l) => l.startsWith(`| \`${name}\` |`));
  if (!row) problems.push(`${name}: missing from the alert index in ${indexFile}`);
  else if (url && !row.includes(`(${url.replace(/^docs\/runbooks\//, "")})`))
    problems.push(`${name}: the ${indexFile} index links another section than runbook_url ${url}`);
}
if (alerts.length === 0) problems.push(`${rulesFile}: no alert found`);
if (new Set(alerts).size !== alerts.length) problems.push(`${rulesFile}: duplicate alert names`);

function checkSeries(file, text) {
  for (const m of new Set(text.match(/\bclarity_[A-Za-z0-9_]+/g) ?? [])) {
    if (!seriesNames.has(m)) problems.push(`${file}: ${m} is not a series of ${relative(root, catalogPath)}`);
  }
  for (const m of new Set(text.match(/\bclarity:[A-Za-z0-9_:]+/g) ?? [])) {
    if (!recorded.has(m)) problems.push(`${file}: ${m} is not recorded by any rule in ${rulesFile}`);
  }
  for (const [, label, op, value] of text.matchAll(/\b(route|mode|status|gate|reason)\s*(=~|!~|!=|=)\s*"([^"]*)"/g)) {
    const values = op.endsWith("~") ? value.split("|") : [value];
    for (const v of values) {
      if (/[.*+?()[\]{}^$\\]/.test(v)) {
        problems.push(`${file}: ${label}${op}"${value}": use a plain alternation of values so they can be checked`);
        continue;
      }
      const ok =
        label === "route"
          ? operations.has(v.replace(/:([A-Za-z0-9_]+)/g, "{$1}"))
          : label === "mode"
            ? failureModes.has(v)
            : srcText.includes(`"${v}"`);
      if (!ok)
        problems.push(
          `${file}: ${label}="${v}" is not a value the worker exports (${label === "route" ? "no such operation in docs/openapi.json" : label === "mode" ? "not in FAILURE_MODES" : "no such string in src/"})`,
        );
    }
  }
}
checkSeries(rulesFile, rulesText);
for (const [f, t] of testTexts) checkSeries(f, t);

// SLO error budget: every (1 - X) in the rules is 1 - SLO_BUILD_SUCCESS_TARGET.
const target = readFileSync(join(root, "wrangler.toml"), "utf8").match(
  /^SLO_BUILD_SUCCESS_TARGET\s*=\s*"([^"]+)"/m,
)?.[1];
const budgets = [...new Set([...rulesText.matchAll(/\(1 - ([0-9.]+)\)/g)].map((m) => m[1]))];
if (budgets.length === 0) problems.push(`${rulesFile}: no (1 - target) error budget found in the SLO rules`);
for (const b of budgets)
  if (Number(b) !== Number(target))
    problems.push(`${rulesFile}: SLO target ${b} differs from SLO_BUILD_SUCCESS_TARGET=${target} in wrangler.toml`);

// Firing and not-firing unit tests per alert: the text after each `alertname:` up to the next.
const firing = new Set();
const quiet = new Set();
for (const [, text] of testTexts) {
  const parts = text.split(/^[ \t]*(?:-[ \t]+)?alertname:[ \t]*/m).slice(1);
  for (const part of parts) {
    const name = part.match(/^(\S+)/)?.[1];
    const body = part.split(/^[ \t]*(?:- name:|promql_expr_test:|input_series:)/m)[0];
    if (/exp_alerts:\s*\[\s*\]/.test(body)) quiet.add(name);
    else if (/exp_alerts:\s*\n\s*-\s+exp_labels:/.test(body)) firing.add(name);
  }
}
for (const a of alerts) {
  if (!firing.has(a)) problems.push(`${a}: no unit test in ${testsDir}/ where it fires`);
  if (!quiet.has(a)) problems.push(`${a}: no unit test in ${testsDir}/ where it stays quiet (exp_alerts: [])`);
}

/** GitHub's heading anchors: lowercase, punctuation dropped, spaces to '-', repeats get -1, -2 … */
function anchors(markdown) {
  const seen = new Map();
  const out = new Set();
  let fenced = false;
  for (const line of markdown.split("\n")) {
    if (/^[ \t]*(```|~~~)/.test(line)) fenced = !fenced;
    const h = !fenced && line.match(/^#{1,6}\s+(.*?)\s*#*\s*$/);
    if (!h) continue;
    const text = h[1].replace(/!?\[([^\]]*)\]\([^)]*\)/g, "$1").replace(/<[^>]*>/g, "");
    const base = text
      .toLowerCase()
      .replace(/[^\p{L}\p{M}\p{N}\p{Pc}\- ]/gu, "")
      .replace(/ /g, "-");
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

function checkRunbookUrl(alert, url) {
  const m = url.match(/^(docs\/runbooks\/[^#]+\.md)#(.+)$/);
  if (!m) return problems.push(`${alert}: runbook_url ${url} is not docs/runbooks/<file>.md#<anchor>`);
  if (!existsSync(join(root, m[1]))) return problems.push(`${alert}: runbook_url ${url}: no file ${m[1]}`);
  if (!anchors(readFileSync(join(root, m[1]), "utf8")).has(m[2]))
    problems.push(`${alert}: runbook_url ${url}: no heading with anchor #${m[2]} in ${m[1]}`);
}

if (problems.length > 0) {
  console.error(problems.join("\n"));
  process.exit(1);
}
console.log(
  `${alerts.length} alerts, ${recorded.size} recording rules: series in ${relative(root, catalogPath)}, label values real, ` +
    "runbook anchors exist, each alert tested firing and quiet, SLO target matches wrangler.toml",
);
