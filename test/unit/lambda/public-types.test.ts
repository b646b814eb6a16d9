/** The public types of `tributary/lambda`: what users write must type-check, and what they must not, must not. */
import type {
  SelfManagedKafkaEvent as AwsSelfManagedKafkaEvent,
  Context,
  Handler,
  MSKEvent,
} from 'aws-lambda';
import { describe, expectTypeOf, it } from 'vitest';
import { TributaryError } from '../../../sdk/src/index.ts';
import {
  type AfterFailure,
  FullBatchFailureError,
  type InvalidKafkaEventError,
  jsonDeserializer,
  type KafkaBatchResponse,
  type KafkaEvent,
  type KafkaLambdaHandler,
  type KafkaPartitionBatch,
  type KafkaRecord,
  type KafkaRecordFailure,
  type KafkaRecordHeader,
  kafkaHandler,
  type RecordDeserializationError,
  type SelfManagedKafkaEvent,
} from '../../../sdk/src/lambda/index.ts';

interface Order {
  id: string;
  total: number;
}

/** Type-checks `calls` without running them (they would throw: the options are checked at run time too). */
function typeCheckOnly(_calls: () => void): void {}

const text = (bytes: Buffer | null): string | null => bytes?.toString('utf8') ?? null;

describe('tributary/lambda types', () => {
  it('builds a Lambda handler from an event source mapping event to the partial batch response', () => {
    const handler = kafkaHandler({ eachRecord: () => undefined });
    expectTypeOf(handler).toEqualTypeOf<KafkaLambdaHandler>();
    expectTypeOf(handler).parameters.toEqualTypeOf<[KafkaEvent, Context]>();
    expectTypeOf(handler).returns.resolves.toEqualTypeOf<KafkaBatchResponse>();
    // It is what Lambda's Handler types expect for MSK and self-managed Kafka.
    expectTypeOf(handler).toExtend<Handler<MSKEvent, KafkaBatchResponse>>();
    expectTypeOf(handler).toExtend<Handler<AwsSelfManagedKafkaEvent, KafkaBatchResponse>>();
  });

  it('takes the events of Tributary, MSK and self-managed Kafka', () => {
    expectTypeOf<SelfManagedKafkaEvent>().toExtend<KafkaEvent>();
    expectTypeOf<MSKEvent>().toExtend<KafkaEvent>();
    expectTypeOf<AwsSelfManagedKafkaEvent>().toExtend<KafkaEvent>();
    expectTypeOf<KafkaEvent['eventSource']>().toEqualTypeOf<'SelfManagedKafka' | 'aws:kafka'>();
  });

  it('gives raw bytes by default, and what the deserializers return otherwise', () => {
    kafkaHandler({
      eachRecord: (record) => {
        expectTypeOf(record).toEqualTypeOf<KafkaRecord<Buffer | null, Buffer | null>>();
      },
    });
    kafkaHandler({
      deserializer: jsonDeserializer<Order>(),
      keyDeserializer: text,
      eachRecord: (record, context) => {
        expectTypeOf(record.value).toEqualTypeOf<Order | null>();
        expectTypeOf(record.key).toEqualTypeOf<string | null>();
        expectTypeOf(context).toEqualTypeOf<Context>();
      },
    });
    kafkaHandler({
      deserializer: jsonDeserializer<Order>(),
      eachBatch: (batch) => {
        expectTypeOf(batch).toEqualTypeOf<KafkaPartitionBatch<Buffer | null, Order | null>>();
        expectTypeOf(batch.records).toEqualTypeOf<readonly KafkaRecord<Buffer | null, Order | null>[]>();
      },
    });
  });

  it('types the decoded record', () => {
    expectTypeOf<KafkaRecord['headers']>().toEqualTypeOf<readonly KafkaRecordHeader[]>();
    expectTypeOf<KafkaRecordHeader>().toEqualTypeOf<{ readonly key: string; readonly value: Buffer }>();
    expectTypeOf<KafkaRecord['timestamp']>().toEqualTypeOf<number>();
    expectTypeOf<KafkaRecord['date']>().toEqualTypeOf<Date>();
    expectTypeOf<KafkaRecord['timestampType']>().toEqualTypeOf<'CREATE_TIME' | 'LOG_APPEND_TIME'>();
    expectTypeOf<KafkaRecord['idempotencyKey']>().toEqualTypeOf<string>();
    expectTypeOf<KafkaRecord['topicPartition']>().toEqualTypeOf<string>();
    expectTypeOf<KafkaRecordFailure>().toEqualTypeOf<{
      readonly topic: string;
      readonly partition: number;
      readonly offset: number;
      readonly error: unknown;
    }>();
  });

  it('takes exactly one of eachRecord and eachBatch', () => {
    typeCheckOnly(() => {
      // @ts-expect-error: neither
      kafkaHandler({});
      // @ts-expect-error: both
      kafkaHandler({ eachRecord: () => undefined, eachBatch: () => undefined });
      kafkaHandler({ eachBatch: async () => undefined });
    });
  });

  it('needs a deserializer where the handler expects something else than bytes', () => {
    typeCheckOnly(() => {
      // @ts-expect-error: values would be Buffers, not Orders
      kafkaHandler({ eachRecord: (_record: KafkaRecord<Buffer | null, Order>) => undefined });
      // @ts-expect-error: keys would be Buffers, not strings
      kafkaHandler({
        deserializer: jsonDeserializer<Order>(),
        eachRecord: (_record: KafkaRecord<string, Order | null>) => undefined,
      });
      kafkaHandler({
        deserializer: jsonDeserializer<Order>(),
        keyDeserializer: text,
        eachRecord: (_record: KafkaRecord<string | null, Order | null>) => undefined,
      });
      kafkaHandler({
        // @ts-expect-error: a tombstone arrives as null, which Order does not admit
        deserializer: jsonDeserializer<Order>(),
        eachRecord: (_record: KafkaRecord<Buffer | null, Order>) => undefined,
      });
    });
  });

  it('takes the choices as unions and flags', () => {
    expectTypeOf<AfterFailure>().toEqualTypeOf<'skip-partition' | 'continue'>();
    typeCheckOnly(() => {
      // @ts-expect-error: not a choice
      kafkaHandler({ eachRecord: () => undefined, afterFailure: 'retry' });
    });
    kafkaHandler({
      eachRecord: () => undefined,
      afterFailure: 'continue',
      concurrentPartitions: false,
      throwOnFullBatchFailure: false,
      onRecordFailure: async (failure, context) => {
        expectTypeOf(failure).toEqualTypeOf<KafkaRecordFailure>();
        expectTypeOf(context).toEqualTypeOf<Context>();
      },
    });
  });

  it('raises TributaryErrors', () => {
    expectTypeOf<InvalidKafkaEventError>().toExtend<TributaryError>();
    expectTypeOf<RecordDeserializationError['field']>().toEqualTypeOf<
      'key' | 'value' | 'headers' | 'timestamp' | 'timestampType'
    >();
    expectTypeOf<FullBatchFailureError['failures']>().toEqualTypeOf<readonly KafkaRecordFailure[]>();
    expectTypeOf(new FullBatchFailureError([], 0)).toExtend<TributaryError>();
    expectTypeOf(TributaryError).toBeConstructibleWith('INVALID_KAFKA_EVENT', 'x');
  });
});
