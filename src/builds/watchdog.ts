/**
 * Watchdog (cron trigger): finds running builds whose lease expired or was never renewed — a
 * lost alarm, a crashed runner — and re-arms their BuildRunner. The tick that follows takes a
 * new lease epoch and carries on from durable state, so a dead build is never left `running`.
 * A runner whose storage does not know its build adopts the id and restores itself from D1.
 */
import { drizzle } from "drizzle-orm/d1";
import { isoTimestamp } from "../lib/ids";
import { buildRunner } from "./build-runner.client";
import { listStaleRunningBuilds } from "./builds.repo";

export async function runWatchdog(
  env: Env,
  now = Date.now(),
  batch = 500,
): Promise<{ checked: number; rearmed: number }> {
  const db = drizzle(env.DB);
  const stale = await listStaleRunningBuilds(db, isoTimestamp(now), batch);
  let rearmed = 0;
  await Promise.all(
    stale.map(async (b) => {
      if (await buildRunner(env, b.buildId).wake(b.buildId)) rearmed++;
    }),
  );
  if (stale.length > 0)
    console.log(JSON.stringify({ level: "warn", msg: "watchdog_rearm", checked: stale.length, rearmed }));
  return { checked: stale.length, rearmed };
}
