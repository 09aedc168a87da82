/**
 * Schemas of the planner policy layer: the policy document (versioned data, validated here and
 * stored normalised), repository signals a build may carry, and the request shapes of
 * /v1/planner/policies. A schema and its type share one name. Used by the routes, the service,
 * the pure engine (types only) and builds.schemas.ts (`repo_signals`).
 */
import { z } from "zod";
import { GATE_TYPES } from "./dag";
import { int, nts, registerResponses, seqCursor } from "../kernel/api-schemas";

export const REPO_SIZES = ["small", "medium", "large"] as const;
export type RepoSize = (typeof REPO_SIZES)[number];

// ---------------------------------------------------------------------------------------------
// Repository signals (supplied by the client at creation; never fetched by the control plane)

export const RepoSignals = z.object({
  /** Languages present, e.g. ["typescript", "python"]. Compared case-insensitively. */
  languages: z.array(z.string().trim().min(1).max(64)).max(32).default([]),
  /** Explicit size class; when absent it is derived from file_count / loc by the policy. */
  size: z.enum(REPO_SIZES).optional(),
  file_count: z.int().min(0).max(100_000_000).optional(),
  loc: z.int().min(0).max(10_000_000_000).optional(),
  /** Whether the repository has automated tests; absent = unknown. */
  has_tests: z.boolean().optional(),
  /** Manifest / lock files present, e.g. ["package.json", "poetry.lock"]. */
  manifests: z.array(z.string().trim().min(1).max(128)).max(64).default([]),
});
export type RepoSignals = z.infer<typeof RepoSignals>;

// ---------------------------------------------------------------------------------------------
// The policy document

const rate = z.number().min(0).max(1);
/** A threshold rate, or null to switch the rule off. Rules fire at `observed >= threshold`. */
const threshold = (def: number | null) => rate.nullable().default(def);
const agentName = z
  .string()
  .trim()
  .toLowerCase()
  .min(1)
  .max(64)
  .regex(/^[a-z0-9_-]+$/, "lower-case letters, digits, '-' and '_'");
const nodeId = z
  .string()
  .trim()
  .min(1)
  .max(64)
  .regex(/^[a-z0-9][a-z0-9-]*$/, "lower-case letters, digits and '-'");
const term = z.string().trim().toLowerCase().min(1).max(64);

/** Agents of the built-in DAGs (SPEC §4.4): every policy must allow them. */
export const BUILTIN_AGENTS = ["scanner", "builder", "security", "planner"] as const;
export const DEFAULT_ALLOWED_AGENTS = [...BUILTIN_AGENTS, "verifier", "educator"];

/** Node ids of the adaptive base DAG plus its terminal `planner`: guards may not reuse them. */
export const RESERVED_NODE_IDS: ReadonlySet<string> = new Set([
  "scanner",
  "dependency-audit",
  "architecture-review",
  "test-baseline",
  "dynamic-probe",
  "security-review",
  "planner",
]);

/** All keys must hold (AND); a guard fires when any of its conditions holds (OR). */
export const GuardCondition = z
  .strictObject({
    /** intake `scale_expectation` is a high-scale value (SPEC §4.4 + the UI strings). */
    scale_high: z.boolean().optional(),
    /** intake `sensitive_data` names something other than "", none, not_sure. */
    sensitive_data: z.boolean().optional(),
    /** intake `deployment_target` contains one of these terms (case-insensitive). */
    deployment_targets: z.array(term).min(1).max(32).optional(),
    repo_sizes: z.array(z.enum(REPO_SIZES)).min(1).max(3).optional(),
    /** repo_signals.has_tests equals this (unknown never matches). */
    has_tests: z.boolean().optional(),
    languages_any: z.array(term).min(1).max(32).optional(),
    manifests_any: z.array(term).min(1).max(32).optional(),
  })
  .refine((c) => Object.values(c).some((v) => v !== undefined), "a condition needs at least one key");
export type GuardCondition = z.infer<typeof GuardCondition>;

export const GuardRule = z.strictObject({
  node_id: nodeId,
  title: z.string().trim().min(1).max(200),
  agent: agentName,
  gate: z.enum(GATE_TYPES).nullable().default(null),
  /** Nodes of the adaptive DAG (or earlier guards) this guard runs after. */
  depends_on: z.array(nodeId).min(1).max(16),
  /** The terminal `planner` (MERGE_GATE) node waits for this guard. */
  feeds_planner: z.boolean().default(true),
  when: z.array(GuardCondition).min(1).max(8),
});
export type GuardRule = z.infer<typeof GuardRule>;

export const DEFAULT_GUARDS: GuardRule[] = [
  {
    node_id: "scale-readiness-check",
    title: "Scale readiness check",
    agent: "builder",
    gate: "TEST_GATE",
    depends_on: ["dynamic-probe"],
    feeds_planner: true,
    when: [{ scale_high: true }, { repo_sizes: ["large"] }],
  },
  {
    node_id: "deployment-config-review",
    title: "Deployment and infrastructure configuration review",
    agent: "security",
    gate: "POLICY_GATE",
    depends_on: ["scanner"],
    feeds_planner: true,
    when: [
      {
        deployment_targets: [
          "kubernetes",
          "k8s",
          "aws",
          "gcp",
          "google cloud",
          "azure",
          "on-prem",
          "on_prem",
          "self-hosted",
          "self hosted",
        ],
      },
    ],
  },
  {
    node_id: "test-gap-review",
    title: "Test coverage gap review",
    agent: "builder",
    gate: "TEST_GATE",
    depends_on: ["scanner"],
    feeds_planner: true,
    when: [{ has_tests: false }],
  },
];

const RetryRule = z.strictObject({ min_failure_rate: rate, budget: z.int().min(0).max(10) });

export const PlannerPolicyDocument = z
  .strictObject({
    /** Plan builds that name no profile, scan_mode or dag with this policy (opt-in per tenant). */
    apply_by_default: z.boolean().default(false),
    /** Agents a plan (and a model proposal) may use; must include the built-in DAGs' agents. */
    allowed_agents: z.array(agentName).min(1).max(32).default(DEFAULT_ALLOWED_AGENTS),
    /**
     * Guards are added only while the DAG is below this; a model proposal may not exceed it. The SPEC base DAG is never
     * trimmed.
     */
    max_nodes: z.int().min(2).max(200).default(24),
    profile: z
      .strictObject({
        default: z.enum(["adaptive_parallel_v1", "static_v1"]).default("adaptive_parallel_v1"),
        /** A small repository with an empty intake and no guard gets the 4-node static_v1 DAG. */
        static_for_small_repos: z.boolean().default(true),
      })
      .prefault({}),
    repo_size: z
      .strictObject({
        small_max_files: z.int().min(0).default(300),
        large_min_files: z.int().min(1).default(5000),
        small_max_loc: z.int().min(0).default(30_000),
        large_min_loc: z.int().min(1).default(500_000),
      })
      .prefault({}),
    history: z
      .strictObject({
        /** Last N finished builds of the same repo_url in the tenant. */
        window: z.int().min(1).max(50).default(10),
        /** Fewer samples than this and a rate-based rule does not fire. */
        min_builds: z.int().min(1).max(50).default(3),
      })
      .prefault({}),
    retry: z
      .strictObject({
        default_budget: z.int().min(0).max(10).default(0),
        max_budget: z.int().min(0).max(10).default(3),
        /** First rule (highest min_failure_rate first) whose rate is reached gives the budget. */
        rules: z
          .array(RetryRule)
          .max(8)
          .default([
            { min_failure_rate: 0.5, budget: 2 },
            { min_failure_rate: 0.2, budget: 1 },
          ]),
      })
      .prefault({}),
    fallback: z
      .strictObject({
        /** Arm `fallback_scan_mode: deterministic` when a planned node failed this often. */
        arm_on_node_failure_rate: threshold(0.5),
        /** … or when this share of recent builds already fell back. */
        arm_on_fallback_rate: threshold(0.2),
        /** Start in deterministic mode when this share of recent builds fell back. */
        preselect_deterministic_on_fallback_rate: threshold(0.8),
      })
      .prefault({}),
    timeouts: z
      .strictObject({
        default_ms: z.int().min(1000).max(86_400_000).default(900_000),
        by_agent: z.record(agentName, z.int().min(1000).max(86_400_000)).default({
          scanner: 600_000,
          builder: 1_800_000,
          security: 900_000,
          planner: 600_000,
        }),
        /** With history: timeout = p95 of completed durations × this. */
        history_multiplier: z.number().min(1).max(20).default(3),
        /** Without history, large repositories get the agent default × this. */
        large_repo_multiplier: z.number().min(1).max(10).default(2),
        min_ms: z.int().min(1000).max(86_400_000).default(60_000),
        max_ms: z.int().min(1000).max(86_400_000).default(7_200_000),
      })
      .prefault({}),
    parallelism: z
      .strictObject({
        small: z.int().min(1).max(64).default(2),
        medium: z.int().min(1).max(64).default(4),
        large: z.int().min(1).max(64).default(8),
        /** Cap parallelism at `flaky_max` when this share of recent builds failed or aborted. */
        flaky_build_rate: threshold(0.5),
        flaky_max: z.int().min(1).max(64).default(1),
      })
      .prefault({}),
    guards: z.array(GuardRule).max(16).default(DEFAULT_GUARDS),
    model: z
      .strictObject({
        /** Ask the configured model (PLANNER_MODEL_URL) for a blueprint. No endpoint = never. */
        enabled: z.boolean().default(true),
        timeout_ms: z.int().min(100).max(60_000).default(8000),
        require_policy_gate: z.boolean().default(true),
        /** The proposal must contain every guard node the policy's own plan added. */
        require_guard_nodes: z.boolean().default(true),
        /** Defaults to the policy's max_nodes. */
        max_nodes: z.int().min(1).max(200).optional(),
      })
      .prefault({}),
  })
  .superRefine((doc, ctx) => {
    const issue = (path: PropertyKey[], message: string) => ctx.addIssue({ code: "custom", path, message });
    const allowed = new Set(doc.allowed_agents);
    for (const agent of BUILTIN_AGENTS) {
      if (!allowed.has(agent)) issue(["allowed_agents"], `must include the built-in agent '${agent}'`);
    }
    const seen = new Set<string>();
    doc.guards.forEach((g, i) => {
      if (!allowed.has(g.agent)) issue(["guards", i, "agent"], `agent '${g.agent}' is not in allowed_agents`);
      if (RESERVED_NODE_IDS.has(g.node_id))
        issue(["guards", i, "node_id"], `'${g.node_id}' is a node of the adaptive base DAG`);
      if (seen.has(g.node_id)) issue(["guards", i, "node_id"], `duplicate guard node_id '${g.node_id}'`);
      if (g.depends_on.includes("planner") || g.depends_on.includes(g.node_id)) {
        issue(["guards", i, "depends_on"], "a guard cannot depend on 'planner' or on itself");
      }
      seen.add(g.node_id);
    });
    doc.retry.rules.forEach((r, i) => {
      if (r.budget > doc.retry.max_budget) issue(["retry", "rules", i, "budget"], "exceeds retry.max_budget");
    });
    if (doc.retry.default_budget > doc.retry.max_budget) issue(["retry", "default_budget"], "exceeds retry.max_budget");
    const t = doc.timeouts;
    if (t.min_ms > t.max_ms) issue(["timeouts", "min_ms"], "must not exceed timeouts.max_ms");
    if (doc.repo_size.small_max_files >= doc.repo_size.large_min_files)
      issue(["repo_size", "small_max_files"], "must be below large_min_files");
    if (doc.repo_size.small_max_loc >= doc.repo_size.large_min_loc)
      issue(["repo_size", "small_max_loc"], "must be below large_min_loc");
    if (doc.model.max_nodes !== undefined && doc.model.max_nodes > doc.max_nodes)
      issue(["model", "max_nodes"], "exceeds max_nodes");
  });
export type PlannerPolicyDocument = z.infer<typeof PlannerPolicyDocument>;

/** The built-in policy, used when a tenant has no active stored version (version 0). */
export function builtinPolicyDocument(): PlannerPolicyDocument {
  return PlannerPolicyDocument.parse({});
}

// ---------------------------------------------------------------------------------------------
// Routes

export const PolicyCreateRequest = z.object({
  description: z.string().trim().max(1000).default(""),
  /** Omitted keys take the built-in defaults; the stored document is the normalised result. */
  document: PlannerPolicyDocument,
  /** Activate the new version in the same write. */
  activate: z.boolean().default(false),
});
export type PolicyCreateRequest = z.infer<typeof PolicyCreateRequest>;

/**
 * A policy version in a path: canonical decimal only (`1`, `42`), so `01`, `0x1`, `1e0`, `+1` or
 * ` 1` are 422 rather than other spellings of the same resource (issue 17 item 4).
 */
export const PolicyVersionParam = z.object({
  version: z
    .string()
    .regex(/^[1-9][0-9]{0,6}$/, "version must be a positive integer in canonical decimal form")
    .transform((v) => Number(v))
    .pipe(z.number().int().min(1).max(1_000_000)),
});

export const PolicyListQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(20),
  /** The last version of the previous page; items have a lower version. */
  cursor: z.coerce.number().int().min(1).optional(),
});
export type PolicyListQuery = z.infer<typeof PolicyListQuery>;

// ---- responses -----------------------------------------------------------------------------------

export const PlannerPolicy = z.object({
  version: int.describe("0 = the built-in policy."),
  source: z.enum(["stored", "builtin"]),
  description: z.string(),
  document: PlannerPolicyDocument,
  active: z.boolean(),
  activated_at: nts,
  activated_by: z.string().nullable(),
  created_by: z.string().nullable(),
  created_at: nts,
});
export const PlannerPolicyPage = z.object({ items: z.array(PlannerPolicy), next_cursor: seqCursor });

registerResponses({ PlannerPolicy, PlannerPolicyPage });
