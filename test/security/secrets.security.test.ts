import { env } from "cloudflare:workers";
import { drizzle } from "drizzle-orm/d1";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/kernel/env";
import { KeyringSchema } from "../../src/kernel/security.config";
import { maskValue, openSecret, sealSecret } from "../../src/security/secrets.crypto";
import { resolveSecretValue } from "../../src/security/secrets.service";
import { type ApiResponse, caller } from "../helpers/api";
import { tokenFor } from "../helpers/auth";
import { dumpD1, fetchWith } from "./helpers";

const KEY_V1 = (JSON.parse(env.SECRETS_KEYRING!) as Record<string, string>)["1"]!;
const KEY_V2 = btoa(String.fromCharCode(...new Uint8Array(32).fill(2)));
const RING_V1_V2 = JSON.stringify({ "1": KEY_V1, "2": KEY_V2 });
const RING_V2_ONLY = JSON.stringify({ "2": KEY_V2 });

function deps(keyring: string) {
  return { db: drizzle(env.DB), config: loadConfig({ ...env, SECRETS_KEYRING: keyring } as Env) };
}

/** A caller whose requests go through the worker with a given keyring. */
async function callerWith(keyring: string, opts: Parameters<typeof tokenFor>[0]) {
  const token = await tokenFor(opts);
  return async (method: string, path: string, body?: unknown): Promise<ApiResponse> => {
    const res = await fetchWith({ SECRETS_KEYRING: keyring }, path, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { "content-type": "application/json" } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null };
  };
}

describe("secrets: create / list / metadata (SPEC §6.3)", () => {
  it("creates with 201 + Location, masks the value, and never returns or stores the plaintext", async () => {
    const plaintext = `ghp_test_${crypto.randomUUID().replace(/-/g, "")}_90`;
    const c = await caller({ sub: "sec_scan", roles: ["security"], org_id: "org_scan" });
    const seen: string[] = [];
    const record = (r: ApiResponse) => {
      seen.push(JSON.stringify(r.body), JSON.stringify([...r.headers]));
      return r;
    };
    const created = record(
      await c.request(
        "POST",
        "/v1/program/secrets",
        { name: "GITHUB_TOKEN", value: plaintext },
        { "idempotency-key": crypto.randomUUID() },
      ),
    );
    expect(created.status).toBe(201);
    expect(created.headers.get("location")).toBe(`/v1/program/secrets/${created.body.secret_id}`);
    expect(created.body).toEqual({
      secret_id: expect.any(String),
      name: "GITHUB_TOKEN",
      masked_value: "gh***90",
      cipher_digest: expect.stringMatching(/^[0-9a-f]{16}$/),
      key_version: 1,
      created_at: expect.stringMatching(/Z$/),
    });
    const list = record(await c.request("GET", "/v1/program/secrets"));
    expect(list.body.items).toEqual([{ ...created.body, masked_value: "***" }]);
    const meta = record(await c.request("GET", `/v1/program/secrets/${created.body.secret_id}`));
    expect(meta.body).toMatchObject({
      secret_id: created.body.secret_id,
      name: "GITHUB_TOKEN",
      cipher_digest: created.body.cipher_digest,
      key_version: 1,
    });
    expect(meta.body.cipher_length).toBeGreaterThan(plaintext.length);
    expect(meta.body.cipher_length).toBeGreaterThan(10);

    const rotate = await callerWith(RING_V1_V2, { sub: "sec_scan", roles: ["security"], org_id: "org_scan" });
    record(await rotate("POST", "/v1/program/secrets/rotate"));
    record(await rotate("POST", `/v1/program/secrets/${created.body.secret_id}/rotate`));
    record(await rotate("GET", `/v1/program/secrets/${created.body.secret_id}`));

    const everything = `${seen.join("\n")}\n${await dumpD1()}`;
    for (const needle of [plaintext, plaintext.slice(4, -3), btoa(plaintext)]) expect(everything).not.toContain(needle);
    expect(everything).toContain(created.body.cipher_digest); // the scan did see the secret's rows
    // …and the value is still there for runner dispatch.
    expect(await resolveSecretValue(deps(RING_V1_V2), "org_scan", { name: "GITHUB_TOKEN" })).toBe(plaintext);
  });

  it("lists only the tenant's secrets, newest first, paged", async () => {
    const c = await caller({ roles: ["security"], org_id: "org_list" });
    const names = ["A", "B", "C"];
    for (const name of names)
      expect((await c.request("POST", "/v1/program/secrets", { name, value: `v-${name}-long-value` })).status).toBe(
        201,
      );
    const other = await caller({ roles: ["security"], org_id: "org_list_other" });
    expect((await other.request("GET", "/v1/program/secrets")).body.items).toEqual([]);
    const page1 = await c.request("GET", "/v1/program/secrets?limit=2");
    expect(page1.body.items.map((s: { name: string }) => s.name)).toEqual(["C", "B"]);
    const page2 = await c.request("GET", `/v1/program/secrets?limit=2&cursor=${page1.body.next_cursor}`);
    expect(page2.body).toMatchObject({ items: [{ name: "A", masked_value: "***" }], next_cursor: null });
    expect((await c.request("GET", "/v1/program/secrets?cursor=garbage!")).status).toBe(422);
  });

  it("409 secret_name_conflict for a duplicate name, also under concurrency", async () => {
    const c = await caller({ roles: ["security"], org_id: "org_dup" });
    const results = await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        c.request("POST", "/v1/program/secrets", { name: "DUP", value: `value-${i}-xxxxxx` }),
      ),
    );
    expect(results.filter((r) => r.status === 201)).toHaveLength(1);
    for (const r of results.filter((x) => x.status !== 201))
      expect(r.body).toMatchObject({ status: 409, code: "secret_name_conflict" });
    // Another tenant may use the name.
    const other = await caller({ roles: ["security"], org_id: "org_dup_2" });
    expect((await other.request("POST", "/v1/program/secrets", { name: "DUP", value: "x" })).status).toBe(201);
  });

  it("404 secret_not_found for another tenant's secret or an unknown id; 422 for a malformed id", async () => {
    const owner = await caller({ roles: ["security"], org_id: "org_own" });
    const created = await owner.request("POST", "/v1/program/secrets", { name: "X", value: "abcdefghij" });
    const other = await caller({ roles: ["admin"], org_id: "org_not_own" });
    const res = await other.request("GET", `/v1/program/secrets/${created.body.secret_id}`);
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ code: "secret_not_found", detail: "Secret not found." });
    expect((await owner.request("GET", `/v1/program/secrets/${crypto.randomUUID()}`)).status).toBe(404);
    expect((await owner.request("GET", "/v1/program/secrets/not-a-uuid")).status).toBe(422);
  });

  it("capabilities: read for list/metadata, write for create/delete/rotate", async () => {
    const viewer = await caller({ roles: ["viewer"] });
    expect((await viewer.request("GET", "/v1/program/secrets")).status).toBe(200);
    const denied = await viewer.request("POST", "/v1/program/secrets", { name: "N", value: "v" });
    expect(denied).toMatchObject({
      status: 403,
      body: { code: "insufficient_capability", detail: "Missing required capability: program.secrets.write" },
    });
    const operator = await caller({ roles: ["operator"] });
    expect((await operator.request("GET", "/v1/program/secrets")).status).toBe(403);
    expect((await viewer.request("POST", "/v1/program/secrets/rotate")).status).toBe(403);
  });

  it("validates the body: name and value required", async () => {
    const c = await caller({ roles: ["security"] });
    for (const body of [{ name: "n" }, { value: "v" }, { name: "", value: "v" }, { name: "a\nb", value: "v" }]) {
      expect((await c.request("POST", "/v1/program/secrets", body)).status).toBe(422);
    }
    expect((await c.request("POST", "/v1/program/secrets", "{oops")).body.code).toBe("malformed_json");
  });

  it("delete → 204, then 404", async () => {
    const c = await caller({ roles: ["security"], org_id: "org_del" });
    const created = await c.request("POST", "/v1/program/secrets", { name: "GONE", value: "to-be-deleted" });
    expect((await c.request("DELETE", `/v1/program/secrets/${created.body.secret_id}`)).status).toBe(204);
    expect((await c.request("GET", `/v1/program/secrets/${created.body.secret_id}`)).status).toBe(404);
    expect((await c.request("DELETE", `/v1/program/secrets/${created.body.secret_id}`)).status).toBe(404);
    expect((await c.request("POST", "/v1/program/secrets", { name: "GONE", value: "again" })).status).toBe(201);
  });

  it("week10 aliases answer identically with deprecation headers", async () => {
    const c = await caller({ roles: ["security"], org_id: "org_alias" });
    const created = await c.request("POST", "/v1/program/week10/secrets", { name: "ALIAS", value: "alias-value-123" });
    expect(created.status).toBe(201);
    expect(created.headers.get("sunset")).toBeTruthy();
    const got = await c.request("GET", `/v1/program/week10/secrets/${created.body.secret_id}`);
    expect(got.body.name).toBe("ALIAS");
    expect(got.headers.get("link")).toContain(`</v1/program/secrets/${created.body.secret_id}>`);
    expect((await c.request("GET", "/v1/program/week10/secrets")).body.items).toHaveLength(1);
  });

  it("503 secrets_unavailable without a keyring", async () => {
    const token = await tokenFor({ roles: ["security"] });
    const res = await fetchWith({ SECRETS_KEYRING: "" }, "/v1/program/secrets", {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ name: "N", value: "v" }),
    });
    expect(res.status).toBe(503);
    expect(((await res.json()) as { code: string }).code).toBe("secrets_unavailable");
  });
});

describe("secrets: key rotation", () => {
  it("after rotation every secret still decrypts and carries the new key version", async () => {
    const org = `org_rot_${crypto.randomUUID()}`;
    const c = await caller({ roles: ["security"], org_id: org });
    const values = new Map<string, string>();
    for (let i = 0; i < 7; i++) {
      const value = `rotation-value-${i}-${crypto.randomUUID()}`;
      const res = await c.request("POST", "/v1/program/secrets", { name: `S${i}`, value });
      expect(res.body.key_version).toBe(1);
      values.set(res.body.secret_id, value);
    }
    const before = await c.request("GET", "/v1/program/secrets?limit=200");
    const v2 = await callerWith(RING_V1_V2, { roles: ["security"], org_id: org });
    const first = await v2("POST", "/v1/program/secrets/rotate?limit=5");
    expect(first.body).toEqual({ key_version: 2, rotated: 5, remaining: 2 });
    const second = await v2("POST", "/v1/program/secrets/rotate?limit=5");
    expect(second.body).toEqual({ key_version: 2, rotated: 2, remaining: 0 });
    expect((await v2("POST", "/v1/program/secrets/rotate")).body).toEqual({ key_version: 2, rotated: 0, remaining: 0 });

    // The old key can now be retired: only version 2 is needed.
    const d = deps(RING_V2_ONLY);
    for (const [secretId, value] of values) {
      const meta = await v2("GET", `/v1/program/secrets/${secretId}`);
      expect(meta.body.key_version).toBe(2);
      expect(meta.body.rotated_at).toEqual(expect.any(String));
      expect(await resolveSecretValue(d, org, { secretId })).toBe(value);
    }
    // The value ciphertext is unchanged: digests are stable across rotation.
    const after = await v2("GET", "/v1/program/secrets?limit=200");
    expect(after.body.items.map((s: { cipher_digest: string }) => s.cipher_digest)).toEqual(
      before.body.items.map((s: { cipher_digest: string }) => s.cipher_digest),
    );
    // A keyring without version 2 cannot open them: an operator error, 503, never a plaintext.
    await expect(
      resolveSecretValue(deps(JSON.stringify({ "1": KEY_V1 })), org, { secretId: [...values.keys()][0]! }),
    ).rejects.toMatchObject({ code: "secrets_unavailable" });
  });

  it("rotating one secret re-wraps only it; new secrets use the newest version", async () => {
    const org = `org_rot1_${crypto.randomUUID()}`;
    const c = await caller({ roles: ["security"], org_id: org });
    const a = await c.request("POST", "/v1/program/secrets", { name: "A", value: "value-a-123456" });
    const b = await c.request("POST", "/v1/program/secrets", { name: "B", value: "value-b-123456" });
    const v2 = await callerWith(RING_V1_V2, { roles: ["security"], org_id: org });
    expect((await v2("POST", `/v1/program/secrets/${a.body.secret_id}/rotate`)).body.key_version).toBe(2);
    expect((await v2("GET", `/v1/program/secrets/${b.body.secret_id}`)).body.key_version).toBe(1);
    expect((await v2("POST", "/v1/program/secrets", { name: "C", value: "value-c-123456" })).body.key_version).toBe(2);
    expect(await resolveSecretValue(deps(RING_V1_V2), org, { name: "B" })).toBe("value-b-123456");
  });
});

describe("secrets crypto", () => {
  const ring = KeyringSchema.parse(RING_V1_V2);

  it("binds ciphertexts to their tenant and secret id", async () => {
    const sealed = await sealSecret(ring, "top-secret", { tenantId: "t1", secretId: "s1" });
    expect(sealed.key_version).toBe(2);
    expect(await openSecret(ring, sealed, { tenantId: "t1", secretId: "s1" })).toBe("top-secret");
    await expect(openSecret(ring, sealed, { tenantId: "t2", secretId: "s1" })).rejects.toThrow();
    await expect(openSecret(ring, sealed, { tenantId: "t1", secretId: "s2" })).rejects.toThrow();
    await expect(openSecret(ring, { ...sealed, key_version: 1 }, { tenantId: "t1", secretId: "s1" })).rejects.toThrow();
  });

  it("two seals of one value differ (fresh data key and IV)", async () => {
    const a = await sealSecret(ring, "same", { tenantId: "t", secretId: "s" });
    const b = await sealSecret(ring, "same", { tenantId: "t", secretId: "s" });
    expect(a.ciphertext).not.toBe(b.ciphertext);
    expect(a.wrapped_key).not.toBe(b.wrapped_key);
  });

  it.each([
    ["ghp_test_1234567890", "gh***90"],
    ["12345678", "12***78"],
    ["1234567", "***"],
    ["", "***"],
  ])("masks %j as %j", (value, masked) => {
    expect(maskValue(value)).toBe(masked);
  });

  it("rejects malformed keyrings without echoing key material", () => {
    for (const bad of ["not json", "{}", '{"0":"AA=="}', '{"1":"c2hvcnQ="}', "[1]"]) {
      const r = KeyringSchema.safeParse(bad);
      expect(r.success).toBe(false);
      expect(JSON.stringify(r.error?.issues)).not.toContain("c2hvcnQ=");
    }
  });
});
