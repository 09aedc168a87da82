import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { BATCH_LIMITS, takeBatch } from "../../src/security/delivery-writer";
import type { DeliveryWriter } from "../../src/security/delivery-writer.do";
import type { DeliveryRow } from "../../src/security/webhooks.repo";
import { INGEST, count, fetchWith, problemOf, standardHeaders, unreachableNamespace } from "./helpers";

const row = (over: Partial<DeliveryRow> = {}): DeliveryRow => ({
  deliveryId: crypto.randomUUID(),
  scheme: "standard",
  externalId: `msg_${crypto.randomUUID()}`,
  tenantId: null,
  signedAt: Math.floor(Date.now() / 1000),
  receivedAt: new Date().toISOString(),
  contentType: "application/json",
  body: '{"n":1}',
  bodyEncoding: "utf8",
  bodyDigest: "0".repeat(64),
  bodyBytes: 7,
  event: null,
  outcome: null,
  outcomeReason: null,
  buildId: null,
  ...over,
});

const writer = (name: string) => env.DELIVERY_WRITER.get(env.DELIVERY_WRITER.idFromName(name));

describe("DeliveryWriter batches (pure)", () => {
  it("takes rows in arrival order within the row and body limits, always at least one", () => {
    const q = (sizes: number[]) => sizes.map((n, i) => ({ i, row: { body: "x".repeat(n) } }));
    const queue = q([1, 2, 3]);
    expect(takeBatch(queue, { rows: 2, chars: 100 }).map((x) => x.i)).toEqual([0, 1]);
    expect(queue.map((x) => x.i)).toEqual([2]);
    const big = q([5, 8, 1]);
    expect(takeBatch(big, { rows: 10, chars: 10 }).map((x) => x.i)).toEqual([0]);
    expect(takeBatch(big, { rows: 10, chars: 10 }).map((x) => x.i)).toEqual([1, 2]);
    const huge = q([50, 1]);
    expect(takeBatch(huge, { rows: 10, chars: 10 }).map((x) => x.i)).toEqual([0]);
    expect(takeBatch([], BATCH_LIMITS)).toEqual([]);
  });
});

describe("DeliveryWriter Durable Object", () => {
  it("writes concurrent rows in fewer D1 batches than rows, each answered with its own outcome", async () => {
    const stub = writer("test-coalesce");
    const rows = Array.from({ length: 40 }, () => row());
    const results = await Promise.all(rows.map((r) => stub.store(r)));
    expect(results).toEqual(rows.map(() => ({ ok: true, stored: true })));
    for (const r of rows)
      expect(
        await count(
          "SELECT COUNT(*) AS n FROM webhook_deliveries WHERE delivery_id = ? AND external_id = ?",
          r.deliveryId,
          r.externalId,
        ),
      ).toBe(1);
    const batches = await runInDurableObject(stub, (instance: DeliveryWriter) => instance.batches);
    expect(batches).toBeGreaterThan(0);
    expect(batches).toBeLessThan(rows.length);
  });

  it("answers stored: false for an id already stored (the replay decider), in the same batch too", async () => {
    const stub = writer("test-replay");
    const first = row();
    expect(await stub.store(first)).toEqual({ ok: true, stored: true });
    const again = row({ externalId: first.externalId });
    expect(await stub.store(again)).toEqual({ ok: true, stored: false });
    const twin = row();
    const both = await Promise.all([stub.store(twin), stub.store(row({ externalId: twin.externalId }))]);
    expect(both.filter((r) => r.ok && r.stored)).toHaveLength(1);
    expect(
      await count(
        "SELECT COUNT(*) AS n FROM webhook_deliveries WHERE external_id IN (?, ?)",
        first.externalId,
        twin.externalId,
      ),
    ).toBe(2);
  });

  it("a row D1 refuses fails only its own request: the rest of its batch is stored", async () => {
    await env.DB.prepare(
      "CREATE TRIGGER poison_delivery BEFORE INSERT ON webhook_deliveries WHEN NEW.external_id = 'poison' BEGIN SELECT RAISE(ABORT, 'poisoned row'); END",
    ).run();
    try {
      const stub = writer("test-poison");
      const good = Array.from({ length: 6 }, () => row());
      const results = await Promise.all([
        ...good.slice(0, 3).map((r) => stub.store(r)),
        stub.store(row({ externalId: "poison", body: "sk_live_do_not_log" })),
        ...good.slice(3).map((r) => stub.store(r)),
      ]);
      expect(results.filter((r) => r.ok && r.stored)).toHaveLength(6);
      const failed = results.find((r) => !r.ok);
      expect(failed).toMatchObject({ ok: false });
      expect(JSON.stringify(failed)).toContain("poisoned row");
      expect(JSON.stringify(failed)).not.toContain("sk_live_do_not_log");
      for (const r of good)
        expect(await count("SELECT COUNT(*) AS n FROM webhook_deliveries WHERE delivery_id = ?", r.deliveryId)).toBe(1);
      expect(await count("SELECT COUNT(*) AS n FROM webhook_deliveries WHERE external_id = 'poison'")).toBe(0);
    } finally {
      await env.DB.prepare("DROP TRIGGER poison_delivery").run();
    }
  });

  it("rejects malformed RPC input", async () => {
    const stub = writer("test-input");
    const errors = await runInDurableObject(stub, (instance: DeliveryWriter) =>
      Promise.all(
        [{ ...row(), bodyDigest: "nope" }, { ...row(), scheme: "other" } as unknown as DeliveryRow].map((r) =>
          instance.store(r).then(
            () => null,
            (e: unknown) => e,
          ),
        ),
      ),
    );
    for (const err of errors) expect((err as Error | null)?.name).toBe("ZodError");
  });
});

describe("webhook ingest through the writer", () => {
  it("a D1 refusal is a 500 internal that frees the delivery id: the sender's retry is accepted", async () => {
    const payload = JSON.stringify({ refuse: crypto.randomUUID() });
    const headers = standardHeaders(payload);
    await env.DB.prepare(
      `CREATE TRIGGER refuse_delivery BEFORE INSERT ON webhook_deliveries WHEN NEW.external_id = '${headers["webhook-id"]}' BEGIN SELECT RAISE(ABORT, 'refused'); END`,
    ).run();
    let first: Response;
    try {
      first = await fetchWith({}, INGEST, { method: "POST", headers, body: payload });
    } finally {
      await env.DB.prepare("DROP TRIGGER refuse_delivery").run();
    }
    expect([first.status, (await problemOf(first)).code]).toEqual([500, "internal"]);
    const retry = await fetchWith({}, INGEST, { method: "POST", headers, body: payload });
    expect(retry.status).toBe(200);
    expect(
      await count("SELECT COUNT(*) AS n FROM webhook_deliveries WHERE external_id = ?", headers["webhook-id"]),
    ).toBe(1);
  });

  it.each([
    ["binding missing", undefined],
    ["DO throws", unreachableNamespace("throw")],
  ])("with the writer unreachable (%s) a delivery is stored straight in D1, once", async (_name, ns) => {
    const payload = JSON.stringify({ direct: crypto.randomUUID() });
    const headers = standardHeaders(payload);
    const res = await fetchWith({ DELIVERY_WRITER: ns }, INGEST, { method: "POST", headers, body: payload });
    expect(res.status).toBe(200);
    const again = await fetchWith({ DELIVERY_WRITER: ns }, INGEST, { method: "POST", headers, body: payload });
    expect(again.status).toBe(409);
    expect(
      await count(
        "SELECT COUNT(*) AS n FROM webhook_deliveries WHERE external_id = ? AND body = ?",
        headers["webhook-id"],
        payload,
      ),
    ).toBe(1);
  });
});
