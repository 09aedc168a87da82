#!/usr/bin/env node
/**
 * `npm run bench:builds`: the build-latency part of `npm run bench` (scripts/bench.mjs, which
 * folded this benchmark in): create→completed of static_v1 and adaptive builds with
 * zero-duration simulated nodes and the per-level overhead, against the unloaded GET /health
 * baseline of the same run. Writes bench-results-builds.json (gitignored).
 */
process.env.BENCH_SECTIONS ??= "latency";
process.env.BENCH_RESULTS_FILE ??= "bench-results-builds.json";
await import("./bench.mjs");
