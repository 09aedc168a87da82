/**
 * /v1/program campaign history routes (issue 23): the schedule of a campaign, its numbered
 * executions with their frozen reports, and its trends. Thin: validated input → one service call.
 * Tenant-scoped like every program route; reads need `program.validation.read`, schedule writes
 * `program.validation.write` on the route and `program.runtime.write` in the service (a schedule
 * starts builds on its author's behalf).
 */
import { Hono } from "hono";
import type { AppEnv } from "../kernel/env";
import { AppError } from "../kernel/errors";
import { describeRoute, ok } from "../kernel/route-meta";
import { validate } from "../kernel/validation";
import { requireCapability } from "../security/route-capability";
import * as campaignsRepo from "./campaigns.repo";
import * as executions from "./executions.service";
import {
  CampaignExecutionDetail,
  CampaignExecutionPage,
  CampaignTrends,
  ExecutionParam,
  TrendsQuery,
} from "./history.schemas";
import { CampaignIdParam, PageQuery } from "./program.schemas";
import { ScheduleInput, ScheduleView } from "./schedule.schemas";
import * as schedules from "./schedules.service";
import { campaignTrends } from "./trends.service";

const read = requireCapability("program.validation.read");
const write = requireCapability("program.validation.write");

async function campaignOf(c: { var: AppEnv["Variables"] }, campaignId: string) {
  const row = await campaignsRepo.getCampaign(c.var.db, c.var.principal.tenantId, campaignId);
  if (!row) throw new AppError("campaign_not_found", "Campaign not found.");
  return row;
}

export const historyRoutes = new Hono<AppEnv>()
  .get(
    "/campaigns/:campaign_id/schedule",
    describeRoute({
      operationId: "getCampaignSchedule",
      tag: "campaigns",
      summary: "The campaign's schedule, next due time and the latest due times' outcomes",
      responses: ok(ScheduleView),
      errors: ["campaign_not_found"],
    }),
    read,
    validate("param", CampaignIdParam),
    async (c) => c.json(await schedules.getSchedule(c.var, c.req.valid("param").campaign_id)),
  )
  .put(
    "/campaigns/:campaign_id/schedule",
    describeRoute({
      operationId: "putCampaignSchedule",
      tag: "campaigns",
      summary: "Set or replace the campaign's cron schedule (executions start on their own when due)",
      responses: ok(ScheduleView),
      errors: ["campaign_not_found", "invalid_schedule", "insufficient_capability"],
    }),
    write,
    validate("param", CampaignIdParam),
    validate("json", ScheduleInput),
    async (c) => c.json(await schedules.putSchedule(c.var, c.req.valid("param").campaign_id, c.req.valid("json"))),
  )
  .delete(
    "/campaigns/:campaign_id/schedule",
    describeRoute({
      operationId: "deleteCampaignSchedule",
      tag: "campaigns",
      summary: "Remove the campaign's schedule (history is kept; manual execution stays)",
      responses: { 204: { description: "Deleted" } },
      errors: ["campaign_not_found", "insufficient_capability"],
    }),
    write,
    validate("param", CampaignIdParam),
    async (c) => {
      await schedules.deleteSchedule(c.var, c.req.valid("param").campaign_id);
      return c.body(null, 204);
    },
  )
  .get(
    "/campaigns/:campaign_id/executions",
    describeRoute({
      operationId: "listCampaignExecutions",
      tag: "campaigns",
      summary: "Every execution of the campaign, newest first, each with its own frozen report",
      responses: ok(CampaignExecutionPage),
      errors: ["campaign_not_found"],
    }),
    read,
    validate("param", CampaignIdParam),
    validate("query", PageQuery),
    async (c) => {
      const campaign = await campaignOf(c, c.req.valid("param").campaign_id);
      return c.json(await executions.listExecutions(c.var.db, campaign, c.req.valid("query")));
    },
  )
  .get(
    "/campaigns/:campaign_id/executions/:n",
    describeRoute({
      operationId: "getCampaignExecution",
      tag: "campaigns",
      summary: "One execution by number, with its runs and frozen report",
      responses: ok(CampaignExecutionDetail),
      errors: ["campaign_not_found", "campaign_execution_not_found"],
    }),
    read,
    validate("param", ExecutionParam),
    async (c) => {
      const { campaign_id, n } = c.req.valid("param");
      return c.json(await executions.getExecution(c.var.db, await campaignOf(c, campaign_id), n));
    },
  )
  .get(
    "/campaigns/:campaign_id/trends",
    describeRoute({
      operationId: "campaignTrends",
      tag: "campaigns",
      summary: "Per execution and per repository trends of finished executions, with a drift verdict",
      responses: ok(CampaignTrends),
      errors: ["campaign_not_found"],
    }),
    read,
    validate("param", CampaignIdParam),
    validate("query", TrendsQuery),
    async (c) => {
      const campaign = await campaignOf(c, c.req.valid("param").campaign_id);
      return c.json(await campaignTrends(c.var.db, campaign, c.req.valid("query")));
    },
  );
