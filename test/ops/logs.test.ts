/**
 * Structured logs: one JSON object per line carrying the request id, and no secret in any line —
 * checked by capturing every console line while requests carry tokens, secret values, webhook
 * signatures, stream tokens and idempotency keys through the real app with access logging on.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import worker from "../../src/index";
import { logLine, redact, redactString } from "../../src/kernel/log";
import { tokenFor } from "../helpers/auth";
import { platformHeaders, standardHeaders } from "../security/helpers";

const loud = { ...env, LOG_LEVEL: "debug" } as Env;

function capture() {
  const lines: string[] = [];
  const record = (...args: unknown[]) => void lines.push(args.map(String).join(" "));
  vi.spyOn(console, "log").mockImplementation(record);
  vi.spyOn(console, "info").mockImplementation(record);
  vi.spyOn(console, "warn").mockImplementation(record);
  vi.spyOn(console, "error").mockImplementation(record);
  return lines;
}

async function call(path: string, init: RequestInit = {}): Promise<{ status: number; body: any }> {
  const ctx = createExecutionContext();
  const res = await worker.fetch(new Request(`http://cp.test${path}`, init), loud, ctx);
  const text = await res.text();
  await waitOnExecutionContext(ctx);
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

afterEach(() => vi.restoreAllMocks());

describe("structured logs", () => {
  it("write one JSON line per request with its request id, and never a secret", async () => {
    const lines = capture();
    const security = await tokenFor({ sub: "log-security", roles: ["security", "operator"] });
    const auth = { authorization: `Bearer ${security}`, "content-type": "application/json" };
    const secretValue = "ghp_SuperSecretValue0123456789abcdefXYZ";
    const requestId = "log-test-request-0001";

    const created = await call("/v1/program/secrets", {
      method: "POST",
      headers: { ...auth, "x-request-id": requestId, "idempotency-key": "log-key-1" },
      body: JSON.stringify({ name: "gh_token", value: secretValue }),
    });
    expect(created.status).toBe(201);
    const build = await call("/v1/builds", {
      method: "POST",
      headers: auth,
      body: JSON.stringify({ repo_url: "https://github.com/acme/logs", metadata: { simulated_duration_ms: 0 } }),
    });
    expect(build.status).toBe(201);
    const streamToken = (
      await call(`/v1/builds/${build.body.build_id}/events/token`, { method: "POST", headers: auth })
    ).body.token as string;
    // A stream token in the query string (for another build: refused at once) never reaches a log line.
    expect((await call(`/v1/builds/${crypto.randomUUID()}/events?stream_token=${streamToken}`)).status).toBe(401);
    const body = JSON.stringify({ hello: "logs" });
    const platform = await platformHeaders(body);
    expect((await call("/v1/program/webhook/ingest", { method: "POST", headers: platform, body })).status).toBe(200);
    const standard = standardHeaders(body);
    expect(
      (
        await call("/v1/program/webhook/ingest", {
          method: "POST",
          headers: { ...standard, "webhook-signature": "v1,AAAA" },
          body,
        })
      ).status,
    ).toBe(401);
    expect((await call("/v1/builds", { headers: { authorization: `Bearer ${security}x` } })).status).toBe(401);

    const secrets = [
      security,
      streamToken,
      secretValue,
      env.JWT_SECRET,
      env.STREAM_TOKEN_SECRET,
      env.PLATFORM_WEBHOOK_SIGNING_SECRET,
      ...String(env.STANDARD_WEBHOOK_SECRETS).split(" "),
      ...Object.values(JSON.parse(String(env.SECRETS_KEYRING)) as Record<string, string>),
      platform["x-platform-signature"],
      standard["webhook-signature"].split(",")[1],
      String(env.RUNNER_SHARED_SECRETS),
    ].filter((s): s is string => typeof s === "string" && s.length >= 8);
    expect(lines.filter((l) => l.includes('"msg":"request"')).length).toBe(7);
    for (const line of lines) {
      const parsed = JSON.parse(line) as Record<string, unknown>;
      expect(typeof parsed.level).toBe("string");
      expect(typeof parsed.msg).toBe("string");
      if (parsed.msg === "request") expect(typeof parsed.request_id).toBe("string");
      for (const s of secrets) expect(line.includes(s), `a secret in: ${line}`).toBe(false);
      expect(line).not.toContain("stream_token=");
    }
    const first = lines.map((l) => JSON.parse(l)).find((l) => l.request_id === requestId);
    expect(first).toMatchObject({
      level: "info",
      msg: "request",
      method: "POST",
      route: "POST /v1/program/secrets",
      path: "/v1/program/secrets",
      status: 201,
    });
  });

  it("stay quiet below the configured level", async () => {
    const lines = capture();
    const ctx = createExecutionContext();
    await worker.fetch(new Request("http://cp.test/health"), { ...env, LOG_LEVEL: "warn" } as Env, ctx);
    await waitOnExecutionContext(ctx);
    expect(lines).toEqual([]);
  });
});

describe("redaction", () => {
  it("drops secret-looking keys and masks tokens and key material in strings", () => {
    const jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlc2lnbmF0dXJl";
    expect(redactString(`Authorization: Bearer ${jwt}`)).toBe("Authorization: Bearer [redacted]");
    expect(redactString(`token ${jwt} leaked`)).toBe("token [redacted-jwt] leaked");
    expect(redactString("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw rotated")).toBe("whsec_[redacted] rotated");
    expect(redactString("key AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE= loaded")).toBe("key [redacted] loaded");
    expect(redactString("sk_live_0123456789abcdef in config")).toBe("[redacted-key] in config");
    expect(
      redact({ password: "p", api_key: "k", nested: { client_secret: "s", ok: "fine" }, list: ["Bearer abc.def"] }),
    ).toEqual({
      password: "[redacted]",
      api_key: "[redacted]",
      nested: { client_secret: "[redacted]", ok: "fine" },
      list: ["Bearer [redacted]"],
    });
    expect(redact(new TypeError(`bad ${jwt}`))).toBe("TypeError: bad [redacted-jwt]");
    expect(redactString("x".repeat(5000)).length).toBeLessThanOrEqual(2001);
  });

  it("logLine writes one redacted JSON object", () => {
    const lines = capture();
    logLine("warn", "example", { request_id: "r1", authorization: "Bearer zzz", error: new Error("Bearer abc") });
    expect(lines.map((l) => JSON.parse(l))).toEqual([
      {
        level: "warn",
        msg: "example",
        request_id: "r1",
        authorization: "[redacted]",
        error: "Error: Bearer [redacted]",
      },
    ]);
  });
});
