/**
 * Narrowing helpers for untyped input (JSON metadata, claims, model output). Pure.
 */

/** A plain object (not null, not an array). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The trimmed string, or null when not a string or blank. */
export function trimmedString(value: unknown): string | null {
  if (typeof value !== "string") return null;
  const v = value.trim();
  return v === "" ? null : v;
}

/** The trimmed, lower-cased string, or null when not a string or blank. */
export function lowerTrim(value: unknown): string | null {
  return trimmedString(value)?.toLowerCase() ?? null;
}

/** A finite number (or numeric string) floored and clamped at 0, or null. */
export function nonNegativeInt(value: unknown): number | null {
  const v =
    typeof value === "number" ? value : typeof value === "string" && value.trim() !== "" ? Number(value) : Number.NaN;
  return Number.isFinite(v) ? Math.max(0, Math.floor(v)) : null;
}
