/**
 * The S3 tier's bookkeeping in DynamoDB, per partition:
 * - the **bounds** on the partition's metadata item (`off = -1`): the log start (first readable
 *   offset, moved by retention) and the local log start (first offset in DynamoDB, moved by the
 *   archiver), each with the running byte count before it, and how far archived items have been
 *   replaced by stubs;
 * - the **manifest**: one item per S3 segment under the partition's manifest key, sorted by base
 *   offset.
 *
 * Invariants: `logStart ≤ localLogStart`; the segments tile `[logStart, localLogStart)` without
 * gaps or overlaps (a segment below the log start may linger until retention deletes it).
 * Bounds only move forward, by conditional writes from the exact previous value, so two archivers
 * racing cannot move them twice or backwards.
 */
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import type { StorageContext } from '../context.ts';
import { LogInvariantError } from '../errors.ts';
import {
  LogAttr,
  PARTITION_META_OFFSET,
  type PartitionRef,
  partitionKey,
  partitionLabel,
  SegmentAttr,
  type SegmentObjectKeys,
  segmentManifestKey,
  segmentObjectKeys,
} from '../keys.ts';
import { logKey } from '../log/log-item.ts';
import { withRetry } from '../retry.ts';

type Item = Record<string, AttributeValue>;

/** An offset together with the partition's running byte count before it. */
export interface LogPosition {
  readonly offset: number;
  /** Bytes of all batches before `offset`. */
  readonly bytes: number;
}

/** Where a partition's tiers begin. */
export interface PartitionBounds {
  /** First readable offset (Kafka's log start offset). */
  readonly logStart: LogPosition;
  /** First offset held in DynamoDB; below it (down to `logStart`) the log is in S3 segments. */
  readonly localLogStart: LogPosition;
  /** Every batch below this offset has been replaced by a stub (≤ `localLogStart.offset`). */
  readonly stubbedThrough: number;
  /** The last check for orphaned large-batch objects: when, and the partition's end then. */
  readonly claimSweep: { readonly time: number; readonly end: number } | undefined;
}

/** One segment in S3, as its manifest item records it. */
export interface SegmentInfo {
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
  readonly keys: SegmentObjectKeys;
}

const START: LogPosition = { offset: 0, bytes: 0 };

const BOUND_NAMES = {
  '#lso': LogAttr.logStartOffset,
  '#lsb': LogAttr.logStartBytes,
  '#llso': LogAttr.localLogStartOffset,
  '#llsb': LogAttr.localLogStartBytes,
} as const;

/** Reads and moves one partition's bounds and manifest. */
export class TierMetadata {
  readonly ref: PartitionRef;
  readonly label: string;
  readonly #ctx: StorageContext;
  readonly #pk: string;
  readonly #manifestKey: string;

  constructor(ctx: StorageContext, ref: PartitionRef) {
    this.#ctx = ctx;
    this.ref = ref;
    this.label = partitionLabel(ref);
    this.#pk = partitionKey(ref);
    this.#manifestKey = segmentManifestKey(ref);
  }

  /** The partition's bounds, read consistently. */
  async bounds(): Promise<PartitionBounds> {
    const out = await this.#retry('Reading the bounds', () =>
      this.#ctx.ddb.send(
        new GetItemCommand({
          TableName: this.#ctx.tables.log,
          Key: logKey(this.#pk, PARTITION_META_OFFSET),
          ConsistentRead: true,
        }),
      ),
    );
    return boundsFromItem(out.Item);
  }

  /**
   * Moves the local log start from `from` to `to` (the archiver, after writing a segment's
   * manifest item), and the log start with it when `withLogStart` (retention of batches that
   * were never archived). Returns false when another archiver already moved it at least as far.
   *
   * @throws LogInvariantError when the bound is somewhere `from`..`to` cannot explain.
   */
  async advanceLocalStart(from: LogPosition, to: LogPosition, withLogStart: boolean): Promise<boolean> {
    const sets = ['#llso = :to', '#llsb = :toBytes'];
    if (withLogStart) sets.push('#lso = :to', '#lsb = :toBytes');
    // A never-written bound reads as 0.
    const condition = from.offset === 0 ? '(attribute_not_exists(#llso) OR #llso = :from)' : '#llso = :from';
    return this.#advance(
      'local log start',
      LogAttr.localLogStartOffset,
      from,
      to,
      `SET ${sets.join(', ')}`,
      withLogStart ? `${condition} AND (attribute_not_exists(#lso) OR #lso <= :from)` : condition,
    );
  }

  /**
   * Moves the log start from `from` to `to`, which must not pass the local log start (retention
   * deleting a segment). Returns false when it was already moved at least as far.
   */
  async advanceLogStart(from: LogPosition, to: LogPosition): Promise<boolean> {
    const condition = from.offset === 0 ? '(attribute_not_exists(#lso) OR #lso = :from)' : '#lso = :from';
    return this.#advance(
      'log start',
      LogAttr.logStartOffset,
      from,
      to,
      'SET #lso = :to, #lsb = :toBytes',
      `${condition} AND #llso >= :to`,
    );
  }

  async #advance(
    what: string,
    attribute: string,
    from: LogPosition,
    to: LogPosition,
    update: string,
    condition: string,
  ): Promise<boolean> {
    try {
      await this.#retry(`Moving the ${what}`, () =>
        this.#ctx.ddb.send(
          new UpdateItemCommand({
            TableName: this.#ctx.tables.log,
            Key: logKey(this.#pk, PARTITION_META_OFFSET),
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
      return true;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const now = Number(error.Item?.[attribute]?.N ?? '0');
      if (now >= to.offset) return false;
      throw new LogInvariantError(
        `The ${what} of ${this.label} is at ${now}, expected ${from.offset} before moving it to ${to.offset}`,
      );
    }
  }

  /** Records that every batch below `offset` is a stub (never moves backwards). */
  async markStubbedThrough(offset: number): Promise<void> {
    try {
      await this.#retry('Recording archived stubs', () =>
        this.#ctx.ddb.send(
          new UpdateItemCommand({
            TableName: this.#ctx.tables.log,
            Key: logKey(this.#pk, PARTITION_META_OFFSET),
            UpdateExpression: 'SET #sto = :v',
            ConditionExpression: 'attribute_not_exists(#sto) OR #sto < :v',
            ExpressionAttributeNames: { '#sto': LogAttr.stubbedThrough },
            ExpressionAttributeValues: { ':v': { N: String(offset) } },
          }),
        ),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  /** Records a check for orphaned large-batch objects (see the archiver). */
  async setClaimSweep(time: number, end: number): Promise<void> {
    await this.#retry('Recording an orphan check', () =>
      this.#ctx.ddb.send(
        new UpdateItemCommand({
          TableName: this.#ctx.tables.log,
          Key: logKey(this.#pk, PARTITION_META_OFFSET),
          UpdateExpression: 'SET #t = :t, #e = :e',
          ExpressionAttributeNames: { '#t': LogAttr.claimSweepTime, '#e': LogAttr.claimSweepEnd },
          ExpressionAttributeValues: { ':t': { N: String(time) }, ':e': { N: String(end) } },
        }),
      ),
    );
  }

  /**
   * Records a segment in the manifest. Idempotent: an identical item already there is success.
   *
   * @throws LogInvariantError when a different segment is recorded at the same base offset.
   */
  async putSegment(segment: SegmentInfo): Promise<void> {
    try {
      await this.#retry('Recording a segment', () =>
        this.#ctx.ddb.send(
          new PutItemCommand({
            TableName: this.#ctx.tables.log,
            Item: {
              ...logKey(this.#manifestKey, segment.baseOffset),
              [SegmentAttr.endOffset]: { N: String(segment.endOffset) },
              [SegmentAttr.bytes]: { N: String(segment.bytes) },
              [SegmentAttr.batches]: { N: String(segment.batches) },
              [SegmentAttr.runningMaxTimestamp]: { N: String(segment.runningMaxTimestamp) },
              [SegmentAttr.runningBytes]: { N: String(segment.runningBytes) },
              [SegmentAttr.createdAt]: { N: String(this.#ctx.now()) },
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
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      throw new LogInvariantError(
        `${this.label} already records a different segment at offset ${segment.baseOffset}`,
      );
    }
  }

  /** Removes a segment from the manifest (after retention deleted its objects). */
  async deleteSegment(baseOffset: number): Promise<void> {
    await this.#retry('Removing a segment from the manifest', () =>
      this.#ctx.ddb.send(
        new DeleteItemCommand({
          TableName: this.#ctx.tables.log,
          Key: logKey(this.#manifestKey, baseOffset),
        }),
      ),
    );
  }

  /** The segment holding `offset`, if the manifest has one. */
  async segmentAt(offset: number): Promise<SegmentInfo | undefined> {
    // Manifest items are written before the bound that sends readers to them, so a miss on an
    // eventually consistent read is confirmed with a consistent one.
    for (const consistent of [false, true]) {
      const out = await this.#queryManifest(
        '#pk = :pk AND #off <= :at',
        { ':at': { N: String(offset) } },
        false,
        1,
        consistent,
      );
      const item = out.Items?.[0];
      const segment = item ? this.#segmentFromItem(item) : undefined;
      if (segment && offset < segment.endOffset) return segment;
    }
    return undefined;
  }

  /** The newest segment, if any. */
  async lastSegment(): Promise<SegmentInfo | undefined> {
    const out = await this.#queryManifest('#pk = :pk', {}, false, 1, true);
    const item = out.Items?.[0];
    return item ? this.#segmentFromItem(item) : undefined;
  }

  /** Segments in offset order (oldest first), read page by page as the caller iterates. */
  async *segments(): AsyncGenerator<SegmentInfo> {
    let startKey: Item | undefined;
    do {
      const out = await this.#queryManifest('#pk = :pk', {}, true, 100, true, startKey);
      for (const item of out.Items ?? []) yield this.#segmentFromItem(item);
      startKey = out.LastEvaluatedKey;
    } while (startKey);
  }

  #queryManifest(
    keyCondition: string,
    values: Item,
    ascending: boolean,
    limit: number,
    consistent: boolean,
    startKey?: Item,
  ) {
    return this.#retry('Reading the segment manifest', () =>
      this.#ctx.ddb.send(
        new QueryCommand({
          TableName: this.#ctx.tables.log,
          KeyConditionExpression: keyCondition,
          ExpressionAttributeNames: {
            '#pk': LogAttr.partitionKey,
            ...(keyCondition.includes('#off') ? { '#off': LogAttr.offset } : {}),
          },
          ExpressionAttributeValues: { ':pk': { S: this.#manifestKey }, ...values },
          ScanIndexForward: ascending,
          Limit: limit,
          ConsistentRead: consistent,
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        }),
      ),
    );
  }

  #segmentFromItem(item: Item): SegmentInfo {
    const num = (name: string) => {
      const value = item[name]?.N;
      if (value === undefined) {
        throw new LogInvariantError(`A segment manifest item of ${this.label} lacks "${name}"`);
      }
      return Number(value);
    };
    const baseOffset = num(LogAttr.offset);
    return {
      baseOffset,
      endOffset: num(SegmentAttr.endOffset),
      bytes: num(SegmentAttr.bytes),
      batches: num(SegmentAttr.batches),
      runningMaxTimestamp: num(SegmentAttr.runningMaxTimestamp),
      runningBytes: num(SegmentAttr.runningBytes),
      keys: segmentObjectKeys(this.ref, baseOffset),
    };
  }

  #retry<T>(what: string, fn: () => Promise<T>): Promise<T> {
    return withRetry(`${what} of ${this.label}`, fn, this.#ctx.retry);
  }
}

/** Bounds from the metadata item (absent attributes: nothing archived or expired yet). */
export function boundsFromItem(item: Item | undefined): PartitionBounds {
  const position = (offset: string, bytes: string): LogPosition =>
    item?.[offset]?.N === undefined
      ? START
      : { offset: Number(item[offset]!.N), bytes: Number(item[bytes]?.N ?? '0') };
  return {
    logStart: position(LogAttr.logStartOffset, LogAttr.logStartBytes),
    localLogStart: position(LogAttr.localLogStartOffset, LogAttr.localLogStartBytes),
    stubbedThrough: Number(item?.[LogAttr.stubbedThrough]?.N ?? '0'),
    claimSweep:
      item?.[LogAttr.claimSweepTime]?.N === undefined
        ? undefined
        : {
            time: Number(item[LogAttr.claimSweepTime]!.N),
            end: Number(item[LogAttr.claimSweepEnd]?.N ?? '0'),
          },
  };
}
