/**
 * Run settings: a build's metadata (SPEC §4.3, after planning) parsed once, with its defaults,
 * into the typed `RunSettings` the engine reads — the adapter, parallelism, retry budgets and
 * backoff, deadlines, the fallback and abort switches, simulated results, the execution policy
 * and node secrets. Parsing never rejects: a value of the wrong type means its default, as the
 * hand-written checks it replaces did (creation validates the few keys it must, in the service).
 * Parsed at creation and when the runner loads a build from D1; pure.
 */
import { z } from "zod";
import { DEFAULT_FINDING_THRESHOLDS, FindingThresholds } from "../../findings/gate";
import { type RetryPolicy, DEFAULT_RETRY_POLICY } from "./retry-policy";

type Rec = Record<string, unknown>;

function record(value: unknown): Rec {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Rec) : {};
}

/** A per-node map (read it with `forNode`). */
function byNode<T>(
  value: unknown,
  parse: (v: unknown) => T | undefined,
  objects: "records" | "any" = "records",
): Readonly<Record<string, T>> {
  const out: Record<string, T> = {};
  const src = objects === "records" ? record(value) : value !== null && typeof value === "object" ? (value as Rec) : {};
  for (const [k, v] of Object.entries(src)) {
    if (k === "__proto__") continue; // never a node id (lower-case letters, digits, -)
    const parsed = parse(v);
    if (parsed !== undefined) out[k] = parsed;
  }
  return out;
}

function strings(value: unknown): string[] {
  return Array.isArray(value)
    ? value.filter((v): v is string => typeof v === "string" && v.trim() !== "").map((v) => v.trim())
    : [];
}

function finiteNumber(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

function nonEmptyString(value: unknown): string | undefined {
  return typeof value === "string" && value.trim() !== "" ? value : undefined;
}

/** A retry budget as `Number(v)` reads it: finite → non-negative integer, else 0. */
function budget(value: unknown): number {
  const v = Number(value);
  return Number.isFinite(v) ? Math.max(0, Math.floor(v)) : 0;
}

/** The final status of a node run (a runner result's `status`). */
export type RunStatus = "completed" | "failed" | "skipped";

const COMPLETED = new Set(["ok", "pass", "success", "completed", "done"]);
const FAILED = new Set(["fail", "failed", "error", "errored"]);
const SKIPPED = new Set(["skip", "skipped"]);

/** Status normalisation of SPEC §4.8.3: unknown or missing → completed. */
export function normaliseRunnerStatus(value: unknown): RunStatus {
  const s = typeof value === "string" ? value.trim().toLowerCase() : "";
  if (FAILED.has(s)) return "failed";
  if (SKIPPED.has(s)) return "skipped";
  if (COMPLETED.has(s)) return "completed";
  return "completed";
}

/** The error text of a failed simulated attempt: absent, null or "" → none. */
const errorText = (v: unknown): string | null => (v !== undefined && v !== null && v !== "" ? String(v) : null);

/** `metadata.runner_results[node]`: what the simulated adapter returns for a node (SPEC §4.8.3). */
export interface RunnerOverride {
  status: RunStatus;
  /** Per attempt (attempt n uses element n-1); past the end, `status`. */
  status_sequence: RunStatus[];
  error: string | null;
  error_sequence: (string | null)[];
  duration_ms: number | undefined;
  /** As given (the policy pre-check's result takes an empty one; the simulated result does not). */
  workspace_id: string | undefined;
  message: string | undefined;
  exit_code: number | undefined;
}

function runnerOverride(value: unknown): RunnerOverride {
  const o = record(value);
  return {
    status: normaliseRunnerStatus(o.status),
    status_sequence: Array.isArray(o.status_sequence) ? o.status_sequence.map(normaliseRunnerStatus) : [],
    error: errorText(o.error),
    error_sequence: Array.isArray(o.error_sequence) ? o.error_sequence.map(errorText) : [],
    duration_ms: finiteNumber(o.duration_ms),
    workspace_id: typeof o.workspace_id === "string" ? o.workspace_id : undefined,
    message: nonEmptyString(o.message),
    exit_code: finiteNumber(o.exit_code),
  };
}

/** `metadata.node_policy[node]`: the per-node part of the execution policy. */
export interface NodePolicy {
  required_capabilities: string[];
  blocked_commands: string[];
  blocked_paths: string[];
  allowed_paths: string[];
}

function nodePolicy(value: unknown): NodePolicy {
  const o = record(value);
  return {
    required_capabilities: strings(o.required_capabilities),
    blocked_commands: strings(o.blocked_commands),
    blocked_paths: strings(o.blocked_paths),
    allowed_paths: strings(o.allowed_paths),
  };
}

function retryPolicy(raw: unknown): RetryPolicy {
  const o = record(raw);
  const num = (v: unknown, def: number, min: number, max: number) =>
    typeof v === "number" && Number.isFinite(v) ? Math.min(max, Math.max(min, v)) : def;
  return {
    initial_interval_ms: num(o.initial_interval_ms, DEFAULT_RETRY_POLICY.initial_interval_ms, 0, 3_600_000),
    multiplier: num(o.multiplier, DEFAULT_RETRY_POLICY.multiplier, 1, 10),
    max_interval_ms: num(o.max_interval_ms, DEFAULT_RETRY_POLICY.max_interval_ms, 0, 3_600_000),
    jitter: num(o.jitter, DEFAULT_RETRY_POLICY.jitter, 0, 1),
  };
}

const field = <T>(parse: (v: unknown) => T) => z.unknown().optional().transform(parse);

/** The schema of the settings: every key of the metadata the engine reads, each with its default. */
export const RunSettingsSchema = z.object({
  /** The adapter the nodes run on: `http` (the runner service) or `simulated` (the default). */
  runner_kind: field((v): "http" | "simulated" =>
    typeof v === "string" && v.trim().toLowerCase() === "http" ? "http" : "simulated",
  ),
  /** Nodes of one level in flight at once, below the deployment limit; null: the limit. */
  max_parallelism: field((v) => {
    const n = Number(v);
    return Number.isFinite(n) && n >= 1 ? Math.floor(n) : null;
  }),
  /** Build-wide retry budget per node (default 0). */
  max_task_retries: field((v) => budget(v ?? 0)),
  /** Per-node retry budgets (set by the planner policy); a node without one has `max_task_retries`. */
  node_retry_budgets: field((v) => byNode(v, (x) => (x === undefined || x === null ? undefined : budget(x)), "any")),
  /** Per-node deadlines (ms, > 0). */
  node_timeouts_ms: field((v) =>
    byNode(
      v,
      (x) => {
        const n = Number(x);
        return Number.isFinite(n) && n > 0 ? n : undefined;
      },
      "any",
    ),
  ),
  /** Backoff between attempts, clamped. */
  retry_policy: field(retryPolicy),
  /** `deterministic` arms the one-time fallback of an autonomous build (SPEC §4.9). */
  fallback_scan_mode: field((v) => (v === "deterministic" ? ("deterministic" as const) : null)),
  /** A node out of retries (and of fallback) aborts the build instead of failing it. */
  replanner_abort_on_terminal_failure: field((v) => Boolean(v)),
  /** Simulated duration of every node without its own (ms). */
  simulated_duration_ms: field((v) => finiteNumber(v) ?? null),
  runner_results: field((v) => byNode(v, runnerOverride)),
  workspace_id: field((v) => (typeof v === "string" ? v : null)),
  /** Root of relative paths in the execution policy (trimmed; null: the runner's default). */
  workspace_root: field((v) => (typeof v === "string" && v.trim() ? v.trim() : null)),
  required_capabilities: field(strings),
  node_required_capabilities: field((v) => byNode(v, strings)),
  node_policy: field((v) => byNode(v, nodePolicy)),
  /** Capabilities the executor offers (`executor_capabilities`, else the older `capabilities`). */
  executor_capabilities: field(strings),
  policy_blocked_commands: field(strings),
  policy_blocked_paths: field(strings),
  policy_allowed_paths: field(strings),
  /** Tenant secrets handed to the runner per node (names). */
  node_secrets: field((v) =>
    byNode(
      v,
      (x) => (Array.isArray(x) ? x.filter((s): s is string => typeof s === "string" && s.trim() !== "") : []),
      "any",
    ),
  ),
  /** Development/test seam: every tick of the build throws (dead-letters.guard.ts). */
  test_poison_ticks: field((v) => v === true),
  /**
   * The POLICY_GATE's finding thresholds (issue 16; src/findings/gate.ts): any critical or more
   * than 5 high fail it by default. Malformed thresholds are refused at creation, so a stored
   * value always parses; the defaults stand in otherwise.
   */
  finding_thresholds: field((v) => {
    const parsed = FindingThresholds.safeParse(v ?? {});
    return parsed.success ? parsed.data : DEFAULT_FINDING_THRESHOLDS;
  }),
});

export type RunSettings = z.infer<typeof RunSettingsSchema>;

/** Parses a build's metadata into its settings (never throws; defaults for what is absent or malformed). */
export function parseRunSettings(metadata: Record<string, unknown>): RunSettings {
  // `executor_capabilities ?? capabilities`: the older key counts only when the newer is absent.
  return RunSettingsSchema.parse({
    ...metadata,
    executor_capabilities: metadata.executor_capabilities ?? metadata.capabilities,
  });
}

/** The entry of `nodeId` in a per-node map: own keys only, so a node named `constructor` reads no prototype member. */
export function forNode<T>(map: Readonly<Record<string, T>>, nodeId: string): T | undefined {
  return Object.hasOwn(map, nodeId) ? map[nodeId] : undefined;
}

/** Nodes of one level in flight at once: the deployment limit, lowered by `max_parallelism`. */
export function effectiveParallelism(settings: RunSettings, limit: number): number {
  return settings.max_parallelism === null ? limit : Math.min(limit, settings.max_parallelism);
}

/** The adapter a build's nodes run on (creation resolves and stores it: `resolveRunnerKind`). */
export function adapterOf(settings: RunSettings): "http" | "simulated" {
  return settings.runner_kind;
}

/** Deadline of a node: `node_timeouts_ms[node]`, else `fallback`. */
export function nodeTimeoutMs(settings: RunSettings, nodeId: string, fallback: number): number {
  return forNode(settings.node_timeouts_ms, nodeId) ?? fallback;
}

/** The simulated result override of a node (every field defaulted when the build gives none). */
export function runnerOverrideOf(settings: RunSettings, nodeId: string): RunnerOverride {
  return forNode(settings.runner_results, nodeId) ?? runnerOverride(undefined);
}

/** Retry budget of a node: its own (planner policy), else the build-wide `max_task_retries`. */
export function retryBudget(settings: RunSettings, nodeId?: string): number {
  const own = nodeId === undefined ? undefined : forNode(settings.node_retry_budgets, nodeId);
  return own ?? settings.max_task_retries;
}
