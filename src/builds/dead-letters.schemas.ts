/**
 * Request and response schemas of the operability routes (dead letters). A schema and its type
 * share one name.
 */
import { z } from "zod";
import { registerResponses } from "../kernel/api-schemas";

export const DEAD_LETTER_STATES = [
  "open", // the build's ticks kept failing; it does not tick until re-driven
  "redriven", // an operator re-drove it; its tick loop runs again
] as const;

export const DeadLetterListQuery = z.object({
  state: z.enum([...DEAD_LETTER_STATES, "all"]).default("open"),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().min(1).max(1024).optional(),
});
export type DeadLetterListQuery = z.infer<typeof DeadLetterListQuery>;

export const DeadLetterParam = z.object({ build_id: z.uuid({ message: "build id must be a UUID" }) });

export const RedriveAllQuery = z.object({ limit: z.coerce.number().int().min(1).max(100).default(25) });

export const DeadLetter = z
  .object({
    build_id: z.uuid(),
    created_by: z.string().describe("The build's creator."),
    state: z.enum(DEAD_LETTER_STATES),
    reason: z.string().describe("Why it was dead-lettered, e.g. `tick_failures_exhausted`."),
    last_error: z.string().describe("The last tick error, redacted (never a secret)."),
    attempts: z.number().int().describe("Consecutive failed ticks when it was dead-lettered."),
    dead_lettered_at: z.string(),
    redrive_count: z.number().int(),
    redriven_at: z.string().nullable(),
    redriven_by: z.string().nullable(),
    updated_at: z.string(),
    build_status: z
      .string()
      .nullable()
      .describe("The build's current status (SPEC §4.6); a dead-lettered build keeps its status."),
  })
  .describe("A build whose runtime ticks kept failing (docs/runbooks/dead-letters.md).");
export type DeadLetter = z.infer<typeof DeadLetter>;

export const DeadLetterPage = z.object({ items: z.array(DeadLetter), next_cursor: z.string().nullable() });

export const RedriveResult = z.object({
  dead_letter: DeadLetter,
  was_dead_lettered: z.boolean().describe("False when the runner was already live (the re-drive only re-armed it)."),
});

export const RedriveAllResult = z.object({
  redriven: z.array(z.uuid()).describe("Builds re-driven by this call."),
  remaining: z.number().int().describe("Open dead letters left in the tenant."),
});

registerResponses({ DeadLetter, DeadLetterPage, RedriveResult, RedriveAllResult });
