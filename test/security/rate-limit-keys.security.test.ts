/**
 * Issue 17 item 4: rate-limit buckets are keyed on the matched route pattern (never raw path
 * text), the limiter's bucket map is bounded, unauthenticated requests are limited per client
 * address, the write failure mode is configurable (closed by default in production), and
 * non-canonical numeric path parameters are 422.
 */
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/kernel/env";
import { writeFailureMode } from "../../src/security/rate-limit.middleware";
import { tokenFor } from "../helpers/auth";
import { fetchWith, problemOf, unreachableNamespace } from "./helpers";

const ip = () => `198.51.100.${Math.floor(Math.random() * 250) + 1}`;

describe("buckets per matched route pattern", () => {
  it("every spelling of a policy version shares one bucket; non-canonical spellings are 422", async () => {
    const t = await tokenFor({ sub: `rlk_${crypto.randomUUID()}`, org_id: "org_rlk", roles: ["admin"] });
    const tight = { RATE_LIMIT_WRITES_PER_MINUTE: "1" };
    const activate = (v: string) =>
      fetchWith(tight, `/v1/planner/policies/${v}/activate`, {
        method: "POST",
        headers: { authorization: `Bearer ${t}` },
      });
    const first = await activate("1");
    expect(first.status).not.toBe(429); // 404: no such version; the bucket is spent
    expect((await activate("1")).status).toBe(429);
    for (const spelling of ["01", "0x1", "1e0", "+1", "2", "999"]) {
      const res = await activate(spelling);
      expect({ spelling, status: res.status }).toEqual({ spelling, status: 429 });
    }
  });

  it("non-canonical numeric path parameters are 422 validation_failed", async () => {
    const t = await tokenFor({ sub: `rlk_v_${crypto.randomUUID()}`, org_id: "org_rlk_v", roles: ["admin"] });
    for (const spelling of ["01", "0x1", "1e0", "+1", "%201", "1.0", "0"]) {
      const res = await exports.default.fetch(
        new Request(`http://cp.test/v1/planner/policies/${spelling}`, { headers: { authorization: `Bearer ${t}` } }),
      );
      expect({ spelling, status: res.status }).toEqual({ spelling, status: 422 });
      expect((await problemOf(res)).code).toBe("validation_failed");
    }
    const canonical = await exports.default.fetch(
      new Request("http://cp.test/v1/planner/policies/1", { headers: { authorization: `Bearer ${t}` } }),
    );
    expect(canonical.status).toBe(404);
  });

  it("junk paths share one bucket instead of creating one each", async () => {
    const t = await tokenFor({ sub: `rlk_junk_${crypto.randomUUID()}`, org_id: "org_rlk_j", roles: ["admin"] });
    const tight = { RATE_LIMIT_WRITES_PER_MINUTE: "2" };
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      statuses.push(
        (
          await fetchWith(tight, `/v1/junk-${i}/${crypto.randomUUID()}`, {
            method: "POST",
            headers: { authorization: `Bearer ${t}` },
          })
        ).status,
      );
    }
    expect(statuses).toEqual([404, 404, 429, 429, 429, 429]);
  });

  it("the limiter keeps a bounded number of buckets", async () => {
    const ns = env.RATE_LIMITER;
    const stub = ns.get(ns.idFromName(`bound-${crypto.randomUUID()}`));
    for (let i = 0; i < 1100; i++) await stub.hit({ bucket: `b${i}`, limit: 5, period_ms: 60_000, want: 1 });
    expect(await stub.size()).toBeLessThanOrEqual(1000);
  });
});

describe("unauthenticated requests are limited per client address", () => {
  it("no credential: 401 until the address's limit, then 429; another address is unaffected", async () => {
    const a = ip();
    const limits = { RATE_LIMIT_UNAUTHENTICATED_PER_MINUTE: "3" };
    const get = (addr: string) => fetchWith(limits, "/v1/builds", { headers: { "cf-connecting-ip": addr } });
    for (let i = 0; i < 3; i++) expect((await get(a)).status).toBe(401);
    const over = await get(a);
    expect(over.status).toBe(429);
    expect(over.headers.get("retry-after")).toBeTruthy();
    expect((await problemOf(over)).code).toBe("rate_limited");
    let other = ip();
    while (other === a) other = ip();
    expect((await get(other)).status).toBe(401);
  });

  it("bad tokens count too", async () => {
    const a = ip();
    const limits = { RATE_LIMIT_UNAUTHENTICATED_PER_MINUTE: "2" };
    const bad = () =>
      fetchWith(limits, "/v1/builds", { headers: { "cf-connecting-ip": a, authorization: "Bearer not.a.token" } });
    expect((await bad()).status).toBe(401);
    expect((await bad()).status).toBe(401);
    expect((await bad()).status).toBe(429);
    // A valid token from the same address is not affected.
    const t = await tokenFor({ sub: `rlk_ok_${crypto.randomUUID()}`, roles: ["operator"] });
    expect(
      (await fetchWith(limits, "/v1/builds", { headers: { "cf-connecting-ip": a, authorization: `Bearer ${t}` } }))
        .status,
    ).toBe(200);
  });
});

describe("limiter failure mode for writes", () => {
  it("closed by default in production, open elsewhere; configurable", () => {
    const base = { ...env, FAULT_INJECTION: undefined } as Env;
    expect(writeFailureMode(loadConfig({ ...base, ENVIRONMENT: "production" } as Env))).toBe("closed");
    expect(writeFailureMode(loadConfig({ ...base, ENVIRONMENT: "staging" } as Env))).toBe("open");
    expect(
      writeFailureMode(
        loadConfig({ ...base, ENVIRONMENT: "production", RATE_LIMIT_WRITE_FAILURE_MODE: "open" } as Env),
      ),
    ).toBe("open");
  });

  it("closed: a write is 503 coordination_unavailable and does not run; reads pass", async () => {
    const t = await tokenFor({ sub: `rlk_fail_${crypto.randomUUID()}`, roles: ["operator"] });
    const down = {
      RATE_LIMITER: unreachableNamespace("throw"),
      RATE_LIMIT_WRITE_FAILURE_MODE: "closed",
      RATE_LIMIT_READS_PER_MINUTE: "100",
    };
    const write = await fetchWith(down, "/v1/builds", {
      method: "POST",
      headers: { authorization: `Bearer ${t}`, "content-type": "application/json" },
      body: JSON.stringify({ repo_url: "https://github.com/acme/rl-closed" }),
    });
    expect(write.status).toBe(503);
    expect((await problemOf(write)).code).toBe("coordination_unavailable");
    const n = await env.DB.prepare("SELECT COUNT(*) AS n FROM builds WHERE repo_url = ?")
      .bind("https://github.com/acme/rl-closed")
      .first<{ n: number }>();
    expect(n?.n).toBe(0);
    expect((await fetchWith(down, "/v1/builds", { headers: { authorization: `Bearer ${t}` } })).status).toBe(200);
    const open = await fetchWith({ ...down, RATE_LIMIT_WRITE_FAILURE_MODE: "open" }, "/v1/builds/preview-dag", {
      method: "POST",
      headers: { authorization: `Bearer ${t}`, "content-type": "application/json" },
      body: JSON.stringify({ repo_url: "https://github.com/acme/rl-open" }),
    });
    expect(open.status).toBe(200);
  });
});
