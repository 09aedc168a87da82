/**
 * Response schema of the SLO summary (SPEC §6.6 + DESIGN §6): objectives, windows, error budget,
 * burn rates and the multiwindow alert state. Also read by the control plane's own alerting.
 */
import { z } from "zod";
import { int, registerResponses, ts } from "../kernel/api-schemas";

const SLO_WINDOWS = ["5m", "30m", "1h", "6h", "3d", "30d"] as const;
export const SLO_STATES = ["page", "ticket", "healthy", "no_data"] as const;
const nnum = z.number().nullable();

export const SloSummary = z.object({
  scope: z.enum(["tenant", "caller"]),
  generated_at: ts,
  state: z.enum(SLO_STATES),
  objectives: z.array(
    z.object({
      name: z.string(),
      description: z.string(),
      target: z.number(),
      threshold_seconds: z.number().optional().describe("Latency objective: the completion-time threshold."),
      budget_period: z.enum(SLO_WINDOWS),
      error_budget_remaining: nnum,
      windows: z.record(z.enum(SLO_WINDOWS), z.object({ valid: int, good: int, bad: int, sli: nnum, burn_rate: nnum })),
      alerts: z.array(
        z.object({
          severity: z.enum(["page", "ticket"]),
          long_window: z.enum(SLO_WINDOWS),
          short_window: z.enum(SLO_WINDOWS),
          burn_rate_threshold: z.number(),
          budget_consumed: z.number(),
          long_burn_rate: nnum,
          short_burn_rate: nnum,
          firing: z.boolean(),
        }),
      ),
      state: z.enum(SLO_STATES),
    }),
  ),
  total_builds: int,
  completed_builds: int,
  failed_builds: int,
  aborted_builds: int,
  running_builds: int,
  success_rate: z.number(),
  mean_cycle_seconds: z.number(),
  simulated_builds_excluded: int.describe("Simulated builds of the budget period: no evidence, not counted."),
});

export type SloSummary = z.infer<typeof SloSummary>;

registerResponses({ SloSummary });
