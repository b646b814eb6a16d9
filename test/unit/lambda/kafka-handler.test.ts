/** `kafkaHandler`: running handlers over an event and answering the partial batch response. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { InvalidArgumentError } from '../../../sdk/src/errors.ts';
import {
  FullBatchFailureError,
  InvalidKafkaEventError,
  jsonDeserializer,
  type KafkaBatchResponse,
  type KafkaPartitionBatch,
  type KafkaRecordFailure,
  kafkaHandler,
  RecordDeserializationError,
  type SelfManagedKafkaEvent,
} from '../../../sdk/src/lambda/index.ts';
import { interpretResponse } from '../../../sdk/src/triggers/batch-response.ts';
import { buildKafkaEvent } from '../../../sdk/src/triggers/esm-event.ts';
import { eventOf, lambdaContext, mskEvent, triggerRecord } from './events.ts';

const text = (value: Buffer | null): string | null => value?.toString('utf8') ?? null;

/** What the trigger's dispatcher makes of the response, as it reads a function's Invoke payload. */
function dispatcherReading(response: KafkaBatchResponse, event: SelfManagedKafkaEvent) {
  return interpretResponse({ functionError: undefined, payload: JSON.stringify(response) }, event, true);
}

function failed(partition: string, ...offsets: number[]) {
  return offsets.map((offset) => ({ itemIdentifier: { partition, offset } }));
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('eachRecord', () => {
  it('reports a failed record and the rest of its partition, unprocessed, and processes the other partitions', async () => {
    const event = eventOf({ 0: ['a0', 'a1', 'fail', 'a3', 'a4'], 1: ['b0', 'b1', 'b2'] });
    const processed: string[] = [];
    const failures: KafkaRecordFailure[] = [];
    const handler = kafkaHandler({
      eachRecord: (record) => {
        const value = text(record.value);
        if (value === 'fail') throw new Error(`cannot handle ${record.idempotencyKey}`);
        processed.push(`${record.partition}@${record.offset}`);
      },
      onRecordFailure: (failure) => {
        failures.push(failure);
      },
    });
    const response = await handler(event, lambdaContext());
    expect(response).toEqual({ batchItemFailures: failed('orders-0', 2, 3, 4) });
    expect(processed.filter((p) => p.startsWith('0@'))).toEqual(['0@0', '0@1']);
    expect(processed.filter((p) => p.startsWith('1@'))).toEqual(['1@0', '1@1', '1@2']);
    expect(failures).toEqual([
      { topic: 'orders', partition: 0, offset: 2, error: new Error('cannot handle orders-0@2') },
    ]);
    // The dispatcher commits partition 0 below offset 2 and partition 1 entirely.
    expect(dispatcherReading(response, event)).toMatchObject({
      kind: 'partial',
      lowestFailedOffsets: new Map([['orders-0', 2]]),
    });
  });

  it("with afterFailure 'continue', processes past a failure and reports only the failed records", async () => {
    const event = eventOf({ 0: ['a0', 'fail', 'a2', 'fail', 'a4'] });
    const processed: number[] = [];
    const handler = kafkaHandler({
      afterFailure: 'continue',
      eachRecord: async (record) => {
        if (text(record.value) === 'fail') throw new Error('no');
        processed.push(record.offset);
      },
      onRecordFailure: () => undefined,
    });
    const response = await handler(event, lambdaContext());
    expect(processed).toEqual([0, 2, 4]);
    expect(response).toEqual({ batchItemFailures: failed('orders-0', 1, 3) });
    expect(dispatcherReading(response, event)).toMatchObject({
      kind: 'partial',
      lowestFailedOffsets: new Map([['orders-0', 1]]),
    });
  });

  it('answers an empty list when every record succeeded, which the dispatcher reads as success', async () => {
    const event = eventOf({ 0: ['a', 'b'], 4: ['c'] });
    const handler = kafkaHandler({ eachRecord: async () => undefined });
    const response = await handler(event, lambdaContext());
    expect(response).toEqual({ batchItemFailures: [] });
    expect(dispatcherReading(response, event)).toEqual({ kind: 'success' });
  });

  it('runs the records of a partition one after another, and the partitions at the same time', async () => {
    const event = eventOf({ 0: ['a0', 'a1', 'a2'], 1: ['b0', 'b1'] });
    const log: string[] = [];
    const handler = kafkaHandler({
      eachRecord: async (record) => {
        log.push(`start ${record.partition}@${record.offset}`);
        await new Promise((resolve) => setImmediate(resolve));
        log.push(`end ${record.partition}@${record.offset}`);
      },
    });
    await handler(event, lambdaContext());
    const ofPartition = (p: number) => log.filter((line) => line.includes(` ${p}@`));
    expect(ofPartition(0)).toEqual(['start 0@0', 'end 0@0', 'start 0@1', 'end 0@1', 'start 0@2', 'end 0@2']);
    expect(ofPartition(1)).toEqual(['start 1@0', 'end 1@0', 'start 1@1', 'end 1@1']);
    // Partition 1 started before partition 0's first record ended.
    expect(log.indexOf('start 1@0')).toBeLessThan(log.indexOf('end 0@0'));
  });

  it('with concurrentPartitions false, runs one partition after the other in the event order', async () => {
    const event = buildKafkaEvent(
      [triggerRecord(1, 0, 'b0'), triggerRecord(1, 1, 'b1'), triggerRecord(0, 0, 'a0')],
      'b:9092',
    );
    const log: string[] = [];
    const handler = kafkaHandler({
      concurrentPartitions: false,
      eachRecord: async (record) => {
        log.push(`start ${record.topicPartition}@${record.offset}`);
        await new Promise((resolve) => setImmediate(resolve));
        log.push(`end ${record.topicPartition}@${record.offset}`);
      },
    });
    await handler(event, lambdaContext());
    expect(Object.keys(event.records)).toEqual(['orders-1', 'orders-0']);
    expect(log).toEqual([
      'start orders-1@0',
      'end orders-1@0',
      'start orders-1@1',
      'end orders-1@1',
      'start orders-0@0',
      'end orders-0@0',
    ]);
  });

  it('passes the Lambda context to the handler', async () => {
    const contexts: string[] = [];
    const handler = kafkaHandler({
      eachRecord: (_, context) => {
        contexts.push(context.awsRequestId);
      },
    });
    await handler(eventOf({ 0: ['a'] }), lambdaContext('req-42'));
    expect(contexts).toEqual(['req-42']);
  });
});

describe('deserializer failures', () => {
  it('fail the record (a RecordDeserializationError) and skip the rest of its partition, never the batch', async () => {
    const event = eventOf({ 0: ['{"n":0}', 'not json', '{"n":2}'], 1: ['{"n":10}'] });
    const values: unknown[] = [];
    const failures: KafkaRecordFailure[] = [];
    const handler = kafkaHandler({
      deserializer: jsonDeserializer<{ n: number }>(),
      eachRecord: (record) => {
        values.push(record.value);
      },
      onRecordFailure: (failure) => {
        failures.push(failure);
      },
    });
    const response = await handler(event, lambdaContext());
    expect(response).toEqual({ batchItemFailures: failed('orders-0', 1, 2) });
    expect(values).toEqual(expect.arrayContaining([{ n: 0 }, { n: 10 }]));
    expect(values).toHaveLength(2);
    expect(failures).toHaveLength(1);
    const [failure] = failures;
    expect(failure).toMatchObject({ topic: 'orders', partition: 0, offset: 1 });
    expect(failure!.error).toBeInstanceOf(RecordDeserializationError);
    expect(failure!.error).toMatchObject({
      code: 'RECORD_DESERIALIZATION_FAILED',
      field: 'value',
      offset: 1,
      cause: expect.any(SyntaxError),
    });
  });

  it('of the key fail the record the same way', async () => {
    const handler = kafkaHandler({
      keyDeserializer: (bytes) => {
        if (bytes === null) throw new Error('every record needs a key');
        return bytes.toString('utf8');
      },
      eachRecord: () => undefined,
      throwOnFullBatchFailure: false,
      onRecordFailure: () => undefined,
    });
    expect(await handler(eventOf({ 2: ['x'] }), lambdaContext())).toEqual({
      batchItemFailures: failed('orders-2', 0),
    });
  });
});

describe('eachBatch', () => {
  it('gets the records of each partition at once, and a throw fails all of them', async () => {
    const event = eventOf({ 0: ['a0', 'a1'], 1: ['b0', 'b1', 'b2'] });
    const batches: KafkaPartitionBatch[] = [];
    const failures: KafkaRecordFailure[] = [];
    const handler = kafkaHandler({
      eachBatch: async (batch) => {
        batches.push(batch);
        if (batch.partition === 1) throw new Error('bulk write refused');
      },
      onRecordFailure: (failure) => {
        failures.push(failure);
      },
    });
    const response = await handler(event, lambdaContext());
    expect(response).toEqual({ batchItemFailures: failed('orders-1', 0, 1, 2) });
    expect(
      batches.map((b) => ({
        topicPartition: b.topicPartition,
        topic: b.topic,
        partition: b.partition,
        values: b.records.map((r) => text(r.value)),
      })),
    ).toEqual(
      expect.arrayContaining([
        { topicPartition: 'orders-0', topic: 'orders', partition: 0, values: ['a0', 'a1'] },
        { topicPartition: 'orders-1', topic: 'orders', partition: 1, values: ['b0', 'b1', 'b2'] },
      ]),
    );
    expect(batches).toHaveLength(2);
    // One failure for the batch, named by its first record.
    expect(failures).toEqual([
      { topic: 'orders', partition: 1, offset: 0, error: new Error('bulk write refused') },
    ]);
  });

  it('gets the records before the first one that cannot be deserialized, the rest are reported', async () => {
    const event = eventOf({ 0: ['1', '2', 'x', '4'] });
    const batches: unknown[][] = [];
    const handler = kafkaHandler({
      deserializer: jsonDeserializer<number>(),
      eachBatch: ({ records }) => {
        batches.push(records.map((r) => r.value));
      },
      onRecordFailure: () => undefined,
    });
    expect(await handler(event, lambdaContext())).toEqual({ batchItemFailures: failed('orders-0', 2, 3) });
    expect(batches).toEqual([[1, 2]]);
  });

  it("with afterFailure 'continue', gets every record that can be deserialized", async () => {
    const event = eventOf({ 0: ['1', 'x', '3'] });
    const batches: unknown[][] = [];
    const handler = kafkaHandler({
      afterFailure: 'continue',
      deserializer: jsonDeserializer<number>(),
      eachBatch: ({ records }) => {
        batches.push(records.map((r) => r.value));
      },
      onRecordFailure: () => undefined,
    });
    expect(await handler(event, lambdaContext())).toEqual({ batchItemFailures: failed('orders-0', 1) });
    expect(batches).toEqual([[1, 3]]);
  });

  it('is not called for a partition none of whose records can be deserialized', async () => {
    const calls: number[] = [];
    const handler = kafkaHandler({
      deserializer: jsonDeserializer<number>(),
      eachBatch: ({ partition }) => {
        calls.push(partition);
      },
      onRecordFailure: () => undefined,
    });
    const response = await handler(eventOf({ 0: ['x', '2'], 1: ['3'] }), lambdaContext());
    expect(calls).toEqual([1]);
    expect(response).toEqual({ batchItemFailures: failed('orders-0', 0, 1) });
  });
});

describe('full batch failure', () => {
  it('throws FullBatchFailureError with every failure when no record succeeded', async () => {
    const event = eventOf({ 0: ['x', 'y'], 1: ['z'] });
    const handler = kafkaHandler({
      eachRecord: (record) => {
        throw new Error(`bad ${record.idempotencyKey}`);
      },
      onRecordFailure: () => undefined,
    });
    const error = await handler(event, lambdaContext()).then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(FullBatchFailureError);
    const full = error as FullBatchFailureError;
    expect(full.code).toBe('FULL_BATCH_FAILURE');
    expect(full.recordCount).toBe(3);
    // orders-0@1 was skipped after orders-0@0 failed: it has no error of its own.
    expect(full.failures.map((f) => [f.topic, f.partition, f.offset, (f.error as Error).message])).toEqual(
      expect.arrayContaining([
        ['orders', 0, 0, 'bad orders-0@0'],
        ['orders', 1, 0, 'bad orders-1@0'],
      ]),
    );
    expect(full.failures).toHaveLength(2);
    expect(full.cause).toBe(full.failures[0]!.error);
    expect(full.message).toMatch(/^All 3 record\(s\) of the batch failed/);
  });

  it('counts a failure of the first record that skips the rest of its only partition as a full failure', async () => {
    const handler = kafkaHandler({
      deserializer: jsonDeserializer<number>(),
      eachRecord: () => undefined,
      onRecordFailure: () => undefined,
    });
    await expect(handler(eventOf({ 0: ['x', '1', '2'] }), lambdaContext())).rejects.toBeInstanceOf(
      FullBatchFailureError,
    );
  });

  it('reports every record instead with throwOnFullBatchFailure false', async () => {
    const event = eventOf({ 0: ['x', 'y'], 1: ['z'] });
    const handler = kafkaHandler({
      throwOnFullBatchFailure: false,
      eachRecord: () => {
        throw new Error('down');
      },
      onRecordFailure: () => undefined,
    });
    const response = await handler(event, lambdaContext());
    expect(response).toEqual({ batchItemFailures: [...failed('orders-0', 0, 1), ...failed('orders-1', 0)] });
    expect(dispatcherReading(response, event)).toMatchObject({
      kind: 'partial',
      lowestFailedOffsets: new Map([
        ['orders-0', 0],
        ['orders-1', 0],
      ]),
    });
  });

  it('does not throw while any record succeeded', async () => {
    const handler = kafkaHandler({
      eachRecord: (record) => {
        if (record.partition === 0) throw new Error('down');
      },
      onRecordFailure: () => undefined,
    });
    expect(await handler(eventOf({ 0: ['x', 'y'], 1: ['z'] }), lambdaContext())).toEqual({
      batchItemFailures: failed('orders-0', 0, 1),
    });
  });

  it('does not throw for an event without records', async () => {
    const handler = kafkaHandler({ eachRecord: () => undefined });
    const event: SelfManagedKafkaEvent = {
      eventSource: 'SelfManagedKafka',
      bootstrapServers: '',
      records: {},
    };
    expect(await handler(event, lambdaContext())).toEqual({ batchItemFailures: [] });
  });
});

describe('failure reporting', () => {
  it('logs each failure with console.error by default', async () => {
    const logged = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const handler = kafkaHandler({
      eachRecord: (record) => {
        if (record.offset === 1) throw new Error('boom');
      },
    });
    await handler(eventOf({ 0: ['a', 'b'] }), lambdaContext());
    expect(logged).toHaveBeenCalledTimes(1);
    expect(logged.mock.calls[0]).toEqual([
      'Record orders-0@1 failed; it is reported in batchItemFailures:',
      new Error('boom'),
    ]);
  });

  it('rethrows an error of onRecordFailure once every partition has finished', async () => {
    const processed: string[] = [];
    const handler = kafkaHandler({
      eachRecord: async (record) => {
        await new Promise((resolve) => setImmediate(resolve));
        if (record.partition === 0) throw new Error('record');
        processed.push(record.idempotencyKey);
      },
      onRecordFailure: () => {
        throw new Error('the failure log is down');
      },
    });
    await expect(handler(eventOf({ 0: ['a'], 1: ['b', 'c', 'd'] }), lambdaContext())).rejects.toThrow(
      'the failure log is down',
    );
    expect(processed).toEqual(['orders-1@0', 'orders-1@1', 'orders-1@2']);
  });

  it('with concurrentPartitions false, starts no further partition after onRecordFailure threw', async () => {
    const processed: string[] = [];
    const handler = kafkaHandler({
      concurrentPartitions: false,
      eachRecord: (record) => {
        if (record.partition === 0) throw new Error('record');
        processed.push(record.idempotencyKey);
      },
      onRecordFailure: () => {
        throw new Error('the failure log is down');
      },
    });
    await expect(handler(eventOf({ 0: ['a'], 1: ['b'] }), lambdaContext())).rejects.toThrow(
      'the failure log is down',
    );
    expect(processed).toEqual([]);
  });
});

describe('events', () => {
  it('runs under an MSK event as under a Tributary one', async () => {
    const event = mskEvent();
    const seen: string[] = [];
    const handler = kafkaHandler({
      concurrentPartitions: false,
      eachRecord: (record) => {
        seen.push(record.idempotencyKey);
      },
    });
    expect(await handler(event, lambdaContext())).toEqual({ batchItemFailures: [] });
    expect(seen).toEqual(['orders-3@1207', 'orders-3@1208', 'orders-5@88']);
  });

  it.each([
    ['null', null, 'the event'],
    ['an SQS event', { Records: [{ messageId: '1', body: 'x' }] }, 'eventSource'],
    ['another event source', { eventSource: 'aws:kinesis', records: {} }, 'eventSource'],
    ['records that are an array', { eventSource: 'aws:kafka', records: [] }, 'records'],
    [
      'a partition that is not an array',
      { eventSource: 'SelfManagedKafka', records: { 'orders-0': {} } },
      'records["orders-0"]',
    ],
    [
      'a record without an offset',
      { eventSource: 'SelfManagedKafka', records: { 'orders-0': [{ topic: 'orders', partition: 0 }] } },
      'records["orders-0"][0].offset',
    ],
    [
      'a record with a negative partition',
      {
        eventSource: 'SelfManagedKafka',
        records: { 'orders--1': [{ topic: 'orders', partition: -1, offset: 0 }] },
      },
      'records["orders--1"][0].partition',
    ],
    [
      'a record under the key of another partition',
      {
        eventSource: 'SelfManagedKafka',
        records: { 'orders-0': [{ topic: 'orders', partition: 1, offset: 0 }] },
      },
      'records["orders-0"][0]',
    ],
    [
      'offsets out of order',
      {
        eventSource: 'SelfManagedKafka',
        records: {
          'orders-0': [
            { topic: 'orders', partition: 0, offset: 5 },
            { topic: 'orders', partition: 0, offset: 5 },
          ],
        },
      },
      'records["orders-0"][1].offset',
    ],
    [
      'an empty partition under a bad key',
      { eventSource: 'SelfManagedKafka', records: { orders: [] } },
      'records["orders"]',
    ],
  ])('refuses %s with InvalidKafkaEventError, running nothing', async (_, event, path) => {
    const handler = vi.fn();
    const run = kafkaHandler({ eachRecord: handler });
    const error = await run(event as unknown as SelfManagedKafkaEvent, lambdaContext()).then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(InvalidKafkaEventError);
    expect(error).toMatchObject({ code: 'INVALID_KAFKA_EVENT', path, retriable: false });
    expect(handler).not.toHaveBeenCalled();
  });
});

describe('options', () => {
  it.each<[string, Record<string, unknown>]>([
    ['both handlers', { eachRecord: () => undefined, eachBatch: () => undefined }],
    ['no handler', {}],
    ['a handler that is not a function', { eachRecord: 'x' }],
    ['an unknown afterFailure', { eachRecord: () => undefined, afterFailure: 'retry' }],
    ['a deserializer that is not a function', { eachRecord: () => undefined, deserializer: 'json' }],
    ['a non-boolean flag', { eachRecord: () => undefined, throwOnFullBatchFailure: 'no' }],
  ])('refuses %s when the handler is built', (_, options) => {
    expect(() => kafkaHandler(options as never)).toThrow(InvalidArgumentError);
  });

  it('takes a frozen options object and builds independent handlers from it', async () => {
    const options = Object.freeze({ eachRecord: () => undefined, afterFailure: 'continue' as const });
    const first = kafkaHandler(options);
    const second = kafkaHandler(options);
    expect(await first(eventOf({ 0: ['a'] }), lambdaContext())).toEqual({ batchItemFailures: [] });
    expect(await second(eventOf({ 0: ['a'] }), lambdaContext())).toEqual({ batchItemFailures: [] });
    expect(options).toEqual({ eachRecord: options.eachRecord, afterFailure: 'continue' });
  });
});
