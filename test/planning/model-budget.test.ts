/**
 * Issue 17 item 11: the planner model endpoint must be https outside development, and model calls
 * are budgeted per tenant per minute (PLANNER_MODEL_CALLS_PER_MINUTE); over budget, planning falls
 * back to the policy's own plan without calling the model.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/kernel/env";
import { callerWithEnv, modelEnv } from "./helpers";

const base = { ...env, FAULT_INJECTION: undefined, PLANNER_MODEL_NAME: "m" } as Env;

describe("PLANNER_MODEL_URL transport", () => {
  it.each(["test", "staging", "production"])("http is refused when ENVIRONMENT=%s", (ENVIRONMENT) => {
    expect(() => loadConfig({ ...base, ENVIRONMENT, PLANNER_MODEL_URL: "http://model.example/v1" } as Env)).toThrow(
      /PLANNER_MODEL_URL must be https unless ENVIRONMENT=development/,
    );
  });
  it("https is accepted everywhere; http only in development", () => {
    expect(
      loadConfig({ ...base, ENVIRONMENT: "production", PLANNER_MODEL_URL: "https://model.example/v1" } as Env)
        .PLANNER_MODEL_URL,
    ).toBe("https://model.example/v1");
    expect(
      loadConfig({ ...base, ENVIRONMENT: "development", PLANNER_MODEL_URL: "http://127.0.0.1:9/v1" } as Env)
        .PLANNER_MODEL_URL,
    ).toBe("http://127.0.0.1:9/v1");
  });
});

describe("model-call budget per tenant", () => {
  const body = {
    repo_url: "https://github.com/acme/budget",
    objective: "scenario:valid",
    metadata: { autonomous_planner_profile: "policy" },
    repo_signals: { size: "medium", has_tests: true },
  };

  it("over the budget the policy's plan is used; another tenant still gets the model", async () => {
    expect(loadConfig({ ...base } as Env).PLANNER_MODEL_CALLS_PER_MINUTE).toBe(30);
    const workerEnv = modelEnv({ PLANNER_MODEL_CALLS_PER_MINUTE: "2" });
    const org = `org_budget_${crypto.randomUUID()}`;
    const c = await callerWithEnv(workerEnv, { sub: "budget_user", org_id: org });
    for (let i = 0; i < 2; i++) {
      const ok = await c.request("POST", "/v1/builds/preview-dag", body);
      expect(ok.status).toBe(200);
      expect(ok.body.planner_trace.source).toBe("model");
    }
    const over = await c.request("POST", "/v1/builds/preview-dag", body);
    expect(over.status).toBe(200);
    expect(over.body.planner_trace.model).toMatchObject({ status: "unavailable", reason: "model_budget_exhausted" });
    expect(over.body.planner_trace.source).not.toBe("model");
    expect(over.body.dag.map((n: { node_id: string }) => n.node_id)).not.toContain("model-verification");
    // Another member of the same tenant shares the budget; another tenant has its own.
    const teammate = await callerWithEnv(workerEnv, { sub: "budget_teammate", org_id: org });
    expect((await teammate.request("POST", "/v1/builds/preview-dag", body)).body.planner_trace.model.reason).toBe(
      "model_budget_exhausted",
    );
    const other = await callerWithEnv(workerEnv, { sub: "budget_user", org_id: `${org}-other` });
    expect((await other.request("POST", "/v1/builds/preview-dag", body)).body.planner_trace.source).toBe("model");
  });
});
