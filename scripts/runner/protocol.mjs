// Runner side of the runner protocol (src/builds/runner-protocol.ts): Standard Webhooks
// signatures over "<id>.<timestamp>.<body>" with a shared whsec_ secret, both directions.
import { createHmac, randomUUID, timingSafeEqual } from "node:crypto";

export function keyOf(secret) {
  if (!secret || !secret.startsWith("whsec_")) throw new Error("RUNNER_SHARED_SECRET must be a whsec_… secret");
  return Buffer.from(secret.slice("whsec_".length), "base64");
}

export function sign(key, id, timestamp, body) {
  return `v1,${createHmac("sha256", key).update(`${id}.${timestamp}.${body}`).digest("base64")}`;
}

/** Verifies Standard Webhooks headers; returns an error string or null. */
export function verify(key, headers, body, windowSeconds = 300, now = Math.floor(Date.now() / 1000)) {
  const id = headers["webhook-id"];
  const ts = headers["webhook-timestamp"];
  const sig = headers["webhook-signature"];
  if (!id || !ts || !sig) return "missing signature headers";
  if (!/^\d+$/.test(ts) || Math.abs(now - Number(ts)) > windowSeconds) return "timestamp outside window";
  const expected = Buffer.from(sign(key, id, ts, body).slice(3), "base64");
  const ok = String(sig)
    .split(" ")
    .filter((s) => s.startsWith("v1,"))
    .some((s) => {
      const got = Buffer.from(s.slice(3), "base64");
      return got.length === expected.length && timingSafeEqual(got, expected);
    });
  return ok ? null : "bad signature";
}

/** POSTs a signed report to the control plane's callback URL. */
export async function report(key, callbackUrl, message) {
  const body = JSON.stringify(message);
  const id = `cb_${randomUUID()}`;
  const ts = String(Math.floor(Date.now() / 1000));
  const res = await fetch(callbackUrl, {
    method: "POST",
    headers: { "content-type": "application/json", "webhook-id": id, "webhook-timestamp": ts, "webhook-signature": sign(key, id, ts, body) },
    body,
    signal: AbortSignal.timeout(10_000),
  });
  return res.status;
}
