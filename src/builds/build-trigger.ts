/**
 * What started a build (issue 21): `manual` (the API, the dashboard, a campaign), a GitHub `push`
 * or a GitHub `pull_request`. Recorded by the control plane as `metadata.trigger` when the build is
 * created (a client may not set it) and served as `trigger` on BuildRun and BuildSummary. Pure.
 */
import { z } from "zod";

const sha = z.string().regex(/^[0-9a-f]{40}$/);

export const ManualTrigger = z.object({ kind: z.literal("manual") });

export const PushTrigger = z.object({
  kind: z.literal("push"),
  /** `owner/name` on GitHub. */
  repository: z.string(),
  /** The pushed branch (refs/heads/ stripped). */
  branch: z.string(),
  /** The commit scanned: the push's `after`. */
  head_sha: sha,
  /** X-GitHub-Delivery of the delivery that started it. */
  delivery_id: z.string(),
  html_url: z.string().nullable().describe("The pushed commit (or compare view) on GitHub."),
});

export const PullRequestTrigger = z.object({
  kind: z.literal("pull_request"),
  repository: z.string(),
  number: z.number().int().min(1),
  html_url: z.string().nullable().describe("The pull request on GitHub."),
  /** The pull request's head branch and commit (the one scanned). */
  head_ref: z.string(),
  head_sha: sha,
  /** Its base branch and commit: the baseline. */
  base_ref: z.string(),
  base_sha: sha,
  delivery_id: z.string(),
});

export const BuildTrigger = z
  .discriminatedUnion("kind", [ManualTrigger, PushTrigger, PullRequestTrigger])
  .describe("What started the build: manual (API, dashboard, campaign), a GitHub push or pull request.");
export type BuildTrigger = z.infer<typeof BuildTrigger>;
export type GitTrigger = Exclude<BuildTrigger, { kind: "manual" }>;

const MANUAL: BuildTrigger = { kind: "manual" };

/** The trigger recorded in build metadata; `manual` when none (or an unreadable one) is recorded. */
export function triggerOf(metadata: Record<string, unknown> | null | undefined): BuildTrigger {
  return triggerFrom(metadata?.trigger);
}

/** A recorded trigger value (metadata.trigger); `manual` when absent or unreadable. */
export function triggerFrom(recorded: unknown): BuildTrigger {
  // Most builds record none: no schema run (and no error built) for them.
  if (recorded === undefined || recorded === null) return { ...MANUAL };
  const parsed = BuildTrigger.safeParse(recorded);
  return parsed.success ? parsed.data : { ...MANUAL };
}
