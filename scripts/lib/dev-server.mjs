/**
 * The local control plane as `npm start` runs it: wrangler's dev server started through its
 * programmatic API (`unstable_startWorker`, pinned wrangler 4.86) instead of the `wrangler dev`
 * CLI, for one reason the CLI cannot be told: `inspector: false`. The CLI always attaches its
 * inspector proxy to the runtime, which enables the DevTools Network domain, so every subrequest
 * of the worker — each local D1 query among them — becomes four inspector messages relayed to
 * wrangler's Node process and appended to its debug log file: measured on a 200-build burst,
 * 21.9 ms of wrangler CPU per build with the inspector, 3.4 ms without (docs/DECISIONS.md "The
 * local dev server"). Everything else is what the CLI does: same config, `.dev.vars`, local
 * D1/KV/DO state, the proxy on `ip:port`, and `--test-scheduled`'s `/__scheduled` route.
 */
import { readFileSync, readdirSync } from "node:fs";
import { resolve } from "node:path";
import { ROOT, OFFLINE_ENV } from "./wrangler.mjs";

/**
 * @param {{ port: number, ip?: string, persistTo?: string, envFiles?: string[], vars?: Record<string, string>,
 *           logLevel?: "debug"|"info"|"log"|"warn"|"error"|"none", testScheduled?: boolean, config?: string,
 *           migrations?: boolean }} options
 *   migrations: hand migrations/ to the worker as its DEV_MIGRATIONS binding, which it applies
 *   before its first request (src/dev/dev-migrations.ts) — no separate migrations process.
 * @returns {Promise<{ url: string, dispose: () => Promise<void> }>}
 */
export async function startDevServer({
  port,
  ip = "127.0.0.1",
  persistTo,
  envFiles,
  vars = {},
  logLevel = "warn",
  testScheduled = true,
  config,
  migrations = false,
}) {
  Object.assign(process.env, OFFLINE_ENV);
  const { unstable_startWorker, unstable_splitSqlQuery } = await import("wrangler");
  const bindings = Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, { type: "plain_text", value: v }]));
  if (migrations) bindings.DEV_MIGRATIONS = { type: "json", value: readMigrations(unstable_splitSqlQuery) };
  const worker = await unstable_startWorker({
    config: config ?? resolve(ROOT, "wrangler.toml"),
    ...(envFiles ? { envFiles } : {}),
    bindings,
    dev: {
      remote: false,
      server: { hostname: ip, port },
      inspector: false,
      persist: persistTo ?? resolve(ROOT, ".wrangler", "state"),
      testScheduled,
      logLevel,
    },
  });
  await worker.ready;
  const url = `http://${ip}:${port}`;
  // Ready means migrated: the first request applies them (and a failure is an error here, not later).
  if (migrations) {
    const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(60_000) });
    if (res.status !== 200) {
      await worker.dispose();
      throw new Error(
        `the worker could not apply the D1 migrations (GET /health ${res.status}: ${(await res.text()).slice(0, 500)})`,
      );
    }
  }
  return { url, dispose: () => worker.dispose() };
}

/** migrations/*.sql in order, split into statements as the test pool's readD1Migrations does. */
function readMigrations(split) {
  const dir = resolve(ROOT, "migrations");
  return readdirSync(dir)
    .filter((n) => n.endsWith(".sql"))
    .sort((a, b) => Number.parseInt(a, 10) - Number.parseInt(b, 10))
    .map((name) => ({ name, queries: split(readFileSync(resolve(dir, name), "utf8")) }));
}
