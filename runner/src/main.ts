/**
 * `npm run runner` entry (bundled to runner/dist/runner.mjs by scripts/runner.mjs): reads the
 * configuration from the environment (the shared secret defaults to the first
 * RUNNER_SHARED_SECRETS entry of the checkout's .dev.vars in development) and serves.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { loadRunnerConfig } from "./config";
import { startRunner } from "./server";

const here = dirname(fileURLToPath(import.meta.url));
const runnerDir = resolve(here, "..");
const checkout = resolve(runnerDir, "..");

/** The first RUNNER_SHARED_SECRETS value in the checkout's .dev.vars (development only). */
function devVarsSecret(): string | undefined {
  const file = join(checkout, ".dev.vars");
  if (!existsSync(file)) return undefined;
  const m = /^\s*RUNNER_SHARED_SECRETS\s*=\s*["']?([^"'\n]+)/m.exec(readFileSync(file, "utf8"));
  return m?.[1]?.trim().split(/[\s,]+/)[0];
}

const env = { ...process.env };
if (!env.RUNNER_SHARED_SECRET && env.RUNNER_ENVIRONMENT !== "production") env.RUNNER_SHARED_SECRET = devVarsSecret();
let cfg;
try {
  cfg = loadRunnerConfig(env, checkout);
} catch (err) {
  console.error(`[runner] configuration error: ${err instanceof Error ? err.message : String(err)}`);
  console.error(
    "[runner] RUNNER_SHARED_SECRET (whsec_…) is required; `npm start` writes RUNNER_SHARED_SECRETS into .dev.vars.",
  );
  process.exit(2);
}
const { port } = await startRunner(cfg, {
  rulesDir: join(runnerDir, "rules"),
  log: (m) => console.log(`[runner] ${m}`),
});
console.log(
  `[runner] listening on http://${cfg.RUNNER_HOST}:${port} · repository roots: ${cfg.RUNNER_REPO_ROOTS.join(", ") || "none"}`,
);
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => process.exit(0));
