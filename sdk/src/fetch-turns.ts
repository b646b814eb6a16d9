/**
 * How a consumer shares its fetches among its partitions (pure; `consumer.ts` does the I/O).
 *
 * Round-robin with a cursor: each step starts the partitions that may be fetched now, in ring
 * order from the cursor, as many as there are free slots (`fetchConcurrency` less the fetches in
 * flight), and the cursor moves on past the last one started. So each pass of the cursor round
 * the ring offers every partition one turn — a partition with records never gets a second turn
 * before the others had theirs — and a partition that becomes due waits for at most the turns of
 * the partitions ahead of it: ⌈n / fetchConcurrency⌉ fetch round trips for n partitions.
 *
 * Each partition keeps its own idle interval: after an empty fetch it is due again that much
 * later, the interval doubling from `minIdleIntervalMs` to `maxIdleIntervalMs`; records (or any
 * progress) make it due at once. A busy partition therefore never makes idle ones be read more
 * often, and an idle one is read once per interval whatever the others do.
 */

/** The outcome of one scheduling step. */
export interface Turns {
  /** Indexes (into the ring) of the partitions to fetch now, in the order to start them. */
  readonly start: readonly number[];
  /** Where the next step begins: just after the last partition started (unchanged if none was). */
  readonly cursor: number;
}

/**
 * The partitions to start now: from `cursor`, in ring order, the first `slots` whose entry in
 * `eligible` is true (due, and neither in flight nor holding undelivered records).
 */
export function nextTurns(eligible: readonly boolean[], cursor: number, slots: number): Turns {
  const n = eligible.length;
  const start: number[] = [];
  if (n === 0 || slots <= 0) return { start, cursor: n === 0 ? 0 : cursor % n };
  const from = ((cursor % n) + n) % n;
  for (let step = 0; step < n && start.length < slots; step++) {
    const i = (from + step) % n;
    if (eligible[i]) start.push(i);
  }
  const last = start.at(-1);
  return { start, cursor: last === undefined ? from : (last + 1) % n };
}

/** The idle interval after an empty fetch: double the last one, within `[minMs, maxMs]`. */
export function nextIdleInterval(currentMs: number, minMs: number, maxMs: number): number {
  return Math.min(maxMs, Math.max(minMs, currentMs * 2));
}
