/**
 * Generic completion hook: a build that reaches a final status (BUILD_FINISHED) announces itself
 * here. Builds never import other domains; the worker entry registers subscribers (e.g. the
 * program plane ingests campaign runs). Handlers must be idempotent: a hook may run more than
 * once for the same finish, and a failed build that is resumed finishes again.
 */

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
