import { describe, expect, it } from "vitest";
import type { DagNode } from "../../src/builds/builds.types";
import {
  STATIC_V1_NODES,
  deterministicDag,
  flowSlug,
  normaliseScanMode,
  parseBlueprint,
  planDag,
} from "../../src/planning/planner";
import type { ClientDagNode } from "../../src/planning/planner";
import { AppError } from "../../src/kernel/errors";

type Row = [node_id: string, title: string, agent: string, depends_on: string[], gate: DagNode["gate"]];

const rows = (dag: DagNode[]): Row[] => dag.map((d) => [d.node_id, d.title, d.agent, d.depends_on, d.gate]);
const ids = (dag: DagNode[]): string[] => dag.map((d) => d.node_id);
const node = (dag: DagNode[], id: string): DagNode | undefined => dag.find((d) => d.node_id === id);

const OBJECTIVE = "Run autonomous code quality orchestration.";
const plan = (metadata: Record<string, unknown>, dag: ClientDagNode[] | null = null, objective = OBJECTIVE) =>
  planDag({ objective, dag, metadata });

const adaptive = (intake: Record<string, unknown>) =>
  plan({ autonomous_planner_profile: "adaptive_parallel_v1", project_intake: intake });

function planError(fn: () => unknown): AppError {
  try {
    fn();
  } catch (err) {
    if (err instanceof AppError) return err;
    throw err;
  }
  throw new Error("expected planning to throw");
}

const STATIC_ROWS: Row[] = [
  ["scanner", "Static scan", "scanner", [], null],
  ["builder", "Dynamic probe", "builder", ["scanner"], "TEST_GATE"],
  ["security", "Security review", "security", ["builder"], "POLICY_GATE"],
  ["planner", "Remediation plan", "planner", ["security"], "MERGE_GATE"],
];

const DETERMINISTIC_ROWS: Row[] = [
  ["deterministic-scan", "Deterministic scan", "scanner", [], null],
  ["deterministic-summary", "Deterministic summary", "planner", ["deterministic-scan"], null],
];

const ADAPTIVE_BASE_ROWS: Row[] = [
  ["scanner", "Static scan", "scanner", [], null],
  ["dependency-audit", "Dependency + supply-chain audit", "security", ["scanner"], null],
  ["architecture-review", "Architecture and boundary review", "planner", ["scanner"], null],
  ["test-baseline", "Baseline test and build verification", "builder", ["scanner"], "TEST_GATE"],
  ["dynamic-probe", "Dynamic probe and runtime checks", "builder", ["test-baseline", "dependency-audit"], "TEST_GATE"],
  ["security-review", "Security review", "security", ["dependency-audit", "architecture-review"], "POLICY_GATE"],
];

describe("planDag: scan mode and profile selection", () => {
  const cases: Array<{
    name: string;
    metadata: Record<string, unknown>;
    scanMode: string;
    profile: string | undefined;
    trace: Record<string, unknown>;
    rows: Row[];
    levels: string[][];
  }> = [
    {
      name: "no metadata → autonomous static_v1",
      metadata: {},
      scanMode: "autonomous",
      profile: "static_v1",
      trace: { profile: "static_v1" },
      rows: STATIC_ROWS,
      levels: [["scanner"], ["builder"], ["security"], ["planner"]],
    },
    {
      name: "unknown profile → static_v1",
      metadata: { scan_mode: "autonomous", autonomous_planner_profile: "quantum" },
      scanMode: "autonomous",
      profile: "static_v1",
      trace: { profile: "static_v1" },
      rows: STATIC_ROWS,
      levels: [["scanner"], ["builder"], ["security"], ["planner"]],
    },
    {
      name: "unknown scan_mode is autonomous",
      metadata: { scan_mode: "deep" },
      scanMode: "autonomous",
      profile: "static_v1",
      trace: { profile: "static_v1" },
      rows: STATIC_ROWS,
      levels: [["scanner"], ["builder"], ["security"], ["planner"]],
    },
    ...["deterministic", "tier1", "free", "  Deterministic ", "TIER1"].map((mode) => ({
      name: `scan_mode ${JSON.stringify(mode)} → deterministic`,
      metadata: { scan_mode: mode },
      scanMode: "deterministic",
      profile: undefined,
      trace: { profile: "deterministic_default_v1" },
      rows: DETERMINISTIC_ROWS,
      levels: [["deterministic-scan"], ["deterministic-summary"]],
    })),
  ];

  it.each(cases)("$name", ({ metadata, scanMode, profile, trace, rows: expectedRows, levels }) => {
    const planned = plan(metadata);
    expect(planned.scan_mode).toBe(scanMode);
    expect(planned.planner_trace).toEqual(trace);
    expect(rows(planned.dag)).toEqual(expectedRows);
    expect(planned.dag.every((d) => d.status === "pending")).toBe(true);
    expect(planned.dag_levels).toEqual(levels);
    expect(planned.metadata.scan_mode).toBe(scanMode);
    expect(planned.metadata.autonomous_planner_profile).toBe(profile);
    expect(planned.metadata.planner_trace).toEqual(trace);
    expect(planned.metadata.dag_levels).toEqual(levels);
    expect(planned.metadata.level_cursor).toBe(0);
  });

  const profiles: Array<[input: string, normalised: string, traceProfile: string]> = [
    ["static_v1", "static_v1", "static_v1"],
    ["adaptive", "adaptive_parallel_v1", "adaptive_parallel_v1"],
    [" Adaptive_Parallel_V1 ", "adaptive_parallel_v1", "adaptive_parallel_v1"],
    ["agentic", "agentic_llm_v1", "agentic_llm_v1_fallback"],
    ["AGENTIC_LLM_V1", "agentic_llm_v1", "agentic_llm_v1_fallback"],
  ];

  it.each(profiles)("profile %j → metadata profile %s, trace %s", (input, normalised, traceProfile) => {
    const planned = plan({ scan_mode: "autonomous", autonomous_planner_profile: input });
    expect(planned.metadata.autonomous_planner_profile).toBe(normalised);
    expect(planned.planner_trace?.profile).toBe(traceProfile);
  });

  it("does not mutate the input metadata and keeps client keys", () => {
    const metadata = {
      scan_mode: " Free ",
      runner_kind: "daytona_shell",
      project_intake: { scale_expectation: "high" },
    };
    const snapshot = structuredClone(metadata);
    const planned = plan(metadata);
    expect(metadata).toEqual(snapshot);
    expect(planned.metadata).not.toBe(metadata);
    expect(planned.metadata.runner_kind).toBe("daytona_shell");
    expect(planned.metadata.project_intake).toEqual({ scale_expectation: "high" });
    expect(planned.metadata.scan_mode).toBe("deterministic");
  });

  it("static and deterministic helpers return fresh copies", () => {
    const a = deterministicDag();
    const first = a[0];
    expect(first).toBeDefined();
    if (first) first.depends_on.push("mutated");
    expect(rows(deterministicDag())).toEqual(DETERMINISTIC_ROWS);
    expect(STATIC_V1_NODES.map((s) => s.node_id)).toEqual(["scanner", "builder", "security", "planner"]);
  });
});

describe("planDag: client-supplied dag", () => {
  const clientDag: ClientDagNode[] = [
    { node_id: "a", title: "A", agent: "scanner" },
    { node_id: "b", title: "B", agent: "builder", depends_on: ["a"], gate: "TEST_GATE" },
    { node_id: "c", title: "C", agent: "planner", depends_on: ["a"], gate: null },
    { node_id: "d", title: "D", agent: "planner", depends_on: ["b", "c"], status: "completed" },
  ];

  it("is used as is, normalised to DagNode", () => {
    const planned = plan({ autonomous_planner_profile: "adaptive" }, clientDag);
    expect(planned.dag).toEqual([
      { node_id: "a", title: "A", agent: "scanner", depends_on: [], gate: null, status: "pending" },
      { node_id: "b", title: "B", agent: "builder", depends_on: ["a"], gate: "TEST_GATE", status: "pending" },
      { node_id: "c", title: "C", agent: "planner", depends_on: ["a"], gate: null, status: "pending" },
      { node_id: "d", title: "D", agent: "planner", depends_on: ["b", "c"], gate: null, status: "pending" },
    ]);
    expect(planned.dag_levels).toEqual([["a"], ["b", "c"], ["d"]]);
    expect(planned.metadata.dag_levels).toEqual([["a"], ["b", "c"], ["d"]]);
    expect(planned.metadata.level_cursor).toBe(0);
  });

  it("writes no planner_trace and leaves the profile alone", () => {
    const planned = plan({ autonomous_planner_profile: "Adaptive" }, clientDag);
    expect(planned.planner_trace).toBeNull();
    expect("planner_trace" in planned.metadata).toBe(false);
    expect(planned.metadata.autonomous_planner_profile).toBe("Adaptive");
  });

  const scanModes: Array<[metadata: Record<string, unknown>, scanMode: string]> = [
    [{}, "custom"],
    [{ scan_mode: "  AUTONOMOUS " }, "autonomous"],
    [{ scan_mode: "Deterministic" }, "deterministic"],
    [{ scan_mode: "   " }, "custom"],
    [{ scan_mode: 7 }, "custom"],
  ];

  it.each(scanModes)("metadata %j → scan_mode %s", (metadata, scanMode) => {
    const planned = plan(metadata, clientDag);
    expect(planned.scan_mode).toBe(scanMode);
    expect(planned.metadata.scan_mode).toBe(scanMode);
    expect(ids(planned.dag)).toEqual(["a", "b", "c", "d"]);
    expect(normaliseScanMode(metadata)).toBe(scanMode);
  });

  it("an empty dag is used as is (not planned) with levels []", () => {
    const planned = plan({ scan_mode: "deterministic" }, []);
    expect(planned.dag).toEqual([]);
    expect(planned.dag_levels).toEqual([]);
    expect(planned.metadata.dag_levels).toEqual([]);
    expect(planned.scan_mode).toBe("deterministic");
    expect(planned.planner_trace).toBeNull();
  });

  const invalid: Array<{ name: string; dag: ClientDagNode[]; message: string }> = [
    {
      name: "cycle",
      dag: [
        { node_id: "a", title: "A", agent: "x", depends_on: ["b"] },
        { node_id: "b", title: "B", agent: "x", depends_on: ["a"] },
      ],
      message: "dag_cycle_detected",
    },
    {
      name: "missing dependency",
      dag: [{ node_id: "a", title: "A", agent: "x", depends_on: ["nope"] }],
      message: "missing_dependency:nope",
    },
    {
      name: "duplicate node id",
      dag: [
        { node_id: "a", title: "A", agent: "x" },
        { node_id: "a", title: "A2", agent: "x" },
      ],
      message: "duplicate_node_id:a",
    },
    {
      name: "self dependency",
      dag: [{ node_id: "a", title: "A", agent: "x", depends_on: ["a"] }],
      message: "self_dependency:a",
    },
  ];

  it.each(invalid)("$name → invalid_dag $message", ({ dag, message }) => {
    const err = planError(() => plan({}, dag));
    expect(err.code).toBe("invalid_dag");
    expect(err.status).toBe(422);
    expect(err.detail).toBe(message);
  });
});

describe("planDag: adaptive_parallel_v1", () => {
  it("with an empty intake gives the base nodes and the planner", () => {
    const planned = adaptive({});
    expect(rows(planned.dag)).toEqual([
      ...ADAPTIVE_BASE_ROWS,
      [
        "planner",
        "Remediation plan",
        "planner",
        ["architecture-review", "dynamic-probe", "security-review"],
        "MERGE_GATE",
      ],
    ]);
    expect(planned.planner_trace).toEqual({
      profile: "adaptive_parallel_v1",
      flow_guards: 0,
      sensitive_data_review: false,
      scale_readiness_check: false,
    });
    expect(planned.metadata.planner_trace).toEqual(planned.planner_trace);
    expect(planned.metadata.autonomous_planner_profile).toBe("adaptive_parallel_v1");
    expect(planned.scan_mode).toBe("autonomous");
    expect(planned.dag_levels).toEqual([
      ["scanner"],
      ["architecture-review", "dependency-audit", "test-baseline"],
      ["dynamic-probe", "security-review"],
      ["planner"],
    ]);
  });

  it("with every option adds flow guards, data boundary and scale nodes in order", () => {
    const planned = adaptive({
      must_not_break_flows: ["Checkout flow", "Sign up & login!!"],
      sensitive_data: ["pii"],
      scale_expectation: "high",
    });
    expect(rows(planned.dag)).toEqual([
      ...ADAPTIVE_BASE_ROWS,
      ["flow-guard-checkout-flow", "Flow guard: Checkout flow", "builder", ["test-baseline"], "TEST_GATE"],
      ["flow-guard-sign-up-login", "Flow guard: Sign up & login!!", "builder", ["test-baseline"], "TEST_GATE"],
      [
        "data-boundary-review",
        "Data boundary + secret handling review",
        "security",
        ["security-review"],
        "POLICY_GATE",
      ],
      ["scale-readiness-check", "Scale readiness check", "builder", ["dynamic-probe"], "TEST_GATE"],
      [
        "planner",
        "Remediation plan",
        "planner",
        [
          "architecture-review",
          "data-boundary-review",
          "dynamic-probe",
          "flow-guard-checkout-flow",
          "flow-guard-sign-up-login",
          "scale-readiness-check",
        ],
        "MERGE_GATE",
      ],
    ]);
    expect(planned.planner_trace).toEqual({
      profile: "adaptive_parallel_v1",
      flow_guards: 2,
      sensitive_data_review: true,
      scale_readiness_check: true,
    });
    expect(planned.dag_levels).toEqual([
      ["scanner"],
      ["architecture-review", "dependency-audit", "test-baseline"],
      ["dynamic-probe", "flow-guard-checkout-flow", "flow-guard-sign-up-login", "security-review"],
      ["data-boundary-review", "scale-readiness-check"],
      ["planner"],
    ]);
  });

  const slugs: Array<[flow: string, index: number, slug: string]> = [
    ["Sign up & login!!", 0, "sign-up-login"],
    ["Checkout flow", 0, "checkout-flow"],
    ["  --Already-Slugged--  ", 0, "already-slugged"],
    ["Ünïcode Çheckout", 0, "n-code-heckout"],
    ["!!!", 0, "flow-1"],
    ["???", 2, "flow-3"],
    ["a".repeat(45), 0, "a".repeat(40)],
    [`${"x".repeat(39)} tail`, 0, `${"x".repeat(39)}-`],
  ];

  it.each(slugs)("flowSlug(%j, %i) = %s", (flow, index, slug) => {
    expect(flowSlug(flow, index)).toBe(slug);
  });

  const flowCases: Array<{ name: string; flows: unknown; guards: Array<[id: string, title: string]> }> = [
    {
      name: "SPEC slug example",
      flows: ["Sign up & login!!"],
      guards: [["flow-guard-sign-up-login", "Flow guard: Sign up & login!!"]],
    },
    {
      name: "trimmed, empties dropped, case-insensitive duplicates keep the first",
      flows: ["  Checkout  ", "", "   ", "CHECKOUT", "checkout", "Login"],
      guards: [
        ["flow-guard-checkout", "Flow guard: Checkout"],
        ["flow-guard-login", "Flow guard: Login"],
      ],
    },
    {
      name: "only the first 4 flows",
      flows: ["one", "two", "three", "four", "five", "six"],
      guards: [
        ["flow-guard-one", "Flow guard: one"],
        ["flow-guard-two", "Flow guard: two"],
        ["flow-guard-three", "Flow guard: three"],
        ["flow-guard-four", "Flow guard: four"],
      ],
    },
    {
      name: "duplicate slugs are de-duplicated (first wins) before taking 4",
      flows: ["Sign up", "sign-up", "Sign  up!", "Login", "Checkout", "Search", "Export"],
      guards: [
        ["flow-guard-sign-up", "Flow guard: Sign up"],
        ["flow-guard-login", "Flow guard: Login"],
        ["flow-guard-checkout", "Flow guard: Checkout"],
        ["flow-guard-search", "Flow guard: Search"],
      ],
    },
    {
      name: "empty slug becomes flow-<index+1>, and a colliding literal flow is dropped",
      flows: ["Login", "!!!", "Flow 2"],
      guards: [
        ["flow-guard-login", "Flow guard: Login"],
        ["flow-guard-flow-2", "Flow guard: !!!"],
      ],
    },
    {
      name: "non-string entries are ignored",
      flows: [42, null, { a: 1 }, "Checkout"],
      guards: [["flow-guard-checkout", "Flow guard: Checkout"]],
    },
    { name: "not a list", flows: "Checkout", guards: [] },
  ];

  it.each(flowCases)("flow guards: $name", ({ flows, guards }) => {
    const planned = adaptive({ must_not_break_flows: flows });
    const guardNodes = planned.dag.filter((d) => d.node_id.startsWith("flow-guard-"));
    expect(guardNodes.map((d): [string, string] => [d.node_id, d.title])).toEqual(guards);
    for (const g of guardNodes) {
      expect(g.agent).toBe("builder");
      expect(g.depends_on).toEqual(["test-baseline"]);
      expect(g.gate).toBe("TEST_GATE");
    }
    expect(planned.planner_trace?.flow_guards).toBe(guards.length);
    const plannerDeps = node(planned.dag, "planner")?.depends_on ?? [];
    expect(plannerDeps).toEqual(
      ["architecture-review", "dynamic-probe", "security-review", ...guards.map((g) => g[0])].sort(),
    );
    expect(new Set(ids(planned.dag)).size).toBe(planned.dag.length);
  });

  const scales: Array<[scale: unknown, expected: boolean]> = [
    ["high", true],
    ["very_high", true],
    ["very high", true],
    ["large", true],
    ["  HIGH ", true],
    ["MVP / low traffic", false],
    ["Early growth", false],
    ["Expected rapid growth", true],
    ["Enterprise / high traffic", true],
    ["  enterprise / HIGH traffic ", true],
    ["Not sure", false],
    ["", false],
    ["medium", false],
    [undefined, false],
    [3, false],
  ];

  it.each(scales)("scale_expectation %j → scale node %s", (scale, expected) => {
    const planned = adaptive({ scale_expectation: scale });
    const scaleNode = node(planned.dag, "scale-readiness-check");
    expect(scaleNode !== undefined).toBe(expected);
    expect(planned.planner_trace?.scale_readiness_check).toBe(expected);
    expect(node(planned.dag, "planner")?.depends_on.includes("scale-readiness-check")).toBe(expected);
    if (scaleNode) {
      expect([scaleNode.agent, scaleNode.depends_on, scaleNode.gate]).toEqual([
        "builder",
        ["dynamic-probe"],
        "TEST_GATE",
      ]);
    }
  });

  const sensitive: Array<[data: unknown, expected: boolean]> = [
    [["none"], false],
    [["not_sure"], false],
    [[""], false],
    [["NONE", " Not_Sure ", ""], false],
    [[], false],
    [undefined, false],
    ["pii", false],
    [["pii"], true],
    [["none", "payments"], true],
  ];

  it.each(sensitive)("sensitive_data %j → data boundary review %s", (data, expected) => {
    const planned = adaptive({ sensitive_data: data });
    expect(node(planned.dag, "data-boundary-review") !== undefined).toBe(expected);
    expect(planned.planner_trace?.sensitive_data_review).toBe(expected);
    const plannerDeps = node(planned.dag, "planner")?.depends_on ?? [];
    expect(plannerDeps.includes("data-boundary-review")).toBe(expected);
    // The security terminal replaces security-review in the planner's dependencies.
    expect(plannerDeps.includes("security-review")).toBe(!expected);
  });

  it("ignores a project_intake that is not an object", () => {
    const planned = plan({ autonomous_planner_profile: "adaptive", project_intake: ["high"] });
    expect(planned.dag).toHaveLength(7);
    expect(planned.planner_trace?.flow_guards).toBe(0);
  });
});

describe("planDag: agentic_llm_v1", () => {
  const blueprint = [
    { node_id: "scan", title: "Scan", agent: "Scanner" },
    { node_id: "plan", title: "Plan", agent: "planner", depends_on: ["scan"], gate: "merge_gate" },
  ];
  const expectedDag: DagNode[] = [
    { node_id: "scan", title: "Scan", agent: "scanner", depends_on: [], gate: null, status: "pending" },
    { node_id: "plan", title: "Plan", agent: "planner", depends_on: ["scan"], gate: "MERGE_GATE", status: "pending" },
  ];
  const agentic = (planner_dag_blueprint: unknown, objective = OBJECTIVE) =>
    plan(
      { scan_mode: "autonomous", autonomous_planner_profile: "agentic_llm_v1", planner_dag_blueprint },
      null,
      objective,
    );

  it.each([
    ["an array", blueprint],
    ["a JSON string", JSON.stringify(blueprint)],
  ])("uses a valid blueprint given as %s", (_label, raw) => {
    const planned = agentic(raw);
    expect(planned.dag).toEqual(expectedDag);
    expect(planned.dag_levels).toEqual([["scan"], ["plan"]]);
    expect(planned.scan_mode).toBe("autonomous");
    expect(planned.planner_trace).toEqual({
      profile: "agentic_llm_v1",
      source: "planner_dag_blueprint",
      objective: OBJECTIVE,
      node_count: 2,
    });
    expect(planned.metadata.planner_trace).toEqual(planned.planner_trace);
    expect(planned.metadata.autonomous_planner_profile).toBe("agentic_llm_v1");
  });

  it("truncates the trace objective to 180 characters", () => {
    const objective = `${"o".repeat(179)}XYZ`;
    expect(agentic(blueprint, objective).planner_trace?.objective).toBe(`${"o".repeat(179)}X`);
    expect(agentic(undefined, objective).planner_trace?.objective).toBe(`${"o".repeat(179)}X`);
  });

  const invalid: Array<[name: string, raw: unknown]> = [
    ["absent", undefined],
    ["null", null],
    ["empty array", []],
    ["empty JSON array", "[]"],
    ["malformed JSON", "[{"],
    ["JSON object, not array", JSON.stringify({ node_id: "scan", title: "Scan", agent: "scanner" })],
    ["plain object", { node_id: "scan", title: "Scan", agent: "scanner" }],
    ["non-object entry", [...blueprint, "oops"]],
    ["array entry", [...blueprint, ["scan"]]],
    ["missing node_id", [{ title: "Scan", agent: "scanner" }]],
    ["blank node_id", [{ node_id: "  ", title: "Scan", agent: "scanner" }]],
    ["missing title", [{ node_id: "scan", agent: "scanner" }]],
    ["empty title", [{ node_id: "scan", title: "", agent: "scanner" }]],
    ["missing agent", [{ node_id: "scan", title: "Scan" }]],
    ["non-string agent", [{ node_id: "scan", title: "Scan", agent: 5 }]],
    ["duplicate node ids", [...blueprint, { node_id: "scan", title: "Again", agent: "scanner" }]],
    ["empty dependency string", [{ node_id: "scan", title: "Scan", agent: "scanner", depends_on: [""] }]],
    ["non-string dependency", [{ node_id: "scan", title: "Scan", agent: "scanner", depends_on: [1] }]],
    ["unknown gate", [{ node_id: "scan", title: "Scan", agent: "scanner", gate: "DEPLOY_GATE" }]],
  ];

  it.each(invalid)("falls back to the adaptive DAG when the blueprint is invalid: %s", (_name, raw) => {
    expect(parseBlueprint(raw)).toBeNull();
    const planned = agentic(raw);
    const reference = adaptive({});
    expect(planned.dag).toEqual(reference.dag);
    expect(planned.dag_levels).toEqual(reference.dag_levels);
    expect(planned.planner_trace).toEqual({
      profile: "agentic_llm_v1_fallback",
      source: "adaptive_parallel_v1",
      objective: OBJECTIVE,
      flow_guards: 0,
      sensitive_data_review: false,
      scale_readiness_check: false,
    });
    expect(planned.metadata.autonomous_planner_profile).toBe("agentic_llm_v1");
  });

  it("fallback builds the adaptive DAG from the intake (UI path)", () => {
    const planned = plan({
      scan_mode: "autonomous",
      fallback_scan_mode: "deterministic",
      autonomous_planner_profile: "agentic_llm_v1",
      project_intake: {
        must_not_break_flows: ["Checkout"],
        sensitive_data: ["not_sure"],
        scale_expectation: "Enterprise / high traffic",
      },
    });
    expect(ids(planned.dag)).toEqual([
      ...ADAPTIVE_BASE_ROWS.map((r) => r[0]),
      "flow-guard-checkout",
      "scale-readiness-check",
      "planner",
    ]);
    expect(planned.planner_trace).toMatchObject({
      profile: "agentic_llm_v1_fallback",
      flow_guards: 1,
      sensitive_data_review: false,
      scale_readiness_check: true,
    });
  });

  const lenient: Array<[name: string, entry: Record<string, unknown>, expected: Partial<DagNode>]> = [
    ["non-list depends_on is []", { depends_on: "scan" }, { depends_on: [] }],
    ["empty gate is null", { gate: "" }, { gate: null }],
    ["non-string gate is null", { gate: 3 }, { gate: null }],
    ["gate is upper-cased", { gate: " policy_gate " }, { gate: "POLICY_GATE" }],
    ["agent is lower-cased", { agent: "SECURITY" }, { agent: "security" }],
  ];

  it.each(lenient)("blueprint entry: %s", (_name, entry, expected) => {
    const parsed = parseBlueprint([{ node_id: "n", title: "N", agent: "builder", ...entry }]);
    expect(parsed).not.toBeNull();
    expect(parsed?.[0]).toMatchObject(expected);
  });

  it.each([
    [
      "missing dependency",
      [{ node_id: "plan", title: "Plan", agent: "planner", depends_on: ["scan"] }],
      "missing_dependency:scan",
    ],
    [
      "cycle",
      [
        { node_id: "a", title: "A", agent: "x", depends_on: ["b"] },
        { node_id: "b", title: "B", agent: "x", depends_on: ["a"] },
      ],
      "dag_cycle_detected",
    ],
    ["self dependency", [{ node_id: "a", title: "A", agent: "x", depends_on: ["a"] }], "self_dependency:a"],
  ])("a blueprint with a %s is not a fallback but invalid_dag", (_name, raw, message) => {
    const err = planError(() => agentic(raw));
    expect(err.code).toBe("invalid_dag");
    expect(err.detail).toBe(message);
  });
});
