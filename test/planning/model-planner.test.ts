/**
 * The model-backed planner against a fake OpenAI-compatible server on 127.0.0.1 (vitest
 * globalSetup, test/planning/fake-model-server.mjs): workerd's outbound fetch reaches loopback, so
 * nothing is stubbed. The scenario is a `scenario:<name>` marker in the objective.
 */
import { describe, expect, it } from "vitest";
import { inject } from "vitest";
import { EMPTY_HISTORY } from "../../src/planning/history";
import { basePlan, type PolicyPlanInput } from "../../src/planning/policy-engine";
import { extractProposal, proposeBlueprint, type ModelEndpoint } from "../../src/planning/planning.model";
import { PlannerPolicyDocument, RepoSignals } from "../../src/planning/planning.schemas";
import { INSTANT, caller, waitForStatus } from "../helpers/api";
import { FAKE_MODEL_KEY, FAKE_MODEL_NAME, callerWithEnv, modelEnv } from "./helpers";

const endpoint = (over: Partial<ModelEndpoint> = {}): ModelEndpoint => ({
  url: inject("plannerModelUrl"),
  model: FAKE_MODEL_NAME,
  apiKey: FAKE_MODEL_KEY,
  timeoutMs: 2000,
  ...over,
});

function promptInput(scenario: string) {
  const input: PolicyPlanInput = {
    objective: `scenario:${scenario}`,
    metadata: {},
    repoSignals: RepoSignals.parse({ size: "medium", has_tests: true }),
    history: EMPTY_HISTORY,
    policy: { version: 0, source: "builtin", document: PlannerPolicyDocument.parse({}) },
  };
  return {
    objective: input.objective,
    repoUrl: "https://github.com/acme/app",
    intake: {},
    repoSignals: input.repoSignals,
    history: EMPTY_HISTORY,
    base: basePlan(input),
    policy: input.policy.document,
  };
}

describe("proposeBlueprint (loopback fake model)", () => {
  const cases: Array<{ scenario: string; over?: Partial<ModelEndpoint>; expect: Record<string, unknown> }> = [
    { scenario: "valid", expect: { status: "proposed", model: FAKE_MODEL_NAME } },
    { scenario: "fenced", expect: { status: "proposed" } },
    {
      scenario: "http_500",
      expect: { status: "unavailable", reason: "model_http_error", detail: "HTTP 500 from the model endpoint" },
    },
    {
      scenario: "garbage",
      expect: { status: "unavailable", reason: "model_response_invalid", detail: "the message content is not JSON" },
    },
    {
      scenario: "slow",
      over: { timeoutMs: 300 },
      expect: { status: "unavailable", reason: "model_timeout", detail: "no answer within 300 ms" },
    },
    {
      scenario: "valid",
      over: { apiKey: "wrong-key" },
      expect: { status: "unavailable", reason: "model_http_error", detail: "HTTP 401 from the model endpoint" },
    },
    {
      scenario: "valid",
      over: { url: "http://127.0.0.1:9/v1" },
      expect: { status: "unavailable", reason: "model_unreachable" },
    },
  ];

  it.each(cases)("$scenario $over → $expect.status", async ({ scenario, over, expect: e }) => {
    const outcome = await proposeBlueprint(endpoint(over), promptInput(scenario));
    expect(outcome).toMatchObject(e);
  });

  it("sends the baseline plan and gets it back with the model's extra node", async () => {
    const outcome = await proposeBlueprint(endpoint(), promptInput("valid"));
    if (outcome.status !== "proposed") throw new Error(`unexpected ${outcome.status}`);
    const ids = (outcome.proposal as Array<{ node_id: string }>).map((n) => n.node_id);
    expect(ids).toContain("security-review");
    expect(ids.at(-1)).toBe("model-verification");
  });
});

describe("extractProposal", () => {
  it.each([
    ['[{"node_id":"a"}]', [{ node_id: "a" }]],
    ['{"nodes":[{"node_id":"a"}]}', [{ node_id: "a" }]],
    ['{"dag":[]}', []],
    ['Sure!\n```json\n{"blueprint":[1]}\n```\nDone.', [1]],
    ['{"plan":"x"}', { plan: "x" }],
    ["no json here", undefined],
  ])("%s", (content, expected) => {
    expect(extractProposal(content)).toEqual(expected);
  });
});

describe("POST /v1/builds/preview-dag with the model planner configured", () => {
  const preview = async (scenario: string, extra: Record<string, unknown> = {}) => {
    const c = await callerWithEnv(modelEnv(), { sub: "user_model", org_id: "org_model" });
    const res = await c.request("POST", "/v1/builds/preview-dag", {
      repo_url: "https://github.com/acme/model",
      objective: `scenario:${scenario}`,
      metadata: { autonomous_planner_profile: "policy" },
      repo_signals: { size: "medium", has_tests: true },
      ...extra,
    });
    expect(res.status).toBe(200);
    return res.body;
  };

  const rejected: Array<[string, string, RegExp, Record<string, unknown>?]> = [
    ["cycle", "dag_cycle_detected", /invalid DAG: dag_cycle_detected/],
    ["unknown_agent", "agent_not_allowed", /node 'exfiltrate' uses agent 'hacker'/],
    ["no_policy_gate", "policy_gate_missing", /at least one POLICY_GATE/],
    ["missing_dep", "missing_dependency", /missing_dependency:ghost/],
    ["bad_shape", "blueprint_invalid", /entry 0 has no title/],
    ["too_many", "too_many_nodes", /30 nodes > max 24/],
    [
      "missing_guard",
      "required_node_missing",
      /scale-readiness-check/,
      { repo_signals: { size: "large", has_tests: true } },
    ],
  ];
  it.each(rejected)(
    "a proposal with %s is rejected and the trace says why (%s)",
    async (scenario, reason, detail, extra) => {
      const body = await preview(scenario, extra);
      expect(body.planner_profile).toBe("policy_v1");
      expect(body.planner_trace).toMatchObject({
        source: "policy",
        model: { status: "rejected", model: FAKE_MODEL_NAME, reason },
      });
      expect(body.planner_trace.model.detail).toMatch(detail);
      const entry = body.planner_trace.decisions.find((d: { decision: string }) => d.decision === "model");
      expect(entry).toMatchObject({ value: "rejected", reason });
      expect(entry.detail).toMatch(/the policy's own plan is used/);
      // The policy's own plan (adaptive for a medium repository) is what would run.
      expect(body.dag.map((n: { node_id: string }) => n.node_id)).toContain("security-review");
      expect(body.dag.map((n: { node_id: string }) => n.node_id)).not.toContain("model-verification");
    },
  );

  it("a valid proposal is used, and its nodes get the policy's budgets and timeouts", async () => {
    const body = await preview("valid");
    expect(body.planner_trace).toMatchObject({
      source: "model",
      selected_profile: "model_blueprint",
      model: { status: "accepted", model: FAKE_MODEL_NAME },
    });
    const ids = body.dag.map((n: { node_id: string }) => n.node_id);
    expect(ids).toContain("model-verification");
    expect(body.dag_levels.flat().sort()).toEqual([...ids].sort());
    expect(body.metadata.node_retry_budgets["model-verification"]).toBe(0);
    expect(body.metadata.node_timeouts_ms["model-verification"]).toBe(900_000); // verifier: policy default_ms
  });

  it("an unavailable model falls back to the policy's plan with the reason", async () => {
    const body = await preview("http_500");
    expect(body.planner_trace).toMatchObject({
      source: "policy",
      model: { status: "unavailable", reason: "model_http_error" },
    });
  });

  it("a policy with model.enabled=false never asks the model", async () => {
    const c = await callerWithEnv(modelEnv(), { sub: "user_model_off", org_id: "org_model_off" });
    const created = await c.request("POST", "/v1/planner/policies", {
      document: { model: { enabled: false } },
      activate: true,
    });
    expect(created.status).toBe(201);
    const res = await c.request("POST", "/v1/builds/preview-dag", {
      repo_url: "r",
      objective: "scenario:valid",
      metadata: { autonomous_planner_profile: "policy" },
    });
    expect(res.body.planner_trace.model).toEqual({ status: "disabled" });
  });

  it("without PLANNER_MODEL_URL the trace says not_configured", async () => {
    const c = await caller({ sub: "user_no_model", org_id: "org_no_model" });
    const res = await c.request("POST", "/v1/builds/preview-dag", {
      repo_url: "r",
      objective: "scenario:valid",
      metadata: { autonomous_planner_profile: "policy" },
    });
    expect(res.body.planner_trace.model).toEqual({ status: "not_configured" });
  });

  it("a build created from a valid proposal runs the model's DAG", async () => {
    const c = await callerWithEnv(modelEnv(), { sub: "user_model_build", org_id: "org_model_build" });
    const res = await c.request("POST", "/v1/builds", {
      repo_url: "https://github.com/acme/model-build",
      objective: "scenario:valid",
      metadata: { autonomous_planner_profile: "policy", ...INSTANT },
      repo_signals: { size: "medium", has_tests: true },
    });
    expect(res.status).toBe(201);
    expect(res.body.dag.map((n: { node_id: string }) => n.node_id)).toContain("model-verification");
    expect(res.body.metadata.planner_trace).toMatchObject({ source: "model" });
    const done = await waitForStatus(c, res.body.build_id);
    expect(done.status).toBe("completed");
    expect(done.task_runs.map((r: { node_id: string }) => r.node_id)).toContain("model-verification");
  });
});
