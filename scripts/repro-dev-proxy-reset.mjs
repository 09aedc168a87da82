#!/usr/bin/env node
/**
 * Reproduces the cause of issue 22's 503s and parked polls without any load (docs/DECISIONS.md
 * "Admission control": the resets that remain): wrangler's dev proxy keeps a pool of connections
 * to the worker's runtime, and a request it sends on a connection that has been idle for about
 * 4.5–4.9 s is reset, as the runtime's own idle timeout (about 5 s) closes that connection at the
 * same moment. The proxy takes the reset for a restarted worker: a POST is answered
 * `503 Your worker restarted mid-request`, a GET is parked for a retry.
 *
 * For each idle gap: N POSTs at once (opening N pooled connections), a pause of the gap, then N
 * POSTs at once again; prints the statuses of the second wave. Observed on this machine
 * (wrangler 4.86, N = 200): 0 × 503 after 1, 3, 4, 5, 6 and 9 s; 18–72 × 503 after 4.5–4.8 s.
 * Usage: node scripts/repro-dev-proxy-reset.mjs [gaps in ms, comma separated]
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { mintUserToken } from "./lib/user-token.mjs";
import { freePort, startWranglerDev } from "./lib/wrangler.mjs";

const N = 200;
const gaps = (process.argv[2] ?? "1000,4500,4700,4800,6000").split(",").map(Number);
const dir = mkdtempSync(join(os.tmpdir(), "clarity-proxy-reset-"));
const secret = randomBytes(24).toString("hex");
const token = await mintUserToken(secret, { sub: "repro", roles: ["admin"], ttl: "1h" });
writeFileSync(join(dir, "empty.env"), "# settings come from --var\n");
const server = await startWranglerDev({
  port: await freePort(),
  persistTo: join(dir, "state"),
  envFile: join(dir, "empty.env"),
  logLevel: "warn",
  inspector: false, // as npm start runs it
  extraArgs: ["--dev-migrations"],
  vars: {
    ENVIRONMENT: "development",
    LOG_LEVEL: "warn",
    JWT_SECRET: secret,
    STREAM_TOKEN_SECRET: randomBytes(24).toString("hex"),
    RATE_LIMIT_ENABLED: "false",
  },
});

/** A cheap POST that the worker answers 422 (an empty preview request). */
const post = () =>
  fetch(`${server.url}/v1/builds/preview-dag`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: "{}",
  })
    .then(async (res) => {
      await res.arrayBuffer();
      return String(res.status);
    })
    .catch((err) => `error ${err?.cause?.code ?? err?.name}`);

try {
  for (const gap of gaps) {
    await Promise.all(Array.from({ length: N }, post));
    await new Promise((r) => setTimeout(r, gap));
    const counts = {};
    for (const status of await Promise.all(Array.from({ length: N }, post))) counts[status] = (counts[status] ?? 0) + 1;
    console.log(`idle ${gap} ms, then ${N} POSTs at once: ${JSON.stringify(counts)}`);
  }
} finally {
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
}
