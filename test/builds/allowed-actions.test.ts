/**
 * `allowed_actions` of a BuildRun (src/builds/allowed-actions.ts): the table per status, pure, and
 * one build through HTTP whose list follows its status.
 */
import { describe, expect, it } from "vitest";
import { allowedActions } from "../../src/builds/allowed-actions";
import { BUILD_STATUSES } from "../../src/builds/builds.types";
import { caller, createBuild } from "../helpers/api";

describe("allowedActions", () => {
  it.each([
    ["pending", ["abort", "checkpoint"]],
    ["running", ["abort", "replan", "checkpoint"]],
    ["paused", ["resume", "abort", "replan", "checkpoint"]],
    ["failed", ["resume", "abort", "replan", "checkpoint"]],
    ["completed", ["checkpoint"]],
    ["aborted", ["checkpoint"]],
  ] as const)("%s → %j", (status, expected) => {
    expect(allowedActions(status)).toEqual(expected);
  });

  it("covers every build status", () => {
    for (const status of BUILD_STATUSES) expect(allowedActions(status)).toContain("checkpoint");
  });
});

describe("GET /v1/builds/{id} allowed_actions", () => {
  it("follows the build's status (running → paused → aborted)", async () => {
    const c = await caller({ sub: "allowed_actions_user" });
    const dag = [{ node_id: "n1", title: "n1", agent: "scanner" }];
    const b = await createBuild(c, { dag, metadata: { simulated_duration_ms: 60_000 } });
    expect(b.allowed_actions).toEqual(["abort", "replan", "checkpoint"]);
    expect(
      (await c.request("POST", `/v1/builds/${b.build_id}/gates/TEST_GATE`, { status: "BLOCKED", reason: "hold" }))
        .status,
    ).toBe(201);
    expect((await c.request("GET", `/v1/builds/${b.build_id}`)).body.allowed_actions).toEqual([
      "resume",
      "abort",
      "replan",
      "checkpoint",
    ]);
    const aborted = await c.request("POST", `/v1/builds/${b.build_id}/abort`, { reason: "done" });
    expect(aborted.body.allowed_actions).toEqual(["checkpoint"]);
  });
});
