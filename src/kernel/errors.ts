/**
 * The one error model: services throw `AppError` with a closed `ErrorCode`; `onError`
 * and `notFound` render RFC 9457 problem+json. Unknown errors become `internal` and are
 * logged with the request id, never exposed.
 */
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { logLine } from "./log";

/** Closed set of machine codes; each maps to exactly one HTTP status in `codeToStatus`. */
export const ERROR_CODES = [
  "malformed_json", // body is not parseable JSON
  "malformed_path", // the URL path has an invalid percent-encoding (not UTF-8 once decoded)
  "validation_failed", // body/query/path failed its schema
  "invalid_dag", // DAG planning rejected the graph
  "build_command_refused", // build metadata names a command to run; runners run only their own commands
  "runner_not_configured", // the build asks for the http runner but this deployment has none (RUNNER_URL)
  "unauthenticated", // no/invalid bearer token
  "token_expired", // bearer token past exp
  "capabilities_missing", // token carries no capability at all
  "insufficient_capability", // token lacks the route's capability
  "build_not_found", // no such build (or not visible to the tenant)
  "build_access_denied", // build belongs to another user
  "not_found", // no such route
  "method_not_allowed",
  "lease_lost", // the build's runner lost its lease to a newer owner; retry
  "build_conflict", // a mutation is not valid for the build's status
  "build_abort_conflict", // abort of a completed build
  "build_resume_conflict", // resume of a completed or aborted build
  "invalid_replan", // MODIFY_DAG would produce an invalid DAG
  "dag_node_not_found", // the build's DAG has no such node
  "task_run_not_found", // the build has no such task run
  "task_run_conflict", // task start/complete not valid now
  "runtime_tick_conflict", // a nudge on a paused/failed/aborted build with ready nodes
  "runtime_not_found", // the build has no runtime session
  "stream_token_unavailable", // stream tokens are not configured on this deployment
  // Security plane (src/security)
  "coordination_unavailable", // the ReplayGuard cannot be reached; fail-closed
  "payload_too_large", // request body above the route's size cap
  "rate_limited", // per-principal, per-route limit exceeded; see Retry-After
  "overloaded", // this instance is creating as many builds as it can; see Retry-After
  "webhook_headers_missing", // a webhook security header is missing, empty or malformed
  "timestamp_invalid", // webhook timestamp is not an integer
  "webhook_timestamp_invalid", // webhook timestamp outside the replay window
  "webhook_signature_invalid", // no webhook signature matches a configured secret
  "webhook_replay_detected", // webhook nonce / delivery id already seen
  "webhook_rejected", // webhook not acceptable otherwise (e.g. scheme not configured)
  "webhook_delivery_not_found", // no such stored delivery (or not visible to the tenant)
  "secret_not_found", // no such secret in the caller's tenant
  "secret_name_conflict", // a secret with that name already exists in the tenant
  "secrets_unavailable", // no SECRETS_KEYRING configured, or it lacks a needed key version
  "idempotency_key_invalid", // Idempotency-Key header is empty, too long or not printable ASCII
  "idempotency_key_in_flight", // the first request with this key has not finished yet
  "idempotency_key_reused", // the key was used with a different request payload
  "invalid_idempotency_request", // idempotent-checkpoints: empty idempotency_key
  // Program plane (src/program)
  "campaign_not_found", // no such validation campaign in the caller's tenant
  "campaign_run_not_found", // the campaign has no run with that run_id
  "campaign_run_conflict", // a client tried to replace a run the system collected from a build
  "campaign_run_limit_exceeded", // the campaign already holds the maximum number of runs
  "campaign_execution_in_progress", // builds of the campaign's current execution are unfinished
  "campaign_plan_invalid", // the campaign's plan cannot be executed (no repos, too many builds)
  "campaign_execution_not_found", // the campaign has no execution with that number
  "invalid_schedule", // a campaign schedule's cron expression or time zone does not parse
  "alert_destination_not_found", // no such alert destination in the caller's tenant
  "policy_profile_not_found", // no such policy profile in the caller's tenant
  "checklist_not_found", // no release checklist for that release in the caller's tenant
  "rollback_drill_not_found", // no rollback drill for that release in the caller's tenant
  "go_live_decision_not_found", // no go-live decision for that release in the caller's tenant
  // Planner policy layer (src/planning)
  "planner_policy_not_found", // no such planner policy version in the caller's tenant
  // Operability (src/ops)
  "build_dead_lettered", // the build's ticks kept failing and it is dead-lettered; re-drive it first
  "dead_letter_not_found", // no dead letter for that build in the caller's tenant
  // GitHub integration (src/github)
  "repository_binding_not_found", // no such repository binding in the caller's tenant
  "repository_binding_conflict", // the tenant already binds that repository
  "github_report_not_found", // no such report to GitHub in the caller's tenant
  "github_report_conflict", // only a dead-lettered report can be re-driven
  "internal", // bug; details only in logs
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export function codeToStatus(code: ErrorCode): number {
  switch (code) {
    case "malformed_json":
    case "malformed_path":
      return 400;
    case "unauthenticated":
    case "token_expired":
      return 401;
    case "capabilities_missing":
    case "insufficient_capability":
    case "build_access_denied":
      return 403;
    case "build_not_found":
    case "not_found":
    case "dag_node_not_found":
    case "task_run_not_found":
    case "runtime_not_found":
      return 404;
    case "method_not_allowed":
      return 405;
    case "build_conflict":
    case "lease_lost":
    case "build_abort_conflict":
    case "build_resume_conflict":
    case "task_run_conflict":
    case "runtime_tick_conflict":
      return 409;
    case "validation_failed":
    case "invalid_dag":
    case "build_command_refused":
    case "runner_not_configured":
    case "invalid_replan":
      return 422;
    case "stream_token_unavailable":
      return 503;
    // Security plane
    case "webhook_headers_missing":
    case "timestamp_invalid":
    case "idempotency_key_invalid":
      return 400;
    case "webhook_timestamp_invalid":
    case "webhook_signature_invalid":
    case "webhook_rejected":
      return 401;
    case "webhook_delivery_not_found":
    case "secret_not_found":
      return 404;
    case "webhook_replay_detected":
    case "secret_name_conflict":
    case "idempotency_key_in_flight":
      return 409;
    case "payload_too_large":
      return 413;
    case "idempotency_key_reused":
    case "invalid_idempotency_request":
      return 422;
    case "rate_limited":
    case "overloaded":
      return 429;
    case "coordination_unavailable":
    case "secrets_unavailable":
      return 503;
    // Program plane
    case "campaign_not_found":
    case "campaign_run_not_found":
    case "policy_profile_not_found":
    case "checklist_not_found":
    case "rollback_drill_not_found":
    case "go_live_decision_not_found":
    case "campaign_execution_not_found":
    case "alert_destination_not_found":
      return 404;
    case "campaign_run_conflict":
    case "campaign_run_limit_exceeded":
    case "campaign_execution_in_progress":
      return 409;
    case "campaign_plan_invalid":
    case "invalid_schedule":
      return 422;
    // Planner policy layer
    case "planner_policy_not_found":
      return 404;
    // Operability
    case "dead_letter_not_found":
      return 404;
    case "build_dead_lettered":
      return 409;
    // GitHub integration
    case "repository_binding_not_found":
    case "github_report_not_found":
      return 404;
    case "repository_binding_conflict":
    case "github_report_conflict":
      return 409;
    case "internal":
      return 500;
  }
}

const TITLES: Partial<Record<ErrorCode, string>> = {
  malformed_json: "Malformed JSON body",
  validation_failed: "Request validation failed",
  unauthenticated: "Authentication required",
  token_expired: "Token expired",
  internal: "Internal server error",
};

export interface FieldError {
  path: string;
  message: string;
}

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly detail?: string;
  readonly errors?: FieldError[];
  /** Reportable errors are bugs or outages worth logging at error level. */
  readonly reportable: boolean;

  constructor(code: ErrorCode, detail?: string, opts: { errors?: FieldError[]; cause?: unknown } = {}) {
    super(detail ?? code, { cause: opts.cause });
    this.code = code;
    this.status = codeToStatus(code);
    this.detail = detail;
    this.errors = opts.errors;
    this.reportable = this.status >= 500;
  }
}

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  code: ErrorCode;
  request_id: string;
  errors?: FieldError[];
}

export function toProblem(err: AppError, requestId: string): Problem {
  const problem: Problem = {
    type: `https://clarity.dev/problems/${err.code}`,
    title: TITLES[err.code] ?? err.code.replace(/_/g, " "),
    status: err.status,
    code: err.code,
    request_id: requestId,
  };
  if (err.detail) problem.detail = err.detail;
  if (err.errors) problem.errors = err.errors;
  return problem;
}

export function problemResponse(err: AppError, requestId: string, headers: HeadersInit = {}): Response {
  const h = new Headers(headers);
  h.set("content-type", "application/problem+json");
  h.set("x-request-id", requestId);
  return new Response(JSON.stringify(toProblem(err, requestId)), { status: err.status, headers: h });
}

/** Normalises anything thrown into an AppError (unknown → internal). */
export function asAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  if (err instanceof HTTPException) {
    if (err.status === 400) return new AppError("malformed_json", "Request body is not valid JSON.");
    if (err.status === 404) return new AppError("not_found");
  }
  return new AppError("internal", undefined, { cause: err });
}

export function onError(err: unknown, c: Context): Response {
  const appErr = asAppError(err);
  const requestId = (c.get("requestId") as string | undefined) ?? "unknown";
  if (appErr.reportable) {
    const cause = appErr.code === "internal" ? err : appErr.cause;
    // Redacted (src/kernel/log.ts): an error message must not carry a token or key into the logs.
    logLine("error", "request_failed", {
      request_id: requestId,
      code: appErr.code,
      error: cause instanceof Error ? cause : String(cause),
    });
  }
  return problemResponse(appErr, requestId);
}
