/**
 * The fault hook itself (issue 9): the deterministic roll, the injected node failure, and the
 * configuration rule that only development and test environments may enable it.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { faultRoll, simulateNode, withNodeFault } from "../../src/builds/simulated-runner";
import { parseRunSettings } from "../../src/builds/engine/run-settings";
import { Draft, createBuild, tick } from "../../src/builds/run-machine";
import { deterministicDag } from "../../src/planning/planner";
import { loadConfig } from "../../src/kernel/env";
import { fetchWith } from "../security/helpers";

const FAULTS = JSON.stringify({ node_failure_rate: 0.3, tick_throw_rate: 0.1, redeliver_alarms: true, seed: 3 });
/** A fresh env object per parse (loadConfig memoises per object); the fault binding of the suite removed. */
const envWith = (vars: Record<string, unknown>) => ({ ...env, FAULT_INJECTION: undefined, ...vars }) as unknown as Env;

describe("faultRoll / withNodeFault", () => {
  it("is deterministic per (seed, build, node, attempt) and fails about the configured fraction", () => {
    expect(faultRoll(7, "b", "n", 1)).toBe(faultRoll(7, "b", "n", 1));
    expect(faultRoll(7, "b", "n", 1)).not.toBe(faultRoll(8, "b", "n", 1));
    let failed = 0;
    const n = 20_000;
    for (let i = 0; i < n; i++) {
      const ok = simulateNode({
        buildId: `build-${i % 97}`,
        settings: parseRunSettings({}),
        nodeId: `node-${i}`,
        agent: "scanner",
        attempt: 1 + (i % 5),
      });
      const r = withNodeFault(ok, { node_failure_rate: 0.3, seed: 11 }, `build-${i % 97}`, `node-${i}`, 1 + (i % 5));
      if (r.status === "failed") {
        failed++;
        expect(r.error).toBe("fault_injected:node_failure");
        expect(r.metadata.fault_injected).toBe(true);
      }
    }
    expect(failed / n).toBeGreaterThan(0.28);
    expect(failed / n).toBeLessThan(0.32);
  });

  it("leaves a result alone at rate 0 and never turns a failure into a success", () => {
    const ok = simulateNode({ buildId: "b", settings: parseRunSettings({}), nodeId: "n", agent: "a", attempt: 1 });
    expect(withNodeFault(ok, { node_failure_rate: 0, seed: 1 }, "b", "n", 1)).toBe(ok);
    const failed = simulateNode({
      buildId: "b",
      settings: parseRunSettings({ runner_results: { n: { status: "failed", error: "boom" } } }),
      nodeId: "n",
      agent: "a",
      attempt: 1,
    });
    expect(withNodeFault(failed, { node_failure_rate: 1, seed: 1 }, "b", "n", 1)).toBe(failed);
  });

  it("the pure tick takes the faults as an option: rate 1 fails every attempt until the budget is spent", () => {
    const d0 = createBuild(
      {
        build_id: "00000000-0000-4000-8000-000000000001",
        runtime_id: "rt",
        tenant_id: "t",
        created_by: "u",
        repo_url: "r",
        objective: "o",
        scan_mode: "deterministic",
        metadata: {
          simulated_duration_ms: 0,
          max_task_retries: 2,
          retry_policy: { initial_interval_ms: 0, jitter: 0 },
        },
        dag: deterministicDag(),
      },
      1_000,
    );
    const d = new Draft(structuredClone(d0.state), 1_000);
    tick(d, { parallelism: 4, random: () => 0.5, faults: { node_failure_rate: 1, seed: 1 } });
    expect(d.state.status).toBe("failed");
    const first = d.state.nodes[0]!.node_id;
    expect(d.state.task_runs.filter((r) => r.node_id === first).map((r) => [r.attempt, r.error])).toEqual([
      [1, "fault_injected:node_failure"],
      [2, "fault_injected:node_failure"],
      [3, "fault_injected:node_failure"],
    ]);
    // Without faults the same build completes.
    const clean = new Draft(structuredClone(d0.state), 1_000);
    tick(clean, { parallelism: 4, random: () => 0.5 });
    expect(clean.state.status).toBe("completed");
  });
});

describe("FAULT_INJECTION configuration", () => {
  it("is honoured in development and test", () => {
    for (const ENVIRONMENT of ["development", "test"]) {
      expect(loadConfig(envWith({ ENVIRONMENT, FAULT_INJECTION: FAULTS })).FAULT_INJECTION).toEqual({
        node_failure_rate: 0.3,
        tick_throw_rate: 0.1,
        redeliver_alarms: true,
        seed: 3,
        commit_throw_rate: 0,
        commit_lost_rate: 0,
        create_stall_ms: 0,
      });
    }
    expect(loadConfig(envWith({ ENVIRONMENT: "test" })).FAULT_INJECTION).toBeUndefined();
  });

  it("is refused in production and staging: the configuration is invalid", () => {
    for (const ENVIRONMENT of ["production", "staging"]) {
      expect(() => loadConfig(envWith({ ENVIRONMENT, FAULT_INJECTION: FAULTS }))).toThrow(
        /FAULT_INJECTION may only be set when ENVIRONMENT is development or test/,
      );
    }
    // ENVIRONMENT defaults to production when unset.
    expect(() => loadConfig(envWith({ ENVIRONMENT: undefined, FAULT_INJECTION: FAULTS }))).toThrow(/FAULT_INJECTION/);
  });

  it("rejects malformed or out-of-range values", () => {
    for (const bad of [
      "not json",
      "[]",
      '{"node_failure_rate":1.5}',
      '{"tick_throw_rate":0.9}',
      '{"seed":1.5}',
      '{"unknown":true}',
      '{"commit_lost_rate":0.9}',
      '{"create_stall_at":"nowhere"}',
      '{"create_stall_ms":-1}',
    ]) {
      expect(() => loadConfig(envWith({ ENVIRONMENT: "test", FAULT_INJECTION: bad }))).toThrow(/FAULT_INJECTION/);
    }
  });

  it("a production worker configured with it serves nothing but 500 internal (never a faulty build)", async () => {
    const res = await fetchWith({ ENVIRONMENT: "production", FAULT_INJECTION: FAULTS }, "/v1/builds", {
      headers: { authorization: "Bearer x" },
    });
    expect(res.status).toBe(500);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect((await res.json<{ code: string }>()).code).toBe("internal");
  });
});
