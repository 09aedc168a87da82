/**
 * createApp(): the Hono app. Cross-cutting middleware in order: request id → config/db →
 * auth (per route group) → routes; `onError`/`notFound` render problem+json.
 */
import { Hono } from "hono";
import { drizzle } from "drizzle-orm/d1";
import { createMiddleware } from "hono/factory";
import { type AppEnv, loadConfig } from "../kernel/env";
import { AppError, onError } from "../kernel/errors";
import { newId } from "../lib/ids";
import { buildRoutes } from "../builds/builds.routes";
import { buildControlRoutes } from "../builds/control.routes";
import { buildRuntimeRoutes } from "../builds/runtime.routes";
import { runnerRoutes } from "../builds/runner.routes";
import { validationRoutes } from "../program/validation.routes";
import { devRoutes } from "../dev/dev.routes";
import { planningRoutes } from "../planning/planning.routes";
import { programRoutes } from "../program/program.routes";
import { historyRoutes } from "../program/history.routes";
import { alertRoutes } from "../program/alerts.routes";
import { authenticateRequest } from "../security/auth.middleware";
import { corsPolicy, securityHeaders } from "../security/http-headers.middleware";
import { bodyLimit } from "../security/body-limit.middleware";
import { admission } from "./admission.middleware";
import { idempotency } from "../security/idempotency.middleware";
import { limitUnauthenticated, rateLimit } from "../security/rate-limit.middleware";
import { securityRoutes } from "../security/security.routes";
import { githubRoutes } from "../github/github.routes";
import { observeRequests } from "../ops/observe.middleware";
import { openApiDocument } from "./openapi.document";
import { renderReference } from "./openapi.reference";
import { checkpointRoutes } from "../builds/checkpoints.routes";
import { opsRoutes } from "../builds/dead-letters.routes";
import { metricsRoutes } from "../ops/ops.routes";
import { auditRoutes } from "../audit/audit.routes";
import { describeRoute, ok } from "../kernel/route-meta";
import { Health, OpenApiDocument } from "./http.schemas";
import { DASHBOARD_PATHS, serveDashboard } from "./dashboard";

const REQUEST_ID_RE = /^[A-Za-z0-9._:-]{1,128}$/;

export const requestId = createMiddleware<AppEnv>(async (c, next) => {
  const incoming = c.req.header("x-request-id");
  const id = incoming && REQUEST_ID_RE.test(incoming) ? incoming : newId();
  c.set("requestId", id);
  c.header("x-request-id", id);
  await next();
});

/**
 * A path whose percent-encoding does not decode (a lone `%`, `%zz`, a truncated or invalid UTF-8
 * sequence) is 400 `malformed_path` before anything else reads it: route parameters, the stream
 * token route and the logs all decode the path (issue 17 item 9).
 */
export const wellFormedPath = createMiddleware<AppEnv>(async (c, next) => {
  const url = c.req.url;
  const start = url.indexOf("/", url.indexOf("//") + 2);
  const end = url.search(/[?#]/);
  const rawPath = start < 0 ? "/" : url.slice(start, end < 0 ? undefined : end);
  if (rawPath.includes("%")) {
    try {
      decodeURIComponent(rawPath);
    } catch {
      throw new AppError("malformed_path", "The request path has an invalid percent-encoding.");
    }
  }
  await next();
});

const context = createMiddleware<AppEnv>(async (c, next) => {
  c.set("config", loadConfig(c.env));
  c.set("db", drizzle(c.env.DB));
  await next();
});

export function createApp() {
  const app = new Hono<AppEnv>();
  app.use("*", requestId);
  app.use("*", securityHeaders);
  app.use("*", corsPolicy);
  // Access log with the request id, and the request-path metrics (src/ops).
  app.use("*", observeRequests);
  app.use("*", wellFormedPath);
  app.onError(onError);
  app.notFound((c) =>
    onError(new AppError("not_found", `No route for ${c.req.method} ${new URL(c.req.url).pathname}.`), c),
  );

  app.get(
    "/health",
    describeRoute({
      operationId: "health",
      tag: "ops",
      summary: "Liveness",
      responses: ok(Health),
    }),
    (c) => c.json({ status: "healthy" }),
  );
  // The API describes itself (public): generated from the routes' own schemas (src/http/openapi.document.ts).
  app.get(
    "/openapi.json",
    describeRoute({
      operationId: "openapiDocument",
      tag: "ops",
      summary: "This OpenAPI 3.1 document",
      responses: ok(OpenApiDocument),
    }),
    (c) => c.json(openApiDocument(app)),
  );
  app.get(
    "/docs",
    describeRoute({
      operationId: "apiReference",
      tag: "ops",
      summary: "API reference (HTML rendered from this document; no script, works offline)",
      responses: { 200: { description: "HTML page", mediaType: "text/html; charset=utf-8" } },
    }),
    (c) => c.html(renderReference(openApiDocument(app))),
  );
  // The operator dashboard (public/, bundled: src/http/dashboard.ts).
  // (HEAD is answered by Hono from GET, without the body.)
  for (const path of DASHBOARD_PATHS) app.get(path, serveDashboard);
  app.use("/metrics", context, limitUnauthenticated, authenticateRequest, rateLimit);
  app.route("/", metricsRoutes);
  // Order matters (DESIGN §2):
  // context → (unauthenticated limit →) auth → (rate limit → admission → body cap → idempotency) → routes.
  app.use("/v1/*", context);
  app.use("/v1/*", limitUnauthenticated);
  app.use("/v1/*", authenticateRequest);
  app.use("/v1/*", rateLimit);
  app.use("/v1/*", admission);
  app.use("/v1/*", bodyLimit);
  app.use("/v1/*", idempotency);
  app.route("/v1/builds", buildRoutes);
  app.route("/v1/builds", buildControlRoutes);
  app.route("/v1/builds", buildRuntimeRoutes);
  app.route("/v1/planner", planningRoutes);
  app.route("/v1/runner", runnerRoutes);
  app.route("/v1", validationRoutes);
  // Local development only (404 elsewhere): the dashboard's one-click sign-in.
  app.route("/v1/dev", devRoutes);
  app.route("/v1/program", securityRoutes);
  app.route("/v1/program", githubRoutes);
  app.route("/v1/program", checkpointRoutes);
  app.route("/v1/program", programRoutes);
  app.route("/v1/program", historyRoutes);
  app.route("/v1/program", alertRoutes);
  app.route("/v1/ops", opsRoutes);
  app.route("/v1/audit", auditRoutes);
  return app;
}

export type AppType = ReturnType<typeof createApp>;
