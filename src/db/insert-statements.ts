/**
 * Multi-row INSERTs as plain D1 statements, for the hot write path (a build's fenced batch,
 * issue 19): drizzle's query builder spends most of a batch's JS time turning every value into
 * SQL chunks, while the statement text of a table only depends on its row count. The shape of a
 * table (its columns, their names and driver mappings, the SQL text per row count) is computed
 * once per isolate; each call only maps and binds values — with drizzle's own insert rules: an
 * omitted value takes the column's default, its `$defaultFn`, its `$onUpdateFn`, else NULL, and
 * a present one goes through the column's `mapToDriverValue` (JSON text, booleans, timestamps).
 */
import { type Column, SQL, getTableColumns, getTableName, is } from "drizzle-orm";
import type { SQLiteTable } from "drizzle-orm/sqlite-core";
import { rowsPerStatement } from "../lib/d1-limits";

interface InsertShape {
  keys: string[];
  columns: Column[];
  head: string;
  tuple: string;
  perStatement: number;
  text: Map<number, string>;
}

const shapes = new WeakMap<SQLiteTable, InsertShape>();

function shapeOf(table: SQLiteTable): InsertShape {
  let shape = shapes.get(table);
  if (shape) return shape;
  // Generated columns are never inserted (drizzle's `shouldDisableInsert`, untyped on SQLite columns).
  const insertable = (c: Column) => !(c as unknown as { shouldDisableInsert(): boolean }).shouldDisableInsert();
  const entries = Object.entries(getTableColumns(table)).filter(([, c]) => insertable(c));
  for (const [key, c] of entries) {
    // A default written as SQL is not a value to bind: such tables stay with drizzle's builder.
    if (is(c.default, SQL)) throw new Error(`insert-statements: ${getTableName(table)}.${key} has an SQL default`);
  }
  const names = entries.map(([, c]) => `"${c.name}"`).join(", ");
  shape = {
    keys: entries.map(([k]) => k),
    columns: entries.map(([, c]) => c),
    head: `insert into "${getTableName(table)}" (${names}) values `,
    tuple: `(${entries.map(() => "?").join(", ")})`,
    perStatement: rowsPerStatement(entries.length),
    text: new Map(),
  };
  shapes.set(table, shape);
  return shape;
}

function driverValue(c: Column, value: unknown): unknown {
  let v = value;
  if (v === undefined) {
    if (c.default !== undefined && c.default !== null) v = c.default;
    else if (c.defaultFn !== undefined) v = c.defaultFn();
    else if (c.onUpdateFn !== undefined) v = c.onUpdateFn();
    else return null;
  }
  return v === null ? null : c.mapToDriverValue(v);
}

/** `rows` of `table` as multi-row INSERT statements, as many rows per statement as D1 binds. */
export function insertStatements<T extends SQLiteTable>(
  d1: D1Database,
  table: T,
  rows: readonly T["$inferInsert"][],
): D1PreparedStatement[] {
  const shape = shapeOf(table);
  const out: D1PreparedStatement[] = [];
  for (let i = 0; i < rows.length; i += shape.perStatement) {
    const chunk = rows.slice(i, i + shape.perStatement);
    let text = shape.text.get(chunk.length);
    if (text === undefined) {
      text = shape.head + Array.from({ length: chunk.length }, () => shape.tuple).join(", ");
      shape.text.set(chunk.length, text);
    }
    const params: unknown[] = [];
    for (const row of chunk) {
      const r = row as Record<string, unknown>;
      for (let k = 0; k < shape.keys.length; k++)
        params.push(driverValue(shape.columns[k] as Column, r[shape.keys[k] as string]));
    }
    out.push(d1.prepare(text).bind(...params));
  }
  return out;
}
