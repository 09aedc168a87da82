/**
 * /v1/planner routes: the tenant's versioned planner policies (list, read, the active one,
 * create, activate). Reads need program.policy.read, writes program.policy.write. Handlers read
 * validated input, call one service function and return JSON.
 */
import { Hono } from "hono";
import type { AppEnv } from "../kernel/env";
import { requireCapability } from "../security/route-capability";
import { validate } from "../kernel/validation";
import { PolicyCreateRequest, PolicyListQuery, PolicyVersionParam } from "./planning.schemas";
import * as service from "./planning.service";

const read = requireCapability("program.policy.read");
const write = requireCapability("program.policy.write");

export const planningRoutes = new Hono<AppEnv>()
  .get("/policies", read, validate("query", PolicyListQuery), async (c) => c.json(await service.listPolicies(c.var, c.req.valid("query"))))
  .post("/policies", write, validate("json", PolicyCreateRequest), async (c) => {
    const policy = await service.createPolicy(c.var, c.req.valid("json"));
    c.header("location", `/v1/planner/policies/${policy.version}`);
    return c.json(policy, 201);
  })
  .get("/policies/active", read, async (c) => c.json(await service.getActivePolicy(c.var)))
  .get("/policies/:version", read, validate("param", PolicyVersionParam), async (c) =>
    c.json(await service.getPolicy(c.var, c.req.valid("param").version)),
  )
  .post("/policies/:version/activate", write, validate("param", PolicyVersionParam), async (c) =>
    c.json(await service.activatePolicy(c.var, c.req.valid("param").version)),
  );
