/** Maps over `items` with at most `limit` calls of `fn` in flight; results keep the input order. */
export async function mapLimited<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** Work still running, tracked so that a flush or close can wait for all of it. */
export class Outstanding {
  readonly #pending = new Set<Promise<void>>();

  /** Tracks `promise` until it settles (its failure is its caller's to handle, not this set's). */
  track(promise: Promise<unknown>): void {
    const settled = promise.then(
      () => undefined,
      () => undefined,
    );
    this.#pending.add(settled);
    void settled.then(() => this.#pending.delete(settled));
  }

  /** Waits once for what is running now. */
  async some(): Promise<void> {
    await Promise.all([...this.#pending]);
  }

  /** Waits until nothing is running, including work started meanwhile. */
  async all(): Promise<void> {
    while (this.#pending.size > 0) await this.some();
  }
}
