/**
 * /v1/builds routes (SPEC §5.1 B1–B4, B21–B22 and the stream token). Handlers read validated
 * input, call one service function and return JSON.
 */
import { type Context, Hono } from "hono";
import pkg from "../../package.json";
import { SARIF_MEDIA_TYPE } from "../findings/sarif";
import type { AppEnv } from "../kernel/env";
import { requireCapability } from "../security/route-capability";
import { validate } from "../kernel/validation";
import {
  BUILD_ACTION_ERRORS,
  BUILD_ERRORS,
  BuildCreateRequest,
  BuildEventPage,
  BuildIdParam,
  BuildPage,
  BuildReport,
  BuildRun,
  Checkpoint,
  CheckpointBody,
  CheckpointPage,
  CompleteTaskBody,
  DagPreview,
  DebtBody,
  DebtItem,
  DebtItemPage,
  EventsHistoryQuery,
  EventsStreamQuery,
  FindingPage,
  FixedFindings,
  FindingsQuery,
  GateBody,
  GateDecision,
  GateDecisionPage,
  GateListQuery,
  GateParam,
  ListBuildsQuery,
  LogsQuery,
  MetricsQuery,
  PageQuery,
  PolicyViolation,
  PolicyViolationPage,
  ReasonBody,
  ReplanBody,
  ReplanDecision,
  ReplanDecisionPage,
  ReplanSuggestion,
  RunnerLogPage,
  RuntimeMetricPage,
  RuntimeSession,
  StartTaskBody,
  StreamToken,
  TaskListQuery,
  TaskRun,
  TaskRunPage,
  TaskRunParam,
  TelemetrySummary,
  TickResult,
  ViolationBody,
  WorkerHealth,
} from "./builds.schemas";
import * as service from "./builds.service";
import * as ctl from "./control.service";
import { describeRoute, created, ok } from "../kernel/route-meta";

const read = requireCapability("program.runtime.read");

/** The build's SARIF log, served as `application/sarif+json`. */
async function sarif(c: Context<AppEnv>, id: string): Promise<Response> {
  const log = await ctl.findingsSarif(deps(c), id, pkg.version);
  return c.body(JSON.stringify(log), 200, { "content-type": SARIF_MEDIA_TYPE });
}
const write = requireCapability("program.runtime.write");

export const buildRoutes = new Hono<AppEnv>()
  // The SSE route also accepts a build-scoped stream token in the query (see authenticateRequest).
  .get(
    "/:id/events",
    describeRoute({
      operationId: "buildEventStream",
      tag: "builds",
      auth: "bearer_or_stream_token",
      summary: "Server-Sent Events: replay from the cursor, then live",
      description:
        "`id: <seq>` on every message; resume with `Last-Event-ID` or `?cursor=`. Heartbeat comments; closes after the terminal events of a completed or aborted build.",
      responses: { 200: { description: "text/event-stream", mediaType: "text/event-stream" } },
      errors: BUILD_ERRORS,
    }),
    read,
    validate("param", BuildIdParam),
    validate("query", EventsStreamQuery),
    async (c) => {
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
    },
  )
  .post(
    "/preview-dag",
    describeRoute({
      operationId: "previewDag",
      tag: "builds",
      summary: "The plan only; nothing is stored",
      requestName: "BuildCreateRequest",
      responses: ok(DagPreview),
      errors: ["invalid_dag", "build_command_refused", "runner_not_configured"],
    }),
    write,
    validate("json", BuildCreateRequest),
    async (c) => c.json(await service.previewPlan(deps(c), c.req.valid("json"))),
  )
  .post(
    "/",
    describeRoute({
      operationId: "createBuild",
      tag: "builds",
      summary: "Plan (SPEC §4.4) and start a build",
      requestName: "BuildCreateRequest",
      responses: created(BuildRun),
      errors: ["invalid_dag", "build_command_refused", "runner_not_configured"],
    }),
    write,
    validate("json", BuildCreateRequest),
    async (c) => {
      const build = await service.createBuild(deps(c), c.req.valid("json"));
      c.header("location", `/v1/builds/${build.build_id}`);
      return c.json(build, 201);
    },
  )
  .get(
    "/",
    describeRoute({
      operationId: "listBuilds",
      tag: "builds",
      summary: "The caller's builds (tenant admins: the tenant's), newest first",
      responses: ok(BuildPage),
    }),
    read,
    validate("query", ListBuildsQuery),
    async (c) => c.json(await service.listBuilds(deps(c), c.req.valid("query"))),
  )
  .get(
    "/:id",
    describeRoute({
      operationId: "getBuild",
      tag: "builds",
      summary: "A build run",
      responses: ok(BuildRun),
      errors: BUILD_ERRORS,
    }),
    read,
    validate("param", BuildIdParam),
    async (c) => c.json(await service.getBuild(deps(c), c.req.valid("param").id)),
  )
  .get(
    "/:id/events/history",
    describeRoute({
      operationId: "buildEventsHistory",
      tag: "builds",
      summary: "Events with seq > cursor",
      responses: ok(BuildEventPage),
      errors: BUILD_ERRORS,
    }),
    read,
    validate("param", BuildIdParam),
    validate("query", EventsHistoryQuery),
    async (c) => {
      const q = c.req.valid("query");
      return c.json(await service.eventsHistory(deps(c), c.req.valid("param").id, q.cursor, q.limit));
    },
  )
  .post(
    "/:id/events/token",
    describeRoute({
      operationId: "createStreamToken",
      tag: "builds",
      summary: "A 5-minute build-scoped token for EventSource",
      responses: created(StreamToken, "Created", false),
      errors: [...BUILD_ERRORS, "stream_token_unavailable"],
    }),
    read,
    validate("param", BuildIdParam),
    async (c) => c.json(await service.createStreamToken(deps(c), c.req.valid("param").id), 201),
  )
  // Control actions (SPEC §4.10): each goes through the build's runner.
  .post(
    "/:id/abort",
    describeRoute({
      operationId: "abortBuild",
      tag: "control",
      summary: "Abort (an aborted build: 200, no new events)",
      requestName: "ReasonRequest",
      responses: ok(BuildRun),
      errors: [...BUILD_ACTION_ERRORS, "build_abort_conflict"],
    }),
    write,
    validate("param", BuildIdParam),
    validate("json", ReasonBody),
    async (c) => c.json(await ctl.abortBuild(deps(c), c.req.valid("param").id, c.req.valid("json").reason)),
  )
  .post(
    "/:id/resume",
    describeRoute({
      operationId: "resumeBuild",
      tag: "control",
      summary: "Resume a paused or failed build",
      requestName: "ReasonRequest",
      responses: ok(BuildRun),
      errors: [...BUILD_ACTION_ERRORS, "build_resume_conflict"],
    }),
    write,
    validate("param", BuildIdParam),
    validate("json", ReasonBody),
    async (c) => c.json(await ctl.resumeBuild(deps(c), c.req.valid("param").id, c.req.valid("json").reason)),
  )
  .get(
    "/:id/tasks",
    describeRoute({
      operationId: "listTasks",
      tag: "control",
      summary: "Task runs, newest first",
      responses: ok(TaskRunPage),
      errors: BUILD_ERRORS,
    }),
    read,
    validate("param", BuildIdParam),
    validate("query", TaskListQuery),
    async (c) => c.json(await ctl.listTasks(deps(c), c.req.valid("param").id, c.req.valid("query"))),
  )
  .post(
    "/:id/tasks",
    describeRoute({
      operationId: "startTask",
      tag: "control",
      summary: "Start a manual task run of a node",
      responses: created(TaskRun, "Created", false),
      errors: [...BUILD_ACTION_ERRORS, "dag_node_not_found", "task_run_conflict", "build_conflict"],
    }),
    write,
    validate("param", BuildIdParam),
    validate("json", StartTaskBody),
    async (c) => c.json(await ctl.startTask(deps(c), c.req.valid("param").id, c.req.valid("json").node_id), 201),
  )
  .get(
    "/:id/tasks/:task_run_id",
    describeRoute({
      operationId: "getTask",
      tag: "control",
      summary: "One task run",
      responses: ok(TaskRun),
      errors: [...BUILD_ERRORS, "task_run_not_found"],
    }),
    read,
    validate("param", TaskRunParam),
    async (c) => {
      const p = c.req.valid("param");
      return c.json(await ctl.getTask(deps(c), p.id, p.task_run_id));
    },
  )
  .post(
    "/:id/tasks/:task_run_id/complete",
    describeRoute({
      operationId: "completeTask",
      tag: "control",
      summary: "Complete a manual task run",
      responses: ok(TaskRun),
      errors: [...BUILD_ACTION_ERRORS, "task_run_not_found", "task_run_conflict"],
    }),
    write,
    validate("param", TaskRunParam),
    validate("json", CompleteTaskBody),
    async (c) => {
      const p = c.req.valid("param");
      const b = c.req.valid("json");
      return c.json(await ctl.completeTask(deps(c), p.id, p.task_run_id, { status: b.status, error: b.error ?? null }));
    },
  )
  .get(
    "/:id/gates",
    describeRoute({
      operationId: "listGates",
      tag: "control",
      summary: "Gate decisions, newest first",
      responses: ok(GateDecisionPage),
      errors: BUILD_ERRORS,
    }),
    read,
    validate("param", BuildIdParam),
    validate("query", GateListQuery),
    async (c) => c.json(await ctl.listGates(deps(c), c.req.valid("param").id, c.req.valid("query"))),
  )
  .post(
    "/:id/gates/:gate",
    describeRoute({
      operationId: "decideGate",
      tag: "control",
      summary: "Record a gate decision (FAIL fails, BLOCKED pauses a running build)",
      responses: created(GateDecision, "Created", false),
      errors: [...BUILD_ACTION_ERRORS, "build_conflict"],
    }),
    write,
    validate("param", GateParam),
    validate("json", GateBody),
    async (c) => {
      const p = c.req.valid("param");
      const b = c.req.valid("json");
      return c.json(
        await ctl.decideGate(deps(c), p.id, p.gate, { status: b.status, reason: b.reason, node_id: b.node_id ?? null }),
        201,
      );
    },
  )
  .get(
    "/:id/replan",
    describeRoute({
      operationId: "listReplans",
      tag: "control",
      summary: "Replan decisions, newest first",
      responses: ok(ReplanDecisionPage),
      errors: BUILD_ERRORS,
    }),
    read,
    validate("param", BuildIdParam),
    validate("query", PageQuery),
    async (c) => c.json(await ctl.listReplans(deps(c), c.req.valid("param").id, c.req.valid("query"))),
  )
  .post(
    "/:id/replan",
    describeRoute({
      operationId: "replanBuild",
      tag: "control",
      summary: "Manual replan (MODIFY_DAG is validated before it mutates)",
      responses: created(ReplanDecision, "Created", false),
      errors: [...BUILD_ACTION_ERRORS, "invalid_replan", "build_conflict"],
    }),
    write,
    validate("param", BuildIdParam),
    validate("json", ReplanBody),
    async (c) => c.json(await ctl.replanBuild(deps(c), c.req.valid("param").id, c.req.valid("json")), 201),
  )
  // A GET with a side effect (REPLAN_SUGGESTED), as the reference; hence the write capability.
  .get(
    "/:id/replan/suggest",
    describeRoute({
      operationId: "suggestReplan",
      tag: "control",
      summary: "Debt-triage suggestion (records REPLAN_SUGGESTED, hence the write capability)",
      responses: ok(ReplanSuggestion),
      errors: BUILD_ACTION_ERRORS,
    }),
    write,
    validate("param", BuildIdParam),
    async (c) => c.json(await ctl.suggestReplan(deps(c), c.req.valid("param").id)),
  )
  .post(
    "/:id/replan/suggest/apply",
    describeRoute({
      operationId: "applyReplanSuggestion",
      tag: "control",
      summary: "Apply the debt-triage suggestion",
      requestName: "ReasonRequest",
      responses: created(ReplanDecision, "Created", false),
      errors: [...BUILD_ACTION_ERRORS, "invalid_replan", "build_conflict"],
    }),
    write,
    validate("param", BuildIdParam),
    validate("json", ReasonBody),
    async (c) =>
      c.json(await ctl.applyReplanSuggestion(deps(c), c.req.valid("param").id, c.req.valid("json").reason), 201),
  )
  .get(
    "/:id/debt",
    describeRoute({
      operationId: "listDebt",
      tag: "control",
      summary: "Debt items, newest first",
      responses: ok(DebtItemPage),
      errors: BUILD_ERRORS,
    }),
    read,
    validate("param", BuildIdParam),
    validate("query", PageQuery),
    async (c) => c.json(await ctl.listDebts(deps(c), c.req.valid("param").id, c.req.valid("query"))),
  )
  .post(
    "/:id/debt",
    describeRoute({
      operationId: "recordDebt",
      tag: "control",
      summary: "Record a debt item",
      responses: created(DebtItem, "Created", false),
      errors: BUILD_ACTION_ERRORS,
    }),
    write,
    validate("param", BuildIdParam),
    validate("json", DebtBody),
    async (c) => c.json(await ctl.recordDebt(deps(c), c.req.valid("param").id, c.req.valid("json")), 201),
  )
  .get(
    "/:id/policy-violations",
    describeRoute({
      operationId: "listPolicyViolations",
      tag: "control",
      summary: "Policy violations, newest first",
      responses: ok(PolicyViolationPage),
      errors: BUILD_ERRORS,
    }),
    read,
    validate("param", BuildIdParam),
    validate("query", PageQuery),
    async (c) => c.json(await ctl.listViolations(deps(c), c.req.valid("param").id, c.req.valid("query"))),
  )
  .post(
    "/:id/policy-violations",
    describeRoute({
      operationId: "recordPolicyViolation",
      tag: "control",
      summary: "Record a policy violation (a blocking one fails a running build)",
      responses: created(PolicyViolation, "Created", false),
      errors: BUILD_ACTION_ERRORS,
    }),
    write,
    validate("param", BuildIdParam),
    validate("json", ViolationBody),
    async (c) => c.json(await ctl.recordPolicyViolation(deps(c), c.req.valid("param").id, c.req.valid("json")), 201),
  )
  .get(
    "/:id/checkpoints",
    describeRoute({
      operationId: "listCheckpoints",
      tag: "control",
      summary: "Checkpoints, chronological",
      responses: ok(CheckpointPage),
      errors: BUILD_ERRORS,
    }),
    read,
    validate("param", BuildIdParam),
    validate("query", PageQuery),
    async (c) => c.json(await ctl.listCheckpoints(deps(c), c.req.valid("param").id, c.req.valid("query"))),
  )
  .post(
    "/:id/checkpoints",
    describeRoute({
      operationId: "createCheckpoint",
      tag: "control",
      summary: "Create a checkpoint",
      responses: created(Checkpoint, "Created", false),
      errors: BUILD_ACTION_ERRORS,
    }),
    write,
    validate("param", BuildIdParam),
    validate("json", CheckpointBody),
    async (c) => c.json(await ctl.createCheckpoint(deps(c), c.req.valid("param").id, c.req.valid("json")), 201),
  )
  // Findings and the build report (issue 7)
  .get(
    "/:id/findings",
    describeRoute({
      operationId: "listFindings",
      tag: "findings",
      summary: "Findings, most severe first, with filters (severity, category, node, rule, baseline state)",
      description:
        "With `Accept: application/sarif+json` the answer is the build's SARIF 2.1.0 log instead (as `/findings.sarif`).",
      responses: ok(FindingPage),
      errors: BUILD_ERRORS,
    }),
    read,
    validate("param", BuildIdParam),
    validate("query", FindingsQuery),
    async (c) => {
      const id = c.req.valid("param").id;
      if ((c.req.header("accept") ?? "").includes(SARIF_MEDIA_TYPE)) return sarif(c, id);
      return c.json(await ctl.listFindings(deps(c), id, c.req.valid("query")));
    },
  )
  .get(
    "/:id/findings/fixed",
    describeRoute({
      operationId: "listFixedFindings",
      tag: "findings",
      summary: "Findings of the previous scan of the repository and branch that are gone in this build",
      responses: ok(FixedFindings),
      errors: BUILD_ERRORS,
    }),
    read,
    validate("param", BuildIdParam),
    async (c) => c.json(await ctl.fixedFindings(deps(c), c.req.valid("param").id)),
  )
  .get(
    "/:id/findings.sarif",
    describeRoute({
      operationId: "exportFindingsSarif",
      tag: "findings",
      summary: "The build's findings as SARIF 2.1.0 (one run per tool; fixed findings as `absent`)",
      responses: { 200: { description: "A SARIF 2.1.0 log.", mediaType: "application/sarif+json" } },
      errors: BUILD_ERRORS,
    }),
    read,
    validate("param", BuildIdParam),
    async (c) => sarif(c, c.req.valid("param").id),
  )
  .get(
    "/:id/report",
    describeRoute({
      operationId: "buildReport",
      tag: "findings",
      summary: "Counts by severity and node, the most severe findings, the remediation plan",
      responses: ok(BuildReport),
      errors: BUILD_ERRORS,
    }),
    read,
    validate("param", BuildIdParam),
    async (c) => c.json(await ctl.buildReport(deps(c), c.req.valid("param").id)),
  )
  // Runtime (SPEC §5.2)
  .post(
    "/:id/runtime/bootstrap",
    describeRoute({
      operationId: "bootstrapRuntime",
      tag: "runtime",
      summary: "Bootstrap the runtime session",
      responses: ok(RuntimeSession),
      errors: [...BUILD_ACTION_ERRORS, "runtime_not_found"],
    }),
    write,
    validate("param", BuildIdParam),
    async (c) => c.json(await ctl.bootstrapRuntime(deps(c), c.req.valid("param").id)),
  )
  .get(
    "/:id/runtime/status",
    describeRoute({
      operationId: "runtimeStatus",
      tag: "runtime",
      summary: "The runtime session",
      responses: ok(RuntimeSession),
      errors: [...BUILD_ERRORS, "runtime_not_found"],
    }),
    read,
    validate("param", BuildIdParam),
    async (c) => c.json(await ctl.runtimeStatus(deps(c), c.req.valid("param").id)),
  )
  .get(
    "/:id/runtime/worker-health",
    describeRoute({
      operationId: "workerHealth",
      tag: "runtime",
      summary: "Staleness from the lease and heartbeats; whether a nudge is allowed; dead-letter flag",
      responses: ok(WorkerHealth),
      errors: BUILD_ERRORS,
    }),
    read,
    validate("param", BuildIdParam),
    async (c) => c.json(await ctl.workerHealth(deps(c), c.req.valid("param").id)),
  )
  .get(
    "/:id/runtime/metrics",
    describeRoute({
      operationId: "runtimeMetrics",
      tag: "runtime",
      summary: "Runtime metric records, newest first",
      responses: ok(RuntimeMetricPage),
      errors: BUILD_ERRORS,
    }),
    read,
    validate("param", BuildIdParam),
    validate("query", MetricsQuery),
    async (c) => c.json(await ctl.runtimeMetrics(deps(c), c.req.valid("param").id, c.req.valid("query"))),
  )
  .get(
    "/:id/runtime/telemetry",
    describeRoute({
      operationId: "runtimeTelemetry",
      tag: "runtime",
      summary: "Telemetry summary",
      responses: ok(TelemetrySummary),
      errors: BUILD_ERRORS,
    }),
    read,
    validate("param", BuildIdParam),
    async (c) => c.json(await ctl.telemetrySummary(deps(c), c.req.valid("param").id)),
  )
  .get(
    "/:id/runtime/logs",
    describeRoute({
      operationId: "runnerLogs",
      tag: "runtime",
      summary: "Runner logs, newest first",
      responses: ok(RunnerLogPage),
      errors: BUILD_ERRORS,
    }),
    read,
    validate("param", BuildIdParam),
    validate("query", LogsQuery),
    async (c) => c.json(await ctl.runnerLogs(deps(c), c.req.valid("param").id, c.req.valid("query"))),
  )
  .post(
    "/:id/runtime/tick",
    describeRoute({
      operationId: "nudgeTick",
      tag: "runtime",
      summary: "Safe nudge: the runner ticks now, serialised with its alarm",
      responses: ok(TickResult),
      errors: [...BUILD_ACTION_ERRORS, "runtime_tick_conflict", "runtime_not_found"],
    }),
    write,
    validate("param", BuildIdParam),
    async (c) => c.json(await ctl.nudgeTick(deps(c), c.req.valid("param").id)),
  );

function deps(c: { env: Env; var: AppEnv["Variables"] }): service.Deps {
  return { env: c.env, db: c.var.db, config: c.var.config, principal: c.var.principal, requestId: c.var.requestId };
}
