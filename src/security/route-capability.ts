/**
 * `requireCapability` of the auth middleware (SPEC §3.3), recorded in the route registry
 * (route-meta.ts) so the capability a route documents in the OpenAPI document is the one it
 * enforces. Route groups import it from here instead of from the auth middleware.
 */
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../kernel/env";
import { requireCapability as enforceCapability } from "./auth.middleware";
import type { Capability } from "../kernel/principal";
import { tagMiddleware } from "../kernel/route-meta";

export function requireCapability(cap: Capability): MiddlewareHandler<AppEnv> {
  return tagMiddleware(enforceCapability(cap), { kind: "capability", capability: cap });
}
