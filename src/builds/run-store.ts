/**
 * The BuildRunner's D1 store: loads a build's run state, takes and renews the writer's lease,
 * and turns one run-machine Draft into one atomic D1 batch, fenced by the writer's lease epoch
 * (see db/schema.ts). Only the BuildRunner DO writes through it; reads for the API are in
 * builds.repo.ts.
 */
import { normaliseSeverity } from "../findings/finding";
import { stateStatements } from "../findings/findings.repo";
import { topFindings } from "../findings/gate";
import { emptyTally } from "./engine/findings-tally";
import type { FindingTally, TallyFinding } from "./engine/run-state";
import { and, asc, desc, eq, getTableColumns, sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import type { SQLiteTable } from "drizzle-orm/sqlite-core";
import * as t from "../db/schema";
import type { Db } from "../kernel/env";
import { rowsPerStatement } from "../lib/d1-limits";
import type { BuildStatus, TaskStatus } from "./builds.types";
import {
  type BuildState,
  type Draft,
  type TaskRunState,
  doneNodeIds,
  engineStateOf,
  parseRunSettings,
} from "./run-machine";
import { incrementsFromEvents } from "../ops/metrics.events";
import { counterUpserts } from "../ops/metrics.store";
import { auditStatement } from "../audit/audit";

export class StaleLeaseError extends Error {
  constructor() {
    super("stale_lease_epoch");
    this.name = "StaleLeaseError";
  }
}

function isStaleLease(err: unknown): boolean {
  for (let e: unknown = err, i = 0; e && i < 5; e = (e as { cause?: unknown }).cause, i++) {
    if (e instanceof Error && e.message.includes("stale_lease_epoch")) return true;
  }
  return false;
}

export interface LeaseWrite {
  owner: string;
  epoch: number;
  expiresAt: string | null;
  heartbeatAt: string;
}

/** Loads the full run state of a build, or null when it does not exist. */
export async function loadBuildState(db: Db, buildId: string): Promise<BuildState | null> {
  const [builds, nodes, runs, maxSeq, debts, violations, sessions, severities, top] = await db.batch([
    db.select().from(t.builds).where(eq(t.builds.buildId, buildId)),
    db.select().from(t.buildNodes).where(eq(t.buildNodes.buildId, buildId)).orderBy(asc(t.buildNodes.position)),
    db.select().from(t.taskRuns).where(eq(t.taskRuns.buildId, buildId)).orderBy(asc(t.taskRuns.eventSeq)),
    db
      .select({ seq: sql<number | null>`max(${t.buildEvents.seq})` })
      .from(t.buildEvents)
      .where(eq(t.buildEvents.buildId, buildId)),
    db.select().from(t.debtItems).where(eq(t.debtItems.buildId, buildId)).orderBy(asc(t.debtItems.eventSeq)),
    db
      .select()
      .from(t.policyViolations)
      .where(eq(t.policyViolations.buildId, buildId))
      .orderBy(asc(t.policyViolations.eventSeq)),
    db.select().from(t.runtimeSessions).where(eq(t.runtimeSessions.buildId, buildId)),
    // The findings tally (engine/findings-tally.ts): counts by severity and the most severe few.
    db
      .select({ severity: t.findings.severity, n: sql<number>`count(*)` })
      .from(t.findings)
      .where(eq(t.findings.buildId, buildId))
      .groupBy(t.findings.severity),
    db
      .select({
        severity: t.findings.severity,
        category: t.findings.category,
        title: t.findings.title,
        file: t.findings.file,
        line: t.findings.line,
        rule_id: t.findings.ruleId,
        tool: t.findings.tool,
      })
      .from(t.findings)
      .where(eq(t.findings.buildId, buildId))
      .orderBy(desc(t.findings.severityRank), asc(t.findings.eventSeq))
      .limit(20),
  ]);
  const b = builds[0];
  const rt = sessions[0];
  if (!b || !rt) return null;
  return {
    build_id: b.buildId,
    tenant_id: b.tenantId,
    created_by: b.createdBy,
    repo_url: b.repoUrl,
    objective: b.objective,
    status: b.status as BuildStatus,
    scan_mode: b.scanMode,
    metadata: b.metadata,
    created_at: b.createdAt,
    updated_at: b.updatedAt,
    // The metadata column holds the planned metadata and the mirror of the engine state.
    settings: parseRunSettings(b.metadata),
    engine: engineStateOf(b.metadata),
    nodes: nodes.map((n) => ({
      node_id: n.nodeId,
      title: n.title,
      agent: n.agent,
      depends_on: n.dependsOn,
      gate: n.gate as never,
      status: n.status as TaskStatus,
      position: n.position,
      level: n.level,
      not_before: n.notBefore,
    })),
    task_runs: runs.map((r) => ({
      task_run_id: r.taskRunId,
      node_id: r.nodeId,
      attempt: r.attempt,
      status: r.status as TaskStatus,
      source: r.source,
      started_at: r.startedAt,
      finished_at: r.finishedAt,
      error: r.error,
      due_at: r.dueAt,
      event_seq: r.eventSeq,
      runner_kind: r.runnerKind as TaskRunState["runner_kind"],
      heartbeat_at: r.heartbeatAt,
    })),
    debt_items: debts.map((x) => ({
      debt_id: x.debtId,
      node_id: x.nodeId,
      summary: x.summary,
      severity: x.severity,
      event_seq: x.eventSeq,
      created_at: x.createdAt,
    })),
    policy_violations: violations.map((v) => ({
      violation_id: v.violationId,
      code: v.code,
      message: v.message,
      source: v.source,
      blocking: v.blocking,
      event_seq: v.eventSeq,
      created_at: v.createdAt,
    })),
    runtime: {
      runtime_id: rt.runtimeId,
      status: rt.status as BuildState["runtime"]["status"],
      sandbox_profile: rt.sandboxProfile,
      metadata: rt.metadata,
      created_at: rt.createdAt,
      updated_at: rt.updatedAt,
    },
    next_seq: (maxSeq[0]?.seq ?? 0) + 1,
    findings: tallyOf(severities, top),
  };
}

function tallyOf(severities: { severity: string; n: number }[], top: TallyFinding[]): FindingTally {
  const tally = emptyTally();
  for (const r of severities) tally.counts[normaliseSeverity(r.severity)] += r.n;
  tally.top = topFindings(top, 5);
  return tally;
}

/** Takes the lease: a new epoch for this writer. Returns the epoch, or null if the build is gone. */
export async function acquireLease(
  db: Db,
  buildId: string,
  owner: string,
  expiresAt: string,
  now: string,
): Promise<number | null> {
  const rows = await db
    .update(t.builds)
    .set({
      leaseOwner: owner,
      leaseEpoch: sql`${t.builds.leaseEpoch} + 1`,
      leaseExpiresAt: expiresAt,
      heartbeatAt: now,
    })
    .where(eq(t.builds.buildId, buildId))
    .returning({ epoch: t.builds.leaseEpoch });
  return rows[0]?.epoch ?? null;
}

function buildCounters(s: BuildState) {
  const done = doneNodeIds(s);
  return {
    taskTotal: s.task_runs.length,
    taskCompleted: s.task_runs.filter((r) => r.status === "completed").length,
    taskFailed: s.task_runs.filter((r) => r.status === "failed").length,
    nodeTotal: s.nodes.length,
    nodeDone: s.nodes.filter((n) => done.has(n.node_id)).length,
  };
}

/** Rows per multi-row insert of a table (it binds one parameter per column and row). */
const rowsPerInsert = new Map<SQLiteTable, number>();

/** Appends `rows` as multi-row inserts of `table` (as many rows per statement as D1 binds). */
function pushInserts<T extends SQLiteTable>(
  db: Db,
  stmts: BatchItem<"sqlite">[],
  table: T,
  rows: T["$inferInsert"][],
): void {
  if (rows.length === 0) return;
  let per = rowsPerInsert.get(table);
  if (per === undefined) {
    per = rowsPerStatement(Object.keys(getTableColumns(table)).length);
    rowsPerInsert.set(table, per);
  }
  for (let i = 0; i < rows.length; i += per)
    stmts.push(db.insert(table).values(rows.slice(i, i + per)) as BatchItem<"sqlite">);
}

/**
 * Persists a draft atomically. With `created`, the build row is inserted (its primary key guards
 * against a double create); otherwise the batch starts with the fence and fails with
 * StaleLeaseError when `lease.epoch` is no longer current — nothing is written then.
 */
export async function commitDraft(
  db: Db,
  d: Draft,
  lease: LeaseWrite,
  opts: { created?: boolean } = {},
): Promise<void> {
  const s = d.state;
  const id = s.build_id;
  const stmts: BatchItem<"sqlite">[] = [];
  const buildRow = {
    status: s.status,
    scanMode: s.scan_mode,
    metadata: s.metadata,
    updatedAt: s.updated_at,
    ...buildCounters(s),
    leaseOwner: lease.owner,
    leaseExpiresAt: lease.expiresAt,
    heartbeatAt: lease.heartbeatAt,
  };
  if (opts.created) {
    stmts.push(
      db.insert(t.builds).values({
        buildId: id,
        tenantId: s.tenant_id,
        createdBy: s.created_by,
        repoUrl: s.repo_url,
        objective: s.objective,
        createdAt: s.created_at,
        leaseEpoch: lease.epoch,
        ...buildRow,
      }),
    );
  } else {
    stmts.push(db.insert(t.buildWriteFences).values({ buildId: id, epoch: lease.epoch }));
    stmts.push(
      db
        .update(t.builds)
        .set(buildRow)
        .where(and(eq(t.builds.buildId, id), eq(t.builds.leaseEpoch, lease.epoch))),
    );
  }
  if (d.nodesReplaced) {
    if (!opts.created) stmts.push(db.delete(t.buildNodes).where(eq(t.buildNodes.buildId, id)));
    pushInserts(
      db,
      stmts,
      t.buildNodes,
      s.nodes.map((n) => ({
        buildId: id,
        nodeId: n.node_id,
        position: n.position,
        title: n.title,
        agent: n.agent,
        dependsOn: n.depends_on,
        gate: n.gate,
        level: n.level,
        status: n.status,
        notBefore: n.not_before,
      })),
    );
  } else {
    for (const nodeId of d.touchedNodes) {
      const n = s.nodes.find((x) => x.node_id === nodeId);
      if (!n) continue;
      stmts.push(
        db
          .update(t.buildNodes)
          .set({ status: n.status, notBefore: n.not_before })
          .where(and(eq(t.buildNodes.buildId, id), eq(t.buildNodes.nodeId, nodeId))),
      );
    }
  }
  const newRuns: (typeof t.taskRuns.$inferInsert)[] = [];
  for (const r of s.task_runs) {
    const row = {
      status: r.status,
      finishedAt: r.finished_at,
      error: r.error,
      dueAt: r.due_at,
      heartbeatAt: r.heartbeat_at,
    };
    if (d.newRuns.has(r.task_run_id)) {
      newRuns.push({
        taskRunId: r.task_run_id,
        buildId: id,
        nodeId: r.node_id,
        attempt: r.attempt,
        source: r.source,
        runnerKind: r.runner_kind,
        startedAt: r.started_at,
        eventSeq: r.event_seq,
        ...row,
      });
    } else if (d.touchedRuns.has(r.task_run_id)) {
      stmts.push(db.update(t.taskRuns).set(row).where(eq(t.taskRuns.taskRunId, r.task_run_id)));
    }
  }
  pushInserts(db, stmts, t.taskRuns, newRuns);
  pushInserts(
    db,
    stmts,
    t.buildEvents,
    d.events.map((e) => ({
      buildId: id,
      seq: e.seq,
      eventType: e.event_type,
      payload: e.payload,
      createdAt: e.timestamp,
    })),
  );
  pushInserts(
    db,
    stmts,
    t.statusTransitions,
    d.transitions.map((r) => ({
      transitionId: r.transition_id,
      buildId: id,
      fromStatus: r.from_status,
      toStatus: r.to_status,
      reason: r.reason,
      source: r.source,
      eventSeq: r.event_seq,
      createdAt: r.created_at,
    })),
  );
  pushInserts(
    db,
    stmts,
    t.gateDecisions,
    d.gates.map((r) => ({
      decisionId: r.decision_id,
      buildId: id,
      gate: r.gate,
      status: r.status,
      reason: r.reason,
      nodeId: r.node_id,
      source: r.source,
      eventSeq: r.event_seq,
      createdAt: r.created_at,
    })),
  );
  pushInserts(
    db,
    stmts,
    t.replanDecisions,
    d.replans.map((r) => ({
      decisionId: r.decision_id,
      buildId: id,
      action: r.action,
      reason: r.reason,
      source: r.source,
      replacementNodes: r.replacement_nodes,
      eventSeq: r.event_seq,
      createdAt: r.created_at,
    })),
  );
  pushInserts(
    db,
    stmts,
    t.checkpoints,
    d.checkpoints.map((r) => ({
      checkpointId: r.checkpoint_id,
      buildId: id,
      status: r.status,
      reason: r.reason,
      eventCursor: r.event_cursor,
      createdAt: r.created_at,
    })),
  );
  if (d.sessionTouched) {
    const r = s.runtime;
    const row = { status: r.status, metadata: r.metadata, updatedAt: r.updated_at };
    stmts.push(
      opts.created
        ? db.insert(t.runtimeSessions).values({
            buildId: id,
            runtimeId: r.runtime_id,
            sandboxProfile: r.sandbox_profile,
            createdAt: r.created_at,
            ...row,
          })
        : db.update(t.runtimeSessions).set(row).where(eq(t.runtimeSessions.buildId, id)),
    );
  }
  pushInserts(
    db,
    stmts,
    t.debtItems,
    d.debts.map((r) => ({
      debtId: r.debt_id,
      buildId: id,
      nodeId: r.node_id,
      summary: r.summary,
      severity: r.severity,
      eventSeq: r.event_seq,
      createdAt: r.created_at,
    })),
  );
  pushInserts(
    db,
    stmts,
    t.policyViolations,
    d.violations.map((r) => ({
      violationId: r.violation_id,
      buildId: id,
      code: r.code,
      message: r.message,
      source: r.source,
      blocking: r.blocking,
      eventSeq: r.event_seq,
      createdAt: r.created_at,
    })),
  );
  pushInserts(
    db,
    stmts,
    t.findings,
    d.findings.map((f) => ({
      findingId: f.finding_id,
      buildId: id,
      nodeId: f.node_id,
      taskRunId: f.task_run_id,
      severity: f.severity,
      severityRank: f.severity_rank,
      category: f.category,
      title: f.title,
      detail: f.detail,
      file: f.file,
      line: f.line,
      ruleId: f.rule_id,
      tool: f.tool,
      snippet: f.snippet,
      endLine: f.end_line,
      columnNumber: f.column,
      fingerprint: f.fingerprint,
      eventSeq: f.event_seq,
      createdAt: f.created_at,
    })),
  );
  // A finished build's baseline (states of its findings, its summary) commits with the finish.
  if (d.baseline) {
    stmts.push(...(stateStatements(db, d.baseline.states) as BatchItem<"sqlite">[]));
    stmts.push(db.update(t.builds).set({ findingsSummary: d.baseline.summary }).where(eq(t.builds.buildId, id)));
  }
  pushInserts(
    db,
    stmts,
    t.runtimeMetrics,
    d.metrics.map((m) => ({
      metricId: m.metric_id,
      buildId: id,
      runtimeId: s.runtime.runtime_id,
      metric: m.metric,
      value: m.value,
      tags: m.tags,
      fields: m.fields,
      emittedAt: m.emitted_at,
    })),
  );
  pushInserts(
    db,
    stmts,
    t.runnerLogs,
    d.runnerLogs.map((r) => ({
      logId: r.log_id,
      buildId: id,
      runtimeId: r.runtime_id,
      nodeId: r.node_id,
      taskRunId: r.task_run_id,
      runner: r.runner,
      workspaceId: r.workspace_id,
      status: r.status,
      message: r.message,
      startedAt: r.started_at,
      finishedAt: r.finished_at,
      durationMs: r.duration_ms,
      error: r.error,
      metadata: r.metadata,
      eventSeq: r.event_seq,
    })),
  );
  // The audit entry of an operator action commits with the change it records (src/audit).
  for (const a of d.audit) stmts.push(auditStatement(db, { ...a, at: d.ts }));
  // Metrics are a projection of these events, written in the same fenced batch (src/ops/metrics.events.ts).
  stmts.push(...counterUpserts(db, incrementsFromEvents(s.tenant_id, d.events, opts), d.ts));
  try {
    await db.batch(stmts as [BatchItem<"sqlite">, ...BatchItem<"sqlite">[]]);
  } catch (err) {
    if (isStaleLease(err)) throw new StaleLeaseError();
    throw err;
  }
}

/** Renews (or releases, with expiresAt null) the lease without other changes; fenced. */
export async function writeLease(db: Db, buildId: string, lease: LeaseWrite): Promise<void> {
  try {
    await db.batch([
      db.insert(t.buildWriteFences).values({ buildId, epoch: lease.epoch }),
      db
        .update(t.builds)
        .set({ leaseOwner: lease.owner, leaseExpiresAt: lease.expiresAt, heartbeatAt: lease.heartbeatAt })
        .where(and(eq(t.builds.buildId, buildId), eq(t.builds.leaseEpoch, lease.epoch))),
    ]);
  } catch (err) {
    if (isStaleLease(err)) throw new StaleLeaseError();
    throw err;
  }
}

/** Takes a fresh lease epoch and loads the build (the first time a runner instance acts); null when the build is gone. */
export async function loadLeased(
  db: Db,
  buildId: string,
  lease: Omit<LeaseWrite, "epoch">,
): Promise<{ state: BuildState; epoch: number } | null> {
  const epoch = await acquireLease(db, buildId, lease.owner, lease.expiresAt ?? lease.heartbeatAt, lease.heartbeatAt);
  const state = epoch === null ? null : await loadBuildState(db, buildId);
  return state && epoch !== null ? { state, epoch } : null;
}
