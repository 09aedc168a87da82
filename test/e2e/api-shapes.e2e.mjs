// @ts-check
/**
 * The dashboard's API client (public/app/api.js) declares the response shapes it reads as JSDoc
 * types. This checks those declarations against what the running control plane really answers,
 * field by field, so a server-side change that would break a page fails here by name.
 */
import { createHmac, randomUUID } from "node:crypto";
import { beforeAll, describe, expect, inject, test } from "vitest";
import { apiAs } from "./support/browser.mjs";
import { DEPLOYMENT_ADMIN_SUB } from "./support/server.mjs";

const baseUrl = /** @type {string} */ (inject("baseUrl"));
const webhookSecret = /** @type {string} */ (inject("platformWebhookSecret"));

/**
 * Field → type: "string", "number", "boolean", "array", "object", a `|`-list ("string|null"), or a
 * nested shape for objects.
 * @typedef {{ [field: string]: string | Shape }} Shape
 */

/**
 * @param {unknown} value
 * @param {Shape} shape
 * @param {string} path
 * @returns {string[]}
 */
function mismatches(value, shape, path) {
  if (typeof value !== "object" || value === null) return [`${path}: not an object`];
  /** @type {string[]} */
  const out = [];
  for (const [field, type] of Object.entries(shape)) {
    const v = /** @type {Record<string, unknown>} */ (value)[field];
    if (typeof type === "object") {
      out.push(...mismatches(v, type, `${path}.${field}`));
      continue;
    }
    const actual = v === null ? "null" : Array.isArray(v) ? "array" : typeof v;
    if (!type.split("|").includes(actual)) out.push(`${path}.${field}: expected ${type}, got ${actual}`);
  }
  return out;
}

/** @param {unknown} value @param {Shape} shape @param {string} name */
const expectShape = (value, shape, name) => expect(mismatches(value, shape, name)).toEqual([]);

const DAG_NODE = {
  node_id: "string",
  title: "string",
  agent: "string",
  depends_on: "array",
  gate: "string|null",
  status: "string",
};
const BUILD_SUMMARY = {
  build_id: "string",
  repo_url: "string",
  objective: "string",
  status: "string",
  created_at: "string",
  updated_at: "string",
  node_total: "number",
  node_done: "number",
};
const BUILD_RUN = {
  build_id: "string",
  created_by: "string",
  repo_url: "string",
  objective: "string",
  status: "string",
  created_at: "string",
  updated_at: "string",
  dag: "array",
  task_runs: "array",
  replan_history: "array",
  debt_items: "array",
  policy_violations: "array",
  state_transitions: "array",
  gate_history: "array",
  metadata: "object",
  progress: { nodes_total: "number", nodes_done: "number" },
};
const EVENT = { seq: "number", event_type: "string", build_id: "string", timestamp: "string", payload: "object" };
const PROFILE = { profile_name: "string", release_ready_min_score: "number" };
const REPO_SUMMARY = {
  repo: "string",
  language: "string",
  run_count: "number",
  success_count: "number",
  success_rate: "number",
  mean_duration_ms: "number",
  duration_cv: "number",
};
const SUMMARY = {
  repo_count: "number",
  run_count: "number",
  avg_success_rate: "number",
  max_duration_cv: "number",
  repos: "array",
};

/** @type {Awaited<ReturnType<typeof apiAs>>} */
let api;
/** @type {Awaited<ReturnType<typeof apiAs>>} */
let admin;
beforeAll(async () => {
  api = await apiAs(baseUrl, "operator", `e2e-shapes-${randomUUID().slice(0, 8)}`);
  admin = await apiAs(baseUrl, "admin", `e2e-shapes-admin-${randomUUID().slice(0, 8)}`);
});

describe("builds", () => {
  test("preview, create, get, list, events, stream token and control responses", async () => {
    const body = {
      repo_url: "https://github.com/acme/shapes",
      metadata: { autonomous_planner_profile: "static_v1", simulated_duration_ms: 0 },
    };
    const preview = await api.call("POST", "/v1/builds/preview-dag", body);
    expectShape(
      preview,
      {
        scan_mode: "string",
        planner_profile: "string|null",
        planner_trace: "object",
        dag: "array",
        dag_levels: "array",
        metadata: "object",
      },
      "preview",
    );
    expectShape(preview.dag[0], DAG_NODE, "preview.dag[0]");
    const created = await api.call("POST", "/v1/builds", body);
    expectShape(created, BUILD_RUN, "created");
    const done = await api.waitForStatus(created.build_id, ["completed"]);
    expectShape(done, BUILD_RUN, "build");
    expectShape(
      done.task_runs[0],
      {
        task_run_id: "string",
        node_id: "string",
        attempt: "number",
        status: "string",
        started_at: "string",
        finished_at: "string|null",
        error: "string|null",
      },
      "task_run",
    );
    expectShape(
      done.gate_history[0],
      {
        decision_id: "string",
        gate: "string",
        status: "string",
        reason: "string",
        node_id: "string|null",
        created_at: "string",
      },
      "gate",
    );
    const list = await api.call("GET", "/v1/builds?limit=1");
    expectShape(list, { items: "array", next_cursor: "string|null" }, "list");
    expectShape(list.items[0], BUILD_SUMMARY, "list.items[0]");
    const events = await api.call("GET", `/v1/builds/${created.build_id}/events/history?cursor=0&limit=2`);
    expectShape(events, { items: "array", next_cursor: "number|null" }, "events");
    expectShape(events.items[0], EVENT, "event");
    expectShape(
      await api.call("POST", `/v1/builds/${created.build_id}/events/token`),
      { token: "string", expires_at: "string" },
      "stream token",
    );
    expectShape(
      await api.call("POST", `/v1/builds/${created.build_id}/checkpoints`, { reason: "shape" }),
      { checkpoint_id: "string", status: "string", reason: "string", event_cursor: "number", created_at: "string" },
      "checkpoint",
    );
    expectShape(
      await api.call("POST", `/v1/builds/${created.build_id}/replan`, {
        action: "REDUCE_SCOPE",
        reason: "shape",
        replacement_nodes: [],
      }),
      { decision_id: "string", action: "string", reason: "string", created_at: "string", replacement_nodes: "array" },
      "replan",
    );
  });
});

describe("program plane", () => {
  test("campaigns, report, checklist, drill, go-live, SLO, policy", async () => {
    const campaign = await api.call("POST", "/v1/program/campaigns", {
      name: "shapes",
      repos: ["https://github.com/acme/shapes"],
      runs_per_repo: 1,
    });
    expectShape(
      campaign,
      {
        campaign_id: "string",
        name: "string",
        repos: "array",
        runs_per_repo: "number",
        threshold_profile: PROFILE,
        current_execution_id: "string|null",
        created_by: "string",
        created_at: "string",
      },
      "campaign",
    );
    expectShape(
      await api.call("GET", "/v1/program/campaigns"),
      { items: "array", next_cursor: "string|null" },
      "campaigns",
    );
    const execution = await api.call("POST", `/v1/program/campaigns/${campaign.campaign_id}/execute`, {
      metadata: { simulated_duration_ms: 0 },
    });
    expectShape(
      execution,
      { campaign_id: "string", execution_id: "string", run_count: "number", runs: "array" },
      "execution",
    );
    expectShape(execution.runs[0], { run_id: "string", repo: "string", build_id: "string" }, "execution.runs[0]");
    await api.waitForStatus(execution.runs[0].build_id, ["completed"]);
    const report = await api.call("GET", `/v1/program/campaigns/${campaign.campaign_id}/report`);
    expectShape(
      report,
      {
        generated_at: "string",
        profile: PROFILE,
        summary: SUMMARY,
        gate: { passed: "boolean", reasons: "array" },
        rubric: {
          profile_name: "string",
          passed: "boolean",
          release_ready: "boolean",
          score: "number",
          reasons: "array",
        },
        recommendations: "array",
        evidence: { runs_from_builds: "number", runs_from_clients: "number", execution_id: "string|null" },
      },
      "report",
    );
    expectShape(report.summary.repos[0], REPO_SUMMARY, "report.summary.repos[0]");

    const release = `shapes-${randomUUID().slice(0, 8)}`;
    const checklist = await api.call("POST", "/v1/program/checklist", { release_id: release, security_review: true });
    expectShape(
      checklist,
      {
        release_id: "string",
        security_review: "boolean",
        slo_dashboard: "boolean",
        rollback_tested: "boolean",
        docs_complete: "boolean",
        runbooks_ready: "boolean",
        updated_by: "string",
        updated_at: "string",
      },
      "checklist",
    );
    expectShape(
      await api.call("POST", "/v1/program/rollback-drills", { release_id: release, passed: true, duration_minutes: 5 }),
      {
        release_id: "string",
        passed: "boolean",
        duration_minutes: "number",
        issues_found: "array",
        updated_by: "string",
        updated_at: "string",
      },
      "drill",
    );
    const decision = await api.call("POST", "/v1/program/go-live-decision", {
      release_id: release,
      campaign_id: campaign.campaign_id,
    });
    expectShape(
      decision,
      {
        release_id: "string",
        status: "string",
        reasons: "array",
        decided_by: "string",
        decided_at: "string",
        validation: { source: "string", campaign_id: "string|null", release_ready: "boolean", score: "number|null" },
      },
      "decision",
    );

    const slo = await api.call("GET", "/v1/program/slo-summary");
    expectShape(
      slo,
      {
        total_builds: "number",
        completed_builds: "number",
        failed_builds: "number",
        aborted_builds: "number",
        running_builds: "number",
        success_rate: "number",
        mean_cycle_seconds: "number",
        scope: "string",
        generated_at: "string",
        state: "string",
        objectives: "array",
      },
      "slo",
    );
    const objective = slo.objectives[0];
    expectShape(
      objective,
      {
        name: "string",
        description: "string",
        target: "number",
        error_budget_remaining: "number|null",
        windows: "object",
        alerts: "array",
        state: "string",
      },
      "objective",
    );
    expectShape(
      Object.values(objective.windows)[0],
      { valid: "number", good: "number", bad: "number", sli: "number|null", burn_rate: "number|null" },
      "window",
    );
    expectShape(
      objective.alerts[0],
      {
        severity: "string",
        long_window: "string",
        short_window: "string",
        burn_rate_threshold: "number",
        long_burn_rate: "number|null",
        short_burn_rate: "number|null",
        firing: "boolean",
      },
      "alert",
    );

    const profile = await api.call("POST", "/v1/program/policy-profiles", {
      name: "shapes",
      blocked_commands: ["rm -rf"],
      restricted_paths: [],
    });
    expectShape(
      profile,
      {
        profile_id: "string",
        name: "string",
        blocked_commands: "array",
        restricted_paths: "array",
        created_by: "string",
        created_at: "string",
      },
      "policy profile",
    );
    expectShape(
      await api.call("GET", "/v1/program/policy-profiles"),
      { items: "array", next_cursor: "string|null" },
      "policy profiles",
    );
    expectShape(
      await api.call("POST", "/v1/program/policy-check", { profile_id: profile.profile_id, command: "rm -rf /" }),
      {
        action: "string",
        reason: "string",
        violation_code: "string|null",
        build_id: "string|null",
        violation: "object|null",
      },
      "policy check",
    );
  });
});

describe("security plane and development sign-in", () => {
  test("secrets, webhook deliveries, idempotent checkpoints, dev token", async () => {
    const secret = await admin.call("POST", "/v1/program/secrets", { name: "SHAPES", value: "value-for-shapes" });
    expectShape(
      secret,
      {
        secret_id: "string",
        name: "string",
        masked_value: "string",
        cipher_digest: "string",
        key_version: "number",
        created_at: "string",
      },
      "secret",
    );
    const secrets = await admin.call("GET", "/v1/program/secrets");
    expectShape(secrets, { items: "array", next_cursor: "string|null" }, "secrets");
    expect(secrets.items[0].masked_value).toBe("***");

    const nonce = randomUUID();
    const ts = String(Math.floor(Date.now() / 1000));
    const signature = createHmac("sha256", webhookSecret).update(`${ts}.${nonce}.{}`).digest("hex");
    const ingest = await fetch(`${baseUrl}/v1/program/webhook/ingest`, {
      method: "POST",
      headers: { "x-platform-nonce": nonce, "x-platform-timestamp": ts, "x-platform-signature": signature },
      body: "{}",
    });
    expect(ingest.status).toBe(200);
    // A tenant-less delivery (deployment-wide secret): listed for deployment administrators (issue 17).
    const deployment = await apiAs(baseUrl, "admin", DEPLOYMENT_ADMIN_SUB);
    const deliveries = await deployment.call("GET", "/v1/program/webhook/deliveries");
    expectShape(deliveries, { items: "array", next_cursor: "string|null" }, "deliveries");
    const delivery = deliveries.items.find((/** @type {{ external_id: string }} */ d) => d.external_id === nonce);
    const DELIVERY = {
      delivery_id: "string",
      scheme: "string",
      external_id: "string",
      signed_at: "number",
      received_at: "string",
      content_type: "string|null",
      body_digest: "string",
      body_bytes: "number",
    };
    expectShape(delivery, DELIVERY, "delivery");
    expectShape(
      await deployment.call("GET", `/v1/program/webhook/deliveries/${delivery.delivery_id}`),
      { ...DELIVERY, body: "string", body_encoding: "string" },
      "delivery detail",
    );

    const build = await api.call("POST", "/v1/builds", {
      repo_url: "https://github.com/acme/shapes",
      metadata: { simulated_duration_ms: 0 },
    });
    expectShape(
      await api.call("POST", "/v1/program/idempotent-checkpoints", {
        build_id: build.build_id,
        idempotency_key: randomUUID(),
        reason: "shapes",
      }),
      { checkpoint_id: "string", status: "string", reason: "string", replayed: "boolean" },
      "idempotent checkpoint",
    );

    const info = await fetch(`${baseUrl}/v1/dev/token`).then((r) => r.json());
    expectShape(
      info,
      { available: "boolean", roles: "array", issuer: "string", expires_in: "number" },
      "dev token info",
    );
    const minted = await fetch(`${baseUrl}/v1/dev/token`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ role: "viewer" }),
    }).then((r) => r.json());
    expectShape(
      minted,
      { token: "string", token_type: "string", role: "string", sub: "string", expires_at: "string" },
      "dev token",
    );
  });
});
