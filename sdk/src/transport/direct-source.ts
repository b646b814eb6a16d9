/**
 * The direct transport's partition source: reads the log (DynamoDB, and S3 below the local log
 * start) with the caller's credentials, checking every batch's CRC as it decodes it. A fetch that
 * continues where the previous one ended starts at that batch boundary; any other position is
 * first located with a seek (the batch holding it), and records before it are skipped.
 */
import type { StorageContext } from '../context.ts';
import { InvalidArgumentError, UnknownPartitionError } from '../errors.ts';
import type { PartitionRef } from '../keys.ts';
import { PartitionReader } from '../log/reader.ts';
import { decodeRecordBatch } from '../log/record-batch.ts';
import { offsetForTimestamp } from '../log/timestamp-lookup.ts';
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
   * at the first of them; `nextOffset` is the batch boundary after the last. Handing them out later
   * instead of dropping them means no batch is read twice and no seek is needed.
   */
  #carry: { records: RawRecord[]; nextOffset: number } | undefined;

  constructor(ctx: StorageContext, ref: PartitionRef) {
    this.partition = { topic: ref.topic, partition: ref.partition };
    this.reader = new PartitionReader(ctx, ref);
  }

  async resolve(start: StartPosition): Promise<number> {
    const reader = this.reader;
    if (start === 'earliest') return reader.logStartOffset();
    if (start === 'latest') return reader.highWatermark();
    if (typeof start === 'number') {
      if (!Number.isSafeInteger(start) || start < 0) {
        throw new InvalidArgumentError(`Offsets are non-negative integers; got ${start} for ${reader.label}`);
      }
      // Validates the range now rather than at the first fetch.
      await reader.seek(start);
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
    const carried = this.#takeCarry(position, limits.maxRecords);
    if (carried) return carried;
    const from = this.#boundary === position ? position : (await this.reader.seek(position)).batchOffset;
    const result = await this.reader.fetch(from, {
      maxRecords: limits.maxRecords,
      maxBytes: limits.maxBytes,
    });
    const records: RawRecord[] = [];
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
    if (records.length > limits.maxRecords) {
      // Batches are read whole: hand out no more than asked, keep the rest for the next fetch.
      const kept = records.slice(0, limits.maxRecords);
      this.#carry = { records: records.slice(limits.maxRecords), nextOffset: result.nextOffset };
      this.#boundary = undefined;
      return { records: kept, nextOffset: kept[kept.length - 1]!.offset + 1 };
    }
    this.#boundary = result.nextOffset;
    return { records, nextOffset: Math.max(result.nextOffset, position) };
  }

  /** Records kept from the previous fetch, when this one continues exactly where it stopped. */
  #takeCarry(position: number, maxRecords: number): FetchedRecords | undefined {
    const carry = this.#carry;
    this.#carry = undefined;
    if (!carry || carry.records[0]?.offset !== position) return undefined;
    const kept = carry.records.slice(0, maxRecords);
    if (kept.length < carry.records.length) {
      this.#carry = { records: carry.records.slice(maxRecords), nextOffset: carry.nextOffset };
      return { records: kept, nextOffset: kept[kept.length - 1]!.offset + 1 };
    }
    this.#boundary = carry.nextOffset;
    return { records: kept, nextOffset: carry.nextOffset };
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
    return new DirectPartitionSource(ctx, { topic: topic.name, incarnation: topic.incarnation, partition });
  };
}

/** A Buffer view of bytes (no copy). */
function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
