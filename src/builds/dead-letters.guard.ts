/**
 * Dead letters, the BuildRunner side: wraps the alarm tick. A tick that throws is counted in the
 * DO's storage and rethrown (the runtime retries the alarm with backoff, and the watchdog cron
 * re-arms a build whose retries ran out); after RUNTIME_DEAD_LETTER_AFTER_FAILURES consecutive
 * failures the build is dead-lettered: a D1 record (`ops_dead_letters`, with the redacted last
 * error), no more ticks and no re-arm until an operator re-drives it (`redriveRunner`). A tick
 * that succeeds resets the count. Also records the tick metrics (duration, failures).
 * Called only by build-runner.do.ts; it knows the DO's storage, never its run state.
 */
import { type AuditActor, auditD1Statement } from "../audit/audit";
import type { Config } from "../kernel/env";
import { isoTimestamp } from "../lib/ids";
import { configuredLogLevel, logLine, redactString } from "../kernel/log";
import { METRIC_FAMILIES, counter, observation } from "../ops/metrics.catalog";
import { buildCounterStatements } from "../ops/metrics.store";

/** The DO storage key of the alarm health record. */
const HEALTH_KEY = "ops:alarm_health";
/** Where the BuildRunner keeps its build id (build-runner.do.ts `create`). */
const BUILD_ID_KEY = "build_id";
const MAX_ERROR_CHARS = 500;

export interface AlarmHealth {
  /** Consecutive failed ticks. */
  failures: number;
  /** Dead-lettered: no tick, no re-arm until re-driven. */
  dead: boolean;
  /** Re-drives so far. */
  redrives: number;
  last_error?: string;
}

export interface GuardIo {
  storage: DurableObjectStorage;
  /** The D1 binding (plain statements: the guard's writes are not part of a build batch). */
  d1: D1Database;
  config: Config;
  /** Keeps work alive after the alarm returns (ctx.waitUntil). */
  background(work: Promise<unknown>): void;
}

const HEALTHY: AlarmHealth = { failures: 0, dead: false, redrives: 0 };

async function health(storage: DurableObjectStorage): Promise<AlarmHealth> {
  return { ...HEALTHY, ...((await storage.get<AlarmHealth>(HEALTH_KEY)) ?? {}) };
}

/** Whether the build of this DO is dead-lettered (it must not tick until re-driven). */
export async function isDeadLettered(storage: DurableObjectStorage): Promise<boolean> {
  return (await health(storage)).dead;
}

function errorText(err: unknown): string {
  const text = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return redactString(text).slice(0, MAX_ERROR_CHARS);
}

// Development/test seam: a build created with metadata `test_poison_ticks: true` throws in every
// alarm tick until it has been re-driven once — a poisoned build for the dead-letter tests and
// for trying the runbook locally. Honoured only when ENVIRONMENT is development or test. The
// runner marks it in its storage at create (`markPoisoned`), so no tick has to read D1 for it.
const POISON_KEY = "ops:test_poison_ticks";

/** Called by the BuildRunner's create with the build's run settings. */
export async function markPoisoned(
  storage: DurableObjectStorage,
  settings: { test_poison_ticks: boolean },
): Promise<void> {
  if (settings.test_poison_ticks) await storage.put(POISON_KEY, true);
}

async function poisoned(io: GuardIo, h: AlarmHealth): Promise<boolean> {
  if (io.config.ENVIRONMENT !== "development" && io.config.ENVIRONMENT !== "test") return false;
  if (h.redrives > 0) return false;
  return (await io.storage.get<boolean>(POISON_KEY)) === true;
}

function background(io: GuardIo, what: string, stmts: D1PreparedStatement[]): void {
  if (stmts.length === 0) return;
  io.background(
    io.d1.batch(stmts).catch((err: unknown) => logLine("warn", "metrics_write_failed", { what, error: err })),
  );
}

/**
 * Runs one alarm tick under the guard. Throws (so the runtime retries) while the failures are
 * below the limit; returns normally — and leaves no alarm set — once the build is dead-lettered.
 */
export async function guardedAlarm(io: GuardIo, tick: () => Promise<void>): Promise<void> {
  const before = await health(io.storage);
  if (before.dead) return;
  const buildId = await io.storage.get<string>(BUILD_ID_KEY);
  const started = Date.now();
  try {
    if (buildId !== undefined && (await poisoned(io, before))) throw new Error("fault_injected:poison_tick");
    await tick();
  } catch (err) {
    const now = await health(io.storage);
    const failures = now.failures + 1;
    const error = errorText(err);
    if (buildId !== undefined)
      background(io, "tick_failures", buildCounterStatements(io.d1, buildId, [counter("", "tickFailures")]));
    if (buildId !== undefined && failures >= io.config.RUNTIME_DEAD_LETTER_AFTER_FAILURES) {
      if (await deadLetter(io, buildId, now, failures, error)) return;
    }
    await io.storage.put(HEALTH_KEY, { ...now, failures, last_error: error });
    logLine("warn", "tick_failed", { build_id: buildId ?? null, consecutive_failures: failures, error });
    throw err;
  }
  const after = await health(io.storage);
  if (after.failures > 0) await io.storage.put(HEALTH_KEY, { ...after, failures: 0, last_error: undefined });
  if (buildId !== undefined) {
    background(
      io,
      "tick_duration",
      buildCounterStatements(io.d1, buildId, observation("", "tickDuration", (Date.now() - started) / 1000)),
    );
  }
}

/** Records the dead letter in D1, then stops the tick loop. False when D1 could not be written. */
async function deadLetter(
  io: GuardIo,
  buildId: string,
  h: AlarmHealth,
  failures: number,
  error: string,
): Promise<boolean> {
  const ts = isoTimestamp(Date.now());
  const reason = "tick_failures_exhausted";
  try {
    await io.d1.batch([
      io.d1
        .prepare(
          `INSERT INTO ops_dead_letters
             (build_id, tenant_id, created_by, state, reason, last_error, attempts, dead_lettered_at,
              redrive_count, updated_at)
           SELECT build_id, tenant_id, created_by, 'open', ?1, ?2, ?3, ?4, 0, ?4 FROM builds WHERE build_id = ?5
           ON CONFLICT (build_id) DO UPDATE SET state = 'open', reason = excluded.reason,
             last_error = excluded.last_error, attempts = excluded.attempts,
             dead_lettered_at = excluded.dead_lettered_at, updated_at = excluded.updated_at`,
        )
        .bind(reason, error, failures, ts, buildId),
      ...buildCounterStatements(io.d1, buildId, [counter("", "deadLettered")], ts),
    ]);
  } catch (err) {
    logLine("error", "dead_letter_write_failed", { build_id: buildId, consecutive_failures: failures, error: err });
    return false;
  }
  await io.storage.put(HEALTH_KEY, { ...h, failures, dead: true, last_error: error });
  await io.storage.deleteAlarm();
  logLine("error", "build_dead_lettered", { build_id: buildId, reason, consecutive_failures: failures, error });
  return true;
}

export interface RedriveOutcome {
  /** Whether the runner was dead-lettered when re-driven (false: it only re-armed). */
  was_dead_lettered: boolean;
  redrives: number;
}

/**
 * Re-drives the build: clears the failure count and the dead flag, re-arms the tick now, and
 * marks the D1 record `redriven` by `by`. Idempotent: re-driving a live build only re-arms it.
 */
export async function redriveRunner(
  io: Omit<GuardIo, "background">,
  by: string,
  actor?: AuditActor,
): Promise<RedriveOutcome | null> {
  const buildId = await io.storage.get<string>(BUILD_ID_KEY);
  if (buildId === undefined) return null;
  const h = await health(io.storage);
  const redrives = h.redrives + 1;
  await io.storage.put(HEALTH_KEY, { failures: 0, dead: false, redrives } satisfies AlarmHealth);
  await io.storage.setAlarm(Date.now());
  const ts = isoTimestamp(Date.now());
  await io.d1.batch([
    // The redrive counter moves only for a record that was open (a retried re-drive counts once).
    io.d1
      .prepare(
        `INSERT INTO ops_counters (tenant_id, name, labels, value, updated_at)
         SELECT tenant_id, ?1, '', 1, ?2 FROM ops_dead_letters WHERE build_id = ?3 AND state = 'open'
         ON CONFLICT (tenant_id, name, labels) DO UPDATE SET value = value + 1, updated_at = excluded.updated_at`,
      )
      .bind(METRIC_FAMILIES.deadLetterRedrives.name, ts, buildId),
    io.d1
      .prepare(
        `UPDATE ops_dead_letters SET state = 'redriven', redriven_at = ?1, redriven_by = ?2,
           redrive_count = redrive_count + 1, updated_at = ?1
         WHERE build_id = ?3 AND state = 'open'`,
      )
      .bind(ts, by, buildId),
    // The operator's re-drive, in the audit log (src/audit) with the record it changes.
    ...(actor === undefined
      ? []
      : [
          auditD1Statement(io.d1, {
            actor,
            action: "dead_letter.redrive",
            target_type: "build",
            target_id: buildId,
            detail: { was_dead_lettered: h.dead },
            at: ts,
          }),
        ]),
  ]);
  logLine(
    "info",
    "build_redriven",
    { build_id: buildId, was_dead_lettered: h.dead, redrives, by },
    configuredLogLevel(io.config),
  );
  return { was_dead_lettered: h.dead, redrives };
}
