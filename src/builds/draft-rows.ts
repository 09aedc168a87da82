/**
 * The rows of one run-machine Draft as D1 statements (multi-row inserts sized to D1's bind
 * limit, updates of touched rows). run-store.ts wraps them in the fenced, atomic batch.
 */
import { stateStatements } from "../findings/findings.repo";
import { and, eq } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import type { SQLiteTable } from "drizzle-orm/sqlite-core";
import * as t from "../db/schema";
import type { Db } from "../kernel/env";
import { insertStatements } from "../db/insert-statements";
import type { Draft } from "./run-machine";

/** A statement of a build's batch: drizzle's (updates, upserts) or plain D1 (the row inserts). */
export type DraftStatement = BatchItem<"sqlite"> | D1PreparedStatement;

/** Appends `rows` as multi-row inserts of `table` (plain D1 statements: src/db/insert-statements.ts). */
function pushInserts<T extends SQLiteTable>(
  db: Db,
  stmts: DraftStatement[],
  table: T,
  rows: T["$inferInsert"][],
): void {
  if (rows.length > 0) stmts.push(...insertStatements(db.$client, table, rows));
}

/**
 * Appends the statements that write a draft's rows (nodes, task runs, events, transitions, gates,
 * replans, checkpoints, the runtime session, debt, violations, findings with the finished build's
 * baseline, metrics and runner logs) to `stmts`, in an order that keeps each batch valid: findings
 * are inserted before the baseline updates their state.
 */
export function pushDraftRows(db: Db, stmts: DraftStatement[], d: Draft, opts: { created?: boolean } = {}): void {
  const s = d.state;
  const id = s.build_id;
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
    if (opts.created)
      pushInserts(db, stmts, t.runtimeSessions, [
        { buildId: id, runtimeId: r.runtime_id, sandboxProfile: r.sandbox_profile, createdAt: r.created_at, ...row },
      ]);
    else stmts.push(db.update(t.runtimeSessions).set(row).where(eq(t.runtimeSessions.buildId, id)));
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
}
