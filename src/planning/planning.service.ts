/**
 * Planner policy use cases: planning a build through the policy layer (called by the build
 * service for create and preview-dag) and the versioned, tenant-scoped policy store behind
 * /v1/planner/policies. Gathers the inputs (active policy, history, the model's proposal) and
 * hands them to the pure engine. Services throw AppError; handlers stay thin.
 */
import { actorOf } from "../audit/audit";
import { DETERMINISTIC_SCAN_MODES, type ClientDagNode, normaliseScanMode, planDag } from "./planner";
import type { PlannedDag } from "./dag";
import type { Config, Db } from "../kernel/env";
import { AppError } from "../kernel/errors";
import { isoTimestamp } from "../lib/ids";
import type { Principal } from "../kernel/principal";
import { summariseHistory, type HistorySummary } from "./history";
import {
  type ModelOutcome,
  POLICY_PROFILE_ALIASES,
  type PolicyPlanInput,
  type PolicyRef,
  basePlan,
  planWithPolicy,
} from "./policy-engine";
import { withTimeout } from "../lib/timeout";
import { RATE_LIMIT_PERIOD_MS } from "../security/rate-limit";
import { proposeBlueprint } from "./planning.model";
import * as repo from "./planning.repo";
import {
  PlannerPolicyDocument,
  type PolicyCreateRequest,
  type PolicyListQuery,
  type RepoSignals,
  builtinPolicyDocument,
} from "./planning.schemas";
import { lowerTrim } from "../lib/values";

export interface PlanningDeps {
  db: Db;
  config: Config;
  principal: Principal;
  /** The request's id, for the audit log (src/audit). */
  requestId?: string;
}

/** Planning a build also needs the bindings (the model-call budget's limiter). */
export type PlanDeps = PlanningDeps & { env: Env };

/** RateLimiter bucket of a tenant's model calls (a DO per tenant, see rate-limiter.do.ts). */
const MODEL_BUDGET_BUCKET = "planner-model";
const MODEL_BUDGET_TIMEOUT_MS = 1000;

/**
 * Takes one model call from the tenant's per-minute budget (PLANNER_MODEL_CALLS_PER_MINUTE; issue
 * 17 item 11). Over budget, or the budget cannot be checked → an `unavailable` outcome, so the
 * policy's own plan is used: a model call is never made unbudgeted.
 */
async function modelBudget(deps: PlanDeps): Promise<ModelOutcome | null> {
  const limit = deps.config.PLANNER_MODEL_CALLS_PER_MINUTE;
  if (limit === 0) return null;
  try {
    const ns = deps.env.RATE_LIMITER;
    const stub = ns.get(ns.idFromName(`planner-model:${deps.principal.tenantId}`));
    const hit = await withTimeout(
      () => stub.hit({ bucket: MODEL_BUDGET_BUCKET, limit, period_ms: RATE_LIMIT_PERIOD_MS, want: 1 }),
      MODEL_BUDGET_TIMEOUT_MS,
      "planner model budget",
    );
    if (hit.allowed) return null;
    return {
      status: "unavailable",
      reason: "model_budget_exhausted",
      detail:
        `the tenant's ${limit} model calls per minute are used up (retry in ` +
        `${Math.ceil(hit.retry_after_ms / 1000)} s)`,
    };
  } catch {
    return {
      status: "unavailable",
      reason: "model_budget_unavailable",
      detail: "the tenant's model-call budget could not be checked",
    };
  }
}

/** What planning reads from a create / preview request. */
export interface PlanRequest {
  repo_url: string;
  objective: string;
  dag: readonly ClientDagNode[] | null | undefined;
  metadata: Record<string, unknown>;
  repo_signals?: RepoSignals | undefined;
}

/**
 * Which planner a request gets. SPEC §4.4 order is kept: a client `dag` or a deterministic
 * scan_mode never reach the policy. `policy`/`policy_v1` asks for it explicitly; a request naming
 * no profile and no scan_mode gets it only when the tenant's active policy has apply_by_default.
 */
function policyCandidate(req: PlanRequest): "explicit" | "default" | null {
  if (req.dag !== null && req.dag !== undefined) return null;
  if (DETERMINISTIC_SCAN_MODES.includes(normaliseScanMode(req.metadata, "autonomous"))) return null;
  const profile = lowerTrim(req.metadata.autonomous_planner_profile);
  if (profile !== null) return POLICY_PROFILE_ALIASES.has(profile) ? "explicit" : null;
  return lowerTrim(req.metadata.scan_mode) === null ? "default" : null;
}

/** The tenant's active policy, or the built-in default (version 0) when none is stored. */
export async function activePolicyRef(db: Db, tenantId: string): Promise<PolicyRef> {
  const active = await repo.getActive(db, tenantId);
  if (active === null) return { version: 0, source: "builtin", document: builtinPolicyDocument() };
  return { version: active.policy.version, source: "stored", document: storedDocument(active.policy) };
}

/** A stored document read back from D1 is parsed again (new fields get their defaults). */
function storedDocument(row: repo.PolicyRow): PlannerPolicyDocument {
  const parsed = PlannerPolicyDocument.safeParse(row.document);
  if (!parsed.success) {
    throw new AppError("internal", undefined, {
      cause: new Error(`stored planner policy v${row.version} no longer parses: ${parsed.error.message}`),
    });
  }
  return parsed.data;
}

/** History of the repository: its last `window` finished builds in the tenant, summarised. */
export async function loadHistory(db: Db, tenantId: string, repoUrl: string, window: number): Promise<HistorySummary> {
  const builds = await repo.recentFinishedBuilds(db, tenantId, repoUrl, window);
  const ids = builds.map((b) => b.buildId);
  const [nodes, runs] = await Promise.all([repo.nodesOf(db, ids), repo.runsOf(db, ids)]);
  return summariseHistory(builds, nodes, runs);
}

async function askModel(deps: PlanDeps, input: PolicyPlanInput, repoUrl: string): Promise<ModelOutcome> {
  const config = deps.config;
  const doc = input.policy.document;
  if (config.PLANNER_MODEL_URL === undefined || config.PLANNER_MODEL_NAME === undefined)
    return { status: "not_configured" };
  if (!doc.model.enabled) return { status: "disabled" };
  const base = basePlan(input);
  if (base.scan_mode === "deterministic") return { status: "not_configured" }; // the engine records "skipped"
  const overBudget = await modelBudget(deps);
  if (overBudget !== null) return overBudget;
  return proposeBlueprint(
    {
      url: config.PLANNER_MODEL_URL,
      model: config.PLANNER_MODEL_NAME,
      apiKey: config.PLANNER_MODEL_API_KEY,
      timeoutMs: Math.min(doc.model.timeout_ms, config.PLANNER_MODEL_TIMEOUT_MS),
    },
    {
      objective: input.objective,
      repoUrl,
      intake: input.metadata.project_intake,
      repoSignals: input.repoSignals,
      history: input.history,
      base,
      policy: doc,
    },
  );
}

/**
 * Plans a build (create and preview-dag): SPEC §4.4 `planDag`, or the planner policy layer when
 * the request selects it (see `policyCandidate`). Never mutates the request.
 * @throws AppError("invalid_dag") from SPEC planning.
 */
export async function planBuild(deps: PlanDeps, req: PlanRequest): Promise<PlannedDag> {
  const candidate = policyCandidate(req);
  const spec = () => planDag({ objective: req.objective, dag: req.dag, metadata: req.metadata });
  if (candidate === null) return spec();
  const tenantId = deps.principal.tenantId;
  const policy = await activePolicyRef(deps.db, tenantId);
  if (candidate === "default" && !policy.document.apply_by_default) return spec();

  const history = await loadHistory(deps.db, tenantId, req.repo_url, policy.document.history.window);
  const input: PolicyPlanInput = {
    objective: req.objective,
    metadata: req.metadata,
    repoSignals: req.repo_signals ?? null,
    history,
    policy,
  };
  const model = await askModel(deps, input, req.repo_url);
  return planWithPolicy({ ...input, model });
}

// ---------------------------------------------------------------------------------------------
// The policy store

function policyDto(row: repo.PolicyRow, active: repo.ActiveRow | null) {
  const isActive = active !== null && active.version === row.version;
  return {
    version: row.version,
    source: "stored" as const,
    description: row.description,
    document: storedDocument(row),
    active: isActive,
    activated_at: isActive ? active.activatedAt : null,
    activated_by: isActive ? active.activatedBy : null,
    created_by: row.createdBy,
    created_at: row.createdAt,
  };
}

function builtinDto() {
  return {
    version: 0,
    source: "builtin" as const,
    description: "Built-in default planner policy (no stored version is active).",
    document: builtinPolicyDocument(),
    active: true,
    activated_at: null,
    activated_by: null,
    created_by: null,
    created_at: null,
  };
}

export async function createPolicy(deps: PlanningDeps, body: PolicyCreateRequest) {
  const tenantId = deps.principal.tenantId;
  const now = isoTimestamp(Date.now());
  const row = {
    tenantId,
    description: body.description,
    document: body.document as Record<string, unknown>,
    createdBy: deps.principal.sub,
    createdAt: now,
  };
  const version = await repo.insertPolicy(deps.db, row, body.activate, actorOf(deps));
  const active = await repo.getActiveVersion(deps.db, tenantId);
  return policyDto({ ...row, version }, active);
}

export async function getPolicy(deps: PlanningDeps, version: number) {
  const row = await repo.getPolicy(deps.db, deps.principal.tenantId, version);
  if (row === null) throw new AppError("planner_policy_not_found", `Planner policy version ${version} not found.`);
  return policyDto(row, await repo.getActiveVersion(deps.db, deps.principal.tenantId));
}

/** The policy new builds get: the active stored version, or the built-in default. */
export async function getActivePolicy(deps: PlanningDeps) {
  const active = await repo.getActive(deps.db, deps.principal.tenantId);
  return active === null ? builtinDto() : policyDto(active.policy, active.active);
}

export async function listPolicies(deps: PlanningDeps, q: PolicyListQuery) {
  const tenantId = deps.principal.tenantId;
  const [rows, active] = await Promise.all([
    repo.listPolicies(deps.db, tenantId, q.limit + 1, q.cursor),
    repo.getActiveVersion(deps.db, tenantId),
  ]);
  const page = rows.slice(0, q.limit);
  const last = page[page.length - 1];
  return {
    items: page.map((r) => policyDto(r, active)),
    next_cursor: rows.length > q.limit && last !== undefined ? last.version : null,
  };
}

/**
 * Makes `version` the tenant's active policy. Idempotent. Plans are fixed at creation (stored in
 * each build's metadata), so running builds keep the plan they started with.
 */
export async function activatePolicy(deps: PlanningDeps, version: number) {
  const tenantId = deps.principal.tenantId;
  const row = await repo.getPolicy(deps.db, tenantId, version);
  if (row === null) throw new AppError("planner_policy_not_found", `Planner policy version ${version} not found.`);
  const current = await repo.getActiveVersion(deps.db, tenantId);
  if (current !== null && current.version === version) return policyDto(row, current);
  const active: repo.ActiveRow = {
    tenantId,
    version,
    activatedBy: deps.principal.sub,
    activatedAt: isoTimestamp(Date.now()),
  };
  await repo.setActive(deps.db, active, {
    actor: actorOf(deps),
    action: "policy.activate",
    target_type: "planner_policy",
    target_id: String(version),
    detail: { previous_version: current?.version ?? null },
  });
  return policyDto(row, active);
}
