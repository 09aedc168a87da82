/**
 * Build use cases behind the routes: planning, creation through the build's runner, reads from
 * D1 mapped to the SPEC §4.2 shapes, ownership (404 before 403), keyset pages, event history and
 * the live stream. Services throw AppError; handlers stay thin.
 */
import { BuildFindingThresholds } from "../findings/gate";
import { resolveCreateHooks } from "./build-hooks";
import { parseFindingsSummary } from "../findings/baseline";
import type { Config } from "../kernel/env";
import type { Deps } from "../kernel/request-deps";
import { AppError } from "../kernel/errors";
import { decodeCursor, page } from "../kernel/cursor";
import { newId } from "../lib/ids";
import { type Principal, hasCapability, isTenantAdmin } from "../kernel/principal";
import { issueStreamToken } from "../security/stream-token";
import { type RpcResult, buildRunner, unwrap } from "./build-runner.client";
import * as repo from "./builds.repo";
import type { BuildCreateRequest, ListBuildsQuery } from "./builds.schemas";
import { BUILD_EVENT_TYPES, type PlannedDag } from "./builds.types";
import { commandInMetadata } from "./execution-policy";
import { planDag } from "../planning/planner";
import { planBuild } from "../planning/planning.service";
import { type BuildRunDto, type BuildView, taskRunDto, viewFromRow } from "./build-view";
import { type GitTrigger, triggerFrom } from "./build-trigger";

export type { Deps };

/**
 * SPEC §4.4 planning only (synchronous, no I/O): a validity pre-check for callers that plan many
 * builds at once. The preview-dag route uses `previewPlan`.
 */
export function previewDag(body: BuildCreateRequest) {
  return previewResponse(planDag({ objective: body.objective, dag: body.dag, metadata: body.metadata }));
}

/** The response of preview-dag: SPEC §4.4 planning, or the planner policy layer when selected. */
export async function previewPlan(deps: Deps, body: BuildCreateRequest) {
  return previewResponse(await planBuild(deps, withRunnerKind(deps.config, body, deps.principal)));
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

/**
 * The creation request with its runner resolved (issue 15 items 1 and 3): metadata that names a
 * command is refused (422 `build_command_refused`); `runner_kind` is `http` whenever a runner is
 * configured (RUNNER_URL and RUNNER_SHARED_SECRETS) unless the build asks for `simulated`, and
 * `simulated` otherwise; asking for `http` without a runner is 422 `runner_not_configured`.
 */
export function withRunnerKind(config: Config, body: BuildCreateRequest, principal?: Principal): BuildCreateRequest {
  const at = commandInMetadata(body.metadata);
  if (at) {
    throw new AppError(
      "build_command_refused",
      `Builds never carry a command to run (${at}); the runner runs only its own analysers and the repository's tests.`,
    );
  }
  const configured = config.RUNNER_URL !== undefined && (config.RUNNER_SHARED_SECRETS?.length ?? 0) > 0;
  const asked = body.metadata.runner_kind;
  let kind: "http" | "simulated";
  if (asked === undefined || asked === null) kind = configured ? "http" : "simulated";
  else if (typeof asked === "string" && ["http", "simulated"].includes(asked.trim().toLowerCase()))
    kind = asked.trim().toLowerCase() as "http" | "simulated";
  else {
    throw new AppError("validation_failed", 'metadata.runner_kind must be "http" or "simulated".', {
      errors: [{ path: "metadata.runner_kind", message: 'expected "http" or "simulated"' }],
    });
  }
  if (kind === "http" && !configured)
    throw new AppError(
      "runner_not_configured",
      'This deployment has no runner (RUNNER_URL); omit runner_kind or ask for "simulated".',
    );
  // Naming tenant secrets for a runner hands their plaintext to it: that is reading them (issue 15 item 5).
  const ns = body.metadata.node_secrets;
  const namesSecrets =
    ns !== null &&
    typeof ns === "object" &&
    Object.values(ns as Record<string, unknown>).some((v) => Array.isArray(v) && v.length > 0);
  if (
    namesSecrets &&
    principal &&
    config.ENFORCE_CAPABILITY_AUTH &&
    !hasCapability(principal, "program.secrets.read")
  ) {
    throw new AppError("insufficient_capability", "metadata.node_secrets needs the program.secrets.read capability.");
  }
  return { ...body, metadata: { ...body.metadata, runner_kind: kind } };
}

/** `metadata.finding_thresholds` must be valid thresholds (src/findings/gate.ts) or absent: 422 otherwise. */
function checkFindingThresholds(metadata: Record<string, unknown>): void {
  if (metadata.finding_thresholds === undefined) return;
  const parsed = BuildFindingThresholds.safeParse(metadata.finding_thresholds);
  if (parsed.success) return;
  throw new AppError("validation_failed", "metadata.finding_thresholds is not valid.", {
    errors: parsed.error.issues.map((i) => ({
      path: ["metadata", "finding_thresholds", ...i.path].join("."),
      message: i.message,
    })),
  });
}

/**
 * Creates a build. `opts.buildId` fixes the id (campaign executions and the control plane's own
 * triggers derive it, so a retried start maps to the same build: a second create of an id is a
 * no-op); `opts.trigger` is recorded as `metadata.trigger` (src/github). A client may not set it.
 */
export async function createBuild(
  deps: Deps,
  request: BuildCreateRequest,
  opts: { buildId?: string; trigger?: GitTrigger } = {},
) {
  checkFindingThresholds(request.metadata);
  if (request.metadata.trigger !== undefined && !opts.trigger) {
    throw new AppError("validation_failed", "metadata.trigger is recorded by the control plane.", {
      errors: [{ path: "metadata.trigger", message: "must not be set: it is recorded by the control plane" }],
    });
  }
  const metadata = await resolveCreateHooks(deps, request.metadata);
  const input = { ...request, metadata: opts.trigger ? { ...metadata, trigger: opts.trigger } : metadata };
  const body = withRunnerKind(deps.config, input, deps.principal);
  const plan = await planBuild(deps, body);
  const buildId = opts.buildId ?? newId();
  const created = unwrap(
    (await buildRunner(deps.env, buildId).create({
      build_id: buildId,
      tenant_id: deps.principal.tenantId,
      created_by: deps.principal.sub,
      repo_url: body.repo_url,
      objective: body.objective,
      scan_mode: plan.scan_mode,
      metadata: plan.metadata,
      dag: plan.dag,
    })) as RpcResult<{ build_id: string; view: BuildView | null }>,
  );
  if (!created.view) return getBuild(deps, buildId);
  assertVisible(deps.principal, { createdBy: created.view.run.created_by, tenantId: created.view.tenant_id });
  return created.view.run;
}

/**
 * Loads a build row the caller may see (SPEC §5: 404 before 403). Visible = the build is in the
 * caller's tenant AND (created by the caller OR the caller is an admin (`*`) of that tenant). A
 * build of another tenant is 404 `build_not_found` (it does not exist for the caller, even with the
 * creator's `sub`; issue 17 item 2); one of the same tenant created by someone else is 403
 * `build_access_denied`, as the reference does.
 */
export async function authorizeBuild(deps: Pick<Deps, "db" | "principal">, buildId: string): Promise<repo.BuildRow> {
  const row = await repo.getBuildRow(deps.db, buildId);
  assertVisible(deps.principal, row && { createdBy: row.createdBy, tenantId: row.tenantId });
  return row as repo.BuildRow;
}

function assertVisible(p: Principal, build: { createdBy: string; tenantId: string } | null): void {
  if (!build || build.tenantId !== p.tenantId) throw new AppError("build_not_found", "Build not found.");
  const visible = build.createdBy === p.sub || isTenantAdmin(p);
  if (!visible) {
    throw new AppError("build_access_denied", "You do not have access to this build.");
  }
}

/**
 * The SPEC §4.2 BuildRun, from the build's runner (its view of its last commit, exact since it is
 * the only writer; docs/DECISIONS.md). A build the runner does not know — rows written to D1
 * without it, as the benchmark's seed — is read from D1 in one statement. Visibility is checked
 * before anything is returned.
 */
export async function getBuild(deps: Pick<Deps, "env" | "db" | "principal">, buildId: string): Promise<BuildRunDto> {
  return (await visibleView(deps, buildId)).run;
}

/** The build's view as getBuild reads it, once the principal may see it (404/403 otherwise). */
async function visibleView(deps: Pick<Deps, "env" | "db" | "principal">, buildId: string): Promise<BuildView> {
  const fromRunner = (await buildRunner(deps.env, buildId).view()) as RpcResult<BuildView>;
  let view: BuildView | null = fromRunner.ok ? fromRunner.value : null;
  if (!view) {
    const row = await repo.getBuildView(deps.db, buildId);
    view = row && viewFromRow(row);
  }
  assertVisible(deps.principal, view && { createdBy: view.run.created_by, tenantId: view.tenant_id });
  return view as BuildView;
}

export { taskRunDto };

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
      build_id: b.build_id,
      repo_url: b.repo_url,
      objective: b.objective,
      status: b.status,
      created_at: b.created_at,
      updated_at: b.updated_at,
      task_total: b.task_total,
      task_completed: b.task_completed,
      task_failed: b.task_failed,
      node_total: b.node_total,
      node_done: b.node_done,
      findings_summary: b.findings_summary === null ? null : parseFindingsSummary(JSON.parse(b.findings_summary)),
      trigger: triggerFrom(b.trigger === null ? undefined : JSON.parse(b.trigger)),
    }),
    (b) => [b.created_at, b.build_id],
  );
}

/** Events with seq > cursor, ascending. `next_cursor` is the last seq when more may follow. */
export async function eventsHistory(
  deps: Pick<Deps, "db" | "principal">,
  buildId: string,
  cursor: number,
  limit: number,
) {
  await authorizeBuild(deps, buildId);
  const items = await repo.listEvents(deps.db, buildId, cursor, limit);
  const last = items[items.length - 1];
  return { items, next_cursor: items.length === limit && last ? last.seq : null };
}

/**
 * The build's live event stream. The runner is asked for the stream and for the view that
 * authorizes it at once (one round trip instead of a D1 read, then a second): a stream the
 * principal may not see is cancelled unread.
 */
export async function openEventStream(deps: Deps, buildId: string, after: number): Promise<ReadableStream<Uint8Array>> {
  const opened = buildRunner(deps.env, buildId).openStream(after);
  opened.catch(() => {}); // awaited below, or cancelled: never an unhandled rejection
  try {
    await visibleView(deps, buildId);
  } catch (err) {
    void opened.then((stream) => stream.cancel()).catch(() => {});
    throw err;
  }
  return opened;
}

export async function createStreamToken(deps: Deps, buildId: string) {
  await authorizeBuild(deps, buildId);
  return { ...(await issueStreamToken(deps.config, deps.principal, buildId)), event_types: [...BUILD_EVENT_TYPES] };
}
