/**
 * The log table's one store: every DynamoDB command on the log table is built here, so which
 * table (and, with replicas, which region) a read or write goes to is decided in one place.
 *
 * The table holds, per partition (see `keys.ts` and docs/design-notes.md):
 * - batch items under the partition key, sorted by base offset (complete, pending, voided, stubs);
 *   after a failover, each leader epoch's under its own key (`batchKey`). Every batch read and write
 *   goes to the key space of the epoch holding its offset (`ref.epochs`, `regions/leader-epochs.ts`),
 *   and a range query reads epoch after epoch, so callers see one chain of offsets;
 * - a planned failover's fence at the old epoch's chain end, and the records of re-appended
 *   divergent batches under `<batch key>#reappended`;
 * - the partition metadata item at `off = -1` (tier bounds, stub progress, orphan check point);
 * - segment manifest items under `<partition key>#segments`;
 * - idempotent producers' state items under `<partition key>#producers`.
 *
 * Methods are named for what they do and return domain values (slots, outcomes) or raw items
 * where the caller parses them. A failed condition comes back as a value (a collision's occupant,
 * `false`, a transaction's cancellation reasons); every other error propagates untouched (after
 * the one retry helper gave up on it).
 */

import { randomUUID } from 'node:crypto';
import {
  type AttributeValue,
  type CancellationReason,
  ConditionalCheckFailedException,
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  type QueryCommandInput,
  TransactionCanceledException,
  type TransactWriteItem,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { batchWriteAll } from '../batch-write.ts';
import type { StorageContext } from '../context.ts';
import {
  batchKey,
  LogAttr,
  PARTITION_META_OFFSET,
  type PartitionRef,
  PENDING_STATE,
  ProducerAttr,
  partitionKey,
  partitionLabel,
  producerStateKey,
  ReappendAttr,
  reappendedKey,
  SegmentAttr,
  segmentManifestKey,
} from '../keys.ts';
import { type EpochRange, epochAt, epochRanges } from '../regions/leader-epochs.ts';
import { withRetry } from '../retry.ts';
import type { Claim } from './claim-check.ts';
import {
  bodyAttributes,
  type ChainTail,
  fenceAttributes,
  logKey,
  type PendingSlot,
  type Slot,
  type SlotBase,
  slotAttributes,
  slotFromItem,
  stampAttributes,
} from './log-item.ts';
import type { ClaimCondition, SequenceClaim } from './producer-claim.ts';
import { setBaseOffset } from './record-batch.ts';

/** A log table item as DynamoDB returns it. */
/** An offset together with the partition's running byte count before it. */
export interface LogPosition {
  readonly offset: number;
  /** Bytes of all batches before `offset`. */
  readonly bytes: number;
}

export type LogItem = Record<string, AttributeValue>;

/** One page of a query: its items and where the next page starts (if any). */
export interface ItemPage {
  readonly items: readonly LogItem[];
  readonly lastKey: LogItem | undefined;
}

/** A range query over a partition's batch items. */
export interface BatchQuery {
  /** First offset of the range. */
  readonly from: number;
  /** End of the range (exclusive). @default the end of the log */
  readonly to?: number;
  /** Most items in the page. @default DynamoDB's (a page stops at 1 MB) */
  readonly limit?: number;
  readonly consistent: boolean;
  /**
   * Newest first when true. Sent (as `ScanIndexForward`) only when given: left out, DynamoDB
   * reads ascending.
   */
  readonly descending?: boolean;
  /** The previous page's `lastKey`. */
  readonly startKey?: LogItem | undefined;
}

/** A query over a partition's segment manifest. */
export interface SegmentQuery {
  /** Only segments with base offset ≤ this. @default every segment */
  readonly atOrBefore?: number;
  readonly descending: boolean;
  readonly limit: number;
  readonly consistent: boolean;
  readonly startKey?: LogItem | undefined;
}

/** The bytes of a batch to write into a slot: inline, or a pointer to its S3 object. */
export interface BatchBody {
  /** The RecordBatch; its baseOffset is rewritten to the slot's offset (unless it is claimed). */
  readonly body: Uint8Array;
  readonly claim?: Claim | undefined;
}

/** Outcome of a conditional write into a slot. */
export type SlotWriteOutcome =
  | { readonly kind: 'written' }
  /** The slot was not as required; this is what occupies it. */
  | { readonly kind: 'occupied'; readonly occupant: Slot };

/** One partition's batch in an atomic append. */
export interface TransactionBatch {
  readonly ref: PartitionRef;
  readonly slot: SlotBase;
  readonly batch: BatchBody;
}

/** Outcome of an atomic append. */
export type TransactionOutcome =
  | { readonly kind: 'written' }
  /** DynamoDB cancelled it; one reason per item, batches first, then the extra items. */
  | { readonly kind: 'cancelled'; readonly reasons: readonly CancellationReason[] };

/** Outcome of moving a bound on the partition metadata item. */
export type BoundMove =
  | { readonly moved: true }
  /** The bound was not at the expected value; `current` is where it is (0 if never written). */
  | { readonly moved: false; readonly current: number };

/** A segment as its manifest item records it. */
export interface ManifestEntry {
  readonly baseOffset: number;
  /** First offset after the segment. */
  readonly endOffset: number;
  /** Bytes of the `.log` object. */
  readonly bytes: number;
  readonly batches: number;
  /** Running max timestamp of the partition through the segment's last batch. */
  readonly runningMaxTimestamp: number;
  /** Running bytes of the partition through the segment's last batch. */
  readonly runningBytes: number;
}

/** A claim write of an idempotent producer's state. */
export interface ProducerClaimWrite {
  readonly epoch: number;
  /** The next sequence the partition expects once the claim is made. */
  readonly nextSequence: number;
  readonly claim: SequenceClaim;
  readonly condition: ClaimCondition;
  /** Epoch seconds after which TTL deletes the state. */
  readonly expiresAt: number;
}

/** Outcome of a producer claim write: made, or the condition failed on this item (absent: none). */
export type ProducerClaimOutcome =
  /** `previous`: the item as it was before the claim (undefined when the claim created it). */
  | { readonly claimed: true; readonly previous: LogItem | undefined }
  | { readonly claimed: false; readonly current: LogItem | undefined };

/**
 * The key spaces of one partition in the log table: one epoch's batches (every item under its key,
 * fences and divergent batches included) or its re-append records, the segment manifest, the
 * producers' state.
 */
export type PartitionKeySpace =
  | { readonly kind: 'batches' | 'reappended'; readonly epoch: number }
  | { readonly kind: 'segments' | 'producers' };

/** The partition key of a key space. */
function keySpaceKey(ref: PartitionRef, space: PartitionKeySpace): string {
  switch (space.kind) {
    case 'batches':
      return batchKey(ref, space.epoch);
    case 'reappended':
      return reappendedKey(ref, space.epoch);
    case 'segments':
      return segmentManifestKey(ref);
    case 'producers':
      return producerStateKey(ref);
  }
}

/** The key a batch at `offset` has: its epoch's key space's. */
function batchItemKey(ref: PartitionRef, offset: number): LogItem {
  return logKey(batchKey(ref, epochAt(ref.epochs, offset).epoch), offset);
}

/**
 * Sort key of the page keys {@link LogStore.queryBatches} hands out when one epoch's key space is
 * read to its end and the range goes on in the next: "from the start of this key space". No item
 * sits there (batches start at 0, the metadata item is at -1).
 */
const KEY_SPACE_START = -2;

/** A range query's page key that continues at the start of `epoch`'s key space. */
function keySpaceStart(ref: PartitionRef, epoch: number): LogItem {
  return logKey(batchKey(ref, epoch), KEY_SPACE_START);
}

type KeyCondition = Pick<
  QueryCommandInput,
  'KeyConditionExpression' | 'ExpressionAttributeNames' | 'ExpressionAttributeValues'
>;

/**
 * The key condition of a query over one epoch's range (`to` undefined: open-ended), the bounds
 * under the placeholder names given (a single key space's queries keep the names they always had).
 */
function rangeCondition(
  ref: PartitionRef,
  range: EpochRange,
  names: { readonly from: string; readonly last: string } = { from: ':from', last: ':last' },
): KeyCondition {
  const values: LogItem = {
    ':pk': { S: batchKey(ref, range.epoch) },
    [names.from]: { N: String(range.from) },
  };
  if (range.to !== undefined) values[names.last] = { N: String(range.to - 1) };
  return {
    KeyConditionExpression:
      range.to === undefined
        ? `#pk = :pk AND #off >= ${names.from}`
        : `#pk = :pk AND #off BETWEEN ${names.from} AND ${names.last}`,
    ExpressionAttributeNames: { '#pk': LogAttr.partitionKey, '#off': LogAttr.offset },
    ExpressionAttributeValues: values,
  };
}

/** Bound names of the newest-first point queries, as they were before epochs. */
const TAIL_NAMES = { from: ':zero', last: ':last' } as const;
const AT_OR_BEFORE_NAMES = { from: ':zero', last: ':at' } as const;

/** A fence to write: the epoch and region the log continues in. */
export interface FenceTarget {
  readonly epoch: number;
  readonly region: string;
}

/** Names of the bound attributes; an update sends only those its expressions use. */
const BOUND_NAMES = {
  '#lso': LogAttr.logStartOffset,
  '#lsb': LogAttr.logStartBytes,
  '#llso': LogAttr.localLogStartOffset,
  '#llsb': LogAttr.localLogStartBytes,
} as const;

/** Reads and writes the log table. Stateless and cheap to create. */
export class LogStore {
  readonly #ctx: StorageContext;

  constructor(ctx: StorageContext) {
    this.#ctx = ctx;
  }

  #send<T>(operation: string, fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    return withRetry(operation, fn, this.#ctx.retry, signal);
  }

  /**
   * What a slot written now says about its writer: nothing, unless the client knows its regions;
   * then the region, the leader epoch whose key space takes it, and the time.
   */
  #stamp(ref: PartitionRef, slot: Pick<SlotBase, 'offset'>): LogItem {
    const { region } = this.#ctx;
    if (region === undefined) return {};
    return stampAttributes(region, epochAt(ref.epochs, slot.offset).epoch, this.#ctx.now());
  }

  // --- Batch items -----------------------------------------------------------------------------

  /**
   * One page of a partition's batch items in `[from, to)`, epoch after epoch (newest first when
   * `descending`): a page holds one epoch's items, and its `lastKey` leads on to the next epoch's
   * key space while the range goes on. Without epochs this is one query, as it always was.
   */
  queryBatches(ref: PartitionRef, query: BatchQuery): Promise<ItemPage> {
    return this.#acrossEpochs(ref, query, `Reading ${partitionLabel(ref)}`, (range) => ({
      ...rangeCondition(ref, range),
      ...(query.descending === undefined ? {} : { ScanIndexForward: !query.descending }),
      ...(query.limit === undefined ? {} : { Limit: query.limit }),
      ConsistentRead: query.consistent,
    }));
  }

  /**
   * Pages through the epoch ranges of `[from, to)` with one query per range: `input` builds the
   * query of a range, `startKey` (a previous page's `lastKey`) says which range and where in it.
   */
  async #acrossEpochs(
    ref: PartitionRef,
    query: Pick<BatchQuery, 'from' | 'to' | 'descending' | 'startKey'>,
    operation: string,
    input: (range: EpochRange) => Omit<QueryCommandInput, 'TableName' | 'ExclusiveStartKey'>,
  ): Promise<ItemPage> {
    const ranges = epochRanges(ref.epochs, query.from, query.to);
    if (query.descending) ranges.reverse();
    let at = 0;
    let startKey = query.startKey;
    if (startKey) {
      const pk = startKey[LogAttr.partitionKey]?.S;
      at = Math.max(
        0,
        ranges.findIndex((r) => batchKey(ref, r.epoch) === pk),
      );
      if (startKey[LogAttr.offset]?.N === String(KEY_SPACE_START)) startKey = undefined;
    }
    for (; at < ranges.length; at++) {
      const page = await this.#page(operation, {
        TableName: this.#ctx.tables.log,
        ...input(ranges[at]!),
        ...(startKey ? { ExclusiveStartKey: startKey } : {}),
      });
      startKey = undefined;
      const next = ranges[at + 1];
      if (page.lastKey || page.items.length > 0 || !next) {
        return { items: page.items, lastKey: page.lastKey ?? (next && keySpaceStart(ref, next.epoch)) };
      }
    }
    return { items: [], lastKey: undefined };
  }

  /**
   * The newest slot of a partition (the metadata item at `off = -1` is never it): the newest of the
   * last epoch that holds one. With stale epochs, a fence can be it.
   */
  async tail(ref: PartitionRef, consistent: boolean): Promise<Slot | undefined> {
    const ranges = epochRanges(ref.epochs, 0).reverse();
    for (const range of ranges) {
      const page = await this.#page(`Reading the tail of ${partitionLabel(ref)}`, {
        TableName: this.#ctx.tables.log,
        ...rangeCondition(ref, range, TAIL_NAMES),
        ScanIndexForward: false,
        Limit: 1,
        ConsistentRead: consistent,
      });
      const item = page.items[0];
      if (item) return slotFromItem(item);
    }
    return undefined;
  }

  /** The slot with the greatest base offset ≤ `offset` (the one holding it, if any holds it). */
  async batchAtOrBefore(ref: PartitionRef, offset: number, consistent: boolean): Promise<Slot | undefined> {
    if (offset < 0) return undefined;
    const ranges = epochRanges(ref.epochs, 0, offset + 1).reverse();
    for (const range of ranges) {
      const page = await this.#page(`Reading ${partitionLabel(ref)}`, {
        TableName: this.#ctx.tables.log,
        ...rangeCondition(ref, range, AT_OR_BEFORE_NAMES),
        ScanIndexForward: false,
        Limit: 1,
        ConsistentRead: consistent,
      });
      const item = page.items[0];
      if (item) return slotFromItem(item);
    }
    return undefined;
  }

  /** The slot starting at `offset`, read consistently; undefined when no batch starts there. */
  async getBatch(ref: PartitionRef, offset: number): Promise<Slot | undefined> {
    const out = await this.#send(`Reading ${partitionLabel(ref)} at ${offset}`, () =>
      this.#ctx.ddb.send(
        new GetItemCommand({
          TableName: this.#ctx.tables.log,
          Key: batchItemKey(ref, offset),
          ConsistentRead: true,
        }),
      ),
    );
    return out.Item ? slotFromItem(out.Item) : undefined;
  }

  /**
   * One page of the items of one epoch's key space at offsets ≥ `from`, whatever the epochs say of
   * where the epoch ends: past its end are a planned failover's fence and the batches a forced one
   * left outside the log (what a divergence report lists).
   */
  keySpaceItems(
    ref: PartitionRef,
    epoch: number,
    from: number,
    consistent: boolean,
    startKey: LogItem | undefined,
  ): Promise<ItemPage> {
    return this.#page(`Reading epoch ${epoch} of ${partitionLabel(ref)}`, {
      TableName: this.#ctx.tables.log,
      ...rangeCondition(ref, { epoch, from, to: undefined }),
      ConsistentRead: consistent,
      ...(startKey ? { ExclusiveStartKey: startKey } : {}),
    });
  }

  /**
   * Writes a planned failover's fence at the end of the chain whose tail is `tail`, in the key
   * space of the epoch holding that offset, if the slot is free: from then on no append can land
   * there or after it. `occupied` shows what took the slot first (an append, or a fence).
   */
  putFence(ref: PartitionRef, tail: ChainTail, next: FenceTarget): Promise<SlotWriteOutcome> {
    const pk = batchKey(ref, epochAt(ref.epochs, tail.end).epoch);
    return this.#putIfFree(
      ref,
      { ...fenceAttributes(pk, tail, next), ...this.#stamp(ref, { offset: tail.end }) },
      undefined,
    );
  }

  /**
   * Removes the fence at `offset` that names `next` (a planned failover that gave up lifts its
   * fences, and appends resume in the old home). False when no such fence is there.
   */
  async deleteFence(ref: PartitionRef, offset: number, next: FenceTarget): Promise<boolean> {
    try {
      await this.#send(`Lifting the fence of ${partitionLabel(ref)}`, () =>
        this.#ctx.ddb.send(
          new DeleteItemCommand({
            TableName: this.#ctx.tables.log,
            Key: batchItemKey(ref, offset),
            ConditionExpression: '#fe = :fe AND #fr = :fr',
            ExpressionAttributeNames: { '#fe': LogAttr.fenceEpoch, '#fr': LogAttr.fenceRegion },
            ExpressionAttributeValues: { ':fe': { N: String(next.epoch) }, ':fr': { S: next.region } },
          }),
        ),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /**
   * The transaction item recording that the divergent batch at (`epoch`, `offset`) was re-appended
   * at `finalOffset`: put only if no record exists, so a second re-append of the batch cancels
   * (its position 1 reason says so) instead of appending it twice.
   */
  reappendRecord(ref: PartitionRef, epoch: number, offset: number, finalOffset: number): TransactWriteItem {
    return {
      Put: {
        TableName: this.#ctx.tables.log,
        Item: {
          ...logKey(reappendedKey(ref, epoch), offset),
          [ReappendAttr.finalOffset]: { N: String(finalOffset) },
          [ReappendAttr.at]: { N: String(this.#ctx.now()) },
          ...(this.#ctx.region === undefined ? {} : { [ReappendAttr.region]: { S: this.#ctx.region } }),
        },
        ConditionExpression: 'attribute_not_exists(#off)',
        ExpressionAttributeNames: { '#off': LogAttr.offset },
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      },
    };
  }

  /**
   * Whether an item occupies the slot at `offset`. A miss costs DynamoDB's minimum (half a read
   * unit, one when `consistent`); a hit is billed for the whole item, projection or not.
   */
  async hasBatch(ref: PartitionRef, offset: number, consistent: boolean): Promise<boolean> {
    const out = await this.#send(`Reading ${partitionLabel(ref)} at ${offset}`, () =>
      this.#ctx.ddb.send(
        new GetItemCommand({
          TableName: this.#ctx.tables.log,
          Key: batchItemKey(ref, offset),
          ProjectionExpression: '#off',
          ExpressionAttributeNames: { '#off': LogAttr.offset },
          ConsistentRead: consistent,
        }),
      ),
    );
    return out.Item !== undefined;
  }

  /** Puts a complete batch at `slot` if the slot is free (one-phase append). */
  putBatch(
    ref: PartitionRef,
    slot: SlotBase,
    batch: BatchBody,
    signal: AbortSignal | undefined,
  ): Promise<SlotWriteOutcome> {
    const pk = batchKey(ref, epochAt(ref.epochs, slot.offset).epoch);
    return this.#putIfFree(
      ref,
      {
        ...slotAttributes(pk, slot),
        ...this.#stamp(ref, slot),
        ...bodyAttributes(storedBody(batch, slot.offset), batch.claim),
      },
      signal,
    );
  }

  /** Puts a pending placeholder at `slot` if the slot is free (two-phase append, step one). */
  putPendingClaim(
    ref: PartitionRef,
    slot: SlotBase,
    deadline: number,
    signal: AbortSignal | undefined,
  ): Promise<SlotWriteOutcome> {
    return this.#putIfFree(
      ref,
      {
        ...slotAttributes(batchKey(ref, epochAt(ref.epochs, slot.offset).epoch), slot),
        ...this.#stamp(ref, slot),
        [LogAttr.state]: { S: PENDING_STATE },
        [LogAttr.deadline]: { N: String(deadline) },
      },
      signal,
    );
  }

  async #putIfFree(
    ref: PartitionRef,
    item: LogItem,
    signal: AbortSignal | undefined,
  ): Promise<SlotWriteOutcome> {
    try {
      await this.#send(
        `Appending to ${partitionLabel(ref)}`,
        () => {
          signal?.throwIfAborted();
          return this.#ctx.ddb.send(
            new PutItemCommand({
              TableName: this.#ctx.tables.log,
              Item: item,
              ConditionExpression: 'attribute_not_exists(#off)',
              ExpressionAttributeNames: { '#off': LogAttr.offset },
              ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
            }),
            signal ? { abortSignal: signal } : {},
          );
        },
        signal,
      );
      return { kind: 'written' };
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException && error.Item) {
        return { kind: 'occupied', occupant: slotFromItem(error.Item) };
      }
      throw error;
    }
  }

  /**
   * Writes the body onto the writer's own pending claim at `slot` (two-phase append, step two),
   * conditional on the claim still being pending and the writer's (`slot`'s producer id and
   * sequence). `occupied` shows what is there instead (voided, or the body already written).
   */
  async writeBody(
    ref: PartitionRef,
    slot: SlotBase,
    batch: BatchBody,
    signal: AbortSignal | undefined,
  ): Promise<SlotWriteOutcome> {
    const bodyValues = bodyAttributes(storedBody(batch, slot.offset), batch.claim);
    const [first, second] = Object.keys(bodyValues);
    try {
      await this.#send(
        `Writing a batch body to ${partitionLabel(ref)}`,
        () => {
          signal?.throwIfAborted();
          return this.#ctx.ddb.send(
            new UpdateItemCommand({
              TableName: this.#ctx.tables.log,
              Key: batchItemKey(ref, slot.offset),
              UpdateExpression: `SET #b = :b${second ? ', #b2 = :b2' : ''} REMOVE #st, #dl`,
              ConditionExpression: '#st = :pending AND #pid = :pid AND #seq = :seq',
              ExpressionAttributeNames: {
                '#b': first!,
                ...(second ? { '#b2': second } : {}),
                '#st': LogAttr.state,
                '#dl': LogAttr.deadline,
                '#pid': LogAttr.producerId,
                '#seq': LogAttr.sequence,
              },
              ExpressionAttributeValues: {
                ':b': bodyValues[first!]!,
                ...(second ? { ':b2': bodyValues[second]! } : {}),
                ':pending': { S: PENDING_STATE },
                ':pid': { N: slot.producerId },
                ':seq': { N: String(slot.sequence) },
              },
              ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
            }),
            signal ? { abortSignal: signal } : {},
          );
        },
        signal,
      );
      return { kind: 'written' };
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException && error.Item) {
        return { kind: 'occupied', occupant: slotFromItem(error.Item) };
      }
      throw error;
    }
  }

  /**
   * Replaces an abandoned pending claim by `body` (a control batch), conditional on the claim
   * being exactly `slot` still. Returns the slot now there: the void, or what the writer (or
   * another reader) put there first.
   */
  async voidPending(ref: PartitionRef, slot: PendingSlot, body: Uint8Array): Promise<Slot> {
    try {
      const out = await this.#send(`Voiding an abandoned claim in ${partitionLabel(ref)}`, () =>
        this.#ctx.ddb.send(
          new UpdateItemCommand({
            TableName: this.#ctx.tables.log,
            Key: batchItemKey(ref, slot.offset),
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
      );
      return slotFromItem(out.Attributes ?? {});
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException && error.Item) return slotFromItem(error.Item);
      throw error;
    }
  }

  /**
   * Replaces an archived batch by its stub (idempotent). Returns false when it is a stub already
   * (another archiver, or an earlier run), or not a complete batch.
   */
  async stubBatch(ref: PartitionRef, offset: number, expiresAt: number): Promise<boolean> {
    try {
      await this.#send(`Replacing an archived batch of ${partitionLabel(ref)} by its stub`, () =>
        this.#ctx.ddb.send(
          new UpdateItemCommand({
            TableName: this.#ctx.tables.log,
            Key: batchItemKey(ref, offset),
            UpdateExpression: 'SET #a = :one, #exp = :exp REMOVE #b, #s3, #sz',
            ConditionExpression:
              'attribute_exists(#off) AND attribute_not_exists(#a) AND attribute_not_exists(#st)',
            ExpressionAttributeNames: {
              '#off': LogAttr.offset,
              '#a': LogAttr.archived,
              '#exp': LogAttr.expiresAt,
              '#b': LogAttr.body,
              '#s3': LogAttr.claimKey,
              '#sz': LogAttr.claimSize,
              '#st': LogAttr.state,
            },
            ExpressionAttributeValues: { ':one': { N: '1' }, ':exp': { N: String(expiresAt) } },
          }),
        ),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /**
   * Puts every batch at its slot, if free, together with `extraItems` (e.g. offset commits on the
   * groups table) in one `TransactWriteItems`: all or nothing. Retries of one call carry the same
   * client request token, which makes a lost response harmless.
   */
  async appendTransaction(
    batches: readonly TransactionBatch[],
    extraItems: readonly TransactWriteItem[],
  ): Promise<TransactionOutcome> {
    const items: TransactWriteItem[] = batches.map(({ ref, slot, batch }) => ({
      Put: {
        TableName: this.#ctx.tables.log,
        Item: {
          ...slotAttributes(batchKey(ref, epochAt(ref.epochs, slot.offset).epoch), slot),
          ...this.#stamp(ref, slot),
          ...bodyAttributes(storedBody(batch, slot.offset), batch.claim),
        },
        ConditionExpression: 'attribute_not_exists(#off)',
        ExpressionAttributeNames: { '#off': LogAttr.offset },
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      },
    }));
    const token = randomUUID();
    try {
      await this.#send('Appending atomically', () =>
        this.#ctx.ddb.send(
          new TransactWriteItemsCommand({
            TransactItems: [...items, ...extraItems],
            ClientRequestToken: token,
          }),
        ),
      );
      return { kind: 'written' };
    } catch (error) {
      if (!(error instanceof TransactionCanceledException)) throw error;
      return { kind: 'cancelled', reasons: error.CancellationReasons ?? [] };
    }
  }

  /**
   * One page of the search for a producer's batch: the partition's items from `from` on that
   * carry this producer id and base sequence, read consistently (a filter: every item from `from`
   * on is read and billed).
   */
  findProducerBatches(
    ref: PartitionRef,
    producerId: string,
    sequence: number,
    from: number,
    startKey: LogItem | undefined,
  ): Promise<ItemPage> {
    return this.#acrossEpochs(
      ref,
      { from: Math.max(0, from), startKey },
      `Looking for producer ${producerId}'s batch ${sequence} in ${partitionKey(ref)}`,
      (range) => {
        const condition = rangeCondition(ref, range);
        return {
          ...condition,
          FilterExpression: '#pid = :pid AND #seq = :seq',
          ExpressionAttributeNames: {
            ...condition.ExpressionAttributeNames,
            '#pid': LogAttr.producerId,
            '#seq': LogAttr.sequence,
          },
          ExpressionAttributeValues: {
            ...condition.ExpressionAttributeValues,
            ':pid': { N: producerId },
            ':seq': { N: String(sequence) },
          },
          ConsistentRead: true,
        };
      },
    );
  }

  // --- The partition metadata item (off = -1) --------------------------------------------------

  /** The partition's metadata item, read consistently; undefined before anything was recorded. */
  async readPartitionMeta(ref: PartitionRef): Promise<LogItem | undefined> {
    const out = await this.#send(`Reading the bounds of ${partitionLabel(ref)}`, () =>
      this.#ctx.ddb.send(
        new GetItemCommand({
          TableName: this.#ctx.tables.log,
          Key: logKey(partitionKey(ref), PARTITION_META_OFFSET),
          ConsistentRead: true,
        }),
      ),
    );
    return out.Item;
  }

  /**
   * Moves the local log start from exactly `from` to `to`, and the log start with it when
   * `withLogStart` (which requires the log start not to be past `from`).
   */
  moveLocalLogStart(
    ref: PartitionRef,
    from: LogPosition,
    to: LogPosition,
    withLogStart: boolean,
  ): Promise<BoundMove> {
    const sets = ['#llso = :to', '#llsb = :toBytes'];
    if (withLogStart) sets.push('#lso = :to', '#lsb = :toBytes');
    // A never-written bound reads as 0.
    const condition = from.offset === 0 ? '(attribute_not_exists(#llso) OR #llso = :from)' : '#llso = :from';
    return this.#moveBound(
      ref,
      'local log start',
      LogAttr.localLogStartOffset,
      from,
      to,
      `SET ${sets.join(', ')}`,
      withLogStart ? `${condition} AND (attribute_not_exists(#lso) OR #lso <= :from)` : condition,
    );
  }

  /** Moves the log start from exactly `from` to `to`, provided `to` does not pass the local log start. */
  moveLogStart(ref: PartitionRef, from: LogPosition, to: LogPosition): Promise<BoundMove> {
    const condition = from.offset === 0 ? '(attribute_not_exists(#lso) OR #lso = :from)' : '#lso = :from';
    return this.#moveBound(
      ref,
      'log start',
      LogAttr.logStartOffset,
      from,
      to,
      'SET #lso = :to, #lsb = :toBytes',
      `${condition} AND #llso >= :to`,
    );
  }

  async #moveBound(
    ref: PartitionRef,
    what: string,
    attribute: string,
    from: LogPosition,
    to: LogPosition,
    update: string,
    condition: string,
  ): Promise<BoundMove> {
    try {
      await this.#send(`Moving the ${what} of ${partitionLabel(ref)}`, () =>
        this.#ctx.ddb.send(
          new UpdateItemCommand({
            TableName: this.#ctx.tables.log,
            Key: logKey(partitionKey(ref), PARTITION_META_OFFSET),
            UpdateExpression: update,
            ConditionExpression: condition,
            // DynamoDB refuses names an expression does not use.
            ExpressionAttributeNames: Object.fromEntries(
              Object.entries(BOUND_NAMES).filter(([name]) =>
                new RegExp(`${name}\\b`).test(`${update} ${condition}`),
              ),
            ),
            ExpressionAttributeValues: {
              ':from': { N: String(from.offset) },
              ':to': { N: String(to.offset) },
              ':toBytes': { N: String(to.bytes) },
            },
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        ),
      );
      return { moved: true };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      return { moved: false, current: Number(error.Item?.[attribute]?.N ?? '0') };
    }
  }

  /** Records that every batch below `offset` is a stub. Returns false when it was recorded as far already. */
  async markStubbedThrough(ref: PartitionRef, offset: number): Promise<boolean> {
    try {
      await this.#send(`Recording archived stubs of ${partitionLabel(ref)}`, () =>
        this.#ctx.ddb.send(
          new UpdateItemCommand({
            TableName: this.#ctx.tables.log,
            Key: logKey(partitionKey(ref), PARTITION_META_OFFSET),
            UpdateExpression: 'SET #sto = :v',
            ConditionExpression: 'attribute_not_exists(#sto) OR #sto < :v',
            ExpressionAttributeNames: { '#sto': LogAttr.stubbedThrough },
            ExpressionAttributeValues: { ':v': { N: String(offset) } },
          }),
        ),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /** Records a check for orphaned large-batch objects: when (`time`) and the partition's `end` then. */
  async setClaimSweep(ref: PartitionRef, time: number, end: number): Promise<void> {
    await this.#send(`Recording an orphan check of ${partitionLabel(ref)}`, () =>
      this.#ctx.ddb.send(
        new UpdateItemCommand({
          TableName: this.#ctx.tables.log,
          Key: logKey(partitionKey(ref), PARTITION_META_OFFSET),
          UpdateExpression: 'SET #t = :t, #e = :e',
          ExpressionAttributeNames: { '#t': LogAttr.claimSweepTime, '#e': LogAttr.claimSweepEnd },
          ExpressionAttributeValues: { ':t': { N: String(time) }, ':e': { N: String(end) } },
        }),
      ),
    );
  }

  // --- Segment manifest items (<pk>#segments) --------------------------------------------------

  /** One page of a partition's segment manifest items. */
  querySegments(ref: PartitionRef, query: SegmentQuery): Promise<ItemPage> {
    const at = query.atOrBefore;
    return this.#page(`Reading the segment manifest of ${partitionLabel(ref)}`, {
      TableName: this.#ctx.tables.log,
      KeyConditionExpression: at === undefined ? '#pk = :pk' : '#pk = :pk AND #off <= :at',
      ExpressionAttributeNames: {
        '#pk': LogAttr.partitionKey,
        ...(at === undefined ? {} : { '#off': LogAttr.offset }),
      },
      ExpressionAttributeValues: {
        ':pk': { S: segmentManifestKey(ref) },
        ...(at === undefined ? {} : { ':at': { N: String(at) } }),
      },
      ScanIndexForward: !query.descending,
      Limit: query.limit,
      ConsistentRead: query.consistent,
      ...(query.startKey ? { ExclusiveStartKey: query.startKey } : {}),
    });
  }

  /**
   * Records a segment in the manifest. Idempotent: an identical item already there is success.
   * Returns false when a different segment is recorded at the same base offset.
   */
  async putSegment(ref: PartitionRef, segment: ManifestEntry, createdAt: number): Promise<boolean> {
    try {
      await this.#send(`Recording a segment of ${partitionLabel(ref)}`, () =>
        this.#ctx.ddb.send(
          new PutItemCommand({
            TableName: this.#ctx.tables.log,
            Item: {
              ...logKey(segmentManifestKey(ref), segment.baseOffset),
              [SegmentAttr.endOffset]: { N: String(segment.endOffset) },
              [SegmentAttr.bytes]: { N: String(segment.bytes) },
              [SegmentAttr.batches]: { N: String(segment.batches) },
              [SegmentAttr.runningMaxTimestamp]: { N: String(segment.runningMaxTimestamp) },
              [SegmentAttr.runningBytes]: { N: String(segment.runningBytes) },
              [SegmentAttr.createdAt]: { N: String(createdAt) },
            },
            ConditionExpression: 'attribute_not_exists(#off) OR (#end = :end AND #sz = :sz)',
            ExpressionAttributeNames: {
              '#off': LogAttr.offset,
              '#end': SegmentAttr.endOffset,
              '#sz': SegmentAttr.bytes,
            },
            ExpressionAttributeValues: {
              ':end': { N: String(segment.endOffset) },
              ':sz': { N: String(segment.bytes) },
            },
          }),
        ),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /** Removes a segment's manifest item. */
  async deleteSegment(ref: PartitionRef, baseOffset: number): Promise<void> {
    await this.#send(`Removing a segment from the manifest of ${partitionLabel(ref)}`, () =>
      this.#ctx.ddb.send(
        new DeleteItemCommand({
          TableName: this.#ctx.tables.log,
          Key: logKey(segmentManifestKey(ref), baseOffset),
        }),
      ),
    );
  }

  // --- Producer state items (<pk>#producers) ---------------------------------------------------

  /**
   * A producer's state item on the partition, read consistently (`producer-state.ts` reads it);
   * undefined when it has none. Only for saying why a claim was refused, never in steady state.
   */
  async producerStateItem(ref: PartitionRef, producerId: string): Promise<LogItem | undefined> {
    const out = await this.#send(
      `Reading the state of producer ${producerId} on ${partitionLabel(ref)}`,
      () =>
        this.#ctx.ddb.send(
          new GetItemCommand({
            TableName: this.#ctx.tables.log,
            Key: producerStateItemKey(ref, producerId),
            ConsistentRead: true,
          }),
        ),
    );
    return out.Item;
  }

  /**
   * Writes a producer's claim (and refreshes the item's expiry) if `write.condition` holds. On a
   * failed condition, `current` is the item found instead.
   */
  async claimProducerSequence(
    ref: PartitionRef,
    producerId: string,
    write: ProducerClaimWrite,
  ): Promise<ProducerClaimOutcome> {
    const { claim } = write;
    const names: Record<string, string> = {
      '#off': LogAttr.offset,
      '#ep': ProducerAttr.epoch,
      '#ns': ProducerAttr.nextSequence,
      '#cs': ProducerAttr.claimSequence,
      '#cn': ProducerAttr.claimCount,
      '#cd': ProducerAttr.claimDigest,
      '#cf': ProducerAttr.claimFrom,
      '#cu': ProducerAttr.claimUntil,
      '#ct': ProducerAttr.claimToken,
      '#exp': ProducerAttr.expiresAt,
    };
    const values: LogItem = {
      ':ep': { N: String(write.epoch) },
      ':ns': { N: String(write.nextSequence) },
      ':cs': { N: String(claim.sequence) },
      ':cn': { N: String(claim.count) },
      ':cd': { S: claim.digest },
      ':cf': { N: String(claim.from) },
      ':cu': { N: String(claim.until) },
      ':ct': { S: claim.token },
      ':exp': { N: String(write.expiresAt) },
    };
    const expected = claimConditionExpression(write.condition);
    try {
      const out = await this.#send(
        `Claiming sequence ${claim.sequence} of producer ${producerId} on ${producerStateKey(ref)}`,
        () =>
          this.#ctx.ddb.send(
            new UpdateItemCommand({
              TableName: this.#ctx.tables.log,
              Key: producerStateItemKey(ref, producerId),
              UpdateExpression:
                'SET #ep = :ep, #ns = :ns, #cs = :cs, #cn = :cn, #cd = :cd, #cf = :cf, #cu = :cu, #ct = :ct, #exp = :exp',
              ConditionExpression: expected.expression,
              // DynamoDB refuses names no expression uses.
              ExpressionAttributeNames: expected.expression.includes('#off')
                ? names
                : Object.fromEntries(Object.entries(names).filter(([name]) => name !== '#off')),
              ExpressionAttributeValues: { ...values, ...expected.values },
              ReturnValues: 'ALL_OLD',
              ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
            }),
          ),
      );
      return { claimed: true, previous: out.Attributes };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      return { claimed: false, current: error.Item };
    }
  }

  /**
   * Puts a producer's state item back as it was before a claim (`previous`; deleting it when the
   * claim created it), conditional on the claim's token: the claim's batch certainly was not
   * written, so the partition must look as if the request never came. False when the item no
   * longer holds that claim.
   */
  async restoreProducerState(
    ref: PartitionRef,
    producerId: string,
    token: string,
    previous: LogItem | undefined,
  ): Promise<boolean> {
    const condition = {
      ConditionExpression: '#ct = :ct',
      ExpressionAttributeNames: { '#ct': ProducerAttr.claimToken },
      ExpressionAttributeValues: { ':ct': { S: token } },
    };
    try {
      await this.#send(
        `Restoring the state of producer ${producerId} on ${producerStateKey(ref)}`,
        async () => {
          if (previous === undefined) {
            await this.#ctx.ddb.send(
              new DeleteItemCommand({
                TableName: this.#ctx.tables.log,
                Key: producerStateItemKey(ref, producerId),
                ...condition,
              }),
            );
          } else {
            await this.#ctx.ddb.send(
              new PutItemCommand({ TableName: this.#ctx.tables.log, Item: previous, ...condition }),
            );
          }
        },
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /**
   * Gives a producer's claim up: the partition expects the claimed sequence again. Conditional on
   * the claim's token; returns false when the claim is no longer that one.
   */
  async releaseProducerClaim(
    ref: PartitionRef,
    producerId: string,
    claim: Pick<SequenceClaim, 'sequence' | 'token'>,
  ): Promise<boolean> {
    try {
      await this.#send(
        `Releasing sequence ${claim.sequence} of producer ${producerId} on ${producerStateKey(ref)}`,
        () =>
          this.#ctx.ddb.send(
            new UpdateItemCommand({
              TableName: this.#ctx.tables.log,
              Key: producerStateItemKey(ref, producerId),
              UpdateExpression: 'SET #ns = :ns REMOVE #cs, #cn, #cd, #cf, #cu, #ct',
              ConditionExpression: '#ct = :ct',
              ExpressionAttributeNames: {
                '#ns': ProducerAttr.nextSequence,
                '#cs': ProducerAttr.claimSequence,
                '#cn': ProducerAttr.claimCount,
                '#cd': ProducerAttr.claimDigest,
                '#cf': ProducerAttr.claimFrom,
                '#cu': ProducerAttr.claimUntil,
                '#ct': ProducerAttr.claimToken,
              },
              ExpressionAttributeValues: {
                ':ns': { N: String(claim.sequence) },
                ':ct': { S: claim.token },
              },
            }),
          ),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  // --- Purging a deleted topic's items ---------------------------------------------------------

  /** One page of the keys (only) of a partition's items in one key space, read consistently. */
  itemKeys(ref: PartitionRef, space: PartitionKeySpace, startKey: LogItem | undefined): Promise<ItemPage> {
    const pk = keySpaceKey(ref, space);
    return this.#page(`Purging ${pk}`, {
      TableName: this.#ctx.tables.log,
      KeyConditionExpression: '#pk = :pk',
      ExpressionAttributeNames: { '#pk': LogAttr.partitionKey, '#off': LogAttr.offset },
      ExpressionAttributeValues: { ':pk': { S: pk } },
      ProjectionExpression: '#pk, #off',
      ConsistentRead: true,
      ...(startKey ? { ExclusiveStartKey: startKey } : {}),
    });
  }

  /**
   * One page of the items (whole) of a partition's key space, read consistently: what a planned
   * failover compares between the old and the new home before it switches.
   */
  keySpacePage(
    ref: PartitionRef,
    space: PartitionKeySpace,
    startKey: LogItem | undefined,
  ): Promise<ItemPage> {
    const pk = keySpaceKey(ref, space);
    return this.#page(`Reading ${pk}`, {
      TableName: this.#ctx.tables.log,
      KeyConditionExpression: '#pk = :pk',
      ExpressionAttributeNames: { '#pk': LogAttr.partitionKey },
      ExpressionAttributeValues: { ':pk': { S: pk } },
      ConsistentRead: true,
      ...(startKey ? { ExclusiveStartKey: startKey } : {}),
    });
  }

  /** Deletes items of `ref`'s partition by key (from {@link itemKeys}), 25 per `BatchWriteItem`. */
  deleteItems(ref: PartitionRef, keys: readonly LogItem[]): Promise<void> {
    return batchWriteAll(
      { ddb: this.#ctx.ddb, table: this.#ctx.tables.log, retry: this.#ctx.retry },
      keys.map((Key) => ({ DeleteRequest: { Key } })),
      `Purging the log items of ${partitionLabel(ref)}`,
    );
  }

  async #page(operation: string, input: QueryCommandInput): Promise<ItemPage> {
    const out = await this.#send(operation, () => this.#ctx.ddb.send(new QueryCommand(input)));
    return { items: out.Items ?? [], lastKey: out.LastEvaluatedKey };
  }
}

/** The bytes a slot stores: a claimed batch's object already holds them; inline ones get the slot's offset. */
function storedBody(batch: BatchBody, offset: number): Uint8Array {
  return batch.claim ? batch.body : setBaseOffset(batch.body, offset);
}

/** Key of a producer's state item: under `<partition key>#producers`, sorted by producer id. */
function producerStateItemKey(ref: PartitionRef, producerId: string): LogItem {
  return { [LogAttr.partitionKey]: { S: producerStateKey(ref) }, [LogAttr.offset]: { N: producerId } };
}

/** The condition expression (and its values) a producer claim write is made under. */
function claimConditionExpression(condition: ClaimCondition): { expression: string; values: LogItem } {
  if (condition.kind === 'next') {
    const expression = '#ep = :xep AND #ns = :xns';
    return {
      expression: condition.sequence === 0 ? `attribute_not_exists(#off) OR (${expression})` : expression,
      values: { ':xep': { N: String(condition.epoch) }, ':xns': { N: String(condition.sequence) } },
    };
  }
  const { state } = condition;
  if (state === undefined) return { expression: 'attribute_not_exists(#off)', values: {} };
  const values: LogItem = {
    ':xep': { N: String(state.epoch) },
    ':xns': { N: String(state.nextSequence) },
  };
  if (!state.claim) {
    return { expression: '#ep = :xep AND #ns = :xns AND attribute_not_exists(#ct)', values };
  }
  return {
    expression: '#ep = :xep AND #ns = :xns AND #ct = :xct',
    values: { ...values, ':xct': { S: state.claim.token } },
  };
}
