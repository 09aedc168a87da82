/**
 * Idempotent checkpoints (SPEC §6.5), mounted at /v1/program beside the security plane: a
 * keyed control action on a build, replayed from its first answer. The week alias runs the
 * same handler and is marked deprecated.
 */
import { Hono } from "hono";
import { createFactory } from "hono/factory";
import type { AppEnv } from "../kernel/env";
import { validate } from "../kernel/validation";
import { deprecatedAlias } from "../lib/deprecation";
import { requireCapability } from "../security/route-capability";
import { IdempotentCheckpointRequest, idempotentCheckpoint } from "./idempotent-checkpoints.service";
import { describeRoute, ok } from "../kernel/route-meta";
import { requestDeps } from "../kernel/request-deps";
import { BUILD_ERRORS, IdempotentCheckpointResult } from "./builds.schemas";

const factory = createFactory<AppEnv>();
const runtimeWrite = requireCapability("program.runtime.write");

const checkpoint = factory.createHandlers(
  describeRoute({
    operationId: "idempotentCheckpoint",
    tag: "idempotency",
    summary: "Checkpoint keyed by (build_id, idempotency_key); a repeat replays it",
    responses: ok(IdempotentCheckpointResult),
    errors: [
      ...BUILD_ERRORS,
      "invalid_idempotency_request",
      "idempotency_key_reused",
      "idempotency_key_in_flight",
      "coordination_unavailable",
      "lease_lost",
    ],
  }),
  runtimeWrite,
  validate("json", IdempotentCheckpointRequest),
  async (c) => c.json(await idempotentCheckpoint(requestDeps(c), c.req.valid("json"))),
);

export const checkpointRoutes = new Hono<AppEnv>()
  .use("/week12/idempotent-checkpoints", deprecatedAlias)
  .post("/idempotent-checkpoints", ...checkpoint)
  .post("/week12/idempotent-checkpoints", ...checkpoint);
