/** The authenticated caller, derived from a verified JWT (SPEC §3). */

export const CAPABILITIES = [
  "program.validation.read",
  "program.validation.write",
  "program.policy.read",
  "program.policy.write",
  "program.policy.check",
  "program.secrets.read",
  "program.secrets.write",
  "program.webhook.ingest",
  "program.runtime.read",
  "program.runtime.write",
  "program.release.read",
  "program.release.write",
] as const;
export type Capability = (typeof CAPABILITIES)[number];

export interface Principal {
  /** JWT `sub`: the user id. */
  sub: string;
  /** Tenant: the configured tenant claim (e.g. `org_id`), else `sub`. */
  tenantId: string;
  /** Recognised and unrecognised roles, trimmed and lower-cased, sorted. */
  roles: string[];
  /** Effective capabilities (explicit ∪ role-derived), sorted; may contain `*`. */
  capabilities: string[];
}

export function hasCapability(principal: Principal, cap: Capability): boolean {
  return principal.capabilities.includes("*") || principal.capabilities.includes(cap);
}

/** Admin (`*`) sees every build of its tenant; others only their own. */
export function isTenantAdmin(principal: Principal): boolean {
  return principal.capabilities.includes("*");
}
