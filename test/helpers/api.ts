/**
 * HTTP test client over the real Worker (`exports.default.fetch`) plus build factories and
 * waiters. Each test seeds its own builds; storage is isolated per test file.
 */
import { exports } from "cloudflare:workers";
import { tokenFor } from "./auth";
import { checkResponse } from "./openapi";

export interface ApiResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

export interface Caller {
  token: string;
  request<T = any>(
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<ApiResponse<T>>;
}

export async function raw(path: string, init: RequestInit = {}): Promise<Response> {
  return exports.default.fetch(new Request(`http://cp.test${path}`, init));
}

/** A caller with an operator token by default. */
export async function caller(opts: Parameters<typeof tokenFor>[0] = {}): Promise<Caller> {
  const token = await tokenFor({ roles: ["operator"], ...opts });
  return {
    token,
    async request(method, path, body, headers = {}) {
      const res = await raw(path, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body !== undefined ? { "content-type": "application/json" } : {}),
          ...headers,
        },
        body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
      });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : null;
      } catch {
        // not JSON (e.g. SSE)
      }
      // Every response must be what the OpenAPI document says (src/http/openapi.document.ts).
      await checkResponse(method, path, res.status, res.headers, parsed);
      return { status: res.status, headers: res.headers, body: parsed as any };
    },
  };
}

/** Creates a build and asserts 201. */
export async function createBuild(c: Caller, body: Record<string, unknown> = {}) {
  const res = await c.request("POST", "/v1/builds", { repo_url: "https://github.com/acme/app", ...body });
  if (res.status !== 201) throw new Error(`create failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

const TERMINAL = new Set(["completed", "failed", "aborted", "paused"]);

/** Polls GET /v1/builds/:id until the status settles (terminal, failed or paused). */
export async function waitForStatus(c: Caller, buildId: string, timeoutMs = 10_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await c.request("GET", `/v1/builds/${buildId}`);
    if (res.status !== 200) throw new Error(`get failed: ${res.status}`);
    if (TERMINAL.has(res.body.status)) return res.body;
    if (Date.now() > deadline) throw new Error(`build ${buildId} still ${res.body.status} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export async function eventsOf(c: Caller, buildId: string): Promise<any[]> {
  const res = await c.request("GET", `/v1/builds/${buildId}/events/history?cursor=0&limit=2000`);
  if (res.status !== 200) throw new Error(`history failed: ${res.status}`);
  return res.body.items;
}

/** Zero-duration simulated nodes: a build runs to the end within one alarm. */
export const INSTANT = { simulated_duration_ms: 0 };
