/**
 * GET /v1/program/slo-summary (SPEC §6.6 + DESIGN §6): the reference fields over the caller's 500
 * most recent builds, plus two objectives — build success and completion latency — with windows,
 * error budget remaining, burn rates and alert state (slo-math.ts). Targets come from config.
 * Only builds that ran on a runner count; simulated ones of the budget period are counted apart.
 * Called by program.routes.ts.
 */
import type { Config } from "../kernel/env";
import { isoTimestamp } from "../lib/ids";
import { isTenantAdmin } from "../kernel/principal";
import type { ProgramDeps } from "./campaigns.service";
import {
  BUDGET_PERIOD,
  SLO_WINDOWS,
  type SloWindowName,
  type WindowCounts,
  evaluateObjective,
  referenceSummary,
  worstState,
} from "./slo-math";
import * as repo from "./slo.repo";

/** The reference summary covers at most this many of the most recent builds (SPEC §6.6). */
export const REFERENCE_BUILD_LIMIT = 500;

export async function sloSummary(deps: ProgramDeps & { config: Config }, nowMs = Date.now()) {
  const p = deps.principal;
  const scope: repo.BuildScope = { tenantId: p.tenantId, createdBy: isTenantAdmin(p) ? null : p.sub };
  const period = SLO_WINDOWS.find((w) => w.name === BUDGET_PERIOD)?.seconds ?? 0;
  const createdSince = isoTimestamp(nowMs - period * 1000);
  const [recent, aggregates, simulated] = await Promise.all([
    repo.recentBuilds(deps.db, scope, REFERENCE_BUILD_LIMIT),
    repo.windowAggregates(deps.db, scope, {
      createdSince,
      windowStarts: SLO_WINDOWS.map((w) => isoTimestamp(nowMs - w.seconds * 1000)),
      latencySeconds: deps.config.SLO_COMPLETION_LATENCY_SECONDS,
    }),
    repo.simulatedSince(deps.db, scope, createdSince),
  ]);
  const success = {} as Record<SloWindowName, WindowCounts>;
  const latency = {} as Record<SloWindowName, WindowCounts>;
  SLO_WINDOWS.forEach((w, i) => {
    const a = aggregates[i] ?? { completed: 0, bad: 0, fast: 0 };
    success[w.name] = { valid: a.completed + a.bad, good: a.completed };
    latency[w.name] = { valid: a.completed, good: a.fast };
  });
  const objectives = [
    evaluateObjective({
      name: "build_success",
      description:
        "Finished builds that complete (failed and system-aborted builds are bad; operator aborts are excluded).",
      target: deps.config.SLO_BUILD_SUCCESS_TARGET,
      counts: success,
    }),
    evaluateObjective({
      name: "completion_latency",
      description: "Completed builds whose cycle time (created → finished) is within the threshold.",
      target: deps.config.SLO_COMPLETION_LATENCY_TARGET,
      counts: latency,
      extra: { threshold_seconds: deps.config.SLO_COMPLETION_LATENCY_SECONDS },
    }),
  ];
  return {
    ...referenceSummary(recent),
    scope: scope.createdBy === null ? ("tenant" as const) : ("caller" as const),
    generated_at: isoTimestamp(nowMs),
    state: worstState(objectives.map((o) => o.state)),
    objectives,
    simulated_builds_excluded: simulated,
  };
}
