/** Identifiers and timestamps shared by every domain (imports no domain). */

export function newId(): string {
  return crypto.randomUUID();
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;
export function isUuid(value: string): boolean {
  return UUID_RE.test(value);
}

/** ISO-8601 UTC with microseconds and `Z`, the wire format of SPEC §2 (JS has ms; µs are 000). */
export function isoTimestamp(ms: number): string {
  return new Date(ms).toISOString().replace("Z", "000Z");
}

export function parseTimestamp(ts: string): number {
  return Date.parse(ts.replace(/(\.\d{3})\d{3}Z$/, "$1Z"));
}
