/**
 * Admission control of `POST /v1/builds` (issue 22; the gate is admission.ts): after
 * authentication and rate limiting, before the body is read and the Idempotency-Key claimed, so a
 * refused create costs next to nothing and holds no key. Refused: 429 `overloaded` with
 * Retry-After (seconds) and `retry-after-ms`, the precise delay (as OpenAI's and Azure's APIs send
 * it), which the project's clients honour. Per isolate; ADMISSION_MAX_IN_FLIGHT = 0 turns it off.
 * One warning line when an isolate starts refusing and one when the episode is over, never one
 * per request.
 */
import { createMiddleware } from "hono/factory";
import type { AppEnv, Config } from "../kernel/env";
import { AppError, problemResponse } from "../kernel/errors";
import { configuredLogLevel, logLine } from "../kernel/log";
import { AdmissionGate } from "./admission";

const GATED = /^\/v1\/builds\/?$/;

/** This isolate's gates, one per limits (a deployment has one; tests set their own). */
const gates = new Map<number, AdmissionGate>();

export function admissionGate(cfg: Pick<Config, "ADMISSION_MAX_IN_FLIGHT">): AdmissionGate {
  let gate = gates.get(cfg.ADMISSION_MAX_IN_FLIGHT);
  if (!gate) {
    gate = new AdmissionGate({ maxInFlight: cfg.ADMISSION_MAX_IN_FLIGHT });
    gates.set(cfg.ADMISSION_MAX_IN_FLIGHT, gate);
  }
  return gate;
}

export const admission = createMiddleware<AppEnv>(async (c, next) => {
  const cfg = c.var.config;
  if (c.req.method !== "POST" || cfg.ADMISSION_MAX_IN_FLIGHT === 0 || !GATED.test(c.req.path)) return next();
  const g = admissionGate(cfg);
  const level = configuredLogLevel(cfg);
  const entered = g.enter();
  if (!entered.admitted) {
    if (g.refused === 1)
      logLine(
        "warn",
        "admission_refusing",
        { route: "POST /v1/builds", running: g.running, limit: g.limit, per_admit_ms: g.perAdmitMs },
        level,
      );
    return problemResponse(
      new AppError("overloaded", "Too many builds are being created at once; retry after the Retry-After delay."),
      c.var.requestId,
      { "retry-after": String(entered.retryAfterSeconds), "retry-after-ms": String(entered.retryAfterMs) },
    );
  }
  try {
    await next();
  } finally {
    entered.release();
    const refused = g.takeEpisode();
    if (refused > 0) logLine("warn", "admission_recovered", { route: "POST /v1/builds", refused }, level);
  }
});
