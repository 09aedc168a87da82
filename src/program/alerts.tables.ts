/**
 * D1 tables of the control plane's own alerting (issue 23 item 5, migration 0011): where a
 * tenant's notifications go, the state of each alert (one row per tenant and alert key), and the
 * notification outbox (one row per destination, firing and kind: the de-duplication key), which
 * is retried with backoff and dead-lettered after the policy's attempts.
 */
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

export const alertDestinations = sqliteTable(
  "alert_destinations",
  {
    destinationId: text("destination_id").primaryKey(),
    tenantId: text("tenant_id").notNull(),
    name: text("name").notNull(),
    /** `standard` (Standard Webhooks JSON) | `slack` (Slack-compatible incoming-webhook body). */
    format: text("format").notNull(),
    url: text("url").notNull(),
    /** The signing secret (whsec_…), envelope-encrypted like tenant secrets (SECRETS_KEYRING). */
    secretCiphertext: text("secret_ciphertext").notNull(),
    secretWrappedKey: text("secret_wrapped_key").notNull(),
    secretKeyVersion: integer("secret_key_version").notNull(),
    /** Masked form shown by the API (the secret itself is never returned). */
    secretHint: text("secret_hint").notNull(),
    createdBy: text("created_by").notNull(),
    createdAt: text("created_at").notNull(),
  },
  (t) => [index("alert_destinations_tenant_created_idx").on(t.tenantId, t.createdAt, t.destinationId)],
);

/** The current state of one alert of a tenant; `firing_seq` counts its firings (1, 2, …). */
export const alertStates = sqliteTable(
  "alert_states",
  {
    tenantId: text("tenant_id").notNull(),
    alertKey: text("alert_key").notNull(),
    /** `firing` | `resolved` */
    state: text("state").notNull(),
    severity: text("severity").notNull(),
    summary: text("summary").notNull(),
    details: text("details", { mode: "json" }).$type<Record<string, unknown>>().notNull(),
    firingSeq: integer("firing_seq").notNull(),
    firedAt: text("fired_at").notNull(),
    resolvedAt: text("resolved_at"),
    updatedAt: text("updated_at").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.alertKey] }),
    index("alert_states_tenant_updated_idx").on(t.tenantId, t.updatedAt),
  ],
);

/**
 * One notification per (destination, alert, firing, kind): inserted with ON CONFLICT DO NOTHING,
 * so an alert that stays firing is announced once, however many minutes it fires.
 * status: `pending` (due at next_attempt_at) → `delivered` | `dead` (attempts exhausted).
 */
export const alertNotifications = sqliteTable(
  "alert_notifications",
  {
    notificationId: text("notification_id").primaryKey(),
    tenantId: text("tenant_id").notNull(),
    destinationId: text("destination_id").notNull(),
    alertKey: text("alert_key").notNull(),
    firingSeq: integer("firing_seq").notNull(),
    /** `firing` | `resolved` */
    kind: text("kind").notNull(),
    payload: text("payload", { mode: "json" }).$type<Record<string, unknown>>().notNull(),
    status: text("status").notNull(),
    attempts: integer("attempts").notNull(),
    nextAttemptAt: text("next_attempt_at").notNull(),
    lastError: text("last_error"),
    createdAt: text("created_at").notNull(),
    deliveredAt: text("delivered_at"),
  },
  (t) => [
    uniqueIndex("alert_notifications_dedupe_uq").on(t.destinationId, t.alertKey, t.firingSeq, t.kind),
    index("alert_notifications_due_idx").on(t.status, t.nextAttemptAt),
    index("alert_notifications_tenant_alert_idx").on(t.tenantId, t.alertKey, t.createdAt),
  ],
);
