#!/usr/bin/env node
/**
 * The dev server of scripts/lib/dev-server.mjs in a process of its own (argv[2]: its options as
 * JSON), for harnesses that need it in its own process group — the crash test kills the group,
 * the bench counts the group's CPU time. SIGTERM/SIGINT dispose it and exit.
 */
import { startDevServer } from "./dev-server.mjs";

const options = JSON.parse(process.argv[2] ?? "{}");
const server = await startDevServer(options);
process.stdout.write(`dev server ready on ${server.url}\n`);
let stopping = false;
for (const signal of ["SIGTERM", "SIGINT"]) {
  process.on(signal, async () => {
    if (stopping) process.exit(1);
    stopping = true;
    await server.dispose().catch(() => {});
    process.exit(0);
  });
}
