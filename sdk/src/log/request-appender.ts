/**
 * Appends one produce request (the HTTP API's `produce`): its records, split by partition, each
 * partition's share written on its own. Every partition is attempted and waited for, and the
 * answer says exactly what landed:
 * - With a producer (id, epoch and a base sequence per partition), each share is exactly one
 *   batch carrying those fields, appended once through `idempotent-append.ts`: a retry of the
 *   request is recognised partition by partition, so a retriable failure of any partition is the
 *   answer and the client retries the same request.
 * - Without one, a share is appended as batches in order, stopping at its first failure. When
 *   some records landed and others did not, the answer is {@link PartiallyAppendedError} naming
 *   both, never a throttling or unavailability error (which tells a client nothing was written).
 */
import type { StorageContext } from '../context.ts';
import {
  InvalidArgumentError,
  PartiallyAppendedError,
  TopicMovedError,
  TributaryError,
  UnknownPartitionError,
} from '../errors.ts';
import type { ProducerMetrics, RecordMetadata } from '../producer.ts';
import {
  PRODUCER_DEFAULTS,
  type Prepared,
  type ProducerMessage,
  prepareMessages,
  validateProducerRecord,
} from '../producer-input.ts';
import { type RawValue, rawSerializer } from '../serde.ts';
import type { TopicMetadata } from '../topics/registry.ts';
import type { TopicCache } from '../topics/topic-cache.ts';
import { MAX_INLINE_BATCH_BYTES } from './appender.ts';
import { BatchWriter, checkBatchSize, type EncodedBatch, NO_PRODUCER } from './batch-writer.ts';
import type { Compression } from './compression.ts';
import { IdempotentAppender } from './idempotent-append.ts';
import { Partitioner } from './partitioner.ts';
import { MAX_PRODUCER_EPOCH, MAX_PRODUCER_ID, recordsDigest, SEQUENCE_MODULUS } from './producer-state.ts';
import { RECORD_BATCH_OVERHEAD } from './record-batch.ts';

/** Bytes of records per batch of a request without a producer (the direct producer's default batch). */
const BATCH_BYTES = 128 * 1024;

/** The idempotent producer a request comes from. */
export interface RequestProducer {
  /** 0 .. 2^63 - 1. */
  readonly id: bigint;
  /** 0 .. 32767. */
  readonly epoch: number;
  /** Base sequence of each partition's share; exactly the request's partitions. */
  readonly sequences: ReadonlyMap<number, number>;
}

/** One produce request. */
export interface AppendRequest {
  readonly topic: string;
  readonly messages: readonly ProducerMessage<RawValue>[];
  /** With it, the request is idempotent: every message must name its partition. */
  readonly producer?: RequestProducer;
  /** Append only at this offset of the one partition every message names. */
  readonly expectedOffset?: number;
  /** Codec of the stored batches (a topic's `compression.type` codec overrides it). @default 'zstd', the producer's */
  readonly compression?: Compression;
}

/** Settings of a {@link RequestAppender}. */
export interface RequestAppenderOptions {
  /**
   * How long an idempotent request's claim on a sequence lasts (ms): longer than this process may
   * still be appending a request (the API function's timeout), plus a margin.
   */
  readonly claimTimeoutMs: number;
}

/** A partition's share of a request. */
interface Share {
  readonly partition: number;
  /** Indexes into the request's messages, in request order. */
  readonly indexes: number[];
  readonly prepared: Prepared[];
}

/** What happened to a share: the records that landed (a prefix of it), and the failure, if any. */
interface ShareOutcome {
  readonly share: Share;
  readonly landed: readonly RecordMetadata[];
  readonly error?: unknown;
}

/** Appends produce requests for the API. One per process; it keeps each partition's appender. */
export class RequestAppender {
  readonly #ctx: StorageContext;
  readonly #topics: TopicCache;
  readonly #writer: BatchWriter;
  readonly #idempotent: IdempotentAppender;
  readonly #options: RequestAppenderOptions;
  readonly #partitioner = new Partitioner();
  #records = 0;

  constructor(ctx: StorageContext, topics: TopicCache, options: RequestAppenderOptions) {
    this.#ctx = ctx;
    this.#topics = topics;
    this.#writer = new BatchWriter(ctx);
    this.#idempotent = new IdempotentAppender(ctx, this.#writer);
    this.#options = options;
  }

  /**
   * Appends the request's records and returns where each landed, in request order. Everything is
   * validated before anything is written. Failures: the failure itself when nothing landed (or,
   * with a producer, when any partition's failure is retriable); {@link PartiallyAppendedError}
   * when some records landed and the others failed for good.
   */
  async append(request: AppendRequest): Promise<RecordMetadata[]> {
    validateProducerRecord({ topic: request.topic, messages: request.messages });
    const topic = await this.#topics.get(request.topic);
    // Where the topic's appends go (its home region): refused here, before anything is written.
    this.#writer.storage(topic);
    const prepared = prepareMessages(
      { topic: request.topic, messages: request.messages },
      topic,
      rawSerializer,
      this.#partitioner,
      this.#ctx.now(),
    );
    const shares = sharesOf(prepared);
    if (request.producer) validateProducer(request, topic, shares);
    if (request.expectedOffset !== undefined && shares.length !== 1) {
      throw new InvalidArgumentError(
        'With expectedOffset, every record must name the same partition (records go in as one batch)',
      );
    }
    const outcomes = request.producer
      ? await this.#appendIdempotent(topic, request, request.producer, shares)
      : await Promise.all(
          shares.map((share) =>
            this.#appendShare(topic, share, request.expectedOffset, compressionOf(request)),
          ),
        );
    for (const { share } of outcomes) {
      this.#partitioner.onBatchSealed(topic.name, share.partition, topic.partitions);
    }
    for (const { landed } of outcomes) this.#records += landed.length;
    // A failover's fence: the cached metadata is stale. The client retries (TOPIC_MOVED is
    // retriable), and its retry reads the topic again, in its new epoch once the switch is here.
    if (outcomes.some((o) => o.error instanceof TopicMovedError)) this.#topics.invalidate(topic.name);
    return answer(topic.name, outcomes, request.producer !== undefined, prepared.length);
  }

  /** Counters since this appender was created (`collisions` feeds the API's metrics). */
  metrics(): ProducerMetrics {
    const stats = this.#writer.stats();
    return {
      records: this.#records,
      batches: stats.appends,
      collisions: stats.collisions,
      writeUnits: stats.writeUnits,
      wastedWriteUnits: stats.wastedWriteUnits,
    };
  }

  async #appendIdempotent(
    topic: TopicMetadata,
    request: AppendRequest,
    producer: RequestProducer,
    shares: readonly Share[],
  ): Promise<ShareOutcome[]> {
    // Every share is encoded and checked before any claim, so a refused request writes nothing.
    const batches = await Promise.all(
      shares.map(async (share) => {
        const batch = await this.#writer.encode(
          topic,
          share.partition,
          share.prepared.map((p) => p.record),
          {
            producerId: producer.id,
            producerEpoch: producer.epoch,
            baseSequence: producer.sequences.get(share.partition)!,
          },
          compressionOf(request),
        );
        checkBatchSize(topic, batch);
        const digest = recordsDigest(
          share.prepared.map((p, j) => ({
            ...p.record,
            timestamp:
              request.messages[share.indexes[j]!]!.timestamp === undefined ? undefined : p.record.timestamp,
          })),
        );
        return { batch, digest };
      }),
    );
    return Promise.all(
      shares.map(async (share, i): Promise<ShareOutcome> => {
        try {
          const result = await this.#idempotent.append(topic, batches[i]!, {
            claimTimeoutMs: this.#options.claimTimeoutMs,
            ...(request.expectedOffset === undefined ? {} : { expectedOffset: request.expectedOffset }),
          });
          return {
            share,
            landed: share.indexes.map((_, j) => ({
              topic: topic.name,
              partition: share.partition,
              offset: result.baseOffset + j,
              timestamp: result.timestamps[j]!,
            })),
          };
        } catch (error) {
          return { share, landed: [], error };
        }
      }),
    );
  }

  /** A share without a producer: batches of up to {@link BATCH_BYTES}, in order, until one fails. */
  async #appendShare(
    topic: TopicMetadata,
    share: Share,
    expectedOffset: number | undefined,
    compression: Compression,
  ): Promise<ShareOutcome> {
    const landed: RecordMetadata[] = [];
    const limit =
      Math.min(BATCH_BYTES, topic.config.maxMessageBytes, MAX_INLINE_BATCH_BYTES) - RECORD_BATCH_OVERHEAD;
    // An expected-offset append is one batch, whatever its size.
    const groups = expectedOffset === undefined ? splitBySize(share.prepared, limit) : [share.prepared];
    try {
      for (const group of groups) {
        const batch: EncodedBatch = await this.#writer.encode(
          topic,
          share.partition,
          group.map((p) => p.record),
          NO_PRODUCER,
          compression,
        );
        const staged = await this.#writer.stage(topic, batch);
        const result = await this.#writer.append(
          topic,
          share.partition,
          staged,
          expectedOffset === undefined ? {} : { expectedOffset },
        );
        batch.records.forEach((record, j) => {
          landed.push({
            topic: topic.name,
            partition: share.partition,
            offset: result.baseOffset + j,
            timestamp: record.timestamp,
          });
        });
      }
      return { share, landed };
    } catch (error) {
      return { share, landed, error };
    }
  }
}

/** The request's records grouped by partition, partitions in order of first appearance. */
function sharesOf(prepared: readonly Prepared[]): Share[] {
  const shares = new Map<number, Share>();
  prepared.forEach((p, index) => {
    let share = shares.get(p.partition);
    if (!share) {
      share = { partition: p.partition, indexes: [], prepared: [] };
      shares.set(p.partition, share);
    }
    share.indexes.push(index);
    share.prepared.push(p);
  });
  return [...shares.values()];
}

/** Consecutive groups of at most `limit` record bytes (at least one record each). */
function splitBySize(prepared: readonly Prepared[], limit: number): Prepared[][] {
  const groups: Prepared[][] = [];
  let current: Prepared[] = [];
  let bytes = 0;
  for (const p of prepared) {
    if (current.length > 0 && bytes + p.size > limit) {
      groups.push(current);
      current = [];
      bytes = 0;
    }
    current.push(p);
    bytes += p.size;
  }
  if (current.length > 0) groups.push(current);
  return groups;
}

function validateProducer(request: AppendRequest, topic: TopicMetadata, shares: readonly Share[]): void {
  const producer = request.producer!;
  if (producer.id < 0n || producer.id > MAX_PRODUCER_ID) {
    throw new InvalidArgumentError(`A producer id is an integer 0..${MAX_PRODUCER_ID}, got ${producer.id}`);
  }
  if (!Number.isInteger(producer.epoch) || producer.epoch < 0 || producer.epoch > MAX_PRODUCER_EPOCH) {
    throw new InvalidArgumentError(
      `A producer epoch is an integer 0..${MAX_PRODUCER_EPOCH}, got ${producer.epoch}`,
    );
  }
  const unnamed = request.messages.findIndex((m) => m.partition === undefined);
  if (unnamed >= 0) {
    throw new InvalidArgumentError(
      `records[${unnamed}] names no partition: with a producer, every record names its partition ` +
        '(its sequence is counted per partition)',
    );
  }
  for (const [partition, sequence] of producer.sequences) {
    if (!Number.isInteger(partition) || partition < 0 || partition >= topic.partitions) {
      throw new UnknownPartitionError(topic.name, partition, topic.partitions);
    }
    if (!Number.isInteger(sequence) || sequence < 0 || sequence >= SEQUENCE_MODULUS) {
      throw new InvalidArgumentError(
        `The sequence of partition ${partition} is an integer 0..${SEQUENCE_MODULUS - 1}, got ${sequence}`,
      );
    }
  }
  const named = shares.map((s) => s.partition).sort((a, b) => a - b);
  const sequenced = [...producer.sequences.keys()].sort((a, b) => a - b);
  if (named.length !== sequenced.length || named.some((p, i) => p !== sequenced[i])) {
    throw new InvalidArgumentError(
      `producer.sequences must name exactly the request's partitions (${named.join(', ')}), ` +
        `got ${sequenced.join(', ') || 'none'}`,
    );
  }
}

/** The request's answer from its shares' outcomes (see {@link RequestAppender.append}). */
function answer(
  topic: string,
  outcomes: readonly ShareOutcome[],
  idempotent: boolean,
  total: number,
): RecordMetadata[] {
  const failures = outcomes.filter((o) => o.error !== undefined);
  if (failures.length === 0) {
    const out = new Array<RecordMetadata>(total);
    for (const { share, landed } of outcomes) {
      share.indexes.forEach((index, j) => {
        out[index] = landed[j]!;
      });
    }
    return out;
  }
  // An idempotent request is retried as a whole; the shares that landed are recognised then.
  if (idempotent) {
    const retriable = failures.find((o) => o.error instanceof TributaryError && o.error.retriable);
    if (retriable) throw retriable.error;
  }
  const appended = outcomes
    .flatMap(({ share, landed }) =>
      landed.map((m, j) => ({
        index: share.indexes[j]!,
        partition: m.partition,
        offset: m.offset,
        timestamp: m.timestamp,
      })),
    )
    .sort((a, b) => a.index - b.index);
  if (appended.length === 0) throw failures[0]!.error;
  const failed = failures
    .flatMap(({ share, landed, error }) =>
      share.indexes.slice(landed.length).map((index) => ({
        index,
        partition: share.partition,
        code: error instanceof TributaryError ? error.code : 'INTERNAL_ERROR',
      })),
    )
    .sort((a, b) => a.index - b.index);
  throw new PartiallyAppendedError(topic, appended, failed);
}

/** The codec a request's batches get when the topic leaves it to the producer: the SDK producer's default. */
function compressionOf(request: AppendRequest): Compression {
  return request.compression ?? PRODUCER_DEFAULTS.compression;
}
