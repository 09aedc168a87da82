/**
 * Opaque keyset cursors of every list (`{items, next_cursor}`, DESIGN §8): base64url of the
 * sort-key parts joined by a separator that cannot occur in them, and the page builder. Pure.
 */
import { AppError } from "./errors";
import { fromBase64Url, toBase64Url, utf8 } from "../lib/crypto";

const SEP = "\u001f";

export function encodeCursor(...parts: string[]): string {
  return toBase64Url(utf8(parts.join(SEP)));
}

/** Decodes a cursor of exactly `arity` non-empty parts, or throws 422 validation_failed. */
export function decodeCursor(cursor: string, arity: number): string[] {
  const bytes = fromBase64Url(cursor);
  if (bytes !== null) {
    try {
      const parts = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes).split(SEP);
      if (parts.length === arity && parts.every((p) => p !== "")) return parts;
    } catch {
      // fall through
    }
  }
  throw invalidCursor();
}

/** Decodes a cursor of exactly `arity` non-negative integer parts (a seq, a rank and rowid), or throws 422. */
export function decodeIntCursor(cursor: string, arity: number): number[] {
  const parts = decodeCursor(cursor, arity).map(Number);
  if (!parts.every((n) => Number.isSafeInteger(n) && n >= 0)) throw invalidCursor();
  return parts;
}

function invalidCursor(): AppError {
  return new AppError("validation_failed", "Invalid cursor.", {
    errors: [{ path: "cursor", message: "not a cursor issued by this API" }],
  });
}

/** Builds a page from `limit + 1` rows; `keyOf` gives the sort key of the last row. */
export function page<Row, Item>(rows: Row[], limit: number, toItem: (r: Row) => Item, keyOf: (r: Row) => string[]) {
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return {
    items: items.map(toItem),
    next_cursor: rows.length > limit && last !== undefined ? encodeCursor(...keyOf(last)) : null,
  };
}
