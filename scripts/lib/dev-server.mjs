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
import { resolve } from "node:path";
import { ROOT, OFFLINE_ENV } from "./wrangler.mjs";

/**
 * @param {{ port: number, ip?: string, persistTo?: string, envFiles?: string[], vars?: Record<string, string>,
 *           logLevel?: "debug"|"info"|"log"|"warn"|"error"|"none", testScheduled?: boolean, config?: string }} options
 * @returns {Promise<{ url: string, dispose: () => Promise<void> }>}
 */
export async function startDevServer({ port, ip = "127.0.0.1", persistTo, envFiles, vars = {}, logLevel = "warn", testScheduled = true, config }) {
  Object.assign(process.env, OFFLINE_ENV);
  const { unstable_startWorker } = await import("wrangler");
  const worker = await unstable_startWorker({
    config: config ?? resolve(ROOT, "wrangler.toml"),
    ...(envFiles ? { envFiles } : {}),
    bindings: Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, { type: "plain_text", value: v }])),
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
  return { url: `http://${ip}:${port}`, dispose: () => worker.dispose() };
}
