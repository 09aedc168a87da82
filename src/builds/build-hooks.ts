/**
 * Generic completion hook: a build that reaches a final status (BUILD_FINISHED) announces itself
 * here. Builds never import other domains; the worker entry registers subscribers (e.g. the
 * program plane ingests campaign runs). Handlers must be idempotent: a hook may run more than
 * once for the same finish, and a failed build that is resumed finishes again.
 */
import type { Deps } from "../kernel/request-deps";

export interface BuildFinished {
  build_id: string;
  tenant_id: string;
  created_by: string;
  repo_url: string;
  final_status: "completed" | "failed" | "aborted";
  metadata: Record<string, unknown>;
  created_at: string;
  finished_at: string;
  duration_ms: number;
  /** Findings the build's runners reported (the http adapter; the simulated runner reports none). */
  findings_total: number;
}

export type BuildFinishedHook = (env: Env, event: BuildFinished) => Promise<void>;

const hooks: BuildFinishedHook[] = [];

/** Registers a subscriber (call at module load of the worker entry only). */
export function onBuildFinished(hook: BuildFinishedHook): void {
  if (!hooks.includes(hook)) hooks.push(hook);
}

/** Runs every subscriber; a failing one is logged and does not affect the others or the build. */
export async function announceBuildFinished(env: Env, event: BuildFinished): Promise<void> {
  for (const hook of hooks) {
    try {
      await hook(env, event);
    } catch (err) {
      console.error(
        JSON.stringify({
          level: "error",
          msg: "build_finished_hook_failed",
          build_id: event.build_id,
          error: err instanceof Error ? err.message : String(err),
        }),
      );
    }
  }
}

/**
 * Creation hook: before a build is planned, a subscriber may resolve references in its metadata
 * into settings (e.g. the program plane turns `policy_profile_id` into the profile's finding
 * thresholds). It returns metadata additions, or throws an AppError (the create answers it and
 * nothing is stored).
 */
export type BuildCreateHook = (deps: Deps, metadata: Record<string, unknown>) => Promise<Record<string, unknown>>;

const createHooks: BuildCreateHook[] = [];

/** Registers a creation subscriber (call at module load of the worker entry only). */
export function onBuildCreate(hook: BuildCreateHook): void {
  if (!createHooks.includes(hook)) createHooks.push(hook);
}

/** The metadata with every creation subscriber's additions. */
export async function resolveCreateHooks(deps: Deps, metadata: Record<string, unknown>) {
  let out = metadata;
  for (const hook of createHooks) out = { ...out, ...(await hook(deps, out)) };
  return out;
}
