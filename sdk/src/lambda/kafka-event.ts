/**
 * The events a `tributary/lambda` handler takes, and the check that an event is one. Tributary's
 * trigger sends the self-managed Kafka event (`eventSource: "SelfManagedKafka"`); Amazon MSK's
 * event source mapping sends the same shape with `eventSource: "aws:kafka"` and the cluster's
 * `eventSourceArn` (`shared/reference/lambda-kafka-esm.md` §1.1). Both are accepted, so one handler
 * runs under either.
 *
 * Only what identifies each record is checked here — the envelope, the `"<topic>-<partition>"`
 * grouping, each record's topic, partition and offset — because a record that cannot be named
 * cannot be reported as failed: such an event is refused whole. A record's key, value, headers and
 * timestamp are decoded later, one record at a time, so a bad one fails only that record.
 */
import { InvalidKafkaEventError } from '../errors.ts';
import {
  type KafkaEventRecord,
  parsePartitionKey,
  partitionKey,
  type SelfManagedKafkaEvent,
} from '../triggers/esm-event.ts';

/** The event of Amazon MSK's event source mapping: the self-managed shape plus the cluster's ARN. */
export interface MskKafkaEvent {
  eventSource: 'aws:kafka';
  /** The MSK cluster's ARN. */
  eventSourceArn: string;
  /** Comma-separated `host:port` list (one string). */
  bootstrapServers: string;
  records: Record<string, KafkaEventRecord[]>;
}

/** Any Kafka event source mapping event: Tributary's trigger or self-managed Kafka, or MSK. */
export type KafkaEvent = SelfManagedKafkaEvent | MskKafkaEvent;

/** One `"<topic>-<partition>"` group of an event, its records in ascending offset order. */
export interface EventPartition {
  readonly topicPartition: string;
  readonly topic: string;
  readonly partition: number;
  readonly records: readonly KafkaEventRecord[];
}

const EVENT_SOURCES: ReadonlySet<unknown> = new Set(['SelfManagedKafka', 'aws:kafka']);

/**
 * The partitions of `event`, in the order the event lists them. Throws
 * {@link InvalidKafkaEventError} naming the first part that makes it no Kafka ESM event.
 */
export function readKafkaEvent(event: unknown): EventPartition[] {
  if (!isObject(event)) throw new InvalidKafkaEventError('the event', `is ${describe(event)}, not an object`);
  if (!EVENT_SOURCES.has(event.eventSource)) {
    throw new InvalidKafkaEventError(
      'eventSource',
      `is ${describe(event.eventSource)}; expected "SelfManagedKafka" or "aws:kafka"`,
    );
  }
  const groups = event.records;
  if (!isObject(groups)) {
    throw new InvalidKafkaEventError('records', `is ${describe(groups)}, not an object of record arrays`);
  }
  return Object.entries(groups).map(([key, records]) => readPartition(key, records));
}

function readPartition(key: string, records: unknown): EventPartition {
  const path = `records[${JSON.stringify(key)}]`;
  if (!Array.isArray(records))
    throw new InvalidKafkaEventError(path, `is ${describe(records)}, not an array`);
  let identity: { topic: string; partition: number } | undefined;
  let previous: number | undefined;
  for (const [i, record] of records.entries()) {
    const at = `${path}[${i}]`;
    if (!isObject(record)) throw new InvalidKafkaEventError(at, `is ${describe(record)}, not a record`);
    const { topic, partition, offset } = record;
    if (typeof topic !== 'string' || topic === '') {
      throw new InvalidKafkaEventError(`${at}.topic`, `is ${describe(topic)}, not a topic name`);
    }
    if (!isNonNegativeInteger(partition)) {
      throw new InvalidKafkaEventError(
        `${at}.partition`,
        `is ${describe(partition)}, not a partition number`,
      );
    }
    if (!isNonNegativeInteger(offset)) {
      throw new InvalidKafkaEventError(`${at}.offset`, `is ${describe(offset)}, not an offset`);
    }
    if (partitionKey(topic, partition) !== key) {
      throw new InvalidKafkaEventError(
        at,
        `is a record of ${partitionKey(topic, partition)}; records are grouped by "<topic>-<partition>"`,
      );
    }
    // The partial batch response is built on offset order (a failure skips what follows it).
    if (previous !== undefined && offset <= previous) {
      throw new InvalidKafkaEventError(
        `${at}.offset`,
        `is ${offset}, not after the previous offset ${previous}`,
      );
    }
    previous = offset;
    identity ??= { topic, partition };
  }
  // An empty group (the ESM never sends one) names no record; its key still has to be one.
  const named = identity ?? parsePartitionKey(key);
  if (named === undefined) throw new InvalidKafkaEventError(path, 'is not keyed "<topic>-<partition>"');
  return {
    topicPartition: key,
    topic: named.topic,
    partition: named.partition,
    records: records as KafkaEventRecord[],
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isNonNegativeInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/** A short rendering of a rejected value for an error message. */
function describe(value: unknown): string {
  if (value === undefined) return 'missing';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object' && value !== null) return 'an object';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
