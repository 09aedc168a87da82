/**
 * Campaign schedules, pure: a 5-field cron expression read in an IANA time zone (croner, no
 * timers: only its date arithmetic is used) and the due-time rule of the cron handler. Called by
 * schedules.service.ts; unit-tested table-driven in test/program/schedule.test.ts.
 */
import { Cron } from "croner";

/** A campaign's schedule as stored (campaigns.schedule). */
export interface StoredSchedule {
  cron: string;
  timezone: string;
  enabled: boolean;
  /** Most builds of one scheduled execution unfinished at once. */
  max_concurrent_builds: number;
  /** Build request parts for the scheduled builds (as POST …/execute takes them). */
  execute: {
    objective?: string | undefined;
    metadata: Record<string, unknown>;
    repo_metadata: Record<string, Record<string, unknown>>;
    run_metadata: Record<string, Record<string, unknown>>;
    languages: Record<string, string>;
  };
  updated_by: string;
  updated_at: string;
}

export type CronCheck = { ok: true } | { ok: false; path: "cron" | "timezone"; message: string };

/** True when `tz` is an IANA time zone this runtime knows. */
export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

function cronOf(expr: string, tz: string): Cron {
  // `paused` and no callback: croner never arms a timer; only nextRun() is used.
  return new Cron(expr, { timezone: tz, mode: "5-part", paused: true });
}

/** Checks a cron expression (exactly 5 fields: minute hour day-of-month month day-of-week) and zone. */
export function checkCron(expr: string, tz: string): CronCheck {
  if (!isTimeZone(tz)) return { ok: false, path: "timezone", message: `unknown IANA time zone: ${tz}` };
  try {
    const next = cronOf(expr, tz).nextRun(new Date(0));
    if (!next) return { ok: false, path: "cron", message: "the expression never fires" };
    return { ok: true };
  } catch (err) {
    return { ok: false, path: "cron", message: err instanceof Error ? err.message : String(err) };
  }
}

/** The first due time strictly after `afterMs` (epoch ms), or null when the expression never fires again. */
export function nextDueAfter(expr: string, tz: string, afterMs: number): number | null {
  const next = cronOf(expr, tz).nextRun(new Date(afterMs));
  return next ? next.getTime() : null;
}

/**
 * What the cron handler does with a campaign at `nowMs`: nothing before its due time; at or
 * after it, start the execution of that due time and move to the first due time after `nowMs`.
 * Due times missed while no handler ran (an outage) collapse into the one being started: a
 * campaign never fires a backlog of executions at once.
 */
export function dueDecision(
  nextDueMs: number | null,
  nowMs: number,
  expr: string,
  tz: string,
): { due: false } | { due: true; dueAt: number; next: number | null } {
  if (nextDueMs === null || nextDueMs > nowMs) return { due: false };
  return { due: true, dueAt: nextDueMs, next: nextDueAfter(expr, tz, nowMs) };
}
