/**
 * Results of node runs: failures the control plane decides (deadline, heartbeat, dispatch,
 * policy pre-check), finding rows, and applying one result to a Draft (runner log, task status,
 * gates, then the replanner on a failure).
 */
import { isoTimestamp, newId, parseTimestamp } from "../../lib/ids";
import type { PolicyDenial } from "../execution-policy";
import { SEVERITY_RANK, normaliseSeverity } from "../../findings/finding";
import type { FindingInput, RunnerResult } from "../simulated-runner";
import type { Draft } from "./draft";
import { handleFailure } from "./failure";
import { policyGate, tallyFinding } from "./findings-tally";
import type { BuildState, FindingRow, TaskRunState } from "./run-state";
import { adapterOf, runnerOverrideOf } from "./run-settings";

/** A failure the control plane decides for an http run (deadline, missed heartbeats, dispatch). */
export function httpFailure(run: TaskRunState, agent: string, now: number, error: string): RunnerResult {
  return {
    status: "failed",
    error,
    duration_ms: Math.max(0, now - parseTimestamp(run.started_at)),
    runner: "http",
    workspace_id: "runner",
    message: `runner ${error} for ${run.node_id}`,
    metadata: { exit_code: 1, agent, execution_mode: "http" },
  };
}

function findingRow(f: FindingInput, run: TaskRunState, seq: number, ts: string): FindingRow {
  const severity = normaliseSeverity(f.severity);
  return {
    finding_id: newId(),
    node_id: run.node_id,
    task_run_id: run.task_run_id,
    severity,
    severity_rank: SEVERITY_RANK[severity],
    category: f.category,
    title: f.title,
    detail: f.detail ?? "",
    file: f.file ?? null,
    line: f.line ?? null,
    rule_id: f.rule_id ?? null,
    tool: f.tool ?? null,
    snippet: f.snippet ?? null,
    end_line: f.end_line ?? null,
    column: f.column ?? null,
    fingerprint: null,
    event_seq: seq,
    created_at: ts,
  };
}

export function policyResult(s: BuildState, nodeId: string, agent: string, denial: PolicyDenial): RunnerResult {
  const runner = adapterOf(s.settings);
  return {
    status: "failed",
    error: denial.message,
    duration_ms: 1,
    runner,
    workspace_id:
      runnerOverrideOf(s.settings, nodeId).workspace_id ?? s.settings.workspace_id ?? `${runner}-${s.build_id}`,
    message: denial.message,
    metadata: {
      exit_code: 1,
      agent,
      execution_mode: "policy_precheck",
      command: denial.command,
      policy_violation: {
        code: denial.code,
        message: denial.message,
        source: "execution_policy",
        blocking: true,
        details: denial.details,
      },
    },
  };
}

export function applyResult(
  d: Draft,
  run: TaskRunState,
  result: RunnerResult,
  denial: PolicyDenial | null,
  rand: () => number,
): void {
  const s = d.state;
  const finishedAt = isoTimestamp(parseTimestamp(run.started_at) + result.duration_ms);
  const log_id = newId();
  const ev = d.emit("RUNNER_RESULT", {
    log_id,
    node_id: run.node_id,
    runner: result.runner,
    workspace_id: result.workspace_id,
    status: result.status,
    duration_ms: result.duration_ms,
    error: result.error,
    findings_count: result.findings?.length ?? 0,
  });
  d.runnerLogs.push({
    log_id,
    runtime_id: s.runtime.runtime_id,
    node_id: run.node_id,
    task_run_id: run.task_run_id,
    runner: result.runner,
    workspace_id: result.workspace_id,
    status: result.status,
    message: result.message,
    started_at: run.started_at,
    finished_at: finishedAt,
    duration_ms: result.duration_ms,
    error: result.error,
    metadata: result.metadata,
    event_seq: ev.seq,
  });
  for (const f of result.findings ?? []) {
    const row = findingRow(f, run, ev.seq, d.ts);
    d.findings.push(row);
    tallyFinding(s.findings, row);
  }
  const node = s.nodes.find((n) => n.node_id === run.node_id);
  const running = s.status === "running";

  if (denial) {
    // SPEC §4.8.2 5a: task failed, blocking violation (fails a running build), POLICY_GATE FAIL.
    d.finishTask(run, "failed", denial.message, "runtime_tick", finishedAt);
    d.violation(denial.code, denial.message, "execution_policy", true);
    d.gate("POLICY_GATE", "FAIL", `policy_violation:${denial.code}`, run.node_id, "runtime_tick");
    return;
  }
  if (result.status === "failed") {
    d.finishTask(run, "failed", result.error ?? result.message, "runtime_tick", finishedAt);
    // A real run that fails its node's gate says so and why (issue 15: a failing test suite is a
    // TEST_GATE FAIL with the runner's reason); the replanner's decision follows as before.
    if (running && node?.gate && run.runner_kind === "http")
      d.gate(
        node.gate,
        "FAIL",
        `runner_failed:${(result.error ?? result.message).slice(0, 300)}`,
        node.node_id,
        "runtime_tick",
      );
    if (!running || !node) return;
    handleFailure(d, node, run, rand);
    return;
  }
  d.finishTask(run, result.status, null, "runtime_tick", finishedAt);
  if (running && node?.gate && result.status === "completed") {
    if (node.gate !== "POLICY_GATE") {
      d.gate(node.gate, "PASS", "runtime_auto_pass", node.node_id, "runtime_tick");
      return;
    }
    // The POLICY_GATE decides from the build's findings (issue 16); a FAIL fails the build, and
    // only an operator's gate decision with a reason (audited) can waive it before a resume.
    const decision = policyGate(s);
    d.gate("POLICY_GATE", decision.verdict, `findings:${decision.reason}`.slice(0, 1000), node.node_id, "runtime_tick");
    if (decision.verdict === "FAIL" && d.transition("failed", "POLICY_GATE:findings", "gate")) d.finished("failed");
  }
}
