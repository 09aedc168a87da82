/**
 * Webhook authentication (SPEC §6.4, DESIGN §7): header parsing for the reference
 * `X-Platform-Nonce/Timestamp/Signature` scheme and Standard Webhooks (`webhook-id`,
 * `webhook-timestamp`, `webhook-signature: v1,<base64> …`), the timestamp window, capped body
 * reading and signature checks. Signatures are checked with WebCrypto `verify` (constant time);
 * nothing here logs or echoes a signature or secret.
 */
import { AppError } from "../kernel/errors";
import { concatBytes, fromBase64, fromHex, utf8 } from "../lib/crypto";

export type WebhookScheme = "platform" | "standard";

export interface WebhookHeaders {
  scheme: WebhookScheme;
  /** X-Platform-Nonce or webhook-id. */
  id: string;
  /** The timestamp exactly as signed (trimmed header text). */
  timestampText: string;
  timestamp: number;
  signature: string;
}

/** At most this many `v1,` signatures of one header are tried (rotation needs 2–3). */
const MAX_SIGNATURES = 8;
const ID_RE = /^[\x21-\x7e]{1,256}$/;

function missing(detail = "Missing webhook security headers."): AppError {
  return new AppError("webhook_headers_missing", detail);
}

/** Reads the security headers of either scheme: 400 `webhook_headers_missing` / `timestamp_invalid`. */
export function parseWebhookHeaders(h: Headers): WebhookHeaders {
  const get = (name: string) => h.get(name)?.trim() ?? "";
  const standard = ["webhook-id", "webhook-timestamp", "webhook-signature"].some((n) => h.has(n));
  const [scheme, id, ts, sig]: [WebhookScheme, string, string, string] = standard
    ? ["standard", get("webhook-id"), get("webhook-timestamp"), get("webhook-signature")]
    : ["platform", get("x-platform-nonce"), get("x-platform-timestamp"), get("x-platform-signature")];
  if (id === "" || ts === "" || sig === "") throw missing();
  if (!ID_RE.test(id)) throw missing(`Invalid ${scheme === "standard" ? "webhook-id" : "X-Platform-Nonce"} header.`);
  if (!/^[+-]?\d{1,15}$/.test(ts)) throw new AppError("timestamp_invalid", "Timestamp must be an integer.");
  return { scheme, id, timestampText: ts, timestamp: Number.parseInt(ts, 10), signature: sig };
}

/** 401 `webhook_timestamp_invalid` when |now − timestamp| exceeds the window (checked before the signature). */
export function assertInWindow(timestamp: number, nowSeconds: number, windowSeconds: number): void {
  if (Math.abs(nowSeconds - timestamp) > windowSeconds) {
    throw new AppError("webhook_timestamp_invalid", "timestamp_out_of_window");
  }
}

/** Reads the body, refusing more than `cap` bytes (413) without buffering beyond the cap. */
export async function readBodyCapped(req: Request, cap: number): Promise<Uint8Array> {
  const tooLarge = () => new AppError("payload_too_large", `Request body exceeds ${cap} bytes.`);
  const declared = Number(req.headers.get("content-length") ?? "");
  if (Number.isFinite(declared) && declared > cap) throw tooLarge();
  if (req.body === null) return new Uint8Array(0);
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > cap) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge();
    }
    chunks.push(value);
  }
  return concatBytes(...chunks);
}

async function hmacVerify(key: Uint8Array, signature: Uint8Array, data: Uint8Array): Promise<boolean> {
  const k = await crypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, ["verify"]);
  return crypto.subtle.verify("HMAC", k, signature, data);
}

/** Reference scheme: hex(HMAC-SHA256(secret, "<timestamp>.<nonce>." ‖ body)), no prefix. */
export async function verifyPlatformSignature(secret: string, h: WebhookHeaders, body: Uint8Array): Promise<boolean> {
  const sig = fromHex(h.signature);
  if (sig === null || sig.length !== 32) return false;
  return hmacVerify(utf8(secret), sig, concatBytes(utf8(`${h.timestampText}.${h.id}.`), body));
}

/**
 * Standard Webhooks: base64(HMAC-SHA256(key, "<id>.<timestamp>." ‖ body)) as `v1,<sig>` entries,
 * space-separated; any entry matching any configured secret verifies (rotation on both sides).
 */
export async function verifyStandardSignature(
  keys: readonly Uint8Array[],
  h: WebhookHeaders,
  body: Uint8Array,
): Promise<boolean> {
  const data = concatBytes(utf8(`${h.id}.${h.timestampText}.`), body);
  const sigs = h.signature
    .split(" ")
    .filter((s) => s.startsWith("v1,"))
    .slice(0, MAX_SIGNATURES)
    .map((s) => fromBase64(s.slice(3)))
    .filter((s): s is Uint8Array => s !== null && s.length === 32);
  for (const key of keys) {
    for (const sig of sigs) {
      if (await hmacVerify(key, sig, data)) return true;
    }
  }
  return false;
}
