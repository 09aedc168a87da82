/**
 * D1 table of the audit log (issue 17 item 13): one append-only row per state-changing action —
 * who (actor sub, tenant, roles), what (action), on what (target), under which request, with
 * which outcome, when. Rows are written in the same D1 batch as the change they record; nothing
 * in the API updates or deletes them. `seq` gives the keyset order of GET /v1/audit.
 */
import { index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

export const auditLog = sqliteTable(
  "audit_log",
  {
    seq: integer("seq").primaryKey({ autoIncrement: true }),
    tenantId: text("tenant_id").notNull(),
    actorSub: text("actor_sub").notNull(),
    actorRoles: text("actor_roles", { mode: "json" }).$type<string[]>().notNull(),
    /** e.g. `build.abort`, `secret.rotate`, `policy.activate` (src/audit/audit.ts AUDIT_ACTIONS). */
    action: text("action").notNull(),
    /** e.g. `build`, `secret`, `planner_policy`, `release`, `dev_token`. */
    targetType: text("target_type").notNull(),
    targetId: text("target_id").notNull(),
    requestId: text("request_id").notNull(),
    /** `success` (only committed changes are recorded). */
    outcome: text("outcome").notNull(),
    /** Small, non-secret facts about the action (a reason, a key version, a decision); never a value. */
    detail: text("detail", { mode: "json" }).$type<Record<string, unknown>>().notNull(),
    createdAt: text("created_at").notNull(),
  },
  (t) => [
    index("audit_log_tenant_seq_idx").on(t.tenantId, t.seq),
    index("audit_log_tenant_action_seq_idx").on(t.tenantId, t.action, t.seq),
  ],
);
