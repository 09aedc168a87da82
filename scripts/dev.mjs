#!/usr/bin/env node
/**
 * `npm start` / `npm run dev`: local development server.
 *  1. Creates .dev.vars (gitignored) with ENVIRONMENT=development and freshly generated
 *     JWT_SECRET / STREAM_TOKEN_SECRET and the security-plane secrets (webhook signing secrets,
 *     secrets keyring) if it does not exist yet; an existing file is kept and only gains the
 *     security-plane keys it lacks.
 *  2. Hands the D1 migrations to the worker, which applies the new ones to the local database
 *     (.wrangler/state) before its first request (src/dev/dev-migrations.ts): no separate
 *     migrations process before the server.
 *  3. Runs wrangler's local dev server (what `wrangler dev` runs, through its programmatic API
 *     with the inspector off: scripts/lib/dev-server.mjs) on 127.0.0.1:$PORT (default 8787),
 *     offline, quiet (warnings and errors; VERBOSE=1 or LOG_LEVEL=info for the access log), and
 *     prints one ready line. Ctrl-C stops it.
 *  4. Runs the build watchdog every WATCHDOG_PERIOD_SECONDS (default 60, as the production cron;
 *     0 turns it off) through wrangler's --test-scheduled route (scripts/lib/watchdog-ticker.mjs).
 *  5. Starts the local runner service beside it (`startLocalRunner`, issue 15): builds are real
 *     by default, so `npm start` then a New scan of a local repository scans it. Ctrl-C stops
 *     both; NO_RUNNER=1 starts the control plane alone (builds are then simulated only if
 *     RUNNER_URL is removed from .dev.vars).
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { startWatchdogTicker } from "./lib/watchdog-ticker.mjs";
import { startDevServer } from "./lib/dev-server.mjs";
import { ROOT, WRANGLER_BIN } from "./lib/wrangler.mjs";

const DEV_VARS = resolve(ROOT, ".dev.vars");
const IP = "127.0.0.1";
const PORT = process.env.PORT || "8787";
const WATCHDOG_PERIOD_SECONDS = Number(process.env.WATCHDOG_PERIOD_SECONDS ?? "60");

/**
 * Security-plane local secrets (README "Send a signed test delivery locally"): the reference
 * X-Platform signing secret, a Standard Webhooks whsec_ secret, a one-key secrets keyring, and
 * CORS for local front-ends, and the runner protocol's URL and shared secret. Appended to an
 * existing .dev.vars that lacks them.
 */
function securityDevVars() {
  return {
    PLATFORM_WEBHOOK_SIGNING_SECRET: randomBytes(24).toString("hex"),
    STANDARD_WEBHOOK_SECRETS: `whsec_${randomBytes(24).toString("base64")}`,
    SECRETS_KEYRING: `'${JSON.stringify({ 1: randomBytes(32).toString("base64") })}'`,
    CORS_ALLOWED_ORIGINS: "http://localhost:*,http://127.0.0.1:*",
    // Runner protocol (README "Real execution"): `npm run runner` reads the first secret.
    RUNNER_URL: "http://127.0.0.1:8788",
    RUNNER_SHARED_SECRETS: `whsec_${randomBytes(32).toString("base64")}`,
    PUBLIC_BASE_URL: `http://127.0.0.1:${PORT}`,
  };
}

function appendMissingSecurityVars() {
  const text = readFileSync(DEV_VARS, "utf8");
  const missing = Object.entries(securityDevVars()).filter(
    ([k]) => !new RegExp(`^\\s*(?:export\\s+)?${k}\\s*=`, "m").test(text),
  );
  if (missing.length === 0) return false;
  const block = ["", "# Security plane (added by `npm start`)", ...missing.map(([k, v]) => `${k}=${v}`), ""].join("\n");
  writeFileSync(DEV_VARS, `${text.replace(/\n*$/, "\n")}${block}`, { mode: 0o600 });
  return true;
}

function ensureDevVars() {
  if (existsSync(DEV_VARS)) {
    if (appendMissingSecurityVars()) process.stdout.write("Added security-plane secrets to .dev.vars.\n");
    return false;
  }
  const hex = () => randomBytes(24).toString("hex"); // 48 hex chars
  const text = [
    "# Local development secrets for `wrangler dev` (created by `npm start`).",
    "# Local-only: this file is gitignored and never deployed. Delete it to regenerate.",
    "# Production secrets are set with `wrangler secret put`, not here.",
    "ENVIRONMENT=development",
    `JWT_SECRET=${hex()}`,
    `STREAM_TOKEN_SECRET=${hex()}`,
    ...Object.entries(securityDevVars()).map(([k, v]) => `${k}=${v}`),
    "",
  ].join("\n");
  writeFileSync(DEV_VARS, text, { mode: 0o600, flag: "wx" });
  return true;
}

if (!existsSync(WRANGLER_BIN)) {
  process.stderr.write(`error: ${WRANGLER_BIN} not found; run \`npm install\` first.\n`);
  process.exit(1);
}

if (ensureDevVars()) process.stdout.write("Created .dev.vars with generated local development secrets.\n");

// ---- local runner (issue 15) ----
/**
 * Starts `npm run runner` (runner/, bundled by scripts/runner.mjs) as a child process with the
 * port and the shared secret of .dev.vars, and stops it when this process exits. Repository
 * roots default to the OS temporary directory and this checkout (RUNNER_REPO_ROOTS overrides).
 */
function startLocalRunner() {
  if (process.env.NO_RUNNER === "1") return null;
  const vars = readFileSync(DEV_VARS, "utf8");
  const pick = (k) => new RegExp(`^\\s*${k}\\s*=\\s*["']?([^"'\\n]+)`, "m").exec(vars)?.[1]?.trim();
  const runnerUrl = new URL(pick("RUNNER_URL") ?? "http://127.0.0.1:8788");
  const secret = pick("RUNNER_SHARED_SECRETS")?.split(/[\s,]+/)[0];
  const runner = spawn(process.execPath, [resolve(ROOT, "scripts", "runner.mjs")], {
    cwd: ROOT,
    stdio: "inherit",
    env: {
      ...process.env,
      RUNNER_ENVIRONMENT: "development",
      RUNNER_HOST: runnerUrl.hostname,
      RUNNER_PORT: runnerUrl.port || "8788",
      ...(secret ? { RUNNER_SHARED_SECRET: secret } : {}),
    },
  });
  runner.on("exit", (code, signal) => {
    if (!stopping)
      process.stderr.write(
        `[runner] exited (${signal ?? code}); builds will fail with runner_unreachable until it runs again (npm run runner).\n`,
      );
  });
  process.on("exit", () => {
    try {
      runner.kill("SIGTERM");
    } catch {}
  });
  return { runner, url: runnerUrl.origin };
}
// ----------------------------------

let stopping = null;
const localRunner = startLocalRunner();
const url = `http://${IP}:${PORT}`;
// Quiet by default: warnings and errors only, from wrangler and from the worker's own log (one JSON
// line per request at `info`). VERBOSE=1 (or LOG_LEVEL=info|debug) brings the access log back.
const logLevel = process.env.LOG_LEVEL ?? (process.env.VERBOSE === "1" ? "info" : "warn");
let server;
try {
  server = await startDevServer({
    port: Number(PORT),
    ip: IP,
    migrations: true,
    vars: { LOG_LEVEL: logLevel },
    logLevel: logLevel === "debug" ? "debug" : logLevel === "info" ? "info" : "warn",
  });
} catch (err) {
  process.stderr.write(`error: could not start the local control plane: ${err?.message ?? err}\n`);
  process.exit(1);
}

// The production cron, locally: the build watchdog every minute (a failed trigger is retried).
let watchdogWarned = false;
const watchdog =
  WATCHDOG_PERIOD_SECONDS > 0
    ? startWatchdogTicker({
        url,
        periodMs: WATCHDOG_PERIOD_SECONDS * 1000,
        onError: (err) => {
          if (watchdogWarned) return;
          watchdogWarned = true;
          process.stderr.write(
            `warning: the build watchdog could not run (${err instanceof Error ? err.message : err}); retrying every ${WATCHDOG_PERIOD_SECONDS} s\n`,
          );
        },
      })
    : null;

const runnerNote = localRunner ? `runner ${localRunner.url}` : "no runner (NO_RUNNER=1)";
process.stdout.write(
  `Clarity control plane ready: dashboard ${url}/ · ${runnerNote} · token: npm run --silent token -- operator · Ctrl-C stops\n`,
);

for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.on(signal, () => {
    // A second signal does not wait for the clean shutdown.
    if (stopping) process.exit(130);
    stopping = (async () => {
      watchdog?.stop();
      try {
        localRunner?.runner.kill(signal);
      } catch {}
      await server.dispose().catch(() => {});
      process.exit(0);
    })();
  });
}
