/**
 * A fingerprint of every row of every D1 table, for "no partial writes" checks: one batch of one
 * statement per table (built once from sqlite_master and table_info) returns each table's row
 * count and the concatenation of all its quoted values, so any insert, update or delete shows.
 */
let statements: string[] | null = null;

/**
 * Observability, not domain state: the request observer counts rejected webhooks and 429s in
 * D1 (src/ops), which is exactly what a rejected request should leave behind.
 */
const NOT_DOMAIN_STATE = new Set(["ops_counters"]);

async function buildStatements(db: D1Database): Promise<string[]> {
  const tables = await db
    .prepare(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' AND name NOT LIKE 'd1_%' ORDER BY name",
    )
    .all<{ name: string }>();
  const parts: string[] = [];
  for (const { name } of tables.results) {
    if (NOT_DOMAIN_STATE.has(name)) continue;
    const cols = await db.prepare(`PRAGMA table_info("${name}")`).all<{ name: string }>();
    const row = cols.results.map((c) => `quote("${c.name}")`).join(" || ',' || ");
    parts.push(`SELECT '${name}' AS t, count(*) AS n, coalesce(group_concat(${row}, '|'), '') AS h FROM "${name}"`);
  }
  return parts;
}

export async function d1Fingerprint(db: D1Database): Promise<string> {
  statements ??= await buildStatements(db);
  const results = await db.batch<{ t: string; n: number; h: string }>(statements.map((s) => db.prepare(s)));
  return results.flatMap((r) => r.results.map((row) => `${row.t}:${row.n}:${row.h}`)).join("\n");
}
