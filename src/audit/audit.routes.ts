/**
 * GET /v1/audit: the tenant's audit log (tenant admins only). Read-only by design — there is no
 * route that writes, changes or deletes an entry; every entry is written by the domain that made
 * the change, in the same D1 batch (src/audit/audit.ts).
 */
import { Hono } from "hono";
import type { AppEnv } from "../kernel/env";
import { validate } from "../kernel/validation";
import { AuditListQuery, AuditPage } from "./audit.schemas";
import { listAudit } from "./audit.service";
import { describeRoute, ok } from "../kernel/route-meta";

/** Mounted at /v1/audit. */
export const auditRoutes = new Hono<AppEnv>().get(
  "/",
  describeRoute({
    operationId: "listAuditLog",
    tag: "ops",
    summary: "The tenant's audit log (tenant admins only)",
    description:
      "Append-only record of every state-changing action (build control actions, secrets create/rotate/delete, " +
      "planner policy writes and activations, policy profile writes, release checklist/drill writes and go/no-go " +
      "decisions, dead-letter re-drives, development token mints): actor, action, target, request id, outcome, " +
      "time. Each entry is written in the same D1 batch as the change it records. Newest first; filters `actor` " +
      "(sub), `action`, `target` (`<target_type>` or `<target_type>:<target_id>`). Requires a tenant " +
      "administrator (`*`), whatever ENFORCE_CAPABILITY_AUTH says. No route writes, changes or deletes an entry.",
    responses: ok(AuditPage),
    errors: ["insufficient_capability"],
  }),
  validate("query", AuditListQuery),
  async (c) => c.json(await listAudit(c.var, c.req.valid("query"))),
);
