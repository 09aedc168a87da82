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
import {
  DeadLetter,
  DeadLetterListQuery,
  DeadLetterPage,
  DeadLetterParam,
  RedriveAllQuery,
  RedriveAllResult,
  RedriveResult,
} from "./dead-letters.schemas";
import { describeRoute, ok } from "../kernel/route-meta";
import { requestDeps } from "../kernel/request-deps";

const operate = requireCapability("program.runtime.write");

/** Mounted at /v1/ops. */
export const opsRoutes = new Hono<AppEnv>()
  .get(
    "/dead-letters",
    describeRoute({
      operationId: "listDeadLetters",
      tag: "ops",
      summary: "Dead-lettered builds the caller may see",
      description:
        "Builds whose runtime ticks kept failing (RUNTIME_DEAD_LETTER_AFTER_FAILURES consecutive alarm failures), " +
        "newest first. `state=open` (default), `redriven` or `all`. Scoped like builds: the caller's own builds, " +
        "or the whole tenant's for a tenant admin (`*`).",
      responses: ok(DeadLetterPage),
    }),
    operate,
    validate("query", DeadLetterListQuery),
    async (c) => c.json(await deadLetters.listDeadLetters(c.var, c.req.valid("query"))),
  )
  .post(
    "/dead-letters/redrive",
    describeRoute({
      operationId: "redriveDeadLetters",
      tag: "ops",
      summary: "Re-drive up to `limit` open dead letters the caller may see (after an outage)",
      responses: ok(RedriveAllResult),
    }),
    operate,
    validate("query", RedriveAllQuery),
    async (c) => c.json(await deadLetters.redriveAll(requestDeps(c), c.req.valid("query").limit)),
  )
  .get(
    "/dead-letters/:build_id",
    describeRoute({
      operationId: "getDeadLetter",
      tag: "ops",
      summary: "One dead letter",
      responses: ok(DeadLetter),
      errors: ["dead_letter_not_found", "build_access_denied"],
    }),
    operate,
    validate("param", DeadLetterParam),
    async (c) => c.json(await deadLetters.getDeadLetter(c.var, c.req.valid("param").build_id)),
  )
  .post(
    "/dead-letters/:build_id/redrive",
    describeRoute({
      operationId: "redriveDeadLetter",
      tag: "ops",
      summary: "Re-drive a dead-lettered build",
      description:
        "Clears the build's failure count and re-arms its tick loop now; the record becomes `redriven`. " +
        "Idempotent: re-driving a live build only re-arms it.",
      responses: ok(RedriveResult),
      errors: ["dead_letter_not_found", "build_access_denied", "build_not_found"],
    }),
    operate,
    validate("param", DeadLetterParam),
    async (c) => c.json(await deadLetters.redrive(requestDeps(c), c.req.valid("param").build_id)),
  );
