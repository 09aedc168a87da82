/**
 * What the routes cannot say about themselves: summary, tags, success responses and the
 * domain error codes of every canonical route, keyed `METHOD /hono/path`. Request schemas and
 * capabilities come from the routes' own middleware (route-meta.ts); week aliases (SPEC §6.10)
 * reuse their canonical entry. openapi.document.ts refuses a served route without an entry and
 * an entry without a route, so the catalogue and the app cannot drift apart.
 */
import type { z } from "zod";
import type { ErrorCode } from "../kernel/errors";
import * as audit from "../audit/audit.schemas";
import * as builds from "../builds/builds.schemas";
import * as deadLetters from "../builds/dead-letters.schemas";
import * as dev from "../dev/dev.schemas";
import * as planning from "../planning/planning.schemas";
import * as program from "../program/program.schemas";
import * as secrets from "../security/secrets.schemas";
import * as webhooks from "../security/webhooks.schemas";
import * as edge from "./http.schemas";

const R = { ...audit, ...builds, ...deadLetters, ...dev, ...planning, ...program, ...secrets, ...webhooks, ...edge };

export type Auth =
  | "bearer" // Authorization: Bearer <user JWT>
  | "bearer_or_stream_token" // the SSE route also takes ?stream_token=
  | "signature" // signed delivery (webhook ingest, runner callbacks): no JWT
  | "public"; // no authentication

export interface ResponseDoc {
  description: string;
  /** application/json body. */
  schema?: z.ZodType;
  /** A non-JSON body: its media type (schema is a string). */
  mediaType?: "text/plain; version=0.0.4; charset=utf-8" | "text/html; charset=utf-8" | "text/event-stream";
  /** Sets a `Location` header (created resources). */
  location?: boolean;
}

export interface RouteDoc {
  operationId: string;
  summary: string;
  description?: string;
  tag: Tag;
  /** Defaults from the path: `bearer` under /v1, else `public`. */
  auth?: Auth;
  responses: Record<number, ResponseDoc>;
  /** Domain error codes (the generic ones — auth, validation, rate limit, idempotency — are added by the generator). */
  errors?: readonly ErrorCode[];
  /** `components.schemas` name of the request body when several routes share its schema. */
  requestName?: string;
}

export const TAGS = {
  builds: "Build runs: planning, creation, reads, the event log and stream (SPEC §5.1).",
  control: "Control actions and sub-resources of a build (SPEC §4.10).",
  runtime: "A build's runtime session, worker health, metrics, logs and nudges (SPEC §5.2).",
  findings: "Runner findings and the build report.",
  runner: "The runner protocol: signed reports from runner services.",
  validation: "Stateless validation helpers and prompt contracts (SPEC §5.3).",
  campaigns: "Validation campaigns, runs and reports (SPEC §6.1).",
  policy: "Policy profiles and policy-check (SPEC §6.2).",
  release: "SLO summary, release checklist, rollback drills and go-live (SPEC §6.6–6.8).",
  secrets: "Envelope-encrypted secrets (SPEC §6.3).",
  webhooks: "Signed webhook ingest and stored deliveries (SPEC §6.4).",
  idempotency: "Idempotent checkpoints (SPEC §6.5).",
  planner: "Versioned planner policies (docs/planner-policy.md).",
  ops: "Operability: health, metrics, dead letters, this document (docs/runbooks).",
  development: "Local development only (404 unless ENVIRONMENT=development on a loopback host).",
} as const;
export type Tag = keyof typeof TAGS;

const ok = (schema: z.ZodType, description = "OK"): Record<number, ResponseDoc> => ({ 200: { description, schema } });
const created = (schema: z.ZodType, description = "Created", location = true): Record<number, ResponseDoc> => ({ 201: { description, schema, location } });
const upserted = (schema: z.ZodType): Record<number, ResponseDoc> => ({
  200: { description: "Replaced", schema, location: true },
  201: { description: "Created", schema, location: true },
});

const BUILD: readonly ErrorCode[] = ["build_not_found", "build_access_denied"];
const ACT: readonly ErrorCode[] = [...BUILD, "lease_lost", "build_dead_lettered"];

export const ROUTE_DOCS: Record<string, RouteDoc> = {
  // ---- public and operability ----------------------------------------------------------------
  "GET /health": { operationId: "health", tag: "ops", summary: "Liveness", responses: ok(R.Health) },
  "GET /openapi.json": { operationId: "openapiDocument", tag: "ops", summary: "This OpenAPI 3.1 document", responses: ok(R.OpenApiDocument) },
  "GET /docs": {
    operationId: "apiReference",
    tag: "ops",
    summary: "API reference (HTML rendered from this document; no script, works offline)",
    responses: { 200: { description: "HTML page", mediaType: "text/html; charset=utf-8" } },
  },
  "GET /metrics": {
    operationId: "metrics",
    tag: "ops",
    auth: "bearer",
    summary: "Prometheus metrics of the caller's tenant",
    description:
      "Text exposition format 0.0.4: builds by status, tick and node duration histograms, node failures by mode, retries, fallbacks and the fallback ratio, gate failures, webhook rejections by reason, idempotent replays, rate-limit hits, dead letters. Series of the caller's tenant plus deployment-wide ones (rejected unsigned deliveries). Counters persist in D1 across isolates.",
    responses: { 200: { description: "Prometheus text format", mediaType: "text/plain; version=0.0.4; charset=utf-8" } },
  },
  "GET /v1/ops/dead-letters": {
    operationId: "listDeadLetters",
    tag: "ops",
    summary: "Dead-lettered builds the caller may see",
    description: "Builds whose runtime ticks kept failing (RUNTIME_DEAD_LETTER_AFTER_FAILURES consecutive alarm failures), newest first. `state=open` (default), `redriven` or `all`. Scoped like builds: the caller's own builds, or the whole tenant's for a tenant admin (`*`).",
    responses: ok(R.DeadLetterPage),
  },
  "GET /v1/ops/dead-letters/:build_id": {
    operationId: "getDeadLetter",
    tag: "ops",
    summary: "One dead letter",
    responses: ok(R.DeadLetter),
    errors: ["dead_letter_not_found", "build_access_denied"],
  },
  "POST /v1/ops/dead-letters/:build_id/redrive": {
    operationId: "redriveDeadLetter",
    tag: "ops",
    summary: "Re-drive a dead-lettered build",
    description: "Clears the build's failure count and re-arms its tick loop now; the record becomes `redriven`. Idempotent: re-driving a live build only re-arms it.",
    responses: ok(R.RedriveResult),
    errors: ["dead_letter_not_found", "build_access_denied", "build_not_found"],
  },
  "POST /v1/ops/dead-letters/redrive": {
    operationId: "redriveDeadLetters",
    tag: "ops",
    summary: "Re-drive up to `limit` open dead letters the caller may see (after an outage)",
    responses: ok(R.RedriveAllResult),
  },
  "GET /v1/audit": {
    operationId: "listAuditLog",
    tag: "ops",
    summary: "The tenant's audit log (tenant admins only)",
    description:
      "Append-only record of every state-changing action (build control actions, secrets create/rotate/delete, planner policy writes and activations, policy profile writes, release checklist/drill writes and go/no-go decisions, dead-letter re-drives, development token mints): actor, action, target, request id, outcome, time. Each entry is written in the same D1 batch as the change it records. Newest first; filters `actor` (sub), `action`, `target` (`<target_type>` or `<target_type>:<target_id>`). Requires a tenant administrator (`*`), whatever ENFORCE_CAPABILITY_AUTH says. No route writes, changes or deletes an entry.",
    responses: ok(R.AuditPage),
    errors: ["insufficient_capability"],
  },

  // ---- builds ----------------------------------------------------------------------------------
  "POST /v1/builds": {
    operationId: "createBuild",
    tag: "builds",
    summary: "Plan (SPEC §4.4) and start a build",
    requestName: "BuildCreateRequest",
    responses: created(R.BuildRun),
    errors: ["invalid_dag", "build_command_refused", "runner_not_configured"],
  },
  "POST /v1/builds/preview-dag": {
    operationId: "previewDag",
    tag: "builds",
    summary: "The plan only; nothing is stored",
    requestName: "BuildCreateRequest",
    responses: ok(R.DagPreview),
    errors: ["invalid_dag", "build_command_refused", "runner_not_configured"],
  },
  "GET /v1/builds": { operationId: "listBuilds", tag: "builds", summary: "The caller's builds (tenant admins: the tenant's), newest first", responses: ok(R.BuildPage) },
  "GET /v1/builds/:id": { operationId: "getBuild", tag: "builds", summary: "A build run", responses: ok(R.BuildRun), errors: BUILD },
  "GET /v1/builds/:id/events/history": { operationId: "buildEventsHistory", tag: "builds", summary: "Events with seq > cursor", responses: ok(R.BuildEventPage), errors: BUILD },
  "GET /v1/builds/:id/events": {
    operationId: "buildEventStream",
    tag: "builds",
    auth: "bearer_or_stream_token",
    summary: "Server-Sent Events: replay from the cursor, then live",
    description: "`id: <seq>` on every message; resume with `Last-Event-ID` or `?cursor=`. Heartbeat comments; closes after the terminal events of a completed or aborted build.",
    responses: { 200: { description: "text/event-stream", mediaType: "text/event-stream" } },
    errors: BUILD,
  },
  "POST /v1/builds/:id/events/token": {
    operationId: "createStreamToken",
    tag: "builds",
    summary: "A 5-minute build-scoped token for EventSource",
    responses: created(R.StreamToken, "Created", false),
    errors: [...BUILD, "stream_token_unavailable"],
  },
  "POST /v1/builds/:id/abort": {
    operationId: "abortBuild",
    tag: "control",
    summary: "Abort (an aborted build: 200, no new events)",
    requestName: "ReasonRequest",
    responses: ok(R.BuildRun),
    errors: [...ACT, "build_abort_conflict"],
  },
  "POST /v1/builds/:id/resume": { operationId: "resumeBuild", tag: "control", summary: "Resume a paused or failed build", requestName: "ReasonRequest", responses: ok(R.BuildRun), errors: [...ACT, "build_resume_conflict"] },
  "GET /v1/builds/:id/tasks": { operationId: "listTasks", tag: "control", summary: "Task runs, newest first", responses: ok(R.TaskRunPage), errors: BUILD },
  "POST /v1/builds/:id/tasks": {
    operationId: "startTask",
    tag: "control",
    summary: "Start a manual task run of a node",
    responses: created(R.TaskRun, "Created", false),
    errors: [...ACT, "dag_node_not_found", "task_run_conflict", "build_conflict"],
  },
  "GET /v1/builds/:id/tasks/:task_run_id": { operationId: "getTask", tag: "control", summary: "One task run", responses: ok(R.TaskRun), errors: [...BUILD, "task_run_not_found"] },
  "POST /v1/builds/:id/tasks/:task_run_id/complete": {
    operationId: "completeTask",
    tag: "control",
    summary: "Complete a manual task run",
    responses: ok(R.TaskRun),
    errors: [...ACT, "task_run_not_found", "task_run_conflict"],
  },
  "GET /v1/builds/:id/gates": { operationId: "listGates", tag: "control", summary: "Gate decisions, newest first", responses: ok(R.GateDecisionPage), errors: BUILD },
  "POST /v1/builds/:id/gates/:gate": {
    operationId: "decideGate",
    tag: "control",
    summary: "Record a gate decision (FAIL fails, BLOCKED pauses a running build)",
    responses: created(R.GateDecision, "Created", false),
    errors: [...ACT, "build_conflict"],
  },
  "GET /v1/builds/:id/replan": { operationId: "listReplans", tag: "control", summary: "Replan decisions, newest first", responses: ok(R.ReplanDecisionPage), errors: BUILD },
  "POST /v1/builds/:id/replan": {
    operationId: "replanBuild",
    tag: "control",
    summary: "Manual replan (MODIFY_DAG is validated before it mutates)",
    responses: created(R.ReplanDecision, "Created", false),
    errors: [...ACT, "invalid_replan", "build_conflict"],
  },
  "GET /v1/builds/:id/replan/suggest": {
    operationId: "suggestReplan",
    tag: "control",
    summary: "Debt-triage suggestion (records REPLAN_SUGGESTED, hence the write capability)",
    responses: ok(R.ReplanSuggestion),
    errors: ACT,
  },
  "POST /v1/builds/:id/replan/suggest/apply": {
    operationId: "applyReplanSuggestion",
    tag: "control",
    summary: "Apply the debt-triage suggestion",
    requestName: "ReasonRequest",
    responses: created(R.ReplanDecision, "Created", false),
    errors: [...ACT, "invalid_replan", "build_conflict"],
  },
  "GET /v1/builds/:id/debt": { operationId: "listDebt", tag: "control", summary: "Debt items, newest first", responses: ok(R.DebtItemPage), errors: BUILD },
  "POST /v1/builds/:id/debt": { operationId: "recordDebt", tag: "control", summary: "Record a debt item", responses: created(R.DebtItem, "Created", false), errors: ACT },
  "GET /v1/builds/:id/policy-violations": { operationId: "listPolicyViolations", tag: "control", summary: "Policy violations, newest first", responses: ok(R.PolicyViolationPage), errors: BUILD },
  "POST /v1/builds/:id/policy-violations": {
    operationId: "recordPolicyViolation",
    tag: "control",
    summary: "Record a policy violation (a blocking one fails a running build)",
    responses: created(R.PolicyViolation, "Created", false),
    errors: ACT,
  },
  "GET /v1/builds/:id/checkpoints": { operationId: "listCheckpoints", tag: "control", summary: "Checkpoints, chronological", responses: ok(R.CheckpointPage), errors: BUILD },
  "POST /v1/builds/:id/checkpoints": { operationId: "createCheckpoint", tag: "control", summary: "Create a checkpoint", responses: created(R.Checkpoint, "Created", false), errors: ACT },
  "GET /v1/builds/:id/findings": { operationId: "listFindings", tag: "findings", summary: "Runner findings, newest first", responses: ok(R.FindingPage), errors: BUILD },
  "GET /v1/builds/:id/report": {
    operationId: "buildReport",
    tag: "findings",
    summary: "Counts by severity and node, the most severe findings, the remediation plan",
    responses: ok(R.BuildReport),
    errors: BUILD,
  },
  "POST /v1/builds/:id/runtime/bootstrap": { operationId: "bootstrapRuntime", tag: "runtime", summary: "Bootstrap the runtime session", responses: ok(R.RuntimeSession), errors: [...ACT, "runtime_not_found"] },
  "GET /v1/builds/:id/runtime/status": { operationId: "runtimeStatus", tag: "runtime", summary: "The runtime session", responses: ok(R.RuntimeSession), errors: [...BUILD, "runtime_not_found"] },
  "GET /v1/builds/:id/runtime/worker-health": {
    operationId: "workerHealth",
    tag: "runtime",
    summary: "Staleness from the lease and heartbeats; whether a nudge is allowed; dead-letter flag",
    responses: ok(R.WorkerHealth),
    errors: BUILD,
  },
  "GET /v1/builds/:id/runtime/metrics": { operationId: "runtimeMetrics", tag: "runtime", summary: "Runtime metric records, newest first", responses: ok(R.RuntimeMetricPage), errors: BUILD },
  "GET /v1/builds/:id/runtime/telemetry": { operationId: "runtimeTelemetry", tag: "runtime", summary: "Telemetry summary", responses: ok(R.TelemetrySummary), errors: BUILD },
  "GET /v1/builds/:id/runtime/logs": { operationId: "runnerLogs", tag: "runtime", summary: "Runner logs, newest first", responses: ok(R.RunnerLogPage), errors: BUILD },
  "POST /v1/builds/:id/runtime/tick": {
    operationId: "nudgeTick",
    tag: "runtime",
    summary: "Safe nudge: the runner ticks now, serialised with its alarm",
    responses: ok(R.TickResult),
    errors: [...ACT, "runtime_tick_conflict", "runtime_not_found"],
  },
  "POST /v1/runner/callback": {
    operationId: "runnerCallback",
    tag: "runner",
    auth: "signature",
    summary: "Runner report (ack, heartbeat, result), Standard Webhooks signature with the dispatch's callback_token",
    responses: { 202: { description: "Accepted", schema: R.RunnerCallbackAccepted } },
    errors: ["webhook_rejected", "webhook_headers_missing", "timestamp_invalid", "webhook_timestamp_invalid", "webhook_signature_invalid", "webhook_replay_detected", "coordination_unavailable", "payload_too_large", "malformed_json", "validation_failed", "build_not_found", "lease_lost", "build_dead_lettered"],
  },

  // ---- validation helpers ----------------------------------------------------------------------
  "POST /v1/validation/plan": {
    operationId: "validationPlan",
    tag: "validation",
    summary: "Expand targets into run specs",
    responses: ok(R.BenchmarkPlan),
  },
  "POST /v1/validation/report": { operationId: "validationReport", tag: "validation", summary: "Report maths over client-supplied runs", responses: ok(R.ValidationReport) },
  "GET /v1/prompt-contracts": { operationId: "listPromptContracts", tag: "validation", summary: "The prompt-contract registry", responses: ok(R.PromptContractPage) },

  // ---- development -----------------------------------------------------------------------------
  "GET /v1/dev/token": { operationId: "devTokenInfo", tag: "development", auth: "public", summary: "Whether one-click sign-in is available", responses: ok(R.DevTokenInfo), errors: ["not_found"] },
  "POST /v1/dev/token": { operationId: "createDevToken", tag: "development", auth: "public", summary: "Mint a local development token", responses: ok(R.DevToken), errors: ["not_found"] },

  // ---- planner policies ------------------------------------------------------------------------
  "GET /v1/planner/policies": { operationId: "listPlannerPolicies", tag: "planner", summary: "Stored policy versions, newest first", responses: ok(R.PlannerPolicyPage) },
  "POST /v1/planner/policies": { operationId: "createPlannerPolicy", tag: "planner", summary: "Store the next policy version (defaults filled in)", responses: created(R.PlannerPolicy) },
  "GET /v1/planner/policies/active": { operationId: "activePlannerPolicy", tag: "planner", summary: "The policy new builds get (version 0 = built-in)", responses: ok(R.PlannerPolicy) },
  "GET /v1/planner/policies/:version": { operationId: "getPlannerPolicy", tag: "planner", summary: "One policy version", responses: ok(R.PlannerPolicy), errors: ["planner_policy_not_found"] },
  "POST /v1/planner/policies/:version/activate": {
    operationId: "activatePlannerPolicy",
    tag: "planner",
    summary: "Make a version the tenant's active policy (idempotent)",
    responses: ok(R.PlannerPolicy),
    errors: ["planner_policy_not_found"],
  },

  // ---- security plane --------------------------------------------------------------------------
  "POST /v1/program/secrets": {
    operationId: "createSecret",
    tag: "secrets",
    summary: "Store a secret (the value is never returned again)",
    responses: created(R.SecretRef),
    errors: ["secret_name_conflict", "secrets_unavailable"],
  },
  "GET /v1/program/secrets": { operationId: "listSecrets", tag: "secrets", summary: "The tenant's secrets, masked, newest first", responses: ok(R.SecretRefPage) },
  "POST /v1/program/secrets/rotate": {
    operationId: "rotateSecrets",
    tag: "secrets",
    summary: "Re-wrap up to `limit` secrets under the newest key version",
    responses: ok(R.SecretRotation),
    errors: ["secrets_unavailable"],
  },
  "GET /v1/program/secrets/:secret_id": { operationId: "getSecret", tag: "secrets", summary: "Secret metadata", responses: ok(R.SecretMetadata), errors: ["secret_not_found"] },
  "DELETE /v1/program/secrets/:secret_id": { operationId: "deleteSecret", tag: "secrets", summary: "Delete a secret", responses: { 204: { description: "Deleted" } }, errors: ["secret_not_found"] },
  "POST /v1/program/secrets/:secret_id/rotate": {
    operationId: "rotateSecret",
    tag: "secrets",
    summary: "Re-wrap one secret under the newest key version",
    responses: ok(R.SecretMetadata),
    errors: ["secret_not_found", "secrets_unavailable"],
  },
  "POST /v1/program/webhook/ingest": {
    operationId: "ingestWebhook",
    tag: "webhooks",
    auth: "signature",
    summary: "Signed delivery (Standard Webhooks or X-Platform-*), stored durably",
    description: "Checked in the SPEC order: headers 400, integer timestamp 400, window 401, signature 401, replay 409; body cap 413; coordination outage 503 (fail closed).",
    responses: ok(R.WebhookAccepted),
    errors: ["webhook_headers_missing", "timestamp_invalid", "webhook_timestamp_invalid", "webhook_signature_invalid", "webhook_rejected", "webhook_replay_detected", "payload_too_large", "coordination_unavailable"],
  },
  "GET /v1/program/webhook/deliveries": { operationId: "listWebhookDeliveries", tag: "webhooks", summary: "Accepted deliveries, newest first", description: "The caller's tenant's deliveries; tenant-less ones (deployment-wide secrets without WEBHOOK_TENANT_ID) only for deployment administrators (admins of DEPLOYMENT_ADMIN_TENANT).", responses: ok(R.WebhookDeliveryPage) },
  "GET /v1/program/webhook/deliveries/:delivery_id": {
    operationId: "getWebhookDelivery",
    tag: "webhooks",
    summary: "One delivery with its stored body",
    responses: ok(R.WebhookDelivery),
    errors: ["webhook_delivery_not_found"],
  },
  "POST /v1/program/idempotent-checkpoints": {
    operationId: "idempotentCheckpoint",
    tag: "idempotency",
    summary: "Checkpoint keyed by (build_id, idempotency_key); a repeat replays it",
    responses: ok(R.IdempotentCheckpointResult),
    errors: [...BUILD, "invalid_idempotency_request", "idempotency_key_reused", "idempotency_key_in_flight", "coordination_unavailable", "lease_lost"],
  },

  // ---- program plane ---------------------------------------------------------------------------
  "POST /v1/program/campaigns": { operationId: "createCampaign", tag: "campaigns", summary: "Create a validation campaign", responses: created(R.Campaign) },
  "GET /v1/program/campaigns": { operationId: "listCampaigns", tag: "campaigns", summary: "Campaigns, newest first", responses: ok(R.CampaignPage) },
  "GET /v1/program/campaigns/:campaign_id": { operationId: "getCampaign", tag: "campaigns", summary: "One campaign", responses: ok(R.Campaign), errors: ["campaign_not_found"] },
  "POST /v1/program/campaigns/:campaign_id/runs": {
    operationId: "ingestCampaignRun",
    tag: "campaigns",
    summary: "Store a validation run (201 new, 200 replaced)",
    responses: upserted(R.RunAccepted),
    errors: ["campaign_not_found", "campaign_run_conflict", "campaign_run_limit_exceeded"],
  },
  "GET /v1/program/campaigns/:campaign_id/runs": { operationId: "listCampaignRuns", tag: "campaigns", summary: "Stored runs by run_id", responses: ok(R.CampaignRunPage), errors: ["campaign_not_found"] },
  "GET /v1/program/campaigns/:campaign_id/runs/:run_id": {
    operationId: "getCampaignRun",
    tag: "campaigns",
    summary: "One stored run",
    responses: ok(R.CampaignRun),
    errors: ["campaign_not_found", "campaign_run_not_found"],
  },
  "GET /v1/program/campaigns/:campaign_id/report": {
    operationId: "campaignReport",
    tag: "campaigns",
    summary: "Summary, gate, rubric, recommendations and plan (SPEC §6.1 formulas)",
    responses: ok(R.CampaignReport),
    errors: ["campaign_not_found"],
  },
  "POST /v1/program/campaigns/:campaign_id/execute": {
    operationId: "executeCampaign",
    tag: "campaigns",
    summary: "One build per repo × run of the plan; finished builds become runs by themselves",
    responses: { 202: { description: "Accepted", schema: R.CampaignExecution, location: true } },
    errors: ["campaign_not_found", "campaign_execution_in_progress", "campaign_plan_invalid", "invalid_dag"],
  },
  "POST /v1/program/policy-profiles": { operationId: "createPolicyProfile", tag: "policy", summary: "Create a policy profile", responses: created(R.PolicyProfile) },
  "GET /v1/program/policy-profiles": { operationId: "listPolicyProfiles", tag: "policy", summary: "Policy profiles, newest first", responses: ok(R.PolicyProfilePage) },
  "GET /v1/program/policy-profiles/:profile_id": {
    operationId: "getPolicyProfile",
    tag: "policy",
    summary: "One policy profile",
    responses: ok(R.PolicyProfile),
    errors: ["policy_profile_not_found"],
  },
  "POST /v1/program/policy-check": {
    operationId: "policyCheck",
    tag: "policy",
    summary: "ALLOW or BLOCK a command (a BLOCK with build_id is written back to the build)",
    responses: ok(R.PolicyCheckResult),
    errors: ["policy_profile_not_found", ...BUILD, "lease_lost"],
  },
  "GET /v1/program/slo-summary": { operationId: "sloSummary", tag: "release", summary: "SLO summary with objectives, windows, error budget and burn rates", responses: ok(R.SloSummary) },
  "POST /v1/program/checklist": { operationId: "upsertChecklist", tag: "release", summary: "Upsert a release checklist", responses: upserted(R.ReleaseChecklist) },
  "GET /v1/program/checklist/:release_id": { operationId: "getChecklist", tag: "release", summary: "A release checklist", responses: ok(R.ReleaseChecklist), errors: ["checklist_not_found"] },
  "POST /v1/program/rollback-drills": { operationId: "upsertRollbackDrill", tag: "release", summary: "Upsert a rollback drill", responses: upserted(R.RollbackDrill) },
  "GET /v1/program/rollback-drills/:release_id": { operationId: "getRollbackDrill", tag: "release", summary: "A rollback drill", responses: ok(R.RollbackDrill), errors: ["rollback_drill_not_found"] },
  "POST /v1/program/go-live-decision": {
    operationId: "decideGoLive",
    tag: "release",
    summary: "GO/NO_GO with SPEC-ordered reasons (readiness from a campaign when campaign_id is given)",
    responses: upserted(R.GoLiveDecision),
    errors: ["campaign_not_found"],
  },
  "GET /v1/program/go-live-decision/:release_id": {
    operationId: "getGoLiveDecision",
    tag: "release",
    summary: "A go-live decision",
    responses: ok(R.GoLiveDecision),
    errors: ["go_live_decision_not_found"],
  },
};
