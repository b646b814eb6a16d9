/**
 * Idempotent producers' sequence state, shared by every process that appends for them (the API's
 * Lambda instances today, the Kafka gateway next): one small item per (partition, producer id) in
 * the log table, under `<partition key>#producers` with sort key `off` = the producer id.
 *
 * An item holds the producer epoch, the next sequence the partition expects, and the latest
 * claim: which batch (base sequence, record count, digest of its records) an attempt is appending,
 * the partition's tail when it claimed (its batch can only land after that offset), its deadline
 * (after which that attempt writes nothing more) and a random token naming the attempt.
 *
 * A request for (producer id, epoch, sequence s, n records) is decided by {@link decideClaim}:
 * - s is the next sequence: a conditional write claims it (next = s + n). One small write per
 *   request and partition in steady state, no read: a failed condition returns the item
 *   (`ReturnValuesOnConditionCheckFailure: ALL_OLD`), and the request is decided again on it.
 * - s is the latest claim's sequence (a retry of the latest batch): the log is searched for a batch
 *   with this producer id and sequence from the claim's tail on ({@link ProducerStateStore.findBatch},
 *   the rare recovery read). Found: a duplicate, answered with its offsets. Not found while the
 *   claim's deadline is ahead: the first attempt may still be writing (`ProduceInProgressError`).
 *   Not found past the deadline: the first attempt can no longer write, so the retry takes the
 *   claim over (conditional on the old token) and appends.
 * - anything else (an older sequence, a gap, a fenced epoch, a sequence reused for other records)
 *   is refused with `OutOfOrderSequenceError`, and nothing is written.
 *
 * This module is the pure decision core plus the item's I/O; `idempotent-append.ts` runs the
 * claim, the append and the release around it.
 */
import { createHash } from 'node:crypto';
import type { StorageContext } from '../context.ts';
import { type PartitionRef, ProducerAttr } from '../keys.ts';
import { type Slot, slotFromItem } from './log-item.ts';
import { type LogItem, LogStore } from './log-store.ts';
import type {
  ClaimCondition,
  ClaimWriteResult,
  PreviousProducerItem,
  ProducerState,
  SequenceClaim,
} from './producer-claim.ts';

export type {
  ClaimCondition,
  ClaimWriteResult,
  PreviousProducerItem,
  ProducerState,
  SequenceClaim,
} from './producer-claim.ts';

import type { RecordHeader } from './record-batch.ts';

/** Sequence numbers are int32s that wrap to 0 after 2^31 - 1, as Kafka's do. */
export const SEQUENCE_MODULUS = 2 ** 31;

/**
 * How long an idle producer's state is kept: a day after its latest claim (Kafka's
 * `producer.id.expiration.ms` default). A producer silent for longer starts over with a new id.
 */
export const PRODUCER_STATE_TTL_MS = 86_400_000;

/** Largest producer id: ids are 63-bit (Kafka's are non-negative int64s). */
export const MAX_PRODUCER_ID = 2n ** 63n - 1n;

/** Largest producer epoch (an int16, as in Kafka). */
export const MAX_PRODUCER_EPOCH = 32_767;

/** A state with a claim (the one a look-up searches the log for). */
export type ClaimedState = ProducerState & { readonly claim: SequenceClaim };

/** One attempt of a request to append a batch for a producer. */
export interface SequenceRequest {
  readonly epoch: number;
  readonly sequence: number;
  readonly count: number;
  readonly digest: string;
  /** This attempt's own random token. */
  readonly token: string;
}

/** Why a request is refused (nothing is written). */
export type RefusalReason =
  /** No state for this producer id (never seen, or expired) and the sequence is not 0. */
  | 'unknown-producer'
  /** The sequence is ahead of the next expected one: a batch is missing. */
  | 'gap'
  /** The sequence is behind the latest claim: an older batch, acknowledged or abandoned before. */
  | 'older'
  /** The epoch is lower than the partition's: a newer session of this producer fenced it. */
  | 'fenced-epoch'
  /** A higher epoch must start over at sequence 0. */
  | 'new-epoch-not-at-zero'
  /** The latest claim's sequence with other records: a retry must resend the same records. */
  | 'reused';

/** What to do with a request, given the state it was decided on. */
export type ClaimAction =
  /** Write this request's claim, conditional on the state still being `expected`. */
  | { readonly kind: 'claim'; readonly expected: ProducerState | undefined }
  /** The stored claim is this attempt's own (its claim write landed; the response was lost). */
  | { readonly kind: 'claimed' }
  /**
   * Search the log for the latest claim's batch, then decide with {@link decideAfterLookup}:
   * `retry` when this request is a retry of that batch, `new-epoch` when a higher epoch waits for
   * the lower epoch's latest batch to be settled before it starts.
   */
  | { readonly kind: 'look-up'; readonly state: ClaimedState; readonly purpose: LookupPurpose }
  /** Refuse with `OutOfOrderSequenceError`; `expectedSequence` is what the partition expects. */
  | { readonly kind: 'refuse'; readonly reason: RefusalReason; readonly expectedSequence: number };

/** Why the log is searched for a claim's batch. */
export type LookupPurpose = 'retry' | 'new-epoch';

/** What to do once the log was searched for the latest claim's batch. */
export type LookupAction =
  /** The batch is in the log: answer with its offsets, write nothing. */
  | { readonly kind: 'duplicate' }
  /** Not in the log and its attempt may still write it: retry later. */
  | { readonly kind: 'in-progress' }
  /** Claim (take over the dead attempt's claim, or start the new epoch), conditional on `expected`. */
  | { readonly kind: 'claim'; readonly expected: ProducerState };

/** `sequence + count`, wrapped as Kafka wraps sequences. */
export function sequenceAfter(sequence: number, count: number): number {
  return (sequence + count) % SEQUENCE_MODULUS;
}

/** True when `sequence` lies behind `reference` (within half the sequence space, so wraps count). */
function isBehind(sequence: number, reference: number): boolean {
  const distance = (reference - sequence + SEQUENCE_MODULUS) % SEQUENCE_MODULUS;
  return distance > 0 && distance < SEQUENCE_MODULUS / 2;
}

/**
 * Decides a request on the state it was read (or returned) with. `now` is this process's clock;
 * claim deadlines are compared with it (deadlines carry a margin for clock differences).
 */
export function decideClaim(
  state: ProducerState | undefined,
  request: SequenceRequest,
  now: number,
): ClaimAction {
  if (state === undefined) {
    return request.sequence === 0
      ? { kind: 'claim', expected: undefined }
      : { kind: 'refuse', reason: 'unknown-producer', expectedSequence: 0 };
  }
  const { claim } = state;
  if (claim?.token === request.token) return { kind: 'claimed' };
  if (request.epoch < state.epoch) {
    return { kind: 'refuse', reason: 'fenced-epoch', expectedSequence: state.nextSequence };
  }
  if (request.epoch > state.epoch) {
    if (request.sequence !== 0) {
      return { kind: 'refuse', reason: 'new-epoch-not-at-zero', expectedSequence: 0 };
    }
    // The lower epoch's latest batch may still be landing; starting the new epoch first could put
    // it after the new epoch's first batch, so it is settled first.
    if (claim && now < claim.until)
      return { kind: 'look-up', state: { ...state, claim }, purpose: 'new-epoch' };
    return { kind: 'claim', expected: state };
  }
  if (request.sequence === state.nextSequence) return { kind: 'claim', expected: state };
  if (claim && request.sequence === claim.sequence) {
    if (request.count !== claim.count || request.digest !== claim.digest) {
      return { kind: 'refuse', reason: 'reused', expectedSequence: state.nextSequence };
    }
    return { kind: 'look-up', state: { ...state, claim }, purpose: 'retry' };
  }
  return {
    kind: 'refuse',
    reason: isBehind(request.sequence, state.nextSequence) ? 'older' : 'gap',
    expectedSequence: state.nextSequence,
  };
}

/**
 * Decides after the log was searched for `state.claim`'s batch (`landed`: found, complete).
 * Past the claim's deadline its attempt writes nothing more, so "not found" is then final.
 */
export function decideAfterLookup(
  state: ClaimedState,
  purpose: LookupPurpose,
  landed: boolean,
  now: number,
): LookupAction {
  const dead = now >= state.claim.until;
  if (purpose === 'new-epoch') {
    return landed || dead ? { kind: 'claim', expected: state } : { kind: 'in-progress' };
  }
  if (landed) return { kind: 'duplicate' };
  return dead ? { kind: 'claim', expected: state } : { kind: 'in-progress' };
}

/** What a record contributes to a batch's digest: its bytes and, when the request named it, its timestamp. */
export interface DigestRecord {
  readonly key: Uint8Array | null;
  readonly value: Uint8Array | null;
  readonly headers: readonly RecordHeader[];
  /** The timestamp the request gave, or undefined when the appender stamps it. */
  readonly timestamp: number | undefined;
}

/**
 * A digest of a batch's records (128 bits of SHA-256, base64url), stored with a claim so that a
 * retry of a sequence is recognised only when it carries the same records: a caller reusing a
 * sequence number for other records is refused instead of being answered with another batch's
 * offsets. Timestamps the appender fills in are left out, so a retry stamped later still matches.
 */
export function recordsDigest(records: readonly DigestRecord[]): string {
  const hash = createHash('sha256');
  const field = (bytes: Uint8Array | null) => {
    const length = Buffer.alloc(5);
    if (bytes === null) length.writeUInt8(0, 0);
    else {
      length.writeUInt8(1, 0);
      length.writeUInt32BE(bytes.byteLength, 1);
    }
    hash.update(length);
    if (bytes !== null) hash.update(bytes);
  };
  for (const record of records) {
    field(record.key);
    field(record.value);
    field(record.timestamp === undefined ? null : Buffer.from(String(record.timestamp)));
    hash.update(Buffer.from([record.headers.length >>> 8, record.headers.length & 0xff]));
    for (const header of record.headers) {
      field(Buffer.from(header.key, 'utf8'));
      field(header.value);
    }
  }
  return hash.digest().subarray(0, 16).toString('base64url');
}

/** Reads and writes producer state items, and searches the log for a producer's batch. */
export class ProducerStateStore {
  readonly #ctx: StorageContext;
  readonly #store: LogStore;

  constructor(ctx: StorageContext) {
    this.#ctx = ctx;
    this.#store = new LogStore(ctx);
  }

  /**
   * Writes `claim` for `epoch` (next sequence = after the claimed batch) if `condition` holds.
   * Refreshes the item's expiry. A write whose response was lost is retried; if the retry then
   * fails its condition on the claim its first attempt wrote, the returned state holds this
   * claim's token.
   */
  async claim(
    ref: PartitionRef,
    producerId: string,
    epoch: number,
    claim: SequenceClaim,
    condition: ClaimCondition,
  ): Promise<ClaimWriteResult> {
    const outcome = await this.#store.claimProducerSequence(ref, producerId, {
      epoch,
      nextSequence: sequenceAfter(claim.sequence, claim.count),
      claim,
      condition,
      expiresAt: Math.ceil((this.#ctx.now() + PRODUCER_STATE_TTL_MS) / 1000),
    });
    if (outcome.claimed) return { claimed: true, previous: outcome.previous };
    // The state found instead; a retried write whose first attempt landed finds its own
    // claim there, which decideClaim recognises by the token.
    return { claimed: false, current: outcome.current ? stateFromItem(outcome.current) : undefined };
  }

  /**
   * Gives a claim up after its append certainly wrote nothing: the partition expects the claimed
   * sequence again, so the client's retry is claimed at once instead of waiting for the deadline.
   * Conditional on the claim's token; returns false when the claim is no longer this attempt's.
   */
  release(
    ref: PartitionRef,
    producerId: string,
    claim: SequenceClaim,
    previous: PreviousProducerItem,
  ): Promise<boolean> {
    // A claim write retried after a lost response saw its own first attempt as "previous": then
    // only the claim is given up. Otherwise the item goes back exactly as it was (or away, when this
    // claim created it), so a refused request leaves no trace — not even a new epoch.
    if (previous !== undefined && previous[ProducerAttr.claimToken]?.S === claim.token) {
      return this.#store.releaseProducerClaim(ref, producerId, claim);
    }
    return this.#store.restoreProducerState(ref, producerId, claim.token, previous);
  }

  /**
   * Searches the partition's log from offset `from` for a batch this producer wrote with this base
   * sequence and that holds its records (complete, or archived since). Pending claims and voided
   * slots of that producer and sequence are passed over: their attempt never wrote the records
   * there. The recovery read: it reads (and bills) every item from `from` on until it finds one,
   * which is what the partition received since the claim — a few items when the retry follows
   * the claim closely.
   */
  async findBatch(
    ref: PartitionRef,
    producerId: string,
    sequence: number,
    from: number,
  ): Promise<Slot | undefined> {
    let startKey: LogItem | undefined;
    do {
      const page = await this.#store.findProducerBatches(ref, producerId, sequence, from, startKey);
      for (const item of page.items) {
        const slot = slotFromItem(item);
        if (slot.kind !== 'pending' && slot.kind !== 'fence' && !slot.voided) return slot;
      }
      startKey = page.lastKey;
    } while (startKey);
    return undefined;
  }
}

function num(item: LogItem, name: string): number | undefined {
  const v = item[name]?.N;
  return v === undefined ? undefined : Number(v);
}

/** Parses a producer state item. */
export function stateFromItem(item: LogItem): ProducerState {
  const sequence = num(item, ProducerAttr.claimSequence);
  const token = item[ProducerAttr.claimToken]?.S;
  const claim: SequenceClaim | undefined =
    sequence === undefined || token === undefined
      ? undefined
      : {
          sequence,
          count: num(item, ProducerAttr.claimCount) ?? 0,
          digest: item[ProducerAttr.claimDigest]?.S ?? '',
          from: num(item, ProducerAttr.claimFrom) ?? 0,
          until: num(item, ProducerAttr.claimUntil) ?? 0,
          token,
        };
  return {
    epoch: num(item, ProducerAttr.epoch) ?? 0,
    nextSequence: num(item, ProducerAttr.nextSequence) ?? 0,
    claim,
  };
}
