/**
 * The producer: the {@link Producer} interface both transports implement, and the direct
 * transport's {@link DirectProducer}. The direct producer prepares messages (`producer-input.ts`),
 * batches them per partition (`lingerMs`, `maxBatchBytes`), and writes one batch per partition at
 * a time through the {@link BatchWriter} (encode, claim check, append), so each producer's records
 * keep their order. A partition follows its topic's failovers: its appender is the one of the
 * topic's current home and leader epoch (as the cached metadata says), and a batch that meets a
 * failover's fence (`TopicMovedError`: nothing written) is appended again once the topic, read from
 * the new home, shows the new epoch. Memory held by unsent records is bounded (`bufferMemoryBytes`, a
 * {@link ByteBudget}): `send` waits for room (backpressure) instead of growing without limit.
 */

import { randomBytes } from 'node:crypto';
import type { TransactWriteItem } from '@aws-sdk/client-dynamodb';
import { Outstanding } from './concurrency.ts';
import type { StorageContext } from './context.ts';
import { ClientClosedError, TopicMovedError } from './errors.ts';
import { type PartitionRef, partitionKey } from './keys.ts';
import {
  type AppendResult,
  type BatchToAppend,
  MAX_INLINE_BATCH_BYTES,
  type PartitionAppender,
} from './log/appender.ts';
import { appendAtomically } from './log/atomic-append.ts';
import { BatchWriter } from './log/batch-writer.ts';
import { Partitioner } from './log/partitioner.ts';
import { RECORD_BATCH_OVERHEAD, type RecordInput } from './log/record-batch.ts';
import {
  type ExpectedOffsetRecord,
  type Prepared,
  type ProducerOptions,
  type ProducerRecord,
  type ProducerSettings,
  prepareMessages,
  producerSettings,
  validateProducerRecord,
} from './producer-input.ts';
import { assertTransactionsAvailable } from './regions/transactions.ts';
import { backoffDelay, sleep } from './retry.ts';
import type { Serializer } from './serde.ts';
import type { TopicMetadata } from './topics/registry.ts';
import type { TopicCache } from './topics/topic-cache.ts';
import { partitionRef } from './topics/topic-metadata.ts';
import { ByteBudget } from './transport/byte-budget.ts';

/** Where a message landed. */
export interface RecordMetadata {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly timestamp: number;
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

/** A sealed batch, encoded and staged for its append, with the records it holds (timestamps as stored). */
interface StagedBatch {
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
  /** The partition, its topic and appender as of the newest metadata seen (they change at a failover). */
  ref: PartitionRef;
  topic: TopicMetadata;
  appender: PartitionAppender;
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

/**
 * Sends messages to topics, the same over both transports (`DirectProducer` and the HTTP
 * transport's `HttpProducer` implement it). Obtain one with `tributary.producer()`; call
 * `close()` when done.
 */
export interface Producer<V> {
  /**
   * Sends messages; resolves with each message's partition and offset once all are durably
   * appended. Every message is validated (serializable, partition exists, size within
   * `max.message.bytes`) before any is queued, so a rejected call writes nothing. Messages are
   * batched per partition (`lingerMs`, `maxBatchBytes`) and each partition's records land in the
   * order they were sent; `send` waits for buffer room (`bufferMemoryBytes`) up to `maxBlockMs`,
   * then fails with `TimeoutError`.
   */
  send(record: ProducerRecord<V>): Promise<RecordMetadata[]>;
  /**
   * Appends the messages as one batch to `partition` only if its next offset is
   * `expectedOffset`; otherwise throws `ConcurrentAppendError` and writes nothing. Records sent
   * earlier to the partition are appended first.
   */
  sendAtOffset(record: ExpectedOffsetRecord<V>): Promise<RecordMetadata[]>;
  /**
   * Appends messages to several topics and partitions atomically: every message appears or none
   * does (one batch per partition, at most 100 partitions and 4 MB, in one DynamoDB transaction),
   * together with `extraItems`. Returns metadata per input record, in order. Direct transport
   * only: over HTTP, and on an MRSC deployment (`consistency: 'strong'`, no transactions), it
   * throws `UnsupportedOperationError` and writes nothing.
   */
  sendAtomically(
    records: readonly ProducerRecord<V>[],
    options?: SendAtomicallyOptions,
  ): Promise<RecordMetadata[][]>;
  /** Sends everything buffered now and waits until it is appended (or failed). */
  flush(): Promise<void>;
  /** Flushes, then refuses further sends with `ClientClosedError`. Calling it again does nothing more. */
  close(): Promise<void>;
  /**
   * Counters since the producer was created. Over HTTP, `batches` counts produce requests and the
   * write-unit and collision counters stay 0 (the API appends server side).
   */
  metrics(): ProducerMetrics;
}

/** Options of {@link Producer.sendAtomically}. */
export interface SendAtomicallyOptions {
  /**
   * Your own DynamoDB items, written in the same transaction (e.g. a business row); if one fails
   * its condition, nothing is written and `TransactionConditionFailedError` names it.
   */
  readonly extraItems?: readonly TransactWriteItem[];
}

/** The direct transport's producer: appends to the log in DynamoDB with the caller's credentials. */
export class DirectProducer<V> implements Producer<V> {
  readonly #ctx: StorageContext;
  readonly #topics: TopicCache;
  readonly #options: ProducerSettings;
  readonly #serializer: Serializer<V>;
  readonly #producerId: bigint;
  readonly #writer: BatchWriter;
  readonly #budget: ByteBudget;
  readonly #partitioner = new Partitioner();
  readonly #queues = new Map<string, PartitionQueue>();
  readonly #outstanding = new Outstanding();
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
    this.#budget = new ByteBudget(this.#options.bufferMemoryBytes, this.#options.maxBlockMs);
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
    await this.#budget.reserve(bytes);
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
    const result = await this.#following(() =>
      queue.appender.append(batch.append, { expectedOffset: record.expectedOffset }),
    );
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
    options: SendAtomicallyOptions = {},
  ): Promise<RecordMetadata[][]> {
    this.#assertOpen();
    // Before the flush below: a refused call must not even send what earlier send()s buffered.
    assertTransactionsAvailable(
      this.#ctx,
      'producer.sendAtomically()',
      'Send the records with send() instead (each partition appends its batch on its own).',
    );
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
    const results = await this.#following(() =>
      appendAtomically(
        this.#ctx,
        entries.map((e) => ({ appender: e.queue.appender, batch: e.encoded.append })),
        options.extraItems,
      ),
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
    const { appends, collisions, writeUnits, wastedWriteUnits } = this.#writer.stats();
    return { records: this.#records, batches: appends, collisions, writeUnits, wastedWriteUnits };
  }

  #assertOpen(): void {
    if (this.#closed) throw new ClientClosedError('producer');
  }

  async #prepare(record: ProducerRecord<V>): Promise<Prepared[]> {
    validateProducerRecord(record);
    const topic = await this.#topics.get(record.topic);
    // Where the topic's appends go (its home region): a refusal comes before anything is queued.
    this.#writer.storage(topic);
    return prepareMessages(record, topic, this.#serializer, this.#partitioner, this.#ctx.now());
  }

  #queue(topic: TopicMetadata, partition: number): PartitionQueue {
    const ref = partitionRef(topic, partition);
    const key = partitionKey(ref);
    let queue = this.#queues.get(key);
    // Newer metadata (a refresh of the cache): the next batch goes where it says, e.g. to the new
    // home after a failover. Batches in flight finish on the appender they started on.
    if (queue && queue.topic !== topic && topic.incarnation === queue.topic.incarnation) {
      queue.topic = topic;
      queue.ref = ref;
      queue.appender = this.#writer.appender(topic, partition);
    }
    if (!queue) {
      queue = {
        ref,
        topic,
        appender: this.#writer.appender(topic, partition),
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
      this.#budget.release(bytes);
      // The next batch is sealed (and encoded) on the next turn of the event loop, once the batch
      // waiting behind this one is on its way: encoding it here would delay that append's request.
      setImmediate(() => this.#schedule(queue));
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

  async #appendEncoded(queue: PartitionQueue, taken: Queued[], encoded: Promise<StagedBatch>): Promise<void> {
    try {
      const batch = await encoded;
      const result = await this.#following(() => queue.appender.append(batch.append));
      this.#records += taken.length;
      const metas = this.#metadata(queue, batch.records, result);
      taken.forEach((q, i) => {
        q.resolve(metas[i]!);
      });
    } catch (error) {
      for (const q of taken) q.reject(error);
    }
  }

  /**
   * Runs `append` (which reads the queues' appenders when called) and, when it meets a failover's
   * fence, reads the topic again from the new home, moves the topic's queues (of that incarnation)
   * onto the epoch it shows and runs it again: until it lands, fails otherwise, or the retry policy's deadline passes
   * (the failover is still waiting for the new home to hold the log: the last `TopicMovedError`).
   */
  async #following<T>(append: () => Promise<T>): Promise<T> {
    const started = Date.now();
    for (let attempt = 0; ; attempt++) {
      try {
        return await append();
      } catch (error) {
        if (!(error instanceof TopicMovedError)) throw error;
        const delay = backoffDelay(attempt, this.#ctx.retry);
        if (Date.now() + delay - started > this.#ctx.retry.deadlineMs) throw error;
        await sleep(delay);
        const topic = await this.#topics.reload(error.topic, { region: error.region });
        for (const queue of this.#queues.values()) {
          if (queue.ref.topic === topic.name && queue.topic.incarnation === topic.incarnation) {
            queue.topic = topic;
            queue.ref = partitionRef(topic, queue.ref.partition);
            queue.appender = this.#writer.appender(topic, queue.ref.partition);
          }
        }
      }
    }
  }

  async #encode(queue: PartitionQueue, input: readonly RecordInput[]): Promise<StagedBatch> {
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
