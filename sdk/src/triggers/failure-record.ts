/**
 * The invocation records Lambda's Kafka ESM sends to an on-failure destination, in the exact shapes
 * of `shared/reference/lambda-kafka-esm.md` §4.2–§4.4:
 * - SQS: metadata only, `KafkaBatchInfo.recordsInfo` (plural) per `"<topic>-<partition>"` with
 *   first/last offsets as strings and ISO timestamps;
 * - S3: the same plus `payload`, the whole invocation event as an escaped JSON string;
 * - a Tributary topic (Lambda's `kafka://` destination): one dead letter per failed record, keyed
 *   like the original, with `batchSize: 1`, a singular `recordInfo` and `payload` embedding a
 *   one-record event.
 * `responseContext` is `null` when the records were never invoked as they stand (an oversized
 * record); `eventSourceArn` is absent, as for any self-managed Kafka source.
 */
import { InvalidArgumentError } from '../errors.ts';
import {
  buildKafkaEvent,
  eventByteSize,
  type SelfManagedKafkaEvent,
  serializeKafkaEvent,
  type TriggerRecord,
} from './esm-event.ts';
import type { FailureCondition } from './failure-policy.ts';

/** The last response of the function for these records (Lambda's `responseContext`). */
export interface ResponseContext {
  /** HTTP status of the Invoke call (200 even when the function failed). */
  readonly statusCode: number;
  readonly executedVersion: string;
  /** `Unhandled` or `Handled`; absent when the function returned normally (a partial batch response). */
  readonly functionError?: string;
}

/** What Lambda writes in `requestContext`. */
export interface RequestContext {
  readonly requestId: string;
  readonly functionArn: string;
  readonly condition: FailureCondition;
  readonly approximateInvokeCount: number;
}

/** First and last record of one partition in a failed batch. */
export interface KafkaRecordsInfo {
  readonly firstRecordOffset: string;
  readonly lastRecordOffset: string;
  readonly firstRecordTimestamp: string;
  readonly lastRecordTimestamp: string;
}

/** The SQS shape (metadata only). */
export interface BatchInvocationRecord {
  readonly requestContext: RequestContext;
  readonly responseContext: ResponseContext | null;
  readonly version: '1.0';
  /** When the record was written (ISO 8601). */
  readonly timestamp: string;
  readonly KafkaBatchInfo: {
    readonly batchSize: number;
    readonly bootstrapServers: string;
    /** Bytes of the invocation event these records make. */
    readonly payloadSize: number;
    readonly recordsInfo: Readonly<Record<string, KafkaRecordsInfo>>;
  };
}

/** The S3 shape: the SQS shape plus the whole event as JSON text. */
export interface S3InvocationRecord extends BatchInvocationRecord {
  readonly payload: string;
}

/** The dead letter written to a Tributary topic, one per failed record. */
export interface TopicInvocationRecord {
  readonly requestContext: RequestContext;
  readonly responseContext: ResponseContext | null;
  readonly version: '1.0';
  readonly timestamp: string;
  readonly KafkaBatchInfo: {
    readonly batchSize: 1;
    readonly bootstrapServers: string;
    readonly payloadSize: number;
    readonly recordInfo: { readonly offset: string; readonly timestamp: string };
  };
  readonly payload: SelfManagedKafkaEvent;
}

/** A record to produce to the destination topic: the original key (same partitioning), the JSON as value. */
export interface DeadLetter {
  readonly key: Uint8Array | null;
  readonly value: Uint8Array;
  readonly record: TopicInvocationRecord;
}

/** What every invocation record is built from. */
export interface FailureInput {
  readonly condition: FailureCondition;
  /** The failed records, with their bytes (in offset order per partition). */
  readonly records: readonly TriggerRecord[];
  /** The request id of the last invocation (or one generated for records never invoked). */
  readonly requestId: string;
  readonly functionArn: string;
  readonly approximateInvokeCount: number;
  /** The last response for these records; `null` when they were never invoked as they stand. */
  readonly response: ResponseContext | null;
  readonly bootstrapServers: string;
  /** Epoch ms: when the record is written. */
  readonly now: number;
}

/** The SQS invocation record of a failed batch. */
export function sqsInvocationRecord(input: FailureInput): BatchInvocationRecord {
  const event = buildKafkaEvent(nonEmpty(input.records), input.bootstrapServers);
  return batchRecord(input, event);
}

/** The S3 invocation record of a failed batch: the SQS record plus the event as a JSON string. */
export function s3InvocationRecord(input: FailureInput): S3InvocationRecord {
  const event = buildKafkaEvent(nonEmpty(input.records), input.bootstrapServers);
  return { ...batchRecord(input, event), payload: serializeKafkaEvent(event) };
}

/** One dead letter per failed record, for a Tributary topic destination. */
export function topicDeadLetters(input: FailureInput): DeadLetter[] {
  return nonEmpty(input.records).map((record) => {
    const payload = buildKafkaEvent([record], input.bootstrapServers);
    const deadLetter: TopicInvocationRecord = {
      requestContext: requestContext(input),
      responseContext: input.response,
      version: '1.0',
      timestamp: iso(input.now),
      KafkaBatchInfo: {
        batchSize: 1,
        bootstrapServers: input.bootstrapServers,
        payloadSize: eventByteSize(payload),
        recordInfo: { offset: String(record.offset), timestamp: iso(record.timestamp) },
      },
      payload,
    };
    return {
      key: record.key,
      value: new TextEncoder().encode(JSON.stringify(deadLetter)),
      record: deadLetter,
    };
  });
}

function batchRecord(input: FailureInput, event: SelfManagedKafkaEvent): BatchInvocationRecord {
  const recordsInfo: Record<string, KafkaRecordsInfo> = {};
  for (const [key, records] of Object.entries(event.records)) {
    const first = records[0]!;
    const last = records[records.length - 1]!;
    Object.defineProperty(recordsInfo, key, {
      value: {
        firstRecordOffset: String(first.offset),
        lastRecordOffset: String(last.offset),
        firstRecordTimestamp: iso(first.timestamp),
        lastRecordTimestamp: iso(last.timestamp),
      },
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return {
    requestContext: requestContext(input),
    responseContext: input.response,
    version: '1.0',
    timestamp: iso(input.now),
    KafkaBatchInfo: {
      batchSize: input.records.length,
      bootstrapServers: input.bootstrapServers,
      payloadSize: eventByteSize(event),
      recordsInfo,
    },
  };
}

function requestContext(input: FailureInput): RequestContext {
  return {
    requestId: input.requestId,
    functionArn: input.functionArn,
    condition: input.condition,
    approximateInvokeCount: input.approximateInvokeCount,
  };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function nonEmpty(records: readonly TriggerRecord[]): readonly TriggerRecord[] {
  if (records.length === 0)
    throw new InvalidArgumentError('An invocation record needs at least one failed record');
  return records;
}
