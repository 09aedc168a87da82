/**
 * /v1/builds routes (SPEC §5.1 B1–B4, B21–B22, the stream token, findings and the report). Handlers
 * read validated input, call one service function and return JSON. Control routes live in
 * control.routes.ts, runtime routes in runtime.routes.ts; all three are mounted at /v1/builds.
 */
import { type Context, Hono } from "hono";
import { SARIF_MEDIA_TYPE } from "../findings/sarif";
import type { AppEnv } from "../kernel/env";
import { requireCapability } from "../security/route-capability";
import { validate } from "../kernel/validation";
import {
  BUILD_ERRORS,
  BuildCreateRequest,
  BuildEventPage,
  BUILD_ACTION_ERRORS,
  BuildIdParam,
  BuildPage,
  BuildRun,
  DagPreview,
  EventsHistoryQuery,
  EventsStreamQuery,
  ListBuildsQuery,
  ReasonBody,
  StreamToken,
} from "./builds.schemas";
import { BuildReport, FindingPage, FixedFindings, FindingsQuery } from "./build-report.schemas";
import * as service from "./builds.service";
import * as report from "./build-report.service";
import * as ctl from "./control.service";
import { requestDeps } from "../kernel/request-deps";
import { describeRoute, created, ok } from "../kernel/route-meta";

const read = requireCapability("program.runtime.read");

/** The build's SARIF log, served as `application/sarif+json`. */
async function sarif(c: Context<AppEnv>, id: string): Promise<Response> {
  const log = await report.findingsSarif(requestDeps(c), id, new URL(c.req.url).origin);
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
        "`id: <seq>` on every message; resume with `Last-Event-ID` or `?cursor=`. Heartbeat comments; closes " +
        "after the terminal events of a completed or aborted build.",
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
      const stream = await service.openEventStream(requestDeps(c), id, after);
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
    async (c) => c.json(await service.previewPlan(requestDeps(c), c.req.valid("json"))),
  )
  .post(
    "/",
    describeRoute({
      operationId: "createBuild",
      tag: "builds",
      summary: "Plan (SPEC §4.4) and start a build",
      requestName: "BuildCreateRequest",
      responses: created(BuildRun),
      errors: [
        "invalid_dag",
        "build_command_refused",
        "runner_not_configured",
        "policy_profile_not_found",
        "overloaded",
      ],
    }),
    write,
    validate("json", BuildCreateRequest),
    async (c) => {
      const build = await service.createBuild(requestDeps(c), c.req.valid("json"));
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
    async (c) => c.json(await service.listBuilds(requestDeps(c), c.req.valid("query"))),
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
    async (c) => c.json(await service.getBuild(requestDeps(c), c.req.valid("param").id)),
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
      return c.json(await service.eventsHistory(requestDeps(c), c.req.valid("param").id, q.cursor, q.limit));
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
    async (c) => c.json(await service.createStreamToken(requestDeps(c), c.req.valid("param").id), 201),
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
    async (c) => c.json(await ctl.abortBuild(requestDeps(c), c.req.valid("param").id, c.req.valid("json").reason)),
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
    async (c) => c.json(await ctl.resumeBuild(requestDeps(c), c.req.valid("param").id, c.req.valid("json").reason)),
  )
  // Findings and the build report (issue 7)
  .get(
    "/:id/findings",
    describeRoute({
      operationId: "listFindings",
      tag: "findings",
      summary: "Findings, most severe first, with filters (severity, category, node, rule, baseline state)",
      description:
        "With `Accept: application/sarif+json` the answer is the build's SARIF 2.1.0 log instead (as " +
        "`/findings.sarif`).",
      responses: ok(FindingPage),
      errors: BUILD_ERRORS,
    }),
    read,
    validate("param", BuildIdParam),
    validate("query", FindingsQuery),
    async (c) => {
      const id = c.req.valid("param").id;
      if ((c.req.header("accept") ?? "").includes(SARIF_MEDIA_TYPE)) return sarif(c, id);
      return c.json(await report.listFindings(requestDeps(c), id, c.req.valid("query")));
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
    async (c) => c.json(await report.fixedFindings(requestDeps(c), c.req.valid("param").id)),
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
    async (c) => c.json(await report.buildReport(requestDeps(c), c.req.valid("param").id)),
  );
