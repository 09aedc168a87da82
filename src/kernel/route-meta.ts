/**
 * What a route's handler chain says about itself: `describeRoute({...})` (first in the chain)
 * carries the route's documentation and how it authenticates, `validate(...)`
 * (src/kernel/validation.ts) records the zod schema it enforces per target, and
 * `requireCapability` (src/security/route-capability.ts) the capability it enforces. The OpenAPI
 * document (src/http/openapi.document.ts) walks the real app (`app.routes`) and reads this
 * registry; the auth, rate-limit and idempotency middleware read the *matched* route's entries
 * (`matchedRouteMeta`). Imports nothing at run time but hono/route.
 */
import type { Context, MiddlewareHandler } from "hono";
import { matchedRoutes } from "hono/route";
import type { z } from "zod";
import type { ErrorCode } from "./errors";
import type { Capability } from "./principal";

export type Auth =
  | "bearer" // Authorization: Bearer <user JWT>
  | "bearer_or_stream_token" // the SSE route also takes ?stream_token=
  | "signature" // signed delivery (webhook ingest, runner callbacks): no JWT
  | "public"; // no authentication

export interface ResponseDoc {
  description: string;
  /** application/json body. */
  schema?: z.ZodType;
  /** A non-JSON body: its media type (schema is a string). */
  mediaType?:
    | "text/plain; version=0.0.4; charset=utf-8"
    | "text/html; charset=utf-8"
    | "text/event-stream"
    | "application/sarif+json";
  /** Sets a `Location` header (created resources). */
  location?: boolean;
}

/** OpenAPI tags, in document order, with their descriptions. */
export const TAGS = {
  builds: "Build runs: planning, creation, reads, the event log and stream (SPEC §5.1).",
  control: "Control actions and sub-resources of a build (SPEC §4.10).",
  runtime: "A build's runtime session, worker health, metrics, logs and nudges (SPEC §5.2).",
  findings: "Runner findings and the build report.",
  runner: "The runner protocol: signed reports from runner services.",
  validation: "Stateless validation helpers and prompt contracts (SPEC §5.3).",
  campaigns: "Validation campaigns, runs and reports (SPEC §6.1).",
  policy: "Policy profiles and policy-check (SPEC §6.2).",
  release: "SLO summary, release checklist, rollback drills and go-live (SPEC §6.6–6.8).",
  secrets: "Envelope-encrypted secrets (SPEC §6.3).",
  webhooks: "Signed webhook ingest and stored deliveries (SPEC §6.4).",
  idempotency: "Idempotent checkpoints (SPEC §6.5).",
  github: "GitHub repository bindings: which repositories' pushes and pull requests start scans (issue 21).",
  planner: "Versioned planner policies (docs/planner-policy.md).",
  ops: "Operability: health, metrics, dead letters, this document (docs/runbooks).",
  development: "Local development only (404 unless ENVIRONMENT=development on a loopback host).",
} as const;
export type Tag = keyof typeof TAGS;

/** What a route says about itself beyond its validators and capabilities. */
export interface RouteDoc {
  operationId: string;
  summary: string;
  description?: string;
  tag: Tag;
  /**
   * Defaults from the path: `bearer` under /v1, else `public`. Not `bearer*`: the auth middleware lets the route
   * through without a JWT.
   */
  auth?: Auth;
  responses: Record<number, ResponseDoc>;
  /**
   * Domain error codes (the generic ones — auth, validation, rate limit, idempotency — are added by the generator).
   */
  errors?: readonly ErrorCode[];
  /** `components.schemas` name of the request body when several routes share its schema. */
  requestName?: string;
}

/** 200 with a JSON body. */
export const ok = (schema: z.ZodType, description = "OK"): Record<number, ResponseDoc> => ({
  200: { description, schema },
});
/** 201 with a JSON body (and a Location header unless `location` is false). */
export const created = (schema: z.ZodType, description = "Created", location = true): Record<number, ResponseDoc> => ({
  201: { description, schema, location },
});
/** 200 replaced / 201 created, both with a Location header. */
export const upserted = (schema: z.ZodType): Record<number, ResponseDoc> => ({
  200: { description: "Replaced", schema, location: true },
  201: { description: "Created", schema, location: true },
});

/** Request parts a route validates (the targets of `validate`). */
export type RequestTarget = "json" | "query" | "param" | "header" | "form" | "cookie";

export interface ValidationMeta {
  kind: "validation";
  target: RequestTarget;
  schema: z.ZodType;
}

export interface CapabilityMeta {
  kind: "capability";
  capability: Capability;
}

export interface DocMeta {
  kind: "doc";
  doc: RouteDoc;
}

export type MiddlewareMeta = ValidationMeta | CapabilityMeta | DocMeta;

// Keyed by the middleware function itself: Hono keeps handler identity in `app.routes`, also
// through `app.route(...)` and the week aliases (which reuse the canonical handler chain).
const registry = new WeakMap<object, MiddlewareMeta>();

/** Attaches documentation metadata to a middleware and returns it unchanged. */
export function tagMiddleware<H extends object>(handler: H, meta: MiddlewareMeta): H {
  registry.set(handler, meta);
  return handler;
}

/** The metadata of a handler in a route chain, if it has any. */
export function middlewareMeta(handler: unknown): MiddlewareMeta | undefined {
  return typeof handler === "function" ? registry.get(handler) : undefined;
}

/**
 * The route's documentation, as the first handler of its chain (a pass-through middleware): the
 * OpenAPI generator refuses a served route without one.
 */
export function describeRoute(doc: RouteDoc): MiddlewareHandler {
  return tagMiddleware<MiddlewareHandler>(
    async (_c, next) => {
      await next();
    },
    { kind: "doc", doc },
  );
}

/**
 * The route that will answer this request — the first matched route registered for a method, not
 * an `app.use` middleware — with the metadata of its whole handler chain; undefined when no route
 * matches. Callable from app-level middleware, before the route runs.
 */
export function matchedRouteMeta(c: Context): { method: string; path: string; metas: MiddlewareMeta[] } | undefined {
  const routes = matchedRoutes(c).filter((r) => r.method !== "ALL");
  const first = routes[0];
  if (first === undefined) return undefined;
  const metas: MiddlewareMeta[] = [];
  for (const r of routes) {
    if (r.path !== first.path || r.method !== first.method) continue;
    const meta = middlewareMeta(r.handler);
    if (meta !== undefined) metas.push(meta);
  }
  return { method: first.method, path: first.path, metas };
}

/** The `describeRoute` documentation in a list of metadata, if any. */
export function routeDoc(metas: readonly MiddlewareMeta[]): RouteDoc | undefined {
  for (const m of metas) if (m.kind === "doc") return m.doc;
  return undefined;
}
