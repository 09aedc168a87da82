#!/usr/bin/env node
/**
 * `npm run bench:devload`: only the devload section of `npm run bench` (scripts/lib/bench-devload.mjs,
 * issue 22) — `npm start`'s dev server under a burst of builds with concurrent pollers, beside the
 * Workflows peer. Knobs: BENCH_DEVLOAD_BURST (500), BENCH_DEVLOAD_POLLERS (50). Writes
 * bench-results-devload.json (gitignored).
 */
import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { devLoadConfig, renderDevLoadTable, runDevLoadBench } from "./lib/bench-devload.mjs";
import { ROOT } from "./lib/wrangler.mjs";

const cfg = devLoadConfig(process.env);
console.log(`bench:devload — config ${JSON.stringify(cfg)}`);
const result = await runDevLoadBench(cfg);
console.log(`\n${renderDevLoadTable(result)}`);
const file = resolve(ROOT, "bench-results-devload.json");
writeFileSync(file, `${JSON.stringify({ generated_at: new Date().toISOString(), ...result }, null, 2)}\n`);
console.log(`\nwrote ${file}`);
