/**
 * Structured JSON log lines (one object per line, `level`, `msg`, then fields) and the redaction
 * every line goes through: values under secret-looking keys are dropped, and bearer tokens,
 * JWTs, `whsec_…` webhook secrets and long base64 key material inside strings are masked. Errors
 * are logged as `Name: message`, redacted, never with their stack. Used by the request log, the
 * metrics writer, the dead-letter guard and `onError` (src/kernel/errors.ts).
 */

export type LogLevel = "debug" | "info" | "warn" | "error";

const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Keys whose values are never logged (matched case-insensitively, anywhere in the key). */
const SECRET_KEY_RE =
  /authorization|cookie|password|passwd|secret|token|api[_-]?key|signature|keyring|private[_-]?key|credential/i;

const PATTERNS: ReadonlyArray<[RegExp, string]> = [
  [/\bBearer\s+[A-Za-z0-9._~+/=-]+/gi, "Bearer [redacted]"],
  [/\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g, "[redacted-jwt]"],
  [/\bwhsec_[A-Za-z0-9+/=]+/g, "whsec_[redacted]"],
  [/\b(?:sk|pk|rk)_(?:live|test)_[A-Za-z0-9]{8,}/g, "[redacted-key]"],
  // 32-byte keys and similar material: long unbroken base64/hex runs.
  [/\b[A-Za-z0-9+/]{40,}={0,2}/g, "[redacted]"],
];

const MAX_STRING = 2000;

/** Masks secret-looking material inside a string and bounds its length. */
export function redactString(value: string): string {
  let out = value;
  for (const [re, replacement] of PATTERNS) out = out.replace(re, replacement);
  return out.length > MAX_STRING ? `${out.slice(0, MAX_STRING)}…` : out;
}

/** A JSON-safe, redacted copy of a log field value. */
export function redact(value: unknown, depth = 0): unknown {
  if (value instanceof Error) return redactString(`${value.name}: ${value.message}`);
  if (typeof value === "string") return redactString(value);
  if (value === null || typeof value === "number" || typeof value === "boolean") return value;
  if (typeof value === "bigint") return value.toString();
  if (value === undefined || typeof value === "function" || typeof value === "symbol") return undefined;
  if (depth >= 4) return "[truncated]";
  if (Array.isArray(value)) return value.slice(0, 50).map((v) => redact(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    out[k] = SECRET_KEY_RE.test(k) ? "[redacted]" : redact(v, depth + 1);
  }
  return out;
}

/**
 * The configured minimum level: LOG_LEVEL, else `info` (`warn` under ENVIRONMENT=test, so test output stays readable).
 */
export function configuredLogLevel(config: { LOG_LEVEL?: LogLevel; ENVIRONMENT: string } | undefined): LogLevel {
  return config?.LOG_LEVEL ?? (config?.ENVIRONMENT === "test" ? "warn" : "info");
}

/** Whether `level` passes the configured minimum (default info). */
export function logEnabled(level: LogLevel, min: LogLevel = "info"): boolean {
  return LEVELS[level] >= LEVELS[min];
}

/** Writes one structured line: `{"level","msg",...fields}` with every field redacted. */
export function logLine(
  level: LogLevel,
  msg: string,
  fields: Record<string, unknown> = {},
  min: LogLevel = "info",
): void {
  if (!logEnabled(level, min)) return;
  const line = JSON.stringify({ level, msg, ...(redact(fields) as Record<string, unknown>) });
  if (level === "error") console.error(line);
  else if (level === "warn") console.warn(line);
  else console.log(line);
}
