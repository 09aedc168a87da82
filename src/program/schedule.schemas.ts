/**
 * Request and response schemas of campaign schedules (issue 23) and of the execute request they
 * carry. The cron expression is checked by the service (422 `invalid_schedule`), not here, so a
 * bad expression has its own stable code.
 */
import { z } from "zod";
import { BuildMetadata } from "../builds/builds.schemas";
import { int, registerResponses, ts } from "../kernel/api-schemas";

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

/** Most unfinished builds one scheduled execution may have at once. */
export const MAX_CONCURRENT_BUILDS = 100;

export const ScheduleInput = z.object({
  cron: z.string().trim().min(9).max(120).describe("5 fields: minute hour day-of-month month day-of-week."),
  timezone: z.string().trim().min(1).max(64).default("UTC").describe("IANA time zone the expression is read in."),
  enabled: z.boolean().default(true),
  max_concurrent_builds: z.number().int().min(1).max(MAX_CONCURRENT_BUILDS).default(10),
  execute: CampaignExecuteRequest.default({ metadata: {}, repo_metadata: {}, run_metadata: {}, languages: {} }),
});
export type ScheduleInput = z.infer<typeof ScheduleInput>;

export const Schedule = z.object({
  cron: z.string(),
  timezone: z.string(),
  enabled: z.boolean(),
  max_concurrent_builds: int,
  execute: z.object({
    objective: z.string().optional(),
    metadata: z.record(z.string(), z.unknown()),
    repo_metadata: z.record(z.string(), z.record(z.string(), z.unknown())),
    run_metadata: z.record(z.string(), z.record(z.string(), z.unknown())),
    languages: z.record(z.string(), z.string()),
  }),
  updated_by: z.string(),
  updated_at: ts,
});

export const ScheduleView = z.object({
  campaign_id: z.uuid(),
  dry_run: z.boolean(),
  schedule: Schedule.nullable(),
  next_due_at: ts.nullable().describe("The next due time (UTC); null when there is no enabled schedule."),
  recent_slots: z
    .array(
      z.object({
        due_at: ts,
        state: z.enum(["claimed", "started", "skipped", "failed"]),
        reason: z.string().nullable(),
        execution_id: z.uuid(),
      }),
    )
    .describe("The latest due times and what became of each (newest first)."),
});

registerResponses({ Schedule, ScheduleView });
