import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
  type ClaimInput,
  type ClaimRecord,
  decideClaim,
  decideComplete,
  mayRelease,
  shardOf,
} from "../../src/security/replay-guard";
import { ReplayGuard } from "../../src/security/replay-guard.do";
import { guardKey } from "../../src/security/replay-guard.client";

const KEY = "a".repeat(64);
const claim = (over: Partial<ClaimInput> = {}): ClaimInput => ({
  key: KEY,
  token: "token-one",
  fingerprint: "f1",
  lock_ms: 1000,
  ...over,
});
const pending = (over: Partial<ClaimRecord> = {}): ClaimRecord => ({
  key: KEY,
  token: "token-one",
  fingerprint: "f1",
  state: "pending",
  response: null,
  expires_at: 2000,
  ...over,
});

describe("ReplayGuard decisions (pure)", () => {
  it("claims a free or expired key", () => {
    expect(decideClaim(null, claim(), 1000)).toMatchObject({
      outcome: { outcome: "claimed" },
      write: { state: "pending", expires_at: 2000 },
    });
    expect(decideClaim(pending({ token: "other-token" }), claim(), 2000).outcome).toEqual({ outcome: "claimed" });
  });

  it("reports pending and done records to other claimers, with the fingerprint match", () => {
    expect(decideClaim(pending({ token: "other-token" }), claim(), 1500)).toEqual({
      outcome: { outcome: "pending", same_fingerprint: true },
      write: null,
    });
    const done = pending({ token: "other-token", state: "done", response: { status: 201, headers: {}, body: "{}" } });
    expect(decideClaim(done, claim({ fingerprint: "f2" }), 1500)).toEqual({
      outcome: {
        outcome: "done",
        same_fingerprint: false,
        response: { status: 201, headers: {}, body: "{}" },
        expires_at: 2000,
      },
      write: null,
    });
  });

  it("a retried claim with the same token is idempotent", () => {
    expect(decideClaim(pending(), claim(), 1500)).toEqual({ outcome: { outcome: "claimed" }, write: null });
  });

  it("complete only by the owner of a live pending claim; release never drops a done record", () => {
    const input = { key: KEY, token: "token-one", ttl_ms: 5000, response: null };
    expect(decideComplete(pending(), input, 1500)).toMatchObject({
      result: { ok: true },
      write: { state: "done", expires_at: 6500 },
    });
    expect(decideComplete(pending({ token: "other-token" }), input, 1500).result).toEqual({
      ok: false,
      code: "claim_lost",
    });
    expect(decideComplete(pending(), input, 2500).result).toEqual({ ok: false, code: "claim_lost" });
    expect(mayRelease(pending(), { key: KEY, token: "token-one" })).toBe(true);
    expect(mayRelease(pending({ state: "done" }), { key: KEY, token: "token-one" })).toBe(false);
  });

  it("shards spread keys over the configured count", async () => {
    const shards = new Set<number>();
    for (let i = 0; i < 200; i++) shards.add(shardOf(await guardKey("k", String(i)), 8));
    expect(shards.size).toBe(8);
    expect([...shards].every((s) => s >= 0 && s < 8)).toBe(true);
  });
});

describe("ReplayGuard Durable Object", () => {
  it("claims atomically: 100 concurrent claims of one key → exactly one owner", async () => {
    const stub = env.REPLAY_GUARD.get(env.REPLAY_GUARD.idFromName("test-atomic"));
    const key = await guardKey("atomic", crypto.randomUUID());
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        stub.claim({ key, token: `token-${i}-xxxx`, fingerprint: "f", lock_ms: 60_000 }),
      ),
    );
    expect(results.filter((r) => r.outcome === "claimed")).toHaveLength(1);
    expect(results.filter((r) => r.outcome === "pending")).toHaveLength(99);
  });

  it("rejects malformed RPC input", async () => {
    const stub = env.REPLAY_GUARD.get(env.REPLAY_GUARD.idFromName("test-input"));
    const err = await runInDurableObject(stub, (instance: ReplayGuard) =>
      instance.claim({ key: "not-a-hash", token: "token-xxxx", fingerprint: "f", lock_ms: 1 }).then(
        () => null,
        (e: unknown) => e,
      ),
    );
    expect(err).toBeInstanceOf(Error);
  });

  it("cleans expired records up by alarm and re-arms for the next expiry", async () => {
    const stub = env.REPLAY_GUARD.get(env.REPLAY_GUARD.idFromName("test-ttl"));
    const short = await guardKey("ttl", "short");
    const long = await guardKey("ttl", "long");
    expect(await stub.claim({ key: short, token: "short-token", fingerprint: "f", lock_ms: 1 })).toEqual({
      outcome: "claimed",
    });
    expect(await stub.claim({ key: long, token: "long-token", fingerprint: "f", lock_ms: 3_600_000 })).toEqual({
      outcome: "claimed",
    });
    await new Promise((r) => setTimeout(r, 5));
    const rowsBefore = await runInDurableObject(stub, (instance: ReplayGuard, state) => {
      expect(instance).toBeInstanceOf(ReplayGuard);
      return state.storage.sql.exec("SELECT COUNT(*) AS n FROM claims").one().n;
    });
    expect(rowsBefore).toBe(2);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const after = await runInDurableObject(stub, async (_i: ReplayGuard, state) => ({
      keys: state.storage.sql
        .exec<{ key: string }>("SELECT key FROM claims")
        .toArray()
        .map((r) => r.key),
      alarm: await state.storage.getAlarm(),
    }));
    expect(after.keys).toEqual([long]);
    expect(after.alarm).toBeGreaterThan(Date.now() + 3_000_000);
    // An expired claim is free again even before cleanup runs.
    expect(await stub.claim({ key: short, token: "another-token", fingerprint: "g", lock_ms: 1000 })).toEqual({
      outcome: "claimed",
    });
  });

  it("complete keeps the response for replay; release frees a pending claim", async () => {
    const stub = env.REPLAY_GUARD.get(env.REPLAY_GUARD.idFromName("test-complete"));
    const k1 = await guardKey("c", "1");
    await stub.claim({ key: k1, token: "owner-token", fingerprint: "f", lock_ms: 60_000 });
    expect(await stub.complete({ key: k1, token: "intruder-token", ttl_ms: 60_000, response: null })).toEqual({
      ok: false,
      code: "claim_lost",
    });
    const response = { status: 201, headers: { "content-type": "application/json" }, body: '{"a":1}' };
    const completedFrom = Date.now();
    expect(await stub.complete({ key: k1, token: "owner-token", ttl_ms: 60_000, response })).toEqual({ ok: true });
    const completedBy = Date.now();
    const replayed = await stub.claim({ key: k1, token: "second-token", fingerprint: "f", lock_ms: 1000 });
    expect(replayed).toEqual({ outcome: "done", same_fingerprint: true, response, expires_at: expect.any(Number) });
    // The record's own expiry comes back with it (the edge cache never outlives it).
    const expiresAt = (replayed as { expires_at: number }).expires_at;
    expect(expiresAt).toBeGreaterThanOrEqual(completedFrom + 60_000);
    expect(expiresAt).toBeLessThanOrEqual(completedBy + 60_000);
    expect(await stub.release({ key: k1, token: "owner-token" })).toEqual({ ok: false, code: "claim_lost" });

    const k2 = await guardKey("c", "2");
    await stub.claim({ key: k2, token: "owner-token", fingerprint: "f", lock_ms: 60_000 });
    expect(await stub.release({ key: k2, token: "owner-token" })).toEqual({ ok: true });
    expect(await stub.claim({ key: k2, token: "next-token", fingerprint: "f", lock_ms: 60_000 })).toEqual({
      outcome: "claimed",
    });
  });
});
