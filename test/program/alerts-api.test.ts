import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../../src/index";
import { eventually, expectProblem, operator } from "./program-helpers";

const ALPHA = "https://github.com/acme/alpha";
const FAIL = { runner_results: { scanner: { status: "failed" } } };
const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
// Nothing listens there: every delivery fails fast and is retried later.
const UNREACHABLE = "https://127.0.0.1:9/hook";

type C = Awaited<ReturnType<typeof operator>>;

async function cron(at = Date.now()): Promise<void> {
  const ctx = createExecutionContext();
  await worker.scheduled(createScheduledController({ scheduledTime: new Date(at), cron: "* * * * *" }), env, ctx);
  await waitOnExecutionContext(ctx);
}

async function executeAndFinish(c: C, id: string, n: number, body: Record<string, unknown>): Promise<void> {
  const res = await c.request("POST", `/v1/program/campaigns/${id}/execute`, body);
  expect(res.status).toBe(202);
  await eventually(
    async () => (await c.request("GET", `/v1/program/campaigns/${id}/executions/${n}`)).body.status === "finished",
    15_000,
    `execution ${n} finished`,
  );
}

describe("alert destinations", () => {
  it("never echo the secret (masked), mask a Slack URL's path, and are tenant-scoped", async () => {
    const c = await operator("org-alert-dest");
    const other = await operator("org-alert-dest-other");
    const std = await c.request("POST", "/v1/program/alert-destinations", {
      name: "on-call",
      url: "https://hooks.example.com/alerts",
      secret: SECRET,
    });
    expect(std.status).toBe(201);
    expect(std.body).toMatchObject({ format: "standard", url: "https://hooks.example.com/alerts" });
    expect(JSON.stringify(std.body)).not.toContain(SECRET.slice(6, 20));
    const slack = await c.request("POST", "/v1/program/alert-destinations", {
      name: "slack",
      format: "slack",
      url: "https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXX",
      secret: SECRET,
    });
    expect(slack.body.url).not.toContain("XXXXXXXXXXXXXXXX");
    const list = (await c.request("GET", "/v1/program/alert-destinations")).body;
    expect(list.items.map((d: any) => d.name)).toEqual(["on-call", "slack"]);
    expect(JSON.stringify(list)).not.toContain(SECRET.slice(6, 20));
    expect((await other.request("GET", "/v1/program/alert-destinations")).body.items).toEqual([]);
    expectProblem(
      await other.request("DELETE", `/v1/program/alert-destinations/${std.body.destination_id}`),
      404,
      "alert_destination_not_found",
    );
    expect((await c.request("DELETE", `/v1/program/alert-destinations/${std.body.destination_id}`)).status).toBe(204);
    expectProblem(
      await c.request("DELETE", `/v1/program/alert-destinations/${std.body.destination_id}`),
      404,
      "alert_destination_not_found",
    );
  });

  it("refuse a plain-http URL outside development and a secret that is not whsec_<base64>", async () => {
    const c = await operator("org-alert-bad");
    for (const body of [
      { name: "x", url: "http://hooks.example.com/a", secret: SECRET },
      { name: "x", url: "https://hooks.example.com/a", secret: "hunter2" },
      { name: "x", url: "ftp://hooks.example.com/a", secret: SECRET },
    ]) {
      expectProblem(await c.request("POST", "/v1/program/alert-destinations", body), 422, "validation_failed");
    }
  });
});

describe("GET /v1/program/alerts: the scheduled handler evaluates campaign drift", () => {
  it("fires once per firing (not per invocation), resolves when it clears, and records failed deliveries for retry", async () => {
    const c = await operator("org-alert-drift");
    await c.request("POST", "/v1/program/alert-destinations", { name: "down", url: UNREACHABLE, secret: SECRET });
    const { campaign_id: id } = (
      await c.request("POST", "/v1/program/campaigns", {
        name: "drifty",
        repos: [ALPHA],
        runs_per_repo: 1,
        dry_run: true,
      })
    ).body;
    await executeAndFinish(c, id, 1, { metadata: { simulated_duration_ms: 0 } });
    await cron();
    expect((await c.request("GET", "/v1/program/alerts")).body.firing).toEqual([]);

    await executeAndFinish(c, id, 2, {
      metadata: { simulated_duration_ms: 0 },
      run_metadata: { "github.com_acme_alpha-run-1": FAIL },
    });
    await cron();
    await cron();
    // The failed build is simulated (this pool has no runner), so it is no SLO evidence and burns
    // no error budget: only the drift fires.
    const drift = (xs: any[]) => xs.filter((a) => a.alert.startsWith("campaign_drift:"));
    const all = (await c.request("GET", "/v1/program/alerts")).body.firing;
    expect(all.map((a: any) => a.alert).sort()).toEqual([`campaign_drift:${id}`]);
    const firing = drift(all);
    expect(firing[0]).toMatchObject({
      alert: `campaign_drift:${id}`,
      state: "firing",
      severity: "ticket",
      firing_seq: 1,
      last_delivery: { kind: "firing", status: "pending", attempts: 1 },
    });
    expect(firing[0].last_delivery.last_error).toBeTruthy();
    const count = async () =>
      (
        await env.DB.prepare(
          "SELECT kind, count(*) AS n FROM alert_notifications WHERE tenant_id = ? AND alert_key LIKE 'campaign_drift:%' GROUP BY kind",
        )
          .bind("org-alert-drift")
          .all<{ kind: string; n: number }>()
      ).results;
    expect(await count()).toEqual([{ kind: "firing", n: 1 }]);

    await executeAndFinish(c, id, 3, { metadata: { simulated_duration_ms: 0 } });
    await cron();
    await cron();
    const after = (await c.request("GET", "/v1/program/alerts")).body;
    expect(drift(after.firing)).toEqual([]);
    expect(drift(after.recent)).toMatchObject([{ alert: `campaign_drift:${id}`, state: "resolved", firing_seq: 1 }]);
    expect(await count()).toEqual([
      { kind: "firing", n: 1 },
      { kind: "resolved", n: 1 },
    ]);
  });
});
