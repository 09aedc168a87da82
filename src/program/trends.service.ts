/**
 * GET …/trends: the campaign's latest finished executions (reconciled first, so a just-finished
 * execution is frozen and counted) through the pure trend maths of trends.ts.
 */
import type { Db } from "../kernel/env";
import { isoTimestamp } from "../lib/ids";
import { reconcile } from "./campaign-ingest";
import type { CampaignRow } from "./campaigns.repo";
import { lastFinishedExecutions } from "./executions.repo";
import type { TrendsQuery } from "./history.schemas";
import { type TrendInput, computeTrends } from "./trends";

export async function campaignTrends(db: Db, campaign: CampaignRow, q: TrendsQuery) {
  await reconcile(db, campaign);
  const rows = await lastFinishedExecutions(db, campaign.campaignId, q.limit);
  const inputs: TrendInput[] = rows.flatMap((r) =>
    r.report && r.finishedAt
      ? [
          {
            n: r.seq,
            execution_id: r.executionId,
            trigger: r.trigger === "schedule" ? "schedule" : "manual",
            finished_at: r.finishedAt,
            report: r.report,
          },
        ]
      : [],
  );
  return { campaign_id: campaign.campaignId, generated_at: isoTimestamp(Date.now()), ...computeTrends(inputs) };
}
