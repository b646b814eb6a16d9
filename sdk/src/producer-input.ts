/**
 * What a caller hands a producer — messages, records, options — and the pure rules that turn it
 * into records ready to batch: validation, serialisation, the partition, header and timestamp
 * parsing, and each record's size bound. Both producers (direct and HTTP) and the API's request
 * appender prepare through here, so a message is refused with the same error whichever way it
 * is sent, and before anything is queued.
 */
import { InvalidArgumentError, RecordTooLargeError, UnknownPartitionError } from './errors.ts';
import { MAX_INLINE_BATCH_BYTES } from './log/appender.ts';
import type { Compression } from './log/compression.ts';
import type { Partitioner } from './log/partitioner.ts';
import { RECORD_BATCH_OVERHEAD, type RecordHeader, type RecordInput } from './log/record-batch.ts';
import { type Serializer, toBytes } from './serde.ts';
import type { TopicMetadata } from './topics/registry.ts';

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

/** Producer settings. */
export interface ProducerOptions<V> {
  /** How long a partition's batch waits for more records before it is sent. @default 5 */
  readonly lingerMs?: number;
  /** A batch is sent once it holds this many bytes (capped by the topic's `max.message.bytes`). @default 131072 */
  readonly maxBatchBytes?: number;
  /**
   * Compression of batches (a topic's `compression.type` other than `producer` overrides it).
   * zstd stores typical JSON in about a sixth of the write units, read units and storage it takes
   * uncompressed, for a few ms of client CPU per MB (BENCHMARKS.md, "Compression"); `'none'` suits
   * records that are already compressed or encrypted. @default 'zstd'
   */
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

/** The defaults of {@link ProducerOptions} (their `@default`s), in one place. */
export const PRODUCER_DEFAULTS = {
  lingerMs: 5,
  maxBatchBytes: 128 * 1024,
  compression: 'zstd' as Compression,
  idempotent: true,
  bufferMemoryBytes: 32 * 1024 * 1024,
  maxBlockMs: 60_000,
};

/** Producer options with their defaults applied. */
export type ProducerSettings = typeof PRODUCER_DEFAULTS;

/** A message validated and serialised for its partition. */
export interface Prepared {
  readonly topic: TopicMetadata;
  readonly partition: number;
  readonly record: RecordInput;
  /** Upper bound of the record's bytes inside a batch. */
  readonly size: number;
}

/** Throws {@link InvalidArgumentError} unless `record` is `{ topic, messages: [one or more] }`. */
export function validateProducerRecord<V>(record: ProducerRecord<V>): void {
  if (!record || typeof record !== 'object' || !Array.isArray(record.messages)) {
    throw new InvalidArgumentError('send() takes { topic, messages: [...] }');
  }
  if (record.messages.length === 0)
    throw new InvalidArgumentError(`No messages to send to "${record.topic}"`);
}

/**
 * Serialises and validates every message of one `send()` for `topic` (serializable, partition
 * exists, size within `max.message.bytes`) and picks its partition; throws before anything is
 * queued, so a rejected call writes nothing.
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

/** The options with defaults applied; throws {@link InvalidArgumentError} for an out-of-range one. */
export function producerSettings<V>(options: ProducerOptions<V>): ProducerSettings {
  const settings = {
    lingerMs: options.lingerMs ?? PRODUCER_DEFAULTS.lingerMs,
    maxBatchBytes: options.maxBatchBytes ?? PRODUCER_DEFAULTS.maxBatchBytes,
    compression: options.compression ?? PRODUCER_DEFAULTS.compression,
    idempotent: options.idempotent ?? PRODUCER_DEFAULTS.idempotent,
    bufferMemoryBytes: options.bufferMemoryBytes ?? PRODUCER_DEFAULTS.bufferMemoryBytes,
    maxBlockMs: options.maxBlockMs ?? PRODUCER_DEFAULTS.maxBlockMs,
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
