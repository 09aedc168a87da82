/**
 * Metrics as a projection of build events (pure): the counter increments one BuildRunner write
 * batch implies. `commitDraft` (builds.repo.ts) writes them in the same fenced D1 batch as the
 * events, so they count each event exactly once — a rolled-back or stale batch counts nothing,
 * and a repeated alarm that changes nothing adds nothing.
 */
import { type CounterIncrement, type FailureMode, counter, observation } from "./metrics.catalog";

export interface EventLike {
  event_type: string;
  payload: Record<string, unknown>;
}

const GATE_EVENTS = new Set(["MERGE_GATE", "TEST_GATE", "POLICY_GATE"]);
const RUNNERS = new Set(["http", "simulated"]);
const NODE_STATUSES = new Set(["completed", "failed", "skipped"]);
const BUILD_STATUSES = new Set(["pending", "running", "paused", "completed", "failed", "aborted"]);

const str = (v: unknown): string => (typeof v === "string" ? v : "");

/** The failure mode of a failed node execution from its error (closed set, bounded labels). */
export function failureMode(error: string | null | undefined): FailureMode {
  const e = (error ?? "").toLowerCase();
  if (e.startsWith("fault_injected")) return "fault_injected";
  if (e === "deadline_exceeded" || e === "node_timeout" || e.includes("timeout") || e.includes("timed out"))
    return "timeout";
  if (e === "heartbeat_missed") return "heartbeat_missed";
  if (e.startsWith("dispatch_")) return "dispatch";
  if (e === "policy_changed") return "policy_denied";
  return "runner_error";
}

/**
 * Increments for the events of one batch of `tenant`'s build. `created` marks the batch that
 * inserts the build row (its status starts as `pending` before the first transition).
 */
export function incrementsFromEvents(
  tenant: string,
  events: readonly EventLike[],
  opts: { created?: boolean } = {},
): CounterIncrement[] {
  const out: CounterIncrement[] = [];
  if (opts.created) {
    out.push(counter(tenant, "builds", { status: "pending" }), counter(tenant, "buildsCreated"));
  }
  // Index of the failure counted for the latest failed RUNNER_RESULT: a POLICY_VIOLATION of the
  // execution policy right after it (same batch) makes it a policy denial.
  let lastFailure: number | null = null;
  for (const e of events) {
    const p = e.payload;
    switch (e.event_type) {
      case "BUILD_STATUS_CHANGED": {
        const from = str(p.from_status);
        const to = str(p.to_status);
        if (BUILD_STATUSES.has(from)) out.push(counter(tenant, "builds", { status: from }, -1));
        if (BUILD_STATUSES.has(to)) out.push(counter(tenant, "builds", { status: to }, 1));
        break;
      }
      case "BUILD_FINISHED":
        if (BUILD_STATUSES.has(str(p.final_status)))
          out.push(counter(tenant, "buildsFinished", { status: str(p.final_status) }));
        break;
      case "RUNNER_RESULT": {
        const runner = RUNNERS.has(str(p.runner)) ? str(p.runner) : "other";
        const status = NODE_STATUSES.has(str(p.status)) ? str(p.status) : "other";
        const ms = typeof p.duration_ms === "number" ? p.duration_ms : 0;
        out.push(...observation(tenant, "nodeDuration", ms / 1000, { runner, status }));
        if (status === "failed") {
          lastFailure = out.length;
          out.push(
            counter(tenant, "nodeFailures", { mode: failureMode(typeof p.error === "string" ? p.error : null) }),
          );
        } else {
          lastFailure = null;
        }
        break;
      }
      case "POLICY_VIOLATION": {
        if (lastFailure !== null && p.source === "execution_policy")
          out[lastFailure] = counter(tenant, "nodeFailures", { mode: "policy_denied" });
        lastFailure = null;
        break;
      }
      case "TASK_RETRY_SCHEDULED":
        out.push(counter(tenant, "taskRetries"));
        break;
      case "FALLBACK_MODE_SWITCHED":
        out.push(counter(tenant, "fallbacks"));
        break;
      default:
        if (GATE_EVENTS.has(e.event_type) && p.status === "FAIL")
          out.push(counter(tenant, "gateFailures", { gate: e.event_type }));
    }
  }
  return out;
}
