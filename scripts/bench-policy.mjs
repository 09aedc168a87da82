#!/usr/bin/env node
/**
 * `npm run bench:policy`: the execution-policy pre-check (src/builds/execution-policy.ts) on
 * 256 KiB adversarial commands (issue 15 item 7). Prints one line per shape with the median of
 * R runs in ms; every pattern is linear, so each figure stays in the low milliseconds (the old
 * `rm` rule took about 70 s on `rm -rrrr…`). The module is bundled with esbuild (wrangler's)
 * into a temporary file, so this runs on plain Node 20.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { build } from "esbuild";
import { ROOT } from "./lib/wrangler.mjs";

const SIZE = 256 * 1024;
const R = Number(process.env.BENCH_REPEAT ?? 5);

/** Bundles the pure policy module and imports it. */
export async function loadPolicy() {
  const out = await build({
    entryPoints: [join(ROOT, "src/builds/execution-policy.ts")],
    bundle: true,
    format: "esm",
    platform: "neutral",
    write: false,
    logLevel: "silent",
  });
  const dir = mkdtempSync(join(os.tmpdir(), "bench-policy-"));
  const file = join(dir, "execution-policy.mjs");
  writeFileSync(file, out.outputFiles[0].text);
  try {
    return await import(pathToFileURL(file).href);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const fill = (prefix, unit) =>
  prefix + unit.repeat(Math.ceil((SIZE - prefix.length) / unit.length)).slice(0, SIZE - prefix.length);

/** The shapes: each targets one pattern's worst case (and a plain long command as baseline). */
export const SHAPES = {
  "plain words": fill("echo ", "word "),
  "rm -rrrr… (no f)": fill("rm -", "r"),
  "rm -rm -rm …": fill("", "rm -r "),
  "git clean -dddd…": fill("git clean -", "d"),
  "dd if=aaaa…": fill("dd if=", "a"),
  "many paths": fill("cat ", "./src/a/b "),
};

/** Median ms of R runs of the pre-check per shape, with the verdict. */
export async function benchPolicy(repeat = R) {
  const { precheckNode } = await loadPolicy();
  const rows = [];
  for (const [name, command] of Object.entries(SHAPES)) {
    const times = [];
    let code = null;
    for (let i = 0; i < repeat; i++) {
      const t = performance.now();
      code = precheckNode({ metadata: { policy_allowed_paths: ["src"] }, nodeId: "n", command })?.code ?? null;
      times.push(performance.now() - t);
    }
    times.sort((a, b) => a - b);
    rows.push({
      name,
      bytes: command.length,
      median_ms: times[Math.floor(times.length / 2)],
      max_ms: times.at(-1),
      verdict: code ?? "allowed",
    });
  }
  return rows;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const rows = await benchPolicy();
  console.log(`execution-policy pre-check, ${SIZE / 1024} KiB commands, median of ${R} runs:`);
  for (const r of rows)
    console.log(
      `  ${r.name.padEnd(22)} ${r.median_ms.toFixed(2).padStart(8)} ms (max ${r.max_ms.toFixed(2)} ms)  → ${r.verdict}`,
    );
}
