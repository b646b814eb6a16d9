/**
 * Where a consumer's records come from, per partition. The direct transport reads the log in
 * DynamoDB and S3 ({@link DirectPartitionSource}); the HTTP transport asks the API. The consumer's
 * logic (prefetch, pause, seek, offset reset, deserializing) is the same over both.
 */
import type { ConsumedHeader, StartPosition, TopicPartition } from '../topic-partition.ts';

/** A record as stored: bytes, not yet deserialized. */
export interface RawRecord {
  readonly offset: number;
  readonly timestamp: number;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: readonly ConsumedHeader[];
}

/** Limits of one fetch. */
export interface SourceFetchLimits {
  /** At most this many records are returned (a batch is cut, and the next fetch continues inside it). */
  readonly maxRecords: number;
  /** At least one batch is returned whatever its size. */
  readonly maxBytes: number;
  /** Wait up to this long for records when there are none yet (long-poll); 0 returns at once. */
  readonly maxWaitMs: number;
}

/** What one fetch returned. */
export interface FetchedRecords {
  /** Records at or after the requested position, in offset order (may be empty). */
  readonly records: readonly RawRecord[];
  /** Where the partition continues (a batch boundary at or after the requested position). */
  readonly nextOffset: number;
}

/** One partition's records, as a consumer reads them. */
export interface PartitionSource {
  readonly partition: TopicPartition;
  /**
   * True when {@link fetch} itself waits for records (the API's long-poll): the consumer then
   * skips its own idle backoff.
   */
  readonly waitsForRecords: boolean;
  /** The offset a start position means; throws `OffsetOutOfRangeError` for an offset outside the log. */
  resolve(start: StartPosition): Promise<number>;
  /** The first offset whose record timestamp is ≥ `timestamp` (epoch ms); null when none is that recent. */
  timestampOffset(timestamp: number): Promise<number | null>;
  /** Records from `position` (any offset, also one inside a batch); `signal` ends a long-poll early. */
  fetch(position: number, limits: SourceFetchLimits, signal?: AbortSignal): Promise<FetchedRecords>;
}

/** Opens the source of a partition; throws `UnknownPartitionError` / `TopicNotFoundError`. */
export type PartitionSourceFactory = (partition: TopicPartition) => Promise<PartitionSource>;
