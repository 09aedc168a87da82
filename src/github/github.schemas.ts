/**
 * Schemas of the GitHub integration (issue 21): repository binding requests and responses, the
 * ingest answer, and the parts of GitHub's webhook payloads the triggers read (push,
 * pull_request; everything else in a payload is ignored). A schema and its type share one name.
 */
import { z } from "zod";
import { int, opaqueCursor, registerResponses, ts } from "../kernel/api-schemas";

// GitHub: owner 1–39 chars of [A-Za-z0-9-]; repository names [A-Za-z0-9._-] up to 100.
const OWNER_RE = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/;
const NAME_RE = /^[A-Za-z0-9._-]{1,100}$/;
const BRANCH_RE = /^[^\u0000-\u0020\u007f~^:?*[\\]{1,255}$/;
const PROFILE_RE = /^[A-Za-z0-9._-]{1,64}$/;

export const RepositoryFullName = z
  .string()
  .trim()
  .refine((v) => {
    const [owner, name, ...rest] = v.split("/");
    return rest.length === 0 && OWNER_RE.test(owner ?? "") && NAME_RE.test(name ?? "") && name !== "." && name !== "..";
  }, "must be owner/name as on GitHub")
  .transform((v) => v.toLowerCase());

export const RepositoryBindingRequest = z.object({
  repository: RepositoryFullName.describe("`owner/name` on GitHub (case-insensitive)."),
  profile: z
    .string()
    .regex(PROFILE_RE)
    .nullable()
    .default(null)
    .describe("Planner profile of its builds; null = default."),
  push_branches: z
    .array(z.string().regex(BRANCH_RE))
    .max(50)
    .default(["main"])
    .describe("Branches whose pushes start a scan (exact names)."),
  pull_requests: z.boolean().default(true).describe("Scan pull requests (opened, synchronize, reopened)."),
  policy_profile: z
    .uuid()
    .nullable()
    .default(null)
    .describe("Policy profile id (the tenant's): its finding thresholds decide its builds' POLICY_GATE."),
  supersede_on_push: z
    .boolean()
    .default(true)
    .describe("A newer push to a branch aborts a still-running older build of that branch."),
  sarif_upload: z.boolean().default(false).describe("Also upload each finished build's SARIF to code scanning."),
});
export type RepositoryBindingRequest = z.infer<typeof RepositoryBindingRequest>;

export const BindingIdParam = z.object({ binding_id: z.uuid() });

export const ListBindingsQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().min(1).max(1024).optional(),
});
export type ListBindingsQuery = z.infer<typeof ListBindingsQuery>;

/** The tenant in the ingest URL (`/v1/program/webhook/github/{tenant_id}`): a tenant claim value. */
export const GithubTenantParam = z.object({ tenant_id: z.string().regex(/^[\x21-\x7e]{1,200}$/) });

// ---- responses -----------------------------------------------------------------------------------

export const RepositoryBinding = z.object({
  binding_id: z.uuid(),
  repository: z.string().describe("`owner/name`, lower-cased."),
  profile: z.string().nullable(),
  push_branches: z.array(z.string()),
  pull_requests: z.boolean(),
  policy_profile: z.string().nullable(),
  supersede_on_push: z.boolean(),
  sarif_upload: z.boolean(),
  created_by: z.string(),
  created_at: ts,
  updated_at: ts,
});
export const RepositoryBindingPage = z.object({ items: z.array(RepositoryBinding), next_cursor: opaqueCursor });

export const GithubDeliveryAccepted = z.object({
  status: z.literal("accepted"),
  scheme: z.literal("github"),
  delivery_id: z.uuid().describe("The stored delivery (GET /v1/program/webhook/deliveries/{delivery_id})."),
  github_delivery: z.string().describe("X-GitHub-Delivery."),
  event: z.string().describe("X-GitHub-Event."),
  outcome: z.enum(["build_started", "ignored", "ping"]),
  outcome_reason: z.string().nullable().describe("Why it was ignored, e.g. `repository_not_bound`."),
  build_id: z.uuid().nullable(),
});

export const ListReportsQuery = z.object({
  state: z.enum(["pending", "delivered", "dead_lettered"]).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().min(1).max(1024).optional(),
});
export type ListReportsQuery = z.infer<typeof ListReportsQuery>;

export const ReportIdParam = z.object({ report_id: z.uuid() });

export const GithubReport = z
  .object({
    report_id: z.uuid(),
    build_id: z.uuid(),
    kind: z.enum(["check_run", "sarif"]),
    state: z.enum(["pending", "delivered", "dead_lettered"]),
    repository: z.string(),
    head_sha: z.string(),
    attempts: int,
    next_attempt_at: ts.describe("When a pending report is tried next."),
    last_error: z.string().nullable().describe("The last failure (redacted, truncated); null once delivered."),
    created_at: ts,
    updated_at: ts,
  })
  .describe("A result going back to GitHub for a finished build (check run or SARIF upload).");
export const GithubReportPage = z.object({ items: z.array(GithubReport), next_cursor: opaqueCursor });

registerResponses({ RepositoryBinding, RepositoryBindingPage, GithubDeliveryAccepted, GithubReport, GithubReportPage });

// ---- GitHub payloads (only the fields the triggers read) ------------------------------------------

const sha = z.string().regex(/^[0-9a-f]{40}$/);
const repository = z.object({
  full_name: z.string().min(3).max(200),
  clone_url: z.url({ protocol: /^https$/ }),
  html_url: z.string().nullish(),
});

export const PushPayload = z.object({
  ref: z.string().max(300),
  after: sha,
  deleted: z.boolean().optional(),
  compare: z.string().nullish(),
  head_commit: z.object({ id: sha, url: z.string().nullish() }).nullish(),
  repository,
});
export type PushPayload = z.infer<typeof PushPayload>;

const prSide = z.object({ ref: z.string().max(255), sha, repo: repository.nullable() });
export const PullRequestPayload = z.object({
  action: z.string().max(64),
  number: int.min(1),
  pull_request: z.object({ html_url: z.string().nullish(), head: prSide, base: prSide }),
  repository,
});
export type PullRequestPayload = z.infer<typeof PullRequestPayload>;

export const AnyRepositoryPayload = z.object({ repository: z.object({ full_name: z.string().max(200) }) });
