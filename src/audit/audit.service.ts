/**
 * The audit log's read side (GET /v1/audit): the caller's tenant only, tenant admins (`*`) only —
 * enforced here whatever ENFORCE_CAPABILITY_AUTH says — newest first with a keyset cursor on `seq`.
 */
import { and, desc, eq, lt, type SQL } from "drizzle-orm";
import type { Db } from "../kernel/env";
import { AppError } from "../kernel/errors";
import { decodeIntCursor, page } from "../kernel/cursor";
import { type Principal, isTenantAdmin } from "../kernel/principal";
import { auditLog } from "./audit.tables";
import type { AuditEntry, AuditListQuery } from "./audit.schemas";

type Row = typeof auditLog.$inferSelect;

function dto(r: Row): AuditEntry {
  return {
    seq: r.seq,
    tenant_id: r.tenantId,
    actor: { sub: r.actorSub, roles: r.actorRoles },
    action: r.action as AuditEntry["action"],
    target_type: r.targetType,
    target_id: r.targetId,
    request_id: r.requestId,
    outcome: r.outcome as AuditEntry["outcome"],
    detail: r.detail,
    created_at: r.createdAt,
  };
}

export async function listAudit(deps: { db: Db; principal: Principal }, q: AuditListQuery) {
  if (!isTenantAdmin(deps.principal)) {
    throw new AppError("insufficient_capability", "The audit log is readable by tenant administrators (`*`) only.");
  }
  const conds: SQL[] = [eq(auditLog.tenantId, deps.principal.tenantId)];
  if (q.actor !== undefined) conds.push(eq(auditLog.actorSub, q.actor));
  if (q.action !== undefined) conds.push(eq(auditLog.action, q.action));
  if (q.target !== undefined) {
    const i = q.target.indexOf(":");
    conds.push(eq(auditLog.targetType, i < 0 ? q.target : q.target.slice(0, i)));
    if (i >= 0) conds.push(eq(auditLog.targetId, q.target.slice(i + 1)));
  }
  if (q.cursor !== undefined) {
    const [seq] = decodeIntCursor(q.cursor, 1);
    conds.push(lt(auditLog.seq, seq!));
  }
  const rows = await deps.db
    .select()
    .from(auditLog)
    .where(and(...conds))
    .orderBy(desc(auditLog.seq))
    .limit(q.limit + 1);
  return page(rows, q.limit, dto, (r) => [String(r.seq)]);
}
