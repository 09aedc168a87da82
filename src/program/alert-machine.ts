/**
 * The control plane's alerting, pure: the state machine of one alert (condition observed →
 * transition), the retry policy of notifications, and the two notification bodies (Standard
 * Webhooks JSON, Slack-compatible). Called by alerts.service.ts; unit-tested table-driven in
 * test/program/alert-machine.test.ts.
 */

export type AlertSeverity = "page" | "ticket";

/** What an evaluation observed for one alert key. */
export interface Observation {
  key: string;
  firing: boolean;
  severity: AlertSeverity;
  summary: string;
  details: Record<string, unknown>;
}

export interface StoredAlert {
  state: "firing" | "resolved";
  firing_seq: number;
}

/**
 * One step of an alert: `fire` when a condition starts (a new firing, numbered seq + 1), `resolve`
 * when a firing condition clears, `refresh` while it keeps firing (details updated, nobody
 * notified), `none` otherwise. An alert never observed firing is not stored.
 */
export type Transition =
  | { kind: "fire"; firing_seq: number }
  | { kind: "resolve"; firing_seq: number }
  | { kind: "refresh"; firing_seq: number }
  | { kind: "none" };

export function step(prev: StoredAlert | null, firing: boolean): Transition {
  const seq = prev?.firing_seq ?? 0;
  if (firing)
    return prev?.state === "firing" ? { kind: "refresh", firing_seq: seq } : { kind: "fire", firing_seq: seq + 1 };
  return prev?.state === "firing" ? { kind: "resolve", firing_seq: seq } : { kind: "none" };
}

export interface RetryPolicy {
  maxAttempts: number;
  initialIntervalMs: number;
  backoff: number;
  maxIntervalMs: number;
  timeoutMs: number;
}

/** Delivery retries: exponential backoff, then the notification is dead-lettered. */
export const DELIVERY_POLICY: Readonly<RetryPolicy> = Object.freeze({
  maxAttempts: 5,
  initialIntervalMs: 30_000,
  backoff: 2,
  maxIntervalMs: 3_600_000,
  /** Per-request deadline. */
  timeoutMs: 10_000,
});

/** After failed attempt number `attempts` (1-based): when to try again, or null → dead letter. */
export function nextAttemptDelay(attempts: number, policy: Readonly<RetryPolicy> = DELIVERY_POLICY): number | null {
  if (attempts >= policy.maxAttempts) return null;
  return Math.min(policy.maxIntervalMs, policy.initialIntervalMs * policy.backoff ** (attempts - 1));
}

export interface NotificationInput {
  notification_id: string;
  tenant_id: string;
  alert_key: string;
  firing_seq: number;
  kind: "firing" | "resolved";
  severity: AlertSeverity;
  summary: string;
  details: Record<string, unknown>;
  at: string;
}

/** The Standard Webhooks body (`type` names the event; `data` the alert). */
export function standardBody(n: NotificationInput) {
  return {
    type: n.kind === "firing" ? "alert.firing" : "alert.resolved",
    timestamp: n.at,
    data: {
      notification_id: n.notification_id,
      tenant_id: n.tenant_id,
      alert: n.alert_key,
      firing: n.firing_seq,
      state: n.kind,
      severity: n.severity,
      summary: n.summary,
      details: n.details,
    },
  };
}

/** A Slack-compatible incoming-webhook body (`text`, plus blocks for clients that render them). */
export function slackBody(n: NotificationInput) {
  const head = n.kind === "firing" ? `:rotating_light: FIRING [${n.severity}]` : ":white_check_mark: RESOLVED";
  const text = `${head} ${n.alert_key}: ${n.summary}`;
  return { text, blocks: [{ type: "section", text: { type: "mrkdwn", text } }] };
}
