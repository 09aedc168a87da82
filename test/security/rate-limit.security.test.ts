import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/kernel/env";
import { type Bucket, type HitResult, LEASE_MS, leaseSize, limitFor, takeToken } from "../../src/security/rate-limit";
import { leasedHit } from "../../src/security/rate-limit.lease";
import { Hono } from "hono";
import { canonicalPath, matchedRouteKey } from "../../src/security/route-key";
import { tokenFor } from "../helpers/auth";
import { fetchWith, platformHeaders, problemOf } from "./helpers";

/** A tight limit set explicitly for this test (the defaults never get in the way). */
const TIGHT = { RATE_LIMIT_WRITES_PER_MINUTE: "3" };

async function preview(overrides: Record<string, unknown>, token: string) {
  return fetchWith(overrides, "/v1/builds/preview-dag", {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ repo_url: "https://github.com/acme/rl" }),
  });
}

describe("rate limits per principal and route", () => {
  it("429 rate_limited with Retry-After once the limit is exceeded; another principal is unaffected", async () => {
    const alice = await tokenFor({ sub: `rl_alice_${crypto.randomUUID()}`, roles: ["operator"] });
    const bob = await tokenFor({ sub: `rl_bob_${crypto.randomUUID()}`, roles: ["operator"] });
    for (let i = 0; i < 3; i++) expect((await preview(TIGHT, alice)).status).toBe(200);
    const limited = await preview(TIGHT, alice);
    expect(limited.status).toBe(429);
    const retryAfter = Number(limited.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(20); // 3/min refills one token every 20 s
    expect(await problemOf(limited)).toMatchObject({ status: 429, code: "rate_limited" });
    expect((await preview(TIGHT, bob)).status).toBe(200);
    // Another route of the same principal has its own bucket; reads are not limited by default.
    const list = await fetchWith(TIGHT, "/v1/builds", { headers: { authorization: `Bearer ${alice}` } });
    expect(list.status).toBe(200);
  });

  it("the same user in another tenant is another principal", async () => {
    const sub = `rl_tenant_${crypto.randomUUID()}`;
    const t1 = await tokenFor({ sub, org_id: "org_rl_1", roles: ["operator"] });
    const t2 = await tokenFor({ sub, org_id: "org_rl_2", roles: ["operator"] });
    for (let i = 0; i < 3; i++) await preview(TIGHT, t1);
    expect((await preview(TIGHT, t1)).status).toBe(429);
    expect((await preview(TIGHT, t2)).status).toBe(200);
  });

  it("per-route rules override the default; runtime nudges are exempt by default", async () => {
    const t = await tokenFor({ sub: `rl_rules_${crypto.randomUUID()}`, roles: ["operator"] });
    const rules = {
      RATE_LIMIT_WRITES_PER_MINUTE: "1",
      RATE_LIMIT_RULES: JSON.stringify({ "POST /v1/builds/preview-dag": 2 }),
    };
    expect((await preview(rules, t)).status).toBe(200);
    expect((await preview(rules, t)).status).toBe(200);
    expect((await preview(rules, t)).status).toBe(429);
    const tick = () =>
      fetchWith({ RATE_LIMIT_WRITES_PER_MINUTE: "1" }, `/v1/builds/${crypto.randomUUID()}/runtime/tick`, {
        method: "POST",
        headers: { authorization: `Bearer ${t}` },
      });
    for (let i = 0; i < 5; i++) expect((await tick()).status).not.toBe(429);
  });

  it("week aliases share the canonical route's bucket", async () => {
    const tight = { RATE_LIMIT_WRITES_PER_MINUTE: "2" };
    const ip = `203.0.113.${Math.floor(Math.random() * 250)}`;
    const send = async (path: string) => {
      const h = await platformHeaders("{}");
      return fetchWith(tight, path, { method: "POST", headers: { ...h, "cf-connecting-ip": ip }, body: "{}" });
    };
    expect((await send("/v1/program/webhook/ingest")).status).toBe(200);
    expect((await send("/v1/program/week11/webhook/ingest")).status).toBe(200);
    const third = await send("/v1/program/webhook/ingest");
    expect(third.status).toBe(429); // signature-authenticated routes are limited per client IP
    expect(third.headers.get("retry-after")).toBeTruthy();
  });

  it("can be switched off", async () => {
    const t = await tokenFor({ sub: `rl_off_${crypto.randomUUID()}`, roles: ["operator"] });
    for (let i = 0; i < 5; i++) expect((await preview({ ...TIGHT, RATE_LIMIT_ENABLED: "false" }, t)).status).toBe(200);
  });
});

describe("rate-limit policy (pure)", () => {
  const input = { bucket: "b", limit: 3, period_ms: 60_000 };

  it("token bucket: burst of `limit`, then one token per period/limit", () => {
    let bucket;
    let now = 0;
    for (let i = 0; i < 3; i++) {
      const r = takeToken(bucket, input, now);
      expect(r.result.allowed).toBe(true);
      bucket = r.bucket;
    }
    const denied = takeToken(bucket, input, now);
    expect(denied.result).toEqual({ allowed: false, granted: 0, remaining: 0, retry_after_ms: 20_000 });
    now += 20_000;
    expect(takeToken(denied.bucket, input, now).result.allowed).toBe(true);
  });

  it("defaults never get in the way of normal traffic", () => {
    const cfg = loadConfig(env);
    expect(cfg.RATE_LIMIT_ENABLED).toBe(true);
    expect(limitFor(cfg, "POST", "POST /v1/builds")).toBe(3000);
    expect(limitFor(cfg, "GET", "GET /v1/builds/:id")).toBe(0);
    expect(limitFor(cfg, "POST", "POST /v1/builds/:id/runtime/tick")).toBe(0);
    expect(limitFor(cfg, "POST", "POST /v1/runner/callback")).toBe(0);
  });

  it("route keys: the matched route pattern, week aliases canonical, parameters written :id", async () => {
    const keys: string[] = [];
    const app = new Hono();
    app.use("*", async (c, next) => {
      keys.push(matchedRouteKey(c));
      await next();
    });
    app.post("/v1/builds/:id/abort", (c) => c.body(null, 204));
    app.post("/v1/program/week10/secrets", (c) => c.body(null, 204));
    app.get("/v1/planner/policies/:version", (c) => c.body(null, 204));
    const id = crypto.randomUUID();
    for (const [method, path] of [
      ["POST", `/v1/builds/${id}/abort`],
      ["POST", "/v1/program/week10/secrets"],
      ["GET", "/v1/planner/policies/0x1"],
      ["POST", "/v1/nowhere"],
    ]) {
      await app.request(path as string, { method });
    }
    expect(keys).toEqual([
      "POST /v1/builds/:id/abort",
      "POST /v1/program/secrets",
      "GET /v1/planner/policies/:id",
      "POST <unmatched>",
    ]);
    expect(canonicalPath("/v1/program/week10/secrets/")).toBe("/v1/program/secrets");
    expect(canonicalPath("/v1/program/week12/idempotent-checkpoints")).toBe("/v1/program/idempotent-checkpoints");
    expect(canonicalPath("/v1/builds")).toBe("/v1/builds");
  });
});

describe("token leases of a worker isolate", () => {
  /** A limiter as the DO keeps it: one bucket, the clock under the test's control. */
  function limiter(limit: number) {
    let bucket: Bucket | undefined;
    const state = { now: 1_000_000, calls: 0 };
    const hit = async (want: number) => {
      state.calls++;
      await new Promise((r) => setTimeout(r, 1)); // an RPC: concurrent requests overlap it
      const r = takeToken(bucket, { bucket: "b", limit, period_ms: 60_000, want }, state.now);
      bucket = r.bucket;
      return r.result;
    };
    return { hit, state, clock: () => state.now };
  }

  it("lease size: exact below 200/min, then limit/100 up to 50", () => {
    expect([3, 60, 199, 200, 3000, 10_000, 1_000_000].map(leaseSize)).toEqual([1, 1, 1, 2, 30, 50, 50]);
  });

  it("admits exactly the bucket from concurrent clients, with far fewer limiter calls than requests", async () => {
    const l = limiter(1000); // lease of 10
    const key = `lease-${crypto.randomUUID()}`;
    const results: HitResult[] = [];
    // 10 clients, each sending its next request when the previous one is answered (as the bench does).
    await Promise.all(
      Array.from({ length: 10 }, async () => {
        for (let i = 0; i < 120; i++) results.push(await leasedHit(key, leaseSize(1000), l.hit, l.clock));
      }),
    );
    expect(results.filter((r) => r.allowed)).toHaveLength(1000); // never more than the bucket, none lost
    expect(results.filter((r) => !r.allowed).every((r) => r.retry_after_ms > 0)).toBe(true);
    expect(l.state.calls).toBeLessThan(600); // instead of 1200
  });

  it("a burst that finds the pool empty takes one lease; the others ask for a single token each", async () => {
    const l = limiter(1000);
    const key = `lease-${crypto.randomUUID()}`;
    const wants: number[] = [];
    const spy = (want: number) => (wants.push(want), l.hit(want));
    const results = await Promise.all(Array.from({ length: 5 }, () => leasedHit(key, 10, spy, l.clock)));
    expect(results.every((r) => r.allowed)).toBe(true);
    expect(wants).toEqual([10, 1, 1, 1, 1]);
    for (let i = 0; i < 9; i++) await leasedHit(key, 10, spy, l.clock); // the lease's 9 spare tokens
    expect(wants).toHaveLength(5);
  });

  it("drops an expired lease instead of spending it late", async () => {
    const l = limiter(1000);
    const key = `lease-${crypto.randomUUID()}`;
    expect((await leasedHit(key, 10, l.hit, l.clock)).allowed).toBe(true);
    expect(l.state.calls).toBe(1);
    await leasedHit(key, 10, l.hit, l.clock);
    expect(l.state.calls).toBe(1); // served from the lease
    l.state.now += LEASE_MS;
    await leasedHit(key, 10, l.hit, l.clock);
    expect(l.state.calls).toBe(2); // the 8 tokens left were dropped, a new lease taken
  });

  it("leases of size 1 ask the limiter for every request", async () => {
    const l = limiter(3);
    const key = `lease-${crypto.randomUUID()}`;
    const results = await Promise.all(Array.from({ length: 5 }, () => leasedHit(key, leaseSize(3), l.hit, l.clock)));
    expect(results.map((r) => r.allowed)).toEqual([true, true, true, false, false]);
    expect(l.state.calls).toBe(5);
  });
});
