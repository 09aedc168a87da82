/**
 * Repository bindings (issue 21): which GitHub repositories of a tenant start scans, and how.
 * Tenant-scoped: other tenants' bindings are 404. Called by github.routes.ts (create, list,
 * delete) and by the ingest (lookup by name).
 */
import { getProfile } from "../program/policy.service";
import { type AuditEntry, actorOf } from "../audit/audit";
import type { Config, Db } from "../kernel/env";
import { AppError } from "../kernel/errors";
import { decodeCursor, page } from "../kernel/cursor";
import type { Principal } from "../kernel/principal";
import { isoTimestamp, newId } from "../lib/ids";
import * as repo from "./github.repo";
import type { ListBindingsQuery, RepositoryBindingRequest } from "./github.schemas";
import type { BindingSettings } from "./github.triggers";

export interface BindingDeps {
  db: Db;
  config: Config;
  principal: Principal;
  /** The request's id, for the audit log. */
  requestId?: string;
}

function bindingAudit(
  deps: Pick<BindingDeps, "principal" | "requestId">,
  action: "repository.bind" | "repository.unbind",
  bindingId: string,
  detail: Record<string, unknown>,
): AuditEntry {
  return { actor: actorOf(deps), action, target_type: "repository_binding", target_id: bindingId, detail };
}

function branchesOf(row: repo.BindingRow): string[] {
  try {
    const v = JSON.parse(row.pushBranches) as unknown;
    return Array.isArray(v) ? v.filter((b): b is string => typeof b === "string") : [];
  } catch {
    return [];
  }
}

export function bindingDto(row: repo.BindingRow) {
  return {
    binding_id: row.bindingId,
    repository: row.fullName,
    profile: row.profile,
    push_branches: branchesOf(row),
    pull_requests: row.pullRequests,
    policy_profile: row.policyProfile,
    supersede_on_push: row.supersedeOnPush,
    sarif_upload: row.sarifUpload,
    created_by: row.createdBy,
    created_at: row.createdAt,
    updated_at: row.updatedAt,
  };
}

/** The settings the trigger decision reads. */
export function settingsOf(row: repo.BindingRow): BindingSettings {
  return {
    repository: row.fullName,
    profile: row.profile,
    push_branches: branchesOf(row),
    pull_requests: row.pullRequests,
    policy_profile: row.policyProfile,
    supersede_on_push: row.supersedeOnPush,
  };
}

/** Binds a repository to the caller's tenant: 409 `repository_binding_conflict` when it already is. */
export async function createBinding(deps: BindingDeps, body: RepositoryBindingRequest) {
  // The profile must be the tenant's (404 policy_profile_not_found), so its builds are never refused.
  if (body.policy_profile !== null) await getProfile(deps, body.policy_profile);
  const [owner = "", name = ""] = body.repository.split("/");
  const now = isoTimestamp(Date.now());
  const row: repo.BindingRow = {
    bindingId: newId(),
    tenantId: deps.principal.tenantId,
    fullName: body.repository,
    owner,
    name,
    profile: body.profile,
    pushBranches: JSON.stringify([...new Set(body.push_branches)]),
    pullRequests: body.pull_requests,
    policyProfile: body.policy_profile,
    supersedeOnPush: body.supersede_on_push,
    sarifUpload: body.sarif_upload,
    createdBy: deps.principal.sub,
    createdAt: now,
    updatedAt: now,
  };
  const audit = bindingAudit(deps, "repository.bind", row.bindingId, { repository: row.fullName });
  if (!(await repo.insertBinding(deps.db, row, audit))) {
    throw new AppError("repository_binding_conflict", `${body.repository} is already bound in this tenant.`);
  }
  return bindingDto(row);
}

export async function listBindings(deps: Pick<BindingDeps, "db" | "principal">, q: ListBindingsQuery) {
  let after: { createdAt: string; bindingId: string } | undefined;
  if (q.cursor !== undefined) {
    const [createdAt, bindingId] = decodeCursor(q.cursor, 2) as [string, string];
    after = { createdAt, bindingId };
  }
  const rows = await repo.listBindings(deps.db, deps.principal.tenantId, q.limit + 1, after);
  return page(rows, q.limit, bindingDto, (r) => [r.createdAt, r.bindingId]);
}

export async function getBinding(deps: Pick<BindingDeps, "db" | "principal">, bindingId: string) {
  const row = await repo.getBinding(deps.db, deps.principal.tenantId, bindingId);
  if (!row) throw new AppError("repository_binding_not_found", "Repository binding not found.");
  return bindingDto(row);
}

export async function deleteBinding(deps: Pick<BindingDeps, "db" | "principal" | "requestId">, bindingId: string) {
  const audit = bindingAudit(deps, "repository.unbind", bindingId, {});
  if (!(await repo.deleteBinding(deps.db, deps.principal.tenantId, bindingId, audit))) {
    throw new AppError("repository_binding_not_found", "Repository binding not found.");
  }
}
