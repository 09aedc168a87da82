#!/usr/bin/env node
/**
 * Sends one signed test delivery to a local control plane:
 *   npm run --silent webhook:send -- [standard|platform] [json-body] [--url http://127.0.0.1:8787]
 * `standard` (default) signs with Standard Webhooks (webhook-id / webhook-timestamp /
 * webhook-signature: v1,<base64 HMAC-SHA256 of "<id>.<ts>.<body>"> keyed by the first whsec_ secret
 * of STANDARD_WEBHOOK_SECRETS); `platform` uses the reference X-Platform-Nonce / Timestamp /
 * Signature scheme (hex HMAC-SHA256 of "<ts>.<nonce>.<body>" keyed by
 * PLATFORM_WEBHOOK_SIGNING_SECRET). Secrets come from .dev.vars (created by `npm start`) and are
 * never printed. Prints the response status and body; exits 0 on 2xx.
 */
import { createHmac, randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseDevVars } from "./lib/dev-vars.mjs";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const DEV_VARS = resolve(ROOT, ".dev.vars");

function fail(message) {
  process.stderr.write(`error: ${message}\n`);
  process.exit(1);
}

const args = process.argv.slice(2);
let url = `http://127.0.0.1:${process.env.PORT || "8787"}`;
const positional = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--url") url = args[++i] ?? fail("--url needs a value");
  else positional.push(args[i]);
}
const scheme = positional[0] === "platform" || positional[0] === "standard" ? positional.shift() : "standard";
const body = positional[0] ?? JSON.stringify({ event: "local.test", sent_at: new Date().toISOString() });

let vars;
try {
  vars = parseDevVars(readFileSync(DEV_VARS, "utf8"));
} catch {
  fail(`${DEV_VARS} not found; run \`npm start\` once to create it.`);
}

const ts = Math.floor(Date.now() / 1000);
let headers;
if (scheme === "standard") {
  const secret = (vars.STANDARD_WEBHOOK_SECRETS ?? "").split(/[\s,]+/).find((s) => s.startsWith("whsec_"));
  if (!secret) fail("STANDARD_WEBHOOK_SECRETS is missing from .dev.vars; run `npm start` once to add it.");
  const id = `msg_${randomUUID()}`;
  const sig = createHmac("sha256", Buffer.from(secret.slice("whsec_".length), "base64"))
    .update(`${id}.${ts}.${body}`)
    .digest("base64");
  headers = { "webhook-id": id, "webhook-timestamp": String(ts), "webhook-signature": `v1,${sig}` };
} else {
  const secret = vars.PLATFORM_WEBHOOK_SIGNING_SECRET;
  if (!secret) fail("PLATFORM_WEBHOOK_SIGNING_SECRET is missing from .dev.vars; run `npm start` once to add it.");
  const nonce = randomUUID();
  const sig = createHmac("sha256", secret).update(`${ts}.${nonce}.${body}`).digest("hex");
  headers = { "x-platform-nonce": nonce, "x-platform-timestamp": String(ts), "x-platform-signature": sig };
}

let res;
try {
  res = await fetch(`${url}/v1/program/webhook/ingest`, {
    method: "POST",
    headers: { ...headers, "content-type": "application/json" },
    body,
  });
} catch (err) {
  fail(`could not reach ${url} (${err.cause?.code ?? err.message}); is \`npm start\` running?`);
}
process.stdout.write(`${res.status} ${await res.text()}\n`);
process.exit(res.ok ? 0 : 1);
