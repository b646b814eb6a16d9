/**
 * Kafka-compatible partitioning: a keyed record goes to `toPositive(murmur2(key)) % partitions`
 * (bit-compatible with Kafka's default partitioner, so keys land where a Kafka producer would put
 * them); a record without a key sticks to one partition until that partition's batch is sealed
 * (KIP-480 sticky partitioning), then moves on; an explicit partition always wins.
 */

const MURMUR2_SEED = 0x9747b28c;
const M = 0x5bd1e995;

/** Kafka's murmur2 hash (signed 32-bit result, like Java's `Utils.murmur2`). */
export function murmur2(data: Uint8Array): number {
  const length = data.length;
  let h = MURMUR2_SEED ^ length;
  const whole = length & ~3;
  for (let i = 0; i < whole; i += 4) {
    let k = data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }
  const tail = length & 3;
  if (tail > 0) {
    if (tail === 3) h ^= data[whole + 2]! << 16;
    if (tail >= 2) h ^= data[whole + 1]! << 8;
    h ^= data[whole]!;
    h = Math.imul(h, M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

/** Kafka's `Utils.toPositive`: clears the sign bit (not `Math.abs`, which differs on MIN_VALUE). */
export function toPositive(n: number): number {
  return n & 0x7fffffff;
}

/** The partition Kafka's default partitioner picks for a key. */
export function partitionForKey(key: Uint8Array, partitions: number): number {
  return toPositive(murmur2(key)) % partitions;
}

/**
 * Chooses partitions for records without an explicit partition. Keyed records hash; unkeyed
 * records share a "sticky" partition per topic so they fill one batch instead of many small ones.
 */
export class Partitioner {
  readonly #sticky = new Map<string, number>();
  readonly #random: () => number;

  constructor(random: () => number = Math.random) {
    this.#random = random;
  }

  /** Partition for a record: explicit, else by key hash, else the topic's sticky partition. */
  choose(topic: string, partitions: number, key: Uint8Array | null, explicit?: number): number {
    if (explicit !== undefined) return explicit;
    if (key !== null) return partitionForKey(key, partitions);
    const current = this.#sticky.get(topic);
    if (current !== undefined && current < partitions) return current;
    const chosen = Math.floor(this.#random() * partitions);
    this.#sticky.set(topic, chosen);
    return chosen;
  }

  /**
   * Called when a batch of `partition` is sealed: unkeyed records move to another partition
   * (chosen at random among the others), so load spreads while batches stay full.
   */
  onBatchSealed(topic: string, partition: number, partitions: number): void {
    if (this.#sticky.get(topic) !== partition || partitions < 2) return;
    const next = Math.floor(this.#random() * (partitions - 1));
    this.#sticky.set(topic, next >= partition ? next + 1 : next);
  }
}
