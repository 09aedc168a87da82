/**
 * D1 tables of the operability layer (issue 8): metric counters that survive isolates, and the
 * dead-letter records of builds whose ticks kept failing. Timestamps are ISO-8601 UTC text.
 */
import { index, integer, primaryKey, real, sqliteTable, text } from "drizzle-orm/sqlite-core";

/**
 * One Prometheus series per row: (tenant, metric name, canonical label set) → value. Counters
 * only grow; the `clarity_builds` gauge moves by the status transitions of each build write
 * batch. `tenant_id` is '' for deployment-wide series (e.g. rejected unsigned webhooks).
 * Increments are `INSERT … ON CONFLICT DO UPDATE SET value = value + excluded.value`.
 */
export const opsCounters = sqliteTable(
  "ops_counters",
  {
    tenantId: text("tenant_id").notNull(),
    name: text("name").notNull(),
    /** Canonical label set, sorted by name: `reason="webhook_replay_detected",route="POST /v1/…"`; '' for none. */
    labels: text("labels").notNull(),
    value: real("value").notNull(),
    updatedAt: text("updated_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.name, t.labels] })],
);

/**
 * A build whose runtime tick kept failing (RUNTIME_DEAD_LETTER_AFTER_FAILURES consecutive alarm
 * failures): its BuildRunner stopped re-arming. `open` until an operator re-drives it
 * (`redriven`); a build dead-lettered again after a re-drive reopens its row.
 */
export const opsDeadLetters = sqliteTable(
  "ops_dead_letters",
  {
    buildId: text("build_id").primaryKey(),
    tenantId: text("tenant_id").notNull(),
    createdBy: text("created_by").notNull(),
    /** open | redriven */
    state: text("state").notNull(),
    /** Why it was dead-lettered, e.g. `tick_failures_exhausted`. */
    reason: text("reason").notNull(),
    /** The last tick error, redacted and truncated (never a secret). */
    lastError: text("last_error").notNull(),
    /** Consecutive failed tick attempts when it was dead-lettered. */
    attempts: integer("attempts").notNull(),
    deadLetteredAt: text("dead_lettered_at").notNull(),
    redriveCount: integer("redrive_count").notNull().default(0),
    redrivenAt: text("redriven_at"),
    redrivenBy: text("redriven_by"),
    updatedAt: text("updated_at").notNull(),
  },
  (t) => [index("ops_dead_letters_tenant_state_idx").on(t.tenantId, t.state, t.deadLetteredAt, t.buildId)],
);
