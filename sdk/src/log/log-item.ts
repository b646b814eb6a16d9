/**
 * Mapping between log items in DynamoDB and the engine's view of them. A slot holds either a
 * complete batch (written in one phase, or a two-phase body, or a void) or a pending claim.
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
  /** Producer id and base sequence of the writer, as decimal strings (`-1` when not idempotent). */
  readonly producerId: string;
  readonly sequence: number;
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

export type Slot = CompleteSlot | PendingSlot;

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
    producerId: item[LogAttr.producerId]?.N ?? '-1',
    sequence: Number(item[LogAttr.sequence]?.N ?? '-1'),
  };
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

/** The attributes every slot carries, for a put. */
export function slotAttributes(partitionKey: string, slot: SlotBase): Item {
  return {
    [LogAttr.partitionKey]: { S: partitionKey },
    [LogAttr.offset]: { N: String(slot.offset) },
    [LogAttr.count]: { N: String(slot.count) },
    [LogAttr.maxTimestamp]: { N: String(slot.maxTimestamp) },
    [LogAttr.runningMaxTimestamp]: { N: String(slot.runningMaxTimestamp) },
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
