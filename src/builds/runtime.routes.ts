/**
 * Build runtime routes (SPEC §5.2), mounted at /v1/builds: the runtime session, liveness,
 * metrics, telemetry, runner logs and the safe tick nudge.
 */
import { Hono } from "hono";
import type { AppEnv } from "../kernel/env";
import { requireCapability } from "../security/route-capability";
import { validate } from "../kernel/validation";
import { BUILD_ACTION_ERRORS, BUILD_ERRORS, BuildIdParam } from "./builds.schemas";
import {
  LogsQuery,
  MetricsQuery,
  RunnerLogPage,
  RuntimeMetricPage,
  RuntimeSession,
  TelemetrySummary,
  TickResult,
  WorkerHealth,
} from "./runtime.schemas";
import * as rt from "./runtime.service";
import { requestDeps } from "../kernel/request-deps";
import { describeRoute, ok } from "../kernel/route-meta";

const read = requireCapability("program.runtime.read");
const write = requireCapability("program.runtime.write");

export const buildRuntimeRoutes = new Hono<AppEnv>()
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
    async (c) => c.json(await rt.bootstrapRuntime(requestDeps(c), c.req.valid("param").id)),
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
    async (c) => c.json(await rt.runtimeStatus(requestDeps(c), c.req.valid("param").id)),
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
    async (c) => c.json(await rt.workerHealth(requestDeps(c), c.req.valid("param").id)),
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
    async (c) => c.json(await rt.runtimeMetrics(requestDeps(c), c.req.valid("param").id, c.req.valid("query"))),
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
    async (c) => c.json(await rt.telemetrySummary(requestDeps(c), c.req.valid("param").id)),
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
    async (c) => c.json(await rt.runnerLogs(requestDeps(c), c.req.valid("param").id, c.req.valid("query"))),
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
    async (c) => c.json(await rt.nudgeTick(requestDeps(c), c.req.valid("param").id)),
  );
