/**
 * The build as GET /v1/builds/{id} shows it (SPEC §4.2 BuildRun). Two sources that agree: a D1
 * row of builds.repo `getBuildView` (one statement, collections shaped by SQL), and the build's
 * runner, which keeps the view of its last commit up to date with `applyDraft` — it is the only
 * writer of these rows, so the draft it committed is exactly what changed. Pure; used by the
 * BuildRunner DO and the build service.
 */
import { type FindingsSummary, parseFindingsSummary } from "../findings/baseline";
import { type BuildTrigger, triggerOf } from "./build-trigger";
import type { BuildViewRow } from "./builds.repo";
import { type BuildControlAction, allowedActions } from "./allowed-actions";
import type { BuildStatus } from "./builds.types";
import { type BuildState, type Draft, type TaskRunState, doneNodeIds } from "./run-machine";

export interface BuildNodeDto {
  node_id: string;
  title: string;
  agent: string;
  depends_on: string[];
  gate: string | null;
  status: string;
  /** The node's level (SPEC §4.5, 0-based topological wave), as the planner computed it. */
  level: number;
}
export interface TaskRunDto {
  task_run_id: string;
  node_id: string;
  attempt: number;
  status: string;
  started_at: string;
  finished_at: string | null;
  error: string | null;
}
export interface ReplanDto {
  decision_id: string;
  action: string;
  reason: string;
  created_at: string;
  replacement_nodes: unknown[];
}
export interface DebtDto {
  debt_id: string;
  node_id: string;
  summary: string;
  severity: string;
  created_at: string;
}
export interface ViolationDto {
  violation_id: string;
  code: string;
  message: string;
  source: string;
  blocking: boolean;
  created_at: string;
}
export interface TransitionDto {
  transition_id: string;
  from_status: string;
  to_status: string;
  reason: string;
  source: string;
  created_at: string;
}
export interface GateDto {
  decision_id: string;
  build_id: string;
  gate: string;
  status: string;
  reason: string;
  node_id: string | null;
  created_at: string;
}

export interface BuildRunDto {
  build_id: string;
  created_by: string;
  repo_url: string;
  objective: string;
  status: BuildStatus;
  created_at: string;
  updated_at: string;
  dag: BuildNodeDto[];
  task_runs: TaskRunDto[];
  replan_history: ReplanDto[];
  debt_items: DebtDto[];
  policy_violations: ViolationDto[];
  state_transitions: TransitionDto[];
  gate_history: GateDto[];
  metadata: Record<string, unknown>;
  progress: { nodes_total: number; nodes_done: number };
  allowed_actions: BuildControlAction[];
  findings_summary: FindingsSummary | null;
  trigger: BuildTrigger;
}

/** The DTO and the tenant it belongs to (for the visibility check; not part of the DTO). */
export interface BuildView {
  tenant_id: string;
  run: BuildRunDto;
}

/** SPEC TaskRun from a D1 row or from the runner's state. */
export const taskRunDto = (
  r:
    | TaskRunState
    | {
        taskRunId: string;
        nodeId: string;
        attempt: number;
        status: string;
        startedAt: string;
        finishedAt: string | null;
        error: string | null;
      },
): TaskRunDto =>
  "task_run_id" in r
    ? {
        task_run_id: r.task_run_id,
        node_id: r.node_id,
        attempt: r.attempt,
        status: r.status,
        started_at: r.started_at,
        finished_at: r.finished_at,
        error: r.error,
      }
    : {
        task_run_id: r.taskRunId,
        node_id: r.nodeId,
        attempt: r.attempt,
        status: r.status,
        started_at: r.startedAt,
        finished_at: r.finishedAt,
        error: r.error,
      };

/** The view from its D1 row (builds.repo getBuildView). */
export function viewFromRow(row: BuildViewRow): BuildView {
  return {
    tenant_id: row.tenant_id,
    run: {
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
      allowed_actions: allowedActions(row.status as BuildStatus),
      findings_summary: row.findings_summary === null ? null : parseFindingsSummary(JSON.parse(row.findings_summary)),
      trigger: triggerOf(JSON.parse(row.metadata) as Record<string, unknown>),
    },
  };
}

const bySeq = <T extends { event_seq: number }>(rows: readonly T[]) =>
  [...rows].sort((a, b) => a.event_seq - b.event_seq);

/**
 * The view after `d` was committed on top of `prior` (null: `d` created the build). What the
 * state holds in full (nodes, runs, debts, violations, counters) is taken from it; the append-only
 * histories the state does not keep (transitions, gates, replans) get the draft's new rows.
 */
export function applyDraft(prior: BuildView | null, d: Draft): BuildView {
  const s: BuildState = d.state;
  const done = doneNodeIds(s);
  const p = prior?.run;
  return {
    tenant_id: s.tenant_id,
    run: {
      build_id: s.build_id,
      created_by: s.created_by,
      repo_url: s.repo_url,
      objective: s.objective,
      status: s.status,
      created_at: s.created_at,
      updated_at: s.updated_at,
      dag: [...s.nodes]
        .sort((a, b) => a.position - b.position)
        .map((n) => ({
          node_id: n.node_id,
          title: n.title,
          agent: n.agent,
          depends_on: [...n.depends_on],
          gate: n.gate,
          status: n.status,
          level: n.level,
        })),
      task_runs: bySeq(s.task_runs).map(taskRunDto),
      replan_history: [
        ...(p?.replan_history ?? []),
        ...d.replans.map((r) => ({
          decision_id: r.decision_id,
          action: r.action,
          reason: r.reason,
          created_at: r.created_at,
          replacement_nodes: structuredClone(r.replacement_nodes),
        })),
      ],
      debt_items: bySeq(s.debt_items).map((x) => ({
        debt_id: x.debt_id,
        node_id: x.node_id,
        summary: x.summary,
        severity: x.severity,
        created_at: x.created_at,
      })),
      policy_violations: bySeq(s.policy_violations).map((v) => ({
        violation_id: v.violation_id,
        code: v.code,
        message: v.message,
        source: v.source,
        blocking: v.blocking,
        created_at: v.created_at,
      })),
      state_transitions: [
        ...(p?.state_transitions ?? []),
        ...d.transitions.map((t) => ({
          transition_id: t.transition_id,
          from_status: t.from_status,
          to_status: t.to_status,
          reason: t.reason,
          source: t.source,
          created_at: t.created_at,
        })),
      ],
      gate_history: [
        ...(p?.gate_history ?? []),
        ...d.gates.map((g) => ({
          decision_id: g.decision_id,
          build_id: s.build_id,
          gate: g.gate,
          status: g.status,
          reason: g.reason,
          node_id: g.node_id,
          created_at: g.created_at,
        })),
      ],
      metadata: structuredClone(s.metadata),
      progress: { nodes_total: s.nodes.length, nodes_done: s.nodes.filter((n) => done.has(n.node_id)).length },
      allowed_actions: allowedActions(s.status),
      // Stored when a draft finishes the build; kept from the prior view otherwise.
      findings_summary: d.baseline?.summary ?? p?.findings_summary ?? null,
      trigger: triggerOf(s.metadata),
    },
  };
}
