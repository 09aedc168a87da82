/**
 * The policy layer end to end on real builds (D1 + BuildRunner DO): history read from earlier
 * builds of the same repository changes the plan, the run machine honours the planned budgets
 * and the pre-emptive fallback, and activating a new version changes new builds only.
 */
import { describe, expect, it } from "vitest";
import { INSTANT, caller, createBuild, waitForStatus } from "../helpers/api";

const POLICY = { autonomous_planner_profile: "policy" };
const SMALL = { size: "small", has_tests: true };

describe("history from earlier builds", () => {
  it("a repo whose builder failed in 3 of its last 5 builds gets budget 2 and an armed fallback; a fresh repo does not", async () => {
    const c = await caller({ sub: "user_hist", org_id: "org_hist" });
    const repo = "https://github.com/acme/flaky-builder";
    // Five earlier builds; in three the builder failed once and a retry (max_task_retries 1) rescued it.
    for (let i = 0; i < 5; i++) {
      const runnerResults = i < 3 ? { builder: { status_sequence: ["failed", "completed"] } } : {};
      const b = await createBuild(c, {
        repo_url: repo,
        metadata: {
          ...POLICY,
          ...INSTANT,
          max_task_retries: 1,
          retry_policy: { initial_interval_ms: 0 },
          runner_results: runnerResults,
        },
        repo_signals: SMALL,
      });
      expect((await waitForStatus(c, b.build_id)).status).toBe("completed");
    }

    const body = { metadata: POLICY, repo_signals: SMALL };
    const flaky = (await c.request("POST", "/v1/builds/preview-dag", { repo_url: repo, ...body })).body;
    const fresh = (
      await c.request("POST", "/v1/builds/preview-dag", { repo_url: "https://github.com/acme/fresh", ...body })
    ).body;

    expect(flaky.dag.map((n: { node_id: string }) => n.node_id)).toEqual(
      fresh.dag.map((n: { node_id: string }) => n.node_id),
    );
    expect(flaky.metadata).toMatchObject({
      fallback_scan_mode: "deterministic",
      node_retry_budgets: { builder: 2, scanner: 0 },
    });
    expect(fresh.metadata.fallback_scan_mode).toBeUndefined();
    expect(fresh.metadata.node_retry_budgets).toMatchObject({ builder: 0 });

    const budget = flaky.planner_trace.decisions.find(
      (d: { decision: string; node_id?: string }) => d.decision === "retry_budget" && d.node_id === "builder",
    );
    expect(budget).toMatchObject({ value: 2, reason: "node_failure_rate" });
    expect(budget.detail).toContain("node 'builder' failed in 3 of the last 5 builds that ran it (60%)");
    const fallback = flaky.planner_trace.decisions.find((d: { decision: string }) => d.decision === "fallback");
    expect(fallback).toMatchObject({ value: "deterministic", reason: "node_failure_rate" });
    expect(flaky.planner_trace.inputs.history).toMatchObject({
      builds_considered: 5,
      build_failure_rate: 0,
      fallback_rate: 0,
    });
    const freshBudget = fresh.planner_trace.decisions.find(
      (d: { decision: string; node_id?: string }) => d.decision === "retry_budget" && d.node_id === "builder",
    );
    expect(freshBudget).toMatchObject({ value: 0, reason: "insufficient_history" });

    // The run machine honours the plan: a builder that fails twice is rescued by its budget …
    const rescued = await createBuild(c, {
      repo_url: repo,
      metadata: {
        ...POLICY,
        ...INSTANT,
        retry_policy: { initial_interval_ms: 0 },
        runner_results: { builder: { status_sequence: ["failed", "failed", "completed"] } },
      },
      repo_signals: SMALL,
    });
    const rescuedDone = await waitForStatus(c, rescued.build_id);
    expect(rescuedDone.status).toBe("completed");
    expect(rescuedDone.task_runs.filter((r: { node_id: string }) => r.node_id === "builder")).toHaveLength(3);

    // … and one that never recovers falls back to the deterministic DAG instead of failing.
    const doomed = await createBuild(c, {
      repo_url: repo,
      metadata: {
        ...POLICY,
        ...INSTANT,
        retry_policy: { initial_interval_ms: 0 },
        runner_results: { builder: { status: "failed" } },
      },
      repo_signals: SMALL,
    });
    const doomedDone = await waitForStatus(c, doomed.build_id);
    expect(doomedDone.status).toBe("completed");
    expect(doomedDone.metadata).toMatchObject({ fallback_applied: true, fallback_reason: "runner_failed:builder" });
  });

  it("history is per tenant: the same repo in another tenant has none", async () => {
    const a = await caller({ sub: "user_hist_a", org_id: "org_hist_a" });
    const b = await caller({ sub: "user_hist_b", org_id: "org_hist_b" });
    const repo = "https://github.com/acme/shared-name";
    for (let i = 0; i < 3; i++) {
      const built = await createBuild(a, { repo_url: repo, metadata: { ...POLICY, ...INSTANT } });
      await waitForStatus(a, built.build_id);
    }
    const seenByA = (await a.request("POST", "/v1/builds/preview-dag", { repo_url: repo, metadata: POLICY })).body;
    const seenByB = (await b.request("POST", "/v1/builds/preview-dag", { repo_url: repo, metadata: POLICY })).body;
    expect(seenByA.planner_trace.inputs.history.builds_considered).toBe(3);
    expect(seenByB.planner_trace.inputs.history.builds_considered).toBe(0);
  });
});

describe("activating a new policy version", () => {
  it("changes new builds' plans and leaves running builds untouched", async () => {
    const c = await caller({ sub: "user_act", org_id: "org_act" });
    const signals = { size: "medium", has_tests: true };
    const v1 = await c.request("POST", "/v1/planner/policies", {
      description: "v1",
      document: { apply_by_default: true, parallelism: { medium: 2 } },
      activate: true,
    });
    expect(v1.status).toBe(201);

    // A long-running build planned with v1 (names no profile: the active policy applies by default).
    const running = await createBuild(c, {
      repo_url: "https://github.com/acme/act",
      metadata: { simulated_duration_ms: 60_000 },
      repo_signals: signals,
    });
    expect(running.metadata).toMatchObject({
      autonomous_planner_profile: "policy_v1",
      max_parallelism: 2,
      planner_trace: { policy: { version: 1 } },
    });
    expect(running.dag.map((n: { node_id: string }) => n.node_id)).toContain("security-review"); // adaptive for a medium repo

    const v2 = await c.request("POST", "/v1/planner/policies", {
      description: "v2",
      document: {
        apply_by_default: true,
        profile: { default: "static_v1" },
        parallelism: { medium: 3 },
        retry: { default_budget: 1 },
      },
    });
    expect((await c.request("POST", `/v1/planner/policies/${v2.body.version}/activate`)).status).toBe(200);

    const next = await createBuild(c, {
      repo_url: "https://github.com/acme/act",
      metadata: { simulated_duration_ms: 60_000 },
      repo_signals: signals,
    });
    expect(next.metadata).toMatchObject({
      max_parallelism: 3,
      node_retry_budgets: { builder: 1 },
      planner_trace: { policy: { version: 2 }, selected_profile: "static_v1" },
    });
    expect(next.dag.map((n: { node_id: string }) => n.node_id)).toEqual(["scanner", "builder", "security", "planner"]);

    const after = (await c.request("GET", `/v1/builds/${running.build_id}`)).body;
    expect(after.status).toBe("running");
    expect(after.dag.map((n: { node_id: string }) => n.node_id)).toEqual(
      running.dag.map((n: { node_id: string }) => n.node_id),
    );
    for (const key of [
      "planner_trace",
      "node_retry_budgets",
      "node_timeouts_ms",
      "max_parallelism",
      "dag_levels",
      "scan_mode",
    ]) {
      expect(after.metadata[key]).toEqual(running.metadata[key]);
    }

    for (const b of [running, next])
      expect((await c.request("POST", `/v1/builds/${b.build_id}/abort`, { reason: "test cleanup" })).status).toBe(200);
  });
});
