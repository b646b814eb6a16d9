/**
 * Reads partitions as stored batches, for the Kafka gateway's Fetch and ListOffsets: the
 * RecordBatches exactly as the log holds them (their baseOffset set to their slot), from DynamoDB
 * or, below the local log start, from S3 segments, through the same {@link PartitionReader} the
 * SDK's consumers use; the high watermark and log start offset; and offsets by timestamp with the
 * timestamp of the record found.
 *
 * A fetch reads the tail first (one consistent query, the high watermark): a partition with
 * nothing past the fetch position costs that one read, and nothing above the high watermark is
 * ever returned (every batch returned ends at or before the high watermark reported with it).
 */
import type { StorageContext } from '../context.ts';
import { OffsetOutOfRangeError } from '../errors.ts';
import { partitionKey } from '../keys.ts';
import { readPlacement } from '../regions/routing.ts';
import type { TopicMetadata } from '../topics/registry.ts';
import { partitionRef } from '../topics/topic-metadata.ts';
import { slotBytes, slotEnd } from './log-item.ts';
import { PartitionReader } from './reader.ts';
import { decodeRecordBatch } from './record-batch.ts';

/** Batches of one partition from a fetch position. */
export interface RawFetchResult {
  /** Stored batches, contiguous; the first holds the fetch position (it may start before it). */
  readonly batches: readonly Uint8Array[];
  /** Bytes of `batches`. */
  readonly bytes: number;
  /** The offset after the last batch written to the partition, at or after every batch returned. */
  readonly highWatermark: number;
  /** First offset still readable (it may be slightly stale: it only ever grows). */
  readonly logStartOffset: number;
}

/** An offset found for a timestamp, with the timestamp of the record there. */
export interface OffsetAndTimestamp {
  readonly offset: number;
  readonly timestamp: number;
}

/** Settings of {@link RawLogReader}. */
export interface RawLogReaderOptions {
  /**
   * How long a partition's log start offset is reused before it is read again (ms). It only grows
   * (retention), so a stale one can only be too low, which a fetch from below it finds out anyway.
   * @default 10000
   */
  readonly logStartMaxAgeMs?: number;
}

/** Records asked of the reader per fetch: fetches are bounded by bytes, Kafka-style. */
const FETCH_MAX_RECORDS = 100_000;
/** Partitions whose readers (and known log starts) are kept; beyond, the oldest are dropped. */
const MAX_CACHED_READERS = 10_000;

interface CachedReader {
  readonly reader: PartitionReader;
  logStart: { offset: number; at: number } | undefined;
}

/** Reads partitions as stored batches. One per process; cheap per call. */
export class RawLogReader {
  readonly #ctx: StorageContext;
  readonly #logStartMaxAgeMs: number;
  readonly #readers = new Map<string, CachedReader>();

  constructor(ctx: StorageContext, options: RawLogReaderOptions = {}) {
    this.#ctx = ctx;
    this.#logStartMaxAgeMs = options.logStartMaxAgeMs ?? 10_000;
  }

  /**
   * The stored batches of `partition` from `offset`, at most `maxBytes` of them unless the first
   * alone is larger and `atLeastOne` (then exactly that one). Empty at the high watermark, or when
   * the next batch is still being written.
   *
   * @throws OffsetOutOfRangeError when `offset` is below the log start or above the high watermark.
   */
  async fetch(
    topic: TopicMetadata,
    partition: number,
    offset: number,
    maxBytes: number,
    atLeastOne: boolean,
  ): Promise<RawFetchResult> {
    const cached = this.#cached(topic, partition);
    const { reader } = cached;
    const highWatermark = await reader.highWatermark();
    const known = cached.logStart?.offset ?? 0;
    if (offset > highWatermark || offset < known) {
      const logStart = await this.#logStart(cached, true);
      throw new OffsetOutOfRangeError(topic.name, partition, offset, logStart, highWatermark);
    }
    const logStartOffset = await this.#logStart(cached, false);
    if (offset === highWatermark) return { batches: [], bytes: 0, highWatermark, logStartOffset };
    const seek = await reader.seek(offset);
    const fetched = await reader.fetch(
      seek.batchOffset,
      { maxRecords: FETCH_MAX_RECORDS, maxBytes: Math.max(1, maxBytes) },
      seek.batch,
    );
    const batches: Uint8Array[] = [];
    let bytes = 0;
    let end = highWatermark;
    for (const slot of fetched.batches) {
      const size = slotBytes(slot);
      if (bytes + size > maxBytes && !(atLeastOne && batches.length === 0)) break;
      batches.push(slot.body);
      bytes += size;
      end = Math.max(end, slotEnd(slot));
    }
    return { batches, bytes, highWatermark: end, logStartOffset };
  }

  /** The partition's high watermark: the offset the next batch takes. */
  highWatermark(topic: TopicMetadata, partition: number): Promise<number> {
    return this.#cached(topic, partition).reader.highWatermark();
  }

  /** The partition's log start offset, read now. */
  logStartOffset(topic: TopicMetadata, partition: number): Promise<number> {
    return this.#logStart(this.#cached(topic, partition), true);
  }

  /**
   * The first record whose timestamp is ≥ `timestamp` (Kafka's ListOffsets by timestamp): its
   * offset and timestamp; undefined when no record is that recent.
   */
  async offsetForTimestamp(
    topic: TopicMetadata,
    partition: number,
    timestamp: number,
  ): Promise<OffsetAndTimestamp | undefined> {
    // A replica may lack batches the search visits (and the answer must not depend on replication).
    const reader = this.#cached(topic, partition).reader.authoritative();
    const start = await reader.batchForTimestamp(timestamp);
    if (start === undefined) return undefined;
    let offset = start;
    for (;;) {
      const { batches, nextOffset } = await reader.fetch(offset, {
        maxRecords: 5_000,
        maxBytes: 4 * 1024 * 1024,
      });
      if (batches.length === 0) return undefined;
      for (const slot of batches) {
        if (slot.voided || slot.maxTimestamp < timestamp) continue;
        const batch = await decodeRecordBatch(slot.body, reader.label);
        const hit = batch.records.find((r) => r.timestamp >= timestamp);
        if (hit) return { offset: hit.offset, timestamp: hit.timestamp };
      }
      offset = nextOffset;
    }
  }

  /**
   * The record with the largest timestamp (the first of them; Kafka's ListOffsets
   * MAX_TIMESTAMP): undefined for a partition with no records.
   */
  async maxTimestampOffset(topic: TopicMetadata, partition: number): Promise<OffsetAndTimestamp | undefined> {
    const reader = this.#cached(topic, partition).reader.authoritative();
    const tail = await reader.tail(true);
    if (!tail || tail.runningMaxTimestamp < 0) return undefined;
    return this.offsetForTimestamp(topic, partition, tail.runningMaxTimestamp);
  }

  #cached(topic: TopicMetadata, partition: number): CachedReader {
    const ref = partitionRef(topic, partition);
    // A failover changes the topic's leader epochs: a reader made from the older ones is not reused.
    const key = `${partitionKey(ref)}@${topic.epochs?.version ?? 0}`;
    let cached = this.#readers.get(key);
    if (!cached) {
      const placement = readPlacement(this.#ctx, topic);
      cached = { reader: new PartitionReader(placement.ctx, ref, placement.replica), logStart: undefined };
      if (this.#readers.size >= MAX_CACHED_READERS) {
        const oldest = this.#readers.keys().next().value;
        if (oldest !== undefined) this.#readers.delete(oldest);
      }
      this.#readers.set(key, cached);
    }
    return cached;
  }

  async #logStart(cached: CachedReader, fresh: boolean): Promise<number> {
    const now = this.#ctx.now();
    const known = cached.logStart;
    if (!fresh && known && now - known.at <= this.#logStartMaxAgeMs) return known.offset;
    const offset = await cached.reader.logStartOffset();
    cached.logStart = { offset: Math.max(offset, known?.offset ?? 0), at: now };
    return cached.logStart.offset;
  }
}
