import { describe, expect, it } from "vitest";
import { INSTANT, caller, createBuild } from "../helpers/api";
import { tokenFor } from "../helpers/auth";
import {
  INGEST,
  count,
  fetchWith,
  ingest,
  platformHeaders,
  problemOf,
  standardHeaders,
  unreachableNamespace,
} from "./helpers";

async function post(overrides: Record<string, unknown>, path: string, body: unknown, headers: Record<string, string>) {
  return fetchWith(overrides, path, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

const OUTAGES: Array<[string, Record<string, unknown>]> = [
  ["binding missing", { REPLAY_GUARD: undefined }],
  ["DO throws", { REPLAY_GUARD: unreachableNamespace("throw") }],
  ["DO never answers", { REPLAY_GUARD: unreachableNamespace("hang"), REPLAY_GUARD_TIMEOUT_MS: "100" }],
];

describe.each(OUTAGES)("ReplayGuard unavailable (%s): fail closed with 503", (_name, outage) => {
  it("webhook ingest answers 503 coordination_unavailable and stores nothing", async () => {
    for (const [payload, headers] of [
      ["{}", standardHeaders("{}")],
      ["{}", await platformHeaders("{}")],
    ] as const) {
      const res = await post(outage, INGEST, payload, headers);
      expect(res.status).toBe(503);
      expect(await problemOf(res)).toMatchObject({ code: "coordination_unavailable" });
      const id = "webhook-id" in headers ? headers["webhook-id"] : headers["x-platform-nonce"];
      expect(await count("SELECT COUNT(*) AS n FROM webhook_deliveries WHERE external_id = ?", id)).toBe(0);
      // Once the guard is back, the sender's retry of the same delivery is accepted.
      expect((await ingest(payload, headers)).status).toBe(200);
    }
  });

  it("a POST with Idempotency-Key answers 503 and is not executed", async () => {
    const token = await tokenFor({ sub: `outage_${crypto.randomUUID()}`, roles: ["operator"] });
    const tag = `outage-${crypto.randomUUID()}`;
    const res = await post(
      outage,
      "/v1/builds",
      { repo_url: `https://github.com/acme/${tag}` },
      { authorization: `Bearer ${token}`, "idempotency-key": "k-1" },
    );
    expect(res.status).toBe(503);
    expect((await problemOf(res)).code).toBe("coordination_unavailable");
    expect(await count("SELECT COUNT(*) AS n FROM builds WHERE repo_url = ?", `https://github.com/acme/${tag}`)).toBe(
      0,
    );
    // Requests without the header do not depend on the guard.
    const plain = await post(
      outage,
      "/v1/builds",
      { repo_url: `https://github.com/acme/${tag}`, metadata: INSTANT },
      { authorization: `Bearer ${token}` },
    );
    expect(plain.status).toBe(201);
  });

  it("idempotent checkpoints answer 503 and create no checkpoint", async () => {
    const c = await caller({ sub: `outage_ck_${crypto.randomUUID()}` });
    const build = await createBuild(c, { metadata: INSTANT });
    const res = await post(
      outage,
      "/v1/program/idempotent-checkpoints",
      { build_id: build.build_id, idempotency_key: "k" },
      { authorization: `Bearer ${c.token}` },
    );
    expect(res.status).toBe(503);
    expect((await problemOf(res)).code).toBe("coordination_unavailable");
    expect(
      await count(
        "SELECT COUNT(*) AS n FROM checkpoints WHERE build_id = ? AND reason = 'idempotent_checkpoint'",
        build.build_id,
      ),
    ).toBe(0);
  });
});
