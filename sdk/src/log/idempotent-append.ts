/**
 * Exactly-once appends for idempotent producers whose retries may reach another process (or
 * arrive while the first attempt still runs): claim the batch's sequence in the producer's state
 * item (`producer-state.ts`), append the batch, and answer a retry of an appended batch with its
 * offsets instead of appending it again.
 *
 * The claim carries a deadline. The attempt fences itself with it: it starts no write (and
 * cancels one being sent) once the deadline is near, so past the deadline a retry that does not
 * find the batch in the log knows it never will, and takes the claim over. The deadline must
 * therefore exceed how long the claiming process can still be writing: for the API, its
 * function's timeout plus a margin (Lambda ends the environment of a timed-out invocation, and
 * the fence stops writes where nothing ends the process, as in the local stack).
 */
import { randomBytes } from 'node:crypto';
import type { StorageContext } from '../context.ts';
import {
  ConcurrentAppendError,
  InvalidArgumentError,
  OutOfOrderSequenceError,
  ProduceInProgressError,
  RecordTooLargeError,
  TimeoutError,
  TopicMovedError,
} from '../errors.ts';
import { partitionLabel } from '../keys.ts';
import type { TopicMetadata } from '../topics/registry.ts';
import type { BatchWriter, EncodedBatch } from './batch-writer.ts';
import { loadClaim } from './claim-check.ts';
import type { Slot } from './log-item.ts';
import {
  type ClaimAction,
  type ClaimCondition,
  type ClaimWriteResult,
  decideAfterLookup,
  decideClaim,
  type PreviousProducerItem,
  type ProducerState,
  ProducerStateStore,
  type SequenceClaim,
  type SequenceRequest,
} from './producer-state.ts';
import { decodeRecordBatch } from './record-batch.ts';

/**
 * Time kept between the fence (the attempt's last write) and the claim's deadline: covers a write
 * still travelling to DynamoDB when the fence falls, and clock differences between processes.
 */
const FENCE_MARGIN_MS = 2_000;

/** Shortest claim deadline accepted (tests use short ones; production ones are ~30 s). */
export const MIN_CLAIM_TIMEOUT_MS = 100;

/**
 * Claim writes tried per attempt: each further one answers a state another attempt changed
 * meanwhile (a concurrent retry, a takeover); more means heavy contention on one producer's
 * sequence, and the caller is asked to retry.
 */
const MAX_CLAIM_WRITES = 5;

const CLAIMED: ClaimAction = { kind: 'claimed' };

/** Settings of one idempotent append. */
export interface IdempotentAppendOptions {
  /**
   * How long the claim reserves the sequence for this attempt (ms). It must exceed the longest
   * time this process may still be appending (for the API: its function timeout, plus a margin).
   */
  readonly claimTimeoutMs: number;
  /** Append only at this offset (`ConcurrentAppendError` otherwise; the claim is then released). */
  readonly expectedOffset?: number;
}

/** A batch of an idempotent producer, encoded with its id, epoch and base sequence. */
export interface SequencedBatch {
  readonly batch: EncodedBatch;
  /** `recordsDigest` of the records as the request gave them. */
  readonly digest: string;
}

/** Where an idempotent batch is. */
export interface IdempotentAppendResult {
  readonly baseOffset: number;
  /** Each record's timestamp as stored. */
  readonly timestamps: readonly number[];
  /** True when an earlier attempt had appended it (nothing was written now). */
  readonly duplicate: boolean;
}

/** Runs idempotent appends: claim, append, and recognition of retries. */
export class IdempotentAppender {
  readonly #ctx: StorageContext;
  readonly #writer: BatchWriter;

  constructor(ctx: StorageContext, writer: BatchWriter) {
    this.#ctx = ctx;
    this.#writer = writer;
  }

  /** The producer state items of the topic live next to its log: in its home region. */
  #store(topic: TopicMetadata): ProducerStateStore {
    return new ProducerStateStore(this.#writer.storage(topic));
  }

  /**
   * Appends the batch once for its producer id and sequence, or recognises it as appended by an
   * earlier attempt.
   *
   * @throws OutOfOrderSequenceError when the sequence is not the one the partition expects (nothing written).
   * @throws ProduceInProgressError when an earlier attempt of this batch may still be appending it (retry).
   * @throws TimeoutError when this attempt reached its fence before its append was known to land (retry).
   */
  async append(
    topic: TopicMetadata,
    sequenced: SequencedBatch,
    options: IdempotentAppendOptions,
  ): Promise<IdempotentAppendResult> {
    const { batch, digest } = sequenced;
    const { ref, producer } = batch;
    if (producer.producerId < 0n || producer.producerEpoch < 0 || producer.baseSequence < 0) {
      throw new InvalidArgumentError(
        `An idempotent append to ${partitionLabel(ref)} needs a producer id, epoch and sequence`,
      );
    }
    if (!Number.isSafeInteger(options.claimTimeoutMs) || options.claimTimeoutMs < MIN_CLAIM_TIMEOUT_MS) {
      throw new InvalidArgumentError(
        `claimTimeoutMs must be an integer of at least ${MIN_CLAIM_TIMEOUT_MS}, got ${options.claimTimeoutMs}`,
      );
    }
    const producerId = String(producer.producerId);
    const request: SequenceRequest = {
      epoch: producer.producerEpoch,
      sequence: producer.baseSequence,
      count: batch.records.length,
      digest,
      token: randomBytes(9).toString('base64url'),
    };
    const inProgress = () =>
      new ProduceInProgressError(ref.topic, ref.partition, producerId, request.sequence);
    // Where the batch can land at the earliest: a recovery looks for it from there. The cached
    // tail (or, on a cold process, one consistent read) is at or before the true tail. A fresh
    // cached one is used without waiting for this process's appends in progress (a retry must not
    // queue behind the very attempt it may be recognising).
    const appender = this.#writer.appender(topic, ref.partition);
    const store = this.#store(topic);
    const tail = appender.freshTail() ?? (await appender.exclusive(() => appender.knownTail()));
    let condition: ClaimCondition = { kind: 'next', epoch: request.epoch, sequence: request.sequence };
    for (let write = 0; write < MAX_CLAIM_WRITES; write++) {
      const claim: SequenceClaim = {
        sequence: request.sequence,
        count: request.count,
        digest,
        from: tail.end,
        until: this.#ctx.now() + options.claimTimeoutMs,
        token: request.token,
      };
      // Started before the claim is sent, so the fence falls before `until` whatever the delays.
      const fence = startFence(ref, producerId, request.sequence, options.claimTimeoutMs);
      let written: ClaimWriteResult;
      try {
        written = await store.claim(ref, producerId, request.epoch, claim, condition);
      } catch (error) {
        fence.clear();
        throw error;
      }
      const state = written.claimed ? undefined : written.current;
      // A claim write retried after a lost response finds its own claim (by token): claimed too.
      const action = written.claimed ? CLAIMED : decideClaim(state, request, this.#ctx.now());
      if (action.kind === 'claimed') {
        try {
          const previous = written.claimed ? written.previous : undefined;
          return await this.#appendClaimed(topic, batch, producerId, claim, previous, fence.signal, options);
        } finally {
          fence.clear();
        }
      }
      fence.clear();
      switch (action.kind) {
        case 'refuse':
          throw new OutOfOrderSequenceError(
            ref.topic,
            ref.partition,
            producerId,
            request.sequence,
            action.expectedSequence,
          );
        case 'claim':
          condition = { kind: 'state', state: action.expected };
          break;
        case 'look-up': {
          const { claim: latest } = action.state;
          const found = await store.findBatch(ref, producerId, latest.sequence, latest.from);
          const next = decideAfterLookup(action.state, action.purpose, found !== undefined, this.#ctx.now());
          if (next.kind === 'in-progress') throw inProgress();
          if (next.kind === 'claim') condition = { kind: 'state', state: next.expected };
          else if (found) return this.#duplicate(topic, batch, found, producerId, action.state);
          break;
        }
      }
    }
    throw inProgress();
  }

  async #appendClaimed(
    topic: TopicMetadata,
    batch: EncodedBatch,
    producerId: string,
    claim: SequenceClaim,
    previous: PreviousProducerItem,
    fence: AbortSignal,
    options: IdempotentAppendOptions,
  ): Promise<IdempotentAppendResult> {
    const { ref } = batch;
    try {
      // A failed upload leaves the log untouched (an orphaned object is swept by the archiver).
      const staged = await this.#writer.stage(topic, batch);
      const result = await this.#writer.append(topic, ref.partition, staged, {
        signal: fence,
        ...(options.expectedOffset === undefined ? {} : { expectedOffset: options.expectedOffset }),
      });
      return {
        baseOffset: result.baseOffset,
        timestamps: batch.records.map((r) => r.timestamp),
        duplicate: result.duplicate,
      };
    } catch (error) {
      // Past the fence the outcome is unknown: keep the claim; the retry settles it.
      if (fence.aborted) throw fence.reason;
      if (wroteNothing(error)) {
        // Let the retry claim the sequence again at once. If the release itself fails, that
        // failure is what the caller sees (retriable); the retry then waits out the deadline.
        await this.#store(topic).release(ref, producerId, claim, previous);
      }
      throw error;
    }
  }

  /** The answer to a retry whose batch is already in the log. */
  async #duplicate(
    topic: TopicMetadata,
    batch: EncodedBatch,
    slot: Slot,
    producerId: string,
    state: ProducerState,
  ): Promise<IdempotentAppendResult> {
    const { ref } = batch;
    if (slot.count !== batch.records.length) {
      throw new OutOfOrderSequenceError(
        ref.topic,
        ref.partition,
        producerId,
        batch.producer.baseSequence,
        state.nextSequence,
      );
    }
    return {
      baseOffset: slot.offset,
      timestamps: await this.#storedTimestamps(topic, batch, slot),
      duplicate: true,
    };
  }

  /**
   * The stored records' timestamps: from the batch itself when it is still in DynamoDB (or its S3
   * claim-check object). An archived batch's are the request's own (on a `LogAppendTime` topic,
   * the batch's append time): reading its segment back for a retry would cost more than it tells.
   */
  async #storedTimestamps(topic: TopicMetadata, batch: EncodedBatch, slot: Slot): Promise<number[]> {
    if (slot.kind === 'complete') {
      const bytes = slot.claim ? await loadClaim(this.#ctx, slot.claim, slot.offset) : slot.body;
      const decoded = await decodeRecordBatch(bytes, `${partitionLabel(batch.ref)}@${slot.offset}`);
      return decoded.records.map((r) => r.timestamp);
    }
    if (topic.config.timestampType === 'LogAppendTime') return batch.records.map(() => slot.maxTimestamp);
    return batch.records.map((r) => r.timestamp);
  }
}

/**
 * Failures of an append that certainly wrote nothing to the log (a failover's fence is met only in
 * place of a write: the batch is appended in the new home by the retry).
 */
function wroteNothing(error: unknown): boolean {
  return (
    error instanceof InvalidArgumentError ||
    error instanceof RecordTooLargeError ||
    error instanceof ConcurrentAppendError ||
    error instanceof TopicMovedError
  );
}

/** A signal that falls `FENCE_MARGIN_MS` (at most a quarter of the timeout) before the claim's deadline. */
function startFence(
  ref: { readonly topic: string; readonly partition: number },
  producerId: string,
  sequence: number,
  claimTimeoutMs: number,
): { signal: AbortSignal; clear: () => void } {
  const controller = new AbortController();
  const timer = setTimeout(
    () =>
      controller.abort(
        new TimeoutError(
          `Producer ${producerId}'s batch (sequence ${sequence}) to ${partitionLabel(ref)} was not known to be ` +
            'appended before its claim ran out, so this attempt stopped writing; it may or may not have landed. ' +
            'Retry the same request: it is answered with the batch if it landed, and appends it otherwise.',
        ),
      ),
    claimTimeoutMs - Math.min(FENCE_MARGIN_MS, claimTimeoutMs / 4),
  );
  return { signal: controller.signal, clear: () => clearTimeout(timer) };
}
