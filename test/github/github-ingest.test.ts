/**
 * Issue 21's done-when, over the real worker (D1, KV, Durable Objects): GitHub deliveries signed
 * exactly as GitHub signs them start builds of bound repositories; redeliveries, bad signatures
 * and unknown repositories do not; finished builds report a check run to the fake GitHub API on
 * loopback (test/github/fake-github-server.mjs).
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { waitForStatus } from "../helpers/api";
import {
  GITHUB_TOKEN,
  bind,
  buildsAt,
  deliver,
  pullRequestPayload,
  pushPayload,
  recorded,
  sha,
  tenant,
  waitForRecorded,
} from "./helpers";

async function deliveryOf(t: Awaited<ReturnType<typeof tenant>>, deliveryId: string) {
  const res = await t.admin.request("GET", `/v1/program/webhook/deliveries/${deliveryId}`);
  expect(res.status).toBe(200);
  return res.body;
}

describe("POST /v1/program/webhook/github/{tenant_id}", () => {
  it("answers ping and stores it", async () => {
    const t = await tenant("org_gh_ping");
    const res = await deliver(t.id, "ping", { zen: "Keep it logically awesome.", hook_id: 1 });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: "accepted", scheme: "github", event: "ping", outcome: "ping" });
    const stored = await deliveryOf(t, res.body.delivery_id);
    expect(stored).toMatchObject({
      scheme: "github",
      external_id: `${t.id}:${res.id}`,
      event: "ping",
      outcome: "ping",
    });
  });

  it("push to a configured branch starts exactly one build at the pushed commit", async () => {
    const t = await tenant("org_gh_push");
    await bind(t, "Acme/Push-App", { push_branches: ["main"] });
    const after = sha("push-one");
    const res = await deliver(t.id, "push", pushPayload("Acme/Push-App", "main", after));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ outcome: "build_started", outcome_reason: null });
    const buildId = res.body.build_id as string;

    const b = await t.admin.request("GET", `/v1/builds/${buildId}`);
    expect(b.status).toBe(200);
    expect(b.body.repo_url).toBe("https://github.com/Acme/Push-App.git#main");
    expect(b.body.trigger).toEqual({
      kind: "push",
      repository: "acme/push-app",
      branch: "main",
      head_sha: after,
      delivery_id: res.id,
      html_url: `https://github.com/Acme/Push-App/commit/${after}`,
    });
    expect(b.body.metadata.commit_sha).toBe(after);
    expect(b.body.created_by).toBe("github");
    expect(await buildsAt(t, after)).toHaveLength(1);
    expect((await deliveryOf(t, res.body.delivery_id)).build_id).toBe(buildId);
  });

  it("a redelivered delivery (same X-GitHub-Delivery) never starts a second build", async () => {
    const t = await tenant("org_gh_redeliver");
    await bind(t, "acme/redeliver", { push_branches: ["main"] });
    const after = sha("redeliver");
    const payload = pushPayload("acme/redeliver", "main", after);
    const first = await deliver(t.id, "push", payload);
    expect(first.body.outcome).toBe("build_started");
    const again = await deliver(t.id, "push", payload, { id: first.id });
    expect(again.status).toBe(409);
    expect(again.headers.get("content-type")).toContain("application/problem+json");
    expect(again.body.code).toBe("webhook_replay_detected");
    expect(await buildsAt(t, after)).toHaveLength(1);

    // The same delivery id under another tenant is that tenant's own delivery (ids are tenant-scoped).
    const u = await tenant("org_gh_redeliver_other");
    const other = await deliver(u.id, "push", payload, { id: first.id });
    expect(other.status).toBe(200);
    expect(other.body).toMatchObject({ outcome: "ignored", outcome_reason: "repository_not_bound" });
  });

  it("pull request opened starts a build of the head commit with the base as baseline", async () => {
    const t = await tenant("org_gh_pr");
    await bind(t, "acme/pr-app", { push_branches: ["main"], pull_requests: true });
    const pr = { number: 42, head: "feature/x", headSha: sha("pr-head"), base: "main", baseSha: sha("pr-base") };
    const res = await deliver(t.id, "pull_request", pullRequestPayload("acme/pr-app", "opened", pr));
    expect(res.body.outcome).toBe("build_started");
    const b = (await t.admin.request("GET", `/v1/builds/${res.body.build_id}`)).body;
    expect(b.trigger).toEqual({
      kind: "pull_request",
      repository: "acme/pr-app",
      number: 42,
      html_url: "https://github.com/acme/pr-app/pull/42",
      head_ref: "feature/x",
      head_sha: pr.headSha,
      base_ref: "main",
      base_sha: pr.baseSha,
      delivery_id: res.id,
    });
    expect(b.repo_url).toBe("https://github.com/acme/pr-app.git#feature/x");
    expect(b.metadata.baseline_repo_url).toBe("https://github.com/acme/pr-app.git#main");
    // The builds list shows the trigger too.
    expect((await buildsAt(t, pr.headSha))[0]?.trigger).toMatchObject({ kind: "pull_request", number: 42 });

    // closed is not scanned; synchronize is.
    const closed = await deliver(t.id, "pull_request", pullRequestPayload("acme/pr-app", "closed", pr));
    expect(closed.body).toMatchObject({ outcome: "ignored", outcome_reason: "pull_request_action_ignored" });
  });

  it("a bad signature is 401 problem+json and nothing is stored or started", async () => {
    const t = await tenant("org_gh_badsig");
    await bind(t, "acme/badsig", { push_branches: ["main"] });
    const after = sha("badsig");
    const payload = pushPayload("acme/badsig", "main", after);
    for (const opts of [{ secret: "not-the-secret" }, { signature: "sha256=zz" }, { signature: "sha1=abc" }]) {
      const res = await deliver(t.id, "push", payload, opts);
      expect(res.status).toBe(401);
      expect(res.headers.get("content-type")).toContain("application/problem+json");
      expect(res.body.code).toBe("webhook_signature_invalid");
    }
    // A tenant without a webhook secret answers the same.
    expect((await deliver("org_gh_nobody", "push", payload)).status).toBe(401);
    const list = await t.admin.request("GET", "/v1/program/webhook/deliveries?scheme=github&limit=200");
    expect(list.body.items).toEqual([]);
    expect(await buildsAt(t, after)).toHaveLength(0);
  });

  it("a body above WEBHOOK_MAX_BODY_BYTES is 413 and nothing is stored", async () => {
    const t = await tenant("org_gh_big");
    await bind(t, "acme/big", { push_branches: ["main"] });
    const after = sha("big");
    const payload = { ...pushPayload("acme/big", "main", after), padding: "x".repeat(1_100_000) };
    const res = await deliver(t.id, "push", payload);
    expect(res.status).toBe(413);
    expect(res.body.code).toBe("payload_too_large");
    const list = await t.admin.request("GET", "/v1/program/webhook/deliveries?scheme=github&limit=200");
    expect(list.body.items).toEqual([]);
    expect(await buildsAt(t, after)).toHaveLength(0);
  });

  it("missing GitHub headers are 400 webhook_headers_missing", async () => {
    const res = await deliver("org_gh_headers", "", { zen: "x" });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe("webhook_headers_missing");
  });

  it("an unknown repository is stored and ignored with the reason", async () => {
    const t = await tenant("org_gh_unknown");
    const after = sha("unknown");
    const res = await deliver(t.id, "push", pushPayload("acme/not-bound", "main", after));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ outcome: "ignored", outcome_reason: "repository_not_bound", build_id: null });
    const stored = await deliveryOf(t, res.body.delivery_id);
    expect(stored).toMatchObject({
      event: "push",
      outcome: "ignored",
      outcome_reason: "repository_not_bound",
      build_id: null,
    });
    expect(JSON.parse(stored.body).after).toBe(after);
    expect(await buildsAt(t, after)).toHaveLength(0);
  });

  it("a push to a branch the binding does not scan is ignored", async () => {
    const t = await tenant("org_gh_branch");
    await bind(t, "acme/branches", { push_branches: ["main", "release"] });
    const res = await deliver(t.id, "push", pushPayload("acme/branches", "experiment", sha("exp")));
    expect(res.body).toMatchObject({ outcome: "ignored", outcome_reason: "branch_not_configured" });
    const rel = await deliver(t.id, "push", pushPayload("acme/branches", "release", sha("rel")));
    expect(rel.body.outcome).toBe("build_started");
  });

  it("a newer push to the branch aborts the still-running older build (supersede_on_push)", async () => {
    const t = await tenant("org_gh_supersede");
    await bind(t, "acme/supersede", { push_branches: ["main"] });
    const first = await deliver(t.id, "push", pushPayload("acme/supersede", "main", sha("older")));
    const second = await deliver(t.id, "push", pushPayload("acme/supersede", "main", sha("newer")));
    const older = await waitForStatus(t.admin, first.body.build_id);
    expect(older.status).toBe("aborted");
    expect(older.state_transitions.at(-1).reason).toContain("superseded by a newer push");
    expect((await waitForStatus(t.admin, second.body.build_id)).status).toBe("completed");
  });

  it("with supersede_on_push false both pushes' builds run to the end", async () => {
    const t = await tenant("org_gh_keep");
    await bind(t, "acme/keep", { push_branches: ["main"], supersede_on_push: false });
    const first = await deliver(t.id, "push", pushPayload("acme/keep", "main", sha("keep-1")));
    const second = await deliver(t.id, "push", pushPayload("acme/keep", "main", sha("keep-2")));
    expect((await waitForStatus(t.admin, first.body.build_id)).status).toBe("completed");
    expect((await waitForStatus(t.admin, second.body.build_id)).status).toBe("completed");
  });
});

describe("check runs back to GitHub", () => {
  it("a finished push build reports a completed check run with the tenant's token", async () => {
    const t = await tenant("org_gh_check");
    await bind(t, "acme/checked", { push_branches: ["main"] });
    const after = sha("checked");
    const res = await deliver(t.id, "push", pushPayload("acme/checked", "main", after));
    expect((await waitForStatus(t.admin, res.body.build_id)).status).toBe("completed");
    const run = await waitForRecorded("acme/checked", (r) => r.path === "/repos/acme/checked/check-runs");
    expect(run.headers.authorization).toBe(`Bearer ${GITHUB_TOKEN}`);
    expect(run.headers["x-github-api-version"]).toBe("2022-11-28");
    expect(run.body).toMatchObject({
      name: "Clarity scan",
      head_sha: after,
      status: "completed",
      conclusion: "success",
      external_id: res.body.build_id,
      output: { title: "Build completed: 0 findings", annotations: [] },
    });
    // One finished build, one check run (the hook is idempotent per build).
    expect((await recorded("acme/checked")).filter((r) => r.path.endsWith("/check-runs"))).toHaveLength(1);
  });

  it("without a github_token secret the report is dead-lettered and the build is unaffected", async () => {
    const t = await tenant("org_gh_notoken", { token: false });
    await bind(t, "acme/notoken", { push_branches: ["main"] });
    const res = await deliver(t.id, "push", pushPayload("acme/notoken", "main", sha("notoken")));
    expect((await waitForStatus(t.admin, res.body.build_id)).status).toBe("completed");
    const deadline = Date.now() + 10_000;
    let row: { state: string; last_error: string } | null = null;
    while (Date.now() < deadline) {
      row = await env.DB.prepare("SELECT state, last_error FROM github_reports WHERE build_id = ?")
        .bind(res.body.build_id)
        .first();
      if (row?.state === "dead_lettered") break;
      await new Promise((r) => setTimeout(r, 25));
    }
    expect(row).toEqual({ state: "dead_lettered", last_error: "no github_token secret in the tenant" });
    expect(await recorded("acme/notoken")).toEqual([]);
  });

  it("a binding's policy profile must be the tenant's, and its finding thresholds go on the push's build", async () => {
    const t = await tenant("org_gh_policy");
    const missing = await t.admin.request("POST", "/v1/program/repositories", {
      repository: "Acme/Policy-App",
      policy_profile: crypto.randomUUID(),
    });
    expect([missing.status, missing.body.code]).toEqual([404, "policy_profile_not_found"]);
    const profile = await t.admin.request("POST", "/v1/program/policy-profiles", {
      name: "no highs",
      blocked_commands: [],
      restricted_paths: [],
      finding_thresholds: { max_high: 0 },
    });
    expect(profile.status).toBe(201);
    await bind(t, "Acme/Policy-App", { policy_profile: profile.body.profile_id });
    const res = await deliver(t.id, "push", pushPayload("Acme/Policy-App", "main", sha("policy-push")));
    expect(res.body).toMatchObject({ outcome: "build_started" });
    const b = (await t.admin.request("GET", `/v1/builds/${res.body.build_id}`)).body;
    expect(b.metadata).toMatchObject({
      policy_profile_id: profile.body.profile_id,
      finding_thresholds: { max_critical: 0, max_high: 0, scope: "all" },
    });
  });
});
