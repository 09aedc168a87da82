/**
 * Issue 17 item 8: JSON routes cap request bodies (MAX_REQUEST_BODY_BYTES, 1 MiB by default)
 * before parsing or buffering, the idempotency middleware included: 413 payload_too_large as
 * problem+json, nothing written, the Idempotency-Key not claimed.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/kernel/env";
import { raw } from "../helpers/api";
import { tokenFor } from "../helpers/auth";
import { fetchWith } from "./helpers";

const MiB = 1_048_576;
const bigBody = (bytes: number) =>
  JSON.stringify({ repo_url: "https://github.com/acme/big", objective: "x".repeat(bytes) });

async function expect413(res: Response) {
  expect(res.status).toBe(413);
  expect(res.headers.get("content-type")).toBe("application/problem+json");
  expect(((await res.json()) as { code: string }).code).toBe("payload_too_large");
}

async function buildCount(tag: string): Promise<number> {
  const row = await env.DB.prepare("SELECT COUNT(*) AS n FROM builds WHERE repo_url = ?")
    .bind(`https://github.com/acme/${tag}`)
    .first<{ n: number }>();
  return row?.n ?? 0;
}

describe("request body cap", () => {
  it("defaults to 1 MiB", () => {
    expect(loadConfig({ ...env, FAULT_INJECTION: undefined } as Env).MAX_REQUEST_BODY_BYTES).toBe(MiB);
  });

  it("413 for a declared body above 1 MiB, with or without an Idempotency-Key; nothing claimed or written", async () => {
    const token = await tokenFor({ sub: "body_cap", org_id: "org_body", roles: ["operator"] });
    const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };
    await expect413(await raw("/v1/builds", { method: "POST", headers, body: bigBody(MiB + 10) }));
    const key = crypto.randomUUID();
    await expect413(
      await raw("/v1/builds", {
        method: "POST",
        headers: { ...headers, "idempotency-key": key },
        body: bigBody(MiB + 10),
      }),
    );
    await expect413(
      await raw("/v1/program/secrets", {
        method: "POST",
        headers,
        body: JSON.stringify({ name: "n", value: "v".repeat(MiB + 10) }),
      }),
    );
    expect(await buildCount("big")).toBe(0);
    // The key was never claimed: a small request with it runs (201, not a replay or 422).
    const ok = await raw("/v1/builds", {
      method: "POST",
      headers: { ...headers, "idempotency-key": key },
      body: JSON.stringify({ repo_url: "https://github.com/acme/big", metadata: { simulated_duration_ms: 0 } }),
    });
    expect(ok.status).toBe(201);
    expect(ok.headers.get("idempotent-replayed")).toBeNull();
  });

  it("413 for an undeclared (streamed) body above the cap", async () => {
    const token = await tokenFor({ sub: "body_cap_stream", org_id: "org_body", roles: ["operator"] });
    const chunk = new TextEncoder().encode("x".repeat(64 * 1024));
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent > 4 * MiB) return controller.close();
        sent += chunk.byteLength;
        controller.enqueue(chunk);
      },
    });
    const res = await raw("/v1/builds", {
      method: "POST",
      headers: {
        authorization: `Bearer ${token}`,
        "content-type": "application/json",
        "idempotency-key": crypto.randomUUID(),
      },
      body: stream,
    });
    await expect413(res);
    // Stopped reading soon after the cap, not at the end of the stream.
    expect(sent).toBeLessThan(2 * MiB);
  });

  it("is configurable (MAX_REQUEST_BODY_BYTES)", async () => {
    const token = await tokenFor({ sub: "body_cap_cfg", org_id: "org_body", roles: ["operator"] });
    const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };
    await expect413(
      await fetchWith({ MAX_REQUEST_BODY_BYTES: "2048" }, "/v1/builds/preview-dag", {
        method: "POST",
        headers,
        body: bigBody(3000),
      }),
    );
    const small = await fetchWith({ MAX_REQUEST_BODY_BYTES: "2048" }, "/v1/builds/preview-dag", {
      method: "POST",
      headers,
      body: bigBody(1000),
    });
    expect(small.status).toBe(200);
  });
});
