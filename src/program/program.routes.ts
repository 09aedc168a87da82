/**
 * /v1/program routes (SPEC §6.9, DESIGN §6): campaigns and their execution, policy profiles and
 * policy-check, SLO summary, release checklist, rollback drills and go-live decision, plus the
 * week-prefixed aliases of SPEC §6.10. Authentication is app-level; each route requires its one
 * capability. Handlers read validated input, call one service function and return JSON.
 */
import { Hono } from "hono";
import type { AppEnv } from "../kernel/env";
import { requireCapability } from "../security/route-capability";
import { validate } from "../kernel/validation";
import * as campaigns from "./campaigns.service";
import * as policy from "./policy.service";
import {
  CampaignCreateRequest,
  CampaignExecuteRequest,
  CampaignIdParam,
  CampaignRunParam,
  ChecklistRequest,
  GoLiveRequest,
  PageQuery,
  PolicyCheckRequest,
  PolicyProfileCreateRequest,
  PolicyProfileIdParam,
  ReleaseIdParam,
  RollbackDrillRequest,
  ValidationRunRequest,
} from "./program.schemas";
import * as release from "./release.service";
import { sloSummary } from "./slo.service";
import { PROGRAM_PLANE_WEEK_ALIASES, mountWeekAliases } from "./week-aliases";

const cap = {
  validationRead: requireCapability("program.validation.read"),
  validationWrite: requireCapability("program.validation.write"),
  policyRead: requireCapability("program.policy.read"),
  policyWrite: requireCapability("program.policy.write"),
  policyCheck: requireCapability("program.policy.check"),
  runtimeRead: requireCapability("program.runtime.read"),
  releaseRead: requireCapability("program.release.read"),
  releaseWrite: requireCapability("program.release.write"),
};

const enc = encodeURIComponent;

const routes = new Hono<AppEnv>()
  // ---- campaigns (SPEC §6.1) -----------------------------------------------------------------
  .post("/campaigns", cap.validationWrite, validate("json", CampaignCreateRequest), async (c) => {
    const campaign = await campaigns.createCampaign(c.var, c.req.valid("json"));
    c.header("location", `/v1/program/campaigns/${campaign.campaign_id}`);
    return c.json(campaign, 201);
  })
  .get("/campaigns", cap.validationRead, validate("query", PageQuery), async (c) => c.json(await campaigns.listCampaigns(c.var, c.req.valid("query"))))
  .get("/campaigns/:campaign_id", cap.validationRead, validate("param", CampaignIdParam), async (c) =>
    c.json(await campaigns.getCampaign(c.var, c.req.valid("param").campaign_id)),
  )
  .post("/campaigns/:campaign_id/runs", cap.validationWrite, validate("param", CampaignIdParam), validate("json", ValidationRunRequest), async (c) => {
    const { campaign_id } = c.req.valid("param");
    const res = await campaigns.ingestRun(c.var, campaign_id, c.req.valid("json"));
    if (res.created) c.header("location", `/v1/program/campaigns/${campaign_id}/runs/${enc(res.body.run_id)}`);
    return c.json(res.body, res.created ? 201 : 200);
  })
  .get("/campaigns/:campaign_id/runs", cap.validationRead, validate("param", CampaignIdParam), validate("query", PageQuery), async (c) =>
    c.json(await campaigns.listRuns(c.var, c.req.valid("param").campaign_id, c.req.valid("query"))),
  )
  .get("/campaigns/:campaign_id/runs/:run_id", cap.validationRead, validate("param", CampaignRunParam), async (c) => {
    const { campaign_id, run_id } = c.req.valid("param");
    return c.json(await campaigns.getRun(c.var, campaign_id, run_id));
  })
  .get("/campaigns/:campaign_id/report", cap.validationRead, validate("param", CampaignIdParam), async (c) =>
    c.json(await campaigns.campaignReport(c.var, c.req.valid("param").campaign_id)),
  )
  .post("/campaigns/:campaign_id/execute", cap.validationWrite, validate("param", CampaignIdParam), validate("json", CampaignExecuteRequest), async (c) => {
    const { campaign_id } = c.req.valid("param");
    const execution = await campaigns.executeCampaign({ ...c.var, env: c.env }, campaign_id, c.req.valid("json"));
    c.header("location", `/v1/program/campaigns/${campaign_id}/report`);
    return c.json(execution, 202);
  })
  // ---- policy (SPEC §6.2) --------------------------------------------------------------------
  .post("/policy-profiles", cap.policyWrite, validate("json", PolicyProfileCreateRequest), async (c) => {
    const profile = await policy.createProfile(c.var, c.req.valid("json"));
    c.header("location", `/v1/program/policy-profiles/${profile.profile_id}`);
    return c.json(profile, 201);
  })
  .get("/policy-profiles", cap.policyRead, validate("query", PageQuery), async (c) => c.json(await policy.listProfiles(c.var, c.req.valid("query"))))
  .get("/policy-profiles/:profile_id", cap.policyRead, validate("param", PolicyProfileIdParam), async (c) =>
    c.json(await policy.getProfile(c.var, c.req.valid("param").profile_id)),
  )
  .post("/policy-check", cap.policyCheck, validate("json", PolicyCheckRequest), async (c) =>
    c.json(await policy.checkPolicy({ ...c.var, env: c.env }, c.req.valid("json"))),
  )
  // ---- SLO (SPEC §6.6) -----------------------------------------------------------------------
  .get("/slo-summary", cap.runtimeRead, async (c) => c.json(await sloSummary(c.var)))
  // ---- release (SPEC §6.7–6.8) ---------------------------------------------------------------
  .post("/checklist", cap.releaseWrite, validate("json", ChecklistRequest), async (c) => {
    const res = await release.upsertChecklist(c.var, c.req.valid("json"));
    c.header("location", `/v1/program/checklist/${enc(res.body.release_id)}`);
    return c.json(res.body, res.created ? 201 : 200);
  })
  .get("/checklist/:release_id", cap.releaseRead, validate("param", ReleaseIdParam), async (c) =>
    c.json(await release.getChecklist(c.var, c.req.valid("param").release_id)),
  )
  .post("/rollback-drills", cap.releaseWrite, validate("json", RollbackDrillRequest), async (c) => {
    const res = await release.upsertDrill(c.var, c.req.valid("json"));
    c.header("location", `/v1/program/rollback-drills/${enc(res.body.release_id)}`);
    return c.json(res.body, res.created ? 201 : 200);
  })
  .get("/rollback-drills/:release_id", cap.releaseRead, validate("param", ReleaseIdParam), async (c) =>
    c.json(await release.getDrill(c.var, c.req.valid("param").release_id)),
  )
  .post("/go-live-decision", cap.releaseWrite, validate("json", GoLiveRequest), async (c) => {
    const res = await release.makeGoLiveDecision(c.var, c.req.valid("json"));
    c.header("location", `/v1/program/go-live-decision/${enc(res.body.release_id)}`);
    return c.json(res.body, res.created ? 201 : 200);
  })
  .get("/go-live-decision/:release_id", cap.releaseRead, validate("param", ReleaseIdParam), async (c) =>
    c.json(await release.getDecision(c.var, c.req.valid("param").release_id)),
  );

/** The program route group, canonical routes plus their week aliases; mounted at /v1/program. */
export const programRoutes = mountWeekAliases(routes, PROGRAM_PLANE_WEEK_ALIASES);
