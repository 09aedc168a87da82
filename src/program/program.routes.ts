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
  Campaign,
  CampaignCreateRequest,
  CampaignExecuteRequest,
  CampaignExecution,
  CampaignIdParam,
  CampaignPage,
  CampaignReport,
  CampaignRun,
  CampaignRunPage,
  CampaignRunParam,
  ChecklistRequest,
  GoLiveDecision,
  GoLiveRequest,
  PageQuery,
  PolicyCheckRequest,
  PolicyCheckResult,
  PolicyProfile,
  PolicyProfileCreateRequest,
  PolicyProfileIdParam,
  PolicyProfilePage,
  ReleaseChecklist,
  ReleaseIdParam,
  RollbackDrill,
  RollbackDrillRequest,
  RunAccepted,
  ValidationRunRequest,
} from "./program.schemas";
import * as release from "./release.service";
import { SloSummary } from "./slo.schemas";
import { sloSummary } from "./slo.service";
import { PROGRAM_PLANE_WEEK_ALIASES, mountWeekAliases } from "./week-aliases";
import { describeRoute, created, ok, upserted } from "../kernel/route-meta";
import { BUILD_ERRORS } from "../builds/builds.schemas";

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
  .post(
    "/campaigns",
    describeRoute({
      operationId: "createCampaign",
      tag: "campaigns",
      summary: "Create a validation campaign",
      responses: created(Campaign),
    }),
    cap.validationWrite,
    validate("json", CampaignCreateRequest),
    async (c) => {
      const campaign = await campaigns.createCampaign(c.var, c.req.valid("json"));
      c.header("location", `/v1/program/campaigns/${campaign.campaign_id}`);
      return c.json(campaign, 201);
    },
  )
  .get(
    "/campaigns",
    describeRoute({
      operationId: "listCampaigns",
      tag: "campaigns",
      summary: "Campaigns, newest first",
      responses: ok(CampaignPage),
    }),
    cap.validationRead,
    validate("query", PageQuery),
    async (c) => c.json(await campaigns.listCampaigns(c.var, c.req.valid("query"))),
  )
  .get(
    "/campaigns/:campaign_id",
    describeRoute({
      operationId: "getCampaign",
      tag: "campaigns",
      summary: "One campaign",
      responses: ok(Campaign),
      errors: ["campaign_not_found"],
    }),
    cap.validationRead,
    validate("param", CampaignIdParam),
    async (c) => c.json(await campaigns.getCampaign(c.var, c.req.valid("param").campaign_id)),
  )
  .post(
    "/campaigns/:campaign_id/runs",
    describeRoute({
      operationId: "ingestCampaignRun",
      tag: "campaigns",
      summary: "Store a validation run (201 new, 200 replaced)",
      responses: upserted(RunAccepted),
      errors: ["campaign_not_found", "campaign_run_conflict", "campaign_run_limit_exceeded"],
    }),
    cap.validationWrite,
    validate("param", CampaignIdParam),
    validate("json", ValidationRunRequest),
    async (c) => {
      const { campaign_id } = c.req.valid("param");
      const res = await campaigns.ingestRun(c.var, campaign_id, c.req.valid("json"));
      if (res.created) c.header("location", `/v1/program/campaigns/${campaign_id}/runs/${enc(res.body.run_id)}`);
      return c.json(res.body, res.created ? 201 : 200);
    },
  )
  .get(
    "/campaigns/:campaign_id/runs",
    describeRoute({
      operationId: "listCampaignRuns",
      tag: "campaigns",
      summary: "Stored runs by run_id",
      responses: ok(CampaignRunPage),
      errors: ["campaign_not_found"],
    }),
    cap.validationRead,
    validate("param", CampaignIdParam),
    validate("query", PageQuery),
    async (c) => c.json(await campaigns.listRuns(c.var, c.req.valid("param").campaign_id, c.req.valid("query"))),
  )
  .get(
    "/campaigns/:campaign_id/runs/:run_id",
    describeRoute({
      operationId: "getCampaignRun",
      tag: "campaigns",
      summary: "One stored run",
      responses: ok(CampaignRun),
      errors: ["campaign_not_found", "campaign_run_not_found"],
    }),
    cap.validationRead,
    validate("param", CampaignRunParam),
    async (c) => {
      const { campaign_id, run_id } = c.req.valid("param");
      return c.json(await campaigns.getRun(c.var, campaign_id, run_id));
    },
  )
  .get(
    "/campaigns/:campaign_id/report",
    describeRoute({
      operationId: "campaignReport",
      tag: "campaigns",
      summary: "Summary, gate, rubric, recommendations and plan (SPEC §6.1 formulas)",
      responses: ok(CampaignReport),
      errors: ["campaign_not_found"],
    }),
    cap.validationRead,
    validate("param", CampaignIdParam),
    async (c) => c.json(await campaigns.campaignReport(c.var, c.req.valid("param").campaign_id)),
  )
  .post(
    "/campaigns/:campaign_id/execute",
    describeRoute({
      operationId: "executeCampaign",
      tag: "campaigns",
      summary: "One build per repo × run of the plan; finished builds become runs by themselves",
      responses: { 202: { description: "Accepted", schema: CampaignExecution, location: true } },
      errors: ["campaign_not_found", "campaign_execution_in_progress", "campaign_plan_invalid", "invalid_dag"],
    }),
    cap.validationWrite,
    validate("param", CampaignIdParam),
    validate("json", CampaignExecuteRequest),
    async (c) => {
      const { campaign_id } = c.req.valid("param");
      const execution = await campaigns.executeCampaign({ ...c.var, env: c.env }, campaign_id, c.req.valid("json"));
      c.header("location", `/v1/program/campaigns/${campaign_id}/report`);
      return c.json(execution, 202);
    },
  )
  // ---- policy (SPEC §6.2) --------------------------------------------------------------------
  .post(
    "/policy-profiles",
    describeRoute({
      operationId: "createPolicyProfile",
      tag: "policy",
      summary: "Create a policy profile",
      responses: created(PolicyProfile),
    }),
    cap.policyWrite,
    validate("json", PolicyProfileCreateRequest),
    async (c) => {
      const profile = await policy.createProfile(c.var, c.req.valid("json"));
      c.header("location", `/v1/program/policy-profiles/${profile.profile_id}`);
      return c.json(profile, 201);
    },
  )
  .get(
    "/policy-profiles",
    describeRoute({
      operationId: "listPolicyProfiles",
      tag: "policy",
      summary: "Policy profiles, newest first",
      responses: ok(PolicyProfilePage),
    }),
    cap.policyRead,
    validate("query", PageQuery),
    async (c) => c.json(await policy.listProfiles(c.var, c.req.valid("query"))),
  )
  .get(
    "/policy-profiles/:profile_id",
    describeRoute({
      operationId: "getPolicyProfile",
      tag: "policy",
      summary: "One policy profile",
      responses: ok(PolicyProfile),
      errors: ["policy_profile_not_found"],
    }),
    cap.policyRead,
    validate("param", PolicyProfileIdParam),
    async (c) => c.json(await policy.getProfile(c.var, c.req.valid("param").profile_id)),
  )
  .post(
    "/policy-check",
    describeRoute({
      operationId: "policyCheck",
      tag: "policy",
      summary: "ALLOW or BLOCK a command (a BLOCK with build_id is written back to the build)",
      responses: ok(PolicyCheckResult),
      errors: ["policy_profile_not_found", ...BUILD_ERRORS, "lease_lost"],
    }),
    cap.policyCheck,
    validate("json", PolicyCheckRequest),
    async (c) => c.json(await policy.checkPolicy({ ...c.var, env: c.env }, c.req.valid("json"))),
  )
  // ---- SLO (SPEC §6.6) -----------------------------------------------------------------------
  .get(
    "/slo-summary",
    describeRoute({
      operationId: "sloSummary",
      tag: "release",
      summary: "SLO summary with objectives, windows, error budget and burn rates",
      responses: ok(SloSummary),
    }),
    cap.runtimeRead,
    async (c) => c.json(await sloSummary(c.var)),
  )
  // ---- release (SPEC §6.7–6.8) ---------------------------------------------------------------
  .post(
    "/checklist",
    describeRoute({
      operationId: "upsertChecklist",
      tag: "release",
      summary: "Upsert a release checklist",
      responses: upserted(ReleaseChecklist),
    }),
    cap.releaseWrite,
    validate("json", ChecklistRequest),
    async (c) => {
      const res = await release.upsertChecklist(c.var, c.req.valid("json"));
      c.header("location", `/v1/program/checklist/${enc(res.body.release_id)}`);
      return c.json(res.body, res.created ? 201 : 200);
    },
  )
  .get(
    "/checklist/:release_id",
    describeRoute({
      operationId: "getChecklist",
      tag: "release",
      summary: "A release checklist",
      responses: ok(ReleaseChecklist),
      errors: ["checklist_not_found"],
    }),
    cap.releaseRead,
    validate("param", ReleaseIdParam),
    async (c) => c.json(await release.getChecklist(c.var, c.req.valid("param").release_id)),
  )
  .post(
    "/rollback-drills",
    describeRoute({
      operationId: "upsertRollbackDrill",
      tag: "release",
      summary: "Upsert a rollback drill",
      responses: upserted(RollbackDrill),
    }),
    cap.releaseWrite,
    validate("json", RollbackDrillRequest),
    async (c) => {
      const res = await release.upsertDrill(c.var, c.req.valid("json"));
      c.header("location", `/v1/program/rollback-drills/${enc(res.body.release_id)}`);
      return c.json(res.body, res.created ? 201 : 200);
    },
  )
  .get(
    "/rollback-drills/:release_id",
    describeRoute({
      operationId: "getRollbackDrill",
      tag: "release",
      summary: "A rollback drill",
      responses: ok(RollbackDrill),
      errors: ["rollback_drill_not_found"],
    }),
    cap.releaseRead,
    validate("param", ReleaseIdParam),
    async (c) => c.json(await release.getDrill(c.var, c.req.valid("param").release_id)),
  )
  .post(
    "/go-live-decision",
    describeRoute({
      operationId: "decideGoLive",
      tag: "release",
      summary: "GO/NO_GO with SPEC-ordered reasons (readiness from a campaign when campaign_id is given)",
      responses: upserted(GoLiveDecision),
      errors: ["campaign_not_found"],
    }),
    cap.releaseWrite,
    validate("json", GoLiveRequest),
    async (c) => {
      const res = await release.makeGoLiveDecision(c.var, c.req.valid("json"));
      c.header("location", `/v1/program/go-live-decision/${enc(res.body.release_id)}`);
      return c.json(res.body, res.created ? 201 : 200);
    },
  )
  .get(
    "/go-live-decision/:release_id",
    describeRoute({
      operationId: "getGoLiveDecision",
      tag: "release",
      summary: "A go-live decision",
      responses: ok(GoLiveDecision),
      errors: ["go_live_decision_not_found"],
    }),
    cap.releaseRead,
    validate("param", ReleaseIdParam),
    async (c) => c.json(await release.getDecision(c.var, c.req.valid("param").release_id)),
  );

/** The program route group, canonical routes plus their week aliases; mounted at /v1/program. */
export const programRoutes = mountWeekAliases(routes, PROGRAM_PLANE_WEEK_ALIASES);
