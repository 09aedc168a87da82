// @ts-check
/**
 * The one API client of the dashboard: typed calls for every route it uses, typed with the
 * response shapes of the OpenAPI document (generated from the worker's zod schemas). Errors are RFC 9457 problems → `ApiError`;
 * a 401 calls the registered handler (the shell sends the user back to sign-in).
 */
import { getToken } from "./auth.js";
import { retryAfterMs } from "./retry-after.js";

// ---- shapes: generated from the OpenAPI document ---------------------------------------------------
// Every response shape is written once, as the worker's zod schema; docs/openapi.json publishes it and
// openapi-typescript turns it into test/ops/generated/openapi.ts (npm run openapi:update), which
// these typedefs import. Only the event payload (free-form per event type) is narrowed here.

/** @typedef {import("../../test/ops/generated/openapi").components["schemas"]} Schemas */

/** @typedef {Schemas["BuildRun"]["status"]} BuildStatus */
/** @typedef {Schemas["TaskRun"]["status"]} TaskStatus */
/** @typedef {Schemas["GateDecision"]["gate"]} GateType */
/** @typedef {Schemas["GateDecision"]["status"]} GateStatus */
/** @typedef {Schemas["ReplanDecision"]["action"]} ReplanAction */
/** @typedef {Schemas["BuildRun"]["allowed_actions"][number]} BuildControlAction */
/**
 * @template T
 * @typedef {{ items: T[], next_cursor: string | number | null }} Page
 */
/** @typedef {Schemas["DagNode"]} DagNode */
/** @typedef {Schemas["BuildNode"]} BuildNode */
/** @typedef {Schemas["TaskRun"]} TaskRun */
/** @typedef {Schemas["StateTransition"]} StatusTransition */
/** @typedef {Schemas["GateDecision"]} GateDecision */
/** @typedef {Schemas["ReplanDecision"]} ReplanDecision */
/** @typedef {Schemas["DebtItem"]} DebtItem */
/** @typedef {Schemas["PolicyViolation"]} PolicyViolation */
/** @typedef {Schemas["Checkpoint"]} Checkpoint */
/** @typedef {Schemas["BuildRun"]} BuildRun */
/** @typedef {Schemas["BuildSummary"]} BuildSummary */
/** @typedef {Schemas["BuildTrigger"]} BuildTrigger */
/** @typedef {Schemas["RepositoryBinding"]} RepositoryBinding */
/** @typedef {Schemas["GithubReport"]} GithubReport */
/** @typedef {Schemas["DagPreview"]} DagPreview */
/** @typedef {Schemas["BuildCreateRequest"]} BuildCreateRequest */
/** @typedef {Omit<Schemas["BuildEvent"], "payload"> & { payload: Record<string, any> }} BuildEvent */
/** @typedef {Schemas["StreamToken"]} StreamToken */

// program plane (src/program)
/** @typedef {Schemas["ThresholdProfile"]} ThresholdProfile */
/** @typedef {Schemas["Campaign"]} Campaign */
/** @typedef {Schemas["CampaignExecution"]} CampaignExecution */
/** @typedef {Schemas["CampaignReport"]} CampaignReport */
/** @typedef {Schemas["CampaignTrends"]} CampaignTrends */
/** @typedef {CampaignReport["summary"]} ReportSummary */
/** @typedef {ReportSummary["repos"][number]} RepoSummary */
/** @typedef {Schemas["ReleaseChecklist"]} Checklist */
/** @typedef {Omit<Checklist, "updated_by" | "updated_at">} ChecklistRequest */
/** @typedef {Schemas["RollbackDrill"]} RollbackDrill */
/** @typedef {Schemas["GoLiveDecision"]} GoLiveDecision */
/** @typedef {GoLiveDecision["validation"]} ValidationEvidence */
/** @typedef {Schemas["SloSummary"]} SloSummary */
/** @typedef {SloSummary["state"]} SloState */
/** @typedef {SloSummary["objectives"][number]} SloObjective */
/** @typedef {SloObjective["alerts"][number]} SloAlert */
/** @typedef {NonNullable<SloObjective["windows"][keyof SloObjective["windows"]]>} SloWindow */
/** @typedef {Schemas["PolicyProfile"]} PolicyProfile */
/** @typedef {Schemas["PolicyCheckResult"]} PolicyCheckResult */

// security plane (src/security), audit, development sign-in (src/dev)
/** @typedef {Schemas["SecretRef"]} SecretRef */
/** @typedef {Schemas["WebhookDeliverySummary"]} WebhookDelivery `signed_at` is the signed webhook timestamp in unix seconds. */
/** @typedef {Schemas["WebhookDelivery"]} WebhookDeliveryDetail */
/** @typedef {Schemas["AuditEntry"]} AuditEntry */
/** @typedef {Schemas["IdempotentCheckpointResult"]} IdempotentCheckpointResult */
/** @typedef {Schemas["DevTokenInfo"]} DevTokenInfo */
/** @typedef {Schemas["DevToken"]} DevToken */

// ---- transport ---------------------------------------------------------------------------------

/** A problem+json error (or a network failure, status 0). */
export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {{ code?: string, title?: string, detail?: string, request_id?: string, errors?: Array<{ path: string, message: string }> }} problem
   */
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.name = "ApiError";
    this.status = status;
    this.code = problem.code ?? (status === 0 ? "network_error" : `http_${status}`);
    this.title = problem.title ?? (status === 0 ? "Network error" : `HTTP ${status}`);
    this.detail = problem.detail ?? "";
    this.requestId = problem.request_id ?? null;
    this.errors = Array.isArray(problem.errors) ? problem.errors : [];
  }
}

/** @type {(err: ApiError) => void} */
let unauthorized = () => {};

/** Registers what happens on any 401 from an authenticated call. @param {(err: ApiError) => void} fn */
export function onUnauthorized(fn) {
  unauthorized = fn;
}

/**
 * @typedef {{ query?: Record<string, string | number | boolean | null | undefined>, body?: unknown,
 *   auth?: boolean, token?: string, headers?: Record<string, string>, signal?: AbortSignal }} RequestOptions
 */

/**
 * Sends one request and returns the parsed JSON body (undefined for 204).
 * @param {string} method
 * @param {string} path
 * @param {RequestOptions} [opts]
 * @returns {Promise<any>}
 */
export async function request(method, path, opts = {}) {
  const url = new URL(path, location.origin);
  for (const [k, v] of Object.entries(opts.query ?? {})) {
    if (v !== undefined && v !== null && v !== "") url.searchParams.set(k, String(v));
  }
  /** @type {Record<string, string>} */
  const headers = { accept: "application/json, application/problem+json", ...opts.headers };
  if (opts.body !== undefined) headers["content-type"] = "application/json";
  const auth = opts.auth ?? true;
  const token = opts.token ?? getToken();
  if (auth && token) headers.authorization = `Bearer ${token}`;
  // Every POST/PATCH carries an Idempotency-Key (the API honours it on every mutating POST/PATCH
  // under /v1), generated once per call, so a retry is the same request, never a second write.
  if (
    (method === "POST" || method === "PATCH") &&
    !Object.keys(headers).some((h) => h.toLowerCase() === "idempotency-key")
  ) {
    headers["idempotency-key"] = crypto.randomUUID();
  }
  // Reads, and writes carrying an Idempotency-Key, are safe to send again: they are retried when
  // the answer never comes (REQUEST_DEADLINE_MS), the connection fails, or a proxy answers 503 —
  // the local dev proxy drops or parks requests under bursts (docs/DECISIONS.md "The local dev server").
  const retryable =
    method === "GET" || method === "HEAD" || Object.keys(headers).some((h) => h.toLowerCase() === "idempotency-key");
  const init = {
    method,
    headers,
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
    cache: /** @type {RequestCache} */ ("no-store"),
  };
  /** @type {Response} */
  let res;
  const keyed = retryable && method !== "GET" && method !== "HEAD";
  // How long a keyed write waits for its first attempt's stored answer: a deadline from the first
  // "still in flight" answer (that attempt may have used up its own deadline before it).
  let inFlightUntil = 0;
  let overloadRetries = 0;
  for (let attempt = 1; ; attempt++) {
    const last = !retryable || attempt >= REQUEST_ATTEMPTS;
    // Only a request that may be sent again gets a deadline: abandoning any other would lose its answer.
    const signals = [opts.signal, retryable ? AbortSignal.timeout(REQUEST_DEADLINE_MS) : undefined].filter(
      (x) => x !== undefined,
    );
    try {
      res = await fetch(url, { ...init, signal: signals.length > 1 ? AbortSignal.any(signals) : signals[0] });
    } catch (err) {
      if (opts.signal?.aborted) throw err;
      if (!last) {
        await new Promise((r) => setTimeout(r, retryBackoff(attempt)));
        continue;
      }
      throw new ApiError(0, { detail: "The control plane could not be reached." });
    }
    // The instance is starting as many builds as it can (429 `overloaded`): come back after its
    // Retry-After, which spreads the refused creates of a burst over the time it needs.
    if (
      retryable &&
      res.status === 429 &&
      overloadRetries < OVERLOAD_RETRIES &&
      (await problemCode(res)) === "overloaded"
    ) {
      overloadRetries++;
      await res.body?.cancel();
      await new Promise((r) => setTimeout(r, retryAfterMs(res.headers)));
      attempt--;
      continue;
    }
    if (res.status === 503 && !last) {
      await res.body?.cancel();
      await new Promise((r) => setTimeout(r, retryBackoff(attempt)));
      continue;
    }
    // A keyed write sent again while its first attempt is still being processed (the proxy lost
    // the connection, not the request): ask again until that attempt's answer is stored.
    if (keyed && attempt > 1 && res.status === 409 && (await problemCode(res)) === "idempotency_key_in_flight") {
      inFlightUntil ||= Date.now() + REQUEST_DEADLINE_MS;
      if (Date.now() < inFlightUntil) {
        await res.body?.cancel();
        await new Promise((r) => setTimeout(r, retryBackoff(2)));
        attempt--;
        continue;
      }
    }
    break;
  }
  if (res.status === 204) return undefined;
  const text = await res.text();
  let body = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  if (!res.ok) {
    const err = new ApiError(res.status, body && typeof body === "object" ? body : { detail: text.slice(0, 200) });
    // A token passed explicitly (sign-in check) is judged by the caller, not the session.
    if (res.status === 401 && auth && opts.token === undefined) unauthorized(err);
    throw err;
  }
  return body;
}

/** How long one attempt may wait for an answer before it is abandoned (and retried, when safe). */
export const REQUEST_DEADLINE_MS = 15_000;
/** Attempts of a request that is safe to repeat (reads, writes with an Idempotency-Key). */
const REQUEST_ATTEMPTS = 5;
/** The `code` of a problem answer (null for any other body); `res` stays readable. */
const problemCode = async (/** @type {Response} */ res) => {
  const problem = await res
    .clone()
    .json()
    .catch(() => null);
  return typeof problem?.code === "string" ? problem.code : null;
};

/** The wait before attempt n + 1: 0.25, 0.5, 1, 2 s (the runtime may be restarting under a burst). */
const retryBackoff = (/** @type {number} */ attempt) => 250 * 2 ** (attempt - 1);

/** Refusals of an overloaded instance (429 `overloaded`) a request sits out before it gives up. */
const OVERLOAD_RETRIES = 20;
/** How long to sit out a 429 `overloaded` (retry-after.js, shared with the Node clients). */
export { retryAfterMs };

const enc = encodeURIComponent;

// ---- typed calls -------------------------------------------------------------------------------

export const builds = {
  /** @param {{ status?: string, limit?: number, cursor?: string | null }} [q] @returns {Promise<Page<BuildSummary>>} */
  list: (q = {}) => request("GET", "/v1/builds", { query: q }),
  /** @param {string} id @returns {Promise<BuildRun>} */
  get: (id) => request("GET", `/v1/builds/${enc(id)}`),
  /** @param {BuildCreateRequest} body @param {AbortSignal} [signal] @returns {Promise<DagPreview>} */
  previewDag: (body, signal) => request("POST", "/v1/builds/preview-dag", { body, signal }),
  /** @param {BuildCreateRequest} body @param {string} [idempotencyKey] @returns {Promise<BuildRun>} */
  create: (body, idempotencyKey) =>
    request("POST", "/v1/builds", { body, headers: idempotencyKey ? { "idempotency-key": idempotencyKey } : {} }),
  /** @param {string} id @param {number} cursor @param {number} [limit] @returns {Promise<Page<BuildEvent>>} */
  events: (id, cursor, limit = 500) =>
    request("GET", `/v1/builds/${enc(id)}/events/history`, { query: { cursor, limit } }),
  /** @param {string} id @returns {Promise<StreamToken>} */
  streamToken: (id) => request("POST", `/v1/builds/${enc(id)}/events/token`),
  /** @param {string} id @param {string} [reason] @returns {Promise<BuildRun>} */
  abort: (id, reason) => request("POST", `/v1/builds/${enc(id)}/abort`, { body: { reason: reason || null } }),
  /** @param {string} id @param {string} [reason] @returns {Promise<BuildRun>} */
  resume: (id, reason) => request("POST", `/v1/builds/${enc(id)}/resume`, { body: { reason: reason || null } }),
  /** @param {string} id @param {{ action: ReplanAction, reason: string, replacement_nodes?: DagNode[] }} body @returns {Promise<ReplanDecision>} */
  replan: (id, body) => request("POST", `/v1/builds/${enc(id)}/replan`, { body: { replacement_nodes: [], ...body } }),
  /** @param {string} id @param {string} reason @returns {Promise<Checkpoint>} */
  checkpoint: (id, reason) => request("POST", `/v1/builds/${enc(id)}/checkpoints`, { body: { reason } }),
};

export const program = {
  /** @param {{ limit?: number, cursor?: string | null }} [q] @returns {Promise<Page<Campaign>>} */
  campaigns: (q = {}) => request("GET", "/v1/program/campaigns", { query: q }),
  /** @param {{ name: string, repos: string[], runs_per_repo: number }} body @returns {Promise<Campaign>} */
  createCampaign: (body) => request("POST", "/v1/program/campaigns", { body }),
  /** @param {string} id @returns {Promise<Campaign>} */
  campaign: (id) => request("GET", `/v1/program/campaigns/${enc(id)}`),
  /** @param {string} id @param {{ metadata?: Record<string, unknown>, objective?: string }} body @returns {Promise<CampaignExecution>} */
  executeCampaign: (id, body) => request("POST", `/v1/program/campaigns/${enc(id)}/execute`, { body }),
  /** @param {string} id @returns {Promise<CampaignReport>} */
  report: (id) => request("GET", `/v1/program/campaigns/${enc(id)}/report`),
  /** @param {string} id @returns {Promise<CampaignTrends>} */
  trends: (id) => request("GET", `/v1/program/campaigns/${enc(id)}/trends`),
  /** @param {{ limit?: number, cursor?: string | null }} [q] @returns {Promise<Page<PolicyProfile>>} */
  policyProfiles: (q = {}) => request("GET", "/v1/program/policy-profiles", { query: q }),
  /** @param {{ name: string, blocked_commands: string[], restricted_paths: string[] }} body @returns {Promise<PolicyProfile>} */
  createPolicyProfile: (body) => request("POST", "/v1/program/policy-profiles", { body }),
  /** @param {{ profile_id: string, command: string, path?: string | null, build_id?: string | null }} body @returns {Promise<PolicyCheckResult>} */
  policyCheck: (body) => request("POST", "/v1/program/policy-check", { body }),
  /** @returns {Promise<SloSummary>} */
  slo: () => request("GET", "/v1/program/slo-summary"),
  /** @param {ChecklistRequest} body @returns {Promise<Checklist>} */
  saveChecklist: (body) => request("POST", "/v1/program/checklist", { body }),
  /** @param {string} releaseId @returns {Promise<Checklist>} */
  checklist: (releaseId) => request("GET", `/v1/program/checklist/${enc(releaseId)}`),
  /** @param {{ release_id: string, passed: boolean, duration_minutes: number, issues_found: string[] }} body @returns {Promise<RollbackDrill>} */
  saveDrill: (body) => request("POST", "/v1/program/rollback-drills", { body }),
  /** @param {string} releaseId @returns {Promise<RollbackDrill>} */
  drill: (releaseId) => request("GET", `/v1/program/rollback-drills/${enc(releaseId)}`),
  /** @param {{ release_id: string, validation_release_ready?: boolean, campaign_id?: string }} body @returns {Promise<GoLiveDecision>} */
  decide: (body) => request("POST", "/v1/program/go-live-decision", { body }),
  /** @param {string} releaseId @returns {Promise<GoLiveDecision>} */
  decision: (releaseId) => request("GET", `/v1/program/go-live-decision/${enc(releaseId)}`),
};

export const security = {
  /** @param {{ limit?: number, cursor?: string | null }} [q] @returns {Promise<Page<SecretRef>>} */
  secrets: (q = {}) => request("GET", "/v1/program/secrets", { query: q }),
  /** @param {{ name: string, value: string }} body @returns {Promise<SecretRef>} */
  createSecret: (body) => request("POST", "/v1/program/secrets", { body }),
  /** @param {string} id @returns {Promise<void>} */
  deleteSecret: (id) => request("DELETE", `/v1/program/secrets/${enc(id)}`),
  /** @param {{ limit?: number, cursor?: string | null, scheme?: string }} [q] @returns {Promise<Page<WebhookDelivery>>} */
  deliveries: (q = {}) => request("GET", "/v1/program/webhook/deliveries", { query: q }),
  /** @param {string} id @returns {Promise<WebhookDeliveryDetail>} */
  delivery: (id) => request("GET", `/v1/program/webhook/deliveries/${enc(id)}`),
  /** @param {{ limit?: number, cursor?: string | null }} [q] @returns {Promise<Page<RepositoryBinding>>} */
  repositories: (q = {}) => request("GET", "/v1/program/repositories", { query: q }),
  /** @param {{ state?: string, limit?: number, cursor?: string | null }} [q] @returns {Promise<Page<GithubReport>>} */
  githubReports: (q = {}) => request("GET", "/v1/program/github/reports", { query: q }),
  /** @param {{ build_id: string, idempotency_key: string, reason: string }} body @returns {Promise<IdempotentCheckpointResult>} */
  idempotentCheckpoint: (body) => request("POST", "/v1/program/idempotent-checkpoints", { body }),
};

export const audit = {
  /** The tenant's audit log (tenant admins only). @param {{ limit?: number, cursor?: string | null, actor?: string, action?: string, target?: string }} [q] @returns {Promise<Page<AuditEntry>>} */
  list: (q = {}) => request("GET", "/v1/audit", { query: q }),
};

export const dev = {
  /** Whether this deployment offers development tokens (404 anywhere but local development). @returns {Promise<DevTokenInfo | null>} */
  async info() {
    try {
      return await request("GET", "/v1/dev/token", { auth: false });
    } catch {
      return null;
    }
  },
  /** @param {string} role @returns {Promise<DevToken>} */
  token: (role) => request("POST", "/v1/dev/token", { auth: false, body: { role } }),
};

/**
 * Checks a pasted token against the API without touching the session.
 * @param {string} token
 * @returns {Promise<Page<BuildSummary>>}
 */
export const probeToken = (token) => request("GET", "/v1/builds", { query: { limit: 1 }, token });
