/**
 * The http runtime adapter (issue 7): signed dispatch to the runner service, signed callbacks,
 * idempotent late/duplicate reports, deadlines and dispatch failures through the normal rules.
 * Outbound fetch to the runner is the only thing stubbed.
 */
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { type BuildFinished, onBuildFinished } from "../../src/builds/build-hooks";
import { signStandardWebhook } from "../../src/builds/runner-protocol";
import { fromBase64 } from "../../src/lib/crypto";
import { type Caller, caller, createBuild, eventsOf, raw, waitForStatus } from "../helpers/api";

const KEY = fromBase64(env.RUNNER_SHARED_SECRETS!.slice("whsec_".length))!;

interface Sent {
  url: string;
  headers: Headers;
  body: any;
  raw: string;
}
let sent: Sent[] = [];
let runnerStatus = 202;
const realFetch = globalThis.fetch;
const finished: BuildFinished[] = [];
onBuildFinished(async (_env, e) => {
  finished.push(e);
});

beforeEach(() => {
  sent = [];
  runnerStatus = 202;
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input: RequestInfo | URL, init?: RequestInit) => {
    const req = new Request(input, init);
    if (!req.url.startsWith("http://runner.test/")) return realFetch(input, init);
    const text = await req.text();
    sent.push({ url: req.url, headers: req.headers, body: JSON.parse(text), raw: text });
    return new Response(JSON.stringify({ accepted: true }), { status: runnerStatus });
  });
});
afterEach(() => vi.restoreAllMocks());

async function dispatched(nodeId: string, attempt = 1, timeoutMs = 5000, buildId?: string): Promise<Sent> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const hit = sent.find(
      (s) =>
        s.body.node_id === nodeId &&
        s.body.attempt === attempt &&
        (buildId === undefined || s.body.build_id === buildId),
    );
    if (hit) return hit;
    if (Date.now() > deadline)
      throw new Error(
        `no dispatch of ${nodeId}#${attempt}; got ${sent.map((s) => `${s.body.node_id}#${s.body.attempt}`)}`,
      );
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The callback keys the dispatches carried, by "task_run_id#attempt". */
function keyFor(msg: Record<string, unknown>): Uint8Array {
  const d = sent.find((s) => s.body.task_run_id === msg.task_run_id && s.body.attempt === msg.attempt);
  if (!d) throw new Error(`no dispatch for ${String(msg.task_run_id)}#${String(msg.attempt)}`);
  return fromBase64(d.body.callback_token.slice("cbk_".length))!;
}

/** A callback signed with the run's own key from its dispatch (or `opts.key`). */
async function report(msg: Record<string, unknown>, opts: { key?: Uint8Array; tamper?: boolean; id?: string } = {}) {
  const body = JSON.stringify(msg);
  const headers = await signStandardWebhook(opts.key ?? keyFor(msg), opts.id ?? `cb_${crypto.randomUUID()}`, body);
  return raw("/v1/runner/callback", {
    method: "POST",
    headers: { ...headers, "content-type": "application/json" },
    body: opts.tamper ? body.replace("completed", "failed") : body,
  });
}

const DAG = [
  { node_id: "scan", title: "Scan", agent: "scanner" },
  { node_id: "plan", title: "Plan", agent: "planner", depends_on: ["scan"], gate: "MERGE_GATE" },
];

async function start(c: Caller, metadata: Record<string, unknown> = {}) {
  return createBuild(c, { repo_url: "file:///work/repo", dag: DAG, metadata: { runner_kind: "http", ...metadata } });
}

describe("http runner adapter", () => {
  it("dispatches signed work, takes signed reports and findings, and completes", async () => {
    const c = await caller({ sub: "http_user" });
    const b = await start(c);
    const d1 = await dispatched("scan");
    expect(d1.url).toBe("http://runner.test/dispatch");
    expect(d1.body).toMatchObject({
      build_id: b.build_id,
      node_id: "scan",
      attempt: 1,
      agent: "scanner",
      repo_url: "file:///work/repo",
      callback_url: "http://127.0.0.1:8787/v1/runner/callback",
      secrets: {},
      prior_findings: [],
    });
    // The dispatch carries a valid Standard Webhooks signature over the exact body.
    const expected = await signStandardWebhook(
      KEY,
      d1.headers.get("webhook-id")!,
      d1.raw,
      Number(d1.headers.get("webhook-timestamp")),
    );
    expect(d1.headers.get("webhook-signature")).toBe(expected["webhook-signature"]);

    expect(
      (await report({ type: "ack", build_id: b.build_id, task_run_id: d1.body.task_run_id, attempt: 1 })).status,
    ).toBe(202);
    expect(
      (await report({ type: "heartbeat", build_id: b.build_id, task_run_id: d1.body.task_run_id, attempt: 1 })).status,
    ).toBe(202);
    const r1 = await report({
      type: "result",
      build_id: b.build_id,
      task_run_id: d1.body.task_run_id,
      attempt: 1,
      status: "completed",
      summary: "12 files, 2 languages",
      duration_ms: 1234,
      findings: [
        { severity: "high", category: "secret", title: "Committed .env", file: ".env" },
        { severity: "low", category: "inventory", title: "No lockfile" },
      ],
    });
    expect(r1.status).toBe(202);
    expect(await r1.json()).toEqual({ accepted: true });

    const d2 = await dispatched("plan");
    expect(d2.body.prior_findings.map((f: any) => f.title)).toEqual(["Committed .env", "No lockfile"]);
    // A duplicate of the first result is ignored.
    const dup = await report({
      type: "result",
      build_id: b.build_id,
      task_run_id: d1.body.task_run_id,
      attempt: 1,
      status: "failed",
      duration_ms: 1,
    });
    expect(await dup.json()).toEqual({ accepted: false });
    await report({
      type: "result",
      build_id: b.build_id,
      task_run_id: d2.body.task_run_id,
      attempt: 1,
      status: "completed",
      summary: "1. rotate the .env secret",
      duration_ms: 10,
    });

    const done = await waitForStatus(c, b.build_id);
    expect(done.status).toBe("completed");
    expect(done.gate_history.map((g: any) => `${g.gate}:${g.status}`)).toEqual(["MERGE_GATE:PASS"]);
    // The completion hook announces the findings count (campaign runs ingest it).
    for (let i = 0; i < 100 && !finished.some((f) => f.build_id === b.build_id); i++)
      await new Promise((r) => setTimeout(r, 10));
    expect(finished.find((f) => f.build_id === b.build_id)).toMatchObject({
      final_status: "completed",
      findings_total: 2,
    });
    const events = await eventsOf(c, b.build_id);
    expect(
      events
        .filter((e) => e.event_type === "RUNNER_RESULT")
        .map((e) => [e.payload.node_id, e.payload.runner, e.payload.findings_count]),
    ).toEqual([
      ["scan", "http", 2],
      ["plan", "http", 0],
    ]);

    const high = (await c.request("GET", `/v1/builds/${b.build_id}/findings?severity=high`)).body.items;
    expect(high.map((f: any) => [f.title, f.node_id, f.file])).toEqual([["Committed .env", "scan", ".env"]]);
    const all = (await c.request("GET", `/v1/builds/${b.build_id}/findings?limit=1`)).body;
    expect(all.items).toHaveLength(1);
    expect(all.next_cursor).not.toBeNull();
    const rep = (await c.request("GET", `/v1/builds/${b.build_id}/report`)).body;
    expect(rep).toMatchObject({
      status: "completed",
      findings_total: 2,
      by_severity: { high: 1, low: 1, critical: 0 },
      by_node: { scan: 2 },
      remediation_plan: "1. rotate the .env secret",
      execution: "real",
    });
    expect(rep.top_findings[0].severity).toBe("high");
  });

  it("rejects unsigned, wrongly signed and tampered callbacks with 401", async () => {
    const c = await caller({ sub: "http_sig" });
    const b = await start(c);
    const d1 = await dispatched("scan");
    const msg = {
      type: "result",
      build_id: b.build_id,
      task_run_id: d1.body.task_run_id,
      attempt: 1,
      status: "completed",
      duration_ms: 5,
    };
    const unsigned = await raw("/v1/runner/callback", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(msg),
    });
    expect(unsigned.status).toBe(400);
    expect(((await unsigned.json()) as any).code).toBe("webhook_headers_missing");
    const wrong = await report(msg, { key: new Uint8Array(32).fill(7) });
    expect(wrong.status).toBe(401);
    expect(((await wrong.json()) as any).code).toBe("webhook_signature_invalid");
    const tampered = await report(msg, { tamper: true });
    expect(tampered.status).toBe(401);
    // The shared runner secret does not sign callbacks: only the run's own key does.
    const shared = await report(msg, { key: KEY });
    expect([shared.status, ((await shared.json()) as any).code]).toEqual([401, "webhook_signature_invalid"]);
    expect((await c.request("GET", `/v1/builds/${b.build_id}`)).body.task_runs.map((t: any) => t.status)).toEqual([
      "running",
    ]);
  });

  it("a missed deadline is a failure that goes through retries; the late report of attempt 1 is ignored", async () => {
    const c = await caller({ sub: "http_deadline" });
    // Attempt 1 gets no report and misses its 300 ms deadline. Later attempts are answered at once;
    // under heavy load one may still miss its deadline, so the budget leaves room for that.
    const b = await start(c, {
      max_task_retries: 3,
      retry_policy: { initial_interval_ms: 0, jitter: 0 },
      node_timeouts_ms: { scan: 300 },
    });
    const d1 = await dispatched("scan", 1);
    const d2 = await dispatched("scan", 2);
    const late = await report({
      type: "result",
      build_id: b.build_id,
      task_run_id: d1.body.task_run_id,
      attempt: 1,
      status: "completed",
      duration_ms: 5,
    });
    expect(await late.json()).toEqual({ accepted: false });
    let current = d2;
    for (;;) {
      const r = await report({
        type: "result",
        build_id: b.build_id,
        task_run_id: current.body.task_run_id,
        attempt: current.body.attempt,
        status: "completed",
        duration_ms: 5,
      });
      if (((await r.json()) as { accepted: boolean }).accepted) break;
      current = await dispatched("scan", current.body.attempt + 1);
    }
    const d3 = await dispatched("plan");
    await report({
      type: "result",
      build_id: b.build_id,
      task_run_id: d3.body.task_run_id,
      attempt: 1,
      status: "completed",
      duration_ms: 5,
    });
    const done = await waitForStatus(c, b.build_id);
    expect(done.status).toBe("completed");
    const scans = done.task_runs.filter((t: any) => t.node_id === "scan");
    expect([scans[0].attempt, scans[0].status, scans[0].error]).toEqual([1, "failed", "deadline_exceeded"]);
    expect(scans.at(-1)).toMatchObject({ status: "completed", error: null, attempt: current.body.attempt });
    expect(scans.slice(0, -1).every((t: any) => t.error === "deadline_exceeded")).toBe(true);
  });

  it("a dispatch the runner rejects fails the node (and the build without retries)", async () => {
    runnerStatus = 503;
    const c = await caller({ sub: "http_reject" });
    const b = await start(c);
    const done = await waitForStatus(c, b.build_id);
    expect(done.status).toBe("failed");
    expect(done.task_runs[0]).toMatchObject({ node_id: "scan", status: "failed", error: "dispatch_rejected:503" });
  });

  it("sends the node's secrets, decrypted only for the dispatch", async () => {
    const sec = await caller({ sub: "http_secret", roles: ["security", "operator"] });
    const created = await sec.request("POST", "/v1/program/secrets", {
      name: "GITHUB_TOKEN",
      value: "ghp_supersecretvalue123",
    });
    expect(created.status).toBe(201);
    const b = await start(sec, { node_secrets: { scan: ["GITHUB_TOKEN"] } });
    const d1 = await dispatched("scan");
    expect(d1.body.secrets).toEqual({ GITHUB_TOKEN: "ghp_supersecretvalue123" });
    const build = await sec.request("GET", `/v1/builds/${b.build_id}`);
    expect(JSON.stringify(build.body)).not.toContain("ghp_supersecretvalue123");
    const events = await eventsOf(sec, b.build_id);
    expect(JSON.stringify(events)).not.toContain("ghp_supersecretvalue123");
  });

  it("a secret that does not exist fails the dispatch with a clear error", async () => {
    const sec = await caller({ sub: "http_nosecret", roles: ["security", "operator"] });
    const b = await start(sec, { node_secrets: { scan: ["MISSING"] } });
    const done = await waitForStatus(sec, b.build_id);
    expect(done.task_runs[0].error).toBe("secret_unavailable:MISSING:secret_not_found");
  });
});

describe("real by default (issue 15 item 1)", () => {
  it("with a runner configured, a build that names no runner kind goes to the runner", async () => {
    const c = await caller({ sub: "http_default" });
    const b = await createBuild(c, { repo_url: "file:///work/repo", dag: DAG });
    expect(b.metadata.runner_kind).toBe("http");
    const d1 = await dispatched("scan");
    expect(d1.body).toMatchObject({ build_id: b.build_id, agent: "scanner" });
    // The dispatch carries no command: the runner runs only its own analysers.
    expect("command" in d1.body).toBe(false);
    expect((await c.request("POST", `/v1/builds/${b.build_id}/runtime/bootstrap`)).body.sandbox_profile).toBe(
      "runner-bubblewrap",
    );
  });

  it("a build that asks for simulated is simulated, labelled so, and never dispatched", async () => {
    const c = await caller({ sub: "http_sim" });
    const b = await createBuild(c, {
      repo_url: "file:///work/repo",
      dag: DAG,
      metadata: { runner_kind: "simulated", simulated_duration_ms: 0 },
    });
    const done = await waitForStatus(c, b.build_id);
    expect(done.status).toBe("completed");
    expect(sent.filter((s) => s.body.build_id === b.build_id)).toEqual([]);
    const results = (await eventsOf(c, b.build_id)).filter((e) => e.event_type === "RUNNER_RESULT");
    expect(results.map((e) => e.payload.runner)).toEqual(["simulated", "simulated"]);
  });

  it("the pre-check inspects the runner's own command: a blocked `npm test` fails the builder before any dispatch", async () => {
    const c = await caller({ sub: "http_policy" });
    const dag = [{ node_id: "build", title: "Build", agent: "builder" }];
    const b = await createBuild(c, {
      repo_url: "file:///work/repo",
      dag,
      metadata: { policy_blocked_commands: ["npm test"] },
    });
    const done = await waitForStatus(c, b.build_id);
    expect(done.status).toBe("failed");
    expect(done.policy_violations.map((v: any) => [v.code, v.source])).toEqual([
      ["blocked_command", "execution_policy"],
    ]);
    expect(sent.filter((s) => s.body.build_id === b.build_id)).toEqual([]);
    const logs = (await c.request("GET", `/v1/builds/${b.build_id}/runtime/logs`)).body.items;
    expect(logs[0]).toMatchObject({
      runner: "http",
      metadata: { execution_mode: "policy_precheck", command: "npm test" },
    });
  });

  it("a command in build metadata is refused with 422 build_command_refused", async () => {
    const c = await caller({ sub: "http_cmd" });
    const res = await c.request("POST", "/v1/builds", {
      repo_url: "file:///work/repo",
      dag: DAG,
      metadata: { runner_results: { scan: { command: "cat .dev.vars" } } },
    });
    expect([res.status, res.body.code]).toEqual([422, "build_command_refused"]);
    expect(sent).toEqual([]);
  });
});

describe("callbacks bound to the dispatch (issue 15 item 5)", () => {
  it("a callback signed with another run's key is refused; a replayed delivery id is 409", async () => {
    const c = await caller({ sub: "http_bound" });
    const a = await start(c);
    const b = await start(c);
    const of = async (buildId: string) => {
      for (let i = 0; i < 500; i++) {
        const hit = sent.find((s) => s.body.build_id === buildId);
        if (hit) return hit;
        await new Promise((r) => setTimeout(r, 10));
      }
      throw new Error(`no dispatch for ${buildId}`);
    };
    const da = await of(a.build_id);
    const db = await of(b.build_id);
    expect(da.body.callback_token).toMatch(/^cbk_/);
    expect(da.body.callback_token).not.toBe(db.body.callback_token);
    // Build b's key cannot report on build a's run (nor a later attempt of the same run).
    const msgA = { type: "heartbeat", build_id: a.build_id, task_run_id: da.body.task_run_id, attempt: 1 };
    const crossed = await report(msgA, { key: keyFor({ task_run_id: db.body.task_run_id, attempt: 1 }) });
    expect([crossed.status, ((await crossed.json()) as any).code]).toEqual([401, "webhook_signature_invalid"]);
    const otherAttempt = await report({ ...msgA, attempt: 2 }, { key: keyFor(msgA) });
    expect(otherAttempt.status).toBe(401);
    const id = `cb_${crypto.randomUUID()}`;
    expect((await report(msgA, { id })).status).toBe(202);
    const replayed = await report(msgA, { id });
    expect([replayed.status, ((await replayed.json()) as any).code]).toEqual([409, "webhook_replay_detected"]);
  });

  it("naming tenant secrets for a node needs program.secrets.read: 403 insufficient_capability, nothing created", async () => {
    const c = await caller({ sub: "http_nosecretcap" }); // operator: runtime.write, no secrets.read
    const before = (await c.request("GET", "/v1/builds?limit=100")).body.items.length;
    const res = await c.request("POST", "/v1/builds", {
      repo_url: "file:///work/repo",
      dag: DAG,
      metadata: { node_secrets: { scan: ["GITHUB_TOKEN"] } },
    });
    expect([res.status, res.body.code]).toEqual([403, "insufficient_capability"]);
    expect((await c.request("GET", "/v1/builds?limit=100")).body.items.length).toBe(before);
    expect(sent).toEqual([]);
  });
});

describe("dispatch transport", () => {
  it("plain http:// to the runner is refused outside development and test", async () => {
    const { insecureRunnerUrl, sendDispatch, DispatchError } = await import("../../src/builds/runner-dispatch");
    const base = { RUNNER_URL: "http://runner.example", RUNNER_SHARED_SECRETS: [KEY] } as any;
    expect(insecureRunnerUrl({ ...base, ENVIRONMENT: "production" })).toBe(true);
    expect(insecureRunnerUrl({ ...base, ENVIRONMENT: "staging" })).toBe(true);
    expect(insecureRunnerUrl({ ...base, ENVIRONMENT: "development" })).toBe(false);
    expect(insecureRunnerUrl({ ...base, RUNNER_URL: "https://runner.example", ENVIRONMENT: "production" })).toBe(false);
    await expect(sendDispatch({ ...base, ENVIRONMENT: "production" }, {} as any)).rejects.toThrow(
      new DispatchError("runner_url_insecure"),
    );
    expect(sent).toEqual([]);
  });
});

describe("findings as the product (issue 16)", () => {
  const SEC_DAG = [
    { node_id: "scan", title: "Scan", agent: "scanner" },
    { node_id: "sec", title: "Security", agent: "security", depends_on: ["scan"], gate: "POLICY_GATE" },
  ];
  const KEY_LINE = 'const key = "AKIA****************";';

  /** Runs a two-node real-kind build of `repo`; `scan` reports `findings`, `sec` none. */
  async function scanWith(
    c: Caller,
    repo: string,
    findings: Record<string, unknown>[],
    metadata: Record<string, unknown> = {},
  ) {
    const b = await createBuild(c, { repo_url: repo, dag: SEC_DAG, metadata: { runner_kind: "http", ...metadata } });
    const d1 = await dispatched("scan", 1, 5000, b.build_id);
    await report({
      type: "result",
      build_id: b.build_id,
      task_run_id: d1.body.task_run_id,
      attempt: 1,
      status: "completed",
      duration_ms: 5,
      findings,
    });
    const d2 = await dispatched("sec", 1, 5000, b.build_id);
    await report({
      type: "result",
      build_id: b.build_id,
      task_run_id: d2.body.task_run_id,
      attempt: 1,
      status: "completed",
      duration_ms: 5,
    });
    return waitForStatus(c, b.build_id);
  }

  const critical = {
    rule_id: "aws/AWSAccessKeyID",
    tool: "secretlint",
    severity: "critical",
    category: "secret",
    title: "found AWS Access Key ID",
    file: "config/aws.ts",
    line: 3,
    snippet: KEY_LINE,
  };
  const evalUse = {
    rule_id: "no-eval",
    tool: "ast-grep",
    severity: "high",
    category: "injection",
    title: "eval() runs arbitrary code",
    file: "src/run.js",
    line: 12,
    snippet: "  eval(req.body.code);",
  };
  const newFn = {
    rule_id: "no-new-function",
    tool: "ast-grep",
    severity: "high",
    category: "injection",
    title: "new Function() runs arbitrary code",
    file: "src/run.js",
    line: 30,
    snippet: "  new Function(src)();",
  };
  const inner = {
    rule_id: "no-inner-html",
    tool: "ast-grep",
    severity: "medium",
    category: "xss",
    title: "innerHTML with dynamic content",
    file: "src/ui.js",
    line: 8,
    snippet: "el.innerHTML = html;",
  };

  it("a critical finding fails the POLICY_GATE naming it; an operator's gate PASS with a reason waives it (audited) and resume completes", async () => {
    const c = await caller({ sub: "findings_gate", roles: ["admin"] });
    const failed = await scanWith(c, "https://github.com/acme/gate", [critical, inner]);
    expect(failed.status).toBe("failed");
    const gate = failed.gate_history.find((g: any) => g.gate === "POLICY_GATE");
    expect(gate.status).toBe("FAIL");
    expect(gate.reason).toContain("1 critical (max 0)");
    expect(gate.reason).toContain("secretlint/aws/AWSAccessKeyID at config/aws.ts:3");

    const waived = await c.request("POST", `/v1/builds/${failed.build_id}/gates/POLICY_GATE`, {
      status: "PASS",
      reason: "waived: test key, rotated (SEC-42)",
    });
    expect(waived.status).toBe(201);
    const audit = (await c.request("GET", "/v1/audit?limit=50")).body.items as any[];
    const entry = audit.find((a) => JSON.stringify(a).includes(failed.build_id) && JSON.stringify(a).includes("gate"));
    expect(entry, JSON.stringify(audit.slice(0, 3))).toBeTruthy();
    expect(JSON.stringify(entry)).toContain("findings_gate");
    expect((await c.request("POST", `/v1/builds/${failed.build_id}/resume`, { reason: "gate waived" })).status).toBe(
      200,
    );
    const done = await waitForStatus(c, failed.build_id);
    expect(done.status).toBe("completed");
  });

  it("the build's finding_thresholds decide: one critical allowed passes; malformed thresholds are 422", async () => {
    const c = await caller({ sub: "findings_thresholds" });
    const passed = await scanWith(c, "https://github.com/acme/thresholds", [critical], {
      finding_thresholds: { max_critical: 1 },
    });
    expect(passed.status).toBe("completed");
    const gate = passed.gate_history.find((g: any) => g.gate === "POLICY_GATE");
    expect(gate).toMatchObject({ status: "PASS" });
    expect(gate.reason).toContain("1 critical (max 1)");
    const bad = await c.request("POST", "/v1/builds", {
      repo_url: "https://github.com/acme/thresholds",
      metadata: { finding_thresholds: { max_high: -1 } },
    });
    expect(bad.status).toBe(422);
    expect(bad.body.code).toBe("validation_failed");
    expect(bad.body.errors[0].path).toBe("metadata.finding_thresholds.max_high");
  });

  it("a policy profile's finding thresholds decide for builds that name it; both, a foreign profile or scope new are refused", async () => {
    const c = await caller({ sub: "findings_profile", org_id: "org_findings_profile", roles: ["admin"] });
    const profile = await c.request("POST", "/v1/program/policy-profiles", {
      name: "lenient on one critical",
      blocked_commands: [],
      restricted_paths: [],
      finding_thresholds: { max_critical: 1, max_high: 0 },
    });
    expect(profile.status).toBe(201);
    expect(profile.body.finding_thresholds).toMatchObject({ max_critical: 1, max_high: 0, scope: "all" });
    const id = profile.body.profile_id;

    const lenient = await scanWith(c, "https://github.com/acme/profiled", [critical], { policy_profile_id: id });
    expect(lenient.status).toBe("completed");
    expect(lenient.metadata.finding_thresholds).toMatchObject({ max_critical: 1, max_high: 0 });
    expect(lenient.gate_history.find((g: any) => g.gate === "POLICY_GATE").reason).toContain("1 critical (max 1)");
    // The same profile fails a build with one high finding (max_high 0), naming it.
    const strict = await scanWith(c, "https://github.com/acme/profiled-high", [evalUse], { policy_profile_id: id });
    expect(strict.status).toBe("failed");
    const failed = strict.gate_history.find((g: any) => g.gate === "POLICY_GATE");
    expect(failed.status).toBe("FAIL");
    expect(failed.reason).toContain("no-eval");

    const create = (metadata: Record<string, unknown>) =>
      c.request("POST", "/v1/builds", { repo_url: "https://github.com/acme/profiled", metadata });
    const both = await create({ policy_profile_id: id, finding_thresholds: { max_high: 9 } });
    expect([both.status, both.body.code, both.body.errors[0].path]).toEqual([
      422,
      "validation_failed",
      "metadata.policy_profile_id",
    ]);
    const stranger = await caller({ sub: "findings_profile_other", org_id: "org_other_profiles" });
    const foreign = await stranger.request("POST", "/v1/builds", {
      repo_url: "https://github.com/acme/profiled",
      metadata: { policy_profile_id: id },
    });
    expect([foreign.status, foreign.body.code]).toEqual([404, "policy_profile_not_found"]);
    const scoped = await c.request("POST", "/v1/program/policy-profiles", {
      name: "new only",
      blocked_commands: [],
      restricted_paths: [],
      finding_thresholds: { scope: "new" },
    });
    expect([scoped.status, scoped.body.errors?.[0]?.path]).toEqual([422, "finding_thresholds.scope"]);
  });

  it("the second scan of a repository: one fixed, one new, the rest unchanged; filters, summary, report and SARIF agree", async () => {
    const c = await caller({ sub: "findings_baseline" });
    const repo = "https://github.com/acme/baseline#main";
    const first = await scanWith(c, repo, [evalUse, inner]);
    expect(first.status).toBe("completed");
    // Lines shift, eval goes, new Function comes.
    const second = await scanWith(c, repo, [{ ...inner, line: 11 }, newFn]);
    expect(second.status).toBe("completed");

    const all = (await c.request("GET", `/v1/builds/${second.build_id}/findings`)).body.items as any[];
    expect(all.map((f) => [f.rule_id, f.state])).toEqual([
      ["no-new-function", "new"],
      ["no-inner-html", "unchanged"],
    ]);
    expect(all.every((f) => /^[0-9a-f]{32}$/.test(f.fingerprint))).toBe(true);
    const fresh = (await c.request("GET", `/v1/builds/${second.build_id}/findings?state=new`)).body.items as any[];
    expect(fresh.map((f) => f.rule_id)).toEqual(["no-new-function"]);
    const fixed = (await c.request("GET", `/v1/builds/${second.build_id}/findings/fixed`)).body;
    expect(fixed).toMatchObject({ baseline_build_id: first.build_id });
    expect(fixed.items.map((f: any) => f.rule_id)).toEqual(["no-eval"]);

    const listed = (await c.request("GET", "/v1/builds?limit=10")).body.items as any[];
    expect(listed.find((b) => b.build_id === second.build_id).findings_summary).toMatchObject({
      total: 2,
      by_severity: { critical: 0, high: 1, medium: 1, low: 0, info: 0 },
      new: 1,
      unchanged: 1,
      fixed: 1,
    });
    // The build itself carries the summary (from the runner's view and from D1 alike).
    expect(second.findings_summary).toMatchObject({
      new: 1,
      unchanged: 1,
      fixed: 1,
      baseline_build_id: first.build_id,
    });
    const rep = (await c.request("GET", `/v1/builds/${second.build_id}/report`)).body;
    expect(rep.findings_summary).toMatchObject({
      total: 2,
      new: 1,
      unchanged: 1,
      fixed: 1,
      baseline_build_id: first.build_id,
    });
    expect(rep.recommendations[0]).toContain("no-new-function");

    const sarif = await raw(`/v1/builds/${second.build_id}/findings.sarif`, {
      headers: { authorization: `Bearer ${c.token}` },
    });
    expect(sarif.headers.get("content-type")).toBe("application/sarif+json");
    const log = (await sarif.json()) as any;
    expect(log.version).toBe("2.1.0");
    const states = log.runs
      .flatMap((r: any) => r.results ?? [])
      .map((r: any) => `${r.ruleId}:${r.baselineState}`)
      .sort();
    expect(states).toEqual(["no-eval:absent", "no-inner-html:unchanged", "no-new-function:new"]);
    const viaAccept = await raw(`/v1/builds/${second.build_id}/findings`, {
      headers: { authorization: `Bearer ${c.token}`, accept: "application/sarif+json" },
    });
    expect(((await viaAccept.json()) as any).version).toBe("2.1.0");
  });
});

describe("campaign evidence from real builds (issue 16 item 6)", () => {
  it("a campaign whose builds ran on the runner: the report counts them as real evidence, with their findings", async () => {
    const c = await caller({ sub: "user_campaign_real", org_id: "org_campaign_real" });
    const repo = "https://github.com/acme/real-evidence";
    const campaign = await c.request("POST", "/v1/program/campaigns", {
      name: "real evidence",
      repos: [repo],
      runs_per_repo: 2,
      threshold_profile: { profile_name: "two_runs", min_repo_count: 1, min_total_runs: 2, min_runs_per_repo: 2 },
    });
    expect(campaign.status).toBe(201);
    const id = campaign.body.campaign_id;
    const exec = await c.request("POST", `/v1/program/campaigns/${id}/execute`, { languages: { [repo]: "go" } });
    expect(exec.status).toBe(202);
    const buildIds: string[] = exec.body.runs.map((r: any) => r.build_id);

    // Act as the runner: answer every dispatch of these builds (one high finding per scanner run).
    const answered = new Set<string>();
    const deadline = Date.now() + 15_000;
    const statuses = new Map<string, string>();
    while (statuses.size < buildIds.length || [...statuses.values()].some((s) => s === "running")) {
      if (Date.now() > deadline) throw new Error(`campaign builds not terminal: ${[...statuses.entries()]}`);
      for (const d of sent.filter((s) => buildIds.includes(s.body.build_id))) {
        const key = `${d.body.task_run_id}#${d.body.attempt}`;
        if (answered.has(key)) continue;
        answered.add(key);
        const findings =
          d.body.agent === "scanner"
            ? [{ rule_id: "no-eval", tool: "ast-grep", severity: "high", category: "injection", title: "eval()" }]
            : [];
        const res = await report({
          type: "result",
          build_id: d.body.build_id,
          task_run_id: d.body.task_run_id,
          attempt: d.body.attempt,
          status: "completed",
          duration_ms: 7,
          findings,
        });
        expect(res.status).toBe(202);
      }
      for (const b of buildIds) statuses.set(b, (await c.request("GET", `/v1/builds/${b}`)).body.status);
      await new Promise((r) => setTimeout(r, 20));
    }
    expect([...statuses.values()]).toEqual(["completed", "completed"]);
    const scanners = sent.filter((s) => buildIds.includes(s.body.build_id) && s.body.agent === "scanner").length;

    // The completion hook ingests both runs; the report computes from them.
    let rep: any;
    for (const until = Date.now() + 10_000; ; ) {
      rep = (await c.request("GET", `/v1/program/campaigns/${id}/report`)).body;
      if (rep.evidence?.runs_from_builds === 2) break;
      if (Date.now() > until) throw new Error(`runs not ingested: ${JSON.stringify(rep.evidence)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(rep.evidence).toMatchObject({ runs_from_builds: 2, runs_real: 2, runs_simulated: 0 });
    expect(rep.excluded_runs).toEqual([]);
    expect(rep.summary.repos.map((r: any) => [r.repo, r.run_count, r.success_rate])).toEqual([[repo, 2, 1]]);
    expect(rep.rubric.reasons).not.toContain(expect.stringContaining("simulated_evidence_excluded"));
    expect(rep.gate.reasons.filter((r: string) => r.startsWith("insufficient_runs"))).toEqual([]);
    // Each run carries its build's real findings count (the scanner runs' findings).
    const runs = (await c.request("GET", `/v1/program/campaigns/${id}/runs`)).body.items;
    expect(runs.map((r: any) => r.findings_total).reduce((a: number, b: number) => a + b, 0)).toBe(scanners);
  });
});

describe("SLO evidence from real builds (issue 16 item 6)", () => {
  it("a completed and an operator-aborted real build: counted, the abort excluded from success", async () => {
    const c = await caller({ sub: "user_slo_real", org_id: "org_slo_real", roles: ["operator"] });
    const done = await start(c);
    for (const node of ["scan", "plan"]) {
      const d = await dispatched(node, 1, 5000, done.build_id);
      const res = await report({
        type: "result",
        build_id: done.build_id,
        task_run_id: d.body.task_run_id,
        attempt: 1,
        status: "completed",
        duration_ms: 3,
      });
      expect(res.status).toBe(202);
    }
    expect((await waitForStatus(c, done.build_id)).status).toBe("completed");
    const stopped = await start(c);
    await dispatched("scan", 1, 5000, stopped.build_id);
    expect((await c.request("POST", `/v1/builds/${stopped.build_id}/abort`, {})).status).toBe(200);
    const body = (await c.request("GET", "/v1/program/slo-summary")).body;
    expect(body).toMatchObject({
      total_builds: 2,
      completed_builds: 1,
      aborted_builds: 1,
      success_rate: 0.5,
      simulated_builds_excluded: 0,
    });
    const success = body.objectives.find((o: any) => o.name === "build_success");
    expect(success.windows["5m"]).toMatchObject({ valid: 1, good: 1, bad: 0 });
    expect(success.state).toBe("healthy");
  });
});
