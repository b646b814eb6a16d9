/**
 * Records to stored batches, in one place: encode them as one RecordBatch v2 as the topic's
 * configs say (codec per `compression.type`, timestamps per `message.timestamp.type`, the
 * producer's id, epoch and base sequence in the batch header), store a large batch in S3 by claim
 * check, and append it through the partition's {@link PartitionAppender}. The direct producer,
 * the API's produce and the processes to come (Lambda-trigger dispatcher, Kafka gateway) all
 * write through it, so a batch written by any of them looks the same.
 *
 * It is also where appends find their region: each partition's appender works on the storage of
 * the topic's home region (`regions/routing.ts`), so every append path — producers, atomic
 * appends, the API's produce, idempotent appends, trigger dead letters — writes the home region's
 * log whatever region the caller is in.
 */
import type { StorageContext } from '../context.ts';
import { RecordTooLargeError } from '../errors.ts';
import { batchKey, type PartitionRef } from '../keys.ts';
import { currentEpoch } from '../regions/leader-epochs.ts';
import { appendContext } from '../regions/routing.ts';
import type { TopicMetadata } from '../topics/registry.ts';
import { partitionRef } from '../topics/topic-metadata.ts';
import {
  type AppenderOptions,
  type AppenderStats,
  type AppendOptions,
  type AppendResult,
  type BatchToAppend,
  PartitionAppender,
} from './appender.ts';
import { storeClaim } from './claim-check.ts';
import type { Compression } from './compression.ts';
import { encodeRecordBatch, type RecordInput } from './record-batch.ts';

/** Who wrote a batch, as its header says (Kafka's idempotence fields). */
export interface BatchProducer {
  /** `-1n` when not idempotent. */
  readonly producerId: bigint;
  /** `-1` when not idempotent. */
  readonly producerEpoch: number;
  /** Sequence of the batch's first record for this producer and partition; `-1` when not idempotent. */
  readonly baseSequence: number;
}

/** A batch written by no idempotent producer. */
export const NO_PRODUCER: BatchProducer = { producerId: -1n, producerEpoch: -1, baseSequence: -1 };

/** Records encoded as one batch, not stored yet. */
export interface EncodedBatch {
  readonly ref: PartitionRef;
  /** The records as the batch holds them (on a `LogAppendTime` topic, stamped with the append time). */
  readonly records: readonly RecordInput[];
  /** The RecordBatch v2 (its baseOffset is set to the slot it lands in). */
  readonly body: Uint8Array;
  readonly producer: BatchProducer;
  /** Largest record timestamp. */
  readonly maxTimestamp: number;
}

/** Encodes, stores and appends batches; holds one appender per partition it wrote to. */
export class BatchWriter {
  readonly #ctx: StorageContext;
  readonly #options: AppenderOptions;
  readonly #appenders = new Map<string, PartitionAppender>();

  constructor(ctx: StorageContext, options: AppenderOptions = {}) {
    this.#ctx = ctx;
    this.#options = options;
  }

  /**
   * The storage the topic's appends go to: its home region's (throws `NotHomeRegionError` when the
   * client refuses to forward, `UnknownRegionError` for a home outside the deployment's regions).
   * Call it before writing anything to refuse a request whole.
   */
  storage(topic: TopicMetadata): StorageContext {
    return appendContext(this.#ctx, topic);
  }

  /**
   * The appender of a partition (one per partition, region and leader epoch, so its cached tail is
   * shared), working on the topic's home region and current epoch.
   */
  appender(topic: TopicMetadata, partition: number): PartitionAppender {
    const ctx = this.storage(topic);
    const ref = partitionRef(topic, partition);
    const key = `${ctx.region ?? ''}/${batchKey(ref, currentEpoch(ref.epochs))}`;
    let appender = this.#appenders.get(key);
    if (!appender) {
      appender = new PartitionAppender(ctx, ref, this.#options);
      this.#appenders.set(key, appender);
    }
    return appender;
  }

  /**
   * Encodes `records` as one batch for `partition` of `topic`: compressed with the topic's
   * `compression.type` (or `producerCompression` when that is `producer`), timestamps kept or, on
   * a `LogAppendTime` topic, set to now.
   */
  async encode(
    topic: TopicMetadata,
    partition: number,
    input: readonly RecordInput[],
    producer: BatchProducer,
    producerCompression: Compression,
  ): Promise<EncodedBatch> {
    const appendTime = topic.config.timestampType === 'LogAppendTime';
    const now = this.#ctx.now();
    const records = appendTime ? input.map((r) => ({ ...r, timestamp: now })) : input;
    const compression =
      topic.config.compressionType === 'producer' ? producerCompression : topic.config.compressionType;
    const body = await encodeRecordBatch({
      baseOffset: 0,
      records,
      compression,
      producerId: producer.producerId,
      producerEpoch: producer.producerEpoch,
      baseSequence: producer.baseSequence,
      timestampType: appendTime ? 'log-append' : 'create',
    });
    return {
      ref: partitionRef(topic, partition),
      records,
      body,
      producer,
      maxTimestamp: records.reduce((max, r) => Math.max(max, r.timestamp), -1),
    };
  }

  /**
   * What the appender takes for `batch`: the batch itself, or, at or above the topic's
   * `large.message.threshold.bytes`, a pointer to the S3 object it was just stored in (claim check).
   */
  async stage(topic: TopicMetadata, batch: EncodedBatch): Promise<BatchToAppend> {
    const producerId = String(batch.producer.producerId);
    const sequence = batch.producer.baseSequence;
    const claim =
      batch.body.byteLength >= topic.config.largeMessageThresholdBytes
        ? await storeClaim(this.#ctx, batch.ref, batch.body, producerId, sequence)
        : undefined;
    return {
      body: batch.body,
      count: batch.records.length,
      maxTimestamp: batch.maxTimestamp,
      producerId,
      sequence,
      ...(claim ? { claim } : {}),
    };
  }

  /** Appends a staged batch to a partition of `topic`. */
  append(
    topic: TopicMetadata,
    partition: number,
    batch: BatchToAppend,
    options: AppendOptions = {},
  ): Promise<AppendResult> {
    return this.appender(topic, partition).append(batch, options);
  }

  /** Counters summed over the partitions written to. */
  stats(): AppenderStats {
    const total: AppenderStats = {
      appends: 0,
      collisions: 0,
      writeUnits: 0,
      wastedWriteUnits: 0,
      tailReads: 0,
    };
    for (const { stats } of this.#appenders.values()) {
      total.appends += stats.appends;
      total.collisions += stats.collisions;
      total.writeUnits += stats.writeUnits;
      total.wastedWriteUnits += stats.wastedWriteUnits;
      total.tailReads += stats.tailReads;
    }
    return total;
  }
}

/**
 * Throws {@link RecordTooLargeError} when an encoded batch is over the topic's
 * `max.message.bytes` (Kafka's limit on a record batch, after compression).
 */
export function checkBatchSize(topic: TopicMetadata, batch: EncodedBatch): void {
  const limit = topic.config.maxMessageBytes;
  if (batch.body.byteLength > limit) {
    throw new RecordTooLargeError(
      batch.body.byteLength,
      limit,
      `the records for ${topic.name}[${batch.ref.partition}] make one batch, and topic "${topic.name}" has ` +
        `max.message.bytes=${limit}: send fewer records per partition in one request`,
    );
  }
}
