/**
 * Issue 17 item 9: a malformed percent-encoding in the path is 400 problem+json (never 500),
 * before and after authentication, on every route shape.
 */
import { describe, expect, it } from "vitest";
import { caller, raw } from "../helpers/api";

const MALFORMED = ["%E0%A4%A", "%", "%zz", "%C3%28", "%ED%A0%80", "%FF", "a%2", "%E0%80"];

describe("malformed percent-encoding in the path", () => {
  it.each(MALFORMED)("GET /v1/builds/%s/events → 400 before authentication", async (bad) => {
    const res = await raw(`/v1/builds/${bad}/events`);
    expect(res.status).toBe(400);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    const body = (await res.json()) as { code: string; request_id: string };
    expect(body.code).toBe("malformed_path");
    expect(body.request_id).toBe(res.headers.get("x-request-id"));
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
  });

  it.each([
    "/v1/builds/%E0%A4%A",
    "/v1/builds/%E0%A4%A/events?stream_token=x",
    "/v1/program/secrets/%E0%A4%A",
    "/v1/program/campaigns/%FF/report",
    "/v1/planner/policies/%E0%A4%A/activate",
    "/v1/ops/dead-letters/%C3%28/redrive",
    "/v1/nothing/%zz",
    "/metrics/%E0",
    "/%E0%A4%A",
  ])("authenticated %s → 400 malformed_path", async (path) => {
    const c = await caller({ roles: ["admin"] });
    for (const method of ["GET", "POST"]) {
      const res = await c.request(method, path, method === "POST" ? {} : undefined);
      expect({ method, path, status: res.status, code: res.body?.code }).toEqual({
        method,
        path,
        status: 400,
        code: "malformed_path",
      });
    }
  });
});
