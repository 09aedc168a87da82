/**
 * Request schemas of the program routes (SPEC §6.1–6.2, §6.7–6.9). A schema and its type share
 * one name. Strings are trimmed; lists are bounded so every request does bounded work.
 */
import { z } from "zod";
import { BuildMetadata } from "../builds/builds.schemas";
import { BETA_DEFAULT, RUN_STATUSES } from "./campaign-report";

const limit = (def: number, max: number) => z.coerce.number().int().min(1).max(max).default(def);

export const PageQuery = z.object({
  limit: limit(20, 200),
  cursor: z.string().min(1).max(1024).optional(),
});
export type PageQuery = z.infer<typeof PageQuery>;

/** Free-string keys used in paths (release ids, run ids): no slash, no control characters. */
const pathKey = (what: string) =>
  z
    .string()
    .trim()
    .min(1, `${what} is required`)
    .max(256)
    .regex(/^[^/\u0000-\u001f\u007f]+$/, `${what} must not contain '/' or control characters`);

const cleanList = (maxItems: number, maxLen: number) =>
  z
    .array(z.string().max(maxLen))
    .max(maxItems)
    .default([])
    .transform((xs) => xs.map((x) => x.trim()).filter((x) => x !== ""));

// ---------------------------------------------------------------------------------------------
// Campaigns

const ratio01 = z.number().min(0).max(1);

/** A custom threshold profile: any omitted threshold is beta_default's; the name is required. */
export const ThresholdProfileInput = z.object({
  profile_name: z
    .string()
    .trim()
    .min(1)
    .max(64)
    .refine((n) => n !== BETA_DEFAULT.profile_name, "beta_default is reserved; omit threshold_profile to use it"),
  min_repo_count: z.number().int().min(0).max(10_000).default(BETA_DEFAULT.min_repo_count),
  min_total_runs: z.number().int().min(0).max(1_000_000).default(BETA_DEFAULT.min_total_runs),
  min_runs_per_repo: z.number().int().min(0).max(10_000).default(BETA_DEFAULT.min_runs_per_repo),
  min_success_rate: ratio01.default(BETA_DEFAULT.min_success_rate),
  min_average_success_rate: ratio01.default(BETA_DEFAULT.min_average_success_rate),
  max_duration_cv: z.number().min(0).max(100).default(BETA_DEFAULT.max_duration_cv),
  release_ready_min_score: z.number().min(0).max(100).default(BETA_DEFAULT.release_ready_min_score),
});

export const MAX_CAMPAIGN_REPOS = 50;
export const MAX_RUNS_PER_REPO = 25;

export const CampaignCreateRequest = z.object({
  name: z.string().trim().min(1).max(200),
  repos: cleanList(MAX_CAMPAIGN_REPOS, 2048).transform((xs) => [...new Set(xs)]),
  // SPEC §6.1: clamped to ≥ 1 (not rejected); bounded above like the validation plan.
  runs_per_repo: z
    .number()
    .int()
    .max(MAX_RUNS_PER_REPO)
    .default(3)
    .transform((n) => Math.max(1, n)),
  threshold_profile: ThresholdProfileInput.optional(),
});
export type CampaignCreateRequest = z.infer<typeof CampaignCreateRequest>;

export const CampaignIdParam = z.object({ campaign_id: z.uuid({ message: "campaign id must be a UUID" }) });
export const CampaignRunParam = CampaignIdParam.extend({ run_id: pathKey("run_id") });

export const ValidationRunRequest = z.object({
  repo: z.string().trim().min(1).max(2048),
  language: z.string().trim().max(64),
  run_id: pathKey("run_id"),
  status: z.enum(RUN_STATUSES),
  duration_ms: z.number().int().min(-1_000_000_000).max(1_000_000_000_000).default(0),
  findings_total: z.number().int().min(0).max(1_000_000_000).default(0),
});
export type ValidationRunRequest = z.infer<typeof ValidationRunRequest>;

/** Bounded like a build's own metadata (too deep or too large was a 500: found by the fuzz suite). */
const metadataObject = BuildMetadata;

export const CampaignExecuteRequest = z.object({
  objective: z.string().max(4000).optional(),
  /** Build metadata for every run (e.g. simulated_duration_ms). */
  metadata: metadataObject.default({}),
  /** Per repo, merged over `metadata`. */
  repo_metadata: z.record(z.string(), metadataObject).default({}),
  /** Per planned run id, merged over the repo's metadata (e.g. runner_results that fail one run). */
  run_metadata: z.record(z.string(), metadataObject).default({}),
  /** Language recorded with each repo's runs (default "unknown"). */
  languages: z.record(z.string(), z.string().trim().min(1).max(64)).default({}),
});
export type CampaignExecuteRequest = z.infer<typeof CampaignExecuteRequest>;

// ---------------------------------------------------------------------------------------------
// Policy

export const PolicyProfileCreateRequest = z.object({
  name: z.string().trim().min(1).max(200),
  blocked_commands: cleanList(200, 512),
  restricted_paths: cleanList(200, 1024),
});
export type PolicyProfileCreateRequest = z.infer<typeof PolicyProfileCreateRequest>;

export const PolicyProfileIdParam = z.object({ profile_id: z.uuid({ message: "profile id must be a UUID" }) });

export const PolicyCheckRequest = z.object({
  profile_id: z.uuid(),
  command: z.string().max(16_384),
  path: z.string().max(4096).nullable().optional(),
  build_id: z.uuid().nullable().optional(),
});
export type PolicyCheckRequest = z.infer<typeof PolicyCheckRequest>;

// ---------------------------------------------------------------------------------------------
// Release

export const ReleaseIdParam = z.object({ release_id: pathKey("release_id") });

export const ChecklistRequest = z.object({
  release_id: pathKey("release_id"),
  security_review: z.boolean().default(false),
  slo_dashboard: z.boolean().default(false),
  rollback_tested: z.boolean().default(false),
  docs_complete: z.boolean().default(false),
  runbooks_ready: z.boolean().default(false),
});
export type ChecklistRequest = z.infer<typeof ChecklistRequest>;

export const RollbackDrillRequest = z.object({
  release_id: pathKey("release_id"),
  passed: z.boolean(),
  duration_minutes: z.number().int().min(0).max(525_600),
  issues_found: z.array(z.string().max(2000)).max(200).default([]),
});
export type RollbackDrillRequest = z.infer<typeof RollbackDrillRequest>;

export const GoLiveRequest = z.object({
  release_id: pathKey("release_id"),
  /** Client-asserted readiness (SPEC); ignored when `campaign_id` is given. */
  validation_release_ready: z.boolean().default(false),
  /** Compute readiness from this campaign's report instead of trusting the flag (quirk 15). */
  campaign_id: z.uuid().optional(),
});
export type GoLiveRequest = z.infer<typeof GoLiveRequest>;
