/**
 * Security-plane test helpers: signed webhook requests (reference X-Platform scheme built by
 * hand, Standard Webhooks via the `standardwebhooks` library), a worker fetch with env overrides
 * (the seam for tight rate limits, another keyring or an unreachable ReplayGuard), and D1 scans.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { Webhook } from "standardwebhooks";
import { expect } from "vitest";
import worker from "../../src/index";
import { raw } from "../helpers/api";

/** The test secrets configured in vitest.config.ts. */
export const PLATFORM_SECRET = env.PLATFORM_WEBHOOK_SIGNING_SECRET!;
export const [WHSEC_PRIMARY, WHSEC_ROTATED] = env.STANDARD_WEBHOOK_SECRETS!.split(" ") as [string, string];

export const INGEST = "/v1/program/webhook/ingest";
export const nowSeconds = () => Math.floor(Date.now() / 1000);

async function hmacHex(secret: string, data: string): Promise<string> {
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const sig = new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(data)));
  return [...sig].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** Reference scheme, by hand: hex(HMAC-SHA256(secret, "<ts>.<nonce>." + body)). */
export async function platformHeaders(
  body: string,
  opts: { nonce?: string; timestamp?: number; secret?: string } = {},
) {
  const nonce = opts.nonce ?? crypto.randomUUID();
  const ts = opts.timestamp ?? nowSeconds();
  return {
    "x-platform-nonce": nonce,
    "x-platform-timestamp": String(ts),
    "x-platform-signature": await hmacHex(opts.secret ?? PLATFORM_SECRET, `${ts}.${nonce}.${body}`),
    "content-type": "application/json",
  };
}

/** Standard Webhooks headers signed by the reference library. */
export function standardHeaders(body: string, opts: { id?: string; timestamp?: number; secret?: string } = {}) {
  const id = opts.id ?? `msg_${crypto.randomUUID()}`;
  const ts = opts.timestamp ?? nowSeconds();
  const signature = new Webhook(opts.secret ?? WHSEC_PRIMARY).sign(id, new Date(ts * 1000), body);
  return {
    "webhook-id": id,
    "webhook-timestamp": String(ts),
    "webhook-signature": signature,
    "content-type": "application/json",
  };
}

export function ingest(body: string, headers: Record<string, string>, path = INGEST): Promise<Response> {
  return raw(path, { method: "POST", headers, body });
}

/** The worker with `overrides` applied to its env (a fresh config parse per call). */
export async function fetchWith(
  overrides: Record<string, unknown>,
  path: string,
  init: RequestInit = {},
): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await worker.fetch(new Request(`http://cp.test${path}`, init), { ...env, ...overrides } as Env, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

/** A Durable Object namespace standing in for an unreachable ReplayGuard. */
export function unreachableNamespace(mode: "throw" | "hang"): unknown {
  const call = () =>
    mode === "throw"
      ? Promise.reject(Object.assign(new Error("Durable Object is overloaded."), { overloaded: true }))
      : new Promise(() => {});
  return {
    idFromName: () => ({ toString: () => "unreachable" }),
    get: () => new Proxy({}, { get: () => call }),
  };
}

/** Every row of every table of the D1 database, as JSON text. */
export async function dumpD1(): Promise<string> {
  const tables = await env.DB.prepare(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%'",
  ).all<{ name: string }>();
  const out: string[] = [];
  for (const { name } of tables.results) {
    const rows = await env.DB.prepare(`SELECT * FROM "${name}"`).all();
    out.push(`${name}: ${JSON.stringify(rows.results)}`);
  }
  return out.join("\n");
}

export async function count(sql: string, ...params: unknown[]): Promise<number> {
  const row = await env.DB.prepare(sql)
    .bind(...params)
    .first<{ n: number }>();
  return row?.n ?? 0;
}

export async function problemOf(res: Response): Promise<{ status: number; code: string; detail?: string }> {
  expect(res.headers.get("content-type")).toBe("application/problem+json");
  return (await res.json()) as { status: number; code: string; detail?: string };
}
