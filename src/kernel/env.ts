/**
 * Bindings and configuration. `Env` comes from `wrangler types` (worker-configuration.d.ts);
 * secrets are declared here. `loadConfig(env)` parses vars/secrets with zod once per request
 * (nothing reads env at module scope).
 */
import { z } from "zod";
import type { DrizzleD1Database } from "drizzle-orm/d1";
import type { Principal } from "./principal";
import {
  CorsOriginsSchema,
  KeyringSchema,
  RateLimitRulesSchema,
  StandardWebhookSecretsSchema,
  WebhookTenantSecretsSchema,
} from "./security.config";

declare global {
  namespace Cloudflare {
    interface Env {
      /** HS256 shared secret for user JWTs (Supabase style). Optional when JWKS is used. */
      JWT_SECRET?: string;
      /** JWKS endpoint for RS256/ES256 user JWTs (Clerk, Auth0, Cloudflare Access). */
      JWT_JWKS_URL?: string;
      JWT_ISSUER?: string;
      /** Pinned issuer of JWKS tokens (required when both key sources are configured). */
      JWT_JWKS_ISSUER?: string;
      JWT_MAX_LIFETIME_SECONDS?: string;
      BUILD_MAX_DAG_NODES?: string;
      MAX_REQUEST_BODY_BYTES?: string;
      RATE_LIMIT_UNAUTHENTICATED_PER_MINUTE?: string;
      RATE_LIMIT_WRITE_FAILURE_MODE?: string;
      PLANNER_MODEL_CALLS_PER_MINUTE?: string;
      /** Per-tenant Standard Webhooks secrets (secret): JSON {"<tenant>": "whsec_… whsec_…"}. */
      WEBHOOK_TENANT_SECRETS?: string;
      DEPLOYMENT_ADMIN_TENANT?: string;
      /** Signs the short-lived build-scoped SSE stream tokens. */
      STREAM_TOKEN_SECRET?: string;
      /** Runner service base URL and its Standard Webhooks secrets (whsec_…, first signs, any verifies). */
      RUNNER_URL?: string;
      RUNNER_SHARED_SECRETS?: string;
      /**
       * Derives the per-dispatch callback keys (secret; control plane only). Optional: else STREAM_TOKEN_SECRET /
       * JWT_SECRET.
       */
      RUNNER_CALLBACK_SECRET?: string;
      /** Secrets keyring (secret): JSON {"<version>": "<base64 32 bytes>"}; the highest version is newest. */
      SECRETS_KEYRING?: string;
      /** Reference-scheme webhook HMAC key (secret, X-Platform-* headers, SPEC §6.4). */
      PLATFORM_WEBHOOK_SIGNING_SECRET?: string;
      /** Standard Webhooks secrets (secret): one or more whsec_… separated by spaces/commas. */
      STANDARD_WEBHOOK_SECRETS?: string;
      /** Tenant that owns accepted webhook deliveries; unset = deployment-global deliveries. */
      WEBHOOK_TENANT_ID?: string;
      /** Per-route rate-limit overrides, JSON {"POST /v1/builds": 60}. */
      RATE_LIMIT_RULES?: string;
      /** Bearer key of the planner model endpoint (secret; src/planning/planning.model.ts). */
      PLANNER_MODEL_API_KEY?: string;
      /**
       * Development/test-only fault injection (JSON, see FaultInjectionSchema). Never set in
       * wrangler.toml: any ENVIRONMENT other than development/test refuses the configuration.
       */
      FAULT_INJECTION?: string;
      /** Development-only opt-in: also read roles/capabilities from user-editable `user_metadata`. */
      AUTH_TRUST_USER_METADATA?: string;
      /** Minimum structured-log level (src/kernel/log.ts); optional var, unset = info. */
      LOG_LEVEL?: string;
      /** Test-only binding: migrations read by the vitest pool. */
      TEST_MIGRATIONS?: unknown;
    }
  }
}

const flag = z.enum(["true", "false", "1", "0"]).transform((v) => v === "true" || v === "1");
const intVar = (def: number, min: number, max: number) => z.coerce.number().int().min(min).max(max).default(def);

/**
 * Fault injection for the reliability harness (issue 9; test/faults): the simulated runner fails
 * `node_failure_rate` of node attempts (deterministic per build, node, attempt and `seed`), a
 * tick throws inside the alarm with probability `tick_throw_rate` (nothing is committed, the
 * runtime retries the alarm), `redeliver_alarms` delivers every alarm twice, and a build's D1
 * commit fails before (`commit_throw_rate`) or after (`commit_lost_rate`) D1 applied it
 * (src/builds/commit-faults.ts); `create_stall_at`/`create_stall_ms` hold every create at one
 * of its steps, so a crash test can kill the server there. Honoured only
 * when ENVIRONMENT is development or test; ConfigSchema refuses it anywhere else.
 */
export const FaultInjectionSchema = z
  .string()
  .transform((raw, ctx) => {
    try {
      return JSON.parse(raw) as unknown;
    } catch {
      ctx.addIssue({ code: "custom", message: "FAULT_INJECTION must be JSON" });
      return z.NEVER;
    }
  })
  .pipe(
    z.strictObject({
      node_failure_rate: z.number().min(0).max(1).default(0),
      tick_throw_rate: z.number().min(0).max(0.5).default(0),
      redeliver_alarms: z.boolean().default(false),
      commit_throw_rate: z.number().min(0).max(0.3).default(0),
      commit_lost_rate: z.number().min(0).max(0.3).default(0),
      create_stall_at: z.enum(["before_d1_commit", "after_d1_commit"]).optional(),
      create_stall_ms: z.number().int().min(0).max(60_000).default(0),
      seed: z.number().int().default(1),
    }),
  );
export type FaultInjection = z.infer<typeof FaultInjectionSchema>;

/** http://127.0.0.1, [::1] or localhost (the token never leaves the machine). */
function isLoopbackUrl(url: string): boolean {
  const host = new URL(url).hostname;
  return host === "localhost" || host === "[::1]" || /^127(?:\.\d{1,3}){3}$/.test(host);
}

const ConfigShape = {
  ENVIRONMENT: z.enum(["development", "test", "staging", "production"]).default("production"),
  JWT_SECRET: z.string().min(16).optional(),
  JWT_JWKS_URL: z.url().optional(),
  JWT_AUDIENCE: z.string().min(1).default("authenticated"),
  /** Pinned `iss` of HS256 tokens (and of JWKS tokens when only JWKS is configured). */
  JWT_ISSUER: z.string().min(1).optional(),
  /** Pinned `iss` of JWKS (RS256/ES256) tokens; required with JWT_SECRET + JWT_JWKS_URL (issue 17). */
  JWT_JWKS_ISSUER: z.string().min(1).optional(),
  /** Longest accepted user-token lifetime (`exp` − `iat`, and `exp` − now); `exp` is required. */
  JWT_MAX_LIFETIME_SECONDS: intVar(86_400, 60, 30 * 86_400),
  ENFORCE_CAPABILITY_AUTH: flag.default(true),
  /** Read roles/capabilities from user-editable `user_metadata` too (development only; issue 17). */
  AUTH_TRUST_USER_METADATA: flag.default(false),
  TENANT_CLAIM: z.string().min(1).default("org_id"),
  STREAM_TOKEN_SECRET: z.string().min(16).optional(),
  RUNTIME_NODE_PARALLELISM: intVar(4, 1, 64),
  /** Most nodes a build's DAG may reach through MODIFY_DAG replans (422 invalid_replan above; issue 17). */
  BUILD_MAX_DAG_NODES: intVar(300, 10, 10_000),
  RUNTIME_LEASE_TTL_SECONDS: intVar(20, 5, 600),
  RUNTIME_WATCHDOG_STALE_SECONDS: intVar(45, 10, 3600),
  RUNNER_URL: z.url().optional(),
  RUNNER_SHARED_SECRETS: StandardWebhookSecretsSchema.optional(),
  RUNNER_CALLBACK_SECRET: z.string().min(16).optional(),
  PUBLIC_BASE_URL: z.url().default("http://127.0.0.1:8787"),
  RUNNER_NODE_TIMEOUT_SECONDS: intVar(600, 1, 86_400),
  RUNNER_HEARTBEAT_TIMEOUT_SECONDS: intVar(60, 1, 3600),
  RUNTIME_WATCHDOG_NUDGE_ENABLED: flag.default(true),
  RUNTIME_CLIENT_TICK_FALLBACK_ENABLED: flag.default(false),
  SSE_HEARTBEAT_SECONDS: intVar(15, 1, 300),
  SSE_IDLE_TIMEOUT_SECONDS: intVar(300, 5, 3600),
  // Security plane (src/security; README "Configuration").
  SECRETS_KEYRING: KeyringSchema.optional(),
  PLATFORM_WEBHOOK_SIGNING_SECRET: z.string().min(16).optional(),
  STANDARD_WEBHOOK_SECRETS: StandardWebhookSecretsSchema.optional(),
  WEBHOOK_TENANT_ID: z.string().min(1).max(256).optional(),
  /** Per-tenant Standard Webhooks secrets (secret, JSON tenant → whsec_…; issue 17). */
  WEBHOOK_TENANT_SECRETS: WebhookTenantSecretsSchema.optional(),
  /** Tenant whose admins (`*`) are deployment administrators: they see tenant-less deliveries. */
  DEPLOYMENT_ADMIN_TENANT: z.string().min(1).max(256).optional(),
  WEBHOOK_REPLAY_WINDOW_SECONDS: intVar(600, 1, 86_400).transform((v) => Math.max(60, v)),
  WEBHOOK_MAX_BODY_BYTES: intVar(1_048_576, 1024, 1_400_000),
  /** Body cap of every other mutating /v1 request (413 above; issue 17). */
  MAX_REQUEST_BODY_BYTES: intVar(1_048_576, 1024, 100 * 1_048_576),
  IDEMPOTENCY_TTL_SECONDS: intVar(86_400, 1, 604_800).transform((v) => Math.max(60, v)),
  IDEMPOTENCY_LOCK_SECONDS: intVar(60, 5, 3600),
  REPLAY_GUARD_SHARDS: intVar(64, 1, 1024),
  REPLAY_GUARD_TIMEOUT_MS: intVar(5000, 50, 30_000),
  RATE_LIMIT_ENABLED: flag.default(true),
  RATE_LIMIT_WRITES_PER_MINUTE: intVar(3000, 0, 1_000_000),
  RATE_LIMIT_READS_PER_MINUTE: intVar(0, 0, 1_000_000),
  RATE_LIMIT_RULES: RateLimitRulesSchema.optional(),
  /** Requests without valid credentials per client address per minute (0 = unlimited; issue 17). */
  RATE_LIMIT_UNAUTHENTICATED_PER_MINUTE: intVar(300, 0, 1_000_000),
  /** Writes when the limiter is unreachable: `closed` (503) or `open`; unset = closed in production. */
  RATE_LIMIT_WRITE_FAILURE_MODE: z.enum(["open", "closed"]).optional(),
  /** Builds created at once per isolate; more are refused 429 `overloaded` with a delay (0 = no gate). */
  ADMISSION_MAX_IN_FLIGHT: intVar(16, 0, 10_000),
  CORS_ALLOWED_ORIGINS: CorsOriginsSchema.optional(),
  // Program plane SLO objectives (src/program/slo.service.ts; README "Configuration").
  SLO_BUILD_SUCCESS_TARGET: z.coerce.number().gt(0).lt(1).default(0.95),
  SLO_COMPLETION_LATENCY_TARGET: z.coerce.number().gt(0).lt(1).default(0.95),
  SLO_COMPLETION_LATENCY_SECONDS: intVar(900, 1, 86_400),
  // Planner policy layer: optional model-backed planner (src/planning; README "Configuration").
  /** https outside development (refused below; issue 17). */
  PLANNER_MODEL_URL: z.url({ protocol: /^https?$/ }).optional(),
  /** Model calls per tenant per minute; over it the policy's own plan is used (0 = unlimited). */
  PLANNER_MODEL_CALLS_PER_MINUTE: intVar(30, 0, 100_000),
  PLANNER_MODEL_NAME: z.string().min(1).max(200).optional(),
  PLANNER_MODEL_API_KEY: z.string().min(1).optional(),
  PLANNER_MODEL_TIMEOUT_MS: intVar(8000, 100, 60_000),
  // GitHub integration (src/github): the REST API base URL (GitHub Enterprise: https://<host>/api/v3).
  GITHUB_API_URL: z.url({ protocol: /^https?$/ }).default("https://api.github.com"),
  // Reliability harness: development/test only (refused below otherwise).
  FAULT_INJECTION: FaultInjectionSchema.optional(),
  // Operability (src/ops; README "Configuration"): dead letters and structured logs.
  RUNTIME_DEAD_LETTER_AFTER_FAILURES: intVar(8, 2, 100),
  /** Unset: `info`, or `warn` when ENVIRONMENT=test (test runs print no access log). */
  LOG_LEVEL: z.enum(["debug", "info", "warn", "error"]).optional(),
};

export const ConfigSchema = z
  .object(ConfigShape)
  .refine((c) => c.ENFORCE_CAPABILITY_AUTH || c.ENVIRONMENT === "development", {
    message: "ENFORCE_CAPABILITY_AUTH may only be false when ENVIRONMENT=development",
    path: ["ENFORCE_CAPABILITY_AUTH"],
  })
  .refine((c) => !c.AUTH_TRUST_USER_METADATA || c.ENVIRONMENT === "development", {
    message:
      "AUTH_TRUST_USER_METADATA may only be true when ENVIRONMENT=development (end users can edit user_metadata)",
    path: ["AUTH_TRUST_USER_METADATA"],
  })
  .refine((c) => c.JWT_SECRET !== undefined || c.JWT_JWKS_URL !== undefined, {
    message: "configure JWT_SECRET and/or JWT_JWKS_URL",
    path: ["JWT_SECRET"],
  })
  .refine(
    (c) =>
      c.JWT_SECRET === undefined ||
      c.JWT_JWKS_URL === undefined ||
      (c.JWT_ISSUER !== undefined && c.JWT_JWKS_ISSUER !== undefined && c.JWT_ISSUER !== c.JWT_JWKS_ISSUER),
    {
      message:
        "with both JWT_SECRET and JWT_JWKS_URL, set distinct JWT_ISSUER (HS256) and JWT_JWKS_ISSUER (JWKS) so the " +
        "two never share a subject namespace",
      path: ["JWT_JWKS_ISSUER"],
    },
  )
  .refine((c) => !(c.JWT_ISSUER ?? "").includes("|") && !(c.JWT_JWKS_ISSUER ?? "").includes("|"), {
    message: "JWT issuers must not contain '|'",
    path: ["JWT_ISSUER"],
  })
  .refine((c) => c.FAULT_INJECTION === undefined || c.ENVIRONMENT === "development" || c.ENVIRONMENT === "test", {
    message: "FAULT_INJECTION may only be set when ENVIRONMENT is development or test",
    path: ["FAULT_INJECTION"],
  })
  .refine(
    (c) =>
      c.PLANNER_MODEL_URL === undefined ||
      c.PLANNER_MODEL_URL.startsWith("https://") ||
      c.ENVIRONMENT === "development",
    {
      message:
        "PLANNER_MODEL_URL must be https unless ENVIRONMENT=development (the prompt carries repository details " +
        "and the API key)",
      path: ["PLANNER_MODEL_URL"],
    },
  )
  .refine((c) => c.GITHUB_API_URL.startsWith("https://") || isLoopbackUrl(c.GITHUB_API_URL), {
    message: "GITHUB_API_URL must be https (requests carry the GitHub token), or http on a loopback host",
    path: ["GITHUB_API_URL"],
  })
  .refine((c) => c.PLANNER_MODEL_URL === undefined || c.PLANNER_MODEL_NAME !== undefined, {
    message: "PLANNER_MODEL_URL needs PLANNER_MODEL_NAME",
    path: ["PLANNER_MODEL_NAME"],
  });
export type Config = z.infer<typeof ConfigSchema>;

const cache = new WeakMap<object, Config>();

/** Parses (and memoises per env object) the configuration; a bad config is a loud error. */
export function loadConfig(env: Env): Config {
  const hit = cache.get(env);
  if (hit) return hit;
  const raw: Record<string, unknown> = {};
  for (const key of Object.keys(ConfigShape)) {
    const value = (env as unknown as Record<string, unknown>)[key];
    if (value !== undefined && value !== "") raw[key] = value;
  }
  const parsed = ConfigSchema.safeParse(raw);
  if (!parsed.success) {
    throw new Error(
      `invalid configuration: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`,
    );
  }
  cache.set(env, parsed.data);
  return parsed.data;
}

/**
 * No relational queries are used, so no schema is attached: building one per request is costly.
 * `$client` is the D1 binding itself, for the few hot statements written as plain SQL.
 */
export type Db = DrizzleD1Database & { $client: D1Database };

export interface AppEnv {
  Bindings: Env;
  Variables: {
    requestId: string;
    config: Config;
    db: Db;
    principal: Principal;
  };
}
