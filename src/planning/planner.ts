/**
 * DAG planning (SPEC §4.4 steps 1–4): resolves `(dag, scan_mode, planner_trace)` and the planned
 * metadata from a create/preview request. Pure and deterministic — no LLM, no I/O. Called by the
 * build service (create and preview-dag); `deterministicDag()` is reused by the runtime fallback.
 * Deviation from the reference (DESIGN §4, quirk 12): UI scale strings map to high, and flows whose
 * slugs collide are de-duplicated instead of producing duplicate node ids.
 */
import type { DagNode, GateType, PlannedDag } from "./dag";
import { computeLevels } from "./levels";
import { isRecord, lowerTrim } from "../lib/values";
import { parseBlueprint } from "./blueprint";

export { parseBlueprint } from "./blueprint";

/** A client-supplied node after zod shape validation; optional fields get defaults here. */
export interface ClientDagNode {
  node_id: string;
  title: string;
  agent: string;
  depends_on?: string[] | null;
  gate?: GateType | null;
  status?: string | null;
}

export interface PlanInput {
  objective: string;
  /** A client-supplied DAG (an empty array counts) or null/undefined to let the planner decide. */
  dag: readonly ClientDagNode[] | null | undefined;
  metadata: Record<string, unknown>;
}

/** A node template: DagNode without its runtime status. */
type NodeSpec = Omit<DagNode, "status">;

export const DETERMINISTIC_SCAN_MODES: readonly string[] = ["deterministic", "tier1", "free"];

export const STATIC_V1_NODES: readonly Readonly<NodeSpec>[] = [
  { node_id: "scanner", title: "Static scan", agent: "scanner", depends_on: [], gate: null },
  { node_id: "builder", title: "Dynamic probe", agent: "builder", depends_on: ["scanner"], gate: "TEST_GATE" },
  { node_id: "security", title: "Security review", agent: "security", depends_on: ["builder"], gate: "POLICY_GATE" },
  { node_id: "planner", title: "Remediation plan", agent: "planner", depends_on: ["security"], gate: "MERGE_GATE" },
];

export const DETERMINISTIC_NODES: readonly Readonly<NodeSpec>[] = [
  { node_id: "deterministic-scan", title: "Deterministic scan", agent: "scanner", depends_on: [], gate: null },
  {
    node_id: "deterministic-summary",
    title: "Deterministic summary",
    agent: "planner",
    depends_on: ["deterministic-scan"],
    gate: null,
  },
];

export const ADAPTIVE_BASE_NODES: readonly Readonly<NodeSpec>[] = [
  { node_id: "scanner", title: "Static scan", agent: "scanner", depends_on: [], gate: null },
  {
    node_id: "dependency-audit",
    title: "Dependency + supply-chain audit",
    agent: "security",
    depends_on: ["scanner"],
    gate: null,
  },
  {
    node_id: "architecture-review",
    title: "Architecture and boundary review",
    agent: "planner",
    depends_on: ["scanner"],
    gate: null,
  },
  {
    node_id: "test-baseline",
    title: "Baseline test and build verification",
    agent: "builder",
    depends_on: ["scanner"],
    gate: "TEST_GATE",
  },
  {
    node_id: "dynamic-probe",
    title: "Dynamic probe and runtime checks",
    agent: "builder",
    depends_on: ["test-baseline", "dependency-audit"],
    gate: "TEST_GATE",
  },
  {
    node_id: "security-review",
    title: "Security review",
    agent: "security",
    depends_on: ["dependency-audit", "architecture-review"],
    gate: "POLICY_GATE",
  },
];

/** Maximum number of flow guards the adaptive planner adds. */
export const MAX_FLOW_GUARDS = 4;

/** Values of `scale_expectation` (lower-cased, trimmed) that add the scale node. */
export const HIGH_SCALE_EXPECTATIONS: ReadonlySet<string> = new Set([
  "high",
  "very_high",
  "very high",
  "large",
  // DESIGN quirk 12 fix: the New Scan UI's high-scale options.
  "expected rapid growth",
  "enterprise / high traffic",
]);

const IGNORED_SENSITIVE_DATA: ReadonlySet<string> = new Set(["", "none", "not_sure"]);

const OBJECTIVE_TRACE_CHARS = 180;

function materialise(specs: readonly Readonly<NodeSpec>[]): DagNode[] {
  return specs.map((s) => ({ ...s, depends_on: [...s.depends_on], status: "pending" }));
}

/** Fresh copy of the static autonomous DAG. */
export function staticDag(): DagNode[] {
  return materialise(STATIC_V1_NODES);
}

/** Fresh copy of the deterministic DAG (also the runtime fallback's replacement DAG). */
export function deterministicDag(): DagNode[] {
  return materialise(DETERMINISTIC_NODES);
}

/**
 * `lower(trim(metadata.scan_mode))`, or `fallback` when it is absent, not a string or blank.
 * With the default fallback this is the scan_mode of a client-supplied DAG (SPEC §4.4 step 1).
 */
export function normaliseScanMode(metadata: Record<string, unknown>, fallback = "custom"): string {
  return lowerTrim(metadata.scan_mode) ?? fallback;
}

/** First 180 characters (code points, so a surrogate pair is never split). */
function traceObjective(objective: string): string {
  return Array.from(objective).slice(0, OBJECTIVE_TRACE_CHARS).join("");
}

/** Flow slug per SPEC §4.4: runs of non-`[a-z0-9]` → `-`, edges trimmed, cut to 40 chars. */
export function flowSlug(flow: string, index: number): string {
  const slug = flow
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 40);
  return slug === "" ? `flow-${index + 1}` : slug;
}

/**
 * The flows that get a guard: `{flow, slug}` in input order.
 * Strings only (other entries are ignored), trimmed, empties dropped, de-duplicated
 * case-insensitively keeping the first occurrence; then slugged (index = position in that list).
 * DESIGN fix: a flow whose slug equals an earlier flow's slug is dropped. This happens *before*
 * taking the first 4, so a colliding duplicate never uses up one of the 4 guard slots — the user
 * gets up to 4 distinct guards, and no input can produce duplicate node ids.
 */
export function selectFlows(raw: unknown): Array<{ flow: string; slug: string }> {
  if (!Array.isArray(raw)) return [];
  const seenText = new Set<string>();
  const flows: string[] = [];
  for (const entry of raw) {
    if (typeof entry !== "string") continue;
    const flow = entry.trim();
    if (flow === "") continue;
    const key = flow.toLowerCase();
    if (seenText.has(key)) continue;
    seenText.add(key);
    flows.push(flow);
  }
  const seenSlug = new Set<string>();
  const selected: Array<{ flow: string; slug: string }> = [];
  flows.forEach((flow, index) => {
    const slug = flowSlug(flow, index);
    if (seenSlug.has(slug)) return;
    seenSlug.add(slug);
    selected.push({ flow, slug });
  });
  return selected.slice(0, MAX_FLOW_GUARDS);
}

/** True when any `sensitive_data` string other than "", "none", "not_sure" (lower-cased) is present. */
export function hasSensitiveData(raw: unknown): boolean {
  if (!Array.isArray(raw)) return false;
  return raw.some((entry) => typeof entry === "string" && !IGNORED_SENSITIVE_DATA.has(entry.trim().toLowerCase()));
}

/** True when `scale_expectation` asks for the scale-readiness node (case-insensitive, trimmed). */
export function isHighScale(raw: unknown): boolean {
  const value = lowerTrim(raw);
  return value !== null && HIGH_SCALE_EXPECTATIONS.has(value);
}

/** The adaptive DAG (`adaptive_parallel_v1`) built from `metadata.project_intake`, and its trace. */
export function adaptiveDag(projectIntake: unknown): { dag: DagNode[]; trace: Record<string, unknown> } {
  const intake = isRecord(projectIntake) ? projectIntake : {};
  const dag = materialise(ADAPTIVE_BASE_NODES);

  const flows = selectFlows(intake.must_not_break_flows);
  const flowIds: string[] = [];
  for (const { flow, slug } of flows) {
    const nodeId = `flow-guard-${slug}`;
    flowIds.push(nodeId);
    dag.push({
      node_id: nodeId,
      title: `Flow guard: ${flow}`,
      agent: "builder",
      depends_on: ["test-baseline"],
      gate: "TEST_GATE",
      status: "pending",
    });
  }

  const sensitive = hasSensitiveData(intake.sensitive_data);
  let securityTerminal = "security-review";
  if (sensitive) {
    securityTerminal = "data-boundary-review";
    dag.push({
      node_id: "data-boundary-review",
      title: "Data boundary + secret handling review",
      agent: "security",
      depends_on: ["security-review"],
      gate: "POLICY_GATE",
      status: "pending",
    });
  }

  const scale = isHighScale(intake.scale_expectation);
  if (scale) {
    dag.push({
      node_id: "scale-readiness-check",
      title: "Scale readiness check",
      agent: "builder",
      depends_on: ["dynamic-probe"],
      gate: "TEST_GATE",
      status: "pending",
    });
  }

  const plannerDeps = new Set(["dynamic-probe", "architecture-review", securityTerminal, ...flowIds]);
  if (scale) plannerDeps.add("scale-readiness-check");
  dag.push({
    node_id: "planner",
    title: "Remediation plan",
    agent: "planner",
    depends_on: [...plannerDeps].sort(),
    gate: "MERGE_GATE",
    status: "pending",
  });

  return {
    dag,
    trace: {
      profile: "adaptive_parallel_v1",
      flow_guards: flows.length,
      sensitive_data_review: sensitive,
      scale_readiness_check: scale,
    },
  };
}

function normaliseClientNode(node: ClientDagNode): DagNode {
  return {
    node_id: node.node_id,
    title: node.title,
    agent: node.agent,
    depends_on: [...(node.depends_on ?? [])],
    gate: node.gate ?? null,
    status: "pending",
  };
}

function resolveAutonomous(
  objective: string,
  metadata: Record<string, unknown>,
): { dag: DagNode[]; trace: Record<string, unknown>; profile: string } {
  const requested = lowerTrim(metadata.autonomous_planner_profile) ?? "static_v1";

  if (requested === "adaptive" || requested === "adaptive_parallel_v1") {
    const { dag, trace } = adaptiveDag(metadata.project_intake);
    return { dag, trace, profile: "adaptive_parallel_v1" };
  }

  if (requested === "agentic" || requested === "agentic_llm_v1") {
    const blueprint = parseBlueprint(metadata.planner_dag_blueprint);
    if (blueprint !== null) {
      return {
        dag: blueprint,
        trace: {
          profile: "agentic_llm_v1",
          source: "planner_dag_blueprint",
          objective: traceObjective(objective),
          node_count: blueprint.length,
        },
        profile: "agentic_llm_v1",
      };
    }
    const { dag, trace } = adaptiveDag(metadata.project_intake);
    return {
      dag,
      trace: {
        ...trace,
        profile: "agentic_llm_v1_fallback",
        source: "adaptive_parallel_v1",
        objective: traceObjective(objective),
      },
      profile: "agentic_llm_v1",
    };
  }

  return { dag: staticDag(), trace: { profile: "static_v1" }, profile: "static_v1" };
}

/**
 * Plans a build's DAG (SPEC §4.4 steps 1–4). Never mutates `input.metadata`; the returned metadata
 * is a shallow copy with `scan_mode`, `autonomous_planner_profile` (autonomous only),
 * `planner_trace` (planner-made DAGs only), `dag_levels` and `level_cursor: 0` set.
 * @throws AppError("invalid_dag", message) when levels cannot be computed (SPEC §4.5).
 */
export function planDag(input: PlanInput): PlannedDag {
  const metadata: Record<string, unknown> = { ...input.metadata };
  let dag: DagNode[];
  let scanMode: string;
  let trace: Record<string, unknown> | null = null;

  if (input.dag !== null && input.dag !== undefined) {
    dag = input.dag.map(normaliseClientNode);
    scanMode = normaliseScanMode(metadata);
  } else if (DETERMINISTIC_SCAN_MODES.includes(normaliseScanMode(metadata, "autonomous"))) {
    dag = deterministicDag();
    scanMode = "deterministic";
    trace = { profile: "deterministic_default_v1" };
  } else {
    const resolved = resolveAutonomous(input.objective, metadata);
    dag = resolved.dag;
    scanMode = "autonomous";
    trace = resolved.trace;
    metadata.autonomous_planner_profile = resolved.profile;
  }

  const levels = computeLevels(dag);

  metadata.scan_mode = scanMode;
  if (trace !== null) metadata.planner_trace = { ...trace };
  metadata.dag_levels = levels.map((level) => [...level]);
  metadata.level_cursor = 0;

  return { dag, scan_mode: scanMode, planner_trace: trace, dag_levels: levels, metadata };
}
