/**
 * Mapping between log items in DynamoDB and the engine's view of them. A slot holds a complete
 * batch (written in one phase, or a two-phase body, or a void), a pending claim, the stub of a
 * batch the archiver moved to S3, or a planned failover's fence.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { LogInvariantError } from '../errors.ts';
import { LogAttr, PENDING_STATE } from '../keys.ts';
import type { Claim } from './claim-check.ts';

type Item = Record<string, AttributeValue>;

const EMPTY = new Uint8Array(0);

/** The attributes holding a batch's bytes: inline, or a pointer to its S3 object. */
export function bodyAttributes(body: Uint8Array, claim: Claim | undefined): Item {
  return claim
    ? { [LogAttr.claimKey]: { S: claim.key }, [LogAttr.claimSize]: { N: String(claim.size) } }
    : { [LogAttr.body]: { B: body } };
}

/** Bytes a slot's batch occupies (inline or in S3). */
export function slotBytes(slot: CompleteSlot): number {
  return slot.claim ? slot.claim.size : slot.body.byteLength;
}

/** What every slot says about itself. */
export interface SlotBase {
  readonly offset: number;
  readonly count: number;
  /** Max record timestamp of this batch. */
  readonly maxTimestamp: number;
  /** Running max timestamp of the partition through this batch (monotonic in offset). */
  readonly runningMaxTimestamp: number;
  /** Batch bytes of the partition through this batch (a running sum from offset 0). */
  readonly runningBytes: number;
  /** Producer id and base sequence of the writer, as decimal strings (`-1` when not idempotent). */
  readonly producerId: string;
  readonly sequence: number;
  /**
   * The leader epoch the batch was written in, as its `le` stamp says (the epoch whose key space
   * took it); absent on batches written without regions, which count as epoch 0.
   */
  readonly leaderEpoch?: number;
  /** Where and when the batch was written, when the writer knew the deployment's regions. */
  readonly written?: WriteStamp;
}

/** The region whose table took a batch's write, and when (the writer's clock, epoch ms). */
export interface WriteStamp {
  readonly region: string;
  readonly at: number;
}

/** A complete batch: its records are readable. */
export interface CompleteSlot extends SlotBase {
  readonly kind: 'complete';
  /** The RecordBatch bytes (for a claimed batch: empty until the reader loads the object). */
  readonly body: Uint8Array;
  /** Set when the bytes are stored in S3 (claim check). */
  readonly claim: Claim | undefined;
  /** True when the batch replaced an abandoned claim: a control batch with no records. */
  readonly voided: boolean;
}

/** A slot claimed by a two-phase append whose body is not written yet. */
export interface PendingSlot extends SlotBase {
  readonly kind: 'pending';
  /** Writer's deadline (epoch ms) after which any reader may void the slot. */
  readonly deadline: number;
}

/**
 * The stub the archiver leaves where a batch was: its bytes are in an S3 segment. It keeps the
 * slot occupied, so a writer with a stale tail collides instead of writing below the log start,
 * and it keeps the writer's id, so a lost-response retry still recognises its own batch.
 */
export interface ArchivedSlot extends SlotBase {
  readonly kind: 'archived';
  /** True when the archived batch was a void (an abandoned claim), not the writer's records. */
  readonly voided: boolean;
}

/**
 * A planned failover's fence: the item it writes at the old home's chain end, in the old epoch's
 * key space, before it waits for the new home to hold the log. It covers no offsets (`count` 0)
 * and is not a batch: an appender colliding with it stops (`TopicMovedError`: the log continues in
 * `nextEpoch`, in `nextRegion`), and a reader whose topic metadata predates the failover stops at
 * it and refreshes. Readers that know the next epoch never look at it: the old epoch ends there.
 */
export interface FenceSlot extends SlotBase {
  readonly kind: 'fence';
  readonly nextEpoch: number;
  readonly nextRegion: string;
}

export type Slot = CompleteSlot | PendingSlot | ArchivedSlot | FenceSlot;

/** What a writer knows about the end of a partition's chain. */
export interface ChainTail {
  /** The next offset to write. */
  readonly end: number;
  /** Running max timestamp through the last batch (-1 for an empty log). */
  readonly runningMaxTimestamp: number;
  /** Running bytes through the last batch (0 for an empty log). */
  readonly runningBytes: number;
}

/** The chain's tail right after `slot`. */
export function tailAfter(slot: SlotBase): ChainTail {
  return {
    end: slot.offset + slot.count,
    runningMaxTimestamp: slot.runningMaxTimestamp,
    runningBytes: slot.runningBytes,
  };
}

/** The tail of an empty log. */
export const EMPTY_TAIL: ChainTail = { end: 0, runningMaxTimestamp: -1, runningBytes: 0 };

/** What a batch of `bytes` written right after `tail` will say about itself. */
export function planSlot(
  tail: ChainTail,
  batch: {
    readonly count: number;
    readonly maxTimestamp: number;
    readonly producerId: string;
    readonly sequence: number;
  },
  bytes: number,
): SlotBase {
  return {
    offset: tail.end,
    count: batch.count,
    maxTimestamp: batch.maxTimestamp,
    runningMaxTimestamp: Math.max(tail.runningMaxTimestamp, batch.maxTimestamp),
    runningBytes: tail.runningBytes + bytes,
    producerId: batch.producerId,
    sequence: batch.sequence,
  };
}

/** First offset after a slot. */
export function slotEnd(slot: { readonly offset: number; readonly count: number }): number {
  return slot.offset + slot.count;
}

function num(item: Item, name: string): number {
  const v = item[name]?.N;
  if (v === undefined) throw new LogInvariantError(`Log item is missing numeric attribute "${name}"`);
  return Number(v);
}

/** Parses a log item read from DynamoDB. */
export function slotFromItem(item: Item): Slot {
  const base: SlotBase = {
    offset: num(item, LogAttr.offset),
    count: num(item, LogAttr.count),
    maxTimestamp: num(item, LogAttr.maxTimestamp),
    runningMaxTimestamp: num(item, LogAttr.runningMaxTimestamp),
    runningBytes: num(item, LogAttr.runningBytes),
    producerId: item[LogAttr.producerId]?.N ?? '-1',
    sequence: Number(item[LogAttr.sequence]?.N ?? '-1'),
    ...stampOf(item),
  };
  const fenceEpoch = item[LogAttr.fenceEpoch]?.N;
  if (fenceEpoch !== undefined) {
    return {
      ...base,
      kind: 'fence',
      nextEpoch: Number(fenceEpoch),
      nextRegion: item[LogAttr.fenceRegion]?.S ?? '',
    };
  }
  if (item[LogAttr.archived]?.N === '1') {
    return { ...base, kind: 'archived', voided: item[LogAttr.voided]?.N === '1' };
  }
  if (item[LogAttr.state]?.S === PENDING_STATE) {
    return { ...base, kind: 'pending', deadline: num(item, LogAttr.deadline) };
  }
  const claimKey = item[LogAttr.claimKey]?.S;
  const claim = claimKey === undefined ? undefined : { key: claimKey, size: num(item, LogAttr.claimSize) };
  const body = item[LogAttr.body]?.B ?? (claim ? EMPTY : undefined);
  if (!body) {
    throw new LogInvariantError(`Log item at offset ${base.offset} has neither a body nor a pending claim`);
  }
  return { ...base, kind: 'complete', body, claim, voided: item[LogAttr.voided]?.N === '1' };
}

/** The leader epoch and write stamp an item carries, as slot fields. */
function stampOf(item: Item): Pick<SlotBase, 'leaderEpoch' | 'written'> {
  const epoch = item[LogAttr.leaderEpoch]?.N;
  const region = item[LogAttr.writerRegion]?.S;
  const at = item[LogAttr.appendTime]?.N;
  return {
    ...(epoch === undefined ? {} : { leaderEpoch: Number(epoch) }),
    ...(region === undefined || at === undefined ? {} : { written: { region, at: Number(at) } }),
  };
}

/**
 * The stamp attributes of a batch written into `region`'s table at `at` in leader epoch `epoch`
 * (the epoch whose key space takes it): the writing region, the epoch and the time. Written only by
 * clients that know the deployment's regions; single-region items stay exactly as before.
 */
export function stampAttributes(region: string, epoch: number, at: number): Item {
  return {
    [LogAttr.writerRegion]: { S: region },
    [LogAttr.leaderEpoch]: { N: String(epoch) },
    [LogAttr.appendTime]: { N: String(at) },
  };
}

/**
 * The attributes of a fence at the end of a chain whose tail is `tail`: the slot fields of an empty
 * slot at `tail.end` (so every reader parses it) and the epoch and region the log continues in.
 */
export function fenceAttributes(
  partitionKey: string,
  tail: ChainTail,
  next: { readonly epoch: number; readonly region: string },
): Item {
  return {
    ...slotAttributes(partitionKey, {
      offset: tail.end,
      count: 0,
      maxTimestamp: tail.runningMaxTimestamp,
      runningMaxTimestamp: tail.runningMaxTimestamp,
      runningBytes: tail.runningBytes,
      producerId: '-1',
      sequence: -1,
    }),
    [LogAttr.fenceEpoch]: { N: String(next.epoch) },
    [LogAttr.fenceRegion]: { S: next.region },
  };
}

/** The attributes every slot carries, for a put. */
export function slotAttributes(partitionKey: string, slot: SlotBase): Item {
  return {
    [LogAttr.partitionKey]: { S: partitionKey },
    [LogAttr.offset]: { N: String(slot.offset) },
    [LogAttr.count]: { N: String(slot.count) },
    [LogAttr.maxTimestamp]: { N: String(slot.maxTimestamp) },
    [LogAttr.runningMaxTimestamp]: { N: String(slot.runningMaxTimestamp) },
    [LogAttr.runningBytes]: { N: String(slot.runningBytes) },
    [LogAttr.producerId]: { N: slot.producerId },
    [LogAttr.sequence]: { N: String(slot.sequence) },
  };
}

/** Key of a log item. */
export function logKey(partitionKey: string, offset: number): Item {
  return { [LogAttr.partitionKey]: { S: partitionKey }, [LogAttr.offset]: { N: String(offset) } };
}

/** Whether a slot was written by the given producer attempt (idempotence check). */
export function isOwnSlot(slot: SlotBase, producerId: string, sequence: number): boolean {
  return producerId !== '-1' && slot.producerId === producerId && slot.sequence === sequence;
}
