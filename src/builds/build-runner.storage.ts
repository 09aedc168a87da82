/**
 * A BuildRunner's own storage bookkeeping: its build id, the watchdog's wake, and the crash-safe
 * create (issue 18, docs/DECISIONS.md "Crash-safe create") around the D1 commit. Before the
 * commit the runner stores its build id with a pending mark and arms a resolve alarm (one
 * coalesced storage write); after it, it clears the mark. An alarm that finds the mark settles
 * the create: the build lives on when its D1 row exists, and otherwise never existed (the runner
 * forgets it).
 */
import type { Config, Db } from "../kernel/env";
import { configuredLogLevel, logLine } from "../kernel/log";
import { getBuildRow } from "./builds.repo";
import { isDeadLettered, markPoisoned } from "./dead-letters.guard";
import type { RunSettings } from "./run-machine";

/** Where the runner keeps its build id (also read by src/builds/dead-letters.guard.ts). */
const BUILD_ID_KEY = "build_id";
/** Set from the start of a create until its D1 commit is known to have landed. */
const PENDING_CREATE_KEY = "create_pending";
/** When the alarm of an interrupted create settles it (a live create clears the mark long before). */
const CREATE_RESOLVE_AFTER_MS = 5_000;

/** The build id the runner stores, if any. */
export function storedBuildId(storage: DurableObjectStorage): Promise<string | undefined> {
  return storage.get<string>(BUILD_ID_KEY);
}

/** Whether a create is still unsettled. */
export async function createPending(storage: DurableObjectStorage): Promise<boolean> {
  return (await storage.get<boolean>(PENDING_CREATE_KEY)) === true;
}

/**
 * Where a create stands: `done` (an earlier create finished: a no-op), `retry` (an earlier
 * attempt of this create stopped before clearing its mark) or `new`.
 */
export async function createStage(storage: DurableObjectStorage): Promise<"done" | "retry" | "new"> {
  const kept = await storage.get([BUILD_ID_KEY, PENDING_CREATE_KEY]);
  if (!kept.get(BUILD_ID_KEY)) return "new";
  return kept.get(PENDING_CREATE_KEY) === true ? "retry" : "done";
}

/** Stores the id with the pending mark and arms the resolve alarm, durably before D1 hears of the build. */
export async function markCreatePending(
  storage: DurableObjectStorage,
  buildId: string,
  now: number,
  settings: RunSettings,
): Promise<void> {
  // Issued together: one coalesced storage write.
  await Promise.all([
    storage.put({ [BUILD_ID_KEY]: buildId, [PENDING_CREATE_KEY]: true }),
    storage.setAlarm(now + CREATE_RESOLVE_AFTER_MS),
  ]);
  await markPoisoned(storage, settings);
}

/**
 * The D1 commit is known to have landed (or the build was found there): clear the mark and arm
 * the tick loop at `wakeAt` (null: the build is not active — it finished in its create). The
 * create answers without waiting for this write to be confirmed: if it is lost, the mark and the
 * resolve alarm remain, and the alarm settles the create as landed (`settleCreate`).
 */
export async function clearCreatePending(storage: DurableObjectStorage, wakeAt: number | null): Promise<void> {
  const unconfirmed = { allowUnconfirmed: true };
  await Promise.all([
    storage.delete(PENDING_CREATE_KEY, unconfirmed),
    wakeAt === null ? storage.deleteAlarm(unconfirmed) : storage.setAlarm(wakeAt, unconfirmed),
  ]);
}

/**
 * The build this runner is for: the id it stored, or else the name it was addressed by
 * (`idFromName(build_id)`, available inside the object as `ctx.id.name`) — a build its create
 * settled in one D1 commit stores nothing (build-runner.do.ts), and a runner that lost its
 * storage still knows whose build it runs.
 */
export async function runnerBuildId(ctx: DurableObjectState): Promise<string | undefined> {
  return (await storedBuildId(ctx.storage)) ?? ctx.id.name;
}

/**
 * Settles a create interrupted before it cleared its mark (crash, D1 error): the build exists
 * when its D1 commit landed — then it runs — and otherwise never existed: the runner forgets it.
 * Returns whether the build lives on.
 */
export async function settleCreate(storage: DurableObjectStorage, db: Db, config: Config): Promise<boolean> {
  if (!(await createPending(storage))) return true;
  const buildId = await storedBuildId(storage);
  if (buildId && (await getBuildRow(db, buildId))) {
    await storage.delete(PENDING_CREATE_KEY);
    logLine("warn", "create_recovered", { build_id: buildId }, configuredLogLevel(config));
    return true;
  }
  await storage.deleteAlarm();
  await storage.deleteAll();
  logLine("warn", "create_abandoned", { build_id: buildId ?? null }, configuredLogLevel(config));
  return false;
}

/**
 * Watchdog re-arm: makes sure the tick loop is scheduled; returns whether it had to. A runner
 * whose storage does not know the build (it was reset, or a create crashed in an older layout)
 * adopts `buildId` and restores itself from D1 on the tick that follows.
 */
export async function wakeRunner(storage: DurableObjectStorage, buildId: string | undefined): Promise<boolean> {
  if ((await storage.getAlarm()) !== null || (await isDeadLettered(storage))) return false;
  if (!(await storedBuildId(storage))) {
    if (!buildId) return false;
    await storage.put(BUILD_ID_KEY, buildId);
  }
  await storage.setAlarm(Date.now());
  return true;
}
