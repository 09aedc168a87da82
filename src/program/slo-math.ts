/**
 * SLO arithmetic, pure: the reference summary fields of SPEC §6.6, and per objective the SLI per
 * window, error budget remaining over the 30-day budget period, burn rates and the alert state of
 * the SRE workbook's multiwindow, multi-burn-rate table (14.4× 1h/5m page, 6× 6h/30m page,
 * 1× 3d/6h ticket). `no_data` (no eligible build in the budget period) is distinct from `healthy`.
 * Called by slo.service.ts; unit-tested in test/program/slo-math.test.ts.
 */
import { parseTimestamp } from "../lib/ids";
import { roundTo } from "./rounding";

/** Windows reported for every objective (the three alert pairs need 30m and 3d besides 5m/1h/6h/30d). */
export const SLO_WINDOWS = [
  { name: "5m", seconds: 5 * 60 },
  { name: "30m", seconds: 30 * 60 },
  { name: "1h", seconds: 60 * 60 },
  { name: "6h", seconds: 6 * 60 * 60 },
  { name: "3d", seconds: 3 * 24 * 60 * 60 },
  { name: "30d", seconds: 30 * 24 * 60 * 60 },
] as const;
export type SloWindowName = (typeof SLO_WINDOWS)[number]["name"];
export const BUDGET_PERIOD: SloWindowName = "30d";

/** SRE workbook, "Alerting on SLOs", recommended multiwindow multi-burn-rate parameters. */
export const BURN_RATE_ALERTS = [
  { severity: "page", long_window: "1h", short_window: "5m", burn_rate_threshold: 14.4, budget_consumed: 0.02 },
  { severity: "page", long_window: "6h", short_window: "30m", burn_rate_threshold: 6, budget_consumed: 0.05 },
  { severity: "ticket", long_window: "3d", short_window: "6h", burn_rate_threshold: 1, budget_consumed: 0.1 },
] as const satisfies ReadonlyArray<{
  severity: "page" | "ticket";
  long_window: SloWindowName;
  short_window: SloWindowName;
  burn_rate_threshold: number;
  budget_consumed: number;
}>;

/** Alert state of an objective, worst first. */
export const SLO_STATES = [
  "page", // a page-severity burn-rate alert fires: the budget burns fast
  "ticket", // only the slow-burn (ticket) alert fires, or the period's budget is used up
  "healthy", // eligible builds exist and no alert fires
  "no_data", // no eligible build in the budget period: nothing to judge, not healthy
] as const;
export type SloState = (typeof SLO_STATES)[number];

export interface WindowCounts {
  /** Eligible events (builds) in the window. */
  valid: number;
  /** Of those, the good ones. */
  good: number;
}

export interface ObjectiveInput {
  name: string;
  description: string;
  /** Good fraction to reach, 0 < target < 1. */
  target: number;
  counts: Readonly<Record<SloWindowName, WindowCounts>>;
  extra?: Record<string, unknown>;
}

function burnRate(c: WindowCounts, target: number): number | null {
  if (c.valid === 0) return null;
  return (c.valid - c.good) / c.valid / (1 - target);
}

const round4 = (x: number | null) => (x === null ? null : roundTo(x, 4));

export function evaluateObjective(o: ObjectiveInput) {
  const windows = Object.fromEntries(
    SLO_WINDOWS.map(({ name }) => {
      const c = o.counts[name];
      return [
        name,
        {
          valid: c.valid,
          good: c.good,
          bad: c.valid - c.good,
          sli: round4(c.valid === 0 ? null : c.good / c.valid),
          burn_rate: round4(burnRate(c, o.target)),
        },
      ];
    }),
  ) as Record<
    SloWindowName,
    { valid: number; good: number; bad: number; sli: number | null; burn_rate: number | null }
  >;

  // Alerts compare the burn rates as reported (4 decimals), so a rate shown as 1 fires a 1× rule
  // even when 1 − target is not exact in binary.
  const alerts = BURN_RATE_ALERTS.map((a) => {
    const long = round4(burnRate(o.counts[a.long_window], o.target));
    const short = round4(burnRate(o.counts[a.short_window], o.target));
    const firing = long !== null && short !== null && long >= a.burn_rate_threshold && short >= a.burn_rate_threshold;
    return { ...a, long_burn_rate: long, short_burn_rate: short, firing };
  });

  const period = burnRate(o.counts[BUDGET_PERIOD], o.target);
  const budgetRemaining = round4(period === null ? null : 1 - period);
  let state: SloState;
  if (o.counts[BUDGET_PERIOD].valid === 0) state = "no_data";
  else if (alerts.some((a) => a.firing && a.severity === "page")) state = "page";
  // An exhausted budget needs attention even when nothing burns right now.
  else if (alerts.some((a) => a.firing) || (budgetRemaining !== null && budgetRemaining <= 0)) state = "ticket";
  else state = "healthy";

  return {
    name: o.name,
    description: o.description,
    target: o.target,
    ...o.extra,
    budget_period: BUDGET_PERIOD,
    /** 1 − consumed share of the period's budget; negative when overspent, null without data. */
    error_budget_remaining: budgetRemaining,
    windows,
    alerts,
    state,
  };
}
export type ObjectiveReport = ReturnType<typeof evaluateObjective>;

/** Overall state: the worst objective state, `no_data` only when every objective has none. */
export function worstState(states: readonly SloState[]): SloState {
  for (const s of SLO_STATES) if (states.includes(s)) return s;
  return "no_data";
}

export interface BuildTimes {
  status: string;
  created_at: string;
  updated_at: string;
}

/** The reference summary (SPEC §6.6) over the given builds (the caller's 500 most recent). */
export function referenceSummary(builds: readonly BuildTimes[]) {
  const count = (...statuses: string[]) => builds.filter((b) => statuses.includes(b.status)).length;
  const total = builds.length;
  const cycles = builds.map((b) => Math.max(0, (parseTimestamp(b.updated_at) - parseTimestamp(b.created_at)) / 1000));
  return {
    total_builds: total,
    completed_builds: count("completed"),
    failed_builds: count("failed"),
    aborted_builds: count("aborted"),
    running_builds: count("running", "paused", "pending"),
    success_rate: total === 0 ? 0 : roundTo(count("completed") / total, 4),
    mean_cycle_seconds: total === 0 ? 0 : roundTo(cycles.reduce((a, b) => a + b, 0) / total, 4),
  };
}
