/**
 * /v1/builds routes (SPEC §5.1 B1–B4, B21–B22 and the stream token). Handlers read validated
 * input, call one service function and return JSON.
 */
import { Hono } from "hono";
import type { AppEnv } from "../env";
import { requireCapability } from "../security/auth.middleware";
import { validate } from "../validation";
import { BuildCreateRequest, BuildIdParam, EventsHistoryQuery, EventsStreamQuery, ListBuildsQuery } from "./builds.schemas";
import * as service from "./builds.service";

const read = requireCapability("program.runtime.read");
const write = requireCapability("program.runtime.write");

export const buildRoutes = new Hono<AppEnv>()
  // The SSE route also accepts a build-scoped stream token in the query (see authenticateRequest).
  .get("/:id/events", read, validate("param", BuildIdParam), validate("query", EventsStreamQuery), async (c) => {
    const { id } = c.req.valid("param");
    const q = c.req.valid("query");
    const lastEventId = Number.parseInt(c.req.header("last-event-id") ?? "", 10);
    const after = Number.isFinite(lastEventId) && lastEventId >= 0 ? lastEventId : (q.cursor ?? 0);
    const stream = await service.openEventStream(deps(c), id, after);
    return new Response(stream, {
      headers: {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-cache, no-transform",
        "x-accel-buffering": "no",
        "x-request-id": c.var.requestId,
      },
    });
  })
  .post("/preview-dag", write, validate("json", BuildCreateRequest), (c) => c.json(service.previewDag(c.req.valid("json"))))
  .post("/", write, validate("json", BuildCreateRequest), async (c) => {
    const build = await service.createBuild(deps(c), c.req.valid("json"));
    c.header("location", `/v1/builds/${build.build_id}`);
    return c.json(build, 201);
  })
  .get("/", read, validate("query", ListBuildsQuery), async (c) => c.json(await service.listBuilds(deps(c), c.req.valid("query"))))
  .get("/:id", read, validate("param", BuildIdParam), async (c) => c.json(await service.getBuild(deps(c), c.req.valid("param").id)))
  .get("/:id/events/history", read, validate("param", BuildIdParam), validate("query", EventsHistoryQuery), async (c) => {
    const q = c.req.valid("query");
    return c.json(await service.eventsHistory(deps(c), c.req.valid("param").id, q.cursor, q.limit));
  })
  .post("/:id/events/token", read, validate("param", BuildIdParam), async (c) =>
    c.json(await service.createStreamToken(deps(c), c.req.valid("param").id), 201),
  );

function deps(c: { env: Env; var: AppEnv["Variables"] }): service.Deps {
  return { env: c.env, db: c.var.db, config: c.var.config, principal: c.var.principal };
}
