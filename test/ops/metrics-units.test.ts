/**
 * The pure pieces of the metrics: event → counter projection (table-driven), failure modes,
 * label encoding, and the exposition renderer (cumulative buckets, merged tenant/global rows).
 */
import { describe, expect, it } from "vitest";
import { type CounterIncrement, encodeLabels, mergeIncrements, observation } from "../../src/ops/metrics.catalog";
import { failureMode, incrementsFromEvents } from "../../src/ops/metrics.events";
import { decodeLabels, renderExposition } from "../../src/ops/metrics.exposition";
import { assertExposition } from "./metrics-helpers";

const ev = (event_type: string, payload: Record<string, unknown> = {}) => ({ event_type, payload });
const flat = (incs: CounterIncrement[]) =>
  mergeIncrements(incs)
    .map((i) => `${i.name}{${encodeLabels(i.labels)}} ${i.value}`)
    .sort();

describe("incrementsFromEvents", () => {
  it("counts a created build once: pending → running nets to running +1", () => {
    const incs = incrementsFromEvents(
      "t",
      [ev("BUILD_STATUS_CHANGED", { from_status: "pending", to_status: "running" }), ev("BUILD_STARTED")],
      { created: true },
    );
    expect(flat(incs)).toEqual(["clarity_builds_created_total{} 1", 'clarity_builds{status="running"} 1']);
  });

  it.each([
    [
      "finish",
      [
        ev("BUILD_STATUS_CHANGED", { from_status: "running", to_status: "completed" }),
        ev("BUILD_FINISHED", { final_status: "completed" }),
      ],
      [
        'clarity_builds_finished_total{status="completed"} 1',
        'clarity_builds{status="completed"} 1',
        'clarity_builds{status="running"} -1',
      ],
    ],
    [
      "gate failure",
      [ev("POLICY_GATE", { status: "FAIL" }), ev("TEST_GATE", { status: "PASS" })],
      ['clarity_gate_failures_total{gate="POLICY_GATE"} 1'],
    ],
    [
      "retry and fallback",
      [ev("TASK_RETRY_SCHEDULED"), ev("FALLBACK_MODE_SWITCHED")],
      ["clarity_fallbacks_total{} 1", "clarity_task_retries_total{} 1"],
    ],
    ["unrelated events", [ev("LEVEL_STARTED"), ev("CHECKPOINT_CREATED"), ev("TASK_STARTED")], []],
  ])("%s", (_name, events, expected) => {
    expect(flat(incrementsFromEvents("t", events))).toEqual(expected);
  });

  it("observes node durations with bounded labels and classifies failures", () => {
    const incs = incrementsFromEvents("t", [
      ev("RUNNER_RESULT", { runner: "simulated", status: "completed", duration_ms: 2500 }),
      ev("RUNNER_RESULT", {
        runner: "My Custom Runner",
        status: "failed",
        duration_ms: 100,
        error: "heartbeat_missed",
      }),
      ev("RUNNER_RESULT", {
        runner: "http",
        status: "failed",
        duration_ms: 1,
        error: "Command blocked by execution policy.",
      }),
      ev("TASK_FAILED"),
      ev("POLICY_VIOLATION", { source: "execution_policy" }),
    ]);
    expect(flat(incs)).toEqual([
      'clarity_node_duration_seconds_bucket{le="0.1",runner="http",status="failed"} 1',
      'clarity_node_duration_seconds_bucket{le="0.1",runner="other",status="failed"} 1',
      'clarity_node_duration_seconds_bucket{le="5",runner="simulated",status="completed"} 1',
      'clarity_node_duration_seconds_count{runner="http",status="failed"} 1',
      'clarity_node_duration_seconds_count{runner="other",status="failed"} 1',
      'clarity_node_duration_seconds_count{runner="simulated",status="completed"} 1',
      'clarity_node_duration_seconds_sum{runner="http",status="failed"} 0.001',
      'clarity_node_duration_seconds_sum{runner="other",status="failed"} 0.1',
      'clarity_node_duration_seconds_sum{runner="simulated",status="completed"} 2.5',
      'clarity_node_failures_total{mode="heartbeat_missed"} 1',
      'clarity_node_failures_total{mode="policy_denied"} 1',
    ]);
  });

  it.each([
    [null, "runner_error"],
    ["runner crashed", "runner_error"],
    ["deadline_exceeded", "timeout"],
    ["node_timeout", "timeout"],
    ["heartbeat_missed", "heartbeat_missed"],
    ["dispatch_rejected:503", "dispatch"],
    ["dispatch_failed", "dispatch"],
    ["policy_changed", "policy_denied"],
    ["fault_injected:node_failure", "fault_injected"],
  ] as const)("failureMode(%s) = %s", (error, mode) => {
    expect(failureMode(error)).toBe(mode);
  });
});

describe("labels and observations", () => {
  it("encodes labels sorted and escaped, and decodes them back", () => {
    const labels = { route: 'POST /v1/x"y', a: "back\\slash\nline" };
    const encoded = encodeLabels(labels);
    expect(encoded).toBe('a="back\\\\slash\\nline",route="POST /v1/x\\"y"');
    expect(decodeLabels(encoded)).toEqual(labels);
  });

  it("puts an observation in the first bucket that holds it, overflow in +Inf", () => {
    expect(observation("t", "tickDuration", 0.02)[0]?.labels).toEqual({ le: "0.025" });
    expect(observation("t", "tickDuration", 0)[0]?.labels).toEqual({ le: "0.005" });
    expect(observation("t", "tickDuration", 99)[0]?.labels).toEqual({ le: "+Inf" });
    expect(observation("t", "tickDuration", Number.NaN)[1]?.value).toBe(0);
  });
});

describe("renderExposition", () => {
  it("renders cumulative histograms, merges tenant and deployment rows, and stays well-formed", () => {
    const text = renderExposition(
      [
        { name: "clarity_tick_duration_seconds_bucket", labels: 'le="0.01"', value: 2 },
        { name: "clarity_tick_duration_seconds_bucket", labels: 'le="0.5"', value: 1 },
        { name: "clarity_tick_duration_seconds_bucket", labels: 'le="+Inf"', value: 1 },
        { name: "clarity_tick_duration_seconds_sum", labels: "", value: 30.123456789012345 },
        { name: "clarity_tick_duration_seconds_count", labels: "", value: 4 },
        {
          name: "clarity_webhook_rejections_total",
          labels: 'reason="x",route="POST /v1/program/webhook/ingest"',
          value: 2,
        },
        {
          name: "clarity_webhook_rejections_total",
          labels: 'reason="x",route="POST /v1/program/webhook/ingest"',
          value: 3,
        },
      ],
      { clarity_fallback_ratio: [{ labels: {}, value: 0.25 }] },
    );
    assertExposition(text);
    expect(text).toContain('clarity_tick_duration_seconds_bucket{le="0.005"} 0\n');
    expect(text).toContain('clarity_tick_duration_seconds_bucket{le="0.01"} 2\n');
    expect(text).toContain('clarity_tick_duration_seconds_bucket{le="0.25"} 2\n');
    expect(text).toContain('clarity_tick_duration_seconds_bucket{le="0.5"} 3\n');
    expect(text).toContain('clarity_tick_duration_seconds_bucket{le="+Inf"} 4\n');
    expect(text).toContain("clarity_tick_duration_seconds_sum 30.123456789\n");
    expect(text).toContain('clarity_webhook_rejections_total{reason="x",route="POST /v1/program/webhook/ingest"} 5\n');
    expect(text).toContain("clarity_fallback_ratio 0.25\n");
    expect(text).toContain("# TYPE clarity_node_duration_seconds histogram\n");
  });
});
