import { describe, expect, it } from "vitest";
import { summariseHistory } from "../../src/planning/history";
import {
  type ModelOutcome,
  type PolicyPlan,
  type PolicyPlanInput,
  type TraceEntry,
  planWithPolicy,
  validateProposal,
} from "../../src/planning/policy-engine";
import { PlannerPolicyDocument, RepoSignals } from "../../src/planning/planning.schemas";
import { type FakeBuild, historyRows } from "./helpers";

const OK = ["completed"];
const RETRIED = ["failed", "completed"];
const FAILED = ["failed"];
const staticRuns = (builder: string[], security: string[] = OK): Record<string, string[]> => ({
  scanner: OK,
  builder,
  security,
  ...(builder.at(-1) === "completed" && security.at(-1) === "completed" ? { planner: OK } : {}),
});
const times = (n: number, b: FakeBuild): FakeBuild[] => Array.from({ length: n }, () => b);

function input(opts: {
  metadata?: Record<string, unknown>;
  signals?: Record<string, unknown> | null;
  history?: FakeBuild[];
  policy?: Record<string, unknown>;
}): PolicyPlanInput {
  const rows = historyRows(opts.history ?? []);
  return {
    objective: "Scan it.",
    metadata: opts.metadata ?? {},
    repoSignals: opts.signals === null ? null : RepoSignals.parse(opts.signals ?? { size: "small", has_tests: true }),
    history: summariseHistory(rows.builds, rows.nodes, rows.runs),
    policy: { version: 1, source: "stored", document: PlannerPolicyDocument.parse(opts.policy ?? {}) },
  };
}

const plan = (i: PolicyPlanInput, model: ModelOutcome = { status: "not_configured" }): PolicyPlan =>
  planWithPolicy({ ...i, model });
const ids = (p: PolicyPlan) => p.dag.map((n) => n.node_id);
function decision(p: PolicyPlan, kind: TraceEntry["decision"], nodeId?: string): TraceEntry {
  const found = p.decisions.find((d) => d.decision === kind && (nodeId === undefined || d.node_id === nodeId));
  if (found === undefined) throw new Error(`no ${kind} decision${nodeId ? ` for ${nodeId}` : ""}`);
  return found;
}

describe("planWithPolicy: the same intake with different histories", () => {
  // Same intake every time: a small repository with tests and an empty project intake.
  const cases: Array<{
    name: string;
    history: FakeBuild[];
    expect: {
      scan_mode: string;
      profile: string;
      builder_budget?: [number, string];
      fallback: [string | null, string];
      parallelism: [number, string];
      detail?: RegExp;
    };
  }> = [
    {
      name: "no history: static DAG, default budgets, no fallback",
      history: [],
      expect: {
        scan_mode: "autonomous",
        profile: "static_v1",
        builder_budget: [0, "insufficient_history"],
        fallback: [null, "not_needed"],
        parallelism: [2, "repo_size"],
      },
    },
    {
      name: "builder failed in 3 of the last 5 builds: retry budget 2 and a pre-emptive fallback",
      history: [...times(3, { runs: staticRuns(RETRIED) }), ...times(2, { runs: staticRuns(OK) })],
      expect: {
        scan_mode: "autonomous",
        profile: "static_v1",
        builder_budget: [2, "node_failure_rate"],
        fallback: ["deterministic", "node_failure_rate"],
        parallelism: [2, "repo_size"],
        detail: /node 'builder' failed in 3 of the last 5 builds that ran it \(60%\) ≥ 50%/,
      },
    },
    {
      name: "builder failed in 1 of the last 5 builds: retry budget 1, no fallback",
      history: [{ runs: staticRuns(RETRIED) }, ...times(4, { runs: staticRuns(OK) })],
      expect: {
        scan_mode: "autonomous",
        profile: "static_v1",
        builder_budget: [1, "node_failure_rate"],
        fallback: [null, "not_needed"],
        parallelism: [2, "repo_size"],
      },
    },
    {
      name: "builder failed in 2 builds only (fewer than min_builds): no history-based change",
      history: times(2, { status: "failed", runs: staticRuns(FAILED) }),
      expect: {
        scan_mode: "autonomous",
        profile: "static_v1",
        builder_budget: [0, "insufficient_history"],
        fallback: [null, "not_needed"],
        parallelism: [2, "repo_size"],
      },
    },
    {
      name: "1 of the last 5 builds fell back: fallback armed from the fallback rate",
      history: [
        { fallback: true, runs: { "deterministic-scan": OK, "deterministic-summary": OK } },
        ...times(4, { runs: staticRuns(OK) }),
      ],
      expect: {
        scan_mode: "autonomous",
        profile: "static_v1",
        builder_budget: [0, "below_threshold"],
        fallback: ["deterministic", "history_fallback_rate"],
        parallelism: [2, "repo_size"],
      },
    },
    {
      name: "3 of the last 5 builds failed: flaky repo runs one node at a time",
      history: [...times(3, { status: "failed", runs: staticRuns(OK, FAILED) }), ...times(2, { runs: staticRuns(OK) })],
      expect: {
        scan_mode: "autonomous",
        profile: "static_v1",
        builder_budget: [0, "below_threshold"],
        fallback: ["deterministic", "node_failure_rate"],
        parallelism: [1, "flaky_repo"],
        detail: /3 of the last 5 builds failed or aborted \(60% ≥ 50%\)/,
      },
    },
    {
      name: "4 of the last 5 builds fell back: deterministic mode is pre-selected",
      history: [
        ...times(4, { fallback: true, runs: { builder: FAILED, "deterministic-scan": OK } }),
        { runs: staticRuns(OK) },
      ],
      expect: {
        scan_mode: "deterministic",
        profile: "deterministic",
        fallback: [null, "deterministic_preselected"],
        parallelism: [2, "repo_size"],
        detail: /4 of the last 5 builds fell back to deterministic \(80% ≥ 80%\)/,
      },
    },
  ];

  it.each(cases)("$name", ({ history, expect: e }) => {
    const p = plan(input({ history }));
    expect(p.scan_mode).toBe(e.scan_mode);
    expect(p.metadata.scan_mode).toBe(e.scan_mode);
    expect((p.planner_trace as { selected_profile: string }).selected_profile).toBe(e.profile);
    if (e.builder_budget) {
      const [value, reason] = e.builder_budget;
      expect(decision(p, "retry_budget", "builder")).toMatchObject({ value, reason });
      expect((p.metadata.node_retry_budgets as Record<string, number>).builder).toBe(value);
    }
    expect(decision(p, "fallback")).toMatchObject({ value: e.fallback[0], reason: e.fallback[1] });
    expect(p.metadata.fallback_scan_mode).toBe(e.fallback[0] ?? undefined);
    expect(decision(p, "parallelism")).toMatchObject({ value: e.parallelism[0], reason: e.parallelism[1] });
    expect(p.metadata.max_parallelism).toBe(e.parallelism[0]);
    if (e.detail) expect(p.decisions.map((d) => d.detail).join("\n")).toMatch(e.detail);
    // Every decision is explained.
    for (const d of p.decisions) {
      expect(d.reason).toMatch(/^[a-z0-9_]+$/);
      expect(d.detail.length).toBeGreaterThan(0);
    }
  });

  it("deterministic pre-selection plans the deterministic DAG and writes no fallback", () => {
    const p = plan(input({ history: times(5, { fallback: true, runs: { builder: FAILED } }) }));
    expect(ids(p)).toEqual(["deterministic-scan", "deterministic-summary"]);
    expect(p.metadata).toMatchObject({ scan_mode: "deterministic", autonomous_planner_profile: "policy_v1" });
    expect(p.metadata.fallback_scan_mode).toBeUndefined();
    expect(decision(p, "model")).toMatchObject({ value: "skipped", reason: "deterministic_preselected" });
  });

  it("history of a different profile still counts per agent (builder nodes of the adaptive DAG)", () => {
    const p = plan(
      input({
        metadata: { project_intake: { scale_expectation: "high" } },
        history: [...times(3, { runs: staticRuns(RETRIED) }), ...times(2, { runs: staticRuns(OK) })],
      }),
    );
    expect((p.planner_trace as { selected_profile: string }).selected_profile).toBe("adaptive_parallel_v1");
    for (const node of ["test-baseline", "dynamic-probe", "scale-readiness-check"]) {
      expect(decision(p, "retry_budget", node)).toMatchObject({ value: 2, reason: "agent_failure_rate" });
    }
    expect(decision(p, "retry_budget", "scanner")).toMatchObject({ value: 0, reason: "below_threshold" });
    expect(decision(p, "retry_budget", "scanner").detail).toMatch(/node 'scanner' failed in 0 of the last 5/);
  });

  it("timeouts come from the p95 of earlier durations, else the agent default", () => {
    const withHistory = plan(input({ history: times(3, { runs: staticRuns(OK), duration_ms: 200_000 }) }));
    expect(decision(withHistory, "timeout", "builder")).toMatchObject({ value: 600_000, reason: "history_p95" });
    const without = plan(input({}));
    expect(decision(without, "timeout", "builder")).toMatchObject({ value: 1_800_000, reason: "agent_default" });
    const large = plan(input({ signals: { size: "large" } }));
    expect(decision(large, "timeout", "scanner")).toMatchObject({ value: 1_200_000, reason: "agent_default" });
    expect(large.metadata.node_timeouts_ms).toMatchObject({ scanner: 1_200_000 });
  });
});

describe("planWithPolicy: intake and repository signals", () => {
  const cases: Array<{
    name: string;
    metadata?: Record<string, unknown>;
    signals?: Record<string, unknown> | null;
    policy?: Record<string, unknown>;
    profile: string;
    reason: string;
    has?: string[];
    lacks?: string[];
    guard?: [string, string];
  }> = [
    {
      name: "small repo, empty intake → static_v1",
      profile: "static_v1",
      reason: "small_repo_empty_intake",
      lacks: ["scale-readiness-check"],
    },
    {
      name: "file_count 120 counts as small",
      signals: { file_count: 120, has_tests: true },
      profile: "static_v1",
      reason: "small_repo_empty_intake",
    },
    {
      name: "no repo signals → the policy default (adaptive)",
      signals: null,
      profile: "adaptive_parallel_v1",
      reason: "policy_default",
    },
    {
      name: "high-scale intake gets the scale check",
      metadata: { project_intake: { scale_expectation: "Enterprise / high traffic" } },
      profile: "adaptive_parallel_v1",
      reason: "intake_requires_adaptive",
      has: ["scale-readiness-check"],
      guard: ["scale-readiness-check", "provided_by_base"],
    },
    {
      name: "a large repository gets the scale check from the guard rule",
      signals: { size: "large", has_tests: true },
      profile: "adaptive_parallel_v1",
      reason: "guards_require_adaptive",
      has: ["scale-readiness-check"],
      guard: ["scale-readiness-check", "added"],
    },
    {
      name: "a Kubernetes deployment target adds the deployment config review",
      metadata: { project_intake: { deployment_target: "Kubernetes (EKS)" } },
      profile: "adaptive_parallel_v1",
      reason: "guards_require_adaptive",
      has: ["deployment-config-review"],
      guard: ["deployment-config-review", "added"],
    },
    {
      name: "a repository without tests adds the test gap review",
      signals: { size: "small", has_tests: false },
      profile: "adaptive_parallel_v1",
      reason: "guards_require_adaptive",
      has: ["test-gap-review"],
      guard: ["test-gap-review", "added"],
    },
    {
      name: "sensitive data → adaptive with the data boundary review",
      metadata: { project_intake: { sensitive_data: ["PII"] } },
      profile: "adaptive_parallel_v1",
      reason: "intake_requires_adaptive",
      has: ["data-boundary-review"],
    },
    {
      name: "policy default static_v1 with a medium repo",
      signals: { size: "medium" },
      policy: { profile: { default: "static_v1" } },
      profile: "static_v1",
      reason: "policy_default",
    },
    {
      name: "static_for_small_repos off → adaptive",
      policy: { profile: { static_for_small_repos: false } },
      profile: "adaptive_parallel_v1",
      reason: "policy_default",
    },
  ];

  it.each(cases)("$name", (c) => {
    const p = plan(input({ metadata: c.metadata, signals: c.signals, policy: c.policy }));
    expect(decision(p, "profile")).toMatchObject({ value: c.profile, reason: c.reason });
    for (const id of c.has ?? []) expect(ids(p)).toContain(id);
    for (const id of c.lacks ?? []) expect(ids(p)).not.toContain(id);
    if (c.guard)
      expect(decision(p, "guard_node", c.guard[0])).toMatchObject({ value: c.guard[1], reason: "condition_matched" });
  });

  it("added guards feed the terminal planner node, and levels follow", () => {
    const p = plan(
      input({
        metadata: { project_intake: { deployment_target: "aws" } },
        signals: { size: "large", has_tests: false },
      }),
    );
    const planner = p.dag.find((n) => n.node_id === "planner");
    expect(planner?.depends_on).toEqual(
      expect.arrayContaining(["deployment-config-review", "scale-readiness-check", "test-gap-review"]),
    );
    expect(ids(p).at(-1)).toBe("planner");
    expect(p.dag_levels.at(-1)).toEqual(["planner"]);
    expect(p.metadata.dag_levels).toEqual(p.dag_levels);
    expect(decision(p, "guard_node", "deployment-config-review").detail).toBe("deployment_target 'aws' matches 'aws'");
  });

  it("a guard that would exceed max_nodes is skipped with its reason", () => {
    const p = plan(input({ signals: { size: "large", has_tests: false }, policy: { max_nodes: 8 } }));
    expect(decision(p, "guard_node", "scale-readiness-check")).toMatchObject({ value: "added" });
    expect(decision(p, "guard_node", "test-gap-review")).toMatchObject({ value: "skipped", reason: "max_nodes" });
    expect(p.dag).toHaveLength(8);
  });

  it("explicit client knobs win and are traced as client_override", () => {
    const p = plan(
      input({
        metadata: {
          node_retry_budgets: { builder: 5 },
          max_parallelism: 3,
          fallback_scan_mode: "none",
          node_timeouts_ms: { scanner: 5000 },
          max_task_retries: 1,
        },
        history: [...times(3, { runs: staticRuns(RETRIED) }), ...times(2, { runs: staticRuns(OK) })],
      }),
    );
    expect(decision(p, "retry_budget", "builder")).toMatchObject({ value: 5, reason: "client_override" });
    expect(decision(p, "retry_budget", "scanner")).toMatchObject({ value: 1, reason: "below_threshold" });
    expect(decision(p, "parallelism")).toMatchObject({ value: 3, reason: "client_override" });
    expect(decision(p, "fallback")).toMatchObject({ value: "none", reason: "client_override" });
    expect(decision(p, "timeout", "scanner")).toMatchObject({ value: 5000, reason: "client_override" });
    expect(p.metadata).toMatchObject({
      max_parallelism: 3,
      fallback_scan_mode: "none",
      node_retry_budgets: { builder: 5, scanner: 1 },
    });
  });

  it("is deterministic and never mutates its input", () => {
    const i = input({
      metadata: { project_intake: { must_not_break_flows: ["Login"] } },
      history: times(4, { runs: staticRuns(RETRIED) }),
    });
    const copy = structuredClone(i);
    expect(plan(i)).toEqual(plan(i));
    expect(i).toEqual(copy);
  });

  it("writes the SPEC-visible keys and the policy version into the trace", () => {
    const p = plan(input({}));
    expect(p.metadata).toMatchObject({
      autonomous_planner_profile: "policy_v1",
      level_cursor: 0,
      repo_signals: { size: "small", has_tests: true },
    });
    expect(p.planner_trace).toMatchObject({
      profile: "policy_v1",
      policy: { version: 1, source: "stored" },
      source: "policy",
      base: { profile: "static_v1" },
      model: { status: "not_configured" },
    });
    expect(p.metadata.planner_trace).toEqual(p.planner_trace);
  });
});

describe("validateProposal (SPEC §4.4 blueprint rules + policy)", () => {
  const doc = PlannerPolicyDocument.parse({});
  const node = (node_id: string, depends_on: string[] = [], agent = "scanner", gate: string | null = null) => ({
    node_id,
    title: node_id,
    agent,
    depends_on,
    gate,
  });
  const valid = [node("scan"), node("review", ["scan"], "security", "POLICY_GATE")];
  const cases: Array<{ name: string; proposal: unknown; required?: string[]; reason: string | null; detail?: RegExp }> =
    [
      { name: "a valid proposal", proposal: valid, reason: null },
      { name: "a JSON string of a valid proposal", proposal: JSON.stringify(valid), reason: null },
      {
        name: "a cycle",
        proposal: [node("a", ["b"], "scanner", "POLICY_GATE"), node("b", ["a"])],
        reason: "dag_cycle_detected",
      },
      {
        name: "an unknown agent",
        proposal: [...valid, node("x", ["scan"], "hacker")],
        reason: "agent_not_allowed",
        detail: /node 'x' uses agent 'hacker'/,
      },
      {
        name: "no POLICY_GATE",
        proposal: [node("scan"), node("review", ["scan"], "security", "TEST_GATE")],
        reason: "policy_gate_missing",
      },
      {
        name: "a missing dependency",
        proposal: [...valid, node("x", ["ghost"])],
        reason: "missing_dependency",
        detail: /missing_dependency:ghost/,
      },
      { name: "a self dependency", proposal: [...valid, node("x", ["x"])], reason: "self_dependency" },
      {
        name: "a node without title",
        proposal: [{ node_id: "a", agent: "scanner" }],
        reason: "blueprint_invalid",
        detail: /entry 0 has no title/,
      },
      {
        name: "duplicate ids",
        proposal: [node("a", [], "scanner", "POLICY_GATE"), node("a")],
        reason: "blueprint_invalid",
        detail: /duplicate node id 'a'/,
      },
      { name: "an invalid gate", proposal: [node("a", [], "scanner", "SHIP_IT")], reason: "blueprint_invalid" },
      { name: "not a list", proposal: { plan: "scan" }, reason: "blueprint_invalid", detail: /not a list of nodes/ },
      { name: "an empty list", proposal: [], reason: "blueprint_invalid" },
      {
        name: "too many nodes",
        proposal: Array.from({ length: 25 }, (_, i) => node(`n${i}`, [], "scanner", "POLICY_GATE")),
        reason: "too_many_nodes",
      },
      {
        name: "a required guard node missing",
        proposal: valid,
        required: ["scale-readiness-check"],
        reason: "required_node_missing",
        detail: /scale-readiness-check/,
      },
    ];

  it.each(cases)("$name", ({ proposal, required, reason, detail }) => {
    const check = validateProposal(proposal, doc, required ?? []);
    if (reason === null) {
      expect(check.ok).toBe(true);
    } else {
      expect(check).toMatchObject({ ok: false, reason });
      if (detail && !check.ok) expect(check.detail).toMatch(detail);
    }
  });

  it("a valid model proposal replaces the DAG; an invalid one leaves the policy's plan with the reason", () => {
    const i = input({ signals: { size: "medium", has_tests: true } });
    const used = plan(i, {
      status: "proposed",
      model: "m",
      proposal: [...valid, node("verify", ["review"], "verifier")],
    });
    expect(ids(used)).toEqual(["scan", "review", "verify"]);
    expect(used.planner_trace).toMatchObject({
      source: "model",
      selected_profile: "model_blueprint",
      model: { status: "accepted", model: "m", node_count: 3 },
    });
    expect(used.metadata.node_retry_budgets).toEqual({ scan: 0, review: 0, verify: 0 });

    const rejected = plan(i, {
      status: "proposed",
      model: "m",
      proposal: [node("a", ["b"], "scanner", "POLICY_GATE"), node("b", ["a"])],
    });
    expect(rejected.planner_trace).toMatchObject({
      source: "policy",
      selected_profile: "adaptive_parallel_v1",
      model: { status: "rejected", reason: "dag_cycle_detected" },
    });
    expect(decision(rejected, "model")).toMatchObject({ value: "rejected", reason: "dag_cycle_detected" });
    expect(ids(rejected)).toContain("security-review");

    const down = plan(i, { status: "unavailable", reason: "model_timeout", detail: "no answer within 5 ms" });
    expect(decision(down, "model")).toMatchObject({ value: "unavailable", reason: "model_timeout" });
    expect(plan(i, { status: "disabled" }).planner_trace).toMatchObject({ model: { status: "disabled" } });
  });
});

describe("PlannerPolicyDocument", () => {
  it("fills every default from {} and is stable under a second parse", () => {
    const doc = PlannerPolicyDocument.parse({});
    expect(doc).toMatchObject({
      apply_by_default: false,
      max_nodes: 24,
      history: { window: 10, min_builds: 3 },
      model: { enabled: true },
    });
    expect(doc.guards.map((g) => g.node_id)).toEqual([
      "scale-readiness-check",
      "deployment-config-review",
      "test-gap-review",
    ]);
    expect(PlannerPolicyDocument.parse(JSON.parse(JSON.stringify(doc)))).toEqual(doc);
  });

  const guard = {
    node_id: "extra-check",
    title: "Extra",
    agent: "builder",
    depends_on: ["scanner"],
    when: [{ has_tests: false }],
  };
  const invalid: Array<[string, unknown, string]> = [
    ["unknown key", { aply_by_default: true }, ""],
    [
      "guard agent not allowed",
      { guards: [{ ...guard, agent: "verifier" }], allowed_agents: ["scanner", "builder", "security", "planner"] },
      "guards.0.agent",
    ],
    ["built-in agent missing", { allowed_agents: ["scanner"] }, "allowed_agents"],
    ["guard reusing a base node id", { guards: [{ ...guard, node_id: "dynamic-probe" }] }, "guards.0.node_id"],
    ["guard depending on planner", { guards: [{ ...guard, depends_on: ["planner"] }] }, "guards.0.depends_on"],
    ["guard with an empty condition", { guards: [{ ...guard, when: [{}] }] }, "guards.0.when.0"],
    [
      "retry rule above max_budget",
      { retry: { max_budget: 1, rules: [{ min_failure_rate: 0.5, budget: 2 }] } },
      "retry.rules.0.budget",
    ],
    ["rate above 1", { fallback: { arm_on_node_failure_rate: 1.5 } }, "fallback.arm_on_node_failure_rate"],
  ];
  it.each(invalid)("rejects %s", (_name, doc, path) => {
    const r = PlannerPolicyDocument.safeParse(doc);
    expect(r.success).toBe(false);
    if (!r.success && path !== "") expect(r.error.issues.map((i) => i.path.join("."))).toContain(path);
  });
});
