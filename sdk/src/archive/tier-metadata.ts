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
import type { StorageContext } from '../context.ts';
import { LogInvariantError } from '../errors.ts';
import {
  LogAttr,
  type PartitionRef,
  partitionLabel,
  SegmentAttr,
  type SegmentObjectKeys,
  segmentObjectKeys,
} from '../keys.ts';
import {
  type BoundMove,
  type LogItem,
  type LogPosition,
  LogStore,
  type ManifestEntry,
} from '../log/log-store.ts';

export type { LogPosition } from '../log/log-store.ts';

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

/** One segment in S3, as its manifest item records it, with its objects' keys. */
export interface SegmentInfo extends ManifestEntry {
  readonly keys: SegmentObjectKeys;
}

const START: LogPosition = { offset: 0, bytes: 0 };

/** Reads and moves one partition's bounds and manifest. */
export class TierMetadata {
  readonly ref: PartitionRef;
  readonly label: string;
  readonly #ctx: StorageContext;
  readonly #store: LogStore;

  constructor(ctx: StorageContext, ref: PartitionRef) {
    this.#ctx = ctx;
    this.#store = new LogStore(ctx);
    this.ref = ref;
    this.label = partitionLabel(ref);
  }

  /** The partition's bounds, read consistently. */
  async bounds(): Promise<PartitionBounds> {
    return boundsFromItem(await this.#store.readPartitionMeta(this.ref));
  }

  /**
   * Moves the local log start from `from` to `to` (the archiver, after writing a segment's
   * manifest item), and the log start with it when `withLogStart` (retention of batches that
   * were never archived). Returns false when another archiver already moved it at least as far.
   *
   * @throws LogInvariantError when the bound is somewhere `from`..`to` cannot explain.
   */
  async advanceLocalStart(from: LogPosition, to: LogPosition, withLogStart: boolean): Promise<boolean> {
    const move = await this.#store.moveLocalLogStart(this.ref, from, to, withLogStart);
    return this.#moved('local log start', move, from, to);
  }

  /**
   * Moves the log start from `from` to `to`, which must not pass the local log start (retention
   * deleting a segment). Returns false when it was already moved at least as far.
   */
  async advanceLogStart(from: LogPosition, to: LogPosition): Promise<boolean> {
    return this.#moved('log start', await this.#store.moveLogStart(this.ref, from, to), from, to);
  }

  #moved(what: string, move: BoundMove, from: LogPosition, to: LogPosition): boolean {
    if (move.moved) return true;
    if (move.current >= to.offset) return false;
    throw new LogInvariantError(
      `The ${what} of ${this.label} is at ${move.current}, expected ${from.offset} before moving it to ${to.offset}`,
    );
  }

  /** Records that every batch below `offset` is a stub (never moves backwards). */
  async markStubbedThrough(offset: number): Promise<void> {
    await this.#store.markStubbedThrough(this.ref, offset);
  }

  /** Records a check for orphaned large-batch objects (see the archiver). */
  async setClaimSweep(time: number, end: number): Promise<void> {
    await this.#store.setClaimSweep(this.ref, time, end);
  }

  /**
   * Records a segment in the manifest. Idempotent: an identical item already there is success.
   *
   * @throws LogInvariantError when a different segment is recorded at the same base offset.
   */
  async putSegment(segment: SegmentInfo): Promise<void> {
    if (!(await this.#store.putSegment(this.ref, segment, this.#ctx.now()))) {
      throw new LogInvariantError(
        `${this.label} already records a different segment at offset ${segment.baseOffset}`,
      );
    }
  }

  /** Removes a segment from the manifest (after retention deleted its objects). */
  async deleteSegment(baseOffset: number): Promise<void> {
    await this.#store.deleteSegment(this.ref, baseOffset);
  }

  /** The segment holding `offset`, if the manifest has one. */
  async segmentAt(offset: number): Promise<SegmentInfo | undefined> {
    // Manifest items are written before the bound that sends readers to them, so a miss on an
    // eventually consistent read is confirmed with a consistent one.
    for (const consistent of [false, true]) {
      const page = await this.#store.querySegments(this.ref, {
        atOrBefore: offset,
        descending: true,
        limit: 1,
        consistent,
      });
      const item = page.items[0];
      const segment = item ? this.#segmentFromItem(item) : undefined;
      if (segment && offset < segment.endOffset) return segment;
    }
    return undefined;
  }

  /** The newest segment, if any. */
  async lastSegment(): Promise<SegmentInfo | undefined> {
    const page = await this.#store.querySegments(this.ref, { descending: true, limit: 1, consistent: true });
    const item = page.items[0];
    return item ? this.#segmentFromItem(item) : undefined;
  }

  /** Segments in offset order (oldest first), read page by page as the caller iterates. */
  async *segments(): AsyncGenerator<SegmentInfo> {
    let startKey: LogItem | undefined;
    do {
      const page = await this.#store.querySegments(this.ref, {
        descending: false,
        limit: 100,
        consistent: true,
        startKey,
      });
      for (const item of page.items) yield this.#segmentFromItem(item);
      startKey = page.lastKey;
    } while (startKey);
  }

  #segmentFromItem(item: LogItem): SegmentInfo {
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
}

/** Bounds from the metadata item (absent attributes: nothing archived or expired yet). */
export function boundsFromItem(item: LogItem | undefined): PartitionBounds {
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
