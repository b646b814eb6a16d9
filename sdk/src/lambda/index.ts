/**
 * `tributary/lambda`: for Lambda functions triggered by Tributary. A trigger invokes its function
 * with exactly the event Lambda's self-managed Kafka event source mapping sends, and reads back
 * the same partial batch response, so a handler written for that event source runs unchanged —
 * and {@link kafkaHandler} writes such handlers: it decodes the records, runs yours per record (or
 * per partition) and answers the partial batch response. The same handler runs under an MSK or
 * self-managed Kafka event source mapping.
 *
 * ```ts
 * import { jsonDeserializer, kafkaHandler } from 'tributary/lambda';
 *
 * export const handler = kafkaHandler({
 *   deserializer: jsonDeserializer<{ id: string; total: number }>(),
 *   eachRecord: async (record) => {
 *     if (record.value !== null) await bill(record.value);
 *   },
 * });
 * ```
 *
 * @packageDocumentation
 */
export {
  FullBatchFailureError,
  InvalidKafkaEventError,
  type KafkaRecordField,
  RecordDeserializationError,
} from '../errors.ts';
// Re-exported so a function imports only `tributary/lambda`, not the whole SDK.
export { type Deserializer, jsonDeserializer } from '../serde.ts';
export type {
  KafkaBatchItemFailure,
  KafkaBatchResponse,
  KafkaEventHeader,
  KafkaEventRecord,
  KafkaItemIdentifier,
  SelfManagedKafkaEvent,
  TimestampType,
} from '../triggers/esm-event.ts';
export type { KafkaEvent, MskKafkaEvent } from './kafka-event.ts';
export {
  type KafkaHandlerBaseOptions,
  type KafkaHandlerMode,
  type KafkaHandlerOptions,
  type KafkaLambdaHandler,
  kafkaHandler,
  type RequiredDeserializers,
} from './kafka-handler.ts';
export type {
  AfterFailure,
  EachBatchHandler,
  EachRecordHandler,
  KafkaPartitionBatch,
  KafkaRecordFailure,
} from './partition-run.ts';
export type { KafkaRecord, KafkaRecordHeader } from './record-decoder.ts';
