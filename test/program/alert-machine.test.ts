import { describe, expect, it } from "vitest";
import {
  DELIVERY_POLICY,
  type NotificationInput,
  nextAttemptDelay,
  slackBody,
  standardBody,
  step,
} from "../../src/program/alert-machine";

describe("step (one alert's state machine)", () => {
  it.each([
    ["never seen, not firing", null, false, { kind: "none" }],
    ["never seen, firing → first firing", null, true, { kind: "fire", firing_seq: 1 }],
    [
      "firing, still firing → refresh (nobody notified again)",
      { state: "firing", firing_seq: 1 },
      true,
      { kind: "refresh", firing_seq: 1 },
    ],
    [
      "firing, clears → resolve the same firing",
      { state: "firing", firing_seq: 1 },
      false,
      { kind: "resolve", firing_seq: 1 },
    ],
    ["resolved, stays clear", { state: "resolved", firing_seq: 1 }, false, { kind: "none" }],
    [
      "resolved, fires again → a new firing",
      { state: "resolved", firing_seq: 1 },
      true,
      { kind: "fire", firing_seq: 2 },
    ],
  ] as const)("%s", (_n, prev, firing, expected) => {
    expect(step(prev, firing)).toEqual(expected);
  });
});

describe("nextAttemptDelay (retry with backoff, then dead letter)", () => {
  it.each([
    [1, 30_000],
    [2, 60_000],
    [3, 120_000],
    [4, 240_000],
    [DELIVERY_POLICY.maxAttempts, null],
  ])("after failed attempt %i → %s", (attempts, delay) => {
    expect(nextAttemptDelay(attempts)).toBe(delay);
  });

  it("caps the interval", () => {
    expect(nextAttemptDelay(20, { ...DELIVERY_POLICY, maxAttempts: 100 })).toBe(DELIVERY_POLICY.maxIntervalMs);
  });
});

describe("notification bodies", () => {
  const n: NotificationInput = {
    notification_id: "msg_1",
    tenant_id: "org",
    alert_key: "slo:build_success",
    firing_seq: 3,
    kind: "firing",
    severity: "page",
    summary: "SLO build_success is page",
    details: { state: "page" },
    at: "2026-03-27T10:00:00.000000Z",
  };
  it("Standard Webhooks: a typed event with the alert as data", () => {
    expect(standardBody(n)).toEqual({
      type: "alert.firing",
      timestamp: n.at,
      data: {
        notification_id: "msg_1",
        tenant_id: "org",
        alert: "slo:build_success",
        firing: 3,
        state: "firing",
        severity: "page",
        summary: n.summary,
        details: { state: "page" },
      },
    });
    expect(standardBody({ ...n, kind: "resolved" }).type).toBe("alert.resolved");
  });
  it("Slack-compatible: text (and a section block) saying firing or resolved", () => {
    expect(slackBody(n).text).toBe(":rotating_light: FIRING [page] slo:build_success: SLO build_success is page");
    expect(slackBody({ ...n, kind: "resolved" }).text).toBe(
      ":white_check_mark: RESOLVED slo:build_success: SLO build_success is page",
    );
  });
});
