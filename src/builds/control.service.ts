/**
 * Build control use cases (SPEC §4.10, §5.1 B5–B20): every mutation is one control action on the
 * build's runner; every read is a D1 query mapped to the SPEC shapes. Other domains use
 * `recordPolicyViolation` and `createCheckpoint` from here; the runtime reads live in
 * runtime.service.ts, findings and the report in build-report.service.ts.
 */
import { actorOf } from "../audit/audit";
import { AppError } from "../kernel/errors";
import type { ControlAction } from "./build-runner.client";
import { buildRunner, unwrap } from "./build-runner.client";
import * as repo from "./builds.repo";
import { type Deps, authorizeBuild, getBuild, taskRunDto } from "./builds.service";
import type { ReplanSuggestion } from "./control-actions";
import type { CheckpointRow, DebtRow, GateRow, ReplanRow, TaskRunState, ViolationRow } from "./run-machine";

type Reader = Pick<Deps, "db" | "principal">;

/** Authorises, then applies one control action on the build's runner; returns what it produced. */
export async function act<T>(deps: Deps, buildId: string, action: ControlAction): Promise<T> {
  await authorizeBuild(deps, buildId);
  // A read (`suggest`) carries no actor: only changes are audited.
  const actor = action.type === "suggest" ? undefined : actorOf(deps);
  const res = unwrap(await buildRunner(deps.env, buildId).control(action, actor)) as { value: T };
  return res.value;
}

const gateDto = (buildId: string, g: GateRow) => ({
  decision_id: g.decision_id,
  build_id: buildId,
  gate: g.gate,
  status: g.status,
  reason: g.reason,
  node_id: g.node_id,
  created_at: g.created_at,
});
const replanDto = (r: ReplanRow) => ({
  decision_id: r.decision_id,
  action: r.action,
  reason: r.reason,
  created_at: r.created_at,
  replacement_nodes: r.replacement_nodes,
});
const debtDto = (d: DebtRow) => ({
  debt_id: d.debt_id,
  node_id: d.node_id,
  summary: d.summary,
  severity: d.severity,
  created_at: d.created_at,
});
const violationDto = (v: ViolationRow) => ({
  violation_id: v.violation_id,
  code: v.code,
  message: v.message,
  source: v.source,
  blocking: v.blocking,
  created_at: v.created_at,
});
const checkpointDto = (buildId: string, c: CheckpointRow) => ({
  checkpoint_id: c.checkpoint_id,
  build_id: buildId,
  status: c.status,
  reason: c.reason,
  event_cursor: c.event_cursor,
  created_at: c.created_at,
});

/** A newest-first page: `next_cursor` is the event seq to pass as `cursor` for older rows. */
/** A page of rows keyed by their event seq. */
export function page<R extends { eventSeq: number }, D>(rows: R[], limit: number, map: (r: R) => D) {
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return { items: items.map(map), next_cursor: rows.length > limit && last ? last.eventSeq : null };
}

// ---- mutations ---------------------------------------------------------------------------------

export async function abortBuild(deps: Deps, buildId: string, reason: string | null | undefined) {
  await act(deps, buildId, { type: "abort", reason });
  return getBuild(deps, buildId);
}

export async function resumeBuild(deps: Deps, buildId: string, reason: string | null | undefined) {
  await act(deps, buildId, { type: "resume", reason });
  return getBuild(deps, buildId);
}

export async function createCheckpoint(deps: Deps, buildId: string, input: { reason: string }) {
  return checkpointDto(buildId, await act<CheckpointRow>(deps, buildId, { type: "checkpoint", reason: input.reason }));
}

export async function recordDebt(
  deps: Deps,
  buildId: string,
  input: { node_id: string; summary: string; severity: string },
) {
  return debtDto(await act<DebtRow>(deps, buildId, { type: "debt", ...input }));
}

/** Records a policy violation through the build's runner; a blocking one fails a running build. */
export async function recordPolicyViolation(
  deps: Deps,
  buildId: string,
  input: { code: string; message: string; source: string; blocking: boolean },
) {
  return violationDto(await act<ViolationRow>(deps, buildId, { type: "violation", ...input }));
}

export async function decideGate(
  deps: Deps,
  buildId: string,
  gate: GateRow["gate"],
  input: { status: GateRow["status"]; reason: string; node_id: string | null },
) {
  return gateDto(buildId, await act<GateRow>(deps, buildId, { type: "gate", gate, ...input }));
}

export async function replanBuild(
  deps: Deps,
  buildId: string,
  input: Omit<Extract<ControlAction, { type: "replan" }>, "type">,
) {
  return replanDto(
    await act<ReplanRow>(deps, buildId, { type: "replan", ...input, max_dag_nodes: deps.config.BUILD_MAX_DAG_NODES }),
  );
}

export async function suggestReplan(deps: Deps, buildId: string): Promise<ReplanSuggestion> {
  return act<ReplanSuggestion>(deps, buildId, { type: "suggest" });
}

export async function applyReplanSuggestion(deps: Deps, buildId: string, reason: string | null | undefined) {
  return replanDto(
    await act<ReplanRow>(deps, buildId, {
      type: "apply_suggestion",
      reason,
      max_dag_nodes: deps.config.BUILD_MAX_DAG_NODES,
    }),
  );
}

export async function startTask(deps: Deps, buildId: string, nodeId: string) {
  return taskRunDto(await act<TaskRunState>(deps, buildId, { type: "start_task", node_id: nodeId }));
}

export async function completeTask(
  deps: Deps,
  buildId: string,
  taskRunId: string,
  input: { status: TaskRunState["status"]; error: string | null },
) {
  return taskRunDto(
    await act<TaskRunState>(deps, buildId, { type: "complete_task", task_run_id: taskRunId, ...input }),
  );
}

// ---- reads ---------------------------------------------------------------------------------------

export async function listTasks(
  deps: Reader,
  buildId: string,
  q: { node_id?: string; status?: string; limit: number; cursor?: number },
) {
  await authorizeBuild(deps, buildId);
  const rows = await repo.listTaskRuns(deps.db, buildId, {
    nodeId: q.node_id,
    status: q.status,
    limit: q.limit + 1,
    before: q.cursor,
  });
  return page(rows, q.limit, taskRunDto);
}

export async function getTask(deps: Reader, buildId: string, taskRunId: string) {
  await authorizeBuild(deps, buildId);
  const row = await repo.getTaskRun(deps.db, buildId, taskRunId);
  if (!row) throw new AppError("task_run_not_found", "Task run not found.");
  return taskRunDto(row);
}

export async function listGates(deps: Reader, buildId: string, q: { gate?: string; limit: number; cursor?: number }) {
  await authorizeBuild(deps, buildId);
  const rows = await repo.listGates(deps.db, buildId, { gate: q.gate, limit: q.limit + 1, before: q.cursor });
  return page(rows, q.limit, (g) => ({
    decision_id: g.decisionId,
    build_id: g.buildId,
    gate: g.gate,
    status: g.status,
    reason: g.reason,
    node_id: g.nodeId,
    created_at: g.createdAt,
  }));
}

export async function listReplans(deps: Reader, buildId: string, q: { limit: number; cursor?: number }) {
  await authorizeBuild(deps, buildId);
  const rows = await repo.listReplans(deps.db, buildId, { limit: q.limit + 1, before: q.cursor });
  return page(rows, q.limit, (r) => ({
    decision_id: r.decisionId,
    action: r.action,
    reason: r.reason,
    created_at: r.createdAt,
    replacement_nodes: r.replacementNodes,
  }));
}

export async function listDebts(deps: Reader, buildId: string, q: { limit: number; cursor?: number }) {
  await authorizeBuild(deps, buildId);
  const rows = await repo.listDebts(deps.db, buildId, { limit: q.limit + 1, before: q.cursor });
  return page(rows, q.limit, (d) => ({
    debt_id: d.debtId,
    node_id: d.nodeId,
    summary: d.summary,
    severity: d.severity,
    created_at: d.createdAt,
  }));
}

export async function listViolations(deps: Reader, buildId: string, q: { limit: number; cursor?: number }) {
  await authorizeBuild(deps, buildId);
  const rows = await repo.listViolations(deps.db, buildId, { limit: q.limit + 1, before: q.cursor });
  return page(rows, q.limit, (v) => ({
    violation_id: v.violationId,
    code: v.code,
    message: v.message,
    source: v.source,
    blocking: v.blocking,
    created_at: v.createdAt,
  }));
}

/** Chronological; `next_cursor` is the last event_cursor when more follow. */
export async function listCheckpoints(deps: Reader, buildId: string, q: { limit: number; cursor?: number }) {
  await authorizeBuild(deps, buildId);
  const rows = await repo.listCheckpoints(deps.db, buildId, { limit: q.limit + 1, after: q.cursor });
  const items = rows.slice(0, q.limit);
  const last = items[items.length - 1];
  return {
    items: items.map((c) => ({
      checkpoint_id: c.checkpointId,
      build_id: c.buildId,
      status: c.status,
      reason: c.reason,
      event_cursor: c.eventCursor,
      created_at: c.createdAt,
    })),
    next_cursor: rows.length > q.limit && last ? last.eventCursor : null,
  };
}
