/**
 * Issue 17 item 10: the development token endpoint trusts neither look-alike "loopback" Host names
 * (`evil.localhost`, `127.9.9.9`) nor a non-loopback connection, and is never served to another
 * origin through the development CORS setting (`http://localhost:*`).
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/http/app";

const app = createApp();
// The development setup of scripts/dev.mjs: CORS for any local port.
const devEnv = {
  ...env,
  ENVIRONMENT: "development",
  CORS_ALLOWED_ORIGINS: "http://localhost:*,http://127.0.0.1:*",
} as Env;
const post = (headers: Record<string, string> = {}): RequestInit => ({
  method: "POST",
  headers: { "content-type": "application/json", ...headers },
  body: JSON.stringify({ role: "admin" }),
});

function call(host: string, init: RequestInit = {}) {
  return app.request(`http://${host}/v1/dev/token`, init, devEnv);
}

describe("dev token: host and peer", () => {
  it.each([
    "evil.localhost",
    "evil.localhost:8787",
    "127.9.9.9",
    "127.0.0.2:8787",
    "localhost.evil.example",
    "0.0.0.0:8787",
    "[::ffff:127.0.0.1]",
  ])("404 for Host %s", async (host) => {
    const res = await call(host, post());
    expect(res.status).toBe(404);
    expect(((await res.json()) as { code: string }).code).toBe("not_found");
  });

  it("404 when the connection is not from loopback, even with Host: localhost", async () => {
    for (const ip of ["192.168.1.20", "10.0.0.7", "2001:db8::1"]) {
      const res = await call("localhost:8787", post({ "cf-connecting-ip": ip }));
      expect(res.status).toBe(404);
    }
    const ok = await call("localhost:8787", post({ "cf-connecting-ip": "127.0.0.1" }));
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { token: string }).token).toMatch(/^ey/);
  });
});

describe("dev token: never cross-origin", () => {
  it("no CORS grant for a localhost page on another port (preflight and POST)", async () => {
    const origin = "http://localhost:3000";
    const preflight = await call("127.0.0.1:8787", {
      method: "OPTIONS",
      headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "content-type" },
    });
    expect(preflight.headers.get("access-control-allow-origin")).toBeNull();
    const res = await call("127.0.0.1:8787", post({ origin }));
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
    // Dev CORS still applies to the rest of the API.
    const other = await app.request("http://127.0.0.1:8787/health", { headers: { origin } }, devEnv);
    expect(other.headers.get("access-control-allow-origin")).toBe(origin);
  });
});
