#!/usr/bin/env node
/**
 * `npm run bench:builds`: benchmark of build creation and DAG execution against a local
 * `wrangler dev` (a script, not a test; nothing here asserts performance).
 *
 * Starts wrangler dev on a free port with a fresh temporary `--persist-to` directory
 * (migrations applied there first), `--log-level warn`, and ENVIRONMENT/JWT_SECRET/
 * STREAM_TOKEN_SECRET passed as `--var`; an empty `--env-file` keeps the developer's .dev.vars
 * out (it is never read or written).
 * Mints its own HS256 operator token. Then, R times (BENCH_REPEAT, default 3):
 *   - baseline: sequential GET /health after a warm-up → p50/p95/p99;
 *   - per planner profile (static_v1, adaptive_parallel_v1, deterministic): K sequential builds
 *     and K builds at concurrency C, each `POST /v1/builds` with `simulated_duration_ms: 0`,
 *     polled with `GET /v1/builds/{id}` every 5 ms until `completed` → create-response
 *     latency, create→completed latency, per-level overhead; one build per profile has its
 *     event history checked for exactly one BUILD_FINISHED.
 * Prints min/median/max over the repeats beside the baseline p50, and writes everything to
 * bench-results-builds.json (gitignored). wrangler is always stopped, also on error/SIGINT.
 *
 * Knobs (env): BENCH_REPEAT=3 BENCH_HEALTH_WARMUP=200 BENCH_HEALTH_N=500 BENCH_BUILDS=30
 *   BENCH_CONCURRENT_BUILDS=30 BENCH_CONCURRENCY=5 BENCH_BUILD_WARMUP=3 BENCH_POLL_MS=5
 *   BENCH_BUILD_TIMEOUT_MS=30000
 *   BENCH_PROFILES=static_v1,adaptive,deterministic (subset filter) BENCH_VERBOSE=1 (echo wrangler output)
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { SignJWT } from "jose";
import { ROOT, applyLocalMigrations, freePort, startWranglerDev } from "./lib/wrangler.mjs";

// ---------------------------------------------------------------------------------------------
// Configuration
// ---------------------------------------------------------------------------------------------

function intEnv(name, def, min = 0) {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === "") return def;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) {
    process.stderr.write(`error: ${name} must be an integer ≥ ${min} (got "${raw}")\n`);
    process.exit(2);
  }
  return n;
}

const CFG = {
  repeat: intEnv("BENCH_REPEAT", 3, 1),
  healthWarmup: intEnv("BENCH_HEALTH_WARMUP", 200),
  healthN: intEnv("BENCH_HEALTH_N", 500, 1),
  builds: intEnv("BENCH_BUILDS", 30, 1),
  concurrentBuilds: intEnv("BENCH_CONCURRENT_BUILDS", 30),
  concurrency: intEnv("BENCH_CONCURRENCY", 5, 1),
  pollMs: intEnv("BENCH_POLL_MS", 5),
  buildTimeoutMs: intEnv("BENCH_BUILD_TIMEOUT_MS", 30_000, 1),
  buildWarmup: intEnv("BENCH_BUILD_WARMUP", 3),
};
const VERBOSE = process.env.BENCH_VERBOSE === "1";

const ALL_PROFILES = [
  { name: "static_v1", metadata: { autonomous_planner_profile: "static_v1" } },
  {
    name: "adaptive",
    metadata: {
      autonomous_planner_profile: "adaptive_parallel_v1",
      project_intake: {
        must_not_break_flows: ["Checkout", "Login"],
        sensitive_data: ["pii"],
        scale_expectation: "high",
      },
    },
  },
  { name: "deterministic", metadata: { scan_mode: "deterministic" } },
];
const PROFILE_FILTER = (process.env.BENCH_PROFILES ?? "").split(",").map((s) => s.trim()).filter(Boolean);
const PROFILES = PROFILE_FILTER.length ? ALL_PROFILES.filter((p) => PROFILE_FILTER.includes(p.name)) : ALL_PROFILES;
if (PROFILES.length === 0) {
  process.stderr.write(`error: BENCH_PROFILES matched none of ${ALL_PROFILES.map((p) => p.name).join(", ")}\n`);
  process.exit(2);
}

const REPO_URL = "https://github.com/acme/bench";
const RESULTS_FILE = resolve(ROOT, "bench-results-builds.json");

// ---------------------------------------------------------------------------------------------
// Small utilities
// ---------------------------------------------------------------------------------------------

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const hex = (bytes) => randomBytes(bytes).toString("hex");
const round = (x, digits = 3) => (x === null || x === undefined || Number.isNaN(x) ? null : Number(x.toFixed(digits)));

/** Nearest-rank percentile of an unsorted sample (p in 0..100). */
function percentile(values, p) {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1];
}
const median = (values) => {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};

class BenchError extends Error {}

function describeBody(text) {
  const t = (text ?? "").trim();
  return t.length > 600 ? `${t.slice(0, 600)}…` : t || "(empty body)";
}

/** fetch wrapper: returns { status, text, json, ms } and never throws on HTTP status. */
async function http(base, method, path, { token, body } = {}) {
  const headers = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  const t0 = performance.now();
  let res;
  try {
    res = await fetch(base + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(15_000),
    });
  } catch (err) {
    throw new BenchError(`${method} ${path}: request failed: ${err?.cause?.code ?? err?.message ?? err}`);
  }
  const text = await res.text();
  const ms = performance.now() - t0;
  let json;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, text, json, ms };
}

function expectStatus(res, expected, method, path) {
  if (res.status !== expected) {
    throw new BenchError(`${method} ${path}: expected HTTP ${expected}, got ${res.status}: ${describeBody(res.text)}`);
  }
  if (res.json === undefined) {
    throw new BenchError(`${method} ${path}: HTTP ${res.status} but the body is not JSON: ${describeBody(res.text)}`);
  }
}

/** Runs `tasks` (functions returning promises) with at most `limit` in flight; fails fast. */
async function pool(tasks, limit) {
  const results = new Array(tasks.length);
  let next = 0;
  let failed = null;
  async function worker() {
    while (failed === null && next < tasks.length) {
      const i = next++;
      try {
        results[i] = await tasks[i]();
      } catch (err) {
        failed ??= err;
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  if (failed) throw failed;
  return results;
}

// ---------------------------------------------------------------------------------------------
// Measurements
// ---------------------------------------------------------------------------------------------

async function measureHealth(base) {
  for (let i = 0; i < CFG.healthWarmup; i++) {
    const r = await http(base, "GET", "/health");
    if (r.status !== 200) throw new BenchError(`GET /health (warm-up): HTTP ${r.status}: ${describeBody(r.text)}`);
  }
  const samples = [];
  for (let i = 0; i < CFG.healthN; i++) {
    const r = await http(base, "GET", "/health");
    if (r.status !== 200) throw new BenchError(`GET /health: HTTP ${r.status}: ${describeBody(r.text)}`);
    samples.push(r.ms);
  }
  return { n: samples.length, p50: percentile(samples, 50), p95: percentile(samples, 95), p99: percentile(samples, 99) };
}

/** Creates one build and polls it to completion; returns its timings. */
async function runOneBuild(base, token, profile) {
  const body = { repo_url: REPO_URL, metadata: { ...profile.metadata, simulated_duration_ms: 0 } };
  const t0 = performance.now();
  const created = await http(base, "POST", "/v1/builds", { token, body });
  expectStatus(created, 201, "POST", "/v1/builds");
  const createMs = performance.now() - t0;
  const build = created.json;
  const id = build?.build_id;
  if (typeof id !== "string" || id === "") {
    throw new BenchError(`POST /v1/builds: 201 without a build_id: ${describeBody(created.text)}`);
  }
  const levels = build?.metadata?.dag_levels;
  if (!Array.isArray(levels)) {
    throw new BenchError(`POST /v1/builds: 201 without metadata.dag_levels: ${describeBody(created.text)}`);
  }
  const dagSize = Array.isArray(build.dag) ? build.dag.length : null;

  const path = `/v1/builds/${encodeURIComponent(id)}`;
  const deadline = t0 + CFG.buildTimeoutMs;
  let status = build.status;
  let polls = 0;
  let doneMs = null;
  if (status === "completed") doneMs = createMs;
  while (doneMs === null) {
    if (status === "failed" || status === "aborted") {
      throw new BenchError(`build ${id} (${profile.name}) ended ${status}: ${describeBody(JSON.stringify(build))}`);
    }
    if (performance.now() > deadline) {
      throw new BenchError(
        `build ${id} (${profile.name}) not completed within ${CFG.buildTimeoutMs} ms (last status "${status}", ${polls} polls)`,
      );
    }
    if (CFG.pollMs > 0) await sleep(CFG.pollMs);
    const r = await http(base, "GET", path, { token });
    polls++;
    expectStatus(r, 200, "GET", path);
    status = r.json?.status;
    if (status === "completed") doneMs = performance.now() - t0;
    else if (status === "failed" || status === "aborted") {
      throw new BenchError(`build ${id} (${profile.name}) ended ${status}: ${describeBody(r.text)}`);
    }
  }
  return { id, createMs, doneMs, levels: levels.length, dagSize, polls };
}

/** Fetches the event history of a finished build and checks for exactly one BUILD_FINISHED. */
async function checkHistory(base, token, id) {
  const path = `/v1/builds/${encodeURIComponent(id)}/events/history?cursor=0&limit=2000`;
  // The terminal event is expected to be durable by the time status reads `completed`;
  // allow a short grace period in case it is appended just after.
  const deadline = performance.now() + 2_000;
  for (;;) {
    const r = await http(base, "GET", path, { token });
    expectStatus(r, 200, "GET", path);
    const items = r.json?.items;
    if (!Array.isArray(items)) throw new BenchError(`GET ${path}: no items array: ${describeBody(r.text)}`);
    const finished = items.filter((e) => e?.event_type === "BUILD_FINISHED").length;
    const foreign = items.filter((e) => e?.build_id !== undefined && e.build_id !== id).length;
    let ordered = true;
    for (let i = 1; i < items.length; i++) if (!(items[i].seq > items[i - 1].seq)) ordered = false;
    if (finished > 1) throw new BenchError(`GET ${path}: ${finished} BUILD_FINISHED events (expected exactly 1)`);
    if (foreign > 0) throw new BenchError(`GET ${path}: ${foreign} events belong to another build`);
    if (!ordered) throw new BenchError(`GET ${path}: seq is not strictly increasing`);
    if (finished === 1) {
      const types = {};
      for (const e of items) types[e.event_type] = (types[e.event_type] ?? 0) + 1;
      return { events: items.length, next_cursor: r.json?.next_cursor ?? null, event_types: types };
    }
    if (performance.now() > deadline) {
      throw new BenchError(`GET ${path}: no BUILD_FINISHED event among ${items.length} events of a completed build`);
    }
    await sleep(50);
  }
}

function summarisePass(runs) {
  const create = runs.map((r) => r.createMs);
  const done = runs.map((r) => r.doneMs);
  const levelCounts = [...new Set(runs.map((r) => r.levels))].sort((a, b) => a - b);
  const levels = median(runs.map((r) => r.levels));
  const createP50 = percentile(create, 50);
  const doneP50 = percentile(done, 50);
  return {
    n: runs.length,
    levels,
    level_counts_seen: levelCounts,
    dag_size: median(runs.map((r) => r.dagSize ?? 0)),
    create_p50: createP50,
    create_p95: percentile(create, 95),
    done_p50: doneP50,
    done_p95: percentile(done, 95),
    done_max: Math.max(...done),
    per_level_overhead: levels > 0 ? (doneP50 - createP50) / levels : null,
    polls_p50: percentile(runs.map((r) => r.polls), 50),
  };
}

async function measureProfile(base, token, profile) {
  for (let i = 0; i < CFG.buildWarmup; i++) await runOneBuild(base, token, profile);
  const sequential = [];
  for (let i = 0; i < CFG.builds; i++) sequential.push(await runOneBuild(base, token, profile));
  const history = await checkHistory(base, token, sequential[0].id);
  let concurrent = null;
  if (CFG.concurrentBuilds > 0) {
    const tasks = Array.from({ length: CFG.concurrentBuilds }, () => () => runOneBuild(base, token, profile));
    concurrent = await pool(tasks, CFG.concurrency);
  }
  return {
    sequential: summarisePass(sequential),
    concurrent: concurrent ? summarisePass(concurrent) : null,
    history: { build_id: sequential[0].id, ...history },
  };
}

// ---------------------------------------------------------------------------------------------
// Reporting
// ---------------------------------------------------------------------------------------------

const FIGURES = [
  ["levels", "levels", false],
  ["create_p50", "create p50 ms", true],
  ["create_p95", "create p95 ms", true],
  ["done_p50", "create→completed p50 ms", true],
  ["done_p95", "create→completed p95 ms", true],
  ["done_max", "create→completed max ms", true],
  ["per_level_overhead", "per-level overhead ms", true],
];

/** Rows of { figure, values[] per repeat, ratios[] per repeat (value / that repeat's baseline p50) }. */
function collectRows(repeats) {
  const rows = [];
  const base = repeats.map((r) => r.baseline.p50);
  const add = (figure, values, timing) =>
    rows.push({ figure, values, ratios: timing ? values.map((v, i) => (v === null ? null : v / base[i])) : null });
  add("baseline GET /health p50 ms", repeats.map((r) => r.baseline.p50), true);
  add("baseline GET /health p95 ms", repeats.map((r) => r.baseline.p95), true);
  add("baseline GET /health p99 ms", repeats.map((r) => r.baseline.p99), true);
  for (const profile of PROFILES) {
    for (const pass of ["sequential", "concurrent"]) {
      if (pass === "concurrent" && CFG.concurrentBuilds === 0) continue;
      const label = pass === "sequential" ? "seq" : `c=${CFG.concurrency}`;
      for (const [key, name, timing] of FIGURES) {
        if (key === "levels" && pass === "concurrent") continue;
        add(`${profile.name} ${label} ${name}`, repeats.map((r) => r.profiles[profile.name][pass][key]), timing);
      }
    }
  }
  return rows;
}

function stats(values) {
  const v = values.filter((x) => x !== null && x !== undefined);
  if (v.length === 0) return { min: null, median: null, max: null };
  return { min: Math.min(...v), median: median(v), max: Math.max(...v) };
}

function renderTable(rows) {
  const fmt = (x) =>
    x === null || x === undefined ? "-" : Number.isInteger(x) ? String(x) : Math.abs(x) >= 100 ? x.toFixed(1) : x.toFixed(2);
  const header = ["figure", "min", "median", "max", "×base min", "×base med", "×base max"];
  const body = rows.map((row) => {
    const s = stats(row.values);
    const r = row.ratios ? stats(row.ratios) : { min: null, median: null, max: null };
    return [row.figure, fmt(s.min), fmt(s.median), fmt(s.max), fmt(r.min), fmt(r.median), fmt(r.max)];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...body.map(line)].join("\n");
}

// ---------------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------------

function environment() {
  const cpus = os.cpus();
  let wrangler = null;
  try {
    wrangler = JSON.parse(readFileSync(resolve(ROOT, "node_modules/wrangler/package.json"), "utf8")).version;
  } catch {}
  return {
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    cpu_count: os.availableParallelism?.() ?? cpus.length,
    cpu_model: cpus[0]?.model ?? null,
    total_mem_mb: Math.round(os.totalmem() / 2 ** 20),
    wrangler,
  };
}

let server = null;
let tempDir = null;
let cleaningUp = null;
let interrupted = null;
const signalExitCode = (signal) => 128 + ({ SIGHUP: 1, SIGINT: 2, SIGTERM: 15 }[signal] ?? 0);

function cleanup() {
  cleaningUp ??= (async () => {
    if (server) await server.stop().catch(() => {});
    if (tempDir) {
      try {
        rmSync(tempDir, { recursive: true, force: true });
      } catch {}
    }
  })();
  return cleaningUp;
}

for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.on(signal, async () => {
    if (interrupted) return;
    interrupted = signal;
    process.stderr.write(`\n${signal}: stopping wrangler…\n`);
    await cleanup();
    process.exit(signalExitCode(signal));
  });
}

async function main() {
  const env = environment();
  const started = performance.now();
  console.log(`bench:builds — node ${env.node}, ${env.cpu_count} CPUs (${env.cpu_model}), ${env.platform}, wrangler ${env.wrangler}`);
  console.log(
    `config: repeat=${CFG.repeat} health=${CFG.healthWarmup}+${CFG.healthN} builds/profile=${CFG.builds} seq + ` +
      `${CFG.concurrentBuilds} at c=${CFG.concurrency} (warm-up ${CFG.buildWarmup}) poll=${CFG.pollMs}ms ` +
      `profiles=${PROFILES.map((p) => p.name).join(",")}`,
  );

  tempDir = mkdtempSync(join(os.tmpdir(), "clarity-bench-"));
  const persistTo = join(tempDir, "state");
  // An empty --env-file keeps the developer's .dev.vars (and any .env) out of this server.
  const envFile = join(tempDir, "bench.env");
  writeFileSync(envFile, "# intentionally empty: bench:builds passes its settings with --var\n");
  await applyLocalMigrations({ persistTo });

  const jwtSecret = hex(24);
  const port = await freePort();
  const t0 = performance.now();
  server = await startWranglerDev({
    port,
    persistTo,
    envFile,
    logLevel: "warn",
    echo: VERBOSE,
    vars: { ENVIRONMENT: "test", JWT_SECRET: jwtSecret, STREAM_TOKEN_SECRET: hex(24) },
  });
  console.log(`wrangler dev ready at ${server.url} in ${Math.round(performance.now() - t0)} ms (state in ${persistTo})`);

  const token = await new SignJWT({ roles: ["operator"] })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject("bench-user")
    .setAudience("authenticated")
    .setIssuedAt()
    .setExpirationTime("1h")
    .sign(new TextEncoder().encode(jwtSecret));

  const repeats = [];
  for (let rep = 1; rep <= CFG.repeat; rep++) {
    const baseline = await measureHealth(server.url);
    console.log(
      `[${rep}/${CFG.repeat}] baseline GET /health p50 ${baseline.p50.toFixed(2)} ms, p95 ${baseline.p95.toFixed(2)}, p99 ${baseline.p99.toFixed(2)}`,
    );
    const profiles = {};
    for (const profile of PROFILES) {
      const p = await measureProfile(server.url, token, profile);
      profiles[profile.name] = p;
      const s = p.sequential;
      const c = p.concurrent;
      console.log(
        `[${rep}/${CFG.repeat}] ${profile.name}: ${s.levels} levels, ${s.dag_size} nodes; seq create p50 ${s.create_p50.toFixed(1)} ms, ` +
          `done p50 ${s.done_p50.toFixed(1)} / p95 ${s.done_p95.toFixed(1)} ms` +
          (c ? `; c=${CFG.concurrency} done p50 ${c.done_p50.toFixed(1)} / p95 ${c.done_p95.toFixed(1)} ms` : "") +
          `; history ${p.history.events} events, 1 BUILD_FINISHED`,
      );
    }
    repeats.push({ baseline, profiles });
  }

  const rows = collectRows(repeats);
  console.log(`\nResults over ${CFG.repeat} repeat(s) (×base = figure / that repeat's GET /health p50):\n`);
  console.log(renderTable(rows));

  const roundDeep = (v) =>
    typeof v === "number" ? round(v) : Array.isArray(v) ? v.map(roundDeep) : v && typeof v === "object"
      ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, roundDeep(x)]))
      : v;
  const results = {
    generated_at: new Date().toISOString(),
    environment: env,
    config: { ...CFG, profiles: PROFILES },
    duration_s: round((performance.now() - started) / 1000, 1),
    summary: rows.map((row) => ({
      figure: row.figure,
      ...roundDeep(stats(row.values)),
      ratio_to_baseline_p50: row.ratios ? roundDeep(stats(row.ratios)) : null,
    })),
    repeats: roundDeep(repeats),
  };
  writeFileSync(RESULTS_FILE, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`\nwrote ${RESULTS_FILE} (total ${results.duration_s} s)`);
}

let exitCode = 0;
try {
  await main();
} catch (err) {
  exitCode = 1;
  // After a signal, in-flight requests fail because wrangler is going away: not worth reporting.
  if (!interrupted) {
    process.stderr.write(`\nbench:builds failed: ${err instanceof BenchError ? err.message : (err?.stack ?? err)}\n`);
  }
} finally {
  await cleanup();
}
process.exit(interrupted ? signalExitCode(interrupted) : exitCode);
