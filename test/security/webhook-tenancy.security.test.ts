/**
 * Issue 17 item 3: every webhook delivery belongs to a tenant. A tenant's own signing secret
 * (WEBHOOK_TENANT_SECRETS) makes its deliveries that tenant's; a delivery with no tenant
 * (deployment-wide secret, WEBHOOK_TENANT_ID unset) is visible only to deployment administrators
 * (admins of DEPLOYMENT_ADMIN_TENANT), never to every tenant.
 */
import { describe, expect, it } from "vitest";
import { tokenFor } from "../helpers/auth";
import { INGEST, fetchWith, standardHeaders } from "./helpers";

const TENANT_A_SECRET = "whsec_dGVuYW50LWEtd2ViaG9vay1zZWNyZXQtMDEyMzQ1Njc=";
const TENANT_B_SECRET = "whsec_dGVuYW50LWItd2ViaG9vay1zZWNyZXQtMDEyMzQ1Njc=";
const CONFIG = {
  WEBHOOK_TENANT_SECRETS: JSON.stringify({ org_hook_a: TENANT_A_SECRET, org_hook_b: TENANT_B_SECRET }),
  DEPLOYMENT_ADMIN_TENANT: "org_deploy_ops",
};

async function deliver(secret?: string): Promise<string> {
  const payload = JSON.stringify({ event: "push", n: crypto.randomUUID() });
  const res = await fetchWith(CONFIG, INGEST, {
    method: "POST",
    headers: standardHeaders(payload, secret === undefined ? {} : { secret }),
    body: payload,
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { delivery_id: string }).delivery_id;
}

async function as(claims: { sub: string; org_id: string; roles: string[] }) {
  const token = await tokenFor(claims);
  const get = (path: string) => fetchWith(CONFIG, path, { headers: { authorization: `Bearer ${token}` } });
  return {
    async sees(id: string): Promise<boolean> {
      const one = await get(`/v1/program/webhook/deliveries/${id}`);
      const list = (await (await get("/v1/program/webhook/deliveries?limit=200")).json()) as {
        items: Array<{ delivery_id: string }>;
      };
      const listed = list.items.some((d) => d.delivery_id === id);
      expect(listed).toBe(one.status === 200);
      if (one.status !== 200) expect(((await one.json()) as { code: string }).code).toBe("webhook_delivery_not_found");
      return one.status === 200;
    },
    tenantOf: async (id: string) =>
      ((await (await get(`/v1/program/webhook/deliveries/${id}`)).json()) as { tenant_id: string | null }).tenant_id,
  };
}

describe("webhook delivery tenancy", () => {
  it("a tenant-less delivery is visible only to deployment administrators", async () => {
    const id = await deliver(); // the deployment-wide secret, WEBHOOK_TENANT_ID unset
    const securityA = await as({ sub: "hook_sec_a", org_id: "org_hook_a", roles: ["security"] });
    const adminA = await as({ sub: "hook_admin_a", org_id: "org_hook_a", roles: ["admin"] });
    const opsSecurity = await as({ sub: "hook_ops_sec", org_id: "org_deploy_ops", roles: ["security"] });
    const deploymentAdmin = await as({ sub: "hook_ops_admin", org_id: "org_deploy_ops", roles: ["admin"] });
    expect(await securityA.sees(id)).toBe(false);
    expect(await adminA.sees(id)).toBe(false);
    expect(await opsSecurity.sees(id)).toBe(false);
    expect(await deploymentAdmin.sees(id)).toBe(true);
    expect(await deploymentAdmin.tenantOf(id)).toBeNull();
  });

  it("a tenant's signing secret makes the delivery that tenant's, and only that tenant's", async () => {
    const idA = await deliver(TENANT_A_SECRET);
    const idB = await deliver(TENANT_B_SECRET);
    const securityA = await as({ sub: "hook_sec_a2", org_id: "org_hook_a", roles: ["security"] });
    const securityB = await as({ sub: "hook_sec_b", org_id: "org_hook_b", roles: ["security"] });
    expect(await securityA.sees(idA)).toBe(true);
    expect(await securityA.tenantOf(idA)).toBe("org_hook_a");
    expect(await securityA.sees(idB)).toBe(false);
    expect(await securityB.sees(idB)).toBe(true);
    expect(await securityB.sees(idA)).toBe(false);
    // A tenant's delivery is not the deployment's either.
    const deploymentAdmin = await as({ sub: "hook_ops_admin2", org_id: "org_deploy_ops", roles: ["admin"] });
    expect(await deploymentAdmin.sees(idA)).toBe(false);
  });

  it("a signature by an unknown secret is still 401", async () => {
    const payload = "{}";
    const res = await fetchWith(CONFIG, INGEST, {
      method: "POST",
      headers: standardHeaders(payload, { secret: "whsec_dW5rbm93bi1zZWNyZXQtMDEyMzQ1Njc4OWFiY2Q=" }),
      body: payload,
    });
    expect(res.status).toBe(401);
  });
});
