/**
 * How the route Hono matched authenticates, from its `describeRoute` (kernel/route-meta.ts): no
 * user JWT on `signature` routes (webhook ingest and its week11 alias, runner callbacks) and
 * `public` ones (the development token); a stream token on `bearer_or_stream_token` (the SSE
 * route). The fact lives on the route; the auth, unauthenticated-limit and idempotency
 * middleware read it here.
 */
import type { Context } from "hono";
import { type Auth, matchedRouteMeta, routeDoc } from "../kernel/route-meta";

/** The matched route's pattern (full path) and declared auth; undefined when no route matches. */
export function matchedRouteAuth(c: Context): { path: string; auth: Auth | undefined } | undefined {
  const route = matchedRouteMeta(c);
  // HEAD is answered by a GET route: it stays behind the JWT like any method the route does not name.
  if (route === undefined || route.method !== c.req.method) return undefined;
  return { path: route.path, auth: routeDoc(route.metas)?.auth };
}

/** Whether the matched route authenticates without a user JWT (signature or public). */
export function isPublicRoute(c: Context): boolean {
  const auth = matchedRouteAuth(c)?.auth;
  return auth === "signature" || auth === "public";
}
