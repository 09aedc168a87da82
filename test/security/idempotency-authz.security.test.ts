/**
 * Issue 17 item 5: an idempotent replay never bypasses authorization. The matched route's
 * capability is checked before the stored response is looked up, so a viewer token with the same
 * `sub` and `Idempotency-Key` as an operator's successful create gets 403, not the stored 201.
 */
import { describe, expect, it } from "vitest";
import { caller } from "../helpers/api";

describe("Idempotency-Key replay after the capability check", () => {
  it("a viewer with the operator's sub and key gets 403, not the stored 201", async () => {
    const operator = await caller({ sub: "idem_authz", org_id: "org_idem_authz", roles: ["operator"] });
    const key = crypto.randomUUID();
    const body = { repo_url: "https://github.com/acme/idem-authz", metadata: { simulated_duration_ms: 0 } };
    const first = await operator.request("POST", "/v1/builds", body, { "idempotency-key": key });
    expect(first.status).toBe(201);
    // The operator's own retry is replayed (the store works).
    const again = await operator.request("POST", "/v1/builds", body, { "idempotency-key": key });
    expect(again.status).toBe(201);
    expect(again.headers.get("idempotent-replayed")).toBe("true");

    const viewer = await caller({ sub: "idem_authz", org_id: "org_idem_authz", roles: ["viewer"] });
    const replayed = await viewer.request("POST", "/v1/builds", body, { "idempotency-key": key });
    expect(replayed.status).toBe(403);
    expect(replayed.body.code).toBe("insufficient_capability");
    expect(replayed.headers.get("idempotent-replayed")).toBeNull();
    expect(JSON.stringify(replayed.body)).not.toContain(first.body.build_id);

    const none = await caller({ sub: "idem_authz", org_id: "org_idem_authz", roles: [] });
    const noCaps = await none.request("POST", "/v1/builds", body, { "idempotency-key": key });
    expect(noCaps.status).toBe(403);
    expect(noCaps.body.code).toBe("capabilities_missing");
  });

  it("the same holds on program routes (secrets create: security role only)", async () => {
    const security = await caller({ sub: "idem_authz_sec", org_id: "org_idem_authz2", roles: ["security"] });
    const key = crypto.randomUUID();
    const body = { name: `k-${crypto.randomUUID().slice(0, 8)}`, value: "s3cr3t-value-123" };
    const created = await security.request("POST", "/v1/program/secrets", body, { "idempotency-key": key });
    expect(created.status).toBe(201);
    const operator = await caller({ sub: "idem_authz_sec", org_id: "org_idem_authz2", roles: ["operator"] });
    const replayed = await operator.request("POST", "/v1/program/secrets", body, { "idempotency-key": key });
    expect(replayed.status).toBe(403);
    expect(replayed.body.code).toBe("insufficient_capability");
  });
});
