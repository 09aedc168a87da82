/** Database failures made safe to log (imports no domain). */

/**
 * The failure without its query parameters: drizzle's DrizzleQueryError message lists every bound
 * value (a webhook body, a ciphertext), which must not reach the logs. Keeps the first line of the
 * innermost cause (the D1 error, e.g. "D1_ERROR: …").
 */
export function withoutParams(err: unknown, what: string): Error {
  let inner: unknown = err;
  while (inner instanceof Error && inner.cause instanceof Error) inner = inner.cause;
  const message = inner instanceof Error ? inner.message : String(inner);
  return new Error(`${what}: ${message.split("\n")[0]?.slice(0, 300) ?? "unknown"}`);
}
