/**
 * The producer: validates and serialises messages, picks partitions, batches them per partition
 * (`lingerMs`, `maxBatchBytes`), and appends one batch per partition at a time so each producer's
 * records keep their order. Memory held by unsent records is bounded (`bufferMemoryBytes`);
 * `send` waits for room (backpressure) instead of growing without limit.
 */

import { randomBytes } from 'node:crypto';
import type { TransactWriteItem } from '@aws-sdk/client-dynamodb';
import { Outstanding } from './concurrency.ts';
import type { StorageContext } from './context.ts';
import {
  ClientClosedError,
  InvalidArgumentError,
  RecordTooLargeError,
  TimeoutError,
  UnknownPartitionError,
} from './errors.ts';
import { type PartitionRef, partitionKey } from './keys.ts';
import {
  type AppendResult,
  type BatchToAppend,
  MAX_INLINE_BATCH_BYTES,
  type PartitionAppender,
} from './log/appender.ts';
import { appendAtomically } from './log/atomic-append.ts';
import { BatchWriter } from './log/batch-writer.ts';
import type { Compression } from './log/compression.ts';
import { Partitioner } from './log/partitioner.ts';
import { RECORD_BATCH_OVERHEAD, type RecordHeader, type RecordInput } from './log/record-batch.ts';
import type { Serializer } from './serde.ts';
import { toBytes } from './serde.ts';
import type { TopicMetadata } from './topics/registry.ts';
import type { TopicCache } from './topics/topic-cache.ts';

/** Header values: text (UTF-8) or bytes; an array repeats the key. */
export type HeaderValue = string | Uint8Array | readonly (string | Uint8Array)[];

/** One message to send. */
export interface ProducerMessage<V> {
  /** Messages with equal keys go to the same partition (Kafka's murmur2 partitioner). */
  readonly key?: string | Uint8Array | null;
  readonly value: V;
  readonly headers?: Readonly<Record<string, HeaderValue>>;
  /** Send to this partition, overriding the key. */
  readonly partition?: number;
  /** Record timestamp. @default now */
  readonly timestamp?: number | Date;
}

/** Messages for one topic. */
export interface ProducerRecord<V> {
  readonly topic: string;
  readonly messages: readonly ProducerMessage<V>[];
}

/**
 * Messages appended as one batch only if the partition's next offset is exactly
 * `expectedOffset`; otherwise `ConcurrentAppendError` and nothing is written (optimistic
 * concurrency, e.g. for event sourcing).
 */
export interface ExpectedOffsetRecord<V> extends ProducerRecord<V> {
  readonly partition: number;
  readonly expectedOffset: number;
}

/** Where a message landed. */
export interface RecordMetadata {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly timestamp: number;
}

/** Producer settings. */
export interface ProducerOptions<V> {
  /** How long a partition's batch waits for more records before it is sent. @default 5 */
  readonly lingerMs?: number;
  /** A batch is sent once it holds this many bytes (capped by the topic's `max.message.bytes`). @default 131072 */
  readonly maxBatchBytes?: number;
  /** Compression of batches (a topic's `compression.type` other than `producer` overrides it). @default 'none' */
  readonly compression?: Compression;
  /**
   * Exactly-once appends under retries: a batch whose write response was lost is recognised, not
   * written twice. @default true
   */
  readonly idempotent?: boolean;
  /** Bytes of records buffered and in flight before `send` waits. @default 33554432 (32 MB) */
  readonly bufferMemoryBytes?: number;
  /** How long `send` may wait for buffer room before failing with `TimeoutError`. @default 60000 */
  readonly maxBlockMs?: number;
  /** Turns values into bytes. @default strings as UTF-8, bytes as they are */
  readonly serializer?: Serializer<V>;
}

/** Counters of one producer. */
export interface ProducerMetrics {
  readonly records: number;
  readonly batches: number;
  /** Times another writer took the slot first. */
  readonly collisions: number;
  /** Write units that stored data (estimated from item sizes, as DynamoDB bills them). */
  readonly writeUnits: number;
  /** Write units spent on writes that lost a race (failed conditions). */
  readonly wastedWriteUnits: number;
}

/** @internal A message validated and serialised for its partition (shared with the HTTP transport). */
export interface Prepared {
  readonly topic: TopicMetadata;
  readonly partition: number;
  readonly record: RecordInput;
  readonly size: number;
}

/** A sealed batch, encoded, with the records it holds (timestamps as stored). */
interface EncodedBatch {
  readonly records: readonly RecordInput[];
  readonly append: BatchToAppend;
}

interface Queued {
  readonly record: RecordInput;
  readonly size: number;
  readonly resolve: (meta: RecordMetadata) => void;
  readonly reject: (error: unknown) => void;
}

interface PartitionQueue {
  readonly ref: PartitionRef;
  readonly topic: TopicMetadata;
  readonly appender: PartitionAppender;
  records: Queued[];
  bytes: number;
  firstQueuedAt: number;
  timer: NodeJS.Timeout | undefined;
  /** Sealed batches not yet appended (being encoded, waiting, or in flight). */
  inPipeline: number;
  /** The append of the most recently sealed batch: the next one is chained after it, keeping order. */
  lastAppend: Promise<unknown>;
  nextSequence: number;
}

/** Sealed batches per partition: one appending while the next is encoded. */
const PIPELINE_DEPTH = 2;

const DEFAULTS = {
  lingerMs: 5,
  maxBatchBytes: 128 * 1024,
  compression: 'none' as Compression,
  idempotent: true,
  bufferMemoryBytes: 32 * 1024 * 1024,
  maxBlockMs: 60_000,
};

/** Sends messages to topics, the same over both transports. Obtain with `tributary.producer()`; call `close()` when done. */
export type Producer<V> = Pick<DirectProducer<V>, keyof DirectProducer<V>>;

/** The direct transport's producer: appends to the log in DynamoDB with the caller's credentials. */
export class DirectProducer<V> {
  readonly #ctx: StorageContext;
  readonly #topics: TopicCache;
  readonly #options: ProducerSettings;
  readonly #serializer: Serializer<V>;
  readonly #producerId: bigint;
  readonly #writer: BatchWriter;
  readonly #partitioner = new Partitioner();
  readonly #queues = new Map<string, PartitionQueue>();
  readonly #outstanding = new Outstanding();
  readonly #memoryWaiters: { bytes: number; wake: () => void }[] = [];
  #bufferedBytes = 0;
  #records = 0;
  #closed = false;

  /** @internal use `tributary.producer()` */
  constructor(
    ctx: StorageContext,
    topics: TopicCache,
    options: ProducerOptions<V> & { serializer: Serializer<V> },
  ) {
    this.#ctx = ctx;
    this.#topics = topics;
    this.#serializer = options.serializer;
    this.#options = producerSettings(options);
    this.#writer = new BatchWriter(ctx);
    // A random 63-bit id: unique per producer session, like the ids Kafka brokers assign.
    this.#producerId = this.#options.idempotent ? BigInt.asUintN(63, randomBytes(8).readBigUInt64BE()) : -1n;
  }

  /**
   * Sends messages; resolves with each message's partition and offset once all are durably
   * appended. Every message is validated (serializable, partition exists, size within
   * `max.message.bytes`) before any is queued, so a rejected call writes nothing.
   */
  async send(record: ProducerRecord<V>): Promise<RecordMetadata[]> {
    this.#assertOpen();
    const prepared = await this.#prepare(record);
    const bytes = prepared.reduce((sum, p) => sum + p.size, 0);
    await this.#reserve(bytes);
    // Queue the whole send before sealing anything, so its records share batches even with lingerMs 0.
    const results = prepared.map((p) => this.#enqueue(p));
    for (const queue of new Set(prepared.map((p) => this.#queue(p.topic, p.partition))))
      this.#schedule(queue);
    const all = Promise.all(results);
    this.#outstanding.track(all);
    return all;
  }

  /**
   * Appends the messages as one batch to `partition` only if its next offset is
   * `expectedOffset`; otherwise throws `ConcurrentAppendError` and writes nothing.
   */
  async sendAtOffset(record: ExpectedOffsetRecord<V>): Promise<RecordMetadata[]> {
    this.#assertOpen();
    const prepared = await this.#prepare({
      topic: record.topic,
      messages: record.messages.map((m) => ({ ...m, partition: record.partition })),
    });
    const queue = this.#queue(prepared[0]!.topic, record.partition);
    await this.#flushQueue(queue);
    const batch = await this.#encode(
      queue,
      prepared.map((p) => p.record),
    );
    const result = await queue.appender.append(batch.append, { expectedOffset: record.expectedOffset });
    this.#records += prepared.length;
    return this.#metadata(queue, batch.records, result);
  }

  /**
   * Appends messages to several topics and partitions atomically: every message appears or none
   * does (one batch per partition, at most 100 partitions and 4 MB, in one DynamoDB transaction).
   * `extraItems` are written in the same transaction (e.g. your own rows); if one fails its
   * condition, nothing is written and `TransactionConditionFailedError` names it.
   * Returns metadata per input record, in order.
   */
  async sendAtomically(
    records: readonly ProducerRecord<V>[],
    options: { readonly extraItems?: readonly TransactWriteItem[] } = {},
  ): Promise<RecordMetadata[][]> {
    this.#assertOpen();
    const prepared = await Promise.all(records.map((r) => this.#prepare(r)));
    await this.flush();
    const groups = new Map<PartitionQueue, { record: number; message: number; prepared: Prepared }[]>();
    prepared.forEach((list, record) => {
      list.forEach((p, message) => {
        const queue = this.#queue(p.topic, p.partition);
        const group = groups.get(queue) ?? [];
        group.push({ record, message, prepared: p });
        groups.set(queue, group);
      });
    });
    const entries = await Promise.all(
      [...groups].map(async ([queue, group]) => ({
        queue,
        group,
        encoded: await this.#encode(
          queue,
          group.map((g) => g.prepared.record),
        ),
      })),
    );
    const results = await appendAtomically(
      this.#ctx,
      entries.map((e) => ({ appender: e.queue.appender, batch: e.encoded.append })),
      options.extraItems,
    );
    const out: RecordMetadata[][] = prepared.map((list) => new Array<RecordMetadata>(list.length));
    entries.forEach((entry, i) => {
      const metas = this.#metadata(entry.queue, entry.encoded.records, results[i]!);
      entry.group.forEach((g, j) => {
        out[g.record]![g.message] = metas[j]!;
      });
    });
    this.#records += prepared.reduce((n, list) => n + list.length, 0);
    return out;
  }

  /** Sends everything buffered now and waits until it is appended (or failed). */
  async flush(): Promise<void> {
    for (const queue of this.#queues.values()) this.#drain(queue, true);
    await this.#outstanding.all();
  }

  /** Flushes, then refuses further sends. */
  async close(): Promise<void> {
    if (this.#closed) return;
    await this.flush();
    this.#closed = true;
  }

  /** Counters since the producer was created. */
  metrics(): ProducerMetrics {
    let batches = 0;
    let collisions = 0;
    let writeUnits = 0;
    let wastedWriteUnits = 0;
    for (const { appender } of this.#queues.values()) {
      batches += appender.stats.appends;
      collisions += appender.stats.collisions;
      writeUnits += appender.stats.writeUnits;
      wastedWriteUnits += appender.stats.wastedWriteUnits;
    }
    return { records: this.#records, batches, collisions, writeUnits, wastedWriteUnits };
  }

  #assertOpen(): void {
    if (this.#closed) throw new ClientClosedError('producer');
  }

  async #prepare(record: ProducerRecord<V>): Promise<Prepared[]> {
    validateProducerRecord(record);
    const topic = await this.#topics.get(record.topic);
    return prepareMessages(record, topic, this.#serializer, this.#partitioner, this.#ctx.now());
  }

  async #reserve(bytes: number): Promise<void> {
    if (bytes > this.#options.bufferMemoryBytes) {
      throw new RecordTooLargeError(
        bytes,
        this.#options.bufferMemoryBytes,
        'one send() is larger than bufferMemoryBytes',
      );
    }
    if (this.#bufferedBytes + bytes <= this.#options.bufferMemoryBytes && this.#memoryWaiters.length === 0) {
      this.#bufferedBytes += bytes;
      return;
    }
    await new Promise<void>((resolve, reject) => {
      const waiter = {
        bytes,
        wake: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      const timer = setTimeout(() => {
        this.#memoryWaiters.splice(this.#memoryWaiters.indexOf(waiter), 1);
        reject(
          new TimeoutError(
            `send() waited ${this.#options.maxBlockMs} ms for buffer memory: records are produced faster than they can be ` +
              'appended. Add partitions, raise bufferMemoryBytes, or slow down.',
          ),
        );
      }, this.#options.maxBlockMs);
      this.#memoryWaiters.push(waiter);
    });
  }

  #release(bytes: number): void {
    this.#bufferedBytes -= bytes;
    while (this.#memoryWaiters.length > 0) {
      const next = this.#memoryWaiters[0]!;
      if (this.#bufferedBytes + next.bytes > this.#options.bufferMemoryBytes) break;
      this.#memoryWaiters.shift();
      this.#bufferedBytes += next.bytes;
      next.wake();
    }
  }

  #queue(topic: TopicMetadata, partition: number): PartitionQueue {
    const ref = { topic: topic.name, incarnation: topic.incarnation, partition };
    const key = partitionKey(ref);
    let queue = this.#queues.get(key);
    if (!queue) {
      queue = {
        ref,
        topic,
        appender: this.#writer.appender(ref),
        records: [],
        bytes: 0,
        firstQueuedAt: 0,
        timer: undefined,
        inPipeline: 0,
        lastAppend: Promise.resolve(),
        nextSequence: 0,
      };
      this.#queues.set(key, queue);
    }
    return queue;
  }

  #enqueue(p: Prepared): Promise<RecordMetadata> {
    const queue = this.#queue(p.topic, p.partition);
    return new Promise<RecordMetadata>((resolve, reject) => {
      if (queue.records.length === 0) queue.firstQueuedAt = this.#ctx.now();
      queue.records.push({ record: p.record, size: p.size, resolve, reject });
      queue.bytes += p.size;
      // A full batch is sealed at once; otherwise the caller schedules after queueing everything.
      if (queue.bytes >= this.#batchLimit(queue)) this.#schedule(queue);
    });
  }

  #batchLimit(queue: PartitionQueue): number {
    return (
      Math.min(this.#options.maxBatchBytes, queue.topic.config.maxMessageBytes, MAX_INLINE_BATCH_BYTES) -
      RECORD_BATCH_OVERHEAD
    );
  }

  #schedule(queue: PartitionQueue): void {
    if (queue.inPipeline >= PIPELINE_DEPTH || queue.records.length === 0) return;
    const full = queue.bytes >= this.#batchLimit(queue);
    // While a batch is in flight, only a full batch is sealed early (to be encoded meanwhile);
    // a partial one keeps growing until the partition is free.
    if (queue.inPipeline > 0) {
      if (full) this.#drain(queue, true);
      return;
    }
    const waited = this.#ctx.now() - queue.firstQueuedAt;
    if (full || waited >= this.#options.lingerMs) {
      this.#drain(queue, false);
    } else if (!queue.timer) {
      queue.timer = setTimeout(() => {
        queue.timer = undefined;
        this.#drain(queue, true);
      }, this.#options.lingerMs - waited);
    }
  }

  /** Seals the partition's next batch and appends it after the ones sealed before it. */
  #drain(queue: PartitionQueue, force: boolean): void {
    if (queue.inPipeline >= PIPELINE_DEPTH || queue.records.length === 0) return;
    if (
      !force &&
      queue.bytes < this.#batchLimit(queue) &&
      this.#ctx.now() - queue.firstQueuedAt < this.#options.lingerMs
    ) {
      return;
    }
    if (queue.timer) {
      clearTimeout(queue.timer);
      queue.timer = undefined;
    }
    const limit = this.#batchLimit(queue);
    let bytes = 0;
    let count = 0;
    while (count < queue.records.length && (count === 0 || bytes + queue.records[count]!.size <= limit)) {
      bytes += queue.records[count]!.size;
      count++;
    }
    const taken = queue.records.splice(0, count);
    queue.bytes -= bytes;
    queue.firstQueuedAt = this.#ctx.now();
    queue.inPipeline++;
    this.#partitioner.onBatchSealed(queue.ref.topic, queue.ref.partition, queue.topic.partitions);
    const sent = this.#sendBatch(queue, taken).finally(() => {
      queue.inPipeline--;
      this.#release(bytes);
      this.#schedule(queue);
    });
    this.#outstanding.track(sent);
  }

  #sendBatch(queue: PartitionQueue, taken: Queued[]): Promise<void> {
    // Encoding starts now (assigning the sequence in seal order) and overlaps the previous
    // batch's append; the append itself waits for the previous one.
    const encoded = this.#encode(
      queue,
      taken.map((q) => q.record),
    );
    const appended = queue.lastAppend.then(() => this.#appendEncoded(queue, taken, encoded));
    queue.lastAppend = appended;
    return appended;
  }

  async #appendEncoded(
    queue: PartitionQueue,
    taken: Queued[],
    encoded: Promise<EncodedBatch>,
  ): Promise<void> {
    try {
      const batch = await encoded;
      const result = await queue.appender.append(batch.append);
      this.#records += taken.length;
      const metas = this.#metadata(queue, batch.records, result);
      taken.forEach((q, i) => {
        q.resolve(metas[i]!);
      });
    } catch (error) {
      for (const q of taken) q.reject(error);
    }
  }

  async #encode(queue: PartitionQueue, input: readonly RecordInput[]): Promise<EncodedBatch> {
    // The sequence is taken before the first await, so batches get sequences in seal order.
    const sequence = this.#options.idempotent ? queue.nextSequence : -1;
    queue.nextSequence = (queue.nextSequence + input.length) % 2 ** 31;
    const encoded = await this.#writer.encode(
      queue.topic,
      queue.ref.partition,
      input,
      {
        producerId: this.#producerId,
        producerEpoch: this.#options.idempotent ? 0 : -1,
        baseSequence: sequence,
      },
      this.#options.compression,
    );
    // Large batches go to S3 first; the log then carries a small pointer (claim check).
    return { records: encoded.records, append: await this.#writer.stage(queue.topic, encoded) };
  }

  #metadata(queue: PartitionQueue, records: readonly RecordInput[], result: AppendResult): RecordMetadata[] {
    return records.map((r, i) => ({
      topic: queue.ref.topic,
      partition: queue.ref.partition,
      offset: result.baseOffset + i,
      timestamp: r.timestamp,
    }));
  }

  async #flushQueue(queue: PartitionQueue): Promise<void> {
    this.#drain(queue, true);
    while (queue.inPipeline > 0 || queue.records.length > 0) {
      await this.#outstanding.some();
      this.#drain(queue, true);
    }
  }
}

/** @internal Throws {@link InvalidArgumentError} unless `record` is `{ topic, messages: [one or more] }`. */
export function validateProducerRecord<V>(record: ProducerRecord<V>): void {
  if (!record || typeof record !== 'object' || !Array.isArray(record.messages)) {
    throw new InvalidArgumentError('send() takes { topic, messages: [...] }');
  }
  if (record.messages.length === 0)
    throw new InvalidArgumentError(`No messages to send to "${record.topic}"`);
}

/**
 * @internal Serialises and validates every message of one `send()` for `topic` (serializable,
 * partition exists, size within `max.message.bytes`) and picks its partition; throws before
 * anything is queued, so a rejected call writes nothing. Shared with the HTTP transport.
 */
export function prepareMessages<V>(
  record: ProducerRecord<V>,
  topic: TopicMetadata,
  serializer: Serializer<V>,
  partitioner: Partitioner,
  now: number,
): Prepared[] {
  const limit = topic.config.maxMessageBytes;
  return record.messages.map((message, i) => {
    const value = toBytes(serializer(message.value));
    const key = message.key === undefined || message.key === null ? null : toBytes(message.key);
    const headers = toHeaders(message.headers);
    const timestamp = toTimestamp(message.timestamp, now, i);
    const partition = partitioner.choose(topic.name, topic.partitions, key, message.partition);
    if (!Number.isInteger(partition) || partition < 0 || partition >= topic.partitions) {
      throw new UnknownPartitionError(topic.name, partition, topic.partitions);
    }
    const input: RecordInput = { key, value, timestamp, headers };
    const size = recordSizeBound(input);
    if (size + RECORD_BATCH_OVERHEAD > limit) {
      throw new RecordTooLargeError(
        size + RECORD_BATCH_OVERHEAD,
        limit,
        `topic "${topic.name}" has max.message.bytes=${limit} (raise it up to 10 MB with topics alter)`,
      );
    }
    return { topic, partition, record: input, size };
  });
}

/** @internal Producer options with their defaults applied. */
export type ProducerSettings = typeof DEFAULTS;

/**
 * @internal The options with defaults applied; throws {@link InvalidArgumentError} for an
 * out-of-range one. Shared with the HTTP transport.
 */
export function producerSettings<V>(options: ProducerOptions<V>): ProducerSettings {
  const settings = {
    lingerMs: options.lingerMs ?? DEFAULTS.lingerMs,
    maxBatchBytes: options.maxBatchBytes ?? DEFAULTS.maxBatchBytes,
    compression: options.compression ?? DEFAULTS.compression,
    idempotent: options.idempotent ?? DEFAULTS.idempotent,
    bufferMemoryBytes: options.bufferMemoryBytes ?? DEFAULTS.bufferMemoryBytes,
    maxBlockMs: options.maxBlockMs ?? DEFAULTS.maxBlockMs,
  };
  validateOptions(settings);
  return settings;
}

function validateOptions(o: ProducerSettings): void {
  const positive = (name: string, v: number, max = Number.MAX_SAFE_INTEGER) => {
    if (!Number.isFinite(v) || v < 0 || v > max) {
      throw new InvalidArgumentError(`Producer option ${name} must be a number in 0..${max}, got ${v}`);
    }
  };
  positive('lingerMs', o.lingerMs, 60_000);
  positive('maxBatchBytes', o.maxBatchBytes, MAX_INLINE_BATCH_BYTES);
  positive('bufferMemoryBytes', o.bufferMemoryBytes);
  positive('maxBlockMs', o.maxBlockMs);
  if (o.maxBatchBytes < 1024)
    throw new InvalidArgumentError(
      `Producer option maxBatchBytes must be at least 1024, got ${o.maxBatchBytes}`,
    );
  if (!['none', 'gzip', 'snappy', 'lz4', 'zstd'].includes(o.compression)) {
    throw new InvalidArgumentError(
      `Producer option compression must be none, gzip, snappy, lz4 or zstd, got ${String(o.compression)}`,
    );
  }
}

function toHeaders(headers: Readonly<Record<string, HeaderValue>> | undefined): RecordHeader[] {
  if (headers === undefined) return [];
  if (typeof headers !== 'object' || headers === null)
    throw new InvalidArgumentError('Message headers must be an object');
  const out: RecordHeader[] = [];
  for (const [key, value] of Object.entries(headers)) {
    const values = Array.isArray(value) ? value : [value];
    for (const v of values) {
      if (typeof v !== 'string' && !(v instanceof Uint8Array)) {
        throw new InvalidArgumentError(`Header "${key}" must be a string or bytes (or an array of them)`);
      }
      out.push({ key, value: toBytes(v) });
    }
  }
  return out;
}

function toTimestamp(ts: number | Date | undefined, now: number, index: number): number {
  if (ts === undefined) return now;
  const value = ts instanceof Date ? ts.getTime() : ts;
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new InvalidArgumentError(
      `Message ${index} has an invalid timestamp ${String(ts)}: use epoch milliseconds ≥ 0 or a Date`,
    );
  }
  return value;
}

/** An upper bound of a record's encoded size inside a batch (varints at their widest). */
function recordSizeBound(r: RecordInput): number {
  let size = 5 + 1 + 10 + 5 + 5 + 5 + 5 + (r.key?.byteLength ?? 0) + (r.value?.byteLength ?? 0);
  for (const h of r.headers) size += 10 + Buffer.byteLength(h.key) + (h.value?.byteLength ?? 0);
  return size;
}
