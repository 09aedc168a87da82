/**
 * Routes of the GitHub integration (issue 21), mounted at /v1/program: the signature-authenticated
 * GitHub webhook ingest (`auth: "signature"`) and the tenant's repository bindings (read with
 * program.policy.read, written with program.policy.write). Handlers read validated input, call
 * one service function, return JSON.
 */
import { Hono } from "hono";
import { createFactory } from "hono/factory";
import type { AppEnv } from "../kernel/env";
import { describeRoute, ok } from "../kernel/route-meta";
import { requestDeps } from "../kernel/request-deps";
import { validate } from "../kernel/validation";
import { requireCapability } from "../security/route-capability";
import * as bindings from "./github.bindings";
import { ingestGithub } from "./github.ingest";
import * as reports from "./github.report-ops";
import {
  BindingIdParam,
  GithubDeliveryAccepted,
  GithubReport,
  GithubReportPage,
  GithubTenantParam,
  ListBindingsQuery,
  ListReportsQuery,
  ReportIdParam,
  RepositoryBinding,
  RepositoryBindingPage,
  RepositoryBindingRequest,
} from "./github.schemas";

const factory = createFactory<AppEnv>();
const policyRead = requireCapability("program.policy.read");
const policyWrite = requireCapability("program.policy.write");

const ingest = factory.createHandlers(
  describeRoute({
    operationId: "ingestGithubWebhook",
    tag: "webhooks",
    auth: "signature",
    summary: "GitHub webhook delivery (X-Hub-Signature-256) for a tenant: push and pull_request start scans",
    description:
      "Set as the Payload URL of a GitHub webhook (content type application/json) with a secret stored as the " +
      "tenant secret `github_webhook_secret` (or `github_webhook_secret_*` during rotation). Checked in order: " +
      "body cap 413, X-GitHub-Event / X-GitHub-Delivery / X-Hub-Signature-256 headers 400, signature 401 " +
      "(nothing stored), X-GitHub-Delivery replay 409. A verified delivery is stored with its outcome: `ping`, " +
      "`build_started` (a bound repository's configured push branch, or a pull request " +
      "opened/synchronize/reopened) or `ignored` with a reason.",
    responses: ok(GithubDeliveryAccepted),
    errors: [
      "webhook_headers_missing",
      "webhook_signature_invalid",
      "webhook_replay_detected",
      "payload_too_large",
      "coordination_unavailable",
      "secrets_unavailable",
    ],
  }),
  validate("param", GithubTenantParam),
  async (c) =>
    c.json(
      await ingestGithub(
        {
          env: c.env,
          db: c.var.db,
          config: c.var.config,
          background: (work) => {
            try {
              c.executionCtx.waitUntil(work);
            } catch {
              void work;
            }
          },
        },
        c.req.valid("param").tenant_id,
        c.req.raw,
      ),
    ),
);

export const githubRoutes = new Hono<AppEnv>()
  .post("/webhook/github/:tenant_id", ...ingest)
  .post(
    "/repositories",
    describeRoute({
      operationId: "createRepositoryBinding",
      tag: "github",
      summary: "Bind a GitHub repository to the tenant with its scan settings",
      responses: { 201: { description: "Created", schema: RepositoryBinding, location: true } },
      errors: ["repository_binding_conflict"],
    }),
    policyWrite,
    validate("json", RepositoryBindingRequest),
    async (c) => {
      const b = await bindings.createBinding(requestDeps(c), c.req.valid("json"));
      c.header("location", `/v1/program/repositories/${b.binding_id}`);
      return c.json(b, 201);
    },
  )
  .get(
    "/repositories",
    describeRoute({
      operationId: "listRepositoryBindings",
      tag: "github",
      summary: "The tenant's repository bindings, newest first",
      responses: ok(RepositoryBindingPage),
    }),
    policyRead,
    validate("query", ListBindingsQuery),
    async (c) => c.json(await bindings.listBindings(requestDeps(c), c.req.valid("query"))),
  )
  .get(
    "/repositories/:binding_id",
    describeRoute({
      operationId: "getRepositoryBinding",
      tag: "github",
      summary: "One repository binding",
      responses: ok(RepositoryBinding),
      errors: ["repository_binding_not_found"],
    }),
    policyRead,
    validate("param", BindingIdParam),
    async (c) => c.json(await bindings.getBinding(requestDeps(c), c.req.valid("param").binding_id)),
  )
  .delete(
    "/repositories/:binding_id",
    describeRoute({
      operationId: "deleteRepositoryBinding",
      tag: "github",
      summary: "Unbind a repository (its deliveries are then stored and ignored)",
      responses: { 204: { description: "Deleted" } },
      errors: ["repository_binding_not_found"],
    }),
    policyWrite,
    validate("param", BindingIdParam),
    async (c) => {
      await bindings.deleteBinding(requestDeps(c), c.req.valid("param").binding_id);
      return c.body(null, 204);
    },
  )
  .get(
    "/github/reports",
    describeRoute({
      operationId: "listGithubReports",
      tag: "github",
      summary:
        "Results going back to GitHub (check runs, SARIF uploads), newest first; " +
        "`state=dead_lettered` for the failed ones",
      responses: ok(GithubReportPage),
    }),
    policyRead,
    validate("query", ListReportsQuery),
    async (c) => c.json(await reports.listReports(requestDeps(c), c.req.valid("query"))),
  )
  .post(
    "/github/reports/:report_id/redrive",
    describeRoute({
      operationId: "redriveGithubReport",
      tag: "github",
      summary: "Send a dead-lettered report again (pending, due now, a fresh attempt budget)",
      responses: ok(GithubReport),
      errors: ["github_report_not_found", "github_report_conflict"],
    }),
    policyWrite,
    validate("param", ReportIdParam),
    async (c) => c.json(await reports.redriveReport(requestDeps(c), c.req.valid("param").report_id)),
  );
