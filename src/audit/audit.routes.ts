/**
 * GET /v1/audit: the tenant's audit log (tenant admins only). Read-only by design — there is no
 * route that writes, changes or deletes an entry; every entry is written by the domain that made
 * the change, in the same D1 batch (src/audit/audit.ts).
 */
import { Hono } from "hono";
import type { AppEnv } from "../kernel/env";
import { validate } from "../kernel/validation";
import { AuditListQuery } from "./audit.schemas";
import { listAudit } from "./audit.service";

/** Mounted at /v1/audit. */
export const auditRoutes = new Hono<AppEnv>().get("/", validate("query", AuditListQuery), async (c) => c.json(await listAudit(c.var, c.req.valid("query"))));
