/**
 * Pure-core fixtures (issue 20): a build state made by the pure `createBuild`, put in any status,
 * and Drafts opened on copies of it. No Durable Object, no D1, no wall clock: time is a number.
 */
import type { BuildStatus, DagNode } from "../../../src/builds/builds.types";
import { type BuildState, Draft, type TickOptions, createBuild, tick } from "../../../src/builds/run-machine";

export const T0 = Date.parse("2025-01-01T00:00:00.000Z");

export const node = (node_id: string, depends_on: string[] = [], extra: Partial<DagNode> = {}): DagNode => ({
  node_id,
  title: node_id,
  agent: "scanner",
  depends_on,
  gate: null,
  status: "pending",
  ...extra,
});

/** a → (b, c): two levels. */
export const DIAMOND = [node("a"), node("b", ["a"]), node("c", ["a"])];

export function newState(
  opts: { dag?: DagNode[]; metadata?: Record<string, unknown>; scan_mode?: string; status?: BuildStatus } = {},
): BuildState {
  const d = createBuild(
    {
      build_id: "00000000-0000-4000-8000-000000000001",
      runtime_id: "rt-1",
      tenant_id: "t",
      created_by: "u",
      repo_url: "https://example.com/r.git",
      objective: "o",
      scan_mode: opts.scan_mode ?? "custom",
      metadata: { scan_mode: opts.scan_mode ?? "custom", ...opts.metadata },
      dag: opts.dag ?? DIAMOND,
    },
    T0,
  );
  const state = d.state;
  if (opts.status) state.status = opts.status;
  return state;
}

/** A Draft on a copy of `state` at `now` (the state itself stays as it was). */
export const draftOn = (state: BuildState, now = T0): Draft => new Draft(structuredClone(state), now);

export const types = (d: Draft): string[] => d.events.map((e) => e.event_type);

export const OPTS: TickOptions = { parallelism: 8, random: () => 0.5 };

/** Ticks at `now` and returns the draft (its state is the new state). */
export function tickAt(state: BuildState, now: number, opts: Partial<TickOptions> = {}) {
  const d = draftOn(state, now);
  const report = tick(d, { ...OPTS, ...opts });
  return { d, report, state: d.state };
}
