import { describe, expect, it } from "vitest";
import { AdmissionGate, SLOT_LEASE_MS, TARGET_SERVICE_MS } from "../../src/http/admission";
import { tokenFor } from "../helpers/auth";
import { fetchWith, problemOf } from "../security/helpers";

/** A clock the test moves by hand. */
function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => void (t += ms) };
}

function admitted(gate: AdmissionGate) {
  const a = gate.enter();
  if (!a.admitted) throw new Error(`expected an admission, got a delay of ${a.retryAfterMs} ms`);
  return a;
}

function refused(gate: AdmissionGate) {
  const r = gate.enter();
  if (r.admitted) throw new Error("expected a refusal");
  return r;
}

describe("AdmissionGate", () => {
  it("admits up to maxInFlight at once and the next one once a slot frees", () => {
    const gate = new AdmissionGate({ maxInFlight: 2 });
    const a = admitted(gate);
    admitted(gate);
    refused(gate);
    a.release();
    admitted(gate);
    expect(gate.running).toBe(2);
  });

  it("shrinks the limit while admitted creates answer slower than the target, and grows it back when they are fast", () => {
    const t = clock();
    const gate = new AdmissionGate({ maxInFlight: 16 }, t.now);
    expect(gate.limit).toBe(16);
    // A congested isolate: every create takes twice the target from admission to answer.
    for (let i = 0; i < 10; i++) {
      const a = admitted(gate);
      t.advance(TARGET_SERVICE_MS * 2);
      a.release();
    }
    // 16 × 0.9^10 ≈ 5.6: five creates at once now, the sixth is refused.
    expect(gate.limit).toBe(5);
    const held = Array.from({ length: 5 }, () => admitted(gate));
    refused(gate);
    for (const a of held) a.release(); // answered at once: fast
    // Additive increase: about one slot per round of fast creates, never past maxInFlight.
    expect(gate.limit).toBe(6);
    for (let i = 0; i < 500; i++) admitted(gate).release();
    expect(gate.limit).toBe(16);
  });

  it("never shrinks below one create at a time", () => {
    const t = clock();
    const gate = new AdmissionGate({ maxInFlight: 4 }, t.now);
    for (let i = 0; i < 100; i++) {
      const a = admitted(gate);
      t.advance(10 * TARGET_SERVICE_MS);
      a.release();
    }
    expect(gate.limit).toBe(1);
    const a = admitted(gate);
    refused(gate);
    a.release();
    admitted(gate);
  });

  it("release is idempotent: a second call frees no second slot", () => {
    const gate = new AdmissionGate({ maxInFlight: 1 });
    const a = admitted(gate);
    a.release();
    a.release();
    admitted(gate);
    refused(gate);
  });

  it("frees the slot of a create never released (its request was cancelled) after the slot lease", () => {
    const t = clock();
    const gate = new AdmissionGate({ maxInFlight: 1 }, t.now);
    const lost = admitted(gate); // its request is cancelled: release never runs
    t.advance(SLOT_LEASE_MS);
    refused(gate);
    t.advance(1);
    const next = admitted(gate);
    lost.release(); // a late release frees nothing of the next create's
    expect(gate.running).toBe(1);
    refused(gate);
    next.release();
    expect(gate.running).toBe(0);
  });

  it("schedules refused creates one after another at the measured drain rate", () => {
    const t = clock();
    const gate = new AdmissionGate({ maxInFlight: 2 }, t.now);
    // Before any measurement: 15 ms per admission, so refusals are 15 ms apart.
    const held = [admitted(gate), admitted(gate)];
    expect([refused(gate), refused(gate), refused(gate)].map((r) => r.retryAfterMs)).toEqual([15, 30, 45]);
    // Every slot taken for a while: a release each 40 ms → the estimate moves towards 40 ms.
    let slots = held;
    for (let i = 0; i < 20; i++) {
      t.advance(40);
      slots[0]!.release();
      slots = [slots[1]!, admitted(gate)];
    }
    expect(gate.perAdmitMs).toBeGreaterThan(35);
    expect(gate.perAdmitMs).toBeLessThan(45);
    // The schedule has passed (20 × 40 ms): the next refusal waits one admission, and 100
    // refusals in a row spread over 100 admissions — Retry-After in whole seconds, at least 1.
    const delays = Array.from({ length: 100 }, () => refused(gate));
    expect(delays[0]!.retryAfterMs).toBe(Math.ceil(gate.perAdmitMs));
    expect(delays[0]!.retryAfterSeconds).toBe(1);
    expect(delays.at(-1)!.retryAfterMs).toBeGreaterThan(3500);
    expect(delays.at(-1)!.retryAfterSeconds).toBe(Math.ceil(delays.at(-1)!.retryAfterMs / 1000));
    const ms = delays.map((d) => d.retryAfterMs);
    expect([...ms].sort((x, y) => x - y)).toEqual(ms);
  });

  it("an episode of refusals ends once its schedule has passed and a slot is free", () => {
    const t = clock();
    const gate = new AdmissionGate({ maxInFlight: 1 }, t.now);
    const a = admitted(gate);
    refused(gate);
    refused(gate);
    expect(gate.takeEpisode()).toBe(0); // every slot taken
    a.release();
    expect(gate.takeEpisode()).toBe(0); // the refused are not back yet
    t.advance(1000);
    expect(gate.takeEpisode()).toBe(2);
    expect(gate.takeEpisode()).toBe(0);
  });
});

describe("POST /v1/builds under admission control", () => {
  it("refuses the excess of a burst with 429 overloaded and Retry-After; a refused create made nothing and may be sent again", async () => {
    const token = await tokenFor({ sub: `adm_${crypto.randomUUID()}`, roles: ["operator"] });
    const tight = { ADMISSION_MAX_IN_FLIGHT: "1" };
    const repo = `https://github.com/acme/admission-${crypto.randomUUID()}`;
    const create = (key: string) =>
      fetchWith(tight, "/v1/builds", {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json", "idempotency-key": key },
        body: JSON.stringify({ repo_url: repo }),
      });
    const keys = Array.from({ length: 6 }, () => crypto.randomUUID());
    const answers = await Promise.all(keys.map(create));
    const statuses = answers.map((r) => r.status);
    expect(statuses.every((s) => s === 201 || s === 429)).toBe(true);
    expect(statuses).toContain(201);
    expect(statuses).toContain(429);
    const refusedKeys = [];
    for (const [i, res] of answers.entries()) {
      if (res.status !== 429) {
        await res.body?.cancel();
        continue;
      }
      refusedKeys.push(keys[i]!);
      expect(Number(res.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
      expect(Number(res.headers.get("retry-after-ms"))).toBeGreaterThan(0);
      expect(res.headers.get("content-type")).toContain("application/problem+json");
      expect(await problemOf(res)).toMatchObject({ status: 429, code: "overloaded" });
    }
    // Only the admitted creates made builds.
    const list = async () => {
      const res = await fetchWith(tight, "/v1/builds?limit=50", {
        headers: { authorization: `Bearer ${token}` },
      });
      const body = (await res.json()) as { items: { repo_url: string }[] };
      return body.items.filter((b) => b.repo_url === repo).length;
    };
    const admittedCount = statuses.filter((s) => s === 201).length;
    expect(await list()).toBe(admittedCount);
    // The refused key was not claimed: sent again alone, it creates its build.
    const again = await create(refusedKeys[0]!);
    expect(again.status).toBe(201);
    expect(again.headers.get("idempotent-replayed")).toBeNull();
    expect(await list()).toBe(admittedCount + 1);
  });
});
