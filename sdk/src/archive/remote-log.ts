/**
 * Reads the S3 tier of one partition: the segments below its local log start. A read finds the
 * segment in the manifest, looks the offset up in the segment's `.index` and fetches only the
 * bytes it needs with ranged GETs, never the whole object. Each GET ends at a batch boundary the
 * index names, so it holds whole batches only and no byte is fetched twice. Every batch's CRC is
 * checked; a bad one raises {@link CorruptRecordError} naming the object and byte position.
 */
import type { StorageContext } from '../context.ts';
import { CorruptRecordError } from '../errors.ts';
import type { PartitionRef } from '../keys.ts';
import type { CompleteSlot } from '../log/log-item.ts';
import { readBatchHeader, verifyBatchCrc } from '../log/record-batch.ts';
import { findOffsetForTimestamp, findPosition, splitBatches, wholeBatchesEnd } from './segment-format.ts';
import { SegmentObjectMissing, SegmentStore } from './segment-store.ts';
import { type SegmentInfo, TierMetadata } from './tier-metadata.ts';

/** Smallest ranged GET: fewer, larger reads are cheaper than many tiny ones. */
const MIN_READ_BYTES = 64 * 1024;
/** Largest ranged GET (a single batch larger than this is read whole). */
const MAX_READ_BYTES = 8 * 1024 * 1024;
/** A read also takes the rest of its segment when that rest is at most this fraction of the read. */
const SEGMENT_REST_FRACTION = 0.25;

/** Batches read from a segment, contiguous from the requested offset. */
export interface RemoteFetch {
  readonly batches: readonly CompleteSlot[];
  readonly nextOffset: number;
}

/** Limits of one remote fetch (as {@link FetchLimits}). */
export interface RemoteFetchLimits {
  readonly maxRecords: number;
  readonly maxBytes: number;
}

/** The S3 tier of one partition. */
export class RemoteLog {
  readonly metadata: TierMetadata;
  readonly store: SegmentStore;

  constructor(ctx: StorageContext, ref: PartitionRef, store: SegmentStore = new SegmentStore(ctx)) {
    this.metadata = new TierMetadata(ctx, ref);
    this.store = store;
  }

  /**
   * Reads batches from the segment holding `offset`, up to the segment's end. The first batch
   * returned is the one containing `offset`. Returns `undefined` when no segment holds `offset`
   * (it is above the S3 tier, or retention removed it).
   */
  async fetch(offset: number, limits: RemoteFetchLimits): Promise<RemoteFetch | undefined> {
    const segment = await this.metadata.segmentAt(offset);
    if (!segment) return undefined;
    try {
      return await this.#fetchFrom(segment, offset, limits);
    } catch (error) {
      if (await this.#deletedUnder(error, offset)) return undefined;
      throw error;
    }
  }

  /**
   * True when `error` means retention deleted the segment under this reader. A 404 always does; a
   * 403 (S3's answer for a missing key to roles without ListBucket) only once the log start has
   * passed `offset` — otherwise it is a real denial, and the caller rethrows its cause.
   */
  async #deletedUnder(error: unknown, offset: number): Promise<boolean> {
    if (!(error instanceof SegmentObjectMissing)) return false;
    if (!error.denied) return true;
    if ((await this.metadata.bounds()).logStart.offset > offset) return true;
    throw error.cause;
  }

  async #fetchFrom(segment: SegmentInfo, offset: number, limits: RemoteFetchLimits): Promise<RemoteFetch> {
    const key = segment.keys.log;
    const index = await this.store.index(segment.keys);
    const start = findPosition(index, segment.baseOffset, offset, this.store.location(segment.keys.index));
    const batches: CompleteSlot[] = [];
    let position = start.position;
    let expected = start.offset;
    let records = 0;
    let bytes = 0;
    const indexLocation = this.store.location(segment.keys.index);
    while (
      position < segment.bytes &&
      (batches.length === 0 || (records < limits.maxRecords && bytes < limits.maxBytes))
    ) {
      // As much as the fetch still wants, ending where a batch starts; and the rest of the segment
      // too when it is short: a GET costs more than its bytes (a request, and S3's first-byte
      // latency), and what the fetch does not hand out is kept for the next one.
      const want = Math.min(MAX_READ_BYTES, Math.max(MIN_READ_BYTES, limits.maxBytes - bytes));
      let end = wholeBatchesEnd(index, position, position + want, segment.bytes, indexLocation);
      if (segment.bytes - end <= want * SEGMENT_REST_FRACTION) end = segment.bytes;
      const chunk = await this.store.read(key, position, end);
      if (chunk.byteLength !== end - position) {
        throw new CorruptRecordError(
          `A ranged read returned ${chunk.byteLength} bytes, expected ${end - position}: the object is shorter than the manifest says`,
          `${this.store.location(key)}, bytes ${position}..${end}`,
        );
      }
      const { batches: whole, rest } = splitBatches(
        chunk,
        `${this.store.location(key)}, from byte ${position}`,
      );
      if (rest !== 0) {
        // The read ended at an index entry or at the end of the segment: neither is inside a batch.
        throw new CorruptRecordError(
          end === segment.bytes
            ? 'The segment ends inside a batch'
            : `The offset index names byte ${end} as a batch start, but a batch runs past it`,
          `${this.store.location(key)}, byte ${end - rest}`,
        );
      }
      for (const body of whole) {
        const where = `${this.store.location(key)}, byte ${position}`;
        verifyBatchCrc(body, where);
        const header = readBatchHeader(body, where);
        if (header.baseOffset !== expected) {
          throw new CorruptRecordError(
            `A batch starts at offset ${header.baseOffset} where ${expected} was expected`,
            where,
          );
        }
        const count = header.lastOffsetDelta + 1;
        expected += count;
        position += body.byteLength;
        // Batches before the one holding `offset` (between the index entry and it) are skipped.
        if (expected <= offset) continue;
        batches.push({
          kind: 'complete',
          offset: header.baseOffset,
          count,
          maxTimestamp: header.maxTimestamp,
          // Per-batch running values are not kept in segments; readers of S3 batches don't use them.
          runningMaxTimestamp: header.maxTimestamp,
          runningBytes: -1,
          producerId: String(header.producerId),
          sequence: header.baseSequence,
          body,
          claim: undefined,
          voided: header.isControl && header.recordCount === 0,
        });
        records += count;
        bytes += body.byteLength;
      }
    }
    if (position === segment.bytes && expected !== segment.endOffset) {
      throw new CorruptRecordError(
        `The segment ends at offset ${expected}; its manifest says ${segment.endOffset}`,
        this.store.location(key),
      );
    }
    return { batches, nextOffset: expected };
  }

  /**
   * A batch boundary at or before `offset` in the segment holding it: the nearest indexed batch
   * (at most one index interval, ~4 KB, before the batch holding `offset`). Fetching from it and
   * skipping records below `offset` reads little extra. `undefined` when no segment holds it.
   */
  async seek(offset: number): Promise<number | undefined> {
    const segment = await this.metadata.segmentAt(offset);
    if (!segment) return undefined;
    try {
      const index = await this.store.index(segment.keys);
      return findPosition(index, segment.baseOffset, offset, this.store.location(segment.keys.index)).offset;
    } catch (error) {
      if (await this.#deletedUnder(error, offset)) return undefined;
      throw error;
    }
  }

  /**
   * Where to start scanning for the first record with timestamp ≥ `timestamp` within the S3
   * tier at or above `from`: a batch boundary, or `undefined` when no archived record is that
   * recent. Segments' running max timestamps are monotonic, so the first segment reaching
   * `timestamp` holds the answer.
   */
  async batchForTimestamp(timestamp: number, from: number): Promise<number | undefined> {
    for await (const segment of this.metadata.segments()) {
      if (segment.endOffset <= from || segment.runningMaxTimestamp < timestamp) continue;
      const timeIndex = await this.store.timeIndex(segment.keys);
      const found = findOffsetForTimestamp(
        timeIndex,
        segment.baseOffset,
        timestamp,
        this.store.location(segment.keys.timeIndex),
      );
      return Math.max(found.offset, from);
    }
    return undefined;
  }
}
