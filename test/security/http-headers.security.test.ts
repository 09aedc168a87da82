import { describe, expect, it } from "vitest";
import { caller, raw } from "../helpers/api";
import { fetchWith } from "./helpers";

const ORIGINS = { CORS_ALLOWED_ORIGINS: "https://app.example.com, http://localhost:*" };

describe("security headers", () => {
  it("are on API responses, success and error alike", async () => {
    const c = await caller();
    const responses = [
      await raw("/health"),
      await raw("/v1/builds"),
      await raw("/v1/nope"),
      await c.request("GET", "/v1/builds"),
    ];
    for (const { headers: h } of responses) {
      expect(h.get("x-content-type-options")).toBe("nosniff");
      expect(h.get("x-frame-options")).toBe("DENY");
      expect(h.get("content-security-policy")).toContain("frame-ancestors 'none'");
      expect(h.get("referrer-policy")).toBe("no-referrer");
      expect(h.get("strict-transport-security")).toContain("max-age=");
      expect(h.get("cache-control")).toBe("no-store");
    }
  });
});

describe("CORS", () => {
  it("answers a preflight from an allowed origin without authentication", async () => {
    const res = await fetchWith(ORIGINS, "/v1/builds", {
      method: "OPTIONS",
      headers: {
        origin: "https://app.example.com",
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization, idempotency-key",
      },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe("https://app.example.com");
    expect(res.headers.get("access-control-allow-headers")?.toLowerCase()).toContain("idempotency-key");
    expect(res.headers.get("access-control-allow-credentials")).toBeNull();
  });

  it("allows any port of a host written host:*", async () => {
    const res = await fetchWith(ORIGINS, "/health", { headers: { origin: "http://localhost:5173" } });
    expect(res.headers.get("access-control-allow-origin")).toBe("http://localhost:5173");
    expect(res.headers.get("access-control-expose-headers")?.toLowerCase()).toContain("x-request-id");
  });

  it("does not allow other origins, and none by default", async () => {
    for (const origin of ["https://evil.example.com", "http://app.example.com", "https://app.example.com.evil.io"]) {
      const res = await fetchWith(ORIGINS, "/health", { headers: { origin } });
      expect(res.headers.get("access-control-allow-origin")).toBeNull();
    }
    const res = await raw("/health", { headers: { origin: "https://app.example.com" } });
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
  });
});
