/**
 * Roles and capabilities derived from verified JWT claims (SPEC §3.2, DESIGN §7). Pure functions:
 * roles are trimmed and lower-cased, explicit capabilities are trimmed and case-sensitive,
 * the effective set is explicit ∪ role-derived. Unknown roles grant nothing. Authorization comes
 * only from claims the identity provider's server controls (top-level role/permission claims,
 * organisation claims, `app_metadata`); `user_metadata` — editable by the end user in
 * Supabase-style providers — is read only under the development-only opt-in
 * AUTH_TRUST_USER_METADATA (issue 17 item 1; docs/DECISIONS.md).
 */
import type { Capability } from "../kernel/principal";
import { isRecord } from "../lib/values";

/** The wildcard capability: grants every capability check. */
export const WILDCARD_CAPABILITY = "*";

/** Role → capabilities, exactly as the SPEC §3.2 table. */
export const ROLE_CAPABILITIES: Readonly<Record<string, readonly (Capability | typeof WILDCARD_CAPABILITY)[]>> = {
  viewer: [
    "program.validation.read",
    "program.policy.read",
    "program.secrets.read",
    "program.runtime.read",
    "program.release.read",
  ],
  operator: [
    "program.validation.read",
    "program.validation.write",
    "program.policy.read",
    "program.policy.write",
    "program.policy.check",
    "program.runtime.read",
    "program.runtime.write",
    "program.release.read",
    "program.release.write",
  ],
  security: [
    "program.validation.read",
    "program.policy.read",
    "program.policy.write",
    "program.policy.check",
    "program.secrets.read",
    "program.secrets.write",
    "program.webhook.ingest",
    "program.runtime.read",
  ],
  admin: [WILDCARD_CAPABILITY],
};

const ROLE_KEYS = ["role", "roles", "org_role", "org_roles"] as const;
const CAPABILITY_KEYS = ["capabilities", "permissions", "org_permissions"] as const;
/** Server-controlled metadata claims. */
const SERVER_METADATA_KEYS = ["app_metadata"] as const;
/** Plus the user-editable one, only under the development opt-in. */
const ALL_METADATA_KEYS = ["app_metadata", "user_metadata"] as const;
const METADATA_ROLE_KEYS = ["role", "roles"] as const;
const METADATA_CAPABILITY_KEYS = ["capabilities", "permissions"] as const;

/** A claim value as a list of trimmed, non-empty strings (string or string array; others ignored). */
function stringValues(value: unknown): string[] {
  const raw = typeof value === "string" ? [value] : Array.isArray(value) ? value : [];
  const out: string[] = [];
  for (const item of raw) {
    if (typeof item !== "string") continue;
    const trimmed = item.trim();
    if (trimmed !== "") out.push(trimmed);
  }
  return out;
}

function collect(
  claims: Record<string, unknown>,
  topKeys: readonly string[],
  metadataKeys: readonly string[],
  sources: readonly string[],
): string[] {
  const values: string[] = [];
  for (const key of topKeys) values.push(...stringValues(claims[key]));
  for (const meta of sources) {
    const nested = claims[meta];
    if (!isRecord(nested)) continue;
    for (const key of metadataKeys) values.push(...stringValues(nested[key]));
  }
  return values;
}

function sortedUnique(values: Iterable<string>): string[] {
  return [...new Set(values)].sort();
}

export interface AccessOptions {
  /** Also read `user_metadata` (development-only opt-in AUTH_TRUST_USER_METADATA). Default false. */
  trustUserMetadata?: boolean;
}

/**
 * Derives roles and effective capabilities from verified JWT claims (SPEC §3.2).
 * `roles` keeps recognised and unrecognised roles (lower-cased); `capabilities` is
 * explicit ∪ role-derived. Both are de-duplicated and sorted. `user_metadata` is ignored
 * unless `opts.trustUserMetadata`.
 */
export function deriveAccess(
  claims: Record<string, unknown>,
  opts: AccessOptions = {},
): { roles: string[]; capabilities: string[] } {
  const sources = opts.trustUserMetadata === true ? ALL_METADATA_KEYS : SERVER_METADATA_KEYS;
  const roles = sortedUnique(collect(claims, ROLE_KEYS, METADATA_ROLE_KEYS, sources).map((r) => r.toLowerCase()));
  const capabilities = new Set(collect(claims, CAPABILITY_KEYS, METADATA_CAPABILITY_KEYS, sources));
  for (const role of roles) {
    const granted = Object.hasOwn(ROLE_CAPABILITIES, role) ? ROLE_CAPABILITIES[role] : undefined;
    for (const cap of granted ?? []) capabilities.add(cap);
  }
  return { roles, capabilities: sortedUnique(capabilities) };
}
