/**
 * The operator control actions that change a build in a given status (SPEC §4.10.1), derived from
 * the status machine the control rules of control-actions.ts enforce (builds.types.ts
 * `canTransition`). No-ops are left out: aborting an aborted build (idempotent, 200), resuming a
 * running one (no transition), steering a finished one (recorded only). Published on every
 * BuildRun as `allowed_actions`, so clients (the dashboard) never re-derive the rules. Pure.
 */
import { type BuildStatus, canTransition } from "./builds.types";

/** The control actions a BuildRun can offer, in the order a client shows them. */
export const BUILD_CONTROL_ACTIONS = [
  "resume", // POST /v1/builds/{id}/resume: a halted build (paused, failed) runs again
  "abort", // POST /v1/builds/{id}/abort: the build ends as aborted
  "replan", // POST /v1/builds/{id}/replan: steer a started build that can still run (e.g. REDUCE_SCOPE)
  "checkpoint", // POST /v1/builds/{id}/checkpoints: always possible
] as const;
export type BuildControlAction = (typeof BUILD_CONTROL_ACTIONS)[number];

/** Whether a build in `status` has started and can still run (now, or after a resume). */
function canStillRun(status: BuildStatus): boolean {
  return status === "running" || (status !== "pending" && canTransition(status, "running"));
}

/** The control actions that change a build in `status`, in `BUILD_CONTROL_ACTIONS` order. */
export function allowedActions(status: BuildStatus): BuildControlAction[] {
  const allowed: Record<BuildControlAction, boolean> = {
    // pending → running is the start (done by creation), not a resume.
    resume: status !== "running" && status !== "pending" && canTransition(status, "running"),
    abort: canTransition(status, "aborted"),
    replan: canStillRun(status),
    checkpoint: true,
  };
  return BUILD_CONTROL_ACTIONS.filter((a) => allowed[a]);
}
