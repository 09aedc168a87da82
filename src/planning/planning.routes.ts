/**
 * /v1/planner routes: the tenant's versioned planner policies (list, read, the active one,
 * create, activate). Reads need program.policy.read, writes program.policy.write. Handlers read
 * validated input, call one service function and return JSON.
 */
import { Hono } from "hono";
import type { AppEnv } from "../kernel/env";
import { requireCapability } from "../security/route-capability";
import { validate } from "../kernel/validation";
import {
  PlannerPolicy,
  PlannerPolicyPage,
  PolicyCreateRequest,
  PolicyListQuery,
  PolicyVersionParam,
} from "./planning.schemas";
import * as service from "./planning.service";
import { describeRoute, created, ok } from "../kernel/route-meta";

const read = requireCapability("program.policy.read");
const write = requireCapability("program.policy.write");

export const planningRoutes = new Hono<AppEnv>()
  .get(
    "/policies",
    describeRoute({
      operationId: "listPlannerPolicies",
      tag: "planner",
      summary: "Stored policy versions, newest first",
      responses: ok(PlannerPolicyPage),
    }),
    read,
    validate("query", PolicyListQuery),
    async (c) => c.json(await service.listPolicies(c.var, c.req.valid("query"))),
  )
  .post(
    "/policies",
    describeRoute({
      operationId: "createPlannerPolicy",
      tag: "planner",
      summary: "Store the next policy version (defaults filled in)",
      responses: created(PlannerPolicy),
    }),
    write,
    validate("json", PolicyCreateRequest),
    async (c) => {
      const policy = await service.createPolicy(c.var, c.req.valid("json"));
      c.header("location", `/v1/planner/policies/${policy.version}`);
      return c.json(policy, 201);
    },
  )
  .get(
    "/policies/active",
    describeRoute({
      operationId: "activePlannerPolicy",
      tag: "planner",
      summary: "The policy new builds get (version 0 = built-in)",
      responses: ok(PlannerPolicy),
    }),
    read,
    async (c) => c.json(await service.getActivePolicy(c.var)),
  )
  .get(
    "/policies/:version",
    describeRoute({
      operationId: "getPlannerPolicy",
      tag: "planner",
      summary: "One policy version",
      responses: ok(PlannerPolicy),
      errors: ["planner_policy_not_found"],
    }),
    read,
    validate("param", PolicyVersionParam),
    async (c) => c.json(await service.getPolicy(c.var, c.req.valid("param").version)),
  )
  .post(
    "/policies/:version/activate",
    describeRoute({
      operationId: "activatePlannerPolicy",
      tag: "planner",
      summary: "Make a version the tenant's active policy (idempotent)",
      responses: ok(PlannerPolicy),
      errors: ["planner_policy_not_found"],
    }),
    write,
    validate("param", PolicyVersionParam),
    async (c) => c.json(await service.activatePolicy(c.var, c.req.valid("param").version)),
  );
