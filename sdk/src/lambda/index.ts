/**
 * `tributary/lambda`: for Lambda functions triggered by Tributary. A trigger invokes its function
 * with exactly the event Lambda's self-managed Kafka event source mapping sends, and reads back
 * the same partial batch response, so a handler written for that event source runs unchanged.
 *
 * ```ts
 * import type { KafkaBatchResponse, SelfManagedKafkaEvent } from 'tributary/lambda';
 *
 * export async function handler(event: SelfManagedKafkaEvent): Promise<KafkaBatchResponse> {
 *   const batchItemFailures = [];
 *   for (const [partition, records] of Object.entries(event.records)) {
 *     for (const record of records) {
 *       try {
 *         await handle(Buffer.from(record.value ?? '', 'base64'));
 *       } catch {
 *         batchItemFailures.push({ itemIdentifier: { partition, offset: record.offset } });
 *       }
 *     }
 *   }
 *   return { batchItemFailures };
 * }
 * ```
 *
 * @packageDocumentation
 */
export type {
  KafkaBatchItemFailure,
  KafkaBatchResponse,
  KafkaEventHeader,
  KafkaEventRecord,
  KafkaItemIdentifier,
  SelfManagedKafkaEvent,
  TimestampType,
} from '../triggers/esm-event.ts';
