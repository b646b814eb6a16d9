/**
 * The shapes of idempotent producers' sequence state: a leaf module, so the log table's store and
 * `producer-state.ts` share them without an import cycle.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';

/** A producer state item as stored before a claim (undefined: there was none), kept opaque. */
export type PreviousProducerItem = Readonly<Record<string, AttributeValue>> | undefined;

/** The latest claim of a producer on a partition: the batch one attempt is appending. */
export interface SequenceClaim {
  /** Base sequence of the batch. */
  readonly sequence: number;
  /** Records in the batch. */
  readonly count: number;
  /** `recordsDigest` (producer-state.ts) of the batch's records: a retry must carry the same records. */
  readonly digest: string;
  /** The partition's tail offset known when the claim was made: the batch lands at or after it. */
  readonly from: number;
  /** Deadline (the claimer's clock, epoch ms): the attempt writes nothing after it. */
  readonly until: number;
  /** Random id of the attempt that made the claim. */
  readonly token: string;
}

/** A producer's sequence state on one partition. */
export interface ProducerState {
  readonly epoch: number;
  /** The next sequence the partition expects. */
  readonly nextSequence: number;
  /** Absent before the first claim and after a claim was released. */
  readonly claim: SequenceClaim | undefined;
}

/** The condition a claim write is made under. */
export type ClaimCondition =
  /**
   * The steady-state guess, made without reading: the item is at this epoch and expects this
   * sequence (or, for sequence 0, does not exist yet).
   */
  | { readonly kind: 'next'; readonly epoch: number; readonly sequence: number }
  /** The state is exactly as it was read (a takeover, a new epoch, a claim after a failed guess). */
  | { readonly kind: 'state'; readonly state: ProducerState | undefined };

/** Outcome of a claim write: made, or the condition failed and this is the state found instead. */
export type ClaimWriteResult =
  /** `previous`: the state item as it was before (to put back if the batch is refused unwritten). */
  | { readonly claimed: true; readonly previous: PreviousProducerItem }
  | { readonly claimed: false; readonly current: ProducerState | undefined };
