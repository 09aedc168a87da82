/**
 * Every route of SPEC §5.1–5.3 exists and answers with its documented success shape (lists as
 * `{items, next_cursor}` per DESIGN §8).
 */
import { describe, expect, it } from "vitest";
import { caller, createBuild, waitForStatus } from "../helpers/api";

const keys = (o: object) => Object.keys(o).sort();
const TASK_RUN = ["attempt", "error", "finished_at", "node_id", "started_at", "status", "task_run_id"];
const GATE = ["build_id", "created_at", "decision_id", "gate", "node_id", "reason", "status"];
const REPLAN = ["action", "created_at", "decision_id", "reason", "replacement_nodes"];
const DEBT = ["created_at", "debt_id", "node_id", "severity", "summary"];
const VIOLATION = ["blocking", "code", "created_at", "message", "source", "violation_id"];
const CHECKPOINT = ["build_id", "checkpoint_id", "created_at", "event_cursor", "reason", "status"];
const SESSION = ["build_id", "created_at", "metadata", "runtime_id", "sandbox_profile", "status", "updated_at"];
const BUILD_RUN = [
  "allowed_actions",
  "build_id",
  "created_at",
  "created_by",
  "dag",
  "debt_items",
  "findings_summary",
  "gate_history",
  "metadata",
  "objective",
  "policy_violations",
  "progress",
  "replan_history",
  "repo_url",
  "state_transitions",
  "status",
  "task_runs",
  "trigger",
  "updated_at",
];

describe("SPEC §5.1–5.3 route catalogue", () => {
  it("answers every build, runtime and validation route with its documented shape", async () => {
    const c = await caller({ sub: "catalogue_user" });
    const done = await createBuild(c, { metadata: { simulated_duration_ms: 0 } });
    await waitForStatus(c, done.build_id);
    const live = await createBuild(c, { metadata: { simulated_duration_ms: 60_000 } });
    const b = `/v1/builds/${done.build_id}`;
    const l = `/v1/builds/${live.build_id}`;
    const ok = async (method: string, path: string, status: number, body?: unknown) => {
      const res = await c.request(method, path, body);
      expect(res.status, `${method} ${path}: ${JSON.stringify(res.body)}`).toBe(status);
      return res.body;
    };

    // §5.1 Builds
    const list = await ok("GET", "/v1/builds?status=completed&limit=5", 200); // B1
    expect(keys(list)).toEqual(["items", "next_cursor"]);
    expect(keys(list.items[0])).toEqual([
      "build_id",
      "created_at",
      "findings_summary",
      "node_done",
      "node_total",
      "objective",
      "repo_url",
      "status",
      "task_completed",
      "task_failed",
      "task_total",
      "trigger",
      "updated_at",
    ]);
    expect(keys(await ok("POST", "/v1/builds/preview-dag", 200, { repo_url: "r" }))).toEqual([
      "dag",
      "dag_levels",
      "metadata",
      "planner_profile",
      "planner_trace",
      "scan_mode",
    ]); // B2
    expect(keys(done)).toEqual(BUILD_RUN); // B3
    expect(keys(await ok("GET", b, 200))).toEqual(BUILD_RUN); // B4
    const tasks = await ok("GET", `${b}/tasks?node_id=scanner&status=completed&limit=10`, 200); // B5
    expect(keys(tasks.items[0])).toEqual(TASK_RUN);
    expect(keys(await ok("GET", `${b}/tasks/${tasks.items[0].task_run_id}`, 200))).toEqual(TASK_RUN); // B6
    const started = await ok("POST", `${l}/tasks`, 201, { node_id: "planner" }); // B7
    expect(keys(started)).toEqual(TASK_RUN);
    expect(keys(await ok("POST", `${l}/tasks/${started.task_run_id}/complete`, 200, { status: "skipped" }))).toEqual(
      TASK_RUN,
    ); // B8
    expect(keys((await ok("GET", `${b}/gates?gate=TEST_GATE`, 200)).items[0])).toEqual(GATE); // B9
    expect(keys(await ok("POST", `${b}/gates/MERGE_GATE`, 201, {}))).toEqual(GATE); // B10
    await ok("POST", `${l}/replan`, 201, { action: "CONTINUE" });
    expect(keys((await ok("GET", `${l}/replan?limit=5`, 200)).items[0])).toEqual(REPLAN); // B11
    expect(
      keys(
        await ok("POST", `${l}/replan`, 201, {
          action: "MODIFY_DAG",
          replacement_nodes: [{ node_id: "v", title: "V", agent: "verifier", depends_on: ["planner"] }],
        }),
      ),
    ).toEqual(REPLAN); // B12
    expect(keys(await ok("GET", `${l}/replan/suggest`, 200))).toEqual(["action", "reason", "replacement_nodes"]); // B13
    expect(keys(await ok("POST", `${l}/replan/suggest/apply`, 201, {}))).toEqual(REPLAN); // B14
    await ok("POST", `${b}/debt`, 201, { node_id: "scanner", summary: "s" });
    expect(keys((await ok("GET", `${b}/debt`, 200)).items[0])).toEqual(DEBT); // B15
    expect(keys(await ok("POST", `${b}/debt`, 201, { node_id: "x", summary: "y", severity: "low" }))).toEqual(DEBT); // B16
    await ok("POST", `${b}/policy-violations`, 201, { code: "c", message: "m", blocking: false });
    expect(keys((await ok("GET", `${b}/policy-violations`, 200)).items[0])).toEqual(VIOLATION); // B17
    expect(keys(await ok("POST", `${b}/policy-violations`, 201, { code: "c2", message: "m2" }))).toEqual(VIOLATION); // B18
    expect(keys(await ok("POST", `${l}/resume`, 200, {}))).toEqual(BUILD_RUN); // B19
    expect((await ok("POST", `${l}/abort`, 200, { reason: "done" })).status).toBe("aborted"); // B20
    const sse = await c.request("GET", `${b}/events`); // B21
    expect([sse.status, sse.headers.get("content-type")]).toEqual([200, "text/event-stream; charset=utf-8"]);
    const history = await ok("GET", `${b}/events/history?cursor=0&limit=3`, 200); // B22
    expect(keys(history.items[0])).toEqual(["build_id", "event_type", "payload", "seq", "timestamp"]);
    expect(keys((await ok("GET", `${b}/checkpoints`, 200)).items[0])).toEqual(CHECKPOINT); // B23
    expect(keys(await ok("POST", `${b}/checkpoints`, 201, {}))).toEqual(CHECKPOINT); // B24
    const contracts = await ok("GET", "/v1/prompt-contracts", 200); // B25
    expect(contracts.items.map((x: any) => x.name)).toEqual([
      "build_planner",
      "task_executor",
      "gate_reviewer",
      "replanner",
    ]);
    expect(keys(contracts.items[0])).toEqual([
      "description",
      "input_schema_ref",
      "name",
      "output_schema_ref",
      "owner",
      "version",
    ]);

    // §5.2 Runtime
    expect(keys(await ok("POST", `${b}/runtime/bootstrap`, 200))).toEqual(SESSION); // R1
    expect(keys(await ok("GET", `${b}/runtime/worker-health`, 200))).toEqual(
      expect.arrayContaining([
        "build_id",
        "last_runtime_event_at",
        "nudge_allowed",
        "stale_after_seconds",
        "worker_enabled",
        "worker_stale",
      ]),
    ); // R2
    expect(keys(await ok("GET", `${b}/runtime/status`, 200))).toEqual(SESSION); // R3
    expect(keys((await ok("GET", `${b}/runtime/metrics?metric=runtime_tick&limit=2`, 200)).items[0])).toEqual([
      "build_id",
      "emitted_at",
      "fields",
      "metric",
      "runtime_id",
      "tags",
      "value",
    ]); // R4
    expect(keys(await ok("GET", `${b}/runtime/telemetry`, 200))).toEqual([
      "bootstrap_count",
      "build_id",
      "last_emitted_at",
      "latest_runtime_id",
      "latest_status",
      "metric_count",
      "tick_count",
      "total_executed_nodes",
    ]); // R5
    expect(keys((await ok("GET", `${b}/runtime/logs?status=ok`, 200)).items[0])).toEqual(
      expect.arrayContaining([
        "build_id",
        "duration_ms",
        "error",
        "finished_at",
        "log_id",
        "message",
        "metadata",
        "node_id",
        "runner",
        "runtime_id",
        "started_at",
        "status",
        "workspace_id",
      ]),
    ); // R6
    expect(keys(await ok("POST", `${b}/runtime/tick`, 200))).toEqual(
      expect.arrayContaining([
        "active_level",
        "build_id",
        "executed_nodes",
        "finished",
        "level_completed",
        "level_started",
        "pending_nodes",
        "runtime_id",
      ]),
    ); // R7

    // §5.3 Validation helpers
    const plan = await ok("POST", "/v1/validation/plan", 200, {
      targets: [{ repo: "https://github.com/org/repo-a", language: "ts", runs: 2 }],
    });
    expect(plan).toEqual({
      target_count: 1,
      run_count: 2,
      runs: [
        { repo: "https://github.com/org/repo-a", language: "ts", run_id: "github.com_org_repo-a-run-1" },
        { repo: "https://github.com/org/repo-a", language: "ts", run_id: "github.com_org_repo-a-run-2" },
      ],
    });
    const report = await ok("POST", "/v1/validation/report", 200, {});
    expect(report.rubric).toMatchObject({ score: 25, passed: false, release_ready: false });
    expect(report.rubric.reasons).toEqual([
      "no_repositories_evaluated",
      "repo_count_below_threshold:0",
      "total_runs_below_threshold:0",
      "average_success_rate_below_threshold:0.000",
    ]);
    expect(
      (await c.request("POST", "/v1/validation/plan", { targets: [{ repo: "r", language: "x", runs: 26 }] })).status,
    ).toBe(422);
  });

  it("validation helpers need authentication but no capability", async () => {
    const c = await caller({ sub: "no_caps", roles: [] });
    expect((await c.request("POST", "/v1/validation/plan", {})).status).toBe(200);
    expect((await c.request("GET", "/v1/prompt-contracts")).status).toBe(200);
  });
});
