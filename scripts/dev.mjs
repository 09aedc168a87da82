#!/usr/bin/env node
/**
 * `npm start` / `npm run dev`: local development server.
 *  1. Creates .dev.vars (gitignored) with ENVIRONMENT=development and freshly generated
 *     JWT_SECRET / STREAM_TOKEN_SECRET and the security-plane secrets (webhook signing secrets,
 *     secrets keyring) if it does not exist yet; an existing file is kept and only gains the
 *     security-plane keys it lacks.
 *  2. Applies the D1 migrations to the local database (.wrangler/state).
 *  3. Runs `wrangler dev` in the foreground on 127.0.0.1:$PORT (default 8787), offline,
 *     forwarding SIGINT/SIGTERM, and exits with wrangler's exit code.
 *  4. Starts the local runner service beside it (`startLocalRunner`, issue 15): builds are real
 *     by default, so `npm start` then a New scan of a local repository scans it. Ctrl-C stops
 *     both; NO_RUNNER=1 starts the control plane alone (builds are then simulated only if
 *     RUNNER_URL is removed from .dev.vars).
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { ROOT, WRANGLER_BIN, applyLocalMigrations, devArgs, wranglerEnv } from "./lib/wrangler.mjs";

const DEV_VARS = resolve(ROOT, ".dev.vars");
const IP = "127.0.0.1";
const PORT = process.env.PORT || "8787";

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
  const missing = Object.entries(securityDevVars()).filter(([k]) => !new RegExp(`^\\s*(?:export\\s+)?${k}\\s*=`, "m").test(text));
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

process.stdout.write("Applying local D1 migrations…\n");
try {
  await applyLocalMigrations();
} catch (err) {
  process.stderr.write(`error: ${err.message}\n`);
  process.exit(1);
}

const url = `http://${IP}:${PORT}`;
process.stdout.write(
  [
    "",
    `  Clarity control plane (local dev): ${url}`,
    `  health:        curl ${url}/health`,
    "  mint a token:  npm run --silent token -- operator",
    "  runner:        started beside it (scans local repositories under the OS tmpdir and this checkout)",
    "  stop:          Ctrl-C",
    "",
    "",
  ].join("\n"),
);

// ---- local runner (issue 15; self-contained so other changes to this file merge cleanly) ----
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
    env: { ...process.env, RUNNER_ENVIRONMENT: "development", RUNNER_HOST: runnerUrl.hostname, RUNNER_PORT: runnerUrl.port || "8788", ...(secret ? { RUNNER_SHARED_SECRET: secret } : {}) },
  });
  runner.on("exit", (code, signal) => {
    if (!stopping) process.stderr.write(`[runner] exited (${signal ?? code}); builds will fail with runner_unreachable until it runs again (npm run runner).\n`);
  });
  const stop = () => {
    try {
      runner.kill("SIGTERM");
    } catch {}
  };
  process.on("exit", stop);
  return runner;
}
let stopping = false;
const localRunner = startLocalRunner();
// --------------------------------------------------------------------------------------------

const child = spawn(WRANGLER_BIN, devArgs({ port: PORT, ip: IP }), {
  cwd: ROOT,
  env: wranglerEnv(),
  stdio: "inherit",
});

let forwarded = null;
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.on(signal, () => {
    // Ctrl-C in a terminal already reaches wrangler (same process group); forwarding is for
    // signals sent to this process alone (e.g. `kill <pid>`). A second signal escalates.
    if (forwarded) {
      try {
        child.kill("SIGKILL");
      } catch {}
      return;
    }
    forwarded = signal;
    stopping = true;
    try {
      child.kill(signal);
    } catch {}
    try {
      localRunner?.kill(signal);
    } catch {}
  });
}

child.on("error", (err) => {
  process.stderr.write(`error: could not start wrangler: ${err.message}\n`);
  process.exit(1);
});

child.on("exit", (code, signal) => {
  if (code !== null) process.exit(code);
  // Killed by a signal: a deliberate stop is a clean exit; otherwise use the shell convention.
  if (forwarded && signal === forwarded) process.exit(0);
  const num = { SIGINT: 2, SIGTERM: 15, SIGHUP: 1, SIGKILL: 9 }[signal] ?? 1;
  process.exit(128 + num);
});
