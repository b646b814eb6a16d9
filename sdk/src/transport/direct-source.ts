/**
 * The direct transport's partition source: reads the log (DynamoDB, and S3 below the local log
 * start) with the caller's credentials, checking every batch's CRC as it decodes it. A fetch that
 * continues where the previous one ended starts at that batch boundary; any other position is
 * first located with a seek (the batch holding it), and records before it are skipped.
 *
 * With the deployment's regions known, the source reads the region `readFrom` names: a replica
 * reader waits at (or reads from home) offsets not replicated yet instead of failing on them.
 *
 * Every item read is paid for, so none is read twice: the batch a fetch's seek found is its first
 * batch, and records read beyond a fetch's `maxRecords` are handed out by the next fetch, which
 * reads on after them to fill its own limits.
 */
import type { ReplicaReading, StorageContext } from '../context.ts';
import { InvalidArgumentError, UnknownPartitionError } from '../errors.ts';
import type { PartitionRef } from '../keys.ts';
import { PartitionReader, type SeekResult } from '../log/reader.ts';
import { decodeRecordBatch } from '../log/record-batch.ts';
import { offsetForTimestamp } from '../log/timestamp-lookup.ts';
import { readPlacement } from '../regions/routing.ts';
import type { StartPosition } from '../topic-partition.ts';
import type { TopicCache } from '../topics/topic-cache.ts';
import { Waker } from '../waker.ts';
import type {
  FetchedRecords,
  PartitionSource,
  PartitionSourceFactory,
  RawRecord,
  SourceFetchLimits,
} from './partition-source.ts';

/** First and longest pause between reads while a long-poll waits for records. */
const LONG_POLL_MIN_MS = 50;
const LONG_POLL_MAX_MS = 500;

export class DirectPartitionSource implements PartitionSource {
  readonly partition: { readonly topic: string; readonly partition: number };
  readonly waitsForRecords = false;
  readonly reader: PartitionReader;
  /** Batch boundary where the last fetch ended: a fetch from there needs no seek. */
  #boundary: number | undefined;
  /**
   * Records a fetch read (and paid for) beyond its `maxRecords`, kept for the fetch that continues
   * at the first of them; `nextOffset` is the batch boundary after the last, and `more` says the
   * log went on after it (so that fetch reads on to fill its limits; at the tail it would find
   * nothing). Handing them out later instead of dropping them means no batch is read twice and no
   * seek is needed.
   */
  #carry: { records: RawRecord[]; nextOffset: number; more: boolean } | undefined;
  /** Where {@link resolve} found `position`: the first fetch from `position` starts there without seeking again. */
  #sought: { position: number; batchOffset: number } | undefined;

  /** `replica`: set when `ctx` holds a replica of the topic's log (see {@link PartitionReader}). */
  constructor(ctx: StorageContext, ref: PartitionRef, replica?: ReplicaReading) {
    this.partition = { topic: ref.topic, partition: ref.partition };
    this.reader = new PartitionReader(ctx, ref, replica);
  }

  async resolve(start: StartPosition): Promise<number> {
    const reader = this.reader;
    if (start === 'earliest') return reader.logStartOffset();
    if (start === 'latest') return reader.highWatermark();
    if (typeof start === 'number') {
      if (!Number.isSafeInteger(start) || start < 0) {
        throw new InvalidArgumentError(`Offsets are non-negative integers; got ${start} for ${reader.label}`);
      }
      // Validates the range now rather than at the first fetch, which then starts where it found.
      // Only the offset is kept, not the batch the seek read: the fetch may come much later, after
      // retention removed that batch, and must then see the log as it is.
      this.#sought = { position: start, batchOffset: (await reader.seek(start)).batchOffset };
      return start;
    }
    if (typeof start === 'object' && start !== null && Number.isFinite(start.timestamp)) {
      return (await this.timestampOffset(start.timestamp)) ?? (await reader.highWatermark());
    }
    throw new InvalidArgumentError(
      `A start position is an offset, 'earliest', 'latest' or { timestamp }; got ${JSON.stringify(start)}`,
    );
  }

  timestampOffset(timestamp: number): Promise<number | null> {
    return offsetForTimestamp(this.reader, timestamp);
  }

  async fetch(position: number, limits: SourceFetchLimits, signal?: AbortSignal): Promise<FetchedRecords> {
    const deadline = Date.now() + limits.maxWaitMs;
    const waker = new Waker();
    const abort = () => waker.wake();
    signal?.addEventListener('abort', abort, { once: true });
    try {
      for (let pause = LONG_POLL_MIN_MS; ; pause = Math.min(LONG_POLL_MAX_MS, pause * 2)) {
        const fetched = await this.#fetchOnce(position, limits);
        const left = deadline - Date.now();
        if (fetched.records.length > 0 || left <= 0 || signal?.aborted) return fetched;
        // Nothing yet (or only control/voided batches): continue after them once something lands.
        position = fetched.nextOffset;
        await waker.sleep(Math.min(pause, left));
      }
    } finally {
      signal?.removeEventListener('abort', abort);
    }
  }

  async #fetchOnce(position: number, limits: SourceFetchLimits): Promise<FetchedRecords> {
    const carry = this.#carry;
    this.#carry = undefined;
    if (!carry || carry.records[0]?.offset !== position) return this.#read(position, [], limits);
    // Records kept from the previous fetch, which stopped exactly here; read on after them only
    // if they do not fill this fetch.
    const carriedBytes = carry.records.reduce((n, r) => n + recordBytes(r), 0);
    if (!carry.more || carry.records.length >= limits.maxRecords || carriedBytes >= limits.maxBytes) {
      this.#boundary = undefined;
      return this.#handOut(carry.records, carry.nextOffset, carry.more, limits.maxRecords);
    }
    this.#boundary = carry.nextOffset;
    try {
      return await this.#read(carry.nextOffset, carry.records, {
        ...limits,
        maxRecords: limits.maxRecords - carry.records.length,
        maxBytes: limits.maxBytes - carriedBytes,
      });
    } catch (error) {
      // Nothing is lost: the next fetch from `position` hands them out again.
      this.#carry = carry;
      throw error;
    }
  }

  /**
   * Reads from `position` and returns `before` followed by what was read, at most
   * `before.length + limits.maxRecords` records; the rest is kept for the next fetch.
   */
  async #read(
    position: number,
    before: readonly RawRecord[],
    limits: Pick<SourceFetchLimits, 'maxRecords' | 'maxBytes'>,
  ): Promise<FetchedRecords> {
    let from = position;
    // The batch this read's own seek found: read a moment ago, it is the fetch's first batch.
    let first: SeekResult['batch'];
    if (this.#sought?.position === position) from = this.#sought.batchOffset;
    else if (this.#boundary !== position)
      ({ batchOffset: from, batch: first } = await this.reader.seek(position));
    this.#sought = undefined;
    const result = await this.reader.fetch(
      from,
      { maxRecords: limits.maxRecords, maxBytes: limits.maxBytes },
      first,
    );
    const records: RawRecord[] = [...before];
    for (const slot of result.batches) {
      if (slot.voided) continue;
      const batch = await decodeRecordBatch(slot.body, `${this.reader.label}@${slot.offset}`);
      if (batch.isControl) continue;
      for (const r of batch.records) {
        if (r.offset < position) continue;
        records.push({
          offset: r.offset,
          timestamp: r.timestamp,
          key: r.key === null ? null : toBuffer(r.key),
          value: r.value === null ? null : toBuffer(r.value),
          headers: r.headers.map((h) => ({ key: h.key, value: h.value === null ? null : toBuffer(h.value) })),
        });
      }
    }
    this.#boundary = result.nextOffset;
    const maxRecords = before.length + limits.maxRecords;
    if (records.length > maxRecords) {
      this.#boundary = undefined;
      return this.#handOut(records, result.nextOffset, result.continues, maxRecords);
    }
    return { records, nextOffset: Math.max(result.nextOffset, position) };
  }

  /**
   * Hands out the first `maxRecords` of `records` (which end at the batch boundary `nextOffset`)
   * and keeps the rest for the fetch that continues at the first of them; `more` says whether that
   * fetch should read on after them (the log did not end at `nextOffset` when it was read).
   */
  #handOut(
    records: readonly RawRecord[],
    nextOffset: number,
    more: boolean,
    maxRecords: number,
  ): FetchedRecords {
    if (records.length <= maxRecords) {
      this.#boundary = nextOffset;
      return { records, nextOffset };
    }
    // Batches are read whole: hand out no more than asked, keep the rest for the next fetch.
    const kept = records.slice(0, maxRecords);
    this.#carry = { records: records.slice(maxRecords), nextOffset, more };
    return { records: kept, nextOffset: kept[kept.length - 1]!.offset + 1 };
  }
}

/** Opens direct sources, checking the partition against the (cached, then fresh) topic metadata. */
export function directSources(ctx: StorageContext, topics: TopicCache): PartitionSourceFactory {
  return async ({ topic: name, partition }) => {
    const valid = (count: number) => Number.isInteger(partition) && partition >= 0 && partition < count;
    let topic = await topics.get(name);
    if (!valid(topic.partitions)) {
      // Partitions may have been added since the cache was filled.
      topics.invalidate(name);
      topic = await topics.get(name);
      if (!valid(topic.partitions)) throw new UnknownPartitionError(name, partition, topic.partitions);
    }
    // With regions: the client's own region (a replica when the topic is homed elsewhere) or the home.
    const placement = readPlacement(ctx, topic);
    return new DirectPartitionSource(
      placement.ctx,
      { topic: topic.name, incarnation: topic.incarnation, partition },
      placement.replica,
    );
  };
}

/** Bytes of a record's key, value and headers (what `maxBytes` bounds, near enough). */
function recordBytes(r: RawRecord): number {
  let bytes = (r.key?.byteLength ?? 0) + (r.value?.byteLength ?? 0);
  for (const h of r.headers) bytes += h.key.length + (h.value?.byteLength ?? 0);
  return bytes;
}

/** A Buffer view of bytes (no copy). */
function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
