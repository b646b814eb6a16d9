/**
 * `kafkaHandler()`: a Lambda handler for Kafka event source mapping events (Tributary's triggers,
 * MSK, self-managed Kafka) that decodes the records, runs the application's handler over them and
 * answers the partial batch response (`shared/reference/lambda-kafka-esm.md` §3.2) itself, in the
 * spirit of Powertools' batch utility, which has no Kafka support in TypeScript (§7.3).
 */
import type { Context } from 'aws-lambda';
import { FullBatchFailureError, InvalidArgumentError } from '../errors.ts';
import { type Deserializer, rawDeserializer } from '../serde.ts';
import type { KafkaBatchItemFailure, KafkaBatchResponse } from '../triggers/esm-event.ts';
import { type EventPartition, type KafkaEvent, readKafkaEvent } from './kafka-event.ts';
import {
  type AfterFailure,
  type EachBatchHandler,
  type EachRecordHandler,
  type KafkaRecordFailure,
  type PartitionResult,
  type PartitionRunSettings,
  runPartition,
} from './partition-run.ts';
import { decodeRecord } from './record-decoder.ts';

/** Settings every {@link kafkaHandler} takes, whichever handler it runs. */
export interface KafkaHandlerBaseOptions<K, V> {
  /**
   * Turns a record's value bytes into the value handlers see (`jsonDeserializer<Order>()`). It is
   * given `null` for a tombstone (a record without a value). A throw fails that record alone, as
   * a {@link RecordDeserializationError}; the handler does not run for it.
   * @default the bytes as a `Buffer` (`null` for a tombstone)
   */
  readonly deserializer?: Deserializer<V>;
  /**
   * Turns a record's key bytes into the key handlers see; given `null` for a record without a key.
   * A throw fails that record, as for {@link deserializer}.
   * @default the bytes as a `Buffer` (`null` without a key)
   */
  readonly keyDeserializer?: Deserializer<K>;
  /**
   * What happens to the later records of a partition once one of them failed.
   *
   * - `'skip-partition'`: they are not processed, and reported as failed with it. A Kafka consumer
   *   group commits one position per partition, "everything below this offset is done", so no
   *   commit can pass a failed record: the trigger (as Lambda's) commits below the lowest reported
   *   offset and delivers that record **and everything after it** again. Processing the later
   *   records now would run each of them again on redelivery, and before the record they follow.
   *   Skipping them keeps every partition processed in offset order, each record once per success;
   *   reporting them says they were not processed, so a trigger that gives up on the failed record
   *   sends them to its on-failure destination with it instead of counting them as done.
   * - `'continue'`: they are processed; only records that failed are reported. Their redelivery
   *   still comes (the commit is a prefix), so use it only when the records of a partition do not
   *   depend on each other's order and the handler is idempotent (for example with Powertools
   *   Idempotency on {@link KafkaRecord.idempotencyKey}): their effects happen now instead of after
   *   the failed record got through, and the redelivered copies are no-ops.
   *
   * @default 'skip-partition'
   */
  readonly afterFailure?: AfterFailure;
  /**
   * Whether the partitions of one event run at the same time. A partition's records always run
   * one after another, in offset order (Kafka orders records within a partition only); an event
   * holds the next batch of several partitions, and none of them gets its next batch before the
   * invocation ends, so running them at once shortens the wait for all. `false` runs one partition
   * after the other, in the event's order, for handlers that must not interleave.
   * @default true
   */
  readonly concurrentPartitions?: boolean;
  /**
   * When every record of the event failed (or was skipped after a failure of its partition), throw
   * a {@link FullBatchFailureError} instead of reporting them all, as Powertools' batch utility
   * does. Both make the trigger deliver the whole batch again, and count as a failed attempt; a
   * function error is also what `bisectBatchOnFunctionError` splits, which isolates a poison
   * record in its own batch — a partial response naming the batch's first record is retried whole
   * and, once retries are exhausted, sends the records after the poison record to the on-failure
   * destination with it. A function error also shows in Lambda's `Errors` metric. `false` reports
   * them all instead.
   * @default true
   */
  readonly throwOnFullBatchFailure?: boolean;
  /**
   * Told of each failed record when it fails (a failure reported in the response is otherwise
   * seen nowhere). It may return a promise, which is awaited. An error it throws is not a record's:
   * the handler throws it, and the trigger retries the whole batch — after the partitions already
   * running have finished (none is left running), and without starting any other.
   * @default writes the failure to `console.error` (the function's log)
   */
  readonly onRecordFailure?: (failure: KafkaRecordFailure, context: Context) => unknown;
}

/** The handler to run: one record at a time, or the records of a partition at once. */
export type KafkaHandlerMode<K, V> =
  | {
      /**
       * Runs for each record of a partition in turn, the next once its promise settles. A throw
       * fails that record (see {@link KafkaHandlerBaseOptions.afterFailure}).
       */
      readonly eachRecord: EachRecordHandler<K, V>;
      readonly eachBatch?: never;
    }
  | {
      /**
       * Runs once per partition of the event with its records (those that could be decoded: with
       * `'skip-partition'`, the ones before the first that could not). A throw fails every record
       * of the batch; for record-level failures, use `eachRecord`.
       */
      readonly eachBatch: EachBatchHandler<K, V>;
      readonly eachRecord?: never;
    };

/** Options of {@link kafkaHandler}: the shared settings and `eachRecord` or `eachBatch`. */
export type KafkaHandlerOptions<K, V> = KafkaHandlerBaseOptions<K, V> & KafkaHandlerMode<K, V>;

/**
 * A deserializer may be left out only where the default's `Buffer | null` is what the handler
 * expects: a handler typed for `Order` values must say how to get them.
 */
export type RequiredDeserializers<K, V> = ([Buffer | null] extends [K]
  ? unknown
  : { readonly keyDeserializer: Deserializer<K> }) &
  ([Buffer | null] extends [V] ? unknown : { readonly deserializer: Deserializer<V> });

/** What {@link kafkaHandler} returns: a Lambda handler for Kafka event source mapping events. */
export type KafkaLambdaHandler = (event: KafkaEvent, context: Context) => Promise<KafkaBatchResponse>;

/**
 * Builds a Lambda handler for functions triggered by Kafka records: by a Tributary trigger, or by
 * an MSK or self-managed Kafka event source mapping (the same event, so the same handler runs
 * under each). The handler
 *
 * 1. checks that the event is one (otherwise it throws {@link InvalidKafkaEventError}: the trigger
 *    retries the whole batch, and nothing has run);
 * 2. decodes each record into a {@link KafkaRecord} with the deserializers;
 * 3. runs `eachRecord` for each record, or `eachBatch` for each partition's records: the records of
 *    a partition in offset order, the partitions at the same time (`concurrentPartitions`);
 * 4. answers `{ batchItemFailures }` naming each record that failed — its handler threw, or it
 *    could not be decoded — as `{ itemIdentifier: { partition: "<topic>-<partition>", offset } }`,
 *    and, by default, the records of its partition after it, which were not processed
 *    (`afterFailure`); `[]` when all succeeded. When every record failed it throws
 *    {@link FullBatchFailureError} instead (`throwOnFullBatchFailure`).
 *
 * The trigger needs `functionResponseTypes: ['ReportBatchItemFailures']` (as a Lambda ESM does):
 * without it the response is ignored and a batch with failed records counts as processed.
 *
 * @example
 * ```ts
 * import { jsonDeserializer, kafkaHandler } from 'tributary/lambda';
 *
 * interface Order { id: string; total: number }
 *
 * export const handler = kafkaHandler({
 *   deserializer: jsonDeserializer<Order>(),
 *   eachRecord: async (record) => {
 *     if (record.value === null) return; // a tombstone
 *     await saveOrder(record.value, { idempotencyKey: record.idempotencyKey });
 *   },
 * });
 * ```
 */
export function kafkaHandler<K = Buffer | null, V = Buffer | null>(
  options: KafkaHandlerOptions<K, V> & RequiredDeserializers<K, V>,
): KafkaLambdaHandler {
  const settings = resolveOptions(options);
  return async (event, context) => {
    const partitions = readKafkaEvent(event);
    const run: PartitionRunSettings<K, V> = {
      handler: settings.handler,
      decode: (record) => decodeRecord(record, settings.deserializers),
      afterFailure: settings.afterFailure,
      onFailure: async (failure) => {
        await settings.onRecordFailure(failure, context);
      },
      context,
    };
    const results = await runAll(partitions, run, settings.concurrentPartitions);
    return respond(partitions, results, settings.throwOnFullBatchFailure);
  };
}

interface ResolvedOptions<K, V> {
  readonly handler: PartitionRunSettings<K, V>['handler'];
  readonly deserializers: { readonly key: Deserializer<K>; readonly value: Deserializer<V> };
  readonly afterFailure: AfterFailure;
  readonly concurrentPartitions: boolean;
  readonly throwOnFullBatchFailure: boolean;
  readonly onRecordFailure: (failure: KafkaRecordFailure, context: Context) => unknown;
}

const AFTER_FAILURE: readonly AfterFailure[] = ['skip-partition', 'continue'];

/** Checks the options once, at cold start, and copies them (a caller's object is never kept or changed). */
function resolveOptions<K, V>(options: KafkaHandlerOptions<K, V>): ResolvedOptions<K, V> {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidArgumentError('kafkaHandler() takes an options object with eachRecord or eachBatch');
  }
  const { eachRecord, eachBatch } = options;
  if ((eachRecord === undefined) === (eachBatch === undefined)) {
    throw new InvalidArgumentError('kafkaHandler() takes exactly one of eachRecord and eachBatch');
  }
  const handler: ResolvedOptions<K, V>['handler'] =
    eachRecord !== undefined
      ? { kind: 'record', eachRecord: functionOption('eachRecord', eachRecord) }
      : { kind: 'batch', eachBatch: functionOption('eachBatch', eachBatch) };
  const afterFailure = options.afterFailure ?? 'skip-partition';
  if (!AFTER_FAILURE.includes(afterFailure)) {
    throw new InvalidArgumentError(
      `kafkaHandler() afterFailure is ${JSON.stringify(afterFailure)}; use 'skip-partition' or 'continue'`,
    );
  }
  return {
    handler,
    deserializers: {
      // Without a deserializer the type parameters default to `Buffer | null` (RequiredDeserializers).
      key: functionOption('keyDeserializer', options.keyDeserializer ?? (rawDeserializer as Deserializer<K>)),
      value: functionOption('deserializer', options.deserializer ?? (rawDeserializer as Deserializer<V>)),
    },
    afterFailure,
    concurrentPartitions: booleanOption('concurrentPartitions', options.concurrentPartitions ?? true),
    throwOnFullBatchFailure: booleanOption(
      'throwOnFullBatchFailure',
      options.throwOnFullBatchFailure ?? true,
    ),
    onRecordFailure: functionOption('onRecordFailure', options.onRecordFailure ?? logFailure),
  };
}

function functionOption<F>(name: string, value: F): F {
  if (typeof value !== 'function') {
    throw new InvalidArgumentError(`kafkaHandler() ${name} must be a function, got ${typeof value}`);
  }
  return value;
}

function booleanOption(name: string, value: boolean): boolean {
  if (typeof value !== 'boolean') {
    throw new InvalidArgumentError(`kafkaHandler() ${name} must be true or false, got ${typeof value}`);
  }
  return value;
}

function logFailure(failure: KafkaRecordFailure): void {
  console.error(
    `Record ${failure.topic}-${failure.partition}@${failure.offset} failed; it is reported in batchItemFailures:`,
    failure.error,
  );
}

/**
 * Runs every partition. Concurrent runs are all waited for, even after one of them threw (from
 * `onRecordFailure`), so no handler is still running once the invocation has answered; in turn,
 * the first error stops the run, as the batch will be delivered again whole.
 */
async function runAll<K, V>(
  partitions: readonly EventPartition[],
  run: PartitionRunSettings<K, V>,
  concurrent: boolean,
): Promise<PartitionResult[]> {
  if (!concurrent) {
    const results: PartitionResult[] = [];
    for (const partition of partitions) results.push(await runPartition(partition, run));
    return results;
  }
  const settled = await Promise.allSettled(partitions.map((partition) => runPartition(partition, run)));
  return settled.map((outcome) => {
    if (outcome.status === 'rejected') throw outcome.reason;
    return outcome.value;
  });
}

/** The partial batch response, exactly as the trigger's `interpretResponse` (and Lambda) reads it. */
function respond(
  partitions: readonly EventPartition[],
  results: readonly PartitionResult[],
  throwOnFullBatchFailure: boolean,
): KafkaBatchResponse {
  const batchItemFailures: KafkaBatchItemFailure[] = [];
  let recordCount = 0;
  for (const [i, partition] of partitions.entries()) {
    recordCount += partition.records.length;
    for (const offset of (results[i] as PartitionResult).reported) {
      batchItemFailures.push({ itemIdentifier: { partition: partition.topicPartition, offset } });
    }
  }
  if (throwOnFullBatchFailure && recordCount > 0 && batchItemFailures.length === recordCount) {
    throw new FullBatchFailureError(
      results.flatMap((result) => result.failures),
      recordCount,
    );
  }
  return { batchItemFailures };
}
