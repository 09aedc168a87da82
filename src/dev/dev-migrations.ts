/**
 * D1 migrations applied by the worker itself on its first request — development and test only,
 * and only when the local launcher hands them over as the `DEV_MIGRATIONS` JSON binding
 * (scripts/lib/dev-server.mjs reads migrations/ as the test pool does). It saves `npm start` a
 * separate `wrangler d1 migrations apply` process before the server (the slowest part of a fresh
 * start). Same bookkeeping as wrangler's (`d1_migrations`), so `npm run db:migrate:local` and this
 * agree on what is applied. No deployed worker has the binding; the config refuses it elsewhere.
 */
import { z } from "zod";
import { loadConfig } from "../kernel/env";

const Migrations = z.array(z.object({ name: z.string().min(1).max(256), queries: z.array(z.string()) }));

let applied: Promise<void> | null = null;

/** The pending apply of this isolate, or null when there is nothing to do (always, when deployed). */
export function devMigrations(env: Env): Promise<void> | null {
  const raw = (env as unknown as { DEV_MIGRATIONS?: unknown }).DEV_MIGRATIONS;
  if (raw === undefined) return null;
  applied ??= apply(env, raw).catch((err: unknown) => {
    applied = null; // the next request tries again
    console.error(JSON.stringify({ level: "error", msg: "dev_migrations_failed", error: String(err) }));
    throw err;
  });
  return applied;
}

async function apply(env: Env, raw: unknown): Promise<void> {
  const environment = loadConfig(env).ENVIRONMENT;
  if (environment !== "development" && environment !== "test")
    throw new Error(`DEV_MIGRATIONS is refused when ENVIRONMENT=${environment}`);
  const migrations = Migrations.parse(raw);
  const db = env.DB;
  await db
    .prepare(
      "CREATE TABLE IF NOT EXISTS d1_migrations (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT UNIQUE, " +
        "applied_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP NOT NULL)",
    )
    .run();
  const done = new Set(
    (await db.prepare("SELECT name FROM d1_migrations").all<{ name: string }>()).results.map((r) => r.name),
  );
  for (const m of migrations) {
    if (done.has(m.name)) continue;
    await db.batch([
      ...m.queries.map((q) => db.prepare(q)),
      db.prepare("INSERT INTO d1_migrations (name) VALUES (?)").bind(m.name),
    ]);
  }
}
