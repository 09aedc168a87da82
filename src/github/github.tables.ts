/**
 * D1 tables of the GitHub integration (issue 21; drizzle, migration 0012_github).
 * - `github_repositories`: a repository (`owner/name`) bound to a tenant with its scan settings.
 *   UNIQUE(tenant_id, full_name): a tenant binds a repository once; only bound repositories start
 *   builds from deliveries.
 * - `github_reports`: the outbox of results going back to GitHub (a check run per finished
 *   GitHub-triggered build, optionally a SARIF upload). Written when the build finishes, sent at
 *   once and retried with backoff by the cron; a report that keeps failing is dead-lettered here
 *   (`state = dead_lettered`), never blocking or failing its build. UNIQUE(build_id, kind).
 */
import { index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

export const githubRepositories = sqliteTable(
  "github_repositories",
  {
    bindingId: text("binding_id").primaryKey(),
    tenantId: text("tenant_id").notNull(),
    /** `owner/name`, lower-cased (GitHub names are case-insensitive). */
    fullName: text("full_name").notNull(),
    owner: text("owner").notNull(),
    name: text("name").notNull(),
    /** Planner profile of the builds it starts (`autonomous_planner_profile`); null = the default. */
    profile: text("profile"),
    /** JSON array of branch names whose pushes are scanned. */
    pushBranches: text("push_branches").notNull(),
    /** 1 when pull requests (opened, synchronize, reopened) are scanned. */
    pullRequests: integer("pull_requests", { mode: "boolean" }).notNull(),
    /** Policy profile recorded on the builds it starts; null = none. */
    policyProfile: text("policy_profile"),
    /** 1: a newer push to a branch aborts a still-running older build of that branch. */
    supersedeOnPush: integer("supersede_on_push", { mode: "boolean" }).notNull(),
    /** 1: finished builds also upload their SARIF to code scanning. */
    sarifUpload: integer("sarif_upload", { mode: "boolean" }).notNull(),
    createdBy: text("created_by").notNull(),
    createdAt: text("created_at").notNull(),
    updatedAt: text("updated_at").notNull(),
  },
  (t) => [
    uniqueIndex("github_repositories_tenant_name_uq").on(t.tenantId, t.fullName),
    index("github_repositories_tenant_created_idx").on(t.tenantId, t.createdAt, t.bindingId),
  ],
);

export const githubReports = sqliteTable(
  "github_reports",
  {
    reportId: text("report_id").primaryKey(),
    buildId: text("build_id").notNull(),
    tenantId: text("tenant_id").notNull(),
    /** `check_run` | `sarif`. */
    kind: text("kind").notNull(),
    /** `pending` | `delivered` | `dead_lettered`. */
    state: text("state").notNull(),
    /** The request's inputs (owner, repo, head sha, ref, conclusion …) as JSON; never a token. */
    payload: text("payload").notNull(),
    attempts: integer("attempts").notNull().default(0),
    /** Unix ms of the next attempt; a sender holds a row by moving it forward (lease). */
    nextAttemptAt: integer("next_attempt_at").notNull(),
    /** The last failure, redacted and truncated (never a secret). */
    lastError: text("last_error"),
    createdAt: text("created_at").notNull(),
    updatedAt: text("updated_at").notNull(),
  },
  (t) => [
    uniqueIndex("github_reports_build_kind_uq").on(t.buildId, t.kind),
    index("github_reports_state_next_idx").on(t.state, t.nextAttemptAt),
    index("github_reports_tenant_state_idx").on(t.tenantId, t.state, t.createdAt),
  ],
);
