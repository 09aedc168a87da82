/**
 * Build use cases behind the routes: planning, creation through the build's runner, reads from
 * D1 mapped to the SPEC §4.2 shapes, ownership (404 before 403), keyset pages, event history and
 * the live stream. Services throw AppError; handlers stay thin.
 */
import type { Config, Db } from "../env";
import { AppError } from "../errors";
import { decodeCursor, page } from "../lib/cursor";
import { newId } from "../lib/ids";
import { type Principal, isTenantAdmin } from "../security/principal";
import { issueStreamToken } from "../security/stream-token";
import { buildRunner, unwrap } from "./build-runner.client";
import * as repo from "./builds.repo";
import type { BuildCreateRequest, ListBuildsQuery } from "./builds.schemas";
import type { BuildStatus, PlannedDag } from "./builds.types";
import { planDag } from "./planner";
import type { TaskRunState } from "./run-machine";
import { planBuild } from "../planning/planning.service";

export interface Deps {
  env: Env;
  db: Db;
  config: Config;
  principal: Principal;
}

/**
 * SPEC §4.4 planning only (synchronous, no I/O): a validity pre-check for callers that plan many
 * builds at once. The preview-dag route uses `previewPlan`.
 */
export function previewDag(body: BuildCreateRequest) {
  return previewResponse(planDag({ objective: body.objective, dag: body.dag, metadata: body.metadata }));
}

/** The response of preview-dag: SPEC §4.4 planning, or the planner policy layer when selected. */
export async function previewPlan(deps: Deps, body: BuildCreateRequest) {
  return previewResponse(await planBuild(deps, body));
}

function previewResponse(plan: PlannedDag) {
  const profile = plan.metadata.autonomous_planner_profile;
  return {
    scan_mode: plan.scan_mode,
    planner_profile: typeof profile === "string" ? profile : null,
    planner_trace: plan.planner_trace ?? {},
    dag: plan.dag,
    dag_levels: plan.dag_levels,
    metadata: plan.metadata,
  };
}

export async function createBuild(deps: Deps, body: BuildCreateRequest) {
  const plan = await planBuild(deps, body);
  const buildId = newId();
  unwrap(
    await buildRunner(deps.env, buildId).create({
      build_id: buildId,
      tenant_id: deps.principal.tenantId,
      created_by: deps.principal.sub,
      repo_url: body.repo_url,
      objective: body.objective,
      scan_mode: plan.scan_mode,
      metadata: plan.metadata,
      dag: plan.dag,
    }),
  );
  return getBuild(deps, buildId);
}

/**
 * Loads a build row the caller may see (SPEC §5: 404 before 403). Visible = created by the
 * caller, or the caller is an admin (`*`) of the build's tenant. Anything else that exists is
 * 403 `build_access_denied`, as the reference does.
 */
export async function authorizeBuild(deps: Pick<Deps, "db" | "principal">, buildId: string): Promise<repo.BuildRow> {
  const row = await repo.getBuildRow(deps.db, buildId);
  assertVisible(deps.principal, row && { createdBy: row.createdBy, tenantId: row.tenantId });
  return row as repo.BuildRow;
}

function assertVisible(p: Principal, build: { createdBy: string; tenantId: string } | null): void {
  if (!build) throw new AppError("build_not_found", "Build not found.");
  const visible = build.createdBy === p.sub || (isTenantAdmin(p) && build.tenantId === p.tenantId);
  if (!visible) {
    throw new AppError("build_access_denied", "You do not have access to this build.");
  }
}

/**
 * The SPEC §4.2 BuildRun, from the build's runner (its cached view, exact since it is the only
 * writer; DESIGN notes in docs/decisions.md). A build the runner does not know — rows written to
 * D1 without it, as the benchmark's seed — is read from D1. One statement reads the row and its
 * collections, already shaped by SQL (repo.getBuildView); visibility is checked before anything
 * is returned.
 */
export async function getBuild(deps: Pick<Deps, "env" | "db" | "principal">, buildId: string) {
  const fromRunner = await buildRunner(deps.env, buildId).view();
  const v = fromRunner.ok ? fromRunner.value : await repo.getBuildView(deps.db, buildId);
  assertVisible(deps.principal, v && { createdBy: v.created_by, tenantId: v.tenant_id });
  const row = v as repo.BuildViewRow;
  return {
    build_id: row.build_id,
    created_by: row.created_by,
    repo_url: row.repo_url,
    objective: row.objective,
    status: row.status as BuildStatus,
    created_at: row.created_at,
    updated_at: row.updated_at,
    dag: JSON.parse(row.dag) as BuildNodeDto[],
    task_runs: JSON.parse(row.task_runs) as TaskRunDto[],
    replan_history: JSON.parse(row.replan_history) as ReplanDto[],
    debt_items: JSON.parse(row.debt_items) as DebtDto[],
    policy_violations: JSON.parse(row.policy_violations) as ViolationDto[],
    state_transitions: JSON.parse(row.state_transitions) as TransitionDto[],
    gate_history: JSON.parse(row.gate_history) as GateDto[],
    metadata: JSON.parse(row.metadata) as Record<string, unknown>,
    progress: { nodes_total: row.node_total, nodes_done: row.node_done },
  };
}

type BuildNodeDto = { node_id: string; title: string; agent: string; depends_on: string[]; gate: string | null; status: string };
type TaskRunDto = ReturnType<typeof taskRunDto>;
type ReplanDto = { decision_id: string; action: string; reason: string; created_at: string; replacement_nodes: unknown[] };
type DebtDto = { debt_id: string; node_id: string; summary: string; severity: string; created_at: string };
type ViolationDto = { violation_id: string; code: string; message: string; source: string; blocking: boolean; created_at: string };
type TransitionDto = { transition_id: string; from_status: string; to_status: string; reason: string; source: string; created_at: string };
type GateDto = { decision_id: string; build_id: string; gate: string; status: string; reason: string; node_id: string | null; created_at: string };

/** SPEC TaskRun from a D1 row or from the runner's state. */
export const taskRunDto = (r: TaskRunState | { taskRunId: string; nodeId: string; attempt: number; status: string; startedAt: string; finishedAt: string | null; error: string | null }) =>
  "task_run_id" in r
    ? { task_run_id: r.task_run_id, node_id: r.node_id, attempt: r.attempt, status: r.status, started_at: r.started_at, finished_at: r.finished_at, error: r.error }
    : { task_run_id: r.taskRunId, node_id: r.nodeId, attempt: r.attempt, status: r.status, started_at: r.startedAt, finished_at: r.finishedAt, error: r.error };

/** The caller's builds (admins: the tenant's), newest first, keyset-paged. */
export async function listBuilds(deps: Pick<Deps, "db" | "principal">, q: ListBuildsQuery) {
  const after = q.cursor ? decodeCursor(q.cursor, 2) : undefined;
  const rows = await repo.listBuilds(deps.db, {
    tenantId: deps.principal.tenantId,
    createdBy: isTenantAdmin(deps.principal) ? null : deps.principal.sub,
    status: q.status,
    limit: q.limit + 1,
    after: after ? { createdAt: after[0] as string, buildId: after[1] as string } : undefined,
  });
  return page(
    rows,
    q.limit,
    (b) => ({
      build_id: b.buildId, repo_url: b.repoUrl, objective: b.objective, status: b.status, created_at: b.createdAt, updated_at: b.updatedAt,
      task_total: b.taskTotal, task_completed: b.taskCompleted, task_failed: b.taskFailed,
      node_total: b.nodeTotal, node_done: b.nodeDone,
    }),
    (b) => [b.createdAt, b.buildId],
  );
}

/** Events with seq > cursor, ascending. `next_cursor` is the last seq when more may follow. */
export async function eventsHistory(deps: Pick<Deps, "db" | "principal">, buildId: string, cursor: number, limit: number) {
  await authorizeBuild(deps, buildId);
  const rows = await repo.listEvents(deps.db, buildId, cursor, limit);
  const items = rows.map((e) => ({ seq: e.seq, event_type: e.eventType, build_id: e.buildId, timestamp: e.createdAt, payload: e.payload }));
  const last = items[items.length - 1];
  return { items, next_cursor: items.length === limit && last ? last.seq : null };
}

export async function openEventStream(deps: Deps, buildId: string, after: number): Promise<ReadableStream<Uint8Array>> {
  await authorizeBuild(deps, buildId);
  return buildRunner(deps.env, buildId).openStream(after);
}

export async function createStreamToken(deps: Deps, buildId: string) {
  await authorizeBuild(deps, buildId);
  return issueStreamToken(deps.config, deps.principal, buildId);
}
