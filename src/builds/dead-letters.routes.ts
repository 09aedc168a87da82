/**
 * Dead-letter operator endpoints under /v1/ops (program.runtime.write: listing shows every
 * dead-lettered build of the tenant, and a re-drive restarts a build's tick loop). Handlers
 * read validated input, call one service function and return.
 */
import { Hono } from "hono";
import type { AppEnv } from "../kernel/env";
import { validate } from "../kernel/validation";
import { requireCapability } from "../security/route-capability";
import * as deadLetters from "./dead-letters.service";
import { DeadLetterListQuery, DeadLetterParam, RedriveAllQuery } from "./dead-letters.schemas";

const operate = requireCapability("program.runtime.write");

type Vars = { env: Env; var: AppEnv["Variables"] };
const deps = (c: Vars) => ({ env: c.env, db: c.var.db, config: c.var.config, principal: c.var.principal, requestId: c.var.requestId });

/** Mounted at /v1/ops. */
export const opsRoutes = new Hono<AppEnv>()
  .get("/dead-letters", operate, validate("query", DeadLetterListQuery), async (c) => c.json(await deadLetters.listDeadLetters(c.var, c.req.valid("query"))))
  .post("/dead-letters/redrive", operate, validate("query", RedriveAllQuery), async (c) =>
    c.json(await deadLetters.redriveAll(deps(c), c.req.valid("query").limit)),
  )
  .get("/dead-letters/:build_id", operate, validate("param", DeadLetterParam), async (c) =>
    c.json(await deadLetters.getDeadLetter(c.var, c.req.valid("param").build_id)),
  )
  .post("/dead-letters/:build_id/redrive", operate, validate("param", DeadLetterParam), async (c) =>
    c.json(await deadLetters.redrive(deps(c), c.req.valid("param").build_id)),
  );
