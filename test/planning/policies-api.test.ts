/**
 * /v1/planner/policies over HTTP (real D1): create → 201 + Location, versions, keyset list, the
 * active policy (built-in until one is activated), activation, capabilities and tenant isolation;
 * and preview-dag through the policy layer, opt-in only.
 */
import { describe, expect, it } from "vitest";
import { caller } from "../helpers/api";

const operator = (org: string, sub = `user_${org}`) => caller({ sub, org_id: org, roles: ["operator"] });

function expectProblem(res: { status: number; headers: Headers; body: any }, status: number, code: string) {
  expect({ status: res.status, code: res.body?.code }).toEqual({ status, code });
  expect(res.headers.get("content-type")).toBe("application/problem+json");
}

describe("/v1/planner/policies", () => {
  it("starts with the built-in default policy (version 0) and no stored versions", async () => {
    const c = await operator("org_p_empty");
    const active = await c.request("GET", "/v1/planner/policies/active");
    expect(active.status).toBe(200);
    expect(active.body).toMatchObject({
      version: 0,
      source: "builtin",
      active: true,
      document: { apply_by_default: false, max_nodes: 24 },
    });
    const list = await c.request("GET", "/v1/planner/policies");
    expect(list.body).toEqual({ items: [], next_cursor: null });
  });

  it("creates versions 1, 2, … with 201 + Location and stores the normalised document", async () => {
    const c = await operator("org_p_create");
    const first = await c.request("POST", "/v1/planner/policies", {
      description: "stricter retries",
      document: { retry: { default_budget: 1 } },
    });
    expect(first.status).toBe(201);
    expect(first.headers.get("location")).toBe("/v1/planner/policies/1");
    expect(first.body).toMatchObject({
      version: 1,
      source: "stored",
      description: "stricter retries",
      active: false,
      created_by: "user_org_p_create",
    });
    expect(first.body.document.retry).toEqual({
      default_budget: 1,
      max_budget: 3,
      rules: [
        { min_failure_rate: 0.5, budget: 2 },
        { min_failure_rate: 0.2, budget: 1 },
      ],
    });
    expect(first.body.document.guards).toHaveLength(3);

    const second = await c.request("POST", "/v1/planner/policies", { document: {}, activate: true });
    expect(second.status).toBe(201);
    expect(second.body).toMatchObject({ version: 2, active: true, activated_by: "user_org_p_create" });

    const got = await c.request("GET", "/v1/planner/policies/1");
    expect(got.status).toBe(200);
    expect(got.body).toEqual(first.body);
    const active = await c.request("GET", "/v1/planner/policies/active");
    expect(active.body).toMatchObject({ version: 2, source: "stored", active: true });
  });

  it("lists newest first with a keyset cursor", async () => {
    const c = await operator("org_p_list");
    for (let i = 0; i < 5; i++)
      expect((await c.request("POST", "/v1/planner/policies", { description: `v${i + 1}`, document: {} })).status).toBe(
        201,
      );
    const page1 = await c.request("GET", "/v1/planner/policies?limit=2");
    expect(page1.body.items.map((p: { version: number }) => p.version)).toEqual([5, 4]);
    expect(page1.body.next_cursor).toBe(4);
    const page2 = await c.request("GET", `/v1/planner/policies?limit=2&cursor=${page1.body.next_cursor}`);
    expect(page2.body.items.map((p: { version: number }) => p.version)).toEqual([3, 2]);
    const page3 = await c.request("GET", `/v1/planner/policies?limit=2&cursor=${page2.body.next_cursor}`);
    expect(page3.body).toMatchObject({ items: [{ version: 1 }], next_cursor: null });
  });

  it("activates a version; exactly one is active; activation is idempotent", async () => {
    const c = await operator("org_p_activate");
    await c.request("POST", "/v1/planner/policies", { document: {}, activate: true });
    await c.request("POST", "/v1/planner/policies", { document: { max_nodes: 30 } });
    const res = await c.request("POST", "/v1/planner/policies/2/activate");
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ version: 2, active: true });
    const again = await c.request("POST", "/v1/planner/policies/2/activate");
    expect(again.body.activated_at).toBe(res.body.activated_at);
    const list = await c.request("GET", "/v1/planner/policies");
    expect(list.body.items.map((p: { version: number; active: boolean }) => [p.version, p.active])).toEqual([
      [2, true],
      [1, false],
    ]);
  });

  it("404 planner_policy_not_found for an unknown version; 422 for a bad version or document", async () => {
    const c = await operator("org_p_errors");
    expectProblem(await c.request("GET", "/v1/planner/policies/7"), 404, "planner_policy_not_found");
    expectProblem(await c.request("POST", "/v1/planner/policies/7/activate"), 404, "planner_policy_not_found");
    expectProblem(await c.request("GET", "/v1/planner/policies/zero"), 422, "validation_failed");
    const bad = await c.request("POST", "/v1/planner/policies", {
      document: {
        guards: [
          { node_id: "x-check", title: "X", agent: "ghost", depends_on: ["scanner"], when: [{ has_tests: false }] },
        ],
        unknown_knob: 1,
      },
    });
    expectProblem(bad, 422, "validation_failed");
    expect(bad.body.errors.map((e: { path: string }) => e.path)).toContain("document");
    const badAgent = await c.request("POST", "/v1/planner/policies", {
      document: {
        guards: [
          { node_id: "x-check", title: "X", agent: "ghost", depends_on: ["scanner"], when: [{ has_tests: false }] },
        ],
      },
    });
    expectProblem(badAgent, 422, "validation_failed");
    expect(badAgent.body.errors).toContainEqual({
      path: "document.guards.0.agent",
      message: "agent 'ghost' is not in allowed_agents",
    });
  });

  it("reads need program.policy.read, writes program.policy.write", async () => {
    const viewer = await caller({ sub: "user_p_viewer", org_id: "org_p_caps", roles: ["viewer"] });
    expect((await viewer.request("GET", "/v1/planner/policies")).status).toBe(200);
    expect((await viewer.request("GET", "/v1/planner/policies/active")).status).toBe(200);
    expectProblem(
      await viewer.request("POST", "/v1/planner/policies", { document: {} }),
      403,
      "insufficient_capability",
    );
    expectProblem(await viewer.request("POST", "/v1/planner/policies/1/activate"), 403, "insufficient_capability");
    const runtimeOnly = await caller({
      sub: "user_p_rt",
      org_id: "org_p_caps",
      roles: [],
      capabilities: ["program.runtime.read"],
    });
    expectProblem(await runtimeOnly.request("GET", "/v1/planner/policies"), 403, "insufficient_capability");
    const security = await caller({ sub: "user_p_sec", org_id: "org_p_caps", roles: ["security"] });
    expect((await security.request("POST", "/v1/planner/policies", { document: {} })).status).toBe(201);
    const anon = await (await import("../helpers/api")).raw("/v1/planner/policies");
    expect(anon.status).toBe(401);
  });

  it("is tenant-scoped: another tenant sees neither versions nor the active one", async () => {
    const a = await operator("org_p_tenant_a");
    const b = await operator("org_p_tenant_b");
    await a.request("POST", "/v1/planner/policies", { document: { apply_by_default: true }, activate: true });
    expectProblem(await b.request("GET", "/v1/planner/policies/1"), 404, "planner_policy_not_found");
    expectProblem(await b.request("POST", "/v1/planner/policies/1/activate"), 404, "planner_policy_not_found");
    expect((await b.request("GET", "/v1/planner/policies")).body.items).toEqual([]);
    expect((await b.request("GET", "/v1/planner/policies/active")).body).toMatchObject({
      version: 0,
      source: "builtin",
    });
    // b's builds keep SPEC planning.
    const preview = await b.request("POST", "/v1/builds/preview-dag", { repo_url: "r" });
    expect(preview.body.planner_profile).toBe("static_v1");
  });
});

describe("POST /v1/builds/preview-dag through the policy layer", () => {
  it("profile 'policy' shows the decision and its trace", async () => {
    const c = await operator("org_p_preview");
    const res = await c.request("POST", "/v1/builds/preview-dag", {
      repo_url: "https://github.com/acme/preview",
      metadata: {
        autonomous_planner_profile: "policy",
        project_intake: { scale_expectation: "high", deployment_target: "AWS" },
      },
      repo_signals: { languages: ["TypeScript"], size: "medium", has_tests: true, manifests: ["package.json"] },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ scan_mode: "autonomous", planner_profile: "policy_v1" });
    const ids = res.body.dag.map((n: { node_id: string }) => n.node_id);
    expect(ids).toEqual(expect.arrayContaining(["scale-readiness-check", "deployment-config-review", "planner"]));
    expect(res.body.planner_trace).toMatchObject({
      profile: "policy_v1",
      policy: { version: 0, source: "builtin" },
      source: "policy",
      selected_profile: "adaptive_parallel_v1",
      inputs: {
        scale_high: true,
        deployment_target: "aws",
        repo_size: "medium",
        languages: ["typescript"],
        history: { builds_considered: 0 },
      },
    });
    const kinds = new Set(res.body.planner_trace.decisions.map((d: { decision: string }) => d.decision));
    expect([...kinds].sort()).toEqual([
      "fallback",
      "guard_node",
      "model",
      "parallelism",
      "profile",
      "retry_budget",
      "scan_mode",
      "timeout",
    ]);
    expect(res.body.metadata).toMatchObject({
      max_parallelism: 4,
      autonomous_planner_profile: "policy_v1",
      repo_signals: { size: "medium" },
    });
    expect(Object.keys(res.body.metadata.node_retry_budgets).sort()).toEqual([...ids].sort());
    expect(res.body.metadata.planner_trace).toEqual(res.body.planner_trace);
    // Preview stores nothing.
    expect((await c.request("GET", "/v1/builds")).body.items).toEqual([]);
  });

  it("explicit SPEC profiles, scan modes and client DAGs are untouched even with apply_by_default", async () => {
    const c = await operator("org_p_optin");
    await c.request("POST", "/v1/planner/policies", { document: { apply_by_default: true }, activate: true });
    const cases: Array<[Record<string, unknown>, string | null, string]> = [
      [{ metadata: { autonomous_planner_profile: "static_v1" } }, "static_v1", "autonomous"],
      [{ metadata: { autonomous_planner_profile: "adaptive" } }, "adaptive_parallel_v1", "autonomous"],
      [{ metadata: { autonomous_planner_profile: "agentic" } }, "agentic_llm_v1", "autonomous"],
      // SPEC §4.4: a deterministic scan_mode wins; the client's profile string is kept as sent.
      [{ metadata: { scan_mode: "tier1", autonomous_planner_profile: "policy" } }, "policy", "deterministic"],
      [{ metadata: { scan_mode: "autonomous" } }, "static_v1", "autonomous"],
      [{ dag: [{ node_id: "a", title: "A", agent: "scanner" }] }, null, "custom"],
      [{ metadata: {} }, "policy_v1", "autonomous"], // names nothing: the active policy applies by default
    ];
    for (const [body, profile, scanMode] of cases) {
      const res = await c.request("POST", "/v1/builds/preview-dag", { repo_url: "r", ...body });
      expect({ body, profile: res.body.planner_profile, scan_mode: res.body.scan_mode }).toEqual({
        body,
        profile,
        scan_mode: scanMode,
      });
    }
  });

  it("builds naming nothing keep static_v1 while the active policy does not apply by default", async () => {
    const c = await operator("org_p_default_off");
    await c.request("POST", "/v1/planner/policies", { document: { apply_by_default: false }, activate: true });
    const res = await c.request("POST", "/v1/builds/preview-dag", { repo_url: "r" });
    expect(res.body).toMatchObject({ planner_profile: "static_v1", planner_trace: { profile: "static_v1" } });
  });

  it("rejects malformed repo_signals with 422", async () => {
    const c = await operator("org_p_signals");
    expectProblem(
      await c.request("POST", "/v1/builds/preview-dag", { repo_url: "r", repo_signals: { size: "huge" } }),
      422,
      "validation_failed",
    );
  });
});
