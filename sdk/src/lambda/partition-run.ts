/**
 * Runs the handler over the records of one partition of an event and works out which of them the
 * partial batch response must report. Records of a partition run one after another, in offset
 * order; with `afterFailure: 'skip-partition'` the first failure ends the partition's run and every
 * record after it is reported unprocessed.
 */
import type { Context } from 'aws-lambda';
import type { FullBatchFailureError } from '../errors.ts';
import type { EventPartition } from './kafka-event.ts';
import type { KafkaRecord } from './record-decoder.ts';

/** A record that failed: the error its handler threw, or the {@link RecordDeserializationError} of decoding it. */
export type KafkaRecordFailure = FullBatchFailureError['failures'][number];

/** The records of one partition of an event, decoded, for `eachBatch`. */
export interface KafkaPartitionBatch<K = Buffer | null, V = Buffer | null> {
  readonly topic: string;
  readonly partition: number;
  /** `"<topic>-<partition>"`, as the event and the partial batch response name the partition. */
  readonly topicPartition: string;
  /** In offset order; never empty. */
  readonly records: readonly KafkaRecord<K, V>[];
}

/**
 * Handles one record. It may return a promise, which is awaited before the partition's next record
 * starts; a throw (or rejection) fails the record.
 */
export type EachRecordHandler<K, V> = (record: KafkaRecord<K, V>, context: Context) => unknown;

/** Handles the records of one partition at once; a throw (or rejection) fails all of them. */
export type EachBatchHandler<K, V> = (batch: KafkaPartitionBatch<K, V>, context: Context) => unknown;

/** What happens to the rest of a partition once one of its records failed. */
export type AfterFailure = 'skip-partition' | 'continue';

/** How one partition is run. */
export interface PartitionRunSettings<K, V> {
  readonly handler:
    | { readonly kind: 'record'; readonly eachRecord: EachRecordHandler<K, V> }
    | { readonly kind: 'batch'; readonly eachBatch: EachBatchHandler<K, V> };
  readonly decode: (record: EventPartition['records'][number]) => KafkaRecord<K, V>;
  readonly afterFailure: AfterFailure;
  /** Told of each failure as it happens; an error it throws ends the run (and fails the whole batch). */
  readonly onFailure: (failure: KafkaRecordFailure) => Promise<void>;
  readonly context: Context;
}

/** What a partition's run left to report. */
export interface PartitionResult {
  /** Offsets for `batchItemFailures`, ascending: failed records and those skipped after a failure. */
  readonly reported: readonly number[];
  /** The records that failed, in offset order. */
  readonly failures: readonly KafkaRecordFailure[];
}

/** Runs one partition of the event. */
export function runPartition<K, V>(
  partition: EventPartition,
  settings: PartitionRunSettings<K, V>,
): Promise<PartitionResult> {
  return settings.handler.kind === 'record'
    ? runEachRecord(partition, settings, settings.handler.eachRecord)
    : runEachBatch(partition, settings, settings.handler.eachBatch);
}

async function runEachRecord<K, V>(
  partition: EventPartition,
  settings: PartitionRunSettings<K, V>,
  eachRecord: EachRecordHandler<K, V>,
): Promise<PartitionResult> {
  const reported: number[] = [];
  const failures: KafkaRecordFailure[] = [];
  let skipping = false;
  for (const raw of partition.records) {
    if (skipping) {
      reported.push(raw.offset);
      continue;
    }
    let failed = false;
    let error: unknown;
    try {
      // Decoded just before it runs: after a failure that skips the partition, nothing is decoded in vain.
      await eachRecord(settings.decode(raw), settings.context);
    } catch (thrown) {
      failed = true;
      error = thrown;
    }
    if (!failed) continue;
    const failure = { topic: partition.topic, partition: partition.partition, offset: raw.offset, error };
    reported.push(raw.offset);
    failures.push(failure);
    await settings.onFailure(failure);
    skipping = settings.afterFailure === 'skip-partition';
  }
  return { reported, failures };
}

async function runEachBatch<K, V>(
  partition: EventPartition,
  settings: PartitionRunSettings<K, V>,
  eachBatch: EachBatchHandler<K, V>,
): Promise<PartitionResult> {
  const reported: number[] = [];
  const failures: KafkaRecordFailure[] = [];
  const records: KafkaRecord<K, V>[] = [];
  let skipping = false;
  for (const raw of partition.records) {
    if (skipping) {
      reported.push(raw.offset);
      continue;
    }
    try {
      records.push(settings.decode(raw));
    } catch (error) {
      // With 'skip-partition' the batch is the prefix before the first record that cannot be
      // decoded; with 'continue' it is every record that can.
      const failure = { topic: partition.topic, partition: partition.partition, offset: raw.offset, error };
      reported.push(raw.offset);
      failures.push(failure);
      await settings.onFailure(failure);
      skipping = settings.afterFailure === 'skip-partition';
    }
  }
  const [first] = records;
  if (first === undefined) return { reported, failures };
  try {
    await eachBatch(
      {
        topic: partition.topic,
        partition: partition.partition,
        topicPartition: partition.topicPartition,
        records,
      },
      settings.context,
    );
  } catch (error) {
    // One failure for the batch, named by its first record; every record of the batch is reported.
    const failure = { topic: partition.topic, partition: partition.partition, offset: first.offset, error };
    failures.push(failure);
    reported.push(...records.map((record) => record.offset));
    reported.sort((a, b) => a - b);
    failures.sort((a, b) => a.offset - b.offset);
    await settings.onFailure(failure);
  }
  return { reported, failures };
}
