import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { parseIdempotencyKey, isStorableOutcome } from "../../src/security/idempotency.middleware";
import { caller } from "../helpers/api";
import { tokenFor } from "../helpers/auth";
import { count, fetchWith } from "./helpers";

const buildBody = (tag: string) => ({
  repo_url: `https://github.com/acme/${tag}`,
  metadata: { simulated_duration_ms: 0 },
});

describe("Idempotency-Key on POST /v1/builds", () => {
  it("20 concurrent requests with one key → exactly one build; the others replay its body or answer 409 in flight", async () => {
    const c = await caller({ sub: "idem_conc", org_id: "org_idem" });
    const tag = `idem-${crypto.randomUUID()}`;
    const key = crypto.randomUUID();
    const results = await Promise.all(
      Array.from({ length: 20 }, () => c.request("POST", "/v1/builds", buildBody(tag), { "idempotency-key": key })),
    );
    expect(await count("SELECT COUNT(*) AS n FROM builds WHERE repo_url = ?", `https://github.com/acme/${tag}`)).toBe(
      1,
    );
    const created = results.filter((r) => r.status === 201 && r.headers.get("idempotent-replayed") === null);
    expect(created).toHaveLength(1);
    const buildId = created[0]!.body.build_id;
    for (const r of results) {
      if (r.status === 201) {
        expect(r.body.build_id).toBe(buildId);
      } else {
        expect(r.status).toBe(409);
        expect(r.body.code).toBe("idempotency_key_in_flight");
        expect(r.headers.get("retry-after")).toBe("1");
      }
    }
    // After the first finished, a retry is a replay of the very same response.
    const again = await c.request("POST", "/v1/builds", buildBody(tag), { "idempotency-key": key });
    expect(again.status).toBe(201);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(again.headers.get("location")).toBe(`/v1/builds/${buildId}`);
    expect(again.body).toEqual(created[0]!.body);
  });

  it("a response is cached at the edge (KV) only once it has been replayed, and replays stay the same from there", async () => {
    const token = await tokenFor({ sub: "idem_kv", roles: ["operator"] });
    const key = crypto.randomUUID();
    // fetchWith waits for the request's background work too, so what it cached is in KV by then.
    const post = async () => {
      const res = await fetchWith({}, "/v1/builds", {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json", "idempotency-key": key },
        body: JSON.stringify(buildBody("kv")),
      });
      return { status: res.status, replayed: res.headers.get("idempotent-replayed"), body: (await res.json()) as any };
    };
    /** KV entries of cached completions whose response is this build's. */
    const cachedFor = async (buildId: string) => {
      const out: { response: { status: number; body: string } }[] = [];
      for (const k of (await env.CACHE.list({ prefix: "v1:idem:" })).keys) {
        const v = (await env.CACHE.get(k.name, "json")) as { response: { status: number; body: string } } | null;
        if (v?.response.body.includes(buildId)) out.push(v);
      }
      return out;
    };
    const first = await post();
    expect(first.status).toBe(201);
    expect(first.replayed).toBeNull();
    // No edge-cache write for a request nobody has repeated (the ReplayGuard holds the response).
    expect(await cachedFor(first.body.build_id)).toEqual([]);
    const second = await post();
    expect(second).toEqual({ status: 201, replayed: "true", body: first.body });
    const cached = await cachedFor(first.body.build_id);
    expect(cached).toHaveLength(1);
    expect(cached[0]?.response.status).toBe(201);
    expect(JSON.parse(cached[0]?.response.body as string)).toEqual(first.body);
    expect(await post()).toEqual({ status: 201, replayed: "true", body: first.body });
  });

  it("the same key with another body → 422 idempotency_key_reused (also while in flight)", async () => {
    const c = await caller({ sub: "idem_reuse" });
    const key = `"${crypto.randomUUID()}"`; // sf-string form
    expect((await c.request("POST", "/v1/builds", buildBody("a"), { "idempotency-key": key })).status).toBe(201);
    const other = await c.request("POST", "/v1/builds", buildBody("b"), { "idempotency-key": key });
    expect(other.status).toBe(422);
    expect(other.body.code).toBe("idempotency_key_reused");
  });

  it("keys are scoped per principal and per route", async () => {
    const key = crypto.randomUUID();
    const a = await caller({ sub: "idem_a", org_id: "org_x" });
    const b = await caller({ sub: "idem_b", org_id: "org_x" });
    const tag = `scope-${crypto.randomUUID()}`;
    const ra = await a.request("POST", "/v1/builds", buildBody(tag), { "idempotency-key": key });
    const rb = await b.request("POST", "/v1/builds", buildBody(tag), { "idempotency-key": key });
    expect(ra.status).toBe(201);
    expect(rb.status).toBe(201);
    expect(rb.headers.get("idempotent-replayed")).toBeNull();
    expect(rb.body.build_id).not.toBe(ra.body.build_id);
    // Same principal, same key, another route: its own scope.
    const preview = await a.request("POST", "/v1/builds/preview-dag", buildBody(tag), { "idempotency-key": key });
    expect(preview.status).toBe(200);
    expect(preview.headers.get("idempotent-replayed")).toBeNull();
  });

  it("requests without the header are not deduplicated; an invalid key is 400", async () => {
    const c = await caller({ sub: "idem_none" });
    const tag = `none-${crypto.randomUUID()}`;
    await c.request("POST", "/v1/builds", buildBody(tag));
    await c.request("POST", "/v1/builds", buildBody(tag));
    expect(await count("SELECT COUNT(*) AS n FROM builds WHERE repo_url = ?", `https://github.com/acme/${tag}`)).toBe(
      2,
    );
    for (const bad of ["", "x".repeat(256), "a b", '"unterminated']) {
      const res = await c.request("POST", "/v1/builds", buildBody(tag), { "idempotency-key": bad });
      expect(res.status).toBe(400);
      expect(res.body.code).toBe("idempotency_key_invalid");
    }
  });

  it("validation errors are stored and replayed; authorization failures are not stored", async () => {
    const viewer = await caller({ sub: "idem_perm", roles: ["viewer"] });
    const key = crypto.randomUUID();
    const denied = await viewer.request("POST", "/v1/builds", buildBody("p"), { "idempotency-key": key });
    expect(denied.status).toBe(403);
    // The same principal later gets the capability: the key was not burned by the 403.
    const operator = await caller({ sub: "idem_perm", roles: ["operator"] });
    const ok = await operator.request("POST", "/v1/builds", buildBody("p"), { "idempotency-key": key });
    expect(ok.status).toBe(201);
    expect(ok.headers.get("idempotent-replayed")).toBeNull();

    const badKey = crypto.randomUUID();
    const invalid = await operator.request("POST", "/v1/builds", { objective: 5 }, { "idempotency-key": badKey });
    expect(invalid.status).toBe(422);
    const replay = await operator.request("POST", "/v1/builds", { objective: 5 }, { "idempotency-key": badKey });
    expect(replay.status).toBe(422);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
  });
});

describe("idempotency helpers", () => {
  it("parses sf-string and bare keys", () => {
    expect(parseIdempotencyKey('"8e03978e-40d5-43e8-bc93-6894a57f9324"')).toBe("8e03978e-40d5-43e8-bc93-6894a57f9324");
    expect(parseIdempotencyKey('"a \\"quoted\\" key"')).toBe('a "quoted" key');
    expect(parseIdempotencyKey(" abc-123 ")).toBe("abc-123");
    expect(() => parseIdempotencyKey('""')).toThrow();
    expect(() => parseIdempotencyKey("a b")).toThrow();
  });

  it.each([
    [201, undefined, true],
    [422, "validation_failed", true],
    [409, "build_conflict", true],
    [409, "lease_lost", false],
    [429, "rate_limited", false],
    [401, "unauthenticated", false],
    [403, "insufficient_capability", false],
    [500, "internal", false],
    [503, "coordination_unavailable", false],
  ])("status %i code %s storable=%s", (status, code, expected) => {
    expect(isStorableOutcome(status, code)).toBe(expected);
  });
});
