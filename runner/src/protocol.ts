/**
 * The runner side of the runner protocol. The schemas, the signature and the result shape are
 * the control plane's own (src/builds/runner-protocol.ts): one source for both sides.
 */
import { timingSafeEqual } from "node:crypto";
import {
  type Dispatch,
  DispatchSchema,
  type RunnerFinding,
  type RunnerMessage,
  signStandardWebhook,
} from "../../src/builds/runner-protocol";

export { DispatchSchema, type Dispatch, type RunnerFinding };
export type ResultMessage = Extract<RunnerMessage, { type: "result" }>;
/** What a role returns; the server adds ids, duration and workspace. */
export type RoleResult = Pick<ResultMessage, "status" | "summary" | "findings" | "logs_excerpt"> & {
  error?: string | null;
  exit_code?: number | null;
};

export function keyOf(secret: string): Uint8Array {
  return new Uint8Array(Buffer.from(secret.slice("whsec_".length), "base64"));
}

/** Verifies Standard Webhooks headers of a dispatch; returns an error string or null. */
export async function verifyDispatch(
  key: Uint8Array,
  headers: Record<string, string | string[] | undefined>,
  body: string,
  now = Math.floor(Date.now() / 1000),
  windowSeconds = 300,
): Promise<string | null> {
  const one = (h: string) => (Array.isArray(headers[h]) ? headers[h]?.[0] : (headers[h] as string | undefined));
  const id = one("webhook-id");
  const ts = one("webhook-timestamp");
  const sig = one("webhook-signature");
  if (!id || !ts || !sig) return "missing signature headers";
  if (!/^\d+$/.test(ts) || Math.abs(now - Number(ts)) > windowSeconds) return "timestamp outside window";
  const expected = Buffer.from(
    (await signStandardWebhook(key, id, body, Number(ts)))["webhook-signature"]!.slice(3),
    "base64",
  );
  const ok = sig
    .split(" ")
    .filter((s) => s.startsWith("v1,"))
    .some((s) => {
      const got = Buffer.from(s.slice(3), "base64");
      return got.length === expected.length && timingSafeEqual(got, expected);
    });
  return ok ? null : "bad signature";
}

/** POSTs a signed report to the control plane's callback URL; returns the status. */
export async function report(key: Uint8Array, callbackUrl: string, message: RunnerMessage): Promise<number> {
  const body = JSON.stringify(message);
  const headers = await signStandardWebhook(key, `cb_${crypto.randomUUID()}`, body);
  const res = await fetch(callbackUrl, {
    method: "POST",
    headers: { ...headers, "content-type": "application/json" },
    body,
    signal: AbortSignal.timeout(10_000),
  });
  await res.arrayBuffer().catch(() => undefined);
  return res.status;
}
