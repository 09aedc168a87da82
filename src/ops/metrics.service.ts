/**
 * GET /metrics: the caller's tenant's series (plus deployment-wide ones) in Prometheus text
 * format, read from D1 in one round trip; gauges computed at scrape time (open dead letters,
 * fallback ratio) are added here.
 */
import { and, count, eq, inArray } from "drizzle-orm";
import type { Db } from "../kernel/env";
import type { Principal } from "../kernel/principal";
import { METRIC_FAMILIES } from "./metrics.catalog";
import { type ComputedSamples, renderExposition } from "./metrics.exposition";
import { opsCounters, opsDeadLetters } from "./ops.tables";

export async function renderMetrics(deps: { db: Db; principal: Principal }): Promise<string> {
  const tenant = deps.principal.tenantId;
  const [rows, open] = await deps.db.batch([
    deps.db
      .select({ name: opsCounters.name, labels: opsCounters.labels, value: opsCounters.value })
      .from(opsCounters)
      .where(inArray(opsCounters.tenantId, [tenant, ""])),
    deps.db
      .select({ n: count() })
      .from(opsDeadLetters)
      .where(and(eq(opsDeadLetters.tenantId, tenant), eq(opsDeadLetters.state, "open"))),
  ]);
  const total = (name: string) => rows.filter((r) => r.name === name).reduce((a, r) => a + r.value, 0);
  const created = total(METRIC_FAMILIES.buildsCreated.name);
  const computed: ComputedSamples = {
    [METRIC_FAMILIES.deadLettersOpen.name]: [{ labels: {}, value: open[0]?.n ?? 0 }],
    [METRIC_FAMILIES.fallbackRatio.name]:
      created > 0 ? [{ labels: {}, value: total(METRIC_FAMILIES.fallbacks.name) / created }] : [],
  };
  return renderExposition(rows, computed);
}
