/**
 * The BuildRunner's decisions and mappings, pure (STYLE §8): tick options from the config, the
 * lease it writes and the alarm it arms, how a runner's message or a failed dispatch applies to a
 * Draft, the fault hook's tick roll, and the finish announcement of a draft. The DO
 * (build-runner.do.ts) loads, calls these, persists, publishes and re-arms.
 */
import { buildFindings } from "../findings/findings.repo";
import { computeBaseline } from "../findings/findings.service";
import { fingerprintFindings } from "../findings/fingerprint";
import type { Db } from "../kernel/env";
import type { Config } from "../kernel/env";
import { isoTimestamp, parseTimestamp } from "../lib/ids";
import type { BuildFinished } from "./build-hooks";
import type { LeaseWrite } from "./run-store";
import {
  type BuildState,
  type Draft,
  type TickOptions,
  type TickReport,
  agentOf,
  httpFailure,
  runningRuns,
  tick,
} from "./run-machine";
import { type RunnerMessage, resultOfMessage } from "./runner-protocol";
import { faultRoll } from "./simulated-runner";

/** The tick's options under this deployment's config (parallelism, http limits, the node fault hook). */
export function tickOptionsOf(c: Config): TickOptions {
  const f = c.FAULT_INJECTION;
  return {
    parallelism: c.RUNTIME_NODE_PARALLELISM,
    http: {
      defaultTimeoutMs: c.RUNNER_NODE_TIMEOUT_SECONDS * 1000,
      heartbeatTimeoutMs: c.RUNNER_HEARTBEAT_TIMEOUT_SECONDS * 1000,
    },
    faults: f && f.node_failure_rate > 0 ? { node_failure_rate: f.node_failure_rate, seed: f.seed } : undefined,
  };
}

/** The lease a write carries: held for the TTL while the build is active, released (null) otherwise. */
export function leaseAt(owner: string, ttlSeconds: number, now: number, epoch: number, held = true): LeaseWrite {
  return {
    owner,
    epoch,
    expiresAt: held ? isoTimestamp(now + ttlSeconds * 1000) : null,
    heartbeatAt: isoTimestamp(now),
  };
}

/** A build keeps its lease and its alarm while it runs or has a run in flight. */
export function isActive(s: BuildState): boolean {
  return s.status === "running" || runningRuns(s).length > 0;
}

/**
 * When an active runner ticks next: its next work, but at least every lease TTL/3 (the heartbeat), never in the past.
 */
export function alarmAt(now: number, wakeAt: number | null, ttlSeconds: number): number {
  const heartbeat = now + (ttlSeconds * 1000) / 3;
  return Math.max(now, Math.min(wakeAt ?? heartbeat, heartbeat));
}

/**
 * A signed runner message (ack, heartbeat, result) for one task run attempt, then the tick.
 * Messages for a run that is no longer in flight (late, duplicate, other attempt) change nothing
 * and are not accepted; a heartbeat only stamps the run.
 */
export function applyRunnerMessage(
  d: Draft,
  msg: RunnerMessage,
  opts: TickOptions,
): TickReport & { accepted: boolean } {
  const run = d.state.task_runs.find((r) => r.task_run_id === msg.task_run_id);
  if (run?.runner_kind !== "http" || run.status !== "running" || run.attempt !== msg.attempt) {
    return { ...tick(d, { ...opts, maxRounds: 0 }), accepted: false };
  }
  if (msg.type !== "result") {
    run.heartbeat_at = d.ts;
    d.touchedRuns.add(run.task_run_id);
    return { ...tick(d, { ...opts, maxRounds: 0 }), accepted: true };
  }
  const result = resultOfMessage(msg, run.node_id, agentOf(d.state, run.node_id));
  return { ...tick(d, { ...opts, reported: new Map([[run.task_run_id, result]]) }), accepted: true };
}

/** A dispatch that failed (`reason`) is the run's failed result, if the run is still in flight. */
export function applyDispatchFailure(d: Draft, taskRunId: string, reason: string, opts: TickOptions): TickReport {
  const run = d.state.task_runs.find((r) => r.task_run_id === taskRunId);
  if (run?.status !== "running") return tick(d, { ...opts, maxRounds: 0 });
  return tick(d, {
    ...opts,
    reported: new Map([[taskRunId, httpFailure(run, agentOf(d.state, run.node_id), d.now, reason)]]),
  });
}

/** The fault hook's roll for the n-th tick of this runner instance: throw inside it (nothing is committed). */
export function tickThrows(faults: Config["FAULT_INJECTION"], buildId: string, n: number): boolean {
  return faults !== undefined && faultRoll(faults.seed, buildId, "tick", n) < faults.tick_throw_rate;
}

/** The finish announcement of a draft that finished the build (its last BUILD_FINISHED), else null. */
export function finishOf(d: Draft): Omit<BuildFinished, "findings_total"> | null {
  const finished = d.events.findLast((e) => e.event_type === "BUILD_FINISHED");
  if (!finished) return null;
  const s = d.state;
  return {
    build_id: s.build_id,
    tenant_id: s.tenant_id,
    created_by: s.created_by,
    repo_url: s.repo_url,
    final_status: finished.payload.final_status as BuildFinished["final_status"],
    metadata: s.metadata,
    created_at: s.created_at,
    finished_at: finished.timestamp,
    duration_ms: Math.max(0, parseTimestamp(finished.timestamp) - parseTimestamp(s.created_at)),
  };
}

/**
 * Before a draft commits (issue 16): its new findings get their fingerprints (async Web Crypto,
 * so outside the pure engine), and a draft that finishes the build as completed or failed gets
 * its baseline — each finding's state against the previous finished scan of the repository and
 * branch, and the summary — committed in the same batch.
 */
export async function prepareFindings(db: Db, d: Draft): Promise<void> {
  if (d.findings.length > 0) {
    const printed = await fingerprintFindings(d.findings);
    d.findings.forEach((f, i) => {
      f.fingerprint = printed[i]?.fingerprint ?? null;
    });
  }
  const s = d.state;
  if (!finishOf(d) || (s.status !== "completed" && s.status !== "failed")) return;
  // The tally counts every finding of the build, this draft's included: read D1 only for stored ones.
  const storedCount = Object.values(s.findings.counts).reduce((a, b) => a + b, 0) - d.findings.length;
  const stored = storedCount > 0 ? await buildFindings(db, s.build_id) : [];
  const current = [
    ...stored.map((f) => ({ findingId: f.findingId, fingerprint: f.fingerprint, severity: f.severity })),
    ...d.findings.map((f) => ({ findingId: f.finding_id, fingerprint: f.fingerprint, severity: f.severity })),
  ];
  const subject = {
    buildId: s.build_id,
    tenantId: s.tenant_id,
    // A pull request's scan is compared with the last scan of its base branch (src/github).
    repoUrl: typeof s.metadata.baseline_repo_url === "string" ? s.metadata.baseline_repo_url : s.repo_url,
    createdAt: s.created_at,
    real: s.settings.runner_kind === "http",
  };
  const { states, summary } = await computeBaseline(db, subject, current);
  d.baseline = { states, summary };
}
