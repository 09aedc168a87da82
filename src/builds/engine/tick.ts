/**
 * The runtime tick (SPEC §4.8.2, DESIGN §4): collect results that are in, apply them, complete
 * the build or advance the active level and dispatch ready nodes, and say when to wake next.
 * Pure over a Draft; the BuildRunner's alarm, nudges and runner reports run it.
 */
import { isoTimestamp, parseTimestamp } from "../../lib/ids";
import { type PolicyDenial, precheckNode, runnerCommand } from "../execution-policy";
import {
  type NodeFaults,
  type RunnerResult,
  SIMULATED,
  simulateNode,
  simulatedDurationMs,
  withNodeFault,
} from "../simulated-runner";
import type { Draft } from "./draft";
import { applyResult, httpFailure, policyResult } from "./results";
import {
  type BuildState,
  type RunnerKind,
  type TaskRunState,
  activeLevel,
  agentOf,
  dagLevels,
  doneNodeIds,
  levelCursor,
  mirrorEngine,
  runningRuns,
} from "./run-state";
import { adapterOf, effectiveParallelism, nodeTimeoutMs } from "./run-settings";

export interface TickOptions {
  parallelism: number;
  /** Upper bound of dispatch/collect rounds per tick, so one batch stays small. */
  maxRounds?: number;
  random?: () => number;
  /** Results reported by http runners for runs of this build, by task_run_id. */
  reported?: ReadonlyMap<string, RunnerResult>;
  /** http adapter limits: default node deadline and the heartbeat timeout. */
  http?: { defaultTimeoutMs: number; heartbeatTimeoutMs: number };
  /** Fault hook (development/test only): fail a deterministic fraction of simulated node attempts. */
  faults?: NodeFaults;
}

export const DEFAULT_HTTP_LIMITS = { defaultTimeoutMs: 600_000, heartbeatTimeoutMs: 60_000 };

export interface TickReport {
  executed_nodes: string[];
  dispatched_nodes: string[];
  pending_nodes: string[];
  active_level: number | null;
  levels_started: number[];
  finished: boolean;
  /** When the runner must tick again (ms epoch), or null when nothing is outstanding. */
  next_wake_at: number | null;
  /** Runs dispatched to the http runner in this tick: the DO sends them after the commit. */
  http_dispatches: TaskRunState[];
}

/**
 * One tick: collect due results → post-process (retry / fallback / abort / fail, gate auto-pass)
 * → complete, or advance the active level and dispatch ready nodes (parallelism limit). Rounds
 * repeat while results are already due (zero-duration nodes finish in one tick). Idempotent:
 * re-running it at the same instant finds nothing due and nothing ready.
 */
export function tick(d: Draft, opts: TickOptions): TickReport {
  const s = d.state;
  const rand = opts.random ?? Math.random;
  const executed: string[] = [];
  const dispatched: string[] = [];
  const levelsStarted: number[] = [];
  const httpDispatches: TaskRunState[] = [];
  const maxRounds = opts.maxRounds ?? 16;
  const http = opts.http ?? DEFAULT_HTTP_LIMITS;

  for (let round = 0; round < maxRounds; round++) {
    let progressed = false;

    // 1. Collect results that are in (due simulated work, reported or timed-out http runs).
    for (const run of runningRuns(s).sort((a, b) => a.event_seq - b.event_seq)) {
      const agent = agentOf(s, run.node_id);
      const outcome = outcomeOf(s, run, agent, d.now, opts, http);
      if (!outcome) continue;
      applyResult(d, run, outcome.result, outcome.denial, rand);
      executed.push(run.node_id);
      progressed = true;
    }

    if (s.status !== "running") break;

    // 2. Completion: every node of the current DAG done. Runs still in flight are redundant then
    //    (e.g. a manual run of a node that completed meanwhile) and are cancelled.
    const done = doneNodeIds(s);
    if (s.nodes.every((n) => done.has(n.node_id))) {
      for (const run of runningRuns(s)) d.finishTask(run, "skipped", "cancelled:build_completed", "runtime_tick");
      d.transition("completed", "runtime_tick_completed", "runtime");
      d.finished("completed");
      d.checkpoint("runtime_tick_completed");
      break;
    }

    // 3. Active level, derived from task state; announce a level the first time it becomes active.
    const level = activeLevel(s);
    if (level !== null && level > levelCursor(s)) {
      mirrorEngine(s, { level_cursor: level });
      d.emit("LEVEL_STARTED", { level, nodes: dagLevels(s)[level] ?? [] });
      levelsStarted.push(level);
    }

    // 4. Dispatch ready nodes of the active level, in DAG order, within the parallelism limit.
    if (level !== null) {
      const inFlight = new Set(runningRuns(s).map((r) => r.node_id));
      let slots = Math.max(0, effectiveParallelism(s.settings, opts.parallelism) - inFlight.size);
      for (const n of s.nodes) {
        if (slots <= 0) break;
        if (n.level !== level || done.has(n.node_id) || inFlight.has(n.node_id)) continue;
        if (!n.depends_on.every((dep) => done.has(dep))) continue;
        if (n.not_before !== null && parseTimestamp(n.not_before) > d.now) continue;
        // A node the execution policy denies never reaches an adapter: its failure is due at once.
        const kind: RunnerKind = precheck(s, n.node_id, n.agent) !== null ? "policy" : adapterOf(s.settings);
        const dueAt = isoTimestamp(
          d.now +
            (kind === "policy"
              ? 0
              : kind === "http"
                ? nodeTimeoutMs(s.settings, n.node_id, http.defaultTimeoutMs)
                : Math.min(
                    simulatedDurationMs(s.settings, n.node_id),
                    nodeTimeoutMs(s.settings, n.node_id, Number.POSITIVE_INFINITY),
                  )),
        );
        const run = d.startTask(n.node_id, "runtime_tick", dueAt, kind);
        if (kind === "http") httpDispatches.push(run);
        dispatched.push(n.node_id);
        slots--;
        if (parseTimestamp(dueAt) <= d.now) progressed = true;
      }
    }
    if (!progressed) break;
  }

  const done = doneNodeIds(s);
  const pending = s.nodes.filter((n) => !done.has(n.node_id)).map((n) => n.node_id);
  if (s.status === "completed" || s.status === "aborted") d.setSession("completed");
  else if (s.runtime.status === "bootstrapped") d.setSession("running");
  if (executed.length > 0 || dispatched.length > 0) {
    d.metric(
      "runtime_tick",
      executed.length,
      { build_id: s.build_id, runtime_id: s.runtime.runtime_id },
      {
        pending: pending.length,
        finished: s.status === "completed",
        status: s.runtime.status,
        active_level: activeLevel(s),
        dispatched: dispatched.length,
        levels_started: levelsStarted,
      },
    );
  }
  return {
    executed_nodes: executed,
    dispatched_nodes: dispatched,
    pending_nodes: pending,
    active_level: activeLevel(s),
    levels_started: levelsStarted,
    finished: s.status === "completed",
    next_wake_at: nextWakeAt(s, http.heartbeatTimeoutMs),
    http_dispatches: httpDispatches,
  };
}

/** The result of a running run if it is in, else null (still working). */
function outcomeOf(
  s: BuildState,
  run: TaskRunState,
  agent: string,
  now: number,
  opts: TickOptions,
  http: { heartbeatTimeoutMs: number },
): { result: RunnerResult; denial: PolicyDenial | null } | null {
  const due = run.due_at !== null && parseTimestamp(run.due_at) <= now;
  switch (run.runner_kind) {
    case "manual":
      return null;
    case "policy": {
      const denial = precheck(s, run.node_id, agent);
      if (!due) return null;
      if (denial) return { result: policyResult(s, run.node_id, agent, denial), denial };
      return { result: httpFailure(run, agent, now, "policy_changed"), denial: null };
    }
    case "http": {
      const reported = opts.reported?.get(run.task_run_id);
      if (reported) return { result: reported, denial: null };
      if (due) return { result: httpFailure(run, agent, now, "deadline_exceeded"), denial: null };
      const last = parseTimestamp(run.heartbeat_at ?? run.started_at);
      if (now - last > http.heartbeatTimeoutMs)
        return { result: httpFailure(run, agent, now, "heartbeat_missed"), denial: null };
      return null;
    }
    case "simulated": {
      if (!due) return null;
      // A node whose simulated work outlasts its planner-set timeout fails at the timeout.
      if (
        simulatedDurationMs(s.settings, run.node_id) > nodeTimeoutMs(s.settings, run.node_id, Number.POSITIVE_INFINITY)
      ) {
        return {
          result: {
            ...httpFailure(run, agent, now, "node_timeout"),
            runner: SIMULATED,
            workspace_id: `simulated-${s.build_id}`,
          },
          denial: null,
        };
      }
      const result = simulateNode({
        buildId: s.build_id,
        settings: s.settings,
        nodeId: run.node_id,
        agent,
        attempt: run.attempt,
      });
      return {
        result: opts.faults ? withNodeFault(result, opts.faults, s.build_id, run.node_id, run.attempt) : result,
        denial: null,
      };
    }
  }
}

/** Earliest instant at which a tick has work: a result due, a heartbeat overdue, or a retry's backoff elapsed. */
export function nextWakeAt(s: BuildState, heartbeatTimeoutMs = DEFAULT_HTTP_LIMITS.heartbeatTimeoutMs): number | null {
  const times: number[] = [];
  for (const r of runningRuns(s)) {
    if (r.due_at) times.push(parseTimestamp(r.due_at));
    if (r.runner_kind === "http") times.push(parseTimestamp(r.heartbeat_at ?? r.started_at) + heartbeatTimeoutMs + 1);
  }
  if (s.status === "running") {
    for (const n of s.nodes) if (n.not_before) times.push(parseTimestamp(n.not_before));
  }
  return times.length ? Math.min(...times) : null;
}

/**
 * The pre-check of a node: the runner-side command of its agent on the http adapter; simulated
 * runs execute nothing, so only the capability rules apply to them.
 */
function precheck(s: BuildState, nodeId: string, agent: string): PolicyDenial | null {
  return precheckNode({
    settings: s.settings,
    nodeId,
    command: adapterOf(s.settings) === "http" ? runnerCommand(agent) : null,
  });
}
