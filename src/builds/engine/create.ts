/**
 * Creation of a build run (SPEC §4.7): the initial state and the Draft of its first batch.
 */
import { emptyTally } from "./findings-tally";
import type { DagNode } from "../builds.types";
import { isoTimestamp } from "../../lib/ids";
import { Draft } from "./draft";
import { type BuildState, engineStateOf, toNodeStates } from "./run-state";
import { adapterOf, parseRunSettings } from "./run-settings";

export interface CreateInput {
  build_id: string;
  runtime_id: string;
  tenant_id: string;
  created_by: string;
  repo_url: string;
  objective: string;
  scan_mode: string;
  metadata: Record<string, unknown>;
  dag: DagNode[];
}

/** SPEC §4.7: created pending, then running, BUILD_STARTED, LEVEL_STARTED(0), checkpoint. */
export function createBuild(input: CreateInput, now: number): Draft {
  const ts = isoTimestamp(now);
  const { nodes, levels } = toNodeStates(input.dag);
  const settings = parseRunSettings(input.metadata);
  const state: BuildState = {
    build_id: input.build_id,
    tenant_id: input.tenant_id,
    created_by: input.created_by,
    repo_url: input.repo_url,
    objective: input.objective,
    status: "pending",
    scan_mode: input.scan_mode,
    metadata: { ...input.metadata, dag_levels: levels, level_cursor: 0 },
    settings,
    engine: { ...engineStateOf(input.metadata), level_cursor: 0 },
    created_at: ts,
    updated_at: ts,
    nodes,
    task_runs: [],
    debt_items: [],
    policy_violations: [],
    next_seq: 1,
    findings: emptyTally(),
    runtime: {
      // The sandbox the nodes run in: the runner's bubblewrap profile, or none (simulated; issue 15).
      runtime_id: input.runtime_id,
      status: "bootstrapped",
      sandbox_profile: adapterOf(settings) === "http" ? "runner-bubblewrap" : "simulated",
      created_at: ts,
      updated_at: ts,
      metadata: {
        repo_url: input.repo_url,
        objective: input.objective,
        dag_nodes: nodes.map((n) => n.node_id),
        level_count: levels.length,
      },
    },
  };
  const d = new Draft(state, now);
  d.nodesReplaced = true;
  d.sessionTouched = true;
  d.transition("running", "build_created", "system");
  d.emit("BUILD_STARTED", {
    repo_url: state.repo_url,
    objective: state.objective,
    scan_mode: state.scan_mode,
    dag_nodes: nodes.map((n) => n.node_id),
  });
  if (levels.length > 0) d.emit("LEVEL_STARTED", { level: 0, nodes: levels[0] });
  d.checkpoint("build_created");
  return d;
}
