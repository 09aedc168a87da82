/** Request and response schemas of GET /v1/audit. A schema and its type share one name. */
import { z } from "zod";
import { registerResponses } from "../kernel/api-schemas";
import { AUDIT_ACTIONS, AUDIT_OUTCOMES } from "./audit";

export const AuditListQuery = z.object({
  /** Only entries of this actor (`sub`). */
  actor: z.string().min(1).max(256).optional(),
  /** Only entries of this action. */
  action: z.enum(AUDIT_ACTIONS).optional(),
  /** Only entries on this target: `<target_type>` or `<target_type>:<target_id>`. */
  target: z
    .string()
    .min(1)
    .max(512)
    .regex(/^[a-z_]+(:.+)?$/, "`<target_type>` or `<target_type>:<target_id>`")
    .optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().min(1).max(1024).optional(),
});
export type AuditListQuery = z.infer<typeof AuditListQuery>;

export const AuditEntry = z
  .object({
    seq: z.number().int().describe("Position in the tenant's log; newer entries have larger values."),
    tenant_id: z.string(),
    actor: z.object({ sub: z.string(), roles: z.array(z.string()) }),
    action: z.enum(AUDIT_ACTIONS),
    target_type: z
      .string()
      .describe("e.g. `build`, `secret`, `planner_policy`, `policy_profile`, `release`, `dev_token`."),
    target_id: z.string(),
    request_id: z.string().describe("The `x-request-id` of the request that made the change."),
    outcome: z.enum(AUDIT_OUTCOMES).describe("Only committed changes are recorded."),
    detail: z
      .record(z.string(), z.unknown())
      .describe("Small non-secret facts (a reason, a key version, a decision); never a secret value."),
    created_at: z.string(),
  })
  .describe("One append-only audit log entry (issue 17 item 13).");
export type AuditEntry = z.infer<typeof AuditEntry>;

export const AuditPage = z.object({ items: z.array(AuditEntry), next_cursor: z.string().nullable() });

registerResponses({ AuditEntry, AuditPage });
