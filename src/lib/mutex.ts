/**
 * A promise-chain mutex. Durable Object input gates do not hold across D1 (network) I/O, so the
 * BuildRunner serialises its read-modify-write cycles with this.
 */
export class Mutex {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn, fn);
    this.tail = result.catch(() => undefined);
    return result;
  }
}
