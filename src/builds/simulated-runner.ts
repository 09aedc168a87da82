/**
 * The simulated runtime adapter (SPEC §4.8.3): a pure function of the build metadata, the node
 * and the attempt. It never blocks: the run machine schedules the result at started + duration.
 * `status_sequence`/`error_sequence` are indexed by attempt (attempt n uses element n-1), which
 * equals the reference's "consume one per execution" without mutating metadata, so re-running a
 * tick under at-least-once alarms is deterministic.
 */
import type { TaskStatus } from "./builds.types";
import { type RunSettings, runnerOverrideOf } from "./engine/run-settings";

/** A finding a runner reports (issue 7); severity is normalised on ingest. */
export interface FindingInput {
  rule_id?: string;
  tool?: string;
  end_line?: number | null;
  column?: number | null;
  /** A line of the file with any secret value masked by the runner. */
  snippet?: string | null;
  severity: string;
  category: string;
  title: string;
  detail?: string;
  file?: string | null;
  line?: number | null;
}

export interface RunnerResult {
  status: Extract<TaskStatus, "completed" | "failed" | "skipped">;
  findings?: FindingInput[];
  error: string | null;
  duration_ms: number;
  runner: string;
  workspace_id: string;
  message: string;
  metadata: Record<string, unknown>;
}

export { normaliseRunnerStatus } from "./engine/run-settings";

/**
 * The label of every simulated result (events, runner logs, the `runner` metric label, reports,
 * the dashboard; issue 15 item 1). DESIGN §5 replaces SPEC §4.8.3's borrowed label (the override
 * `runner`, `metadata.runner_kind`, else "openhands"): a simulated result never carries the name
 * of a real runner.
 */
export const SIMULATED = "simulated";

/** How long the simulated node takes: override, else build-level `simulated_duration_ms`, else 250. */
export function simulatedDurationMs(settings: RunSettings, nodeId: string): number {
  return Math.max(0, runnerOverrideOf(settings, nodeId).duration_ms ?? settings.simulated_duration_ms ?? 250);
}

const nonEmpty = (v: string | null | undefined): string | undefined =>
  typeof v === "string" && v.trim() !== "" ? v : undefined;

export function simulateNode(input: {
  buildId: string;
  settings: RunSettings;
  nodeId: string;
  agent: string;
  attempt: number;
}): RunnerResult {
  const { settings, nodeId } = input;
  const override = runnerOverrideOf(settings, nodeId);
  const idx = input.attempt - 1;
  const status = idx >= 0 && idx < override.status_sequence.length ? override.status_sequence[idx]! : override.status;
  const error = idx >= 0 && idx < override.error_sequence.length ? override.error_sequence[idx]! : override.error;
  return {
    status,
    error: status === "failed" ? error : null,
    duration_ms: simulatedDurationMs(settings, nodeId),
    runner: SIMULATED,
    workspace_id: nonEmpty(override.workspace_id) ?? nonEmpty(settings.workspace_id) ?? `simulated-${input.buildId}`,
    message: override.message ?? `simulated ${nodeId}: nothing executed`,
    metadata: {
      exit_code: override.exit_code ?? (status === "failed" ? 1 : 0),
      agent: input.agent,
      execution_mode: "simulated",
    },
  };
}

/**
 * A deterministic roll in [0, 1) from a seed and parts (FNV-1a, then a murmur3 finaliser): the
 * injected randomness of the fault hook, so a repeated alarm sees the same outcome.
 */
export function faultRoll(seed: number, ...parts: (string | number)[]): number {
  let h = (2166136261 ^ seed) >>> 0;
  for (const ch of parts.join("\u0000")) {
    h ^= ch.codePointAt(0) ?? 0;
    h = Math.imul(h, 16777619) >>> 0;
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  h ^= h >>> 16;
  return (h >>> 0) / 4294967296;
}

/** Fault hook (development/test only, issue 9): fails `rate` of simulated node attempts. */
export interface NodeFaults {
  node_failure_rate: number;
  seed: number;
}

/** The result with an injected failure when this (build, node, attempt) rolls under the rate. */
export function withNodeFault(
  result: RunnerResult,
  faults: NodeFaults,
  buildId: string,
  nodeId: string,
  attempt: number,
): RunnerResult {
  if (result.status === "failed" || faultRoll(faults.seed, buildId, nodeId, attempt) >= faults.node_failure_rate)
    return result;
  return {
    ...result,
    status: "failed",
    error: "fault_injected:node_failure",
    message: `fault injected into ${nodeId} attempt ${attempt}`,
    metadata: { ...result.metadata, exit_code: 1, fault_injected: true },
  };
}
