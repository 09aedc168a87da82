/**
 * The peer section of `npm run bench` (issue 19): this project's builds against the same job as a
 * Cloudflare Workflow (bench/peer-workflows: one instance per run, one `step.do` per node, the
 * nodes of a level in parallel), both served by the same wrangler/workerd on loopback, measured
 * interleaved so the machine's noise hits both. Each repeat starts both servers on fresh state, one
 * after the other (the start-up figure), then measures:
 *
 *   unloaded   create→completed p50/p95 of static_v1 and adaptive_parallel_v1 shapes, completion
 *              observed by polling every 5 ms, one run at a time alternating between the servers
 *              (project, peer, peer, project, …; the project also through its SSE stream);
 *   cpu        process CPU time of the server's whole process tree (wrangler's Node process and
 *              workerd) ÷ runs, over the unloaded runs and over the load run;
 *   load       completed runs/s with CLIENTS closed-loop clients (create, poll until terminal) for
 *              LOAD_S seconds, one server at a time (the first one alternating between repeats);
 *   burst      BURST runs created at once → time until all are terminal (polling), runs/s;
 *   start      fresh start → ready: everything that runs at start (the project: wrangler and its
 *              migrations, applied by the worker as under `npm start`; the peer: wrangler) until
 *              GET /health answers 200.
 *
 * Both servers run as `npm start` runs the project: wrangler's dev server with the inspector off
 * (scripts/lib/dev-server.mjs), each in a process group of its own.
 *
 * The DAG shapes come from the project's own planner (POST /v1/builds/preview-dag), so the peer
 * runs exactly the levels a build runs.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import {
  BenchError,
  expectStatus,
  http,
  intKnob,
  median,
  percentile,
  readSse,
  resentGets,
  renderTargetTable,
  sleep,
} from "./bench-load.mjs";
import { mintUserToken } from "./user-token.mjs";
import { ROOT, freePort, groupProcesses, startWranglerDev } from "./wrangler.mjs";

const TERMINAL_PROJECT = new Set(["completed", "failed", "aborted"]);
const TERMINAL_PEER = new Set(["complete", "errored", "terminated"]);
const INTAKE = { must_not_break_flows: ["Checkout", "Login"], sensitive_data: ["pii"], scale_expectation: "high" };
const SHAPES = {
  static_v1: { autonomous_planner_profile: "static_v1" },
  adaptive: { autonomous_planner_profile: "adaptive_parallel_v1", project_intake: INTAKE },
};
const PEER_CONFIG = resolve(ROOT, "bench", "peer-workflows", "wrangler.toml");

/** CPU ms (user + system) of every process in process group `pgid`. */
function groupCpuMs(pgid) {
  return groupProcesses(pgid).reduce((sum, p) => sum + p.cpuMs, 0);
}

/**
 * CPU ms of every thread of every process in group `pgid`, to the nanosecond (the scheduler's
 * run time, /proc/<pid>/task/<tid>/schedstat): /proc/<pid>/stat counts in 10 ms ticks, too
 * coarse around a single run.
 */
function groupCpuPreciseMs(pgid) {
  let ns = 0;
  for (const { pid } of groupProcesses(pgid)) {
    let tasks = [];
    try {
      tasks = readdirSync(`/proc/${pid}/task`);
    } catch {
      continue; // exited meanwhile
    }
    for (const tid of tasks) {
      try {
        ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[0]);
      } catch {
        // the thread exited meanwhile
      }
    }
  }
  return ns / 1e6;
}

/** One side of the comparison: how to create a run and read whether it is terminal. */
function projectSide(base, token) {
  return {
    name: "project",
    async create(shape) {
      const res = await http(base, "POST", "/v1/builds", {
        token,
        body: { repo_url: "https://github.com/acme/bench", metadata: { ...SHAPES[shape], simulated_duration_ms: 0 } },
      });
      return expectStatus(res, 201, "POST /v1/builds").build_id;
    },
    async terminal(id) {
      const b = expectStatus(await http(base, "GET", `/v1/builds/${id}`, { token }), 200, "GET /v1/builds/{id}");
      if (TERMINAL_PROJECT.has(b.status) && b.status !== "completed")
        throw new BenchError(`build ${id} ended ${b.status}`);
      return TERMINAL_PROJECT.has(b.status);
    },
  };
}

function peerSide(base, levels) {
  return {
    name: "peer",
    async create(shape) {
      return expectStatus(await http(base, "POST", "/runs", { body: { levels: levels[shape] } }), 201, "POST /runs").id;
    },
    async terminal(id) {
      const r = expectStatus(await http(base, "GET", `/runs/${id}`), 200, "GET /runs/{id}");
      if (TERMINAL_PEER.has(r.status) && r.status !== "complete")
        throw new BenchError(`workflow ${id} ended ${r.status}`);
      return TERMINAL_PEER.has(r.status);
    },
  };
}

async function untilTerminal(side, id, pollMs, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await side.terminal(id))) {
    if (Date.now() > deadline) throw new BenchError(`${side.name} run ${id} not terminal after ${timeoutMs} ms`);
    await sleep(pollMs);
  }
}

/**
 * Sequential runs, interleaved across the sides (project run, peer run, peer run, project run, …:
 * the order flips each round, so neither side always runs right after the other): create, poll
 * every 5 ms until terminal. Both servers are up; each run's time and its own server's CPU are
 * taken around that run alone, so drift of the machine's speed hits both sides alike. Returns
 * p50/p95 and CPU per run for each side.
 * @param {{ side: ReturnType<typeof projectSide>, pgid: number }[]} entries
 */
async function unloaded(entries, shape, runs) {
  for (let i = 0; i < 3; i++) for (const { side } of entries) await untilTerminal(side, await side.create(shape), 5);
  const acc = entries.map(() => ({ ms: [], cpu: 0 }));
  for (let i = 0; i < runs; i++) {
    const order = i % 2 === 0 ? entries.map((_, k) => k) : entries.map((_, k) => entries.length - 1 - k);
    for (const k of order) {
      const { side, pgid } = entries[k];
      const cpu0 = groupCpuPreciseMs(pgid);
      const t0 = performance.now();
      await untilTerminal(side, await side.create(shape), 5);
      acc[k].ms.push(performance.now() - t0);
      acc[k].cpu += groupCpuPreciseMs(pgid) - cpu0;
    }
  }
  return acc.map((a) => ({ p50: percentile(a.ms, 50), p95: percentile(a.ms, 95), cpu_per_run_ms: a.cpu / runs }));
}

/** The project's completion as its SSE stream shows it (create, then stream until BUILD_FINISHED). */
async function unloadedSse(base, token, shape, runs) {
  const side = projectSide(base, token);
  const one = async () => {
    const t0 = performance.now();
    const id = await side.create(shape);
    const res = await fetch(`${base}/v1/builds/${id}/events`, {
      headers: { authorization: `Bearer ${token}`, accept: "text/event-stream" },
      signal: AbortSignal.timeout(30_000),
    });
    if (res.status !== 200) throw new BenchError(`SSE of ${id}: ${res.status}`);
    let finished = false;
    await readSse(res, { deadlineMs: 30_000, until: (e) => (finished = e.event_type === "BUILD_FINISHED") });
    if (!finished) throw new BenchError(`SSE of ${id} ended without BUILD_FINISHED`);
    return performance.now() - t0;
  };
  for (let i = 0; i < 3; i++) await one();
  const ms = [];
  for (let i = 0; i < runs; i++) ms.push(await one());
  return { p50: percentile(ms, 50), p95: percentile(ms, 95) };
}

/** `clients` closed-loop clients for `seconds`: completed runs/s and CPU per completed run. */
async function load(side, pgid, clients, seconds) {
  const cpu0 = groupCpuMs(pgid);
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  let completed = 0;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (performance.now() < end) {
        await untilTerminal(side, await side.create("static_v1"), 20);
        if (performance.now() <= end) completed++;
      }
    }),
  );
  const elapsed = (performance.now() - t0) / 1000;
  return {
    runs_per_s: completed / seconds,
    cpu_per_run_ms: (groupCpuMs(pgid) - cpu0) / Math.max(1, completed),
    elapsed_s: elapsed,
  };
}

/**
 * `n` runs created at once; time until all are terminal. 20 pollers share the open runs: each
 * takes the next one from a queue, polls it once, and puts it back at the end unless it is
 * terminal (so every run is polled in turn, none by two pollers at once).
 */
async function burst(side, n) {
  const t0 = performance.now();
  const ids = await Promise.all(Array.from({ length: n }, () => side.create("static_v1")));
  const queue = [...ids];
  let open = ids.length;
  const deadline = Date.now() + 180_000;
  await Promise.all(
    Array.from({ length: 20 }, async () => {
      while (open > 0) {
        const id = queue.shift();
        if (id === undefined) {
          await sleep(20); // the other pollers hold the open runs
          continue;
        }
        if (await side.terminal(id)) open--;
        else {
          queue.push(id);
          await sleep(20);
        }
        if (Date.now() > deadline) throw new BenchError(`${open} ${side.name} runs not terminal after 180 s`);
      }
    }),
  );
  const ms = performance.now() - t0;
  return { all_terminal_ms: ms, runs_per_s: n / (ms / 1000) };
}

async function startSide(name, dir, secret) {
  const persistTo = join(dir, `${name}-state`);
  const envFile = join(dir, "empty.env");
  writeFileSync(envFile, "# settings come from --var\n");
  const port = await freePort();
  const t0 = performance.now();
  let server;
  if (name === "project") {
    server = await startWranglerDev({
      port,
      persistTo,
      envFile,
      logLevel: "warn",
      inspector: false,
      extraArgs: ["--dev-migrations"],
      vars: {
        ENVIRONMENT: "test",
        JWT_SECRET: secret,
        STREAM_TOKEN_SECRET: randomBytes(24).toString("hex"),
        RATE_LIMIT_WRITES_PER_MINUTE: "1000000",
      },
    });
  } else {
    server = await startWranglerDev({
      port,
      persistTo,
      envFile,
      logLevel: "warn",
      inspector: false,
      extraArgs: ["--config", PEER_CONFIG],
    });
  }
  return { server, start_ms: performance.now() - t0 };
}

/**
 * Runs the peer comparison `cfg.repeat` times, interleaved. Returns per-figure medians of both
 * sides and the rows to print.
 * @param {{ repeat: number, runs: number, clients: number, loadS: number, burst: number, log?: (s: string) => void }} cfg
 */
export async function runPeerBench(cfg) {
  const log = cfg.log ?? ((s) => console.log(s));
  const dir = mkdtempSync(join(os.tmpdir(), "clarity-bench-peer-"));
  const secret = randomBytes(24).toString("hex");
  const token = await mintUserToken(secret, { sub: "bench-peer", roles: ["operator"] });
  const samples = { project: [], peer: [] };
  try {
    // The shapes as the project plans them (node ids per level), from one throw-away server.
    const levels = {};
    const plan = (await startSide("project", mkdtempSync(join(dir, "plan-")), secret)).server;
    try {
      for (const shape of Object.keys(SHAPES)) {
        const body = { repo_url: "https://github.com/acme/bench", metadata: SHAPES[shape] };
        levels[shape] = expectStatus(
          await http(plan.url, "POST", "/v1/builds/preview-dag", { token, body }),
          200,
          "preview-dag",
        ).dag_levels;
      }
    } finally {
      await plan.stop();
    }
    for (let rep = 1; rep <= cfg.repeat; rep++) {
      // Started one after the other (each start-up timed alone), then measured side by side.
      const up = [];
      try {
        for (const name of ["project", "peer"]) {
          const { server, start_ms } = await startSide(name, mkdtempSync(join(dir, `${rep}-`)), secret);
          const side = name === "project" ? projectSide(server.url, token) : peerSide(server.url, levels);
          up.push({ name, server, side, pgid: server.pid, r: { start_ms } });
        }
        for (const shape of Object.keys(SHAPES)) {
          const res = await unloaded(up, shape, cfg.runs);
          up.forEach((u, k) => {
            u.r[`unloaded_${shape}`] = res[k];
          });
        }
        const project = up[0];
        project.r.sse_static_v1 = await unloadedSse(project.server.url, token, "static_v1", cfg.runs);
        // Load and burst need the machine to themselves: one side at a time, the first side alternating.
        for (const u of rep % 2 === 1 ? up : [...up].reverse()) {
          const resent0 = resentGets.count;
          u.r.load = await load(u.side, u.pgid, cfg.clients, cfg.loadS);
          u.r.burst = await burst(u.side, cfg.burst);
          u.r.resent_gets = resentGets.count - resent0;
        }
        for (const { name, r } of up) {
          samples[name].push(r);
          log(
            `[peer ${rep}/${cfg.repeat}] ${name}: start ${r.start_ms.toFixed(0)} ms, static_v1 p50 ${r.unloaded_static_v1.p50.toFixed(1)} ms, ` +
              `cpu/run ${r.unloaded_static_v1.cpu_per_run_ms.toFixed(1)} ms (load ${r.load.cpu_per_run_ms.toFixed(1)}), ` +
              `${r.load.runs_per_s.toFixed(1)} runs/s, burst ${r.burst.runs_per_s.toFixed(1)} runs/s, ` +
              `${r.resent_gets} GETs unanswered in 5 s and sent again`,
          );
        }
      } finally {
        for (const { server } of up) await server.stop();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return peerRows(samples);
}

const med = (list, pick) => median(list.map(pick));

/** The table: project, peer, ratio (project ÷ peer), target and PASS/MISS, on medians of the repeats. */
export function peerRows(samples) {
  const p = samples.project;
  const q = samples.peer;
  const rows = [];
  // lower: smaller is better (ratio ≤ max); higher: bigger is better (ratio ≥ min).
  const add = (figure, unit, pick, { lower = true, max, min } = {}) => {
    const a = med(p, pick);
    const b = med(q, pick);
    const ratio = a / b;
    let result = "";
    if (max !== undefined) result = ratio <= max ? "PASS" : "MISS";
    if (min !== undefined) result = ratio >= min ? "PASS" : "MISS";
    const target = max !== undefined ? `≤ ${max}× peer` : min !== undefined ? `≥ ${min}× peer` : "";
    rows.push({ figure, unit, project: a, peer: b, ratio, target, result, lower });
  };
  for (const shape of Object.keys(SHAPES)) {
    add(`unloaded create→completed p50, ${shape} (polling)`, "ms", (r) => r[`unloaded_${shape}`].p50, { max: 1.0 });
    add(`unloaded create→completed p95, ${shape} (polling)`, "ms", (r) => r[`unloaded_${shape}`].p95);
  }
  add("server CPU per run, unloaded (static_v1)", "ms", (r) => r.unloaded_static_v1.cpu_per_run_ms, { max: 1.0 });
  add("server CPU per run, under load", "ms", (r) => r.load.cpu_per_run_ms, { max: 1.0 });
  add("completed runs/s, closed-loop clients", "runs/s", (r) => r.load.runs_per_s, { lower: false, min: 1.0 });
  add("burst: all terminal", "ms", (r) => r.burst.all_terminal_ms);
  add("burst: runs/s", "runs/s", (r) => r.burst.runs_per_s, { lower: false, min: 1.0 });
  add("fresh start → ready", "ms", (r) => r.start_ms, { max: 2.0 });
  // The project's SSE-observed completion against its own polling p50.
  const sse = med(p, (r) => r.sse_static_v1.p50);
  const poll = med(p, (r) => r.unloaded_static_v1.p50);
  rows.push({
    figure: "project: SSE-observed p50 ÷ its polling p50 (static_v1)",
    unit: "ms",
    project: sse,
    peer: null,
    ratio: sse / poll,
    target: "≤ 1.2× own polling",
    result: sse / poll <= 1.2 ? "PASS" : "MISS",
    lower: true,
  });
  return rows;
}

/** Renders the peer rows as a fixed-width table. */
export function renderPeerTable(rows) {
  const fmt = (v) => (v === null || v === undefined ? "" : v >= 100 ? v.toFixed(0) : v.toFixed(1));
  const head = ["figure", "unit", "project", "peer", "ratio", "target", "result"];
  const body = rows.map((r) => [
    r.figure,
    r.unit,
    fmt(r.project),
    fmt(r.peer),
    `${r.ratio.toFixed(2)}×`,
    r.target,
    r.result,
  ]);
  return renderTargetTable(
    head,
    body,
    rows.map((r) => r.result),
    "peer",
    new Set([2, 3, 4]),
  );
}

/** The section's knobs from the environment (BENCH_REPEAT, BENCH_PEER_*). */
export function peerConfig(env) {
  return {
    repeat: intKnob(env, "BENCH_REPEAT", 3),
    runs: intKnob(env, "BENCH_PEER_RUNS", 20),
    clients: intKnob(env, "BENCH_PEER_CLIENTS", 20),
    loadS: intKnob(env, "BENCH_PEER_LOAD_S", 20),
    burst: intKnob(env, "BENCH_PEER_BURST", 200),
  };
}
