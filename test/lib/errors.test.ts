import { Hono } from "hono";
import { describe, expect, it, vi } from "vitest";
import type { AppEnv } from "../../src/kernel/env";
import { AppError, ERROR_CODES, codeToStatus, onError } from "../../src/kernel/errors";
import { requestId } from "../../src/http/app";

describe("error model", () => {
  it("maps every code to a 4xx/5xx status", () => {
    for (const code of ERROR_CODES) {
      const status = codeToStatus(code);
      expect(status, code).toBeGreaterThanOrEqual(400);
      expect(status, code).toBeLessThan(600);
    }
    expect(codeToStatus("malformed_json")).toBe(400);
    expect(codeToStatus("validation_failed")).toBe(422);
    expect(codeToStatus("internal")).toBe(500);
  });

  it("renders an unknown error as 500 internal without exposing it, and logs it with the request id", async () => {
    const log = vi.spyOn(console, "error").mockImplementation(() => undefined);
    const app = new Hono<AppEnv>();
    app.use("*", requestId);
    app.onError(onError);
    app.get("/boom", () => {
      throw new Error("db password is hunter2");
    });
    const res = await app.request("/boom", { headers: { "x-request-id": "req-500" } });
    expect(res.status).toBe(500);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    const text = await res.text();
    expect(text).not.toContain("hunter2");
    expect(JSON.parse(text)).toMatchObject({
      code: "internal",
      status: 500,
      request_id: "req-500",
      title: "Internal server error",
    });
    expect(log).toHaveBeenCalledOnce();
    expect(String(log.mock.calls[0]![0])).toContain("req-500");
    log.mockRestore();
  });

  it("renders AppError details and field errors", async () => {
    const app = new Hono<AppEnv>();
    app.use("*", requestId);
    app.onError(onError);
    app.get("/x", () => {
      throw new AppError("validation_failed", "Invalid body.", { errors: [{ path: "a", message: "required" }] });
    });
    const body = await (await app.request("/x")).json();
    expect(body).toMatchObject({
      status: 422,
      code: "validation_failed",
      detail: "Invalid body.",
      errors: [{ path: "a", message: "required" }],
    });
  });
});
