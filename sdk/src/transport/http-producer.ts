/**
 * The producer over the HTTP API: the {@link Producer} interface, with messages validated and
 * serialised exactly as the direct producer does (same errors, before any request), then batched
 * per topic: messages of concurrent `send()` calls for one topic within `lingerMs` go in one
 * `produce` request, split so each partition's share stays within `maxBatchBytes` and the body
 * within the API's limit. Requests overlap only on disjoint partitions, so each partition's
 * records land in the order they were sent.
 *
 * Idempotent (the default), the producer has a random 63-bit producer id and counts a sequence
 * per partition; each request carries them, so the API appends each partition's share exactly
 * once however often the request is retried, and the client retries it like any idempotent call.
 */

import { randomBytes } from 'node:crypto';
import { MAX_REQUEST_BODY_BYTES } from '../api/limits.ts';
import type { ProduceBody, ProduceProducerBody, ProduceResult } from '../api/schemas.ts';
import { Outstanding } from '../concurrency.ts';
import {
  ClientClosedError,
  type ErrorCode,
  InternalError,
  OutOfOrderSequenceError,
  PartiallyAppendedError,
  RequestTooLargeError,
  TributaryError,
  UnsupportedOperationError,
} from '../errors.ts';
import { Partitioner } from '../log/partitioner.ts';
import { RECORD_BATCH_OVERHEAD } from '../log/record-batch.ts';
import type { Producer, ProducerMetrics, RecordMetadata, SendAtomicallyOptions } from '../producer.ts';
import {
  type ExpectedOffsetRecord,
  type Prepared,
  type ProducerOptions,
  type ProducerRecord,
  type ProducerSettings,
  prepareMessages,
  producerSettings,
  validateProducerRecord,
} from '../producer-input.ts';
import type { Serializer } from '../serde.ts';
import type { TopicMetadata } from '../topics/registry.ts';
import type { TopicCache } from '../topics/topic-cache.ts';
import { ByteBudget } from './byte-budget.ts';
import type { HttpClient } from './http-client.ts';
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
  /** Idempotent: each partition's next sequence, and the producer id it counts for. */
  readonly sequences: Map<number, PartitionSequence>;
}

interface PartitionSequence {
  readonly producerId: string;
  readonly next: number;
}

/** How one produce request ended: where each record landed (undefined: not appended), and the failure. */
interface RequestOutcome {
  readonly metas: readonly (RecordMetadata | undefined)[];
  readonly error?: unknown;
}

/** Produce requests in flight per topic (each on partitions no other in-flight request has). */
const MAX_IN_FLIGHT_PER_TOPIC = 8;

/** Sequences wrap after 2^31 - 1, as Kafka's do. */
const SEQUENCE_MODULUS = 2 ** 31;

/**
 * Codes with which the API refuses a request before anything of it is written (validation, a
 * missing topic or route, an expected offset or a sequence that does not match): the records are
 * certainly not appended, and the sequences they would have used are still free.
 */
const REFUSED_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'INVALID_ARGUMENT',
  'INVALID_TOPIC_NAME',
  'UNKNOWN_PARTITION',
  'TOPIC_NOT_FOUND',
  'RECORD_TOO_LARGE',
  'REQUEST_TOO_LARGE',
  'CONCURRENT_APPEND',
  'OUT_OF_ORDER_SEQUENCE',
  'ACCESS_DENIED',
  'NOT_FOUND',
  'UNSUPPORTED_MEDIA_TYPE',
  'HEADERS_TOO_LARGE',
]);

const MAY_HAVE_APPENDED =
  'The records may or may not have been appended: the retries of this idempotent request got no ' +
  "definite answer in time. The producer's later records go under a new producer id.";

/** Bytes a request's producer part may take: the envelope plus one sequence entry per partition. */
function producerPartBytes(partitions: number): number {
  return 128 + 48 * Math.min(partitions, MAX_RECORDS_PER_REQUEST);
}

/** A random 63-bit producer id, as a decimal string (like the ids Kafka brokers assign). */
function newProducerId(): string {
  return String(BigInt.asUintN(63, randomBytes(8).readBigUInt64BE()));
}

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
 * - `idempotent` (default true): exactly-once across the HTTP hop. Requests carry the producer's id
 *   and a sequence per partition; a request whose response was lost, timed out, or met a 5xx or
 *   `PRODUCE_IN_PROGRESS` is retried within the client's retry deadline, and the API answers a
 *   retry of what it already appended with the same offsets. A request that still has no definite
 *   answer at the deadline fails its `send` (the message says the records may have been appended),
 *   and the producer continues under a new producer id. A refusal (`OUT_OF_ORDER_SEQUENCE` once the
 *   API lost the producer's state, e.g. after a day idle) is resent once under a new id. With
 *   `idempotent: false` a produce request is never retried once it may have reached the API (see
 *   `HttpClient.call`): a lost response fails the `send` instead of risking duplicates.
 *
 * A request the API answers with `PARTIALLY_APPENDED` resolves the sends of the records that
 * landed and rejects the others with that error.
 */
export class HttpProducer<V> implements Producer<V> {
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
  /** The producer id requests carry (idempotent only); replaced after an ambiguous failure. */
  #producerId: string | undefined;
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
    this.#producerId = this.#options.idempotent ? newProducerId() : undefined;
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
   * earlier to the topic are appended first. Idempotent (the default), a retry of an append that
   * landed is recognised by its producer id and sequence and answered with its offsets, rather
   * than refused as a concurrent append (its own batch now occupies the offset), so it is retried
   * like `send`; otherwise it is never retried once it may have reached the API.
   */
  async sendAtOffset(record: ExpectedOffsetRecord<V>): Promise<RecordMetadata[]> {
    this.#assertOpen();
    const wire = await this.#prepare({
      topic: record.topic,
      messages: record.messages.map((m) => ({ ...m, partition: record.partition })),
    });
    const extra =
      Buffer.byteLength(`,"expectedOffset":${record.expectedOffset}`) +
      (this.#producerId === undefined ? 0 : producerPartBytes(1));
    const bytes = produceBodyBytes(wire, extra);
    if (bytes > MAX_REQUEST_BODY_BYTES) throw new RequestTooLargeError(bytes, MAX_REQUEST_BODY_BYTES);
    const sent = (async () => {
      await this.#flushTopic(record.topic);
      const queue = this.#queues.get(record.topic)!;
      // The partition keeps one request in flight, so its sequences stay in order.
      while (queue.busy.has(record.partition)) {
        await Promise.race([...queue.inFlight]).catch(() => undefined);
      }
      queue.busy.add(record.partition);
      try {
        const outcome = await this.#produce(queue, wire, record.expectedOffset);
        if (outcome.error !== undefined) throw outcome.error;
        return outcome.metas as RecordMetadata[];
      } finally {
        queue.busy.delete(record.partition);
        this.#schedule(queue);
      }
    })();
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
    _options: SendAtomicallyOptions = {},
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
      // Room is kept for the producer part (a sequence per partition) of idempotent requests.
      bodyBytes:
        MAX_REQUEST_BODY_BYTES - (this.#producerId === undefined ? 0 : producerPartBytes(topic.partitions)),
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
        sequences: new Map(),
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
    const request: Promise<void> = this.#sendRequest(queue, taken).finally(() => {
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

  async #sendRequest(queue: TopicQueue, taken: readonly Pending[]): Promise<void> {
    const outcome = await this.#produce(queue, taken);
    taken.forEach((p, i) => {
      const meta = outcome.metas[i];
      if (meta) p.resolve(meta);
      else p.reject(outcome.error);
    });
  }

  /**
   * Sends one produce request of `records` (every partition of it busy, so its sequences are
   * this request's alone) and settles the producer's state by the answer.
   */
  async #produce(
    queue: TopicQueue,
    records: readonly WireRecord[],
    expectedOffset?: number,
  ): Promise<RequestOutcome> {
    const counts = new Map<number, number>();
    for (const r of records) counts.set(r.partition, (counts.get(r.partition) ?? 0) + 1);
    for (let resent = false; ; resent = true) {
      const producer = this.#producerPart(queue, counts);
      const body: ProduceBody = {
        encoding: 'base64',
        compression: this.#options.compression,
        records: records.map((r) => r.body),
        ...(expectedOffset === undefined ? {} : { expectedOffset }),
        ...(producer ? { producer } : {}),
      };
      try {
        const result = await this.#client.call('produce', { params: { topic: queue.topic }, body });
        const metas = this.#metadata(queue.topic, records.length, result);
        if (producer) this.#advance(queue, producer, counts);
        return { metas };
      } catch (error) {
        const code = error instanceof TributaryError ? error.code : undefined;
        if (producer === undefined) return this.#failed(queue.topic, records, error);
        // The API has no (or other) state for this producer: nothing was written, so the records
        // go again under a new id, whose sequences start at 0.
        if (error instanceof OutOfOrderSequenceError && !resent) {
          this.#producerId = newProducerId();
          continue;
        }
        if (code === 'OUT_OF_ORDER_SEQUENCE' || error instanceof PartiallyAppendedError) {
          // Refused again under a fresh id, or partly landed: the state this producer's sequences
          // count on is not the API's, so continue under a new id.
          this.#producerId = newProducerId();
        } else if (code === undefined || !REFUSED_CODES.has(code)) {
          // No definite answer: some sequences may be taken by records in an unknown state. A new
          // id keeps later requests from being refused as out of order or mistaken for retries.
          this.#producerId = newProducerId();
          noteMayHaveAppended(error);
        }
        return this.#failed(queue.topic, records, error);
      }
    }
  }

  /** The request's producer part (idempotent only): the id and each partition's next sequence. */
  #producerPart(queue: TopicQueue, counts: ReadonlyMap<number, number>): ProduceProducerBody | undefined {
    const id = this.#producerId;
    if (id === undefined) return undefined;
    const sequences = [...counts.keys()].map((partition) => {
      const known = queue.sequences.get(partition);
      return { partition, sequence: known?.producerId === id ? known.next : 0 };
    });
    return { id, epoch: 0, sequences };
  }

  #advance(queue: TopicQueue, producer: ProduceProducerBody, counts: ReadonlyMap<number, number>): void {
    for (const { partition, sequence } of producer.sequences) {
      const next = (sequence + counts.get(partition)!) % SEQUENCE_MODULUS;
      queue.sequences.set(partition, { producerId: producer.id, next });
    }
  }

  /** A failed request: none of its records appended, or, when the API says so, some. */
  #failed(topic: string, records: readonly WireRecord[], error: unknown): RequestOutcome {
    const metas = new Array<RecordMetadata | undefined>(records.length).fill(undefined);
    if (error instanceof PartiallyAppendedError) {
      for (const landed of error.appended) {
        if (landed.index < 0 || landed.index >= records.length) continue;
        metas[landed.index] = {
          topic,
          partition: landed.partition,
          offset: landed.offset,
          timestamp: landed.timestamp,
        };
      }
      this.#records += error.appended.length;
    }
    return { metas, error };
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

/** Adds to an error's message that its request's records may have been appended. */
function noteMayHaveAppended(error: unknown): void {
  if (error instanceof Error && !error.message.includes(MAY_HAVE_APPENDED)) {
    error.message = `${error.message} ${MAY_HAVE_APPENDED}`;
  }
}
