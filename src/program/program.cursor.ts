/**
 * Opaque keyset cursors of the program lists (`{items, next_cursor}`, DESIGN §8): base64url of
 * the sort key parts joined by a separator that cannot occur in them. Pure.
 */
import { AppError } from "../errors";

const SEP = "\u001f";

export function encodeCursor(...parts: string[]): string {
  const bytes = new TextEncoder().encode(parts.join(SEP));
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** Decodes a cursor of exactly `arity` parts, or throws 422 validation_failed. */
export function decodeCursor(cursor: string, arity: number): string[] {
  try {
    const bin = atob(cursor.replace(/-/g, "+").replace(/_/g, "/"));
    const text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(Uint8Array.from(bin, (ch) => ch.charCodeAt(0)));
    const parts = text.split(SEP);
    if (parts.length === arity && parts.every((p) => p !== "")) return parts;
  } catch {
    // fall through
  }
  throw new AppError("validation_failed", "Invalid cursor.", { errors: [{ path: "cursor", message: "not a cursor issued by this API" }] });
}

/** Builds a page from `limit + 1` rows. */
export function page<Row, Item>(rows: Row[], limit: number, toItem: (r: Row) => Item, keyOf: (r: Row) => string[]) {
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return {
    items: items.map(toItem),
    next_cursor: rows.length > limit && last !== undefined ? encodeCursor(...keyOf(last)) : null,
  };
}
