/**
 * The plain-D1 multi-row inserts of a build's batch (src/db/insert-statements.ts) write exactly
 * what drizzle's builder writes: the same rows read back (JSON columns, booleans, NULLs, column
 * defaults), split into statements under D1's bind limit.
 */
import { env } from "cloudflare:workers";
import { asc, eq } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { describe, expect, it } from "vitest";
import { insertStatements } from "../../src/db/insert-statements";
import * as t from "../../src/db/schema";

const db = drizzle(env.DB);

const build = (id: string) => ({
  buildId: id,
  tenantId: "org-insert",
  createdBy: "u",
  repoUrl: "https://example.test/r",
  objective: "o",
  status: "running",
  scanMode: "autonomous",
  metadata: { nested: { a: [1, "two", null] }, quote: `it's "quoted"` },
  createdAt: "2026-01-01T00:00:00.000Z",
  updatedAt: "2026-01-01T00:00:00.000Z",
});

describe("insertStatements", () => {
  it("writes the rows drizzle's builder writes, defaults and JSON included", async () => {
    await env.DB.batch(insertStatements(env.DB, t.builds, [build("ins-fast")]));
    await db.insert(t.builds).values(build("ins-drizzle"));
    const rows = await db
      .select()
      .from(t.builds)
      .where(eq(t.builds.tenantId, "org-insert"))
      .orderBy(asc(t.builds.buildId));
    expect(rows).toHaveLength(2);
    const [drizzled, fast] = rows;
    expect({ ...fast, buildId: "x" }).toEqual({ ...drizzled, buildId: "x" });
    // The defaults came from the schema (task counters 0, lease epoch 0), not NULLs.
    expect(fast).toMatchObject({ taskTotal: 0, leaseEpoch: 0, findingsSummary: null, leaseOwner: null });
    expect(fast?.metadata).toEqual(build("x").metadata);
  });

  it("splits many rows under D1's bind limit and keeps booleans and every row", async () => {
    await db.insert(t.builds).values(build("ins-many"));
    const rows = Array.from({ length: 33 }, (_, i) => ({
      violationId: `v-${String(i).padStart(2, "0")}`,
      buildId: "ins-many",
      code: "c",
      message: `m ${i}`,
      source: "s",
      blocking: i % 2 === 0,
      eventSeq: i + 1,
      createdAt: "2026-01-01T00:00:00.000Z",
    }));
    const stmts = insertStatements(env.DB, t.policyViolations, rows);
    // 8 columns bind 8 parameters per row: 12 rows per statement.
    expect(stmts).toHaveLength(3);
    await env.DB.batch(stmts);
    const back = await db
      .select()
      .from(t.policyViolations)
      .where(eq(t.policyViolations.buildId, "ins-many"))
      .orderBy(asc(t.policyViolations.violationId));
    expect(back).toEqual(rows);
  });
});
