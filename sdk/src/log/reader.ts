/**
 * Reads one partition's log: seek, contiguous sequential fetch, high watermark, log start and
 * offsets by timestamp.
 *
 * Fetches use eventually consistent queries (half the price) and check contiguity: every batch
 * must start where the previous ended. A break (or a pending claim, which a lagging replica may
 * still show after the body landed) is re-read with a consistent query before the reader believes
 * it, so no offset is ever skipped. A claim still pending past its deadline is voided: replaced by
 * a control batch with no records covering the same offsets, so a crashed writer never blocks the
 * partition.
 */
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  GetItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import type { StorageContext } from '../context.ts';
import { InvalidArgumentError, LogInvariantError, OffsetOutOfRangeError } from '../errors.ts';
import {
  LogAttr,
  PARTITION_META_OFFSET,
  type PartitionRef,
  PENDING_STATE,
  partitionKey,
  partitionLabel,
} from '../keys.ts';
import { withRetry } from '../retry.ts';
import { loadClaim } from './claim-check.ts';
import {
  type CompleteSlot,
  logKey,
  type PendingSlot,
  type Slot,
  slotBytes,
  slotEnd,
  slotFromItem,
} from './log-item.ts';
import { encodeRecordBatch } from './record-batch.ts';

/**
 * Limits of one fetch. They decide whether another page is read: a fetch returns every batch of
 * the pages it read (already paid for), so it may exceed them by up to one page (1 MB).
 */
export interface FetchLimits {
  readonly maxRecords: number;
  readonly maxBytes: number;
}

/** Result of a fetch from a batch boundary. */
export interface FetchResult {
  /** Complete batches, contiguous from the requested offset. */
  readonly batches: readonly CompleteSlot[];
  /** The offset to fetch from next. */
  readonly nextOffset: number;
  /** True when the fetch stopped at a claim whose body is still being written. */
  readonly blockedByPending: boolean;
}

/** Where a seek landed. */
export interface SeekResult {
  /** Base offset of the batch containing the requested offset (a batch boundary). */
  readonly batchOffset: number;
}

/** Queries larger than this many items per page gain nothing: pages stop at 1 MB anyway. */
const MAX_PAGE_ITEMS = 100;

type Item = Record<string, AttributeValue>;

/** Reads one partition. Stateless apart from its reference; cheap to create. */
export class PartitionReader {
  readonly ref: PartitionRef;
  readonly partitionKey: string;
  readonly label: string;
  readonly #ctx: StorageContext;

  constructor(ctx: StorageContext, ref: PartitionRef) {
    this.#ctx = ctx;
    this.ref = ref;
    this.partitionKey = partitionKey(ref);
    this.label = partitionLabel(ref);
  }

  /**
   * Fetches complete batches starting exactly at `offset`, which must be a batch boundary (the
   * result of {@link seek}, or a previous fetch's `nextOffset`).
   */
  async fetch(offset: number, limits: FetchLimits): Promise<FetchResult> {
    const eventual = await this.#fetchOnce(offset, limits, false);
    if (eventual !== 'inconsistent') return this.#loadClaims(eventual);
    const consistent = await this.#fetchOnce(offset, limits, true);
    if (consistent !== 'inconsistent') return this.#loadClaims(consistent);
    // A consistent read still shows a break in the chain right at `offset`: either the offset was
    // archived or expired (below the log start) or the log is corrupt.
    const start = await this.logStartOffset();
    if (offset < start)
      throw new OffsetOutOfRangeError(
        this.ref.topic,
        this.ref.partition,
        offset,
        start,
        await this.highWatermark(),
      );
    throw new LogInvariantError(`The log of ${this.label} has a gap at offset ${offset}`);
  }

  /** Loads the bytes of batches stored in S3 (claim check), in parallel. */
  async #loadClaims(result: FetchResult): Promise<FetchResult> {
    if (!result.batches.some((b) => b.claim)) return result;
    const batches = await Promise.all(
      result.batches.map(async (b) =>
        b.claim ? { ...b, body: await loadClaim(this.#ctx, b.claim, b.offset) } : b,
      ),
    );
    return { ...result, batches };
  }

  async #fetchOnce(
    offset: number,
    limits: FetchLimits,
    consistent: boolean,
  ): Promise<FetchResult | 'inconsistent'> {
    const batches: CompleteSlot[] = [];
    let expected = offset;
    let records = 0;
    let bytes = 0;
    let startKey: Item | undefined;
    const full = () => batches.length > 0 && (records >= limits.maxRecords || bytes >= limits.maxBytes);
    do {
      const page = await this.#query({
        KeyConditionExpression: '#pk = :pk AND #off >= :from',
        ExpressionAttributeValues: { ':pk': { S: this.partitionKey }, ':from': { N: String(offset) } },
        ScanIndexForward: true,
        // Every batch holds at least one record, so more items than records still wanted are never needed.
        Limit: Math.min(MAX_PAGE_ITEMS, Math.max(1, limits.maxRecords - records)),
        ConsistentRead: consistent,
        ...(startKey ? { ExclusiveStartKey: startKey } : {}),
      });
      startKey = page.LastEvaluatedKey;
      for (const item of page.Items ?? []) {
        let slot = slotFromItem(item);
        if (slot.offset !== expected) {
          // A break in the chain: believe it only from a consistent read.
          if (!consistent || batches.length === 0) return 'inconsistent';
          throw new LogInvariantError(`The log of ${this.label} has a gap at offset ${expected}`);
        }
        if (slot.kind === 'pending') {
          // A lagging replica may still show a claim whose body has landed: confirm first.
          if (!consistent) return batches.length > 0 ? done(batches, expected, false) : 'inconsistent';
          const voided = await this.voidIfAbandoned(slot);
          if (!voided) return done(batches, expected, true);
          slot = voided;
        }
        // Every item of a page is paid for, so all of them are kept even past the limits; the
        // limits decide whether another page is read.
        batches.push(slot);
        expected = slotEnd(slot);
        records += slot.count;
        bytes += slotBytes(slot);
      }
    } while (startKey && !full());
    return done(batches, expected, false);
  }

  /**
   * Finds the batch containing `offset` and returns its base offset. `offset` equal to the high
   * watermark is valid (nothing to read yet); anything outside `[logStart, highWatermark]` throws
   * {@link OffsetOutOfRangeError}.
   */
  async seek(offset: number): Promise<SeekResult> {
    if (!Number.isSafeInteger(offset) || offset < 0) {
      throw new InvalidArgumentError(`Offsets are non-negative integers; got ${offset} for ${this.label}`);
    }
    for (const consistent of [false, true]) {
      const page = await this.#query({
        KeyConditionExpression: '#pk = :pk AND #off BETWEEN :zero AND :at',
        ExpressionAttributeValues: {
          ':pk': { S: this.partitionKey },
          ':zero': { N: '0' },
          ':at': { N: String(offset) },
        },
        ScanIndexForward: false,
        Limit: 1,
        ConsistentRead: consistent,
      });
      const item = page.Items?.[0];
      const slot = item ? slotFromItem(item) : undefined;
      if (slot && offset < slotEnd(slot)) return { batchOffset: slot.offset };
      // With a consistent read, the greatest batch at or before `offset` ending exactly at
      // `offset` means no batch starts there yet: `offset` is the high watermark.
      if (consistent && slot && offset === slotEnd(slot)) return { batchOffset: offset };
    }
    const [start, end] = await Promise.all([this.logStartOffset(), this.highWatermark()]);
    if (offset >= start && offset === end) return { batchOffset: offset };
    throw new OffsetOutOfRangeError(this.ref.topic, this.ref.partition, offset, start, end);
  }

  /** The offset after the last batch (including a pending one): the next offset to be written. */
  async highWatermark(consistent = true): Promise<number> {
    const tail = await this.tail(consistent);
    return tail ? slotEnd(tail) : 0;
  }

  /** The newest slot of the partition, if any. */
  async tail(consistent = true): Promise<Slot | undefined> {
    const page = await this.#query({
      KeyConditionExpression: '#pk = :pk AND #off >= :zero',
      ExpressionAttributeValues: { ':pk': { S: this.partitionKey }, ':zero': { N: '0' } },
      ScanIndexForward: false,
      Limit: 1,
      ConsistentRead: consistent,
    });
    const item = page.Items?.[0];
    return item ? slotFromItem(item) : undefined;
  }

  /** First offset still readable (0 until archiving or retention moves it). */
  async logStartOffset(): Promise<number> {
    const out = await withRetry(
      `Reading the log start of ${this.label}`,
      () =>
        this.#ctx.ddb.send(
          new GetItemCommand({
            TableName: this.#ctx.tables.log,
            Key: logKey(this.partitionKey, PARTITION_META_OFFSET),
            ConsistentRead: true,
          }),
        ),
      this.#ctx.retry,
    );
    return Number(out.Item?.[LogAttr.logStartOffset]?.N ?? '0');
  }

  /**
   * The first batch boundary at or before the first record with timestamp ≥ `timestamp`, found by
   * binary search over the batches' running max timestamp (monotonic in offset). Returns
   * `undefined` when no record is that recent. Callers scan forward from the returned offset for
   * the exact record.
   */
  async batchForTimestamp(timestamp: number): Promise<number | undefined> {
    let low = await this.logStartOffset();
    const tail = await this.tail(true);
    if (!tail || tail.runningMaxTimestamp < timestamp) return undefined;
    let high = tail.offset;
    // Invariant: the answer is a boundary in [low, high]; `high` is a batch with mts ≥ timestamp.
    while (low < high) {
      const mid = low + Math.floor((high - low) / 2);
      const { batchOffset } = await this.seek(mid);
      const slot = await this.#slotAt(batchOffset);
      if (slot.runningMaxTimestamp >= timestamp) high = slot.offset;
      else low = slotEnd(slot);
    }
    return high;
  }

  async #slotAt(offset: number): Promise<Slot> {
    const out = await withRetry(
      `Reading ${this.label} at ${offset}`,
      () =>
        this.#ctx.ddb.send(
          new GetItemCommand({
            TableName: this.#ctx.tables.log,
            Key: logKey(this.partitionKey, offset),
            ConsistentRead: true,
          }),
        ),
      this.#ctx.retry,
    );
    if (!out.Item) throw new LogInvariantError(`No batch starts at offset ${offset} of ${this.label}`);
    return slotFromItem(out.Item);
  }

  /**
   * Voids a pending claim whose deadline has passed (by this reader's clock; a premature void
   * only makes the late writer append again). Returns the resulting complete slot, or undefined
   * if the claim is still within its deadline.
   */
  async voidIfAbandoned(slot: PendingSlot): Promise<CompleteSlot | undefined> {
    if (this.#ctx.now() <= slot.deadline) return undefined;
    const body = await encodeRecordBatch({
      baseOffset: slot.offset,
      records: [],
      lastOffsetDelta: slot.count - 1,
      compression: 'none',
      producerId: -1n,
      producerEpoch: -1,
      baseSequence: -1,
      isControl: true,
    });
    try {
      const out = await withRetry(
        `Voiding an abandoned claim in ${this.label}`,
        () =>
          this.#ctx.ddb.send(
            new UpdateItemCommand({
              TableName: this.#ctx.tables.log,
              Key: logKey(this.partitionKey, slot.offset),
              UpdateExpression: 'SET #b = :b, #v = :one REMOVE #st, #dl',
              ConditionExpression: '#st = :pending AND #dl = :dl AND #pid = :pid AND #seq = :seq',
              ExpressionAttributeNames: {
                '#b': LogAttr.body,
                '#v': LogAttr.voided,
                '#st': LogAttr.state,
                '#dl': LogAttr.deadline,
                '#pid': LogAttr.producerId,
                '#seq': LogAttr.sequence,
              },
              ExpressionAttributeValues: {
                ':b': { B: body },
                ':one': { N: '1' },
                ':pending': { S: PENDING_STATE },
                ':dl': { N: String(slot.deadline) },
                ':pid': { N: slot.producerId },
                ':seq': { N: String(slot.sequence) },
              },
              ReturnValues: 'ALL_NEW',
              ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
            }),
          ),
        this.#ctx.retry,
      );
      return asComplete(slotFromItem(out.Attributes ?? {}), this.label);
    } catch (error) {
      // The writer finished (or another reader voided it) just before us: use what is there.
      if (error instanceof ConditionalCheckFailedException && error.Item) {
        return asComplete(slotFromItem(error.Item), this.label);
      }
      throw error;
    }
  }

  #query(
    input: Omit<ConstructorParameters<typeof QueryCommand>[0], 'TableName' | 'ExpressionAttributeNames'>,
  ) {
    return withRetry(
      `Reading ${this.label}`,
      () =>
        this.#ctx.ddb.send(
          new QueryCommand({
            TableName: this.#ctx.tables.log,
            ExpressionAttributeNames: { '#pk': LogAttr.partitionKey, '#off': LogAttr.offset },
            ...input,
          }),
        ),
      this.#ctx.retry,
    );
  }
}

function done(batches: CompleteSlot[], nextOffset: number, blockedByPending: boolean): FetchResult {
  return { batches, nextOffset, blockedByPending };
}

function asComplete(slot: Slot, label: string): CompleteSlot {
  if (slot.kind !== 'complete')
    throw new LogInvariantError(`A claim in ${label} is still pending after it was voided`);
  return slot;
}
