/**
 * From a GitHub delivery to what the control plane does with it (issue 21): a pure decision from
 * the event name, the parsed JSON payload and the repository's binding (null = not bound). The
 * ingest service (github.ingest.ts) acts on it and stores it on the delivery.
 *   ping                                   → answered (`ping`)
 *   push to a configured branch            → a build of the branch at `after`
 *   pull_request opened/synchronize/reopened → a build of the head commit, the base as baseline
 *   anything else                          → ignored with a stable reason
 */
import type { GitTrigger } from "../builds/build-trigger";
import { AnyRepositoryPayload, PullRequestPayload, PushPayload } from "./github.schemas";

/** The scan settings of a bound repository that decide what a delivery starts. */
export interface BindingSettings {
  repository: string;
  profile: string | null;
  push_branches: readonly string[];
  pull_requests: boolean;
  policy_profile: string | null;
  supersede_on_push: boolean;
}

/** Why a delivery started nothing (stored as the delivery's `outcome_reason`). */
export type IgnoreReason =
  | "repository_not_bound" // no binding of the repository in the tenant
  | "payload_invalid" // the payload lacks what the event needs
  | "event_not_handled" // an event other than ping, push, pull_request
  | "not_a_branch" // a push of a tag or another ref
  | "branch_deleted" // a push that deletes the branch
  | "branch_not_configured" // a push to a branch the binding does not scan
  | "pull_requests_not_scanned" // the binding does not scan pull requests
  | "pull_request_action_ignored"; // closed, labeled, edited …

export type Decision =
  | { kind: "ping" }
  | { kind: "ignore"; reason: IgnoreReason }
  | {
      kind: "build";
      trigger: GitTrigger;
      /** Clone URL with `#<branch>` (the runner checks that branch out). */
      repo_url: string;
      /** The branch whose previous scan is the baseline (pull requests: the base), as a repo URL. */
      baseline_repo_url: string;
      /** Abort older running push builds of the same branch. */
      supersede: boolean;
    };

const PR_ACTIONS = new Set(["opened", "synchronize", "reopened"]);
const ZERO_SHA = /^0{40}$/;

/** `owner/name` (lower-cased) of the payload's repository, if it names one. */
export function repositoryOf(payload: unknown): string | null {
  const parsed = AnyRepositoryPayload.safeParse(payload);
  return parsed.success ? parsed.data.repository.full_name.toLowerCase() : null;
}

const withRef = (cloneUrl: string, ref: string) => `${cloneUrl}#${encodeURI(ref)}`;

/** What a delivery starts (see the module header). `deliveryId` is X-GitHub-Delivery. */
export function decide(event: string, payload: unknown, binding: BindingSettings | null, deliveryId: string): Decision {
  if (event === "ping") return { kind: "ping" };
  if (event !== "push" && event !== "pull_request") return { kind: "ignore", reason: "event_not_handled" };
  if (binding === null) return { kind: "ignore", reason: "repository_not_bound" };
  return event === "push" ? decidePush(payload, binding, deliveryId) : decidePullRequest(payload, binding, deliveryId);
}

function decidePush(payload: unknown, binding: BindingSettings, deliveryId: string): Decision {
  const parsed = PushPayload.safeParse(payload);
  if (!parsed.success) return { kind: "ignore", reason: "payload_invalid" };
  const p = parsed.data;
  if (!p.ref.startsWith("refs/heads/")) return { kind: "ignore", reason: "not_a_branch" };
  if (p.deleted === true || ZERO_SHA.test(p.after)) return { kind: "ignore", reason: "branch_deleted" };
  const branch = p.ref.slice("refs/heads/".length);
  if (!binding.push_branches.includes(branch)) return { kind: "ignore", reason: "branch_not_configured" };
  const repoUrl = withRef(p.repository.clone_url, branch);
  return {
    kind: "build",
    trigger: {
      kind: "push",
      repository: binding.repository,
      branch,
      head_sha: p.after,
      delivery_id: deliveryId,
      html_url: p.head_commit?.url ?? p.compare ?? null,
    },
    repo_url: repoUrl,
    baseline_repo_url: repoUrl,
    supersede: binding.supersede_on_push,
  };
}

function decidePullRequest(payload: unknown, binding: BindingSettings, deliveryId: string): Decision {
  const parsed = PullRequestPayload.safeParse(payload);
  if (!parsed.success) return { kind: "ignore", reason: "payload_invalid" };
  const p = parsed.data;
  if (!binding.pull_requests) return { kind: "ignore", reason: "pull_requests_not_scanned" };
  if (!PR_ACTIONS.has(p.action)) return { kind: "ignore", reason: "pull_request_action_ignored" };
  const { head, base } = p.pull_request;
  // A fork whose repository was deleted has no head repo: its branch is gone with it.
  const headClone = head.repo?.clone_url ?? p.repository.clone_url;
  const baseClone = base.repo?.clone_url ?? p.repository.clone_url;
  return {
    kind: "build",
    trigger: {
      kind: "pull_request",
      repository: binding.repository,
      number: p.number,
      html_url: p.pull_request.html_url ?? null,
      head_ref: head.ref,
      head_sha: head.sha,
      base_ref: base.ref,
      base_sha: base.sha,
      delivery_id: deliveryId,
    },
    repo_url: withRef(headClone, head.ref),
    baseline_repo_url: withRef(baseClone, base.ref),
    supersede: false,
  };
}
