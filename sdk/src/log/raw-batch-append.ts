/**
 * Appends record batches as Kafka producers sent them (the Kafka gateway's Produce), checked by
 * `produced-batch.ts`: the client's RecordBatch is stored as it is, at the slot the offset chain
 * gives it (the baseOffset lies outside the CRC). Like a Kafka broker, the log changes the batch
 * only where the topic says so: recompressed when `compression.type` names a codec other than the
 * batch's, stamped with the append time on a `LogAppendTime` topic.
 *
 * A batch with a producer id is appended exactly once for its (producer id, epoch, sequence)
 * through `idempotent-append.ts`, whichever process a retry reaches: a retry of the producer's
 * latest batch is answered with its original offset. A refused sequence is looked at once more to
 * tell Kafka's three answers apart (see {@link SequenceRefusal}).
 */
import type { StorageContext } from '../context.ts';
import { OutOfOrderSequenceError } from '../errors.ts';
import type { PartitionRef } from '../keys.ts';
import type { TopicMetadata } from '../topics/registry.ts';
import { partitionRef } from '../topics/topic-metadata.ts';
import { BatchWriter, checkBatchSize, type EncodedBatch } from './batch-writer.ts';
import { IdempotentAppender } from './idempotent-append.ts';
import { LogStore } from './log-store.ts';
import { type ProducedBatch, withLogAppendTime } from './produced-batch.ts';
import { type ProducerState, recordsDigest, SEQUENCE_MODULUS, stateFromItem } from './producer-state.ts';
import { encodeRecordBatch, type RecordInput } from './record-batch.ts';

/** Settings of a {@link RawBatchAppender}. */
export interface RawBatchAppenderOptions {
  /**
   * How long an idempotent batch's claim on its sequence lasts (ms): longer than this process may
   * still be appending one batch. A retry that finds the first attempt neither landed nor past
   * this deadline is answered "in progress" (`ProduceInProgressError`), so clients retry for up
   * to this long after a gateway dies mid-append.
   */
  readonly claimTimeoutMs: number;
}

/**
 * Why an idempotent batch was refused (nothing was written), in Kafka's terms:
 * - `duplicate`: its sequence lies behind the partition's next one; the batch was appended
 *   before (DUPLICATE_SEQUENCE_NUMBER).
 * - `out-of-order`: a sequence ahead of the next one (a batch is missing), an unknown producer
 *   not starting at 0, a new epoch not starting at 0, or the latest batch's sequence with another
 *   record count (OUT_OF_ORDER_SEQUENCE_NUMBER).
 * - `fenced-epoch`: the partition has seen a newer epoch of this producer (INVALID_PRODUCER_EPOCH).
 */
export type SequenceRefusal = 'duplicate' | 'out-of-order' | 'fenced-epoch';

/** What became of a batch. */
export type RawAppendOutcome =
  | {
      readonly kind: 'appended';
      readonly baseOffset: number;
      /** The append time stamped on a `LogAppendTime` topic's batch; -1 on a `CreateTime` topic. */
      readonly logAppendTime: number;
      /** True when an earlier attempt had appended it (nothing was written now). */
      readonly duplicate: boolean;
    }
  | {
      readonly kind: 'refused';
      readonly reason: SequenceRefusal;
      /** The sequence the partition expects next from this producer (0 when it has no state). */
      readonly expectedSequence: number;
    };

/**
 * Refusals re-decided because the state read afterwards showed the batch's sequence to be the
 * next one after all (a claim released meanwhile): after this many the refusal stands.
 */
const MAX_REDECISIONS = 2;

/** Appends checked client batches. One per process: it keeps each partition's appender and tail. */
export class RawBatchAppender {
  readonly #ctx: StorageContext;
  readonly #writer: BatchWriter;
  readonly #idempotent: IdempotentAppender;
  readonly #claimTimeoutMs: number;

  constructor(ctx: StorageContext, options: RawBatchAppenderOptions) {
    this.#ctx = ctx;
    this.#writer = new BatchWriter(ctx);
    this.#idempotent = new IdempotentAppender(ctx, this.#writer);
    this.#claimTimeoutMs = options.claimTimeoutMs;
  }

  /**
   * Appends `batch` to `partition` of `topic` (which the caller checked exists).
   *
   * @throws RecordTooLargeError when the stored batch is over the topic's `max.message.bytes`.
   * @throws ProduceInProgressError, TimeoutError, ThrottledError, ... (retriable): an earlier
   *   attempt may still land, or storage is busy; the client retries the same batch.
   * @throws NotHomeRegionError when the topic's appends go to another region and this client refuses to forward.
   */
  async append(topic: TopicMetadata, partition: number, batch: ProducedBatch): Promise<RawAppendOutcome> {
    // Refused here, before anything is written, when appends of the topic cannot be made from here.
    this.#writer.storage(topic);
    const ref = partitionRef(topic, partition);
    const encoded = await this.#stored(topic, ref, batch);
    checkBatchSize(topic, encoded);
    const logAppendTime = topic.config.timestampType === 'LogAppendTime';
    if (batch.producer.producerId < 0n) {
      const staged = await this.#writer.stage(topic, encoded);
      const result = await this.#writer.append(topic, partition, staged);
      return {
        kind: 'appended',
        baseOffset: result.baseOffset,
        logAppendTime: logAppendTime ? encoded.maxTimestamp : -1,
        duplicate: result.duplicate,
      };
    }
    // Timestamps are left out: a client may stamp a retry anew (kafkajs stamps records without
    // one at each send), and Kafka matches retries by sequence, not by content.
    const digest = recordsDigest(
      batch.records.map((r) => ({ key: r.key, value: r.value, headers: r.headers, timestamp: undefined })),
    );
    for (let redecided = 0; ; redecided++) {
      try {
        const result = await this.#idempotent.append(
          topic,
          { batch: encoded, digest },
          { claimTimeoutMs: this.#claimTimeoutMs },
        );
        return {
          kind: 'appended',
          baseOffset: result.baseOffset,
          logAppendTime: logAppendTime ? (result.timestamps[0] ?? encoded.maxTimestamp) : -1,
          duplicate: result.duplicate,
        };
      } catch (error) {
        if (!(error instanceof OutOfOrderSequenceError)) throw error;
        const item = await new LogStore(this.#writer.storage(topic)).producerStateItem(
          ref,
          String(batch.producer.producerId),
        );
        const state = item ? stateFromItem(item) : undefined;
        const refusal = classifyRefusal(state, batch.producer.producerEpoch, batch.producer.baseSequence, {
          count: batch.records.length,
        });
        if (refusal === 'retry' && redecided < MAX_REDECISIONS) continue;
        return {
          kind: 'refused',
          reason: refusal === 'retry' ? 'out-of-order' : refusal,
          expectedSequence: state?.nextSequence ?? 0,
        };
      }
    }
  }

  /** The batch as the log will hold it (see the module comment). */
  async #stored(topic: TopicMetadata, ref: PartitionRef, batch: ProducedBatch): Promise<EncodedBatch> {
    const { header, producer } = batch;
    const appendTime = topic.config.timestampType === 'LogAppendTime' ? this.#ctx.now() : undefined;
    const records: RecordInput[] = batch.records.map((r) =>
      appendTime === undefined ? r : { ...r, timestamp: appendTime },
    );
    const codec = topic.config.compressionType;
    let body = batch.bytes;
    if (codec !== 'producer' && codec !== header.compression) {
      body = await encodeRecordBatch({
        baseOffset: 0,
        records,
        compression: codec,
        producerId: producer.producerId,
        producerEpoch: producer.producerEpoch,
        baseSequence: producer.baseSequence,
        timestampType: appendTime === undefined ? 'create' : 'log-append',
      });
    } else if (appendTime !== undefined) {
      body = withLogAppendTime(body, appendTime);
    }
    return {
      ref,
      records,
      body,
      producer,
      maxTimestamp: appendTime ?? batch.maxTimestamp,
    };
  }
}

/**
 * Why a batch of `epoch` and base `sequence` (of `count` records) was refused, given the state
 * read after the refusal; `retry` when that state takes it after all (it changed meanwhile).
 */
export function classifyRefusal(
  state: ProducerState | undefined,
  epoch: number,
  sequence: number,
  batch: { readonly count: number },
): SequenceRefusal | 'retry' {
  if (state === undefined) return sequence === 0 ? 'retry' : 'out-of-order';
  if (epoch < state.epoch) return 'fenced-epoch';
  if (epoch > state.epoch) return sequence === 0 ? 'retry' : 'out-of-order';
  if (sequence === state.nextSequence) return 'retry';
  const { claim } = state;
  if (claim && claim.sequence === sequence && claim.count !== batch.count) return 'out-of-order';
  return isBehind(sequence, state.nextSequence) ? 'duplicate' : 'out-of-order';
}

/** True when `sequence` lies behind `reference` (within half the sequence space, so wraps count). */
function isBehind(sequence: number, reference: number): boolean {
  const distance = (reference - sequence + SEQUENCE_MODULUS) % SEQUENCE_MODULUS;
  return distance > 0 && distance < SEQUENCE_MODULUS / 2;
}
