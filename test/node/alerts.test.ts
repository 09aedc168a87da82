/**
 * Alerts that fire without Prometheus (issue 23 item 5), end to end: wrangler dev with the
 * --test-scheduled route, and a real HTTP receiver on loopback as the alert destination (one
 * Standard Webhooks path, one Slack-compatible path). A campaign that degrades produces exactly
 * one firing notification per destination however often the scheduled handler runs, signed as
 * Standard Webhooks; when it recovers, exactly one resolving notification.
 */
import { createHmac, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { type IncomingHttpHeaders, type Server, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// @ts-expect-error plain ESM helper scripts without type declarations
import { triggerScheduled } from "../../scripts/lib/watchdog-ticker.mjs";
// @ts-expect-error plain ESM helper scripts without type declarations
import { freePort, startWranglerDev } from "../../scripts/lib/wrangler.mjs";

const KEY = randomBytes(24);
const SECRET = `whsec_${KEY.toString("base64")}`;
const REPO = "https://github.com/acme/alerting";
const FAIL = { runner_results: { scanner: { status: "failed" } } };

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}
const received: Received[] = [];
let receiver: Server;
let receiverUrl = "";
let tmp = "";
let dev: { url: string; stop(): Promise<void>; output(): string } | null = null;
let token = "";

async function call(method: string, path: string, body?: unknown): Promise<any> {
  const res = await fetch(`${dev?.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { "content-type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
    signal: AbortSignal.timeout(20_000),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

async function until<T>(fn: () => Promise<T | null | undefined | false>, what: string, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function execute(id: string, n: number, runMetadata: Record<string, unknown> = {}): Promise<void> {
  await call("POST", `/v1/program/campaigns/${id}/execute`, {
    metadata: { simulated_duration_ms: 0 },
    run_metadata: runMetadata,
  });
  await until(
    async () => (await call("GET", `/v1/program/campaigns/${id}/executions/${n}`)).status === "finished",
    `execution ${n} finished`,
  );
}

async function scheduled(): Promise<void> {
  expect(await triggerScheduled(dev?.url)).toBe(true);
}

function verifyStandardWebhook(r: Received): void {
  const id = String(r.headers["webhook-id"]);
  const ts = String(r.headers["webhook-timestamp"]);
  const expected = createHmac("sha256", KEY).update(`${id}.${ts}.${r.body}`).digest("base64");
  expect(String(r.headers["webhook-signature"]).split(" ")).toContain(`v1,${expected}`);
  expect(Math.abs(Date.now() / 1000 - Number(ts))).toBeLessThan(600);
}

const drift = (path: string) => received.filter((r) => r.path === path && r.body.includes("campaign_drift:"));

beforeAll(async () => {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      received.push({ path: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks).toString("utf8") });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", r));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;

  tmp = mkdtempSync(join(tmpdir(), "clarity-alerts-"));
  const envFile = join(tmp, "empty.env");
  writeFileSync(envFile, "# settings come from --var\n");
  const jwtSecret = randomBytes(24).toString("hex");
  token = await new SignJWT({ roles: ["operator"], org_id: "alerts-org" })
    .setProtectedHeader({ alg: "HS256" })
    .setSubject("alerts-operator")
    .setAudience("authenticated")
    .setExpirationTime("1h")
    .sign(new TextEncoder().encode(jwtSecret));
  const port = await freePort();
  dev = await startWranglerDev({
    port,
    persistTo: join(tmp, "state"),
    envFile,
    logLevel: "warn",
    extraArgs: ["--test-scheduled", "--dev-migrations"],
    inspector: false,
    vars: {
      // development: destinations on plain-http loopback are allowed.
      ENVIRONMENT: "development",
      JWT_SECRET: jwtSecret,
      STREAM_TOKEN_SECRET: randomBytes(24).toString("hex"),
      SECRETS_KEYRING: JSON.stringify({ 1: randomBytes(32).toString("base64") }),
      RATE_LIMIT_ENABLED: "false",
      PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
    },
  });
});

afterAll(async () => {
  await dev?.stop();
  await new Promise((r) => receiver?.close(r));
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe("control-plane alerts delivered to a loopback receiver", () => {
  it("a drifting campaign: exactly one firing and one resolving notification per destination, signed", async () => {
    await call("POST", "/v1/program/alert-destinations", { name: "std", url: `${receiverUrl}/std`, secret: SECRET });
    await call("POST", "/v1/program/alert-destinations", {
      name: "slack",
      format: "slack",
      url: `${receiverUrl}/slack`,
      secret: SECRET,
    });
    const { campaign_id: id } = await call("POST", "/v1/program/campaigns", {
      name: "alerting",
      repos: [REPO],
      runs_per_repo: 1,
      dry_run: true,
    });
    await execute(id, 1);
    await scheduled();
    expect(drift("/std")).toEqual([]);

    // Degrade: the second execution fails its run → drift verdict degrading → fires.
    await execute(id, 2, { "github.com_acme_alerting-run-1": FAIL });
    await scheduled();
    await scheduled();
    await scheduled();
    const [fired] = drift("/std");
    expect(drift("/std")).toHaveLength(1);
    expect(drift("/slack")).toHaveLength(1);
    verifyStandardWebhook(fired as Received);
    const event = JSON.parse((fired as Received).body);
    expect(event).toMatchObject({
      type: "alert.firing",
      data: { alert: `campaign_drift:${id}`, state: "firing", firing: 1, tenant_id: "alerts-org" },
    });
    expect(JSON.parse((drift("/slack")[0] as Received).body).text).toMatch(
      /^:rotating_light: FIRING \[ticket\] campaign_drift:/,
    );

    // Recover: the third execution succeeds → no longer degrading → one resolve.
    await execute(id, 3);
    await scheduled();
    await scheduled();
    expect(drift("/std").map((r) => JSON.parse(r.body).type)).toEqual(["alert.firing", "alert.resolved"]);
    expect(drift("/slack").map((r) => JSON.parse(r.body).text.split(" ")[1])).toEqual(["FIRING", "RESOLVED"]);
    for (const r of drift("/std")) verifyStandardWebhook(r);

    const alerts = await call("GET", "/v1/program/alerts");
    const mine = alerts.recent.find((a: any) => a.alert === `campaign_drift:${id}`);
    expect(mine).toMatchObject({
      state: "resolved",
      firing_seq: 1,
      last_delivery: { status: "delivered", attempts: 1 },
    });
  }, 180_000);
});
