/**
 * The BuildRunner's D1 store: loads a build's run state, takes and renews the writer's lease,
 * and turns one run-machine Draft into one atomic D1 batch, fenced by the writer's lease epoch
 * (see db/schema.ts). Only the BuildRunner DO writes through it; reads for the API are in
 * builds.repo.ts.
 */
import { normaliseSeverity } from "../findings/finding";
import { topFindings } from "../findings/gate";
import { emptyTally } from "./engine/findings-tally";
import type { FindingTally, TallyFinding } from "./engine/run-state";
import { and, asc, desc, eq, sql } from "drizzle-orm";
import * as t from "../db/schema";
import type { Db } from "../kernel/env";
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
import { type DraftStatement, pushDraftRows } from "./draft-rows";
import { insertStatements } from "../db/insert-statements";

/** A drizzle query as the plain D1 statement it builds (a batch mixes both kinds). */
function d1Statement(d1: D1Database, q: DraftStatement): D1PreparedStatement {
  const query = q as { toSQL?: () => { sql: string; params: unknown[] } };
  if (typeof query.toSQL !== "function") return q as D1PreparedStatement;
  const built = query.toSQL();
  return d1.prepare(built.sql).bind(...built.params);
}

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
  const stmts: DraftStatement[] = [];
  const buildRow = {
    status: s.status,
    scanMode: s.scan_mode,
    metadata: s.metadata,
    updatedAt: s.updated_at,
    ...buildCounters(s),
    leaseOwner: lease.owner,
    leaseExpiresAt: lease.expiresAt,
    heartbeatAt: lease.heartbeatAt,
    // A finishing draft's baseline summary (its findings' states are draft rows).
    ...(d.baseline ? { findingsSummary: d.baseline.summary } : {}),
  };
  if (opts.created) {
    stmts.push(
      ...insertStatements(db.$client, t.builds, [
        {
          buildId: id,
          tenantId: s.tenant_id,
          createdBy: s.created_by,
          repoUrl: s.repo_url,
          objective: s.objective,
          createdAt: s.created_at,
          leaseEpoch: lease.epoch,
          ...buildRow,
        },
      ]),
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
  pushDraftRows(db, stmts, d, opts);
  // The audit entry of an operator action commits with the change it records (src/audit).
  for (const a of d.audit) stmts.push(auditStatement(db, { ...a, at: d.ts }));
  // Metrics are a projection of these events, written in the same fenced batch (src/ops/metrics.events.ts).
  stmts.push(...counterUpserts(db.$client, incrementsFromEvents(s.tenant_id, d.events, opts), d.ts));
  try {
    await db.$client.batch(stmts.map((q) => d1Statement(db.$client, q)));
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

/**
 * Takes a fresh lease epoch and loads the build (the first time a runner instance acts); null when the build is gone.
 */
export async function loadLeased(
  db: Db,
  buildId: string,
  lease: Omit<LeaseWrite, "epoch">,
): Promise<{ state: BuildState; epoch: number } | null> {
  const epoch = await acquireLease(db, buildId, lease.owner, lease.expiresAt ?? lease.heartbeatAt, lease.heartbeatAt);
  const state = epoch === null ? null : await loadBuildState(db, buildId);
  return state && epoch !== null ? { state, epoch } : null;
}
