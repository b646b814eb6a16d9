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
 *
 * A source made by {@link directSources} follows its topic's failovers: before each fetch it looks
 * at the cached metadata (no request while it is fresh) and, when the topic's leader epochs
 * changed, reads on with a reader made from them (from the new placement: the new home may be this
 * region now). A fetch that stops at a planned failover's fence, or a position beyond the log its
 * epochs know, reads the topic again first (from the new home's table, where the switch is written
 * first). Offsets are the same numbers in every epoch, so positions stay valid.
 */
import type { ReplicaReading, StorageContext } from '../context.ts';
import { InvalidArgumentError, OffsetOutOfRangeError, UnknownPartitionError } from '../errors.ts';
import type { PartitionRef } from '../keys.ts';
import type { FenceTarget } from '../log/log-store.ts';
import { type FetchResult, PartitionReader, type SeekResult } from '../log/reader.ts';
import { decodeRecordBatch } from '../log/record-batch.ts';
import { offsetForTimestamp } from '../log/timestamp-lookup.ts';
import { readPlacement } from '../regions/routing.ts';
import type { StartPosition } from '../topic-partition.ts';
import type { TopicCache } from '../topics/topic-cache.ts';
import { partitionRef, type TopicMetadata } from '../topics/topic-metadata.ts';
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

/** Where a source reads one partition, as of one version of its topic's metadata. */
export interface SourcePlacement {
  readonly ctx: StorageContext;
  readonly ref: PartitionRef;
  readonly replica?: ReplicaReading | undefined;
}

/** How a source follows its topic's failovers: the metadata cache, and where to read given it. */
export interface TopicFollower {
  /** The topic's metadata as cached (a request only when the cache is stale). */
  current(): Promise<TopicMetadata>;
  /** The topic read again now: from `region`'s table (a fence names the new home) or the usual ones. */
  reload(region?: string): Promise<TopicMetadata>;
  /** Where to read the partition with this metadata. */
  placement(topic: TopicMetadata): SourcePlacement;
}

export class DirectPartitionSource implements PartitionSource {
  readonly partition: { readonly topic: string; readonly partition: number };
  readonly waitsForRecords = false;
  #reader: PartitionReader;
  readonly #follower: TopicFollower | undefined;
  /** The metadata the reader was made from (with a follower). */
  #topic: TopicMetadata | undefined;
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

  /**
   * `replica`: set when `ctx` holds a replica of the topic's log (see {@link PartitionReader}).
   * `follower`: how to follow the topic's failovers, with the metadata `ref` was made from.
   */
  constructor(
    ctx: StorageContext,
    ref: PartitionRef,
    replica?: ReplicaReading,
    follower?: { readonly follower: TopicFollower; readonly topic: TopicMetadata },
  ) {
    this.partition = { topic: ref.topic, partition: ref.partition };
    this.#reader = new PartitionReader(ctx, ref, replica);
    this.#follower = follower?.follower;
    this.#topic = follower?.topic;
  }

  /** The reader of the partition, as of the newest metadata this source has seen. */
  get reader(): PartitionReader {
    return this.#reader;
  }

  /** Moves onto `topic`'s placement when its leader epochs differ from the reader's. True if it moved. */
  #adopt(topic: TopicMetadata): boolean {
    const before = this.#topic;
    if (!this.#follower || !before || topic === before) return false;
    this.#topic = topic;
    if (topic.incarnation !== before.incarnation || topic.epochs?.version === before.epochs?.version) {
      return false;
    }
    const placement = this.#follower.placement(topic);
    this.#reader = new PartitionReader(placement.ctx, placement.ref, placement.replica);
    // Batch boundaries and carried records came from the old epochs' view: look everything up again.
    this.#boundary = undefined;
    this.#carry = undefined;
    this.#sought = undefined;
    return true;
  }

  /** Adopts the cached metadata if it moved on (no request while the cache is fresh). */
  async #followCache(): Promise<void> {
    if (this.#follower) this.#adopt(await this.#follower.current());
  }

  /** Reads the topic again (from the fence's new home, if one was met); true if the reader moved. */
  async #reload(fence?: FenceTarget): Promise<boolean> {
    if (!this.#follower) return false;
    return this.#adopt(await this.#follower.reload(fence?.region));
  }

  /**
   * Runs `read`; an offset out of range for a reader whose epochs may be stale (a position from a
   * newer epoch) is tried again once with the topic read again, when that moved the reader.
   */
  async #inRange<T>(read: () => Promise<T>): Promise<T> {
    try {
      return await read();
    } catch (error) {
      if (error instanceof OffsetOutOfRangeError && (await this.#reload())) return read();
      throw error;
    }
  }

  async resolve(start: StartPosition): Promise<number> {
    await this.#followCache();
    return this.#inRange(() => this.#resolve(start));
  }

  async #resolve(start: StartPosition): Promise<number> {
    const reader = this.#reader;
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
      return (await offsetForTimestamp(reader, start.timestamp)) ?? (await reader.highWatermark());
    }
    throw new InvalidArgumentError(
      `A start position is an offset, 'earliest', 'latest' or { timestamp }; got ${JSON.stringify(start)}`,
    );
  }

  async timestampOffset(timestamp: number): Promise<number | null> {
    await this.#followCache();
    return offsetForTimestamp(this.#reader, timestamp);
  }

  async fetch(position: number, limits: SourceFetchLimits, signal?: AbortSignal): Promise<FetchedRecords> {
    await this.#followCache();
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
    if (!carry || carry.records[0]?.offset !== position)
      return this.#inRange(() => this.#read(position, [], limits));
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
      ({ batchOffset: from, batch: first } = await this.#reader.seek(position));
    this.#sought = undefined;
    let result: FetchResult = await this.#reader.fetch(
      from,
      { maxRecords: limits.maxRecords, maxBytes: limits.maxBytes },
      first,
    );
    if (result.moved && result.batches.length === 0 && (await this.#reload(result.moved))) {
      // The fence ended the epochs this reader knew; the reader of the new ones reads on from there.
      result = await this.#reader.fetch(result.nextOffset, {
        maxRecords: limits.maxRecords,
        maxBytes: limits.maxBytes,
      });
    }
    const records: RawRecord[] = [...before];
    for (const slot of result.batches) {
      if (slot.voided) continue;
      const batch = await decodeRecordBatch(slot.body, `${this.#reader.label}@${slot.offset}`);
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

/**
 * Opens direct sources, checking the partition against the (cached, then fresh) topic metadata.
 * With the deployment's regions known, each source follows the topic's failovers through the cache.
 */
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
    const placement = (t: TopicMetadata): SourcePlacement => {
      const { ctx: read, replica } = readPlacement(ctx, t);
      return { ctx: read, ref: partitionRef(t, partition), replica };
    };
    const first = placement(topic);
    const follower: TopicFollower = {
      current: () => topics.get(name),
      reload: (region) => topics.reload(name, region === undefined ? {} : { region }),
      placement,
    };
    return new DirectPartitionSource(
      first.ctx,
      first.ref,
      first.replica,
      ctx.regions ? { follower, topic } : undefined,
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
