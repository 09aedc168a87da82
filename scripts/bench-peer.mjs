#!/usr/bin/env node
/**
 * `npm run bench:peer`: only the peer section of `npm run bench` (scripts/lib/bench-peer.mjs) —
 * this project's builds against the same job as a Cloudflare Workflow, interleaved, on the same
 * wrangler/workerd. Knobs: BENCH_REPEAT (3), BENCH_PEER_RUNS (20), BENCH_PEER_CLIENTS (20),
 * BENCH_PEER_LOAD_S (20), BENCH_PEER_BURST (200). Writes bench-results-peer.json (gitignored).
 */
import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { peerConfig, renderPeerTable, runPeerBench } from "./lib/bench-peer.mjs";
import { ROOT } from "./lib/wrangler.mjs";

const cfg = peerConfig(process.env);
console.log(`bench:peer — config ${JSON.stringify(cfg)}`);
const rows = await runPeerBench(cfg);
console.log(`\n${renderPeerTable(rows)}`);
const file = resolve(ROOT, "bench-results-peer.json");
writeFileSync(file, `${JSON.stringify({ generated_at: new Date().toISOString(), config: cfg, rows }, null, 2)}\n`);
console.log(`\nwrote ${file}`);
