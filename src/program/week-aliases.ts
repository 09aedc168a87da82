/**
 * The week-prefixed compatibility aliases of SPEC §6.10 as data, and `mountWeekAliases`, which
 * registers each alias on a route group with exactly the canonical route's handler chain
 * (capability check, validation, handler) behind `deprecatedAlias` of lib/deprecation.ts
 * (Deprecation, Sunset and a Link to the canonical path). The program plane mounts its 13; the 5
 * aliases of the security plane's routes (secrets, webhook ingest, idempotent checkpoints) are
 * mounted by src/security/security.routes.ts; they are listed in `SECURITY_PLANE_WEEK_ALIASES`
 * so the whole SPEC table lives in one place (and `mountWeekAliases` works for any route group).
 */
import type { Hono } from "hono";
import type { AppEnv } from "../kernel/env";
import { deprecatedAlias } from "../lib/deprecation";

export interface WeekAlias {
  method: "GET" | "POST";
  /** Full alias path, Hono syntax. */
  alias: string;
  /** Full canonical path, Hono syntax. */
  canonical: string;
}

export const PROGRAM_PREFIX = "/v1/program";

/** SPEC §6.10 aliases whose canonical routes belong to the program plane (src/program). */
export const PROGRAM_PLANE_WEEK_ALIASES: readonly WeekAlias[] = [
  { method: "POST", alias: "/v1/program/week7/campaigns", canonical: "/v1/program/campaigns" },
  { method: "GET", alias: "/v1/program/week7/campaigns/:campaign_id", canonical: "/v1/program/campaigns/:campaign_id" },
  {
    method: "POST",
    alias: "/v1/program/week8/campaigns/:campaign_id/runs",
    canonical: "/v1/program/campaigns/:campaign_id/runs",
  },
  {
    method: "GET",
    alias: "/v1/program/week8/campaigns/:campaign_id/report",
    canonical: "/v1/program/campaigns/:campaign_id/report",
  },
  { method: "POST", alias: "/v1/program/week9/policy-profiles", canonical: "/v1/program/policy-profiles" },
  { method: "POST", alias: "/v1/program/week9/policy-check", canonical: "/v1/program/policy-check" },
  { method: "GET", alias: "/v1/program/week13/slo-summary", canonical: "/v1/program/slo-summary" },
  { method: "POST", alias: "/v1/program/week14/checklist", canonical: "/v1/program/checklist" },
  { method: "GET", alias: "/v1/program/week14/checklist/:release_id", canonical: "/v1/program/checklist/:release_id" },
  { method: "POST", alias: "/v1/program/week15/rollback-drills", canonical: "/v1/program/rollback-drills" },
  {
    method: "GET",
    alias: "/v1/program/week15/rollback-drills/:release_id",
    canonical: "/v1/program/rollback-drills/:release_id",
  },
  { method: "POST", alias: "/v1/program/week16/go-live-decision", canonical: "/v1/program/go-live-decision" },
  {
    method: "GET",
    alias: "/v1/program/week16/go-live-decision/:release_id",
    canonical: "/v1/program/go-live-decision/:release_id",
  },
];

/** SPEC §6.10 aliases of security-plane routes; mounted by src/security/security.routes.ts, not here. */
export const SECURITY_PLANE_WEEK_ALIASES: readonly WeekAlias[] = [
  { method: "POST", alias: "/v1/program/week10/secrets", canonical: "/v1/program/secrets" },
  { method: "GET", alias: "/v1/program/week10/secrets", canonical: "/v1/program/secrets" },
  { method: "GET", alias: "/v1/program/week10/secrets/:secret_id", canonical: "/v1/program/secrets/:secret_id" },
  { method: "POST", alias: "/v1/program/week11/webhook/ingest", canonical: "/v1/program/webhook/ingest" },
  {
    method: "POST",
    alias: "/v1/program/week12/idempotent-checkpoints",
    canonical: "/v1/program/idempotent-checkpoints",
  },
];

/** All 18 aliases of SPEC §6.10. */
export const ALL_WEEK_ALIASES: readonly WeekAlias[] = [...PROGRAM_PLANE_WEEK_ALIASES, ...SECURITY_PLANE_WEEK_ALIASES];

/**
 * Registers every alias on `router` (a group mounted at `prefix`) with the handler chain of its
 * canonical route, which must already be registered on the same router. Call once, after the
 * canonical routes and before the group is mounted with `app.route`.
 */
export function mountWeekAliases<R extends Hono<AppEnv>>(
  router: R,
  aliases: readonly WeekAlias[],
  prefix = PROGRAM_PREFIX,
): R {
  const local = (path: string) => {
    if (!path.startsWith(`${prefix}/`)) throw new Error(`week alias path ${path} is not under ${prefix}`);
    return path.slice(prefix.length);
  };
  const snapshot = [...router.routes];
  for (const a of aliases) {
    const canonical = local(a.canonical);
    const chain = snapshot.filter((r) => r.method === a.method && r.path === canonical).map((r) => r.handler);
    if (chain.length === 0) throw new Error(`week alias ${a.method} ${a.alias}: no canonical route ${a.canonical}`);
    router.on(a.method, local(a.alias), deprecatedAlias, ...chain);
  }
  return router;
}
