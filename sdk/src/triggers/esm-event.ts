/**
 * The invocation event of Lambda's self-managed Kafka event source mapping, built from Tributary
 * records exactly as the ESM writes it (`shared/reference/lambda-kafka-esm.md` §1), its exact JSON
 * size (so a batcher stops before Lambda's 6 MB invoke payload), and the partial batch response
 * contract (§3.2). These types are shared by the dispatcher and by `tributary/lambda`'s handler
 * helper.
 *
 * Choices where the ESM is undocumented: a null key or value is **omitted** (A1); header values are
 * **signed** Java bytes (A2); a null header value is written as `[]`, which every known consumer
 * (Powertools' `Buffer.from`, the parser's `String.fromCodePoint`) reads, where `null` would throw.
 */
import { InvalidArgumentError } from '../errors.ts';
import type { RecordHeader } from '../log/record-batch.ts';

/** Lambda's synchronous invoke payload limit: 6 MB. */
export const INVOKE_PAYLOAD_LIMIT_BYTES = 6_291_456;

/** How the record's timestamp was set: by the producer, or by the log on append. */
export type TimestampType = 'CREATE_TIME' | 'LOG_APPEND_TIME';

/** A record as the dispatcher reads it from the log. */
export interface TriggerRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  /** Epoch milliseconds. */
  readonly timestamp: number;
  readonly timestampType: TimestampType;
  readonly key: Uint8Array | null;
  readonly value: Uint8Array | null;
  readonly headers: readonly RecordHeader[];
}

/** One header in the event: a single-entry object, header name → signed bytes (-128..127). */
export type KafkaEventHeader = Record<string, number[]>;

/** One record in the event. */
export interface KafkaEventRecord {
  topic: string;
  partition: number;
  offset: number;
  timestamp: number;
  timestampType: TimestampType;
  /** Base64 of the key; absent when the key is null. */
  key?: string;
  /** Base64 of the value; absent for a tombstone (null value). */
  value?: string;
  /** Always present, `[]` when there are none; ordered, duplicates kept. */
  headers: KafkaEventHeader[];
}

/**
 * The self-managed Kafka ESM event: records grouped by `"<topic>-<partition>"`, each group in
 * offset order. Plain (mutable) JSON shapes, so an event is assignable to `@types/aws-lambda`'s.
 */
export interface SelfManagedKafkaEvent {
  eventSource: 'SelfManagedKafka';
  /** Comma-separated `host:port` list (one string). */
  bootstrapServers: string;
  records: Record<string, KafkaEventRecord[]>;
}

/** Identifies one failed record in a partial batch response. */
export interface KafkaItemIdentifier {
  /** The `"<topic>-<partition>"` key of the event's `records`. */
  readonly partition: string;
  readonly offset: number;
}

/** One failed record. */
export interface KafkaBatchItemFailure {
  readonly itemIdentifier: KafkaItemIdentifier;
}

/** What a function returns with `ReportBatchItemFailures` on; `[]` (or null) means every record succeeded. */
export interface KafkaBatchResponse {
  readonly batchItemFailures: readonly KafkaBatchItemFailure[] | null;
}

/** The `records` key of a partition: `"<topic>-<partition>"`. */
export function partitionKey(topic: string, partition: number): string {
  return `${topic}-${partition}`;
}

/**
 * Splits a `records` key back into topic and partition, at the **last** `-` (topic names may
 * contain `-`). `undefined` when the key has no such shape.
 */
export function parsePartitionKey(key: string): { topic: string; partition: number } | undefined {
  const dash = key.lastIndexOf('-');
  if (dash <= 0) return undefined;
  const digits = key.slice(dash + 1);
  if (!/^(0|[1-9]\d*)$/.test(digits)) return undefined;
  return { topic: key.slice(0, dash), partition: Number(digits) };
}

/** One record as it appears in the event (key order as the ESM writes it). */
export function encodeEventRecord(record: TriggerRecord): KafkaEventRecord {
  return {
    topic: record.topic,
    partition: record.partition,
    offset: record.offset,
    timestamp: record.timestamp,
    timestampType: record.timestampType,
    ...(record.key === null ? {} : { key: base64(record.key) }),
    ...(record.value === null ? {} : { value: base64(record.value) }),
    headers: record.headers.map(encodeHeader),
  };
}

/**
 * Builds the event for `records`. Records of one partition must be in ascending offset order; the
 * partitions appear in the order their first record does.
 */
export function buildKafkaEvent(
  records: readonly TriggerRecord[],
  bootstrapServers: string,
): SelfManagedKafkaEvent {
  const grouped: Record<string, KafkaEventRecord[]> = {};
  for (const record of records) {
    const key = partitionKey(record.topic, record.partition);
    let group = grouped[key];
    if (group === undefined) {
      group = [];
      // A computed key defines an own property even for names like "__proto__".
      Object.defineProperty(grouped, key, {
        value: group,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    const previous = group[group.length - 1];
    if (previous !== undefined && record.offset <= previous.offset) {
      throw new InvalidArgumentError(
        `Records of ${key} must be in ascending offset order: ${record.offset} follows ${previous.offset}`,
      );
    }
    group.push(encodeEventRecord(record));
  }
  return { eventSource: 'SelfManagedKafka', bootstrapServers, records: grouped };
}

/** The event as the bytes sent to Lambda. */
export function serializeKafkaEvent(event: SelfManagedKafkaEvent): string {
  return JSON.stringify(event);
}

/** Exact UTF-8 byte size of the serialized event. */
export function eventByteSize(event: SelfManagedKafkaEvent): number {
  return Buffer.byteLength(serializeKafkaEvent(event), 'utf8');
}

/** Bytes of an event with no records: `{"eventSource":"SelfManagedKafka","bootstrapServers":"…","records":{}}`. */
export function emptyEventByteSize(bootstrapServers: string): number {
  return eventByteSize({ eventSource: 'SelfManagedKafka', bootstrapServers, records: {} });
}

/** Bytes of one serialized record (its JSON object alone). */
export function recordByteSize(record: TriggerRecord): number {
  return Buffer.byteLength(JSON.stringify(encodeEventRecord(record)), 'utf8');
}

/**
 * Bytes a record adds to an event being assembled: its JSON, a separating comma when its
 * partition already has records, or otherwise its partition's `"key":[` … `]` (plus a comma
 * when another partition precedes it). `eventByteSize(buildKafkaEvent(records))` is
 * `emptyEventByteSize` plus the contributions of the records in order.
 */
export function recordContribution(
  record: TriggerRecord,
  position: { readonly partitionPresent: boolean; readonly otherPartitions: boolean },
): number {
  const own = recordByteSize(record);
  if (position.partitionPresent) return own + 1;
  const key = Buffer.byteLength(JSON.stringify(partitionKey(record.topic, record.partition)), 'utf8');
  return own + key + 3 + (position.otherPartitions ? 1 : 0);
}

/**
 * True when `record` alone, in an event of its own, exceeds {@link INVOKE_PAYLOAD_LIMIT_BYTES}: it
 * can never be invoked and goes to the destination as `MaximumPayloadSizeExceeded`.
 */
export function exceedsPayloadLimit(record: TriggerRecord, bootstrapServers: string): boolean {
  const size =
    emptyEventByteSize(bootstrapServers) +
    recordContribution(record, { partitionPresent: false, otherPartitions: false });
  return size > INVOKE_PAYLOAD_LIMIT_BYTES;
}

function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

function encodeHeader(header: RecordHeader): KafkaEventHeader {
  const bytes =
    header.value === null
      ? []
      : Array.from(new Int8Array(header.value.buffer, header.value.byteOffset, header.value.byteLength));
  const entry: Record<string, number[]> = {};
  Object.defineProperty(entry, header.key, {
    value: bytes,
    enumerable: true,
    writable: true,
    configurable: true,
  });
  return entry;
}
