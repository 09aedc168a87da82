/**
 * src/dev/dev-migrations.ts: the migrations `npm start` hands the worker (DEV_MIGRATIONS) are
 * applied once, with wrangler's bookkeeping, and never outside development/test.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { devMigrations } from "../../src/dev/dev-migrations";

const MIGRATIONS = [
  {
    name: "9000_probe.sql",
    queries: [
      "CREATE TABLE dev_migration_probe (id INTEGER PRIMARY KEY)",
      "INSERT INTO dev_migration_probe (id) VALUES (1)",
    ],
  },
];
const withVars = (vars: Record<string, unknown>) => ({ ...env, ...vars }) as unknown as Env;

describe("DEV_MIGRATIONS", () => {
  it("does nothing without the binding (every deployed worker)", () => {
    expect(devMigrations(env)).toBeNull();
  });

  it("is refused in production, and applies nothing", async () => {
    await expect(devMigrations(withVars({ ENVIRONMENT: "production", DEV_MIGRATIONS: MIGRATIONS }))).rejects.toThrow(
      /refused when ENVIRONMENT=production/,
    );
    const t = await env.DB.prepare("SELECT name FROM sqlite_master WHERE name = 'dev_migration_probe'").first();
    expect(t).toBeNull();
  });

  it("applies the new migrations once, recorded in d1_migrations as wrangler records them", async () => {
    const e = withVars({ ENVIRONMENT: "development", DEV_MIGRATIONS: MIGRATIONS });
    await devMigrations(e);
    await devMigrations(e); // memoised: not applied twice (the INSERT would fail on the primary key)
    expect((await env.DB.prepare("SELECT count(*) AS n FROM dev_migration_probe").first<{ n: number }>())?.n).toBe(1);
    const row = await env.DB.prepare("SELECT name FROM d1_migrations WHERE name = ?").bind("9000_probe.sql").first();
    expect(row).toEqual({ name: "9000_probe.sql" });
  });
});
