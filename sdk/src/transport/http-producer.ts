/**
 * The producer over the HTTP API: the {@link Producer} interface, with messages validated and
 * serialised exactly as the direct producer does (same errors, before any request), then batched
 * per topic: messages of concurrent `send()` calls for one topic within `lingerMs` go in one
 * `produce` request, split so each partition's share stays within `maxBatchBytes` and the body
 * within the API's limit. One request per topic is in flight at a time, so each partition's
 * records land in the order they were sent.
 */

import type { ProduceBody, ProduceResult } from '../api/schemas.ts';
import { Outstanding } from '../concurrency.ts';
import {
  ClientClosedError,
  InternalError,
  RequestTooLargeError,
  UnsupportedOperationError,
} from '../errors.ts';
import { Partitioner } from '../log/partitioner.ts';
import { RECORD_BATCH_OVERHEAD } from '../log/record-batch.ts';
import type {
  ExpectedOffsetRecord,
  Producer,
  ProducerMetrics,
  ProducerOptions,
  ProducerRecord,
  ProducerSettings,
  RecordMetadata,
} from '../producer.ts';
import { type Prepared, prepareMessages, producerSettings, validateProducerRecord } from '../producer.ts';
import type { Serializer } from '../serde.ts';
import type { TopicMetadata } from '../topics/registry.ts';
import type { TopicCache } from '../topics/topic-cache.ts';
import { ByteBudget } from './byte-budget.ts';
import type { HttpClient } from './http-client.ts';
import { MAX_REQUEST_BODY_BYTES } from './http-response.ts';
import {
  MAX_RECORDS_PER_REQUEST,
  PRODUCE_ENVELOPE_BYTES,
  produceBodyBytes,
  type RequestLimits,
  recordsForRequest,
  toWireRecord,
  type WireRecord,
} from './produce-request.ts';

interface Pending extends WireRecord {
  readonly queuedAt: number;
  readonly resolve: (meta: RecordMetadata) => void;
  readonly reject: (error: unknown) => void;
}

interface TopicQueue {
  readonly topic: string;
  /** Partition count and request limits, from the latest metadata. */
  partitions: number;
  limits: RequestLimits;
  pending: Pending[];
  /** Record bytes pending per partition, and JSON bytes pending in all: to see when a request is full. */
  readonly partitionBytes: Map<number, number>;
  bodyBytes: number;
  timer: NodeJS.Timeout | undefined;
  /**
   * Requests in flight. They overlap only on disjoint partitions: a partition with a request in
   * flight is busy, and its later records wait, so each partition's records land in send order.
   */
  readonly inFlight: Set<Promise<void>>;
  readonly busy: Set<number>;
}

/** Produce requests in flight per topic (each on partitions no other in-flight request has). */
const MAX_IN_FLIGHT_PER_TOPIC = 8;

/**
 * Sends messages to topics through the HTTP API. Obtain with `tributary.producer()` on an HTTP
 * client; call `close()` when done.
 *
 * The options mean over HTTP:
 * - `lingerMs`: how long a topic's records wait for more before a request is sent;
 * - `maxBatchBytes`: record bytes per partition in one request (within the topic's
 *   `max.message.bytes`); a request's JSON body also stays under the API's 6 MB limit;
 * - `bufferMemoryBytes` and `maxBlockMs`: as on the direct transport, bytes of records queued and
 *   in flight, and how long `send` waits for room before `TimeoutError`;
 * - `compression`: validated but not used: records travel as base64 JSON, and the API compresses
 *   batches as the topic's `compression.type` says;
 * - `idempotent`: validated but not used: the API's own appends are idempotent, but the HTTP hop
 *   is not, so a produce request is never retried once it may have reached the API (see
 *   `HttpClient.call`); a lost response fails the `send` (its message says the records may have
 *   been appended) instead of risking duplicates.
 */
export class HttpProducer<V> implements Pick<Producer<V>, keyof Producer<V>> {
  readonly #client: HttpClient;
  readonly #topics: TopicCache;
  readonly #options: ProducerSettings;
  readonly #serializer: Serializer<V>;
  readonly #partitioner = new Partitioner();
  readonly #budget: ByteBudget;
  readonly #queues = new Map<string, TopicQueue>();
  readonly #outstanding = new Outstanding();
  #records = 0;
  #requests = 0;
  /** Flushes in progress: while any, records are sent without waiting out `lingerMs`. */
  #flushing = 0;
  #closing: Promise<void> | undefined;
  #closed = false;

  /** @internal use `tributary.producer()` */
  constructor(
    client: HttpClient,
    topics: TopicCache,
    options: ProducerOptions<V> & { serializer: Serializer<V> },
  ) {
    this.#client = client;
    this.#topics = topics;
    this.#serializer = options.serializer;
    this.#options = producerSettings(options);
    this.#budget = new ByteBudget(this.#options.bufferMemoryBytes, this.#options.maxBlockMs);
  }

  /**
   * Sends messages; resolves with each message's partition and offset once the API has appended
   * them. Every message is validated (serializable, partition exists, size within
   * `max.message.bytes` and the API's request limit) before any is queued, so a rejected call
   * writes nothing.
   */
  async send(record: ProducerRecord<V>): Promise<RecordMetadata[]> {
    this.#assertOpen();
    // Tracked from the start, so a flush or close also waits for sends still being validated.
    const sent = (async () => {
      const wire = await this.#prepare(record);
      await this.#budget.reserve(wire.reduce((sum, w) => sum + w.size, 0));
      return this.#enqueue(record.topic, wire);
    })();
    this.#outstanding.track(sent);
    return sent;
  }

  /**
   * Appends the messages as one batch to `partition` only if its next offset is
   * `expectedOffset`; otherwise throws `ConcurrentAppendError` and writes nothing. Records sent
   * earlier to the topic are appended first. Never retried once it may have reached the API.
   */
  async sendAtOffset(record: ExpectedOffsetRecord<V>): Promise<RecordMetadata[]> {
    this.#assertOpen();
    const wire = await this.#prepare({
      topic: record.topic,
      messages: record.messages.map((m) => ({ ...m, partition: record.partition })),
    });
    const body: ProduceBody = {
      encoding: 'base64',
      expectedOffset: record.expectedOffset,
      records: wire.map((w) => w.body),
    };
    const bytes = produceBodyBytes(wire, Buffer.byteLength(`,"expectedOffset":${record.expectedOffset}`));
    if (bytes > MAX_REQUEST_BODY_BYTES) throw new RequestTooLargeError(bytes, MAX_REQUEST_BODY_BYTES);
    await this.#flushTopic(record.topic);
    const sent = this.#client
      .call('produce', { params: { topic: record.topic }, body })
      .then((result) => this.#metadata(record.topic, wire.length, result));
    this.#outstanding.track(sent);
    return sent;
  }

  /**
   * Not available over HTTP: the API appends to one topic per request and cannot join writes to
   * several topics (or your own DynamoDB items) in one transaction. Throws
   * `UnsupportedOperationError`; use the direct transport.
   */
  async sendAtomically(
    _records: readonly ProducerRecord<V>[],
    _options: Parameters<Producer<V>['sendAtomically']>[1] = {},
  ): Promise<RecordMetadata[][]> {
    this.#assertOpen();
    throw new UnsupportedOperationError(
      'sendAtomically() is not available over the HTTP API (it writes one DynamoDB transaction across ' +
        'topics); use the direct transport (a client with access to the DynamoDB tables and the S3 bucket).',
    );
  }

  /** Sends everything buffered now and waits until it is appended (or failed). */
  async flush(): Promise<void> {
    this.#flushing++;
    try {
      for (const queue of this.#queues.values()) this.#drain(queue);
      await this.#outstanding.all();
    } finally {
      this.#flushing--;
    }
  }

  /** Flushes, then refuses further sends (`ClientClosedError`). Idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.flush().then(() => {
      this.#closed = true;
    });
    return this.#closing;
  }

  /**
   * Counters since the producer was created: `records` appended and `batches` (produce requests
   * that succeeded). `collisions`, `writeUnits` and `wastedWriteUnits` are always 0 over HTTP:
   * the API's appends happen server side (its metrics report them).
   */
  metrics(): ProducerMetrics {
    return {
      records: this.#records,
      batches: this.#requests,
      collisions: 0,
      writeUnits: 0,
      wastedWriteUnits: 0,
    };
  }

  #assertOpen(): void {
    if (this.#closed) throw new ClientClosedError('producer');
  }

  /** Validates and serialises as the direct producer does, then checks each record fits a request. */
  async #prepare(record: ProducerRecord<V>): Promise<WireRecord[]> {
    validateProducerRecord(record);
    const topic = await this.#topics.get(record.topic);
    const prepared: Prepared[] = prepareMessages(
      record,
      topic,
      this.#serializer,
      this.#partitioner,
      Date.now(),
    );
    const wire = prepared.map(toWireRecord);
    for (const w of wire) {
      const bytes = PRODUCE_ENVELOPE_BYTES + w.jsonBytes;
      if (bytes > MAX_REQUEST_BODY_BYTES) throw new RequestTooLargeError(bytes, MAX_REQUEST_BODY_BYTES);
    }
    this.#queue(topic);
    return wire;
  }

  /** The topic's queue, its limits refreshed from the latest metadata. */
  #queue(topic: TopicMetadata): TopicQueue {
    const limits: RequestLimits = {
      partitionBytes:
        Math.min(this.#options.maxBatchBytes, topic.config.maxMessageBytes) - RECORD_BATCH_OVERHEAD,
      bodyBytes: MAX_REQUEST_BODY_BYTES,
    };
    let queue = this.#queues.get(topic.name);
    if (!queue) {
      queue = {
        topic: topic.name,
        partitions: topic.partitions,
        limits,
        pending: [],
        partitionBytes: new Map(),
        bodyBytes: PRODUCE_ENVELOPE_BYTES,
        timer: undefined,
        inFlight: new Set(),
        busy: new Set(),
      };
      this.#queues.set(topic.name, queue);
    }
    queue.partitions = topic.partitions;
    queue.limits = limits;
    return queue;
  }

  /** Queues one send's records together (so they can share a request), resolving with their metadata. */
  #enqueue(topic: string, wire: readonly WireRecord[]): Promise<RecordMetadata[]> {
    const queue = this.#queues.get(topic)!;
    const queuedAt = Date.now();
    const results = wire.map(
      (w) =>
        new Promise<RecordMetadata>((resolve, reject) => {
          queue.pending.push({ ...w, queuedAt, resolve, reject });
          queue.partitionBytes.set(w.partition, (queue.partitionBytes.get(w.partition) ?? 0) + w.size);
          queue.bodyBytes += w.jsonBytes + 1;
        }),
    );
    this.#schedule(queue);
    return Promise.all(results);
  }

  /** True when the pending records fill at least one request. */
  #full(queue: TopicQueue): boolean {
    if (queue.pending.length >= MAX_RECORDS_PER_REQUEST || queue.bodyBytes >= queue.limits.bodyBytes)
      return true;
    for (const bytes of queue.partitionBytes.values()) if (bytes >= queue.limits.partitionBytes) return true;
    return false;
  }

  /** Pending records on partitions with no request in flight, in queue order. */
  #sendable(queue: TopicQueue): Pending[] {
    if (queue.inFlight.size >= MAX_IN_FLIGHT_PER_TOPIC) return [];
    return queue.pending.filter((p) => !queue.busy.has(p.partition));
  }

  #schedule(queue: TopicQueue): void {
    if (this.#sendable(queue).length === 0) return;
    const waited = Date.now() - queue.pending[0]!.queuedAt;
    if (this.#flushing > 0 || this.#full(queue) || waited >= this.#options.lingerMs) {
      this.#drain(queue);
    } else if (!queue.timer) {
      queue.timer = setTimeout(() => {
        queue.timer = undefined;
        this.#drain(queue);
      }, this.#options.lingerMs - waited);
    }
  }

  /** Sends the next request's worth of the topic's records on partitions that are not busy. */
  #drain(queue: TopicQueue): void {
    const sendable = this.#sendable(queue);
    if (sendable.length === 0) return;
    if (queue.timer) {
      clearTimeout(queue.timer);
      queue.timer = undefined;
    }
    const taken = sendable.slice(0, recordsForRequest(sendable, queue.limits));
    const takenSet = new Set(taken);
    queue.pending = queue.pending.filter((p) => !takenSet.has(p));
    for (const p of taken) {
      queue.partitionBytes.set(p.partition, queue.partitionBytes.get(p.partition)! - p.size);
      queue.bodyBytes -= p.jsonBytes + 1;
    }
    for (const [partition, bytes] of queue.partitionBytes)
      if (bytes === 0) queue.partitionBytes.delete(partition);
    const partitions = new Set(taken.map((p) => p.partition));
    for (const partition of partitions) {
      queue.busy.add(partition);
      this.#partitioner.onBatchSealed(queue.topic, partition, queue.partitions);
    }
    const request: Promise<void> = this.#sendRequest(queue.topic, taken).finally(() => {
      queue.inFlight.delete(request);
      for (const partition of partitions) queue.busy.delete(partition);
      this.#budget.release(taken.reduce((sum, p) => sum + p.size, 0));
      this.#schedule(queue);
    });
    queue.inFlight.add(request);
    this.#outstanding.track(request);
    // More partitions may be free: fill another request at once rather than after this one.
    if (this.#flushing > 0 || this.#full(queue)) this.#drain(queue);
  }

  async #sendRequest(topic: string, taken: readonly Pending[]): Promise<void> {
    try {
      const result = await this.#client.call('produce', {
        params: { topic },
        body: { encoding: 'base64', records: taken.map((p) => p.body) },
      });
      const metas = this.#metadata(topic, taken.length, result);
      taken.forEach((p, i) => {
        p.resolve(metas[i]!);
      });
    } catch (error) {
      for (const p of taken) p.reject(error);
    }
  }

  #metadata(topic: string, count: number, result: ProduceResult): RecordMetadata[] {
    if (result.records.length !== count) {
      throw new InternalError(
        `The API answered a produce request of ${count} record(s) to "${topic}" with ${result.records.length} result(s)`,
      );
    }
    this.#records += count;
    this.#requests++;
    return result.records.map((r) => ({
      topic,
      partition: r.partition,
      offset: r.offset,
      timestamp: r.timestamp,
    }));
  }

  /** Waits until every record queued for `topic` so far has been sent and answered. */
  async #flushTopic(topic: string): Promise<void> {
    const queue = this.#queues.get(topic);
    if (!queue) return;
    // A drain sends whatever is pending on free partitions, so nothing is pending once none is in flight.
    this.#drain(queue);
    while (queue.inFlight.size > 0) {
      await Promise.race([...queue.inFlight]).catch(() => undefined);
      this.#drain(queue);
    }
  }
}
