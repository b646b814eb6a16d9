/**
 * One event record decoded into the record a handler sees (`shared/reference/lambda-kafka-esm.md`
 * §1.2–§1.4): key and value from base64 through the deserializers, an absent key or value as
 * `null` (a null key, a tombstone), headers from their single-entry objects of **signed** Java
 * bytes into an ordered list of `{ key, value }` that keeps duplicate names, the timestamp as
 * epoch milliseconds and as a `Date`. Anything that cannot be decoded throws a
 * {@link RecordDeserializationError} for this record alone.
 */
import { type KafkaRecordField, RecordDeserializationError } from '../errors.ts';
import type { Deserializer } from '../serde.ts';
import { type KafkaEventRecord, partitionKey, type TimestampType } from '../triggers/esm-event.ts';

/** A header of a record: its name and its bytes (empty for a header without a value). */
export interface KafkaRecordHeader {
  readonly key: string;
  readonly value: Buffer;
}

/**
 * A record of a Kafka event, decoded. `K` and `V` are what the key and value deserializers return;
 * both are given `null` for an absent key or value, so with the default (raw) deserializers a
 * null key or a tombstone is `null`, and an empty one an empty `Buffer`.
 */
export interface KafkaRecord<K = Buffer | null, V = Buffer | null> {
  readonly topic: string;
  readonly partition: number;
  /** `"<topic>-<partition>"`: the key of the event's `records`, as a partial batch response names it. */
  readonly topicPartition: string;
  readonly offset: number;
  /**
   * `"<topic>-<partition>@<offset>"`: names this record across redeliveries, which Kafka triggers
   * make (delivery is at least once, and a partial failure redelivers the rest of its partition).
   * Use it as the key of Powertools Idempotency (`eventKeyJmesPath: 'idempotencyKey'`). It is unique
   * within one topic's life: a topic deleted and created again starts at offset 0, so let
   * idempotency records expire (`expiresAfterSeconds`) before a name is reused.
   */
  readonly idempotencyKey: string;
  /** Epoch milliseconds. */
  readonly timestamp: number;
  /** {@link timestamp} as a `Date`. */
  readonly date: Date;
  /** Whether the producer (`CREATE_TIME`) or the log on append (`LOG_APPEND_TIME`) set the timestamp. */
  readonly timestampType: TimestampType;
  readonly key: K;
  readonly value: V;
  /** In the order the producer sent them; a name may occur more than once. */
  readonly headers: readonly KafkaRecordHeader[];
}

/** How keys and values are turned into application values. */
export interface RecordDeserializers<K, V> {
  readonly key: Deserializer<K>;
  readonly value: Deserializer<V>;
}

/** The idempotency key of a record: `"<topic>-<partition>@<offset>"`. */
export function idempotencyKey(topic: string, partition: number, offset: number): string {
  return `${partitionKey(topic, partition)}@${offset}`;
}

/**
 * Decodes one record whose topic, partition and offset the event check has validated. Throws
 * {@link RecordDeserializationError} (the deserializer's error as its `cause`).
 */
export function decodeRecord<K, V>(
  record: KafkaEventRecord,
  deserializers: RecordDeserializers<K, V>,
): KafkaRecord<K, V> {
  const { topic, partition, offset } = record;
  const fail = (field: KafkaRecordField, detail: string, cause?: unknown): RecordDeserializationError =>
    new RecordDeserializationError(
      topic,
      partition,
      offset,
      field,
      detail,
      cause === undefined ? {} : { cause },
    );

  const { timestamp, timestampType } = record as { timestamp: unknown; timestampType: unknown };
  if (typeof timestamp !== 'number' || !Number.isFinite(timestamp)) {
    throw fail('timestamp', `${render(timestamp)} is not epoch milliseconds`);
  }
  if (timestampType !== 'CREATE_TIME' && timestampType !== 'LOG_APPEND_TIME') {
    throw fail('timestampType', `${render(timestampType)} is neither "CREATE_TIME" nor "LOG_APPEND_TIME"`);
  }
  const headers = decodeHeaders(record.headers, fail);
  const key = deserialize('key', record.key, deserializers.key, fail);
  const value = deserialize('value', record.value, deserializers.value, fail);
  return {
    topic,
    partition,
    topicPartition: partitionKey(topic, partition),
    offset,
    idempotencyKey: idempotencyKey(topic, partition, offset),
    timestamp,
    date: new Date(timestamp),
    timestampType,
    key,
    value,
    headers,
  };
}

type Fail = (field: KafkaRecordField, detail: string, cause?: unknown) => RecordDeserializationError;

/** Standard base64 with padding, as the ESM writes it; `Buffer.from` would skip other characters silently. */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function deserialize<T>(
  field: 'key' | 'value',
  encoded: unknown,
  deserializer: Deserializer<T>,
  fail: Fail,
): T {
  // The ESM omits a null key or value; `null` is accepted too (Powertools' types allow it). An
  // empty string is zero bytes, not null: Kafka tells an empty key from a missing one.
  let bytes: Buffer | null = null;
  if (encoded !== undefined && encoded !== null) {
    if (typeof encoded !== 'string') throw fail(field, `${render(encoded)} is not a base64 string`);
    if (!BASE64.test(encoded)) throw fail(field, 'it is not valid base64');
    bytes = Buffer.from(encoded, 'base64');
  }
  try {
    return deserializer(bytes);
  } catch (error) {
    throw fail(field, error instanceof Error ? error.message : String(error), error);
  }
}

function decodeHeaders(headers: unknown, fail: Fail): KafkaRecordHeader[] {
  // The ESM always sends an array; an absent or null list (as Powertools' types allow) is no headers.
  if (headers === undefined || headers === null) return [];
  if (!Array.isArray(headers)) throw fail('headers', `${render(headers)} is not an array`);
  const out: KafkaRecordHeader[] = [];
  for (const [i, entry] of headers.entries()) {
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      throw fail('headers', `headers[${i}] is not an object { name: bytes }`);
    }
    for (const [key, bytes] of Object.entries(entry)) {
      if (!Array.isArray(bytes) || !bytes.every(isByte)) {
        throw fail('headers', `headers[${i}] ${JSON.stringify(key)} is not an array of bytes`);
      }
      // Java's signed bytes: -61 is 0xC3. Unsigned bytes (0..255) read the same.
      out.push({ key, value: Buffer.from(bytes.map((b) => b & 0xff)) });
    }
  }
  return out;
}

function isByte(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= -128 && value <= 255;
}

function render(value: unknown): string {
  if (value === undefined) return 'a missing value';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object' && value !== null) return 'an object';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
