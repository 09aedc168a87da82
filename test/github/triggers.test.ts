/**
 * The pure pieces of the GitHub integration, table-driven: delivery → trigger decision
 * (github.triggers.ts), findings → annotations and the check-run body (github.check-run.ts), the
 * report retry policy (github.retry.ts) and the build trigger read back from metadata.
 */
import { describe, expect, it } from "vitest";
import { triggerOf } from "../../src/builds/build-trigger";
import {
  annotationLevel,
  checkRunRequest,
  conclusionOf,
  findingsToAnnotations,
} from "../../src/github/github.check-run";
import { REPORT_RETRY, afterFailure } from "../../src/github/github.retry";
import { type BindingSettings, decide, repositoryOf } from "../../src/github/github.triggers";
import { pullRequestPayload, pushPayload, sha } from "./helpers";

const BOUND: BindingSettings = {
  repository: "acme/app",
  profile: null,
  push_branches: ["main", "release/1.x"],
  pull_requests: true,
  policy_profile: null,
  supersede_on_push: true,
};
const HEAD = sha("head");
const BASE = sha("base");
const PR = { number: 7, head: "feat", headSha: HEAD, base: "main", baseSha: BASE };
const push = (branch: string, after = HEAD) => pushPayload("acme/app", branch, after);

describe("decide(event, payload, binding)", () => {
  const cases: [string, string, unknown, BindingSettings | null, string][] = [
    ["ping without binding", "ping", { zen: "z" }, null, "ping"],
    ["push to a configured branch", "push", push("main"), BOUND, "build"],
    ["push to a configured branch with a slash", "push", push("release/1.x"), BOUND, "build"],
    ["push to another branch", "push", push("dev"), BOUND, "ignore:branch_not_configured"],
    ["push of a tag", "push", { ...push("main"), ref: "refs/tags/v1" }, BOUND, "ignore:not_a_branch"],
    ["branch deletion", "push", { ...push("main"), deleted: true }, BOUND, "ignore:branch_deleted"],
    ["branch deletion (zero sha)", "push", push("main", "0".repeat(40)), BOUND, "ignore:branch_deleted"],
    ["push of an unbound repository", "push", push("main"), null, "ignore:repository_not_bound"],
    ["push without after", "push", { ...push("main"), after: undefined }, BOUND, "ignore:payload_invalid"],
    ["pull request opened", "pull_request", pullRequestPayload("acme/app", "opened", PR), BOUND, "build"],
    ["pull request synchronize", "pull_request", pullRequestPayload("acme/app", "synchronize", PR), BOUND, "build"],
    ["pull request reopened", "pull_request", pullRequestPayload("acme/app", "reopened", PR), BOUND, "build"],
    [
      "pull request closed",
      "pull_request",
      pullRequestPayload("acme/app", "closed", PR),
      BOUND,
      "ignore:pull_request_action_ignored",
    ],
    [
      "pull requests not scanned",
      "pull_request",
      pullRequestPayload("acme/app", "opened", PR),
      { ...BOUND, pull_requests: false },
      "ignore:pull_requests_not_scanned",
    ],
    ["issues event", "issues", { action: "opened" }, BOUND, "ignore:event_not_handled"],
    ["not JSON", "push", null, BOUND, "ignore:payload_invalid"],
  ];
  it.each(cases)("%s", (_name, event, payload, binding, expected) => {
    const d = decide(event, payload, binding, "guid-1");
    expect(d.kind === "ignore" ? `ignore:${d.reason}` : d.kind).toBe(expected);
  });

  it("a push builds the branch at `after`, its own branch as baseline, superseding per binding", () => {
    const d = decide("push", push("main"), BOUND, "guid-2");
    expect(d).toEqual({
      kind: "build",
      trigger: {
        kind: "push",
        repository: "acme/app",
        branch: "main",
        head_sha: HEAD,
        delivery_id: "guid-2",
        html_url: `https://github.com/acme/app/commit/${HEAD}`,
      },
      repo_url: "https://github.com/acme/app.git#main",
      baseline_repo_url: "https://github.com/acme/app.git#main",
      supersede: true,
    });
    expect(decide("push", push("main"), { ...BOUND, supersede_on_push: false }, "g")).toMatchObject({
      supersede: false,
    });
  });

  it("a pull request builds the head branch with the base branch as baseline, never superseding", () => {
    const d = decide("pull_request", pullRequestPayload("acme/app", "opened", PR), BOUND, "guid-3");
    expect(d).toMatchObject({
      kind: "build",
      trigger: { kind: "pull_request", number: 7, head_sha: HEAD, base_sha: BASE, base_ref: "main", head_ref: "feat" },
      repo_url: "https://github.com/acme/app.git#feat",
      baseline_repo_url: "https://github.com/acme/app.git#main",
      supersede: false,
    });
  });

  it.each([
    [{ repository: { full_name: "Acme/App" } }, "acme/app"],
    [{ zen: "no repository" }, null],
    ["text", null],
  ])("repositoryOf(%j) = %j", (payload, expected) => {
    expect(repositoryOf(payload)).toBe(expected);
  });
});

describe("findings → annotations", () => {
  it.each([
    ["critical", "failure"],
    ["high", "failure"],
    ["medium", "warning"],
    ["low", "notice"],
    ["info", "notice"],
    ["WEIRD", "notice"],
  ])("severity %s → %s", (severity, level) => {
    expect(annotationLevel(severity)).toBe(level);
  });

  it.each([
    ["completed", "success"],
    ["failed", "failure"],
    ["aborted", "neutral"],
  ] as const)("build %s → conclusion %s", (status, conclusion) => {
    expect(conclusionOf(status)).toBe(conclusion);
  });

  const f = (over: Record<string, unknown>) => ({
    file: "a.ts",
    line: 1,
    end_line: null,
    severity: "high",
    title: "T",
    detail: "",
    rule_id: null,
    ...over,
  });

  it("skips findings without a location, keeps order, caps at 50, normalises paths and ranges", () => {
    const out = findingsToAnnotations([
      f({ file: null }),
      f({ line: null }),
      f({ line: 0 }),
      f({ file: "./src/x.ts", line: 4, end_line: 2, title: "Back range", detail: "why", rule_id: "r1" }),
      ...Array.from({ length: 60 }, (_, i) => f({ file: `f${i}.ts`, line: i + 1, severity: "low" })),
    ]);
    expect(out).toHaveLength(50);
    expect(out[0]).toEqual({
      path: "src/x.ts",
      start_line: 4,
      end_line: 4,
      annotation_level: "failure",
      message: "[high] Back range\n\nwhy",
      title: "r1",
    });
    expect(out[1]).toMatchObject({ path: "f0.ts", start_line: 1, end_line: 1, annotation_level: "notice" });
  });

  it("builds the check-run body", () => {
    const body = checkRunRequest(
      {
        build_id: "b1",
        final_status: "failed",
        finished_at: "2026-01-01T00:00:00Z",
        head_sha: HEAD,
        findings_total: 2,
      },
      [f({}), f({ severity: "medium", file: null })],
      "http://cp/#/builds/b1",
    );
    expect(body).toMatchObject({
      name: "Clarity scan",
      head_sha: HEAD,
      status: "completed",
      conclusion: "failure",
      details_url: "http://cp/#/builds/b1",
      external_id: "b1",
      output: { title: "Build failed: 2 findings" },
    });
    expect(body.output.summary).toContain("Findings: 1 high, 1 medium.");
    expect(body.output.annotations).toHaveLength(1);
  });
});

describe("report retry policy", () => {
  const now = 1_000_000;
  it.each([
    [1, true, "pending", REPORT_RETRY.initialIntervalMs],
    [2, true, "pending", 3 * REPORT_RETRY.initialIntervalMs],
    [5, true, "pending", 81 * REPORT_RETRY.initialIntervalMs],
    [6, true, "pending", REPORT_RETRY.maxIntervalMs],
    [7, true, "pending", REPORT_RETRY.maxIntervalMs],
    [8, true, "dead_lettered", 0],
    [1, false, "dead_lettered", 0],
  ])("attempt %i failed (retryable %s) → %s after %i ms", (attempts, retryable, state, delay) => {
    expect(afterFailure(attempts, now, { retryable })).toEqual({ state, nextAttemptAt: now + delay });
  });
});

describe("triggerOf(metadata)", () => {
  it.each([
    [{}, { kind: "manual" }],
    [{ trigger: { kind: "push" } }, { kind: "manual" }],
    [{ trigger: "push" }, { kind: "manual" }],
    [
      {
        trigger: {
          kind: "push",
          repository: "a/b",
          branch: "main",
          head_sha: HEAD,
          delivery_id: "d",
          html_url: null,
        },
      },
      { kind: "push", repository: "a/b", branch: "main", head_sha: HEAD, delivery_id: "d", html_url: null },
    ],
  ])("%j → %j", (metadata, expected) => {
    expect(triggerOf(metadata)).toEqual(expected);
  });
});
