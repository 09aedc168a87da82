/**
 * Issue 22's targets for `npm run bench` (section "devload"; alone with `npm run bench:devload`):
 * the local embedded default — `npm start`'s dev server (wrangler's programmatic dev server with
 * the inspector off, quiet log level, the worker applying its own migrations) — under a burst of
 * BURST builds created at once while POLLERS clients poll, as the dashboard polls it. The same
 * burst runs against the Workflows peer (bench/peer-workflows) behind the same wrangler.
 *
 * Every request is sent once (no retry: what the server does, not what a client hides) with a
 * 30 s deadline and recorded: a network error or missed deadline counts as dropped, a 5xx as a
 * 5xx, and the slowest answer is the latency figure. Two explicit answers are the exceptions, and
 * the bench then acts as the project's clients do (public/app/api.js), recording every attempt:
 * - 429 `overloaded` with Retry-After (the project's admission control): the create is sent again
 *   after the delay;
 * - wrangler's dev proxy's `503 Your worker restarted mid-request` (Retry-After: 0) to a create:
 *   the proxy lost its pooled connection to the runtime (docs/DECISIONS.md "Admission control",
 *   the resets that remain; scripts/repro-dev-proxy-reset.mjs), so the create is sent again at once
 *   with the same Idempotency-Key, which makes the second attempt the same request, never a second
 *   build. Such an answer is counted apart ("dev-proxy resets retried"), not as a 5xx; one the
 *   client could not send again (the peer's creates carry no key) stays a 5xx.
 * Figures per side: requests, dropped, 5xx, proxy resets retried, refused, slowest, answers over
 * 2 s, CPU per build of wrangler's Node process (the dev proxy's host) and of the whole process
 * tree, and fresh start → ready.
 *
 * Targets (issue 22 item 4): the project's burst has 0 dropped or 5xx requests and none slower
 * than 2 s; wrangler's Node process CPU per build ≤ 2× the peer's; fresh start ≤ 2× the peer's.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { intKnob, renderTargetTable, retryAfterMs } from "./bench-load.mjs";
import { mintUserToken } from "./user-token.mjs";
import { ROOT, freePort, groupProcesses, startWranglerDev } from "./wrangler.mjs";

const DEADLINE_MS = 30_000;
const SLOW_MS = 2_000;
/** How wrangler's dev proxy answers a request whose connection to the runtime it lost. */
const PROXY_RESET = "Your worker restarted mid-request";
/** A create gives up after this many answers that asked it to come back (a gate that never admits is a bug). */
const MAX_RESENDS = 100;
const PEER_CONFIG = resolve(ROOT, "bench", "peer-workflows", "wrangler.toml");
const LEVELS = [["n0"], ["n1"], ["n2"], ["n3"]];

/** One request, sent once; its outcome is recorded in `log`. */
async function send(log, base, method, path, { token, body, key = randomUUID() } = {}) {
  const t0 = performance.now();
  try {
    const res = await fetch(base + path, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body ? { "content-type": "application/json", "idempotency-key": key } : {}),
      },
      body: body ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(DEADLINE_MS),
    });
    const text = await res.text().catch(() => "");
    let json = null;
    try {
      json = JSON.parse(text);
    } catch {}
    const detail = res.status >= 500 ? `${res.status} ${method} ${(json?.code ?? text).slice(0, 160)}` : undefined;
    const entry = { ms: performance.now() - t0, status: res.status, method, detail };
    log.push(entry);
    const proxyReset = res.status === 503 && text.startsWith(PROXY_RESET);
    return { status: res.status, json, headers: res.headers, proxyReset, entry };
  } catch (err) {
    log.push({ ms: performance.now() - t0, status: 0, method, error: String(err?.cause?.code ?? err?.name ?? err) });
    return { status: 0, json: null };
  }
}

/** Node processes (wrangler) and all processes of the server's group: CPU ms. */
function cpuOf(pgid) {
  const procs = groupProcesses(pgid);
  return {
    node: procs.filter((p) => p.comm === "node").reduce((s, p) => s + p.cpuMs, 0),
    all: procs.reduce((s, p) => s + p.cpuMs, 0),
  };
}

/** A dev server as `npm start` runs one (inspector off, quiet), on fresh state in `dir`. */
async function startDev(dir, extraArgs, vars) {
  const envFile = join(dir, "empty.env");
  writeFileSync(envFile, "# settings come from --var\n");
  return startWranglerDev({
    port: await freePort(),
    persistTo: join(dir, "state"),
    envFile,
    logLevel: "warn",
    inspector: false,
    extraArgs,
    vars,
  });
}

const sides = {
  project: {
    start: (dir, secret) =>
      startDev(dir, ["--dev-migrations"], {
        ENVIRONMENT: "development",
        LOG_LEVEL: "warn",
        JWT_SECRET: secret,
        STREAM_TOKEN_SECRET: randomBytes(24).toString("hex"),
        RATE_LIMIT_ENABLED: "false",
      }),
    // A create refused 429 `overloaded` (admission control) is an answer, recorded as such, and is
    // sent again after its Retry-After as the project's clients do: a new request, recorded too.
    // A create that met the dev proxy's reset is sent again at once with the same key; one whose
    // first attempt is still being processed (409 in flight) asks again until its answer is stored.
    create: async (log, base, token) => {
      const key = randomUUID();
      for (let resends = 0; resends < MAX_RESENDS; resends++) {
        const r = await send(log, base, "POST", "/v1/builds", {
          token,
          key,
          body: { repo_url: "https://github.com/acme/devload", metadata: { simulated_duration_ms: 0 } },
        });
        if (r.status === 429 && r.json?.code === "overloaded") {
          await new Promise((done) => setTimeout(done, retryAfterMs(r.headers)));
          continue;
        }
        if (r.proxyReset || (r.status === 409 && r.json?.code === "idempotency_key_in_flight")) {
          if (r.proxyReset) r.entry.resent = true;
          await new Promise((done) => setTimeout(done, r.proxyReset ? 0 : 50));
          continue;
        }
        return r.status === 201 ? r.json.build_id : null;
      }
      throw new Error(`devload: a create was asked to come back ${MAX_RESENDS} times`);
    },
    /** The dashboard's poll: the builds list. Returns the ids it shows as terminal. */
    poll: async (log, base, token) => {
      const r = await send(log, base, "GET", "/v1/builds?limit=50", { token });
      return (r.json?.items ?? []).filter((b) => ["completed", "failed", "aborted"].includes(b.status));
    },
    terminal: async (log, base, token, id) => {
      const r = await send(log, base, "GET", `/v1/builds/${id}`, { token });
      return ["completed", "failed", "aborted"].includes(r.json?.status);
    },
  },
  peer: {
    start: (dir) => startDev(dir, ["--config", PEER_CONFIG], {}),
    create: (log, base) =>
      send(log, base, "POST", "/runs", { body: { levels: LEVELS } }).then((r) => (r.status === 201 ? r.json.id : null)),
    poll: async (log, base, _token, ids) => {
      // The peer has no list: its poller reads one of the runs created so far.
      const id = ids[Math.floor(Math.random() * ids.length)];
      if (id) await send(log, base, "GET", `/runs/${id}`);
      else await send(log, base, "GET", "/health");
      return [];
    },
    terminal: async (log, base, _token, id) => {
      const r = await send(log, base, "GET", `/runs/${id}`);
      return ["complete", "errored", "terminated"].includes(r.json?.status);
    },
  },
};

async function burstOn(name, cfg, secret, token) {
  const side = sides[name];
  const dir = mkdtempSync(join(os.tmpdir(), `clarity-devload-${name}-`));
  const t0 = performance.now();
  const server = await side.start(dir, secret);
  const startMs = performance.now() - t0;
  try {
    const log = [];
    const cpu0 = cpuOf(server.pid);
    const started = performance.now();
    const ids = [];
    let creating = true;
    let createdAt = null;
    const creates = Promise.all(
      Array.from({ length: cfg.burst }, async () => {
        const id = await side.create(log, server.url, token);
        if (id) ids.push(id);
      }),
    ).finally(() => {
      creating = false;
      createdAt = performance.now();
    });
    const pollers = Promise.all(
      Array.from({ length: cfg.pollers }, async () => {
        while (creating) {
          await side.poll(log, server.url, token, ids);
          await new Promise((r) => setTimeout(r, 250));
        }
      }),
    );
    await Promise.all([creates, pollers]);
    // Then every build to its end (polled one by one, sent once each; these count too).
    for (const id of ids) {
      const until = Date.now() + 60_000;
      while (!(await side.terminal(log, server.url, token, id))) {
        if (Date.now() > until) throw new Error(`devload: ${name} run ${id} not terminal after 60 s`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    const cpu1 = cpuOf(server.pid);
    const slow = log.filter((r) => r.ms > SLOW_MS).length;
    return {
      start_ms: startMs,
      builds: ids.length,
      requests: log.length,
      dropped: log.filter((r) => r.status === 0).length,
      server_errors: log.filter((r) => r.status >= 500 && !r.resent).length,
      proxy_resets: log.filter((r) => r.resent).length,
      proxy_answers: log.filter((r) => r.status === 503 && r.detail?.includes(PROXY_RESET)).length,
      refused: log.filter((r) => r.status === 429).length,
      errors: [
        ...new Set(
          log.filter((r) => (r.detail && !r.resent) || r.error).map((r) => r.detail ?? `${r.method} ${r.error}`),
        ),
      ],
      created_s: createdAt === null ? null : (createdAt - started) / 1000,
      slowest_ms: Math.max(...log.map((r) => r.ms)),
      slowest_post_ms: Math.max(0, ...log.filter((r) => r.method === "POST").map((r) => r.ms)),
      slowest_get_ms: Math.max(0, ...log.filter((r) => r.method === "GET").map((r) => r.ms)),
      over_2s: slow,
      seconds: (performance.now() - started) / 1000,
      node_cpu_per_build_ms: (cpu1.node - cpu0.node) / Math.max(1, cfg.burst),
      cpu_per_build_ms: (cpu1.all - cpu0.all) / Math.max(1, cfg.burst),
    };
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs the burst on the project, then on the peer. */
export async function runDevLoadBench(cfg) {
  const log = cfg.log ?? ((s) => console.log(s));
  const secret = randomBytes(24).toString("hex");
  const token = await mintUserToken(secret, { sub: "bench-devload", roles: ["admin"] });
  const out = {};
  for (const name of ["project", "peer"]) {
    out[name] = await burstOn(name, cfg, secret, token);
    const r = out[name];
    log(
      `[devload] ${name}: ${r.builds}/${cfg.burst} builds, ${r.requests} requests in ${r.seconds.toFixed(1)} s: ` +
        `${r.dropped} dropped, ${r.server_errors} 5xx, ${r.proxy_resets} dev-proxy resets (sent again), ` +
        `${r.refused} refused 429 (sent again), all created in ` +
        `${r.created_s?.toFixed(1)} s, slowest ${r.slowest_ms.toFixed(0)} ms ` +
        `(POST ${r.slowest_post_ms.toFixed(0)}, GET ${r.slowest_get_ms.toFixed(0)}), ${r.over_2s} over 2 s; ` +
        `wrangler node CPU ${r.node_cpu_per_build_ms.toFixed(2)} ms/build, all ${r.cpu_per_build_ms.toFixed(1)} ms/build` +
        (r.errors.length > 0 ? `; failures: ${r.errors.slice(0, 4).join(" | ")}` : ""),
    );
  }
  return devLoadRows(out, cfg);
}

/** Node CPU below this per build is noise (10 ms clock ticks over the burst): both sides compare equal. */
const NODE_CPU_FLOOR_MS = 0.5;

export function devLoadRows({ project: p, peer: q }, cfg) {
  const nodeRatio =
    Math.max(p.node_cpu_per_build_ms, NODE_CPU_FLOOR_MS) / Math.max(q.node_cpu_per_build_ms, NODE_CPU_FLOOR_MS);
  const row = (figure, project, peer, target, pass) => ({
    figure,
    project,
    peer,
    target,
    result: target ? (pass ? "PASS" : "MISS") : "",
  });
  return {
    raw: { project: p, peer: q, config: cfg },
    rows: [
      row(
        `burst of ${cfg.burst} + ${cfg.pollers} pollers: dropped · 5xx`,
        `${p.dropped} · ${p.server_errors}`,
        `${q.dropped} · ${q.server_errors}`,
        "0 · 0",
        p.dropped === 0 && p.server_errors === 0,
      ),
      row(
        "slowest request (answers over 2 s)",
        `${p.slowest_ms.toFixed(0)} ms (${p.over_2s} of ${p.requests})`,
        `${q.slowest_ms.toFixed(0)} ms (${q.over_2s} of ${q.requests})`,
        "≤ 2000 ms",
        p.slowest_ms <= SLOW_MS,
      ),
      row(
        "creates answered by the dev proxy's 503 restarted mid-request (sent again, same key)",
        `${p.proxy_resets}`,
        `${q.proxy_answers} (no key: each one a 5xx)`,
        "",
        true,
      ),
      row(
        "creates refused 429 overloaded (sent again after Retry-After) · all created after",
        `${p.refused} · ${p.created_s.toFixed(1)} s`,
        `${q.refused} · ${q.created_s.toFixed(1)} s`,
        "",
        true,
      ),
      row(
        "wrangler Node process CPU per build",
        `${p.node_cpu_per_build_ms.toFixed(2)} ms`,
        `${q.node_cpu_per_build_ms.toFixed(2)} ms`,
        `≤ 2× peer (${nodeRatio.toFixed(2)}×)`,
        nodeRatio <= 2,
      ),
      row(
        "server CPU per build (all processes)",
        `${p.cpu_per_build_ms.toFixed(1)} ms`,
        `${q.cpu_per_build_ms.toFixed(1)} ms`,
        "",
        true,
      ),
      row(
        "fresh start → ready",
        `${(p.start_ms / 1000).toFixed(2)} s`,
        `${(q.start_ms / 1000).toFixed(2)} s`,
        `≤ 2× peer (${(p.start_ms / q.start_ms).toFixed(2)}×)`,
        p.start_ms / q.start_ms <= 2,
      ),
    ],
  };
}

export function renderDevLoadTable({ rows }) {
  const head = ["figure", "project", "peer", "target", "result"];
  const body = rows.map((r) => [r.figure, r.project, r.peer, r.target, r.result]);
  return renderTargetTable(
    head,
    body,
    rows.map((r) => r.result),
    "devload",
  );
}

/** The section's knobs: BENCH_DEVLOAD_BURST (500), BENCH_DEVLOAD_POLLERS (50). */
export function devLoadConfig(env) {
  return { burst: intKnob(env, "BENCH_DEVLOAD_BURST", 500), pollers: intKnob(env, "BENCH_DEVLOAD_POLLERS", 50) };
}
