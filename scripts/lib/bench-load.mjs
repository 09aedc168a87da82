/**
 * Load and timing helpers of `npm run bench` (scripts/bench.mjs): a fetch wrapper, percentiles,
 * an autocannon run with fixed connections and duration on loopback, Standard Webhooks signing,
 * an SSE reader, and the RSS of the workerd process behind `wrangler dev`.
 */
import { createHmac, randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import autocannon from "autocannon";
import { retryAfterMs } from "../../public/app/retry-after.js";
import { groupProcesses } from "./wrangler.mjs";

export class BenchError extends Error {}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Nearest-rank percentile of an unsorted sample (p in 0..100). */
export function percentile(values, p) {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1];
}

export function median(values) {
  const v = values.filter((x) => x !== null && x !== undefined && !Number.isNaN(x));
  if (v.length === 0) return null;
  const s = [...v].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

export function describeBody(text) {
  const t = (text ?? "").trim();
  return t.length > 600 ? `${t.slice(0, 600)}…` : t || "(empty body)";
}

/** How the project's clients sit out a 429 `overloaded`: the dashboard's own rule. */
export { retryAfterMs };

/** A GET is sent again after this long without an answer (at most GET_ATTEMPTS sends). */
const GET_DEADLINE_MS = 5_000;
const GET_ATTEMPTS = 4;

/** Sends of a GET that went unanswered within GET_DEADLINE_MS and were sent again (both sides). */
export const resentGets = { count: 0 };

/**
 * fetch wrapper: { status, headers, text, json, ms }; never throws on an HTTP status. A create the
 * project refuses 429 `overloaded` is sent again after its Retry-After, as the project's clients
 * do (`ms` is from the first send). A GET unanswered after 5 s is sent again, as any client of
 * either side would: wrangler's dev proxy parks a GET whose pooled connection was reset until the
 * next request arrives (docs/DECISIONS.md "Admission control"), which at the tail of a burst may
 * be never; each such resend is counted in `resentGets`.
 */
export async function http(base, method, path, { token, body, headers = {}, timeoutMs = 30_000 } = {}) {
  const h = { ...headers };
  if (token) h.authorization = `Bearer ${token}`;
  if (body !== undefined) h["content-type"] ??= "application/json";
  const t0 = performance.now();
  const get = method === "GET";
  for (let refused = 0, attempt = 1; ; refused++) {
    let res;
    try {
      res = await fetch(base + path, {
        method,
        headers: h,
        body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
        signal: AbortSignal.timeout(get ? Math.min(timeoutMs, GET_DEADLINE_MS) : timeoutMs),
      });
    } catch (err) {
      if (get && attempt < GET_ATTEMPTS && err?.name === "TimeoutError") {
        resentGets.count++;
        attempt++;
        continue;
      }
      throw new BenchError(`${method} ${path}: request failed: ${err?.cause?.code ?? err?.message ?? err}`);
    }
    const text = await res.text();
    let json;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    if (res.status === 429 && json?.code === "overloaded" && refused < 20) {
      await sleep(retryAfterMs(res.headers));
      continue;
    }
    return { status: res.status, headers: res.headers, text, json, ms: performance.now() - t0 };
  }
}

export function expectStatus(res, expected, what) {
  if (res.status !== expected)
    throw new BenchError(`${what}: expected HTTP ${expected}, got ${res.status}: ${describeBody(res.text)}`);
  return res.json;
}

/**
 * One autocannon run (fixed connections and duration, loopback). `request` is either a static
 * { method, path, headers, body } or has `setup()` returning fresh headers/body per request.
 * Returns req/s and latency percentiles; any non-2xx or error fails the run (a figure measured
 * on errors would be meaningless).
 */
export async function loadRun(
  base,
  { method = "GET", path, headers = {}, body, setup, connections, durationS, expect2xx = true },
) {
  const requests = [
    {
      method,
      path,
      headers,
      body,
      ...(setup ? { setupRequest: (req) => ({ ...req, ...setup(req) }) } : {}),
    },
  ];
  const result = await autocannon({
    url: base,
    connections,
    duration: durationS,
    pipelining: 1,
    timeout: 20,
    requests,
  });
  const bad = result.non2xx + result.errors + result.timeouts;
  if (expect2xx && bad > 0) {
    throw new BenchError(
      `${method} ${path} under load: ${result.non2xx} non-2xx, ${result.errors} errors, ${result.timeouts} timeouts of ${result.requests.total} ` +
        `(status codes: ${JSON.stringify(result.statusCodeStats ?? {})})`,
    );
  }
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    total: result.requests.total,
    non2xx: result.non2xx,
  };
}

/** Standard Webhooks headers for `body` (secret `whsec_<base64>`). */
export function standardWebhookHeaders(secret, body, id = `msg_${randomUUID()}`, ts = Math.floor(Date.now() / 1000)) {
  const key = Buffer.from(secret.replace(/^whsec_/, ""), "base64");
  const sig = createHmac("sha256", key).update(`${id}.${ts}.${body}`).digest("base64");
  return {
    "webhook-id": id,
    "webhook-timestamp": String(ts),
    "webhook-signature": `v1,${sig}`,
    "content-type": "application/json",
  };
}

/**
 * Reads an SSE response until it ends (or `until`), recording each event's seq, its server
 * timestamp and the local receive time. `slowMs` sleeps between chunks (a slow consumer).
 */
export async function readSse(res, { onEvent, slowMs = 0, deadlineMs = 60_000, until } = {}) {
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buf = "";
  let bytes = 0;
  const deadline = Date.now() + deadlineMs;
  let connected = false;
  for (;;) {
    const remaining = deadline - Date.now();
    if (remaining <= 0) {
      await reader.cancel().catch(() => {});
      return { bytes, ended: false, connected };
    }
    const chunk = await Promise.race([reader.read(), sleep(remaining).then(() => "timeout")]);
    if (chunk === "timeout") continue;
    if (chunk.done) return { bytes, ended: true, connected };
    const now = Date.now();
    bytes += chunk.value.byteLength;
    buf += decoder.decode(chunk.value, { stream: true });
    let idx;
    while ((idx = buf.indexOf("\n\n")) >= 0) {
      const block = buf.slice(0, idx);
      buf = buf.slice(idx + 2);
      if (block.startsWith(": connected")) connected = true;
      const data = block.split("\n").find((l) => l.startsWith("data: "));
      const id = block.split("\n").find((l) => l.startsWith("id: "));
      if (data && id) {
        const event = JSON.parse(data.slice(6));
        onEvent?.(event, now);
        if (until?.(event)) {
          await reader.cancel().catch(() => {});
          return { bytes, ended: false, connected };
        }
      }
    }
    if (slowMs > 0) await sleep(slowMs);
  }
}

/** PIDs of the workerd processes in process group `pgid` (the wrangler dev child's group). */
export function workerdPids(pgid) {
  return groupProcesses(pgid)
    .filter((p) => p.comm.startsWith("workerd"))
    .map((p) => p.pid);
}

/** Resident set size in bytes, summed over `pids` (Linux /proc). */
export function rssBytes(pids) {
  let total = 0;
  for (const pid of pids) {
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
      if (m) total += Number(m[1]) * 1024;
    } catch {
      // gone
    }
  }
  return total;
}

/** Samples RSS every `everyMs` until stopped; returns { before, peak, after }. */
export function rssSampler(pids, everyMs = 10) {
  const before = rssBytes(pids);
  let peak = before;
  const timer = setInterval(() => {
    peak = Math.max(peak, rssBytes(pids));
  }, everyMs);
  return {
    stop() {
      clearInterval(timer);
      const after = rssBytes(pids);
      return { before, peak: Math.max(peak, after), after };
    },
  };
}

/**
 * A fixed-width table of string cells (columns in `right` padded on the left), followed by the
 * count of PASS and MISS in `results` as "`label` targets: n PASS, m MISS".
 */
export function renderTargetTable(head, body, results, label, right = new Set()) {
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((row) => row[i].length)));
  const line = (cells) =>
    cells
      .map((c, i) => (right.has(i) ? c.padStart(widths[i]) : c.padEnd(widths[i])))
      .join("  ")
      .trimEnd();
  const pass = results.filter((r) => r === "PASS").length;
  const miss = results.filter((r) => r === "MISS").length;
  return [
    line(head),
    line(widths.map((w) => "-".repeat(w))),
    ...body.map(line),
    "",
    `${label} targets: ${pass} PASS, ${miss} MISS`,
  ].join("\n");
}

/** A positive integer knob from the environment (`def` when unset). */
export function intKnob(env, name, def) {
  const n = Number(env[name] ?? def);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer`);
  return n;
}
