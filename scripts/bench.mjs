#!/usr/bin/env node
/**
 * `npm run bench`: the performance harness (issue 9) — a script, not a test. Every figure is
 * set beside a baseline measured in the same run (these machines are shared and noisy), repeated
 * R times, printed as min/median/max with PASS/MISS against the targets, and written as JSON to
 * bench-results.json (gitignored).
 *
 * Set-up: a fresh temporary `--persist-to` state (migrations applied, 50k completed builds seeded
 * straight into D1), `wrangler dev` with `--log-level warn` (request logging off) on a free
 * loopback port, its own HS256 secret and Standard Webhooks secret passed as `--var`, an empty
 * `--env-file` (the developer's .dev.vars is never read). The write rate limit is raised so the
 * limiter still runs on every request but never rejects the benchmark.
 *
 * Sections (BENCH_SECTIONS, comma separated; default all):
 *   throughput — autocannon, fixed connections and duration: GET /health (baseline), GET
 *                /v1/builds/{id}, GET /v1/builds (first page, and a page 45,000 builds deep),
 *                POST /v1/builds, signed webhook ingest, an idempotent replay;
 *   latency    — create→completed of static_v1 and adaptive builds with zero-duration simulated
 *                nodes (p50/p95, server-side too) and per-level overhead, against the unloaded
 *                baseline p50 (sequential GET /health);
 *   burst      — 500 builds started at once: time until all are terminal, builds/s, stuck ones,
 *                and every build's event log checked (one BUILD_FINISHED, seq contiguous);
 *   sse        — one build streamed to 100 subscribers: every subscriber gets every event, p95
 *                emit→receive latency (event timestamp → local receive time, same clock);
 *   memory     — a build with 10,000 events (~20 MB) paged through the history endpoint and
 *                streamed over SSE (fast and slow reader), with the RSS of workerd sampled
 *                (after one unmeasured pass, so V8 heap warm-up is not counted as the log);
 *   profile    — where the time goes: cost-per-request ladders (each step adds one layer of a
 *                route: auth, limiter, validation, planning, the DO, D1, the ReplayGuard, KV)
 *                and a V8 CPU profile of the worker isolate under each write load;
 *   peer       — builds against the same job as a Cloudflare Workflow (bench/peer-workflows),
 *                interleaved on their own servers: unloaded p50/p95, server CPU per run, runs/s
 *                under load, a burst, fresh start → ready (scripts/lib/bench-peer.mjs; knobs
 *                BENCH_PEER_RUNS/CLIENTS/LOAD_S/BURST; `npm run bench:peer` runs it alone).
 *   devload    — issue 22: `npm start`'s dev server under a burst of builds with concurrent
 *                pollers, beside the peer: dropped/5xx, slowest request, wrangler's Node CPU per
 *                build, fresh start (scripts/lib/bench-devload.mjs; knobs BENCH_DEVLOAD_BURST/
 *                POLLERS; `npm run bench:devload` runs it alone).
 *
 * Knobs (env): BENCH_REPEAT=3 BENCH_DURATION_S=5 BENCH_CONNECTIONS=10 BENCH_WARMUP_S=1
 *   BENCH_SEED_BUILDS=50000 BENCH_DEEP_OFFSET=45000 BENCH_LATENCY_BUILDS=30 BENCH_BURST=500
 *   BENCH_SSE_SUBSCRIBERS=100 BENCH_MEMORY_EVENTS=10000 BENCH_MEMORY_EVENT_BYTES=2000
 *   BENCH_SECTIONS=throughput,latency,burst,sse,memory BENCH_VERBOSE=1 (echo wrangler output)
 */
import { randomBytes, randomUUID } from "node:crypto";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { mintUserToken } from "./lib/user-token.mjs";
import {
  BenchError,
  expectStatus,
  http,
  loadRun,
  median,
  percentile,
  readSse,
  rssSampler,
  sleep,
  standardWebhookHeaders,
  workerdPids,
  resentGets,
} from "./lib/bench-load.mjs";
import { withCpuProfile, withHeapSamples } from "./lib/bench-profile.mjs";
import { peerConfig, renderPeerTable, runPeerBench } from "./lib/bench-peer.mjs";
import { devLoadConfig, renderDevLoadTable, runDevLoadBench } from "./lib/bench-devload.mjs";
import { renderProfile, renderReport } from "./lib/bench-report.mjs";
import { cursorAfterSeeded, executeLocalSql, seedBuildsSql, seedEventsSql } from "./lib/bench-seed.mjs";
import { ROOT, applyLocalMigrations, freePort, startWranglerDev } from "./lib/wrangler.mjs";

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

const ALL_SECTIONS = ["throughput", "latency", "burst", "sse", "memory", "profile", "peer", "devload"];
const CFG = {
  repeat: intEnv("BENCH_REPEAT", 3, 1),
  durationS: intEnv("BENCH_DURATION_S", 5, 1),
  connections: intEnv("BENCH_CONNECTIONS", 10, 1),
  warmupS: intEnv("BENCH_WARMUP_S", 1, 0),
  seedBuilds: intEnv("BENCH_SEED_BUILDS", 50_000, 100),
  deepOffset: intEnv("BENCH_DEEP_OFFSET", 45_000, 1),
  latencyBuilds: intEnv("BENCH_LATENCY_BUILDS", 30, 1),
  burst: intEnv("BENCH_BURST", 500, 1),
  sseSubscribers: intEnv("BENCH_SSE_SUBSCRIBERS", 100, 1),
  memoryEvents: intEnv("BENCH_MEMORY_EVENTS", 10_000, 100),
  memoryEventBytes: intEnv("BENCH_MEMORY_EVENT_BYTES", 2000, 10),
  sections: (process.env.BENCH_SECTIONS ?? ALL_SECTIONS.join(","))
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean),
};
for (const s of CFG.sections) {
  if (!ALL_SECTIONS.includes(s)) {
    process.stderr.write(`error: unknown BENCH_SECTIONS entry "${s}" (known: ${ALL_SECTIONS.join(", ")})\n`);
    process.exit(2);
  }
}
CFG.deepOffset = Math.min(CFG.deepOffset, CFG.seedBuilds - 1);
const has = (s) => CFG.sections.includes(s);
const VERBOSE = process.env.BENCH_VERBOSE === "1";
const RESULTS_FILE = resolve(ROOT, process.env.BENCH_RESULTS_FILE ?? "bench-results.json");
const hex = (n) => randomBytes(n).toString("hex");
const REPO = "https://github.com/acme/bench";
const INTAKE = { must_not_break_flows: ["Checkout", "Login"], sensitive_data: ["pii"], scale_expectation: "high" };
const PROFILES = {
  static_v1: { autonomous_planner_profile: "static_v1" },
  adaptive: { autonomous_planner_profile: "adaptive_parallel_v1", project_intake: INTAKE },
};
const TERMINAL = new Set(["completed", "failed", "aborted"]);

// ---------------------------------------------------------------------------------------------
// Server and principals

const jwtSecret = hex(24);
const webhookSecret = `whsec_${randomBytes(32).toString("base64")}`;
let server = null;
let tempDir = null;
let inspectorPort = null;
let configPath = null;

/**
 * A snapshot of the worker's sources for `wrangler dev --config`: wrangler dev reloads the worker
 * when a watched file changes ("Your worker restarted mid-request"), and on a shared checkout
 * others edit files while the benchmark runs.
 */
function snapshotProject(dir) {
  const app = join(dir, "app");
  // scripts/: wrangler's build step writes the dashboard module from public/ (wrangler.toml [build]).
  for (const name of ["src", "public", "scripts", "migrations", "wrangler.toml", "package.json", "tsconfig.json"]) {
    if (existsSync(join(ROOT, name))) cpSync(join(ROOT, name), join(app, name), { recursive: true });
  }
  symlinkSync(join(ROOT, "node_modules"), join(app, "node_modules"), "dir");
  return join(app, "wrangler.toml");
}

/** Starts wrangler dev; `inspector` opens the DevTools port (memory and profile sections only). */
async function startServer(persistTo, envFile, { inspector = false } = {}) {
  const port = await freePort();
  const t0 = performance.now();
  inspectorPort = inspector ? await freePort() : null;
  server = await startWranglerDev({
    port,
    persistTo,
    envFile,
    logLevel: "warn",
    echo: VERBOSE,
    extraArgs: [
      ...(configPath ? ["--config", configPath] : []),
      ...(inspectorPort ? ["--inspector-port", String(inspectorPort)] : []),
    ],
    vars: {
      ENVIRONMENT: "test",
      JWT_SECRET: jwtSecret,
      STREAM_TOKEN_SECRET: hex(24),
      STANDARD_WEBHOOK_SECRETS: webhookSecret,
      RATE_LIMIT_WRITES_PER_MINUTE: "1000000",
      // What a create costs at saturation, not how admission control sheds it (its own tests and
      // the devload section): 10 autocannon connections must all be served.
      ADMISSION_MAX_IN_FLIGHT: "0",
    },
  });
  console.log(`wrangler dev ready at ${server.url} in ${Math.round(performance.now() - t0)} ms`);
  return server.url;
}

async function stopServer() {
  if (server) await server.stop().catch(() => {});
  server = null;
}

const tokenCache = new Map();
/** An operator token for `sub` (its own tenant: no org claim). */
async function token(sub) {
  if (!tokenCache.has(sub)) {
    tokenCache.set(sub, await mintUserToken(jwtSecret, { sub, roles: ["operator"] }));
  }
  return tokenCache.get(sub);
}

async function createBuild(base, tok, body) {
  const res = await http(base, "POST", "/v1/builds", { token: tok, body: { repo_url: REPO, ...body } });
  return expectStatus(res, 201, "POST /v1/builds");
}

async function waitTerminal(base, tok, id, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const b = expectStatus(await http(base, "GET", `/v1/builds/${id}`, { token: tok }), 200, `GET /v1/builds/${id}`);
    if (TERMINAL.has(b.status)) return b;
    if (Date.now() > deadline) throw new BenchError(`build ${id} still ${b.status} after ${timeoutMs} ms`);
    await sleep(5);
  }
}

/** Waits until `sub` has no running build (background ticks of a load run are over). */
async function quiesce(base, sub, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const page = expectStatus(
      await http(base, "GET", "/v1/builds?status=running&limit=1", { token: await token(sub) }),
      200,
      "GET /v1/builds?status=running",
    );
    if (page.items.length === 0) return;
    if (Date.now() > deadline) throw new BenchError(`${sub} still has running builds after ${timeoutMs} ms`);
    await sleep(100);
  }
}

async function historyOf(base, tok, id) {
  const items = [];
  let cursor = 0;
  for (;;) {
    const page = expectStatus(
      await http(base, "GET", `/v1/builds/${id}/events/history?cursor=${cursor}&limit=2000`, { token: tok }),
      200,
      "history",
    );
    items.push(...page.items);
    if (page.next_cursor === null) return items;
    cursor = page.next_cursor;
  }
}

// ---------------------------------------------------------------------------------------------
// Sections

async function unloadedBaseline(base) {
  for (let i = 0; i < 100; i++) await http(base, "GET", "/health");
  const samples = [];
  for (let i = 0; i < 300; i++) samples.push((await http(base, "GET", "/health")).ms);
  return { p50: percentile(samples, 50), p95: percentile(samples, 95) };
}

async function measure(base, req) {
  if (CFG.warmupS > 0) await loadRun(base, { ...req, connections: CFG.connections, durationS: CFG.warmupS });
  return loadRun(base, { ...req, connections: CFG.connections, durationS: CFG.durationS });
}

async function throughput(base, ctx, rep) {
  const reader = await token("bench-reader");
  const writer = await token("bench-writer");
  const idem = await token("bench-idem");
  const auth = (t) => ({ authorization: `Bearer ${t}` });
  const out = {};
  out.health = await measure(base, { path: "/health" });
  out.get_build = await measure(base, { path: `/v1/builds/${ctx.readBuildId}`, headers: auth(reader) });
  out.list_first = await measure(base, { path: "/v1/builds?limit=20", headers: auth(reader) });
  out.list_deep = await measure(base, {
    path: `/v1/builds?limit=20&cursor=${cursorAfterSeeded(CFG.seedBuilds - 1 - CFG.deepOffset)}`,
    headers: auth(reader),
  });
  const webhookBody = JSON.stringify({ type: "bench.event", data: { repo: REPO, n: 1 } });
  out.webhook = await measure(base, {
    method: "POST",
    path: "/v1/program/webhook/ingest",
    setup: () => ({ headers: standardWebhookHeaders(webhookSecret, webhookBody), body: webhookBody }),
  });
  const createBody = JSON.stringify({ repo_url: REPO, metadata: { ...PROFILES.static_v1, simulated_duration_ms: 0 } });
  const idemHeaders = {
    ...auth(idem),
    "content-type": "application/json",
    "idempotency-key": `bench-${rep}-${hex(4)}`,
  };
  const first = await http(base, "POST", "/v1/builds", { headers: idemHeaders, body: createBody });
  expectStatus(first, 201, "POST /v1/builds (first, idempotent)");
  const again = await http(base, "POST", "/v1/builds", { headers: idemHeaders, body: createBody });
  if (again.status !== 201 || again.headers.get("idempotent-replayed") !== "true")
    throw new BenchError(`idempotent replay: ${again.status} without Idempotent-Replayed`);
  out.idem_replay = await measure(base, { method: "POST", path: "/v1/builds", headers: idemHeaders, body: createBody });
  out.post_build = await measure(base, {
    method: "POST",
    path: "/v1/builds",
    headers: { ...auth(writer), "content-type": "application/json" },
    body: createBody,
  });
  const t0 = performance.now();
  await quiesce(base, "bench-writer");
  out.post_build.drain_ms = performance.now() - t0;
  return out;
}

async function latency(base) {
  const tok = await token("bench-latency");
  const out = {};
  for (const [name, metadata] of Object.entries(PROFILES)) {
    const runs = [];
    for (let i = 0; i < CFG.latencyBuilds + 3; i++) {
      const t0 = performance.now();
      const created = await createBuild(base, tok, { metadata: { ...metadata, simulated_duration_ms: 0 } });
      const createMs = performance.now() - t0;
      let b = created;
      while (!TERMINAL.has(b.status)) {
        await sleep(2);
        b = expectStatus(await http(base, "GET", `/v1/builds/${created.build_id}`, { token: tok }), 200, "GET build");
      }
      if (b.status !== "completed") throw new BenchError(`${name} build ${b.build_id} ended ${b.status}`);
      if (i < 3) continue; // warm-up
      runs.push({
        createMs,
        doneMs: performance.now() - t0,
        serverMs: Date.parse(b.updated_at) - Date.parse(b.created_at),
        levels: b.metadata.dag_levels.length,
      });
    }
    const done = runs.map((r) => r.doneMs);
    const levels = median(runs.map((r) => r.levels));
    const p50 = percentile(done, 50);
    out[name] = {
      levels,
      create_p50: percentile(
        runs.map((r) => r.createMs),
        50,
      ),
      done_p50: p50,
      done_p95: percentile(done, 95),
      server_p50: percentile(
        runs.map((r) => r.serverMs),
        50,
      ),
      server_p95: percentile(
        runs.map((r) => r.serverMs),
        95,
      ),
      per_level_ms:
        levels > 0
          ? (p50 -
              percentile(
                runs.map((r) => r.createMs),
                50,
              )) /
            levels
          : null,
    };
  }
  return out;
}

async function burst(base, rep) {
  const sub = `bench-burst-${rep}`;
  const tok = await token(sub);
  const body = { repo_url: REPO, metadata: { ...PROFILES.static_v1, simulated_duration_ms: 0 } };
  // Each create carries an Idempotency-Key, so a create the dev server dropped (under 500
  // simultaneous connections miniflare's proxy occasionally answers 503 "Your worker restarted
  // mid-request") is retried safely, as a production client would; the retries are reported.
  let retries = 0;
  const create = async (i) => {
    const headers = { authorization: `Bearer ${tok}`, "idempotency-key": `burst-${rep}-${i}-${hex(4)}` };
    for (let attempt = 1; ; attempt++) {
      let res;
      try {
        res = await http(base, "POST", "/v1/builds", { headers, body, timeoutMs: 120_000 });
      } catch (err) {
        if (attempt >= 3) throw err;
        retries++;
        continue;
      }
      const dropped = res.status === 503 && res.text.includes("restarted mid-request");
      if (!dropped || attempt >= 3) return res;
      retries++;
      await sleep(100);
    }
  };
  const t0 = performance.now();
  const t0Epoch = Date.now();
  const created = await Promise.all(Array.from({ length: CFG.burst }, (_, i) => create(i)));
  const createdMs = performance.now() - t0;
  if (VERBOSE)
    console.log(`burst: ${created.length} creates answered in ${createdMs.toFixed(0)} ms (${retries} retried)`);
  const rejected = created.filter((r) => r.status !== 201);
  if (rejected.length)
    throw new BenchError(
      `burst: ${rejected.length} creates failed, e.g. ${rejected[0].status} ${rejected[0].text.slice(0, 200)}`,
    );
  const ids = new Set(created.map((r) => r.json.build_id));
  const deadline = performance.now() + 120_000;
  let statuses = {};
  let doneMs = null;
  let detectedMs = null;
  while (performance.now() < deadline) {
    const seen = {};
    let lastFinished = 0;
    let cursor = null;
    try {
      do {
        // Under the burst a read can queue behind hundreds of D1 batches, and the dev proxy now and
        // then drops a request: a poll that takes over 10 s is retried (bounded by the deadline).
        // The figure does not depend on polling: it is the last build's finish time (its
        // updated_at, same machine clock) after the burst started.
        const page = expectStatus(
          await http(base, "GET", `/v1/builds?limit=200${cursor ? `&cursor=${cursor}` : ""}`, {
            token: tok,
            timeoutMs: 10_000,
          }),
          200,
          "list",
        );
        for (const b of page.items) {
          if (!ids.has(b.build_id)) continue;
          seen[b.status] = (seen[b.status] ?? 0) + 1;
          if (TERMINAL.has(b.status)) lastFinished = Math.max(lastFinished, Date.parse(b.updated_at));
        }
        cursor = page.next_cursor;
      } while (cursor);
    } catch (err) {
      if (!(err instanceof BenchError)) throw err;
      if (VERBOSE) console.log(`burst: poll failed (${err.message}); polling again`);
      continue;
    }
    statuses = seen;
    const terminal = Object.entries(statuses)
      .filter(([s]) => TERMINAL.has(s))
      .reduce((n, [, c]) => n + c, 0);
    if (VERBOSE) console.log(`burst: ${(performance.now() - t0).toFixed(0)} ms ${JSON.stringify(statuses)}`);
    if (terminal === ids.size) {
      detectedMs = performance.now() - t0;
      doneMs = lastFinished - t0Epoch;
      break;
    }
    await sleep(100);
  }
  const stuck =
    ids.size -
    Object.entries(statuses)
      .filter(([s]) => TERMINAL.has(s))
      .reduce((n, [, c]) => n + c, 0);
  // Every build's log: seq contiguous from 1, exactly one BUILD_FINISHED.
  let badLogs = 0;
  const list = [...ids];
  for (let i = 0; i < list.length; i += 25) {
    await Promise.all(
      list.slice(i, i + 25).map(async (id) => {
        const ev = await historyOf(base, tok, id);
        const contiguous = ev.every((e, k) => e.seq === k + 1);
        if (!contiguous || ev.filter((e) => e.event_type === "BUILD_FINISHED").length !== 1) badLogs++;
      }),
    );
  }
  return {
    builds: ids.size,
    created_ms: createdMs,
    all_terminal_ms: doneMs,
    detected_by_polling_ms: detectedMs,
    builds_per_s: doneMs ? ids.size / (doneMs / 1000) : null,
    stuck,
    completed: statuses.completed ?? 0,
    bad_logs: badLogs,
    create_retries: retries,
  };
}

async function sse(base) {
  const tok = await token("bench-sse");
  const chain = Array.from({ length: 8 }, (_, i) => ({
    node_id: `n${i + 1}`,
    title: `Step ${i + 1}`,
    agent: "scanner",
    depends_on: [`n${i}`],
  }));
  const build = await createBuild(base, tok, {
    dag: [{ node_id: "n0", title: "Hold", agent: "scanner", depends_on: [] }, ...chain],
    metadata: { simulated_duration_ms: 25, runner_results: { n0: { duration_ms: 2000 } } },
  });
  const subs = Array.from({ length: CFG.sseSubscribers }, () => ({ events: [], connected: false }));
  const connectedAt = [];
  // A subscribe is a GET: one the dev proxy never answers (upstream, docs/DECISIONS.md "The local dev
  // server") is sent again after 10 s without headers, as the dashboard's stream reconnects; counted.
  const subscribe = async () => {
    for (let attempt = 1; ; attempt++) {
      const ctl = new AbortController();
      const timer = setTimeout(() => ctl.abort(new Error("no answer")), 10_000);
      try {
        return await fetch(`${base}/v1/builds/${build.build_id}/events`, {
          headers: { authorization: `Bearer ${tok}` },
          signal: ctl.signal,
        });
      } catch (err) {
        if (attempt >= 3 || !ctl.signal.aborted) throw err;
        resentGets.count++;
      } finally {
        clearTimeout(timer);
      }
    }
  };
  const resent0 = resentGets.count;
  const streams = subs.map(async (s) => {
    const res = await subscribe();
    if (res.status !== 200) throw new BenchError(`SSE subscribe: HTTP ${res.status}`);
    connectedAt.push(Date.now());
    return readSse(res, {
      onEvent: (e, at) => s.events.push({ seq: e.seq, emitted: Date.parse(e.timestamp), received: at }),
      deadlineMs: 60_000,
    });
  });
  const results = await Promise.all(streams);
  const live = Math.max(...connectedAt);
  const history = await historyOf(base, tok, build.build_id);
  const expected = history.map((e) => e.seq).join(",");
  const complete = subs.filter((s) => s.events.map((e) => e.seq).join(",") === expected).length;
  const lat = subs.flatMap((s) => s.events.filter((e) => e.emitted >= live).map((e) => e.received - e.emitted));
  return {
    subscribers: subs.length,
    events: history.length,
    live_events: lat.length / subs.length,
    complete_subscribers: complete,
    ended: results.filter((r) => r.ended).length,
    p50_ms: percentile(lat, 50),
    p95_ms: percentile(lat, 95),
    max_ms: lat.length ? Math.max(...lat) : null,
    connect_spread_ms: live - Math.min(...connectedAt),
    resent_subscribes: resentGets.count - resent0,
  };
}

async function memory(base, ctx) {
  const tok = await token("bench-mem");
  const pids = workerdPids(server.pid);
  if (pids.length === 0) return { error: "workerd process not found (RSS needs Linux /proc)" };
  const id = ctx.memoryBuildId;
  const out = { events: ctx.memoryEvents, workerd_pids: pids.length };
  // One unmeasured pass of each: JIT, V8 heap and SQLite page cache warm-up is not the log.
  for (let c = 0; ; ) {
    const page = expectStatus(
      await http(base, "GET", `/v1/builds/${id}/events/history?cursor=${c}&limit=500`, { token: tok }),
      200,
      "history page",
    );
    if (page.next_cursor === null) break;
    c = page.next_cursor;
  }
  const warm = await readSse(
    await fetch(`${base}/v1/builds/${id}/events`, { headers: { authorization: `Bearer ${tok}` } }),
    { deadlineMs: 120_000 },
  );
  console.log(`memory: warm-up done (${(warm.bytes / 2 ** 20).toFixed(1)} MB streamed, ended ${warm.ended})`);
  await sleep(500);
  // Each phase: workerd RSS sampled from /proc, and the worker isolate's used JS heap (worker and
  // Durable Objects) sampled through the inspector after a full GC.
  const phase = async (work) => {
    const rss = rssSampler(pids);
    const t0 = performance.now();
    const { result, heap } = inspectorPort
      ? await withHeapSamples(inspectorPort, work)
      : { result: await work(), heap: null };
    return { ...result, ms: performance.now() - t0, rss: rss.stop(), heap };
  };
  out.paging = await phase(async () => {
    let bytes = 0;
    let events = 0;
    for (let cursor = 0; ; ) {
      const page = await http(base, "GET", `/v1/builds/${id}/events/history?cursor=${cursor}&limit=500`, {
        token: tok,
      });
      expectStatus(page, 200, "history page");
      bytes += Buffer.byteLength(page.text);
      events += page.json.items.length;
      if (page.json.next_cursor === null) break;
      cursor = page.json.next_cursor;
    }
    return { bytes, events };
  });
  console.log(`memory: paging ${out.paging.events} events in ${out.paging.ms.toFixed(0)} ms`);
  // SSE, a fast reader then a slow one (10 ms pause per chunk): a server that buffered the log for
  // a slow client would show it.
  for (const [name, slowMs] of [
    ["sse_fast", 0],
    ["sse_slow", 10],
  ]) {
    await sleep(500);
    out[name] = await phase(async () => {
      let events = 0;
      const res = await fetch(`${base}/v1/builds/${id}/events`, { headers: { authorization: `Bearer ${tok}` } });
      const r = await readSse(res, { slowMs, onEvent: () => events++, deadlineMs: 120_000 });
      return { bytes: r.bytes, events, ended: r.ended };
    });
    console.log(`memory: ${name} ${out[name].events} events in ${out[name].ms.toFixed(0)} ms`);
  }
  return out;
}

/**
 * Cost-per-request ladders: each step adds one layer to the previous one, so the increase of
 * 1000/(req/s) (workerd is CPU-bound on these machines) is what that layer costs.
 */
async function profile(base, ctx) {
  const reader = await token("bench-reader");
  const writer = await token("bench-prof-writer");
  const auth = (t) => ({ authorization: `Bearer ${t}` });
  const json = { "content-type": "application/json" };
  const createBody = JSON.stringify({ repo_url: REPO, metadata: { ...PROFILES.static_v1, simulated_duration_ms: 0 } });
  const hookBody = JSON.stringify({ type: "bench.event", data: { repo: REPO, n: 1 } });
  const replayed = standardWebhookHeaders(webhookSecret, hookBody);
  expectStatus(
    await http(base, "POST", "/v1/program/webhook/ingest", { headers: replayed, body: hookBody }),
    200,
    "webhook (replay seed)",
  );
  const wrongSecret = `whsec_${randomBytes(32).toString("base64")}`;
  const ladders = {
    "GET /v1/builds/{id}": [
      ["GET /health (routing, headers)", { path: "/health" }],
      [
        "+ bearer rejected (401)",
        { path: `/v1/builds/${ctx.readBuildId}`, headers: { authorization: "Bearer x.y.z" } },
      ],
      [
        "+ JWT verified, the build runner's view of its last commit, 200",
        { path: `/v1/builds/${ctx.readBuildId}`, headers: auth(reader) },
      ],
      [
        "(a build no runner knows: D1 read of the view, 404)",
        { path: "/v1/builds/00000000-0000-4000-8000-ffffffffffff", headers: auth(reader) },
      ],
    ],
    "POST /v1/builds": [
      [
        "POST {} → 422 (JWT, rate limiter DO, validation)",
        { method: "POST", path: "/v1/builds", headers: { ...auth(writer), ...json }, body: "{}" },
      ],
      [
        "+ planning: POST /v1/builds/preview-dag",
        { method: "POST", path: "/v1/builds/preview-dag", headers: { ...auth(writer), ...json }, body: createBody },
      ],
      [
        "+ runner DO created, D1 create batch; tick batch after",
        { method: "POST", path: "/v1/builds", headers: { ...auth(writer), ...json }, body: createBody },
      ],
      // The floor of one new Durable Object per build: the same 404 read, on a new id each request.
      [
        "(GET of an unknown build: its runner DO asked, D1 read, 404)",
        { path: "/v1/builds/00000000-0000-4000-8000-ffffffffffff", headers: auth(reader) },
      ],
      [
        "(the same on a new id per request: + a new runner DO)",
        { path: "/v1/builds/x", headers: auth(reader), setup: () => ({ path: `/v1/builds/${randomUUID()}` }) },
      ],
    ],
    "POST webhook ingest": [
      [
        "no signature headers → 400 (IP rate limiter; rejection counter to D1)",
        { method: "POST", path: "/v1/program/webhook/ingest", headers: json, body: hookBody },
      ],
      [
        "+ body read, HMAC → 401 (wrong secret)",
        {
          method: "POST",
          path: "/v1/program/webhook/ingest",
          setup: () => ({ headers: standardWebhookHeaders(wrongSecret, hookBody), body: hookBody }),
        },
      ],
      [
        "+ SHA-256 key, KV fast reject → 409 (replay)",
        { method: "POST", path: "/v1/program/webhook/ingest", headers: replayed, body: hookBody },
      ],
      [
        "+ ReplayGuard claim, DeliveryWriter group commit → 200 (no counter)",
        {
          method: "POST",
          path: "/v1/program/webhook/ingest",
          setup: () => ({ headers: standardWebhookHeaders(webhookSecret, hookBody), body: hookBody }),
        },
      ],
    ],
  };
  const out = { ladders: {}, cpu: {} };
  for (const [name, steps] of Object.entries(ladders)) {
    out.ladders[name] = [];
    for (const [label, req] of steps) {
      const r = await loadRun(base, {
        ...req,
        connections: CFG.connections,
        durationS: Math.max(2, Math.min(CFG.durationS, 3)),
        expect2xx: false,
      });
      out.ladders[name].push({ step: label, rps: r.rps, ms_per_request: 1000 / r.rps, p50: r.p50 });
    }
  }
  await quiesce(base, "bench-prof-writer");
  out.requests = ladders;
  return out;
}

/**
 * CPU profiles of the worker isolate under each write load, on a server started with the
 * inspector. Bounded: on a loaded machine an inspector session has made workerd balloon and stall,
 * so a profile that takes longer than 60 s is reported as unavailable instead of hanging the bench.
 */
async function cpuProfiles(base, ladders) {
  const cpu = {};
  for (const [name, steps] of Object.entries(ladders)) {
    // The full request of the ladder: its last step that is not a side note "(…)".
    const req = steps.findLast(([label]) => !label.startsWith("("))[1];
    try {
      const run = withCpuProfile(inspectorPort, () =>
        loadRun(base, { ...req, connections: CFG.connections, durationS: 3 }),
      );
      const { summary } = await Promise.race([
        run,
        sleep(60_000).then(() => {
          throw new BenchError("timed out");
        }),
      ]);
      cpu[name] = summary;
    } catch (err) {
      cpu[name] = { error: `CPU profile unavailable: ${err?.message ?? err}` };
      break;
    }
  }
  return cpu;
}

// ---------------------------------------------------------------------------------------------
// Main

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
    load_avg: os.loadavg().map((x) => Number(x.toFixed(2))),
    wrangler,
  };
}

async function main() {
  const env = environment();
  const started = performance.now();
  console.log(
    `bench — node ${env.node}, ${env.cpu_count} CPUs (${env.cpu_model}), load ${env.load_avg.join("/")}, wrangler ${env.wrangler}`,
  );
  console.log(`config: ${JSON.stringify(CFG)}`);
  tempDir = mkdtempSync(join(os.tmpdir(), "clarity-bench-"));
  const persistTo = join(tempDir, "state");
  const envFile = join(tempDir, "bench.env");
  writeFileSync(envFile, "# intentionally empty: the benchmark passes its settings with --var\n");
  configPath = snapshotProject(tempDir);
  await applyLocalMigrations({ persistTo });
  if (has("throughput")) {
    const t0 = performance.now();
    await executeLocalSql({ persistTo, dir: tempDir, sql: seedBuildsSql("bench-reader", CFG.seedBuilds) });
    console.log(`seeded ${CFG.seedBuilds} builds in ${Math.round(performance.now() - t0)} ms`);
  }
  let base = await startServer(persistTo, envFile);
  const ctx = {};
  if (has("memory")) {
    // A real build (its DO serves the stream), then its log padded to N events while no server runs.
    const tok = await token("bench-mem");
    const b = await createBuild(base, tok, { metadata: { ...PROFILES.static_v1, simulated_duration_ms: 0 } });
    await waitTerminal(base, tok, b.build_id);
    const own = (await historyOf(base, tok, b.build_id)).length;
    await stopServer();
    await executeLocalSql({
      persistTo,
      dir: tempDir,
      sql: seedEventsSql(b.build_id, own + 1, CFG.memoryEvents, CFG.memoryEventBytes),
    });
    ctx.memoryBuildId = b.build_id;
    ctx.memoryEvents = CFG.memoryEvents;
    console.log(
      `memory build ${b.build_id}: ${own} real events + ${CFG.memoryEvents - own} padded events of ~${CFG.memoryEventBytes} bytes`,
    );
    base = await startServer(persistTo, envFile, { inspector: true });
  }
  if (has("throughput")) {
    const b = await createBuild(base, await token("bench-reader"), {
      metadata: { ...PROFILES.static_v1, simulated_duration_ms: 0 },
    });
    await waitTerminal(base, await token("bench-reader"), b.build_id);
    ctx.readBuildId = b.build_id;
  }

  // Memory first, on a fresh server: an inspector session attached to an isolate that has run the
  // heavy sections made workerd balloon (GBs) and stall. The server is restarted after it, so the
  // timed sections never run with a debugger having been attached.
  const mem = has("memory") ? await memory(base, ctx) : null;
  if (mem) {
    await stopServer();
    base = await startServer(persistTo, envFile);
  }
  const repeats = [];
  for (let rep = 1; rep <= CFG.repeat; rep++) {
    const r = { baseline: await unloadedBaseline(base) };
    console.log(`[${rep}/${CFG.repeat}] unloaded GET /health p50 ${r.baseline.p50.toFixed(2)} ms`);
    if (has("throughput")) {
      r.throughput = await throughput(base, ctx, rep);
      const t = r.throughput;
      console.log(
        `[${rep}/${CFG.repeat}] req/s: health ${t.health.rps.toFixed(0)}, get ${t.get_build.rps.toFixed(0)}, list ${t.list_first.rps.toFixed(0)}/${t.list_deep.rps.toFixed(0)}, post ${t.post_build.rps.toFixed(0)}, webhook ${t.webhook.rps.toFixed(0)}, replay ${t.idem_replay.rps.toFixed(0)}`,
      );
    }
    if (has("latency")) {
      r.latency = await latency(base);
      console.log(
        `[${rep}/${CFG.repeat}] create→completed p50: ${Object.entries(r.latency)
          .map(([k, v]) => `${k} ${v.done_p50.toFixed(1)} ms`)
          .join(", ")}`,
      );
    }
    if (has("burst")) {
      r.burst = await burst(base, rep);
      console.log(
        `[${rep}/${CFG.repeat}] burst: ${r.burst.builds} builds terminal in ${r.burst.all_terminal_ms?.toFixed(0)} ms (seen by polling at ${r.burst.detected_by_polling_ms?.toFixed(0)} ms), stuck ${r.burst.stuck}, bad logs ${r.burst.bad_logs}`,
      );
    }
    if (has("sse")) {
      r.sse = await sse(base);
      console.log(
        `[${rep}/${CFG.repeat}] sse: ${r.sse.complete_subscribers}/${r.sse.subscribers} complete, p95 ${r.sse.p95_ms} ms, ${r.sse.resent_subscribes} subscribes sent again`,
      );
    }
    repeats.push(r);
  }
  let prof = null;
  if (has("profile") && has("throughput")) {
    prof = await profile(base, ctx);
    await stopServer();
    base = await startServer(persistTo, envFile, { inspector: true });
    prof.cpu = await cpuProfiles(base, prof.requests);
    delete prof.requests;
  }
  let peer = null;
  if (has("peer")) {
    await stopServer(); // the peer section starts its own servers, one at a time
    peer = await runPeerBench({ ...peerConfig(process.env), repeat: CFG.repeat });
  }
  let devload = null;
  if (has("devload")) {
    await stopServer(); // the devload section starts its own servers, one at a time
    devload = await runDevLoadBench(devLoadConfig(process.env));
  }
  const report = renderReport({ repeats, memory: mem, cfg: CFG });
  console.log(`\n${report.text}`);
  if (peer)
    console.log(
      `\nPeer: this project against the same job as a Cloudflare Workflow (medians; ratio = project ÷ peer)\n\n${renderPeerTable(peer)}`,
    );
  if (devload)
    console.log(
      `\nDevload (issue 22): npm start's dev server under a burst with pollers, requests sent once\n\n${renderDevLoadTable(devload)}`,
    );
  if (prof) console.log(`\n${renderProfile(prof)}`);
  const results = {
    generated_at: new Date().toISOString(),
    environment: env,
    config: CFG,
    duration_s: Number(((performance.now() - started) / 1000).toFixed(1)),
    rows: report.rows,
    targets: report.targets,
    peer,
    devload,
    memory: mem,
    profile: prof,
    repeats,
  };
  writeFileSync(RESULTS_FILE, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`\nwrote ${RESULTS_FILE} (total ${results.duration_s} s)`);
}

let interrupted = null;
async function cleanup() {
  await stopServer();
  if (tempDir) rmSync(tempDir, { recursive: true, force: true });
}
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.on(signal, async () => {
    if (interrupted) return;
    interrupted = signal;
    process.stderr.write(`\n${signal}: stopping wrangler…\n`);
    await cleanup();
    process.exit(130);
  });
}

let exitCode = 0;
try {
  await main();
} catch (err) {
  exitCode = 1;
  if (!interrupted)
    process.stderr.write(`\nbench failed: ${err instanceof BenchError ? err.message : (err?.stack ?? err)}\n`);
} finally {
  await cleanup();
}
process.exit(exitCode);
