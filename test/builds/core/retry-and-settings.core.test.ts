/**
 * Retry math and run settings (issue 20), table-driven: the backoff of `retryDelayMs`, and what
 * `parseRunSettings` makes of a build's metadata — budgets, parallelism, deadlines, the
 * fallback/abort switches and simulated results — including malformed values, which mean the
 * default (as the hand-written checks it replaced did).
 */
import { describe, expect, it } from "vitest";
import { DEFAULT_RETRY_POLICY, type RetryPolicy, retryDelayMs } from "../../../src/builds/engine/retry-policy";
import {
  effectiveParallelism,
  nodeTimeoutMs,
  parseRunSettings,
  retryBudget,
  runnerOverrideOf,
} from "../../../src/builds/engine/run-settings";

describe("retryDelayMs", () => {
  const P: RetryPolicy = { initial_interval_ms: 1000, multiplier: 2, max_interval_ms: 30_000, jitter: 0.2 };
  const cases: [string, RetryPolicy, number, number, number][] = [
    ["attempt 1, mid jitter = initial", P, 1, 0.5, 1000],
    ["attempt 2 doubles", P, 2, 0.5, 2000],
    ["attempt 4 = 8×", P, 4, 0.5, 8000],
    ["capped at max", P, 10, 0.5, 30_000],
    ["rand 0 = −jitter", P, 3, 0, 3200],
    ["rand → 1 = +jitter", P, 3, 0.999999, 4800],
    ["no jitter ignores rand", { ...P, jitter: 0 }, 3, 0.9, 4000],
    ["multiplier 1 is constant", { ...P, multiplier: 1 }, 7, 0.5, 1000],
    ["attempt 0 counts as 1", P, 0, 0.5, 1000],
    ["zero interval", { ...P, initial_interval_ms: 0 }, 5, 0.7, 0],
  ];
  for (const [name, policy, attempt, rand, want] of cases) {
    it(`${name}: ${want} ms`, () => expect(retryDelayMs(policy, attempt, rand)).toBe(want));
  }
  it("stays within ±jitter of the base for any roll", () => {
    for (let i = 0; i <= 100; i++) {
      const ms = retryDelayMs(P, 2, i / 101);
      expect(ms).toBeGreaterThanOrEqual(1600);
      expect(ms).toBeLessThanOrEqual(2400);
    }
  });
});

describe("parseRunSettings", () => {
  it("defaults for an empty bag", () => {
    const s = parseRunSettings({});
    expect(s).toMatchObject({
      runner_kind: "simulated",
      max_parallelism: null,
      max_task_retries: 0,
      retry_policy: DEFAULT_RETRY_POLICY,
      fallback_scan_mode: null,
      replanner_abort_on_terminal_failure: false,
      simulated_duration_ms: null,
      workspace_root: null,
      test_poison_ticks: false,
    });
  });

  const budgets: [string, Record<string, unknown>, string, number][] = [
    ["none: 0", {}, "a", 0],
    ["build-wide", { max_task_retries: 2 }, "a", 2],
    ["numeric string", { max_task_retries: "3" }, "a", 3],
    ["fraction floors", { max_task_retries: 2.9 }, "a", 2],
    ["negative is 0", { max_task_retries: -4 }, "a", 0],
    ["garbage is 0", { max_task_retries: "lots" }, "a", 0],
    ["per node wins", { max_task_retries: 1, node_retry_budgets: { a: 5 } }, "a", 5],
    ["per node of another node", { max_task_retries: 1, node_retry_budgets: { b: 5 } }, "a", 1],
    ["per node null falls back", { max_task_retries: 1, node_retry_budgets: { a: null } }, "a", 1],
    ["per node garbage is 0, not the build-wide", { max_task_retries: 3, node_retry_budgets: { a: "x" } }, "a", 0],
    ["a node named constructor reads no prototype", { max_task_retries: 2, node_retry_budgets: {} }, "constructor", 2],
  ];
  for (const [name, metadata, nodeId, want] of budgets) {
    it(`retry budget — ${name}`, () => expect(retryBudget(parseRunSettings(metadata), nodeId)).toBe(want));
  }

  const parallelism: [unknown, number][] = [
    [undefined, 8],
    [2, 2],
    [2.7, 2],
    [20, 8],
    [0, 8],
    [-1, 8],
    ["3", 3],
    ["x", 8],
    [null, 8],
  ];
  for (const [value, want] of parallelism) {
    it(`parallelism with max_parallelism ${JSON.stringify(value)} under a limit of 8: ${want}`, () => {
      expect(effectiveParallelism(parseRunSettings({ max_parallelism: value }), 8)).toBe(want);
    });
  }

  it("node deadlines: positive numbers per node, else the fallback", () => {
    const s = parseRunSettings({ node_timeouts_ms: { a: 500, b: 0, c: "250", d: "soon" } });
    expect([
      nodeTimeoutMs(s, "a", 9),
      nodeTimeoutMs(s, "b", 9),
      nodeTimeoutMs(s, "c", 9),
      nodeTimeoutMs(s, "d", 9),
      nodeTimeoutMs(s, "e", 9),
    ]).toEqual([500, 9, 250, 9, 9]);
  });

  it("retry policy: clamped, wrong types are the default", () => {
    const s = parseRunSettings({
      retry_policy: { initial_interval_ms: -5, multiplier: 50, max_interval_ms: "9", jitter: 2 },
    });
    expect(s.retry_policy).toEqual({
      initial_interval_ms: 0,
      multiplier: 10,
      max_interval_ms: DEFAULT_RETRY_POLICY.max_interval_ms,
      jitter: 1,
    });
  });

  const switches: [Record<string, unknown>, Partial<ReturnType<typeof parseRunSettings>>][] = [
    [{ runner_kind: " HTTP " }, { runner_kind: "http" }],
    [{ runner_kind: "docker" }, { runner_kind: "simulated" }],
    [{ fallback_scan_mode: "deterministic" }, { fallback_scan_mode: "deterministic" }],
    [{ fallback_scan_mode: "Deterministic" }, { fallback_scan_mode: null }],
    [{ replanner_abort_on_terminal_failure: 1 }, { replanner_abort_on_terminal_failure: true }],
    [{ test_poison_ticks: "true" }, { test_poison_ticks: false }],
    [{ capabilities: ["a"] }, { executor_capabilities: ["a"] }],
    [{ executor_capabilities: "x", capabilities: ["a"] }, { executor_capabilities: [] }],
    [{ workspace_root: "  /srv/w  " }, { workspace_root: "/srv/w" }],
  ];
  for (const [metadata, want] of switches) {
    it(`switches: ${JSON.stringify(metadata)}`, () => expect(parseRunSettings(metadata)).toMatchObject(want));
  }

  it("simulated results: statuses normalised per attempt, empty errors are none", () => {
    const s = parseRunSettings({
      runner_results: {
        a: { status_sequence: ["FAIL", "ok", "weird"], error_sequence: ["boom", ""], duration_ms: 40, exit_code: 3 },
      },
    });
    expect(runnerOverrideOf(s, "a")).toMatchObject({
      status_sequence: ["failed", "completed", "completed"],
      error_sequence: ["boom", null],
      duration_ms: 40,
      exit_code: 3,
    });
    expect(runnerOverrideOf(s, "b")).toMatchObject({
      status: "completed",
      status_sequence: [],
      duration_ms: undefined,
    });
  });

  it("never throws on any JSON value", () => {
    for (const v of [null, 0, "s", [], [1], { a: { b: [] } }, true]) {
      const metadata = Object.fromEntries(
        ["runner_results", "node_policy", "node_secrets", "retry_policy", "max_parallelism", "node_retry_budgets"].map(
          (k) => [k, v],
        ),
      );
      expect(() => parseRunSettings(metadata)).not.toThrow();
    }
  });
});
