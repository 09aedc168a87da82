/**
 * What a service needs from the request it serves: the bindings, the request-scoped D1 handle and
 * config, the authenticated principal and the request id (for the audit log). Routes build it with
 * `requestDeps(c)`; services take it as their first argument.
 */
import type { AppEnv, Config, Db } from "./env";
import type { Principal } from "./principal";

export interface Deps {
  env: Env;
  db: Db;
  config: Config;
  principal: Principal;
  /** The request's id, for the audit log (src/audit). */
  requestId?: string;
}

/** A handler context's service dependencies. */
export function requestDeps(c: { env: Env; var: AppEnv["Variables"] }): Deps {
  return { env: c.env, db: c.var.db, config: c.var.config, principal: c.var.principal, requestId: c.var.requestId };
}
