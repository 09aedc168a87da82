/** Bounded waiting on a remote call (imports no domain). */

/** Resolves with `op()` or rejects when it takes longer than `ms`. */
export async function withTimeout<T>(op: () => Promise<T>, ms: number, what = "operation"): Promise<T> {
  let timer: number | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([op(), timeout]);
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
}
