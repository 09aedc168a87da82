#!/usr/bin/env node
/**
 * `npm start` / `npm run dev`: local development server.
 *  1. Creates .dev.vars (gitignored) with ENVIRONMENT=development and freshly generated
 *     JWT_SECRET / STREAM_TOKEN_SECRET if it does not exist yet (an existing file is kept).
 *  2. Applies the D1 migrations to the local database (.wrangler/state).
 *  3. Runs `wrangler dev` in the foreground on 127.0.0.1:$PORT (default 8787), offline,
 *     forwarding SIGINT/SIGTERM, and exits with wrangler's exit code.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { ROOT, WRANGLER_BIN, applyLocalMigrations, devArgs, wranglerEnv } from "./lib/wrangler.mjs";

const DEV_VARS = resolve(ROOT, ".dev.vars");
const IP = "127.0.0.1";
const PORT = process.env.PORT || "8787";

function ensureDevVars() {
  if (existsSync(DEV_VARS)) return false;
  const hex = () => randomBytes(24).toString("hex"); // 48 hex chars
  const text = [
    "# Local development secrets for `wrangler dev` (created by `npm start`).",
    "# Local-only: this file is gitignored and never deployed. Delete it to regenerate.",
    "# Production secrets are set with `wrangler secret put`, not here.",
    "ENVIRONMENT=development",
    `JWT_SECRET=${hex()}`,
    `STREAM_TOKEN_SECRET=${hex()}`,
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
    "  stop:          Ctrl-C",
    "",
    "",
  ].join("\n"),
);

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
    try {
      child.kill(signal);
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
