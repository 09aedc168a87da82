/**
 * What the control plane alerts on, per tenant, from what it already knows: each SLO objective's
 * multiwindow burn-rate state (page / ticket, slo.service.ts), open dead letters, stuck builds
 * (running with a lease expired longer than the watchdog threshold) and each campaign's drift
 * verdict (trends.ts). Returns one observation per alert key; alerts.service.ts turns them into
 * transitions and notifications.
 */
import { desc, eq } from "drizzle-orm";
import { countOpen } from "../builds/dead-letters.repo";
import type { Config, Db } from "../kernel/env";
import { isoTimestamp } from "../lib/ids";
import type { Observation } from "./alert-machine";
import { countStuckBuilds } from "./alerts.repo";
import { lastFinishedExecutions } from "./executions.repo";
import { campaigns } from "./program.tables";
import { sloSummary } from "./slo.service";
import { DRIFT_RULE, computeTrends } from "./trends";

/** Most campaigns per tenant checked for drift on one evaluation (the most recently updated). */
const DRIFT_CAMPAIGNS = 50;

export async function observe(db: Db, config: Config, tenantId: string, nowMs: number): Promise<Observation[]> {
  const out: Observation[] = [];
  const principal = { sub: "system:alerts", tenantId, roles: [], capabilities: ["*"] };
  const slo = await sloSummary({ db, config, principal }, nowMs);
  for (const o of slo.objectives) {
    const firing = o.state === "page" || o.state === "ticket";
    out.push({
      key: `slo:${o.name}`,
      firing,
      severity: o.state === "page" ? "page" : "ticket",
      summary: `SLO ${o.name} is ${o.state} (error budget remaining ${o.error_budget_remaining ?? "n/a"})`,
      details: {
        state: o.state,
        alerts: o.alerts.filter((a) => a.firing),
        error_budget_remaining: o.error_budget_remaining,
      },
    });
  }
  const dead = await countOpen(db, tenantId);
  out.push({
    key: "dead_letters",
    firing: dead > 0,
    severity: "ticket",
    summary: `${dead} build(s) dead-lettered`,
    details: { open: dead },
  });
  const staleBefore = isoTimestamp(nowMs - config.RUNTIME_WATCHDOG_STALE_SECONDS * 1000);
  const stuck = await countStuckBuilds(db, tenantId, staleBefore);
  out.push({
    key: "stuck_builds",
    firing: stuck > 0,
    severity: "page",
    summary: `${stuck} running build(s) without a live lease for over ${config.RUNTIME_WATCHDOG_STALE_SECONDS} s`,
    details: { stuck },
  });
  const recent = await db
    .select()
    .from(campaigns)
    .where(eq(campaigns.tenantId, tenantId))
    .orderBy(desc(campaigns.updatedAt))
    .limit(DRIFT_CAMPAIGNS);
  for (const c of recent) {
    const rows = await lastFinishedExecutions(db, c.campaignId, DRIFT_RULE.window);
    const inputs = rows.flatMap((r) =>
      r.report && r.finishedAt
        ? [
            {
              n: r.seq,
              execution_id: r.executionId,
              trigger: "manual" as const,
              finished_at: r.finishedAt,
              report: r.report,
            },
          ]
        : [],
    );
    if (inputs.length < 2) continue;
    const { drift } = computeTrends(inputs);
    out.push({
      key: `campaign_drift:${c.campaignId}`,
      firing: drift.verdict === "degrading",
      severity: "ticket",
      summary: `Campaign “${c.name}” is ${drift.verdict}${because(drift.reasons)}`,
      details: { campaign_id: c.campaignId, ...drift },
    });
  }
  return out;
}

/** " (a, b)" for reasons, "" for none. */
function because(reasons: readonly string[]): string {
  return reasons.length ? ` (${reasons.join(", ")})` : "";
}
