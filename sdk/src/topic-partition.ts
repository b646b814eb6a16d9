/**
 * The names a consumer and its partition sources share: a partition, a position in it, and the
 * header of a consumed record. A leaf, so the consumer and the transports both depend on it
 * rather than on each other.
 */

/** A partition to read. */
export interface TopicPartition {
  readonly topic: string;
  readonly partition: number;
}

/** Where to start reading a partition. */
export type StartPosition =
  | number
  | 'earliest'
  | 'latest'
  /** The first record whose timestamp is ≥ this (epoch ms); the end of the log when there is none. */
  | { readonly timestamp: number };

/** A header of a consumed message. */
export interface ConsumedHeader {
  readonly key: string;
  readonly value: Buffer | null;
}
