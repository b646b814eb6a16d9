/**
 * Reads partitions as stored batches, for the Kafka gateway's Fetch and ListOffsets: the
 * RecordBatches exactly as the log holds them (their baseOffset set to their slot), from DynamoDB
 * or, below the local log start, from S3 segments, through the same {@link PartitionReader} the
 * SDK's consumers use; the high watermark and log start offset; and offsets by timestamp with the
 * timestamp of the record found.
 *
 * Reads cost what the batches returned cost, as the SDK's consumers' do: per partition the reader
 * remembers the batch boundaries its fetches ended at (a client fetches from there next, so no
 * seek is needed), the highest high watermark it has seen, and the batches a fetch read past its
 * byte limits (a query page is paid for whole; the next fetch from there gets them without a read,
 * within a memory budget for all partitions). The tail is read only to
 * check a fetch position beyond the high watermark known, or, at most once per
 * `tailMaxAgeMs`, to report the high watermark of a fetch that stopped at its limits with more
 * to read. Nothing above the high watermark is ever returned (every batch returned ends at or
 * before the high watermark reported with it).
 */
import type { StorageContext } from '../context.ts';
import { OffsetOutOfRangeError } from '../errors.ts';
import { partitionKey } from '../keys.ts';
import { readPlacement } from '../regions/routing.ts';
import type { TopicMetadata } from '../topics/registry.ts';
import { partitionRef } from '../topics/topic-metadata.ts';
import { type CompleteSlot, slotBytes, slotEnd } from './log-item.ts';
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
  /**
   * How long the high watermark read from a partition's tail is reported for fetches that stop at
   * their limits with more to read (ms): a client reading a backlog learns the end of the log at
   * most this late. A fetch that reads to the end reports the end it read.
   * @default 1000
   */
  readonly tailMaxAgeMs?: number;
  /** Bytes of batches read past fetches' limits kept for the next fetch, over all partitions. @default 33554432 */
  readonly aheadBytes?: number;
}

/** Records asked of the reader per fetch: fetches are bounded by bytes, Kafka-style. */
const FETCH_MAX_RECORDS = 100_000;
/** Partitions whose readers (and known log starts) are kept; beyond, the oldest are dropped. */
const MAX_CACHED_READERS = 10_000;

/** Batch boundaries remembered per partition (fetch positions that need no seek). */
const MAX_BOUNDARIES = 64;

interface CachedReader {
  readonly reader: PartitionReader;
  logStart: { offset: number; at: number } | undefined;
  /** The highest high watermark seen, and when a tail read last established it. */
  end: { offset: number; readAt: number } | undefined;
  /** Offsets at which batches are known to start or end (insertion order: oldest first). */
  readonly boundaries: Set<number>;
  /** Batches a fetch read past its byte limit, contiguous: the next fetch from the first's offset gets them. */
  ahead: readonly CompleteSlot[];
  aheadBytes: number;
}

/** Reads partitions as stored batches. One per process; cheap per call. */
export class RawLogReader {
  readonly #ctx: StorageContext;
  readonly #logStartMaxAgeMs: number;
  readonly #tailMaxAgeMs: number;
  readonly #aheadBudget: number;
  #aheadBytes = 0;
  readonly #readers = new Map<string, CachedReader>();

  constructor(ctx: StorageContext, options: RawLogReaderOptions = {}) {
    this.#ctx = ctx;
    this.#logStartMaxAgeMs = options.logStartMaxAgeMs ?? 10_000;
    this.#tailMaxAgeMs = options.tailMaxAgeMs ?? 1_000;
    this.#aheadBudget = options.aheadBytes ?? 32 * 1024 * 1024;
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
    let end = cached.end?.offset ?? -1;
    // Beyond what this reader knows: the tail says whether the client knows more or is wrong.
    if (offset > end) end = await this.#readEnd(cached, true);
    const known = cached.logStart?.offset ?? 0;
    if (offset > end || offset < known) {
      const logStart = await this.#logStart(cached, true);
      throw new OffsetOutOfRangeError(topic.name, partition, offset, logStart, end);
    }
    const logStartOffset = await this.#logStart(cached, false);
    let from = offset;
    let read: readonly CompleteSlot[];
    /** Whether the log may go on past what was read (false: the read reached its end). */
    let mayContinue: boolean;
    if (cached.ahead[0]?.offset === offset) {
      // Read by an earlier fetch past its limits: no read at all.
      read = cached.ahead;
      mayContinue = true;
    } else {
      let first: CompleteSlot | undefined;
      if (!cached.boundaries.has(offset)) {
        const seek = await reader.seek(offset);
        from = seek.batchOffset;
        first = seek.batch;
      }
      const fetched = await reader.fetch(
        from,
        { maxRecords: FETCH_MAX_RECORDS, maxBytes: Math.max(1, maxBytes) },
        first,
      );
      read = fetched.batches;
      mayContinue = fetched.continues;
      end = Math.max(end, fetched.nextOffset);
    }
    const batches: Uint8Array[] = [];
    let bytes = 0;
    let next = from;
    let kept = 0;
    for (const slot of read) {
      const size = slotBytes(slot);
      const fits = batches.length === 0 ? atLeastOne || size <= maxBytes : bytes + size <= maxBytes;
      if (!fits) break;
      batches.push(slot.body);
      bytes += size;
      next = slotEnd(slot);
      kept++;
    }
    this.#keepAhead(cached, read.slice(kept));
    this.#remember(cached, from);
    this.#remember(cached, next);
    end = Math.max(end, read.length > 0 ? slotEnd(read[read.length - 1]!) : from, next);
    // The client reaches the end known and the log may go on: the tail, read at most every
    // tailMaxAgeMs, says where it ends (a stale end only makes a client see new records later).
    if (next >= end && mayContinue && this.#ctx.now() - (cached.end?.readAt ?? 0) > this.#tailMaxAgeMs) {
      end = Math.max(end, await this.#readEnd(cached, false));
    }
    cached.end = { offset: Math.max(end, cached.end?.offset ?? -1), readAt: cached.end?.readAt ?? 0 };
    return { batches, bytes, highWatermark: end, logStartOffset };
  }

  /**
   * A high watermark of the partition at least `atLeast`, if the log reaches that far: the one
   * known when it does (no read), else the tail's, read now (consistently).
   */
  async highWatermarkAtLeast(topic: TopicMetadata, partition: number, atLeast: number): Promise<number> {
    const cached = this.#cached(topic, partition);
    const known = cached.end?.offset ?? -1;
    return known >= atLeast ? known : this.#readEnd(cached, true);
  }

  /** Reads the partition's tail: its high watermark now, remembered. */
  async #readEnd(cached: CachedReader, consistent: boolean): Promise<number> {
    const readAt = this.#ctx.now();
    const offset = await cached.reader.highWatermark(consistent);
    const end = Math.max(offset, cached.end?.offset ?? -1);
    cached.end = { offset: end, readAt };
    return end;
  }

  #remember(cached: CachedReader, boundary: number): void {
    cached.boundaries.delete(boundary);
    cached.boundaries.add(boundary);
    if (cached.boundaries.size > MAX_BOUNDARIES) {
      const oldest = cached.boundaries.values().next().value;
      if (oldest !== undefined) cached.boundaries.delete(oldest);
    }
  }

  /** Keeps `slots` (read past a fetch's limits, contiguous) for the next fetch, within the budget. */
  #keepAhead(cached: CachedReader, slots: readonly CompleteSlot[]): void {
    this.#dropAhead(cached);
    // A batch in S3 (claim check) is a pointer in its log item: nothing is saved by keeping it.
    const run: CompleteSlot[] = [];
    for (const slot of slots) {
      if (slot.claim) break;
      run.push(slot);
    }
    const size = run.reduce((n, slot) => n + slotBytes(slot), 0);
    if (run.length === 0 || this.#aheadBytes + size > this.#aheadBudget) return;
    cached.ahead = run;
    cached.aheadBytes = size;
    this.#aheadBytes += size;
  }

  #dropAhead(cached: CachedReader): void {
    this.#aheadBytes -= cached.aheadBytes;
    cached.ahead = [];
    cached.aheadBytes = 0;
  }

  /** The partition's high watermark, read now: the offset the next batch takes. */
  highWatermark(topic: TopicMetadata, partition: number): Promise<number> {
    return this.#readEnd(this.#cached(topic, partition), true);
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
      cached = {
        reader: new PartitionReader(placement.ctx, ref, placement.replica),
        logStart: undefined,
        end: undefined,
        boundaries: new Set(),
        ahead: [],
        aheadBytes: 0,
      };
      if (this.#readers.size >= MAX_CACHED_READERS) {
        const oldest = this.#readers.keys().next();
        if (!oldest.done) {
          const dropped = this.#readers.get(oldest.value);
          if (dropped) this.#dropAhead(dropped);
          this.#readers.delete(oldest.value);
        }
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
