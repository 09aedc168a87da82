/**
 * Shared helpers for scripts that drive a local wrangler (dev server, D1 migrations).
 * Plain Node ESM, no dependencies. Everything runs offline (see ../shared/TOOLCHAIN.md,
 * "Offline wrangler"): wrangler is started from node_modules/.bin directly (never via npx,
 * whose wrapper leaves wrangler/workerd orphaned when killed), in its own process group so
 * `stop()` takes workerd down with it.
 */
import { spawn } from "node:child_process";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** Project root (the directory holding package.json and wrangler.toml). */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** The locally installed wrangler binary. */
export const WRANGLER_BIN = resolve(ROOT, "node_modules", ".bin", "wrangler");

/** Environment that keeps wrangler off the network (no metrics, error reports, cf fetch, update check). */
export const OFFLINE_ENV = Object.freeze({
  WRANGLER_SEND_METRICS: "false",
  WRANGLER_SEND_ERROR_REPORTS: "false",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  WRANGLER_HIDE_BANNER: "true",
});

/** process.env plus the offline settings (and any extras). */
export function wranglerEnv(extra = {}) {
  return { ...process.env, ...OFFLINE_ENV, ...extra };
}

function assertWrangler() {
  if (!existsSync(WRANGLER_BIN)) {
    throw new Error(`wrangler not found at ${WRANGLER_BIN}; run \`npm install\` first.`);
  }
}

/** Keeps only the last `max` characters of a growing text buffer. */
function tailBuffer(max = 8000) {
  let text = "";
  return {
    push(chunk) {
      text += chunk.toString();
      if (text.length > max * 2) text = text.slice(-max);
    },
    get value() {
      return text.slice(-max);
    },
  };
}

/**
 * Applies the D1 migrations to the local database (`wrangler d1 migrations apply DB --local`).
 * @param {{ persistTo?: string, stdio?: "inherit" | "pipe" }} [options]
 *   persistTo: wrangler `--persist-to` directory (default: .wrangler/state).
 *   stdio: "pipe" (default) captures output and includes its tail in the error on failure;
 *   "inherit" shows wrangler's output live.
 * @returns {Promise<void>}
 */
export function applyLocalMigrations({ persistTo, stdio = "pipe" } = {}) {
  assertWrangler();
  const args = ["d1", "migrations", "apply", "DB", "--local"];
  if (persistTo) args.push("--persist-to", persistTo);
  return new Promise((resolvePromise, reject) => {
    const out = tailBuffer();
    const child = spawn(WRANGLER_BIN, args, {
      cwd: ROOT,
      // CI=true: never prompt ("about to apply N migrations, continue?").
      env: wranglerEnv({ CI: "true" }),
      stdio: stdio === "inherit" ? ["ignore", "inherit", "inherit"] : ["ignore", "pipe", "pipe"],
    });
    child.stdout?.on("data", (d) => out.push(d));
    child.stderr?.on("data", (d) => out.push(d));
    child.on("error", reject);
    child.on("close", (code, signal) => {
      if (code === 0) return resolvePromise();
      const tail = out.value.trim();
      reject(
        new Error(
          `wrangler d1 migrations apply failed (${signal ? `signal ${signal}` : `exit ${code}`})` +
            (tail ? `:\n${tail}` : ""),
        ),
      );
    });
  });
}

/** Resolves to a TCP port that was free on `host` a moment ago. */
export function freePort(host = "127.0.0.1") {
  return new Promise((resolvePromise, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, host, () => {
      const { port } = server.address();
      server.close(() => resolvePromise(port));
    });
  });
}

/** Builds the `wrangler dev` argument list. */
export function devArgs({ port, ip = "127.0.0.1", persistTo, envFile, vars = {}, logLevel, extraArgs = [] }) {
  const args = ["dev", "--ip", ip, "--port", String(port)];
  if (persistTo) args.push("--persist-to", persistTo);
  // An explicit --env-file makes wrangler skip the project's .dev.vars (and default .env files).
  if (envFile) args.push("--env-file", envFile);
  for (const [key, value] of Object.entries(vars)) args.push("--var", `${key}:${value}`);
  if (logLevel) args.push("--log-level", logLevel);
  args.push(...extraArgs);
  return args;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The options of scripts/lib/dev-server-child.mjs from startWranglerDev's (CLI-shaped) ones. */
function childOptions({ port, ip, persistTo, envFile, vars, logLevel, extraArgs }) {
  let config;
  let testScheduled = false;
  let migrations = false;
  for (let i = 0; i < extraArgs.length; i++) {
    if (extraArgs[i] === "--config") config = extraArgs[++i];
    else if (extraArgs[i] === "--test-scheduled") testScheduled = true;
    else if (extraArgs[i] === "--dev-migrations") migrations = true;
    else throw new Error(`startWranglerDev({ inspector: false }): unsupported argument ${extraArgs[i]}`);
  }
  return {
    port,
    ip,
    persistTo,
    envFiles: envFile ? [envFile] : undefined,
    vars,
    logLevel: logLevel ?? "info",
    testScheduled,
    config,
    migrations,
  };
}

/** Sends `signal` to the whole process group of `child` (falls back to the child alone). */
function killGroup(child, signal) {
  try {
    process.kill(-child.pid, signal);
    return true;
  } catch {
    try {
      return child.kill(signal);
    } catch {
      return false;
    }
  }
}

/**
 * The processes of process group `pgid` as Linux /proc shows them: pid, command name, state
 * (`Z`/`X`: exited, not yet reaped) and CPU time (user + system, ms). Throws without /proc.
 * @param {number} pgid
 * @returns {{ pid: number, comm: string, state: string, cpuMs: number }[]}
 */
export function groupProcesses(pgid) {
  const out = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let stat;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, "utf8");
    } catch {
      continue; // exited meanwhile
    }
    // "pid (comm) state ppid pgrp …" — comm may contain spaces/parens, so split after the last ")".
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (Number(f[2]) !== pgid) continue;
    // utime and stime are fields 14 and 15, in clock ticks (USER_HZ = 100 on Linux).
    out.push({
      pid: Number(entry),
      comm: stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")")),
      state: f[0],
      cpuMs: (Number(f[11]) + Number(f[12])) * 10,
    });
  }
  return out;
}

/**
 * Whether any live (non-zombie) process is left in process group `pgid`. On Linux this reads
 * /proc, so exited-but-unreaped members (e.g. workerd reparented to an init that does not
 * reap) do not count; elsewhere it falls back to `kill(-pgid, 0)`.
 */
function groupAlive(pgid) {
  if (process.platform === "linux") {
    try {
      return groupProcesses(pgid).some((p) => p.state !== "Z" && p.state !== "X");
    } catch {
      // /proc unavailable: fall through
    }
  }
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Starts `wrangler dev` in the background (own process group) and waits for
 * `GET http://ip:port/health` to return 200.
 * @param {{ port: number, ip?: string, persistTo?: string, envFile?: string, vars?: Record<string,string>,
 *           logLevel?: string, timeoutMs?: number, echo?: boolean, extraArgs?: string[], inspector?: boolean }} options
 *   envFile: load secrets from this dotenv file instead of the project's .dev.vars / .env
 *   (pass an empty file to isolate from the developer's local secrets).
 *   echo: also copy wrangler's output to this process's stderr (default false; it is always
 *   captured, and its tail is included in start-up errors).
 *   inspector: false runs the same dev server as `npm start` does — wrangler's programmatic API
 *   with the inspector off (scripts/lib/dev-server.mjs), in a child Node process of its own;
 *   extraArgs may then hold only `--config <path>`, `--test-scheduled` and `--dev-migrations` (the
 *   worker applies migrations/ itself before its first request, as under `npm start`).
 * @returns {Promise<{ url: string, pid: number, child: import("node:child_process").ChildProcess,
 *                     output: () => string, stop: () => Promise<void>, crash: () => Promise<void>,
 *                     exited: Promise<{ code: number|null, signal: string|null }> }>}
 *   stop() sends SIGTERM to the whole process group, waits up to 5 s, then SIGKILLs; idempotent.
 *   crash() SIGKILLs the whole process group at once and waits until none of it is left.
 */
export async function startWranglerDev({
  port,
  ip = "127.0.0.1",
  persistTo,
  envFile,
  vars = {},
  logLevel,
  timeoutMs = 60_000,
  echo = false,
  extraArgs = [],
  inspector = true,
}) {
  assertWrangler();
  if (!port) throw new Error("startWranglerDev: port is required (use freePort())");
  const [cmd, args] = inspector
    ? [WRANGLER_BIN, devArgs({ port, ip, persistTo, envFile, vars, logLevel, extraArgs })]
    : [
        process.execPath,
        [
          resolve(ROOT, "scripts", "lib", "dev-server-child.mjs"),
          JSON.stringify(childOptions({ port, ip, persistTo, envFile, vars, logLevel, extraArgs })),
        ],
      ];
  const out = tailBuffer(16_000);
  const child = spawn(cmd, args, {
    cwd: ROOT,
    env: wranglerEnv(),
    stdio: ["ignore", "pipe", "pipe"],
    detached: true, // own process group → process.kill(-pid) reaches workerd too
  });
  const onData = (d) => {
    out.push(d);
    if (echo) process.stderr.write(d);
  };
  child.stdout.on("data", onData);
  child.stderr.on("data", onData);

  let exited = null;
  const exitPromise = new Promise((r) => {
    child.on("exit", (code, signal) => {
      exited = { code, signal };
      r(exited);
    });
    child.on("error", (err) => {
      exited = { code: null, signal: null, error: err };
      r(exited);
    });
  });

  // Safety net: if this process exits without calling stop(), still take the group down.
  const onProcessExit = () => killGroup(child, "SIGKILL");
  process.on("exit", onProcessExit);

  let stopping = null;
  const stop = () => {
    if (stopping) return stopping;
    stopping = (async () => {
      process.off("exit", onProcessExit);
      if (child.pid === undefined) return;
      if (groupAlive(child.pid) || exited === null) {
        killGroup(child, "SIGTERM");
        const deadline = Date.now() + 5_000;
        while (Date.now() < deadline && groupAlive(child.pid)) await sleep(50);
        if (groupAlive(child.pid)) {
          killGroup(child, "SIGKILL");
          const hardDeadline = Date.now() + 2_000;
          while (Date.now() < hardDeadline && groupAlive(child.pid)) await sleep(50);
        }
      }
      child.stdout.destroy();
      child.stderr.destroy();
    })();
    return stopping;
  };

  const url = `http://${ip.includes(":") ? `[${ip}]` : ip}:${port}`;
  const deadline = Date.now() + timeoutMs;
  let lastProblem = "no response yet";
  for (;;) {
    if (exited) {
      await stop();
      const how = exited.error
        ? exited.error.message
        : exited.signal
          ? `signal ${exited.signal}`
          : `exit ${exited.code}`;
      throw new Error(`wrangler dev exited before becoming healthy (${how}). Output tail:\n${out.value.trim()}`);
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(
        `wrangler dev did not answer GET ${url}/health with 200 within ${Math.round(timeoutMs / 1000)} s ` +
          `(last: ${lastProblem}). Output tail:\n${out.value.trim()}`,
      );
    }
    try {
      const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2_000) });
      const body = await res.text();
      if (res.status === 200) break;
      lastProblem = `HTTP ${res.status} ${body.slice(0, 200)}`;
    } catch (err) {
      lastProblem = err?.cause?.code ?? err?.message ?? String(err);
    }
    await Promise.race([sleep(150), exitPromise]);
  }

  /** A crash: SIGKILL to the whole process group (wrangler and workerd) at once, no clean-up. */
  const crash = async () => {
    process.off("exit", onProcessExit);
    killGroup(child, "SIGKILL");
    const deadline = Date.now() + 10_000;
    while (groupAlive(child.pid)) {
      if (Date.now() > deadline) throw new Error(`process group ${child.pid} still alive 10 s after SIGKILL`);
      await sleep(25);
    }
    await exitPromise;
    child.stdout.destroy();
    child.stderr.destroy();
  };

  return { url, pid: child.pid, child, output: () => out.value, stop, crash, exited: exitPromise };
}
