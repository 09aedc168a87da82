/**
 * /v1/builds routes (SPEC §5.1 B1–B4, B21–B22 and the stream token). Handlers read validated
 * input, call one service function and return JSON.
 */
import { Hono } from "hono";
import type { AppEnv } from "../kernel/env";
import { requireCapability } from "../security/route-capability";
import { validate } from "../kernel/validation";
import {
  BuildCreateRequest, BuildIdParam, CheckpointBody, CompleteTaskBody, DebtBody, EventsHistoryQuery, EventsStreamQuery, GateBody,
  GateListQuery, GateParam, ListBuildsQuery, LogsQuery, MetricsQuery, PageQuery, ReasonBody, ReplanBody, StartTaskBody, TaskListQuery,
  TaskRunParam, ViolationBody, FindingsQuery,
} from "./builds.schemas";
import * as service from "./builds.service";
import * as ctl from "./control.service";

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
  .post("/preview-dag", write, validate("json", BuildCreateRequest), async (c) => c.json(await service.previewPlan(deps(c), c.req.valid("json"))))
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
  )
  // Control actions (SPEC §4.10): each goes through the build's runner.
  .post("/:id/abort", write, validate("param", BuildIdParam), validate("json", ReasonBody), async (c) =>
    c.json(await ctl.abortBuild(deps(c), c.req.valid("param").id, c.req.valid("json").reason)),
  )
  .post("/:id/resume", write, validate("param", BuildIdParam), validate("json", ReasonBody), async (c) =>
    c.json(await ctl.resumeBuild(deps(c), c.req.valid("param").id, c.req.valid("json").reason)),
  )
  .get("/:id/tasks", read, validate("param", BuildIdParam), validate("query", TaskListQuery), async (c) =>
    c.json(await ctl.listTasks(deps(c), c.req.valid("param").id, c.req.valid("query"))),
  )
  .post("/:id/tasks", write, validate("param", BuildIdParam), validate("json", StartTaskBody), async (c) =>
    c.json(await ctl.startTask(deps(c), c.req.valid("param").id, c.req.valid("json").node_id), 201),
  )
  .get("/:id/tasks/:task_run_id", read, validate("param", TaskRunParam), async (c) => {
    const p = c.req.valid("param");
    return c.json(await ctl.getTask(deps(c), p.id, p.task_run_id));
  })
  .post("/:id/tasks/:task_run_id/complete", write, validate("param", TaskRunParam), validate("json", CompleteTaskBody), async (c) => {
    const p = c.req.valid("param");
    const b = c.req.valid("json");
    return c.json(await ctl.completeTask(deps(c), p.id, p.task_run_id, { status: b.status, error: b.error ?? null }));
  })
  .get("/:id/gates", read, validate("param", BuildIdParam), validate("query", GateListQuery), async (c) =>
    c.json(await ctl.listGates(deps(c), c.req.valid("param").id, c.req.valid("query"))),
  )
  .post("/:id/gates/:gate", write, validate("param", GateParam), validate("json", GateBody), async (c) => {
    const p = c.req.valid("param");
    const b = c.req.valid("json");
    return c.json(await ctl.decideGate(deps(c), p.id, p.gate, { status: b.status, reason: b.reason, node_id: b.node_id ?? null }), 201);
  })
  .get("/:id/replan", read, validate("param", BuildIdParam), validate("query", PageQuery), async (c) =>
    c.json(await ctl.listReplans(deps(c), c.req.valid("param").id, c.req.valid("query"))),
  )
  .post("/:id/replan", write, validate("param", BuildIdParam), validate("json", ReplanBody), async (c) =>
    c.json(await ctl.replanBuild(deps(c), c.req.valid("param").id, c.req.valid("json")), 201),
  )
  // A GET with a side effect (REPLAN_SUGGESTED), as the reference; hence the write capability.
  .get("/:id/replan/suggest", write, validate("param", BuildIdParam), async (c) => c.json(await ctl.suggestReplan(deps(c), c.req.valid("param").id)))
  .post("/:id/replan/suggest/apply", write, validate("param", BuildIdParam), validate("json", ReasonBody), async (c) =>
    c.json(await ctl.applyReplanSuggestion(deps(c), c.req.valid("param").id, c.req.valid("json").reason), 201),
  )
  .get("/:id/debt", read, validate("param", BuildIdParam), validate("query", PageQuery), async (c) =>
    c.json(await ctl.listDebts(deps(c), c.req.valid("param").id, c.req.valid("query"))),
  )
  .post("/:id/debt", write, validate("param", BuildIdParam), validate("json", DebtBody), async (c) =>
    c.json(await ctl.recordDebt(deps(c), c.req.valid("param").id, c.req.valid("json")), 201),
  )
  .get("/:id/policy-violations", read, validate("param", BuildIdParam), validate("query", PageQuery), async (c) =>
    c.json(await ctl.listViolations(deps(c), c.req.valid("param").id, c.req.valid("query"))),
  )
  .post("/:id/policy-violations", write, validate("param", BuildIdParam), validate("json", ViolationBody), async (c) =>
    c.json(await ctl.recordPolicyViolation(deps(c), c.req.valid("param").id, c.req.valid("json")), 201),
  )
  .get("/:id/checkpoints", read, validate("param", BuildIdParam), validate("query", PageQuery), async (c) =>
    c.json(await ctl.listCheckpoints(deps(c), c.req.valid("param").id, c.req.valid("query"))),
  )
  .post("/:id/checkpoints", write, validate("param", BuildIdParam), validate("json", CheckpointBody), async (c) =>
    c.json(await ctl.createCheckpoint(deps(c), c.req.valid("param").id, c.req.valid("json")), 201),
  )
  // Findings and the build report (issue 7)
  .get("/:id/findings", read, validate("param", BuildIdParam), validate("query", FindingsQuery), async (c) =>
    c.json(await ctl.listFindings(deps(c), c.req.valid("param").id, c.req.valid("query"))),
  )
  .get("/:id/report", read, validate("param", BuildIdParam), async (c) => c.json(await ctl.buildReport(deps(c), c.req.valid("param").id)))
  // Runtime (SPEC §5.2)
  .post("/:id/runtime/bootstrap", write, validate("param", BuildIdParam), async (c) => c.json(await ctl.bootstrapRuntime(deps(c), c.req.valid("param").id)))
  .get("/:id/runtime/status", read, validate("param", BuildIdParam), async (c) => c.json(await ctl.runtimeStatus(deps(c), c.req.valid("param").id)))
  .get("/:id/runtime/worker-health", read, validate("param", BuildIdParam), async (c) => c.json(await ctl.workerHealth(deps(c), c.req.valid("param").id)))
  .get("/:id/runtime/metrics", read, validate("param", BuildIdParam), validate("query", MetricsQuery), async (c) =>
    c.json(await ctl.runtimeMetrics(deps(c), c.req.valid("param").id, c.req.valid("query"))),
  )
  .get("/:id/runtime/telemetry", read, validate("param", BuildIdParam), async (c) => c.json(await ctl.telemetrySummary(deps(c), c.req.valid("param").id)))
  .get("/:id/runtime/logs", read, validate("param", BuildIdParam), validate("query", LogsQuery), async (c) =>
    c.json(await ctl.runnerLogs(deps(c), c.req.valid("param").id, c.req.valid("query"))),
  )
  .post("/:id/runtime/tick", write, validate("param", BuildIdParam), async (c) => c.json(await ctl.nudgeTick(deps(c), c.req.valid("param").id)));

function deps(c: { env: Env; var: AppEnv["Variables"] }): service.Deps {
  return { env: c.env, db: c.var.db, config: c.var.config, principal: c.var.principal, requestId: c.var.requestId };
}
