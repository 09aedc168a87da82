/**
 * GET /metrics: authenticated, Prometheus text exposition format (checked line by line and parsed
 * by a third-party parser), tenant-scoped, and its series move when builds run, webhooks are
 * rejected, idempotent requests are replayed and rate limits are hit.
 */
import { describe, expect, it } from "vitest";
import { INSTANT, caller, createBuild, raw, waitForStatus } from "../helpers/api";
import { tokenFor } from "../helpers/auth";
import { fetchWith, platformHeaders } from "../security/helpers";
import { scrape, scrapeUntil } from "./metrics-helpers";

const viewer = (org: string) => tokenFor({ sub: `metrics-viewer-${org}`, org_id: org, roles: ["viewer"] });

describe("GET /metrics", () => {
  it("needs a token with program.runtime.read", async () => {
    const anonymous = await raw("/metrics");
    expect(anonymous.status).toBe(401);
    expect(((await anonymous.json()) as any).code).toBe("unauthenticated");
    const secretsOnly = await tokenFor({ capabilities: ["program.secrets.read"] });
    const denied = await raw("/metrics", { headers: { authorization: `Bearer ${secretsOnly}` } });
    expect(denied.status).toBe(403);
    expect(((await denied.json()) as any).code).toBe("insufficient_capability");
    const ok = await raw("/metrics", { headers: { authorization: `Bearer ${await viewer("metrics-auth")}` } });
    expect(ok.status).toBe(200);
  });

  it("serves every family with HELP and TYPE, zero-valued before anything happened", async () => {
    const s = await scrape(await viewer("metrics-empty"));
    const types = Object.fromEntries(s.families.map((f) => [f.name, f.type]));
    expect(types).toMatchObject({
      clarity_builds: "GAUGE",
      clarity_builds_created_total: "COUNTER",
      clarity_builds_finished_total: "COUNTER",
      clarity_tick_duration_seconds: "HISTOGRAM",
      clarity_tick_failures_total: "COUNTER",
      clarity_node_duration_seconds: "HISTOGRAM",
      clarity_node_failures_total: "COUNTER",
      clarity_task_retries_total: "COUNTER",
      clarity_fallbacks_total: "COUNTER",
      clarity_fallback_ratio: "GAUGE",
      clarity_gate_failures_total: "COUNTER",
      clarity_webhook_rejections_total: "COUNTER",
      clarity_idempotent_replays_total: "COUNTER",
      clarity_rate_limit_hits_total: "COUNTER",
      clarity_dead_letters: "GAUGE",
      clarity_dead_lettered_total: "COUNTER",
      clarity_dead_letter_redrives_total: "COUNTER",
    });
    expect(s.text).toContain('clarity_builds{status="running"} 0\n');
    expect(s.text).toContain("clarity_builds_created_total 0\n");
  });

  it("moves with builds: status gauge, finishes, node histogram, failures by mode, gate failures, fallbacks, ticks", async () => {
    const org = "metrics-builds";
    const token = await viewer(org);
    const before = await scrape(token);
    const c = await caller({ sub: "metrics-operator", org_id: org });
    // Zero-duration work finishes in the create's own tick; 20 ms nodes finish in alarm ticks.
    const ok = await createBuild(c, { metadata: { ...INSTANT, simulated_duration_ms: 20 } });
    const failing = await createBuild(c, {
      metadata: { ...INSTANT, runner_results: { scanner: { status: "failed", error: "runner crashed" } } },
    });
    const fallback = await createBuild(c, {
      metadata: {
        ...INSTANT,
        fallback_scan_mode: "deterministic",
        runner_results: { scanner: { status: "failed", error: "no sandbox" } },
      },
    });
    expect((await waitForStatus(c, ok.build_id)).status).toBe("completed");
    expect((await waitForStatus(c, failing.build_id)).status).toBe("failed");
    expect((await waitForStatus(c, fallback.build_id)).status).toBe("completed");

    const delta = (
      s: { value: (n: string, l?: Record<string, string>) => number },
      name: string,
      labels?: Record<string, string>,
    ) => s.value(name, labels) - before.value(name, labels);
    const after = await scrapeUntil(
      token,
      (s) =>
        s.histogramCount("clarity_tick_duration_seconds") >= before.histogramCount("clarity_tick_duration_seconds") + 3,
    );

    expect(delta(after, "clarity_builds_created_total")).toBe(3);
    expect(delta(after, "clarity_builds", { status: "completed" })).toBe(2);
    expect(delta(after, "clarity_builds", { status: "failed" })).toBe(1);
    expect(delta(after, "clarity_builds", { status: "running" })).toBe(0);
    expect(delta(after, "clarity_builds", { status: "pending" })).toBe(0);
    expect(delta(after, "clarity_builds_finished_total", { status: "completed" })).toBe(2);
    expect(delta(after, "clarity_builds_finished_total", { status: "failed" })).toBe(1);
    expect(delta(after, "clarity_node_failures_total", { mode: "runner_error" })).toBe(2);
    expect(delta(after, "clarity_gate_failures_total", { gate: "POLICY_GATE" })).toBe(1);
    expect(delta(after, "clarity_fallbacks_total")).toBe(1);
    expect(after.value("clarity_fallback_ratio")).toBeCloseTo(
      after.value("clarity_fallbacks_total") / after.value("clarity_builds_created_total"),
      6,
    );

    const completedNodes = after.histogramCount("clarity_node_duration_seconds", {
      runner: "simulated",
      status: "completed",
    });
    const failedNodes = after.histogramCount("clarity_node_duration_seconds", {
      runner: "simulated",
      status: "failed",
    });
    expect(
      failedNodes - before.histogramCount("clarity_node_duration_seconds", { runner: "simulated", status: "failed" }),
    ).toBe(2);
    expect(completedNodes).toBeGreaterThanOrEqual(6); // 4 nodes of the completed build + 2 deterministic nodes
    // Zero-duration simulated nodes land in the first bucket.
    expect(
      after.value("clarity_node_duration_seconds_bucket", { le: "0.1", runner: "simulated", status: "completed" }),
    ).toBe(completedNodes);
    expect(
      after.value("clarity_node_duration_seconds_bucket", { le: "+Inf", runner: "simulated", status: "completed" }),
    ).toBe(completedNodes);
    expect(after.histogramCount("clarity_tick_duration_seconds")).toBeGreaterThanOrEqual(3);

    // Another tenant sees none of it.
    const other = await scrape(await viewer("metrics-other-tenant"));
    expect(other.value("clarity_builds_created_total")).toBe(0);
    expect(other.value("clarity_builds", { status: "completed" })).toBe(0);
  });

  it("counts rejected webhooks by reason (deployment-wide series)", async () => {
    const token = await viewer("metrics-webhooks");
    const route = "POST /v1/program/webhook/ingest";
    const before = await scrape(token);
    expect((await raw("/v1/program/webhook/ingest", { method: "POST", body: "{}" })).status).toBe(400);
    const body = JSON.stringify({ event: "x" });
    const headers = await platformHeaders(body);
    const forged = { ...headers, "x-platform-signature": "0".repeat(64) };
    expect((await raw("/v1/program/webhook/ingest", { method: "POST", headers: forged, body })).status).toBe(401);
    const key = (reason: string) => ({ reason, route });
    const after = await scrapeUntil(
      token,
      (s) =>
        s.value("clarity_webhook_rejections_total", key("webhook_headers_missing")) >
          before.value("clarity_webhook_rejections_total", key("webhook_headers_missing")) &&
        s.value("clarity_webhook_rejections_total", key("webhook_signature_invalid")) >
          before.value("clarity_webhook_rejections_total", key("webhook_signature_invalid")),
    );
    expect(after.value("clarity_webhook_rejections_total", key("webhook_headers_missing"))).toBe(
      before.value("clarity_webhook_rejections_total", key("webhook_headers_missing")) + 1,
    );
    expect(after.value("clarity_webhook_rejections_total", key("webhook_signature_invalid"))).toBe(
      before.value("clarity_webhook_rejections_total", key("webhook_signature_invalid")) + 1,
    );
    // A valid delivery is not a rejection.
    const good = JSON.stringify({ event: "ok" });
    expect(
      (await raw("/v1/program/webhook/ingest", { method: "POST", headers: await platformHeaders(good), body: good }))
        .status,
    ).toBe(200);
  });

  it("counts idempotent replays and rate-limit hits by route", async () => {
    const org = "metrics-requests";
    const token = await viewer(org);
    const c = await caller({ sub: "metrics-requester", org_id: org });
    const route = "POST /v1/builds/preview-dag";
    const before = await scrape(token);

    const first = await c.request(
      "POST",
      "/v1/builds/preview-dag",
      { repo_url: "r" },
      { "idempotency-key": "metrics-replay-1" },
    );
    const second = await c.request(
      "POST",
      "/v1/builds/preview-dag",
      { repo_url: "r" },
      { "idempotency-key": "metrics-replay-1" },
    );
    expect([first.status, second.status, second.headers.get("idempotent-replayed")]).toEqual([200, 200, "true"]);

    const limited = { RATE_LIMIT_RULES: JSON.stringify({ [route]: 1 }) };
    const init = {
      method: "POST",
      headers: { authorization: `Bearer ${c.token}`, "content-type": "application/json" },
      body: JSON.stringify({ repo_url: "r" }),
    };
    const statuses = [
      (await fetchWith(limited, "/v1/builds/preview-dag", init)).status,
      (await fetchWith(limited, "/v1/builds/preview-dag", init)).status,
    ];
    expect(statuses).toContain(429);

    const after = await scrapeUntil(
      token,
      (s) =>
        s.value("clarity_idempotent_replays_total", { route }) >
          before.value("clarity_idempotent_replays_total", { route }) &&
        s.value("clarity_rate_limit_hits_total", { route }) > 0,
    );
    expect(
      after.value("clarity_idempotent_replays_total", { route }) -
        before.value("clarity_idempotent_replays_total", { route }),
    ).toBe(1);
    expect(after.value("clarity_rate_limit_hits_total", { route })).toBe(statuses.filter((s) => s === 429).length);
  });

  it("counts idempotent checkpoints answered replayed (SPEC §6.5)", async () => {
    const org = "metrics-checkpoints";
    const token = await viewer(org);
    const c = await caller({ sub: "metrics-checkpointer", org_id: org });
    const build = await createBuild(c, { metadata: INSTANT });
    const route = "POST /v1/program/idempotent-checkpoints";
    const body = { build_id: build.build_id, idempotency_key: "metrics-ckpt-1", reason: "release" };
    const first = await c.request("POST", "/v1/program/idempotent-checkpoints", body);
    const second = await c.request("POST", "/v1/program/idempotent-checkpoints", body);
    expect([first.body.replayed, second.body.replayed]).toEqual([false, true]);
    const after = await scrapeUntil(token, (s) => s.value("clarity_idempotent_replays_total", { route }) > 0);
    expect(after.value("clarity_idempotent_replays_total", { route })).toBe(1);
  });
});
