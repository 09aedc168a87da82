#!/usr/bin/env node
/**
 * `npm run runner`: the runner service (runner/, TypeScript). Node 20 cannot run .ts, so this
 * bundles runner/src/main.ts with esbuild (offline, ~0.2 s) into runner/dist/runner.mjs
 * (gitignored; npm packages stay external) and runs it in this process. Configuration is by
 * environment: README "Runner" and docs/deploy.md.
 */
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { build } from "esbuild";
import { ROOT } from "./lib/wrangler.mjs";

/** Bundles the runner; returns the output file. */
export async function buildRunnerBundle() {
  const outfile = join(ROOT, "runner", "dist", "runner.mjs");
  await build({
    entryPoints: [join(ROOT, "runner", "src", "main.ts")],
    outfile,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    packages: "external",
    sourcemap: "inline",
    logLevel: "warning",
  });
  return outfile;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const file = await buildRunnerBundle();
  await import(pathToFileURL(file).href);
}
