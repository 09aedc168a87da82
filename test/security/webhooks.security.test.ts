import { describe, expect, it } from "vitest";
import { caller } from "../helpers/api";
import {
  INGEST,
  PLATFORM_SECRET,
  WHSEC_PRIMARY,
  WHSEC_ROTATED,
  count,
  fetchWith,
  ingest,
  nowSeconds,
  platformHeaders,
  problemOf,
  standardHeaders,
} from "./helpers";
import { Webhook } from "standardwebhooks";
import { env } from "cloudflare:workers";
import { cacheKey } from "../../src/lib/kv-cache";
import { guardKey } from "../../src/security/replay-guard.client";
import { shardOf } from "../../src/security/replay-guard";

const body = (n = 1) => JSON.stringify({ event: "scan.finished", n, at: Date.now() });

describe("POST /v1/program/webhook/ingest — Standard Webhooks", () => {
  it("accepts a delivery signed by the standardwebhooks library with the configured secret, without a user JWT", async () => {
    const payload = body();
    const headers = standardHeaders(payload);
    const res = await ingest(payload, headers);
    expect(res.status).toBe(200);
    const out = (await res.json()) as Record<string, unknown>;
    expect(out).toMatchObject({
      status: "accepted",
      scheme: "standard",
      webhook_id: headers["webhook-id"],
      timestamp: Number(headers["webhook-timestamp"]),
    });
    const row = await count(
      "SELECT COUNT(*) AS n FROM webhook_deliveries WHERE external_id = ? AND body = ?",
      headers["webhook-id"],
      payload,
    );
    expect(row).toBe(1);
  });

  it("accepts a signature made with the second (rotated) configured secret", async () => {
    const payload = body();
    const res = await ingest(payload, standardHeaders(payload, { secret: WHSEC_ROTATED }));
    expect(res.status).toBe(200);
  });

  it("accepts a header carrying several signatures when one matches (sender-side rotation)", async () => {
    const payload = body();
    const h = standardHeaders(payload);
    const foreign = new Webhook(`whsec_${btoa("an-unknown-secret-of-24-b")}`).sign(
      h["webhook-id"],
      new Date(Number(h["webhook-timestamp"]) * 1000),
      payload,
    );
    const res = await ingest(payload, {
      ...h,
      "webhook-signature": `${foreign} v1a,ignored ${h["webhook-signature"]}`,
    });
    expect(res.status).toBe(200);
  });

  it("401 webhook_signature_invalid for a tampered body", async () => {
    const payload = body();
    const res = await ingest(payload.replace("scan.finished", "scan.hacked"), standardHeaders(payload));
    expect(res.status).toBe(401);
    expect((await problemOf(res)).code).toBe("webhook_signature_invalid");
  });

  it("401 webhook_signature_invalid for a tampered signature or an unknown secret", async () => {
    const payload = body();
    const h = standardHeaders(payload);
    const sig = h["webhook-signature"];
    const flipped = `v1,${sig.slice(3, 10)}${sig[10] === "A" ? "B" : "A"}${sig.slice(11)}`;
    expect((await problemOf(await ingest(payload, { ...h, "webhook-signature": flipped }))).code).toBe(
      "webhook_signature_invalid",
    );
    const other = standardHeaders(payload, { secret: `whsec_${btoa("not-the-configured-key!!")}` });
    expect((await problemOf(await ingest(payload, other))).code).toBe("webhook_signature_invalid");
  });

  it("401 webhook_timestamp_invalid outside the window, past or future (checked before the signature)", async () => {
    // A minute past either edge of the 600 s window: the server's clock reads the request later
    // than this line (seconds later on a loaded machine), so an edge value (±601) could flake.
    for (const ts of [nowSeconds() - 660, nowSeconds() + 660]) {
      const payload = body();
      const res = await ingest(payload, standardHeaders(payload, { timestamp: ts }));
      expect(res.status).toBe(401);
      expect((await problemOf(res)).code).toBe("webhook_timestamp_invalid");
    }
    const payload = body();
    const inWindow = await ingest(payload, standardHeaders(payload, { timestamp: nowSeconds() - 540 }));
    expect(inWindow.status).toBe(200);
  });

  it("409 webhook_replay_detected for a replayed delivery; nothing stored twice", async () => {
    const payload = body();
    const headers = standardHeaders(payload);
    expect((await ingest(payload, headers)).status).toBe(200);
    const again = await ingest(payload, headers);
    expect(again.status).toBe(409);
    expect((await problemOf(again)).code).toBe("webhook_replay_detected");
    expect(
      await count("SELECT COUNT(*) AS n FROM webhook_deliveries WHERE external_id = ?", headers["webhook-id"]),
    ).toBe(1);
  });

  it("a replay the guard and KV no longer know (claim lapsed, cache expired) is still a 409: the D1 unique index decides", async () => {
    const payload = body();
    const headers = standardHeaders(payload);
    expect((await ingest(payload, headers)).status).toBe(200);
    const key = await guardKey("webhook", "standard", headers["webhook-id"]);
    await env.CACHE.delete(cacheKey("replay", key));
    // Another shard count sends the key to a guard instance that never saw it.
    const shards = [1, 2, 3, 5, 7, 11, 13].find((n) => shardOf(key, n) !== shardOf(key, 64));
    expect(shards).toBeDefined();
    const again = await fetchWith({ REPLAY_GUARD_SHARDS: String(shards) }, INGEST, {
      method: "POST",
      headers,
      body: payload,
    });
    expect([again.status, (await problemOf(again)).code]).toEqual([409, "webhook_replay_detected"]);
    expect(
      await count("SELECT COUNT(*) AS n FROM webhook_deliveries WHERE external_id = ?", headers["webhook-id"]),
    ).toBe(1);
  });

  it("400 webhook_headers_missing / timestamp_invalid", async () => {
    const payload = body();
    const h = standardHeaders(payload);
    const { "webhook-signature": _sig, ...noSig } = h;
    expect((await problemOf(await ingest(payload, noSig))).code).toBe("webhook_headers_missing");
    expect((await problemOf(await ingest(payload, { ...h, "webhook-timestamp": "soon" }))).code).toBe(
      "timestamp_invalid",
    );
    expect((await problemOf(await ingest(payload, { "content-type": "application/json" }))).code).toBe(
      "webhook_headers_missing",
    );
  });
});

describe("POST /v1/program/webhook/ingest — reference X-Platform scheme (SPEC §6.4)", () => {
  it("accepts a request built by hand with the exact signed string <timestamp>.<nonce>.<body>", async () => {
    const payload = '{"hello":"world"}';
    const nonce = `nonce-${crypto.randomUUID()}`;
    const ts = nowSeconds();
    const key = await crypto.subtle.importKey(
      "raw",
      new TextEncoder().encode(PLATFORM_SECRET),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign"],
    );
    const mac = new Uint8Array(
      await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(`${ts}.${nonce}.${payload}`)),
    );
    const hex = [...mac].map((b) => b.toString(16).padStart(2, "0")).join("");
    const res = await ingest(payload, {
      "x-platform-nonce": ` ${nonce} `,
      "x-platform-timestamp": String(ts),
      "x-platform-signature": hex,
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: "accepted", nonce, timestamp: ts, scheme: "platform" });
  });

  it("the SPEC error codes and order: headers 400 → timestamp 400 → window 401 → signature 401 → replay 409", async () => {
    const payload = body();
    const h = await platformHeaders(payload);
    expect((await problemOf(await ingest(payload, { ...h, "x-platform-nonce": " " }))).code).toBe(
      "webhook_headers_missing",
    );
    expect((await problemOf(await ingest(payload, { ...h, "x-platform-timestamp": "12.5" }))).code).toBe(
      "timestamp_invalid",
    );
    const stale = await platformHeaders(payload, { timestamp: nowSeconds() - 1000 });
    const staleRes = await ingest(payload, { ...stale, "x-platform-signature": "00" });
    expect(await problemOf(staleRes)).toMatchObject({
      code: "webhook_timestamp_invalid",
      detail: "timestamp_out_of_window",
    });
    expect(
      await problemOf(await ingest(payload, { ...h, "x-platform-signature": `sha256=${h["x-platform-signature"]}` })),
    ).toMatchObject({
      code: "webhook_signature_invalid",
      detail: "signature_invalid",
    });
    expect((await ingest(payload, h)).status).toBe(200);
    expect(await problemOf(await ingest(payload, h))).toMatchObject({
      status: 409,
      code: "webhook_replay_detected",
      detail: "nonce_replay_detected",
    });
  });

  it("a nonce reused with a fresh timestamp and valid signature is still a replay", async () => {
    const nonce = crypto.randomUUID();
    expect((await ingest("a", await platformHeaders("a", { nonce, timestamp: nowSeconds() - 5 }))).status).toBe(200);
    const res = await ingest("b", await platformHeaders("b", { nonce }));
    expect(res.status).toBe(409);
  });

  it("the week11 alias behaves identically and is marked deprecated", async () => {
    const payload = body();
    const h = await platformHeaders(payload);
    const res = await ingest(payload, h, "/v1/program/week11/webhook/ingest");
    expect(res.status).toBe(200);
    expect(res.headers.get("deprecation")).toBeTruthy();
    expect(res.headers.get("sunset")).toBeTruthy();
    expect(res.headers.get("link")).toContain("</v1/program/webhook/ingest>");
    expect((await ingest(payload, h)).status).toBe(409); // same replay scope as the canonical path
  });

  it("413 payload_too_large above WEBHOOK_MAX_BODY_BYTES, before anything is stored", async () => {
    const payload = "x".repeat(2048);
    const h = await platformHeaders(payload);
    const res = await fetchWith({ WEBHOOK_MAX_BODY_BYTES: "1024" }, INGEST, {
      method: "POST",
      headers: h,
      body: payload,
    });
    expect(res.status).toBe(413);
    expect((await problemOf(res)).code).toBe("payload_too_large");
    expect(
      await count("SELECT COUNT(*) AS n FROM webhook_deliveries WHERE external_id = ?", h["x-platform-nonce"]),
    ).toBe(0);
    // A streamed body without content-length is cut off at the cap as well.
    const stream = new ReadableStream({
      start(c) {
        c.enqueue(new TextEncoder().encode(payload));
        c.close();
      },
    });
    const streamed = await fetchWith({ WEBHOOK_MAX_BODY_BYTES: "1024" }, INGEST, {
      method: "POST",
      headers: h,
      body: stream,
    });
    expect(streamed.status).toBe(413);
  });

  it("401 webhook_rejected when the scheme has no configured secret", async () => {
    const payload = body();
    const res = await fetchWith({ PLATFORM_WEBHOOK_SIGNING_SECRET: "" }, INGEST, {
      method: "POST",
      headers: await platformHeaders(payload),
      body: payload,
    });
    expect(res.status).toBe(401);
    expect((await problemOf(res)).code).toBe("webhook_rejected");
  });

  it("stores non-UTF-8 bodies as base64 with their digest", async () => {
    const bytes = new Uint8Array([0xff, 0xfe, 0x00, 0x41]);
    const nonce = crypto.randomUUID();
    const ts = nowSeconds();
    const key = await crypto.subtle.importKey(
      "raw",
      new TextEncoder().encode(PLATFORM_SECRET),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign"],
    );
    const prefix = new TextEncoder().encode(`${ts}.${nonce}.`);
    const data = new Uint8Array([...prefix, ...bytes]);
    const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, data));
    const hex = [...mac].map((b) => b.toString(16).padStart(2, "0")).join("");
    // Owned by a tenant (issue 17 item 3: a tenant-less delivery is visible to deployment administrators only).
    const res = await fetchWith({ WEBHOOK_TENANT_ID: "org_b64" }, INGEST, {
      method: "POST",
      headers: { "x-platform-nonce": nonce, "x-platform-timestamp": String(ts), "x-platform-signature": hex },
      body: bytes,
    });
    expect(res.status).toBe(200);
    const { delivery_id } = (await res.json()) as { delivery_id: string };
    const admin = await caller({ roles: ["admin"], org_id: "org_b64" });
    const got = await admin.request("GET", `/v1/program/webhook/deliveries/${delivery_id}`);
    expect(got.body).toMatchObject({ body: "//4AQQ==", body_encoding: "base64", body_bytes: 4 });
  });
});

describe("concurrency", () => {
  it("50 concurrent identical deliveries → exactly one accepted and one stored row, 49 × 409", async () => {
    const payload = body(50);
    const headers = standardHeaders(payload);
    const results = await Promise.all(Array.from({ length: 50 }, () => ingest(payload, headers)));
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(49);
    for (const r of results.filter((x) => x.status === 409))
      expect((await problemOf(r)).code).toBe("webhook_replay_detected");
    expect(
      await count("SELECT COUNT(*) AS n FROM webhook_deliveries WHERE external_id = ?", headers["webhook-id"]),
    ).toBe(1);
  });

  it("50 concurrent identical reference-scheme deliveries → one accepted", async () => {
    const payload = body(51);
    const headers = await platformHeaders(payload);
    const statuses = (await Promise.all(Array.from({ length: 50 }, () => ingest(payload, headers)))).map(
      (r) => r.status,
    );
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(49);
  });

  it("200 distinct concurrent deliveries → 200 accepted, 200 rows", async () => {
    const tag = crypto.randomUUID();
    const requests = await Promise.all(
      Array.from({ length: 200 }, async (_, i) => {
        const payload = JSON.stringify({ tag, i });
        return [payload, i % 2 === 0 ? standardHeaders(payload) : await platformHeaders(payload)] as const;
      }),
    );
    const results = await Promise.all(requests.map(([p, h]) => ingest(p, h)));
    expect(results.map((r) => r.status).filter((s) => s === 200)).toHaveLength(200);
    expect(await count("SELECT COUNT(*) AS n FROM webhook_deliveries WHERE body LIKE ?", `%${tag}%`)).toBe(200);
  });
});

describe("GET /v1/program/webhook/deliveries (operators)", () => {
  it("lists accepted deliveries newest first with keyset paging; requires program.webhook.ingest", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const payload = body(i);
      const h = standardHeaders(payload);
      // Owned by a tenant (issue 17 item 3: tenant-less deliveries are listed to deployment administrators only).
      expect(
        (await fetchWith({ WEBHOOK_TENANT_ID: "org_list" }, INGEST, { method: "POST", headers: h, body: payload }))
          .status,
      ).toBe(200);
      ids.push(h["webhook-id"]);
    }
    const security = await caller({ roles: ["security"], org_id: "org_list" });
    const first = await security.request("GET", "/v1/program/webhook/deliveries?limit=2&scheme=standard");
    expect(first.status).toBe(200);
    expect(first.body.items).toHaveLength(2);
    expect(first.body.items[0]).toMatchObject({ scheme: "standard", external_id: ids[2] });
    expect(first.body.items[0]).not.toHaveProperty("body");
    expect(first.body.next_cursor).toEqual(expect.any(String));
    const second = await security.request(
      "GET",
      `/v1/program/webhook/deliveries?limit=2&scheme=standard&cursor=${first.body.next_cursor}`,
    );
    expect(second.body.items[0].external_id).toBe(ids[0]);

    const detail = await security.request("GET", `/v1/program/webhook/deliveries/${first.body.items[0].delivery_id}`);
    expect(detail.body).toMatchObject({ external_id: ids[2], body_encoding: "utf8" });
    expect(detail.body.body_digest).toMatch(/^[0-9a-f]{64}$/);

    const operator = await caller({ roles: ["operator"] });
    const denied = await operator.request("GET", "/v1/program/webhook/deliveries");
    expect(denied.status).toBe(403);
    expect(denied.body.code).toBe("insufficient_capability");
    const unknown = await security.request("GET", `/v1/program/webhook/deliveries/${crypto.randomUUID()}`);
    expect(unknown.status).toBe(404);
    expect(unknown.body.code).toBe("webhook_delivery_not_found");
  });

  it("with WEBHOOK_TENANT_ID set, deliveries belong to that tenant and other tenants do not see them", async () => {
    const payload = body();
    const h = standardHeaders(payload);
    const res = await fetchWith({ WEBHOOK_TENANT_ID: "org_hooks" }, INGEST, {
      method: "POST",
      headers: h,
      body: payload,
    });
    const { delivery_id } = (await res.json()) as { delivery_id: string };
    const owner = await caller({ roles: ["security"], org_id: "org_hooks" });
    const outsider = await caller({ roles: ["security"], org_id: "org_other" });
    expect((await owner.request("GET", `/v1/program/webhook/deliveries/${delivery_id}`)).body.tenant_id).toBe(
      "org_hooks",
    );
    expect((await outsider.request("GET", `/v1/program/webhook/deliveries/${delivery_id}`)).status).toBe(404);
    const list = await outsider.request("GET", "/v1/program/webhook/deliveries?limit=200");
    expect(list.body.items.map((d: { delivery_id: string }) => d.delivery_id)).not.toContain(delivery_id);
  });

  it("the ingest path is only public for POST; a user JWT is neither needed nor consulted", async () => {
    const payload = body();
    const res = await ingest(payload, { ...standardHeaders(payload), authorization: "Bearer not-a-jwt" });
    expect(res.status).toBe(200);
    const unauth = await fetchWith({}, INGEST, { method: "GET" });
    expect(unauth.status).toBe(401);
    expect(WHSEC_PRIMARY.startsWith("whsec_")).toBe(true);
  });
});
