/**
 * KV as a cache, never a decider (STYLE §12): versioned keys, zod-parsed reads, TTLs clamped to
 * KV's 60 s minimum. Read and write failures degrade to a miss / no-op, logged without values.
 */
import type { z } from "zod";

/** Every cache key starts with this version; bump it when a cached shape changes. */
export const KV_CACHE_VERSION = "v1";

/** KV rejects expirationTtl below 60 seconds. */
export const KV_MIN_TTL_SECONDS = 60;

export function cacheKey(...parts: string[]): string {
  return [KV_CACHE_VERSION, ...parts].join(":");
}

function warn(msg: string, key: string, err: unknown): void {
  console.warn(JSON.stringify({ level: "warn", msg, key, error: err instanceof Error ? err.message : String(err) }));
}

/** Reads and parses a cached JSON value; a miss, an unparsable value or a KV error is `null`. */
export async function kvGet<T extends z.ZodType>(
  kv: KVNamespace | undefined,
  key: string,
  schema: T,
): Promise<z.infer<T> | null> {
  if (kv === undefined) return null;
  let raw: unknown;
  try {
    raw = await kv.get(key, "json");
  } catch (err) {
    warn("kv_read_failed", key, err);
    return null;
  }
  if (raw === null) return null;
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    warn("kv_value_invalid", key, parsed.error);
    return null;
  }
  return parsed.data;
}

/** Writes a JSON value with a TTL (≥ 60 s). Failures are logged and swallowed: it is a cache. */
export async function kvPut(
  kv: KVNamespace | undefined,
  key: string,
  value: unknown,
  ttlSeconds: number,
): Promise<void> {
  if (kv === undefined) return;
  try {
    await kv.put(key, JSON.stringify(value), { expirationTtl: Math.max(KV_MIN_TTL_SECONDS, Math.ceil(ttlSeconds)) });
  } catch (err) {
    warn("kv_write_failed", key, err);
  }
}
