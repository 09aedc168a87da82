/**
 * Repository bindings over HTTP (tenant scope, capabilities, conflicts, validation), and the
 * reports outbox: a GitHub API that fails is retried with backoff until it answers, a permanent
 * failure is dead-lettered, and SARIF goes to code scanning when the binding asks for it. The
 * fake GitHub API is a real server on loopback (test/github/fake-github-server.mjs); the clock
 * is advanced by moving a report's next attempt, and the cron's drain is called as the
 * scheduled handler calls it.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { drainGithubReports, reportFinishedBuild } from "../../src/github/github.reports";
import { caller, waitForStatus } from "../helpers/api";
import { bind, deliver, pushPayload, recorded, sha, tenant, waitForRecorded } from "./helpers";

describe("/v1/program/repositories", () => {
  it("creates, lists, reads and deletes a tenant's bindings with defaults", async () => {
    const t = await tenant("org_gh_bindings");
    const b = await bind(t, "Acme/Widgets");
    expect(b).toMatchObject({
      repository: "acme/widgets",
      profile: null,
      push_branches: ["main"],
      pull_requests: true,
      policy_profile: null,
      supersede_on_push: true,
      sarif_upload: false,
      created_by: "org_gh_bindings_admin",
    });
    const dup = await t.admin.request("POST", "/v1/program/repositories", { repository: "acme/WIDGETS" });
    expect(dup.status).toBe(409);
    expect(dup.body.code).toBe("repository_binding_conflict");
    const list = await t.admin.request("GET", "/v1/program/repositories");
    expect(list.body.items.map((x: any) => x.binding_id)).toEqual([b.binding_id]);
    expect((await t.admin.request("GET", `/v1/program/repositories/${b.binding_id}`)).body).toEqual(b);

    // Another tenant sees nothing and cannot delete it.
    const other = await caller({ sub: "other_admin", org_id: "org_gh_other", roles: ["admin"] });
    expect((await other.request("GET", "/v1/program/repositories")).body.items).toEqual([]);
    const gone = await other.request("DELETE", `/v1/program/repositories/${b.binding_id}`);
    expect(gone.status).toBe(404);
    expect(gone.body.code).toBe("repository_binding_not_found");

    expect((await t.admin.request("DELETE", `/v1/program/repositories/${b.binding_id}`)).status).toBe(204);
    expect((await t.admin.request("GET", `/v1/program/repositories/${b.binding_id}`)).status).toBe(404);

    // Binding and unbinding are audited; the refused duplicate is not.
    const audit = await t.admin.request("GET", `/v1/audit?target=repository_binding:${b.binding_id}`);
    expect(audit.body.items.map((e: any) => [e.action, e.actor.sub])).toEqual([
      ["repository.unbind", "org_gh_bindings_admin"],
      ["repository.bind", "org_gh_bindings_admin"],
    ]);
  });

  it("needs program.policy.write to bind and program.policy.read to list", async () => {
    const viewer = await caller({ sub: "gh_viewer", org_id: "org_gh_caps", roles: ["viewer"] });
    const denied = await viewer.request("POST", "/v1/program/repositories", { repository: "acme/x" });
    expect(denied.status).toBe(403);
    expect(denied.body.code).toBe("insufficient_capability");
    expect((await viewer.request("GET", "/v1/program/repositories")).status).toBe(200);
    const operator = await caller({ sub: "gh_operator", org_id: "org_gh_caps", roles: ["operator"] });
    expect((await operator.request("POST", "/v1/program/repositories", { repository: "acme/x" })).status).toBe(201);
  });

  it.each([
    [{ repository: "no-slash" }],
    [{ repository: "a/b/c" }],
    [{ repository: "-bad/name" }],
    [{ repository: "acme/.." }],
    [{ repository: "acme/app", push_branches: ["bad branch"] }],
    [{ repository: "acme/app", profile: "has space" }],
  ])("refuses %j with 422 validation_failed", async (body) => {
    const c = await caller({ sub: "gh_valid", org_id: "org_gh_valid", roles: ["admin"] });
    const res = await c.request("POST", "/v1/program/repositories", body);
    expect(res.status).toBe(422);
    expect(res.body.code).toBe("validation_failed");
  });

  it("an unbound repository's deliveries are stored and ignored again", async () => {
    const t = await tenant("org_gh_unbind");
    const b = await bind(t, "acme/unbind");
    await t.admin.request("DELETE", `/v1/program/repositories/${b.binding_id}`);
    const res = await deliver(t.id, "push", pushPayload("acme/unbind", "main", sha("unbind")));
    expect(res.body).toMatchObject({ outcome: "ignored", outcome_reason: "repository_not_bound" });
  });
});

async function reportRow(buildId: string, kind = "check_run") {
  return env.DB.prepare(
    "SELECT state, attempts, next_attempt_at, last_error FROM github_reports WHERE build_id = ? AND kind = ?",
  )
    .bind(buildId, kind)
    .first<{ state: string; attempts: number; next_attempt_at: number; last_error: string | null }>();
}

/** Waits (deadline) until the build's report has made `attempts` attempts. */
async function afterAttempts(buildId: string, attempts: number, kind = "check_run") {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const row = await reportRow(buildId, kind);
    if (row && row.attempts >= attempts) return row;
    if (Date.now() > deadline) throw new Error(`report of ${buildId} has ${row?.attempts ?? "no"} attempts`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Moves the report's next attempt to now (the clock advancing past its backoff). */
async function due(buildId: string) {
  await env.DB.prepare("UPDATE github_reports SET next_attempt_at = ? WHERE build_id = ?")
    .bind(Date.now(), buildId)
    .run();
}

describe("reports outbox", () => {
  it("retries a failing GitHub API with backoff until the check run is delivered", async () => {
    const t = await tenant("org_gh_flaky");
    await bind(t, "acme/flaky-app");
    const res = await deliver(t.id, "push", pushPayload("acme/flaky-app", "main", sha("flaky")));
    const buildId = res.body.build_id as string;
    expect((await waitForStatus(t.admin, buildId)).status).toBe("completed");

    const first = await afterAttempts(buildId, 1);
    expect(first.state).toBe("pending");
    expect(first.last_error).toContain("HTTP 502");
    expect(first.next_attempt_at).toBeGreaterThan(Date.now() + 20_000); // backing off (30 s)
    // Not due yet: the cron leaves it alone.
    await drainGithubReports(env);
    expect((await reportRow(buildId))?.attempts).toBe(1);

    await due(buildId);
    await drainGithubReports(env);
    expect(await reportRow(buildId)).toMatchObject({ state: "pending", attempts: 2 });
    await due(buildId);
    await drainGithubReports(env);
    expect(await reportRow(buildId)).toMatchObject({ state: "delivered", attempts: 3, last_error: null });
    const calls = (await recorded("acme/flaky-app")).filter((r) => r.path.endsWith("/check-runs"));
    expect(calls).toHaveLength(3);
    expect(new Set(calls.map((c) => c.body.head_sha))).toEqual(new Set([sha("flaky")]));
  });

  it("dead-letters a report GitHub refuses for good (404) after one attempt", async () => {
    const t = await tenant("org_gh_gone");
    await bind(t, "acme/gone-app");
    const res = await deliver(t.id, "push", pushPayload("acme/gone-app", "main", sha("gone")));
    expect((await waitForStatus(t.admin, res.body.build_id)).status).toBe("completed");
    const row = await afterAttempts(res.body.build_id, 1);
    expect(row.state).toBe("dead_lettered");
    expect(row.last_error).toContain("HTTP 404");
    // A dead-lettered report is never sent again by the cron.
    await due(res.body.build_id);
    await drainGithubReports(env);
    expect((await reportRow(res.body.build_id))?.attempts).toBe(1);

    // Operators see it and may re-drive it (audited); other tenants see nothing.
    const list = await t.admin.request("GET", "/v1/program/github/reports?state=dead_lettered");
    expect(list.status).toBe(200);
    expect(list.body.items).toHaveLength(1);
    const report = list.body.items[0];
    expect(report).toMatchObject({
      build_id: res.body.build_id,
      kind: "check_run",
      state: "dead_lettered",
      repository: "acme/gone-app",
      head_sha: sha("gone"),
      attempts: 1,
    });
    expect(report.last_error).toContain("HTTP 404");
    const other = await caller({ sub: "gone_other", org_id: "org_gh_gone_other", roles: ["admin"] });
    expect((await other.request("GET", "/v1/program/github/reports")).body.items).toEqual([]);
    const foreign = await other.request("POST", `/v1/program/github/reports/${report.report_id}/redrive`);
    expect(foreign.status).toBe(404);
    expect(foreign.body.code).toBe("github_report_not_found");

    const redriven = await t.admin.request("POST", `/v1/program/github/reports/${report.report_id}/redrive`);
    expect(redriven.status).toBe(200);
    expect(redriven.body).toMatchObject({ state: "pending", attempts: 0 });
    const again = await t.admin.request("POST", `/v1/program/github/reports/${report.report_id}/redrive`);
    expect(again.status).toBe(409);
    expect(again.body.code).toBe("github_report_conflict");
    const audit = await t.admin.request("GET", "/v1/audit?action=github_report.redrive");
    expect(audit.body.items.map((e: any) => e.target_id)).toEqual([report.report_id]);
    // Sent again: GitHub still answers 404, so it is dead-lettered again after one more attempt.
    await drainGithubReports(env);
    expect(await reportRow(res.body.build_id)).toMatchObject({ state: "dead_lettered", attempts: 1 });
    expect((await recorded("acme/gone-app")).filter((r) => r.path.endsWith("/check-runs"))).toHaveLength(2);
  });

  it("a build that finishes again differently reports again; the same finish announced twice does not", async () => {
    const t = await tenant("org_gh_refinish");
    await bind(t, "acme/refinish");
    const res = await deliver(t.id, "push", pushPayload("acme/refinish", "main", sha("refinish")));
    const build = await waitForStatus(t.admin, res.body.build_id);
    expect(build.status).toBe("completed");
    const checkRuns = async () => (await recorded("acme/refinish")).filter((r) => r.path.endsWith("/check-runs"));
    await waitForRecorded("acme/refinish", (r) => r.path.endsWith("/check-runs"));
    // The hook as the build's runner calls it, for a later finish with another outcome.
    const again = {
      build_id: build.build_id,
      tenant_id: t.id,
      created_by: build.created_by,
      repo_url: build.repo_url,
      final_status: "failed" as const,
      metadata: build.metadata,
      created_at: build.created_at,
      finished_at: new Date().toISOString(),
      duration_ms: 1,
      findings_total: 0,
    };
    await reportFinishedBuild(env, again);
    await reportFinishedBuild(env, again);
    const runs = await checkRuns();
    expect(runs.map((r) => r.body.conclusion)).toEqual(["success", "failure"]);
    expect(await reportRow(build.build_id)).toMatchObject({ state: "delivered", attempts: 1 });
  });

  it("uploads SARIF (gzip + base64) to code scanning when the binding asks for it", async () => {
    const t = await tenant("org_gh_sarif");
    await bind(t, "acme/sarif-app", { sarif_upload: true });
    const after = sha("sarif");
    const res = await deliver(t.id, "push", pushPayload("acme/sarif-app", "main", after));
    expect((await waitForStatus(t.admin, res.body.build_id)).status).toBe("completed");
    const upload = await waitForRecorded("acme/sarif-app", (r) => r.path.endsWith("/code-scanning/sarifs"));
    expect(upload.body).toMatchObject({ commit_sha: after, ref: "refs/heads/main", tool_name: "clarity" });
    const bytes = Uint8Array.from(atob(upload.body.sarif), (ch) => ch.charCodeAt(0));
    const text = await new Response(new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"))).text();
    const sarif = JSON.parse(text);
    expect(sarif.version).toBe("2.1.0");
    expect(Array.isArray(sarif.runs)).toBe(true);
    await waitForRecorded("acme/sarif-app", (r) => r.path.endsWith("/check-runs"));
  });
});
