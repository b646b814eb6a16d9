/**
 * The replicator's own writes, so it never replicates them again when it reads them back from the
 * target region's stream (global tables do not loop either). Per region and item, the writes whose
 * stream records are still to come, in the order they were made: the replicator writes one item
 * into one region at a time, and a stream keeps each item's records in order, so the next own record
 * of an item is always the oldest one expected. A record of that item that does not match it is a
 * client's write that landed in between. Pure.
 */

interface Expected {
  readonly token: number;
  readonly digest: string;
}

/** See the module comment. */
export class OwnWrites {
  readonly #expected = new Map<string, Expected[]>();
  #nextToken = 1;

  /**
   * Records a write about to be made into `region` that leaves `item` as `digest`. Returns a token
   * for {@link cancel}, when the write fails or turns out to have changed nothing (no stream record).
   */
  expect(region: string, item: string, digest: string): number {
    const key = ledgerKey(region, item);
    const token = this.#nextToken++;
    const queue = this.#expected.get(key);
    if (queue) queue.push({ token, digest });
    else this.#expected.set(key, [{ token, digest }]);
    return token;
  }

  /**
   * Forgets an expected write (no stream record will come for it). False when the expectation was
   * gone already: {@link recognize} took a record for it, which was then a client's equal write.
   */
  cancel(region: string, item: string, token: number): boolean {
    const key = ledgerKey(region, item);
    const queue = this.#expected.get(key);
    const index = queue ? queue.findIndex((entry) => entry.token === token) : -1;
    if (!queue || index < 0) return false;
    queue.splice(index, 1);
    if (queue.length === 0) this.#expected.delete(key);
    return true;
  }

  /**
   * True, consuming the expectation, when a change of `item` read from `region`'s stream is the
   * replicator's own next write there (the same resulting item); false for a client's write.
   */
  recognize(region: string, item: string, digest: string): boolean {
    const key = ledgerKey(region, item);
    const queue = this.#expected.get(key);
    if (!queue || queue[0]?.digest !== digest) return false;
    queue.shift();
    if (queue.length === 0) this.#expected.delete(key);
    return true;
  }

  /** How many own writes are still to be read back, over all regions and items. */
  get outstanding(): number {
    let count = 0;
    for (const queue of this.#expected.values()) count += queue.length;
    return count;
  }
}

function ledgerKey(region: string, item: string): string {
  return `${region}\u0001${item}`;
}
