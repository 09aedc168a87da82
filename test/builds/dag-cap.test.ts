/**
 * Issue 17 item 6: MODIFY_DAG replans cannot grow a build's DAG without bound. The total is capped
 * at BUILD_MAX_DAG_NODES (default 300): a replan that would exceed it is 422 invalid_replan and
 * changes nothing.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/kernel/env";
import { DEFAULT_MAX_DAG_NODES } from "../../src/builds/control-actions";
import { caller, createBuild } from "../helpers/api";

const nodes = (prefix: string, n: number) =>
  Array.from({ length: n }, (_, i) => ({
    node_id: `${prefix}-${i}`,
    title: `Extra ${i}`,
    agent: "verifier",
    depends_on: [] as string[],
  }));

describe("DAG size cap on MODIFY_DAG", () => {
  it("the default is 300 and configurable", () => {
    expect(DEFAULT_MAX_DAG_NODES).toBe(300);
    expect(loadConfig({ ...env, FAULT_INJECTION: undefined } as Env).BUILD_MAX_DAG_NODES).toBe(300);
    expect(
      loadConfig({ ...env, FAULT_INJECTION: undefined, BUILD_MAX_DAG_NODES: "50" } as Env).BUILD_MAX_DAG_NODES,
    ).toBe(50);
  });

  it("three replans of 100 nodes stop at the cap with 422 and no change", async () => {
    const c = await caller({ sub: "dag_cap", org_id: "org_dag_cap" });
    const build = await createBuild(c, { metadata: { simulated_duration_ms: 60_000 } });
    const id = build.build_id as string;
    const initial = (await c.request("GET", `/v1/builds/${id}`)).body.dag.length as number;
    expect(initial).toBeGreaterThan(0);
    const first = await c.request("POST", `/v1/builds/${id}/replan`, {
      action: "MODIFY_DAG",
      reason: "grow",
      replacement_nodes: nodes("a", 100),
    });
    expect(first.status).toBe(201);
    const second = await c.request("POST", `/v1/builds/${id}/replan`, {
      action: "MODIFY_DAG",
      reason: "grow",
      replacement_nodes: nodes("b", 100),
    });
    expect(second.status).toBe(201);
    // initial + 200 + 100 > 300.
    const third = await c.request("POST", `/v1/builds/${id}/replan`, {
      action: "MODIFY_DAG",
      reason: "grow",
      replacement_nodes: nodes("c", 100),
    });
    expect(third.status).toBe(422);
    expect(third.body.code).toBe("invalid_replan");
    expect(third.body.detail).toBe(`dag_node_limit_exceeded:${initial + 300}>300`);
    const after = (await c.request("GET", `/v1/builds/${id}`)).body;
    expect(after.dag.length).toBe(initial + 200);
    expect(after.replan_history.length).toBe(2);
    // Up to exactly the cap is accepted.
    const fill = await c.request("POST", `/v1/builds/${id}/replan`, {
      action: "MODIFY_DAG",
      reason: "fill",
      replacement_nodes: nodes("d", 100 - initial),
    });
    expect(fill.status).toBe(201);
    expect((await c.request("GET", `/v1/builds/${id}`)).body.dag.length).toBe(300);
    await c.request("POST", `/v1/builds/${id}/abort`, { reason: "cleanup" });
  });
});
