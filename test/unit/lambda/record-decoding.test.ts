/** How `kafkaHandler` decodes the records of an event before a handler sees them. */
import { describe, expect, it } from 'vitest';
import {
  type Deserializer,
  jsonDeserializer,
  type KafkaEventRecord,
  type KafkaRecord,
  kafkaHandler,
  RecordDeserializationError,
  type SelfManagedKafkaEvent,
} from '../../../sdk/src/lambda/index.ts';
import { buildKafkaEvent, type TriggerRecord } from '../../../sdk/src/triggers/esm-event.ts';
import { lambdaContext, mskEvent, textDeserializer, triggerRecord } from './events.ts';

/** Runs a collecting handler over `event`; returns what it saw, the errors of failed records and the response. */
async function decodeAll(
  event: unknown,
  deserializers: { deserializer?: Deserializer<unknown>; keyDeserializer?: Deserializer<unknown> } = {},
) {
  const seen: KafkaRecord<unknown, unknown>[] = [];
  const failures: unknown[] = [];
  const handler = kafkaHandler({
    ...deserializers,
    eachRecord: (record) => {
      seen.push(record);
    },
    // One partition after the other, so `seen` is in the event's order.
    concurrentPartitions: false,
    throwOnFullBatchFailure: false,
    onRecordFailure: (failure) => {
      failures.push(failure.error);
    },
  });
  const response = await handler(event as SelfManagedKafkaEvent, lambdaContext());
  return { seen, failures, response };
}

/** An event of one record, `fields` (possibly malformed ones) replacing the defaults. */
function oneRecordEvent(fields: Record<string, unknown>): SelfManagedKafkaEvent {
  return {
    eventSource: 'SelfManagedKafka',
    bootstrapServers: 'b:9092',
    records: {
      'orders-0': [
        {
          topic: 'orders',
          partition: 0,
          offset: 7,
          timestamp: 1_767_225_600_000,
          timestampType: 'CREATE_TIME',
          headers: [],
          ...fields,
        } as KafkaEventRecord,
      ],
    },
  };
}

describe('record decoding', () => {
  it('gives a null key for an absent key and a null value for a tombstone, and empty bytes for empty ones', async () => {
    const event = buildKafkaEvent(
      [
        triggerRecord(0, 0, 'no key'),
        triggerRecord(0, 1, null, { key: Buffer.from('k1') }),
        triggerRecord(0, 2, '', { key: new Uint8Array(0) }),
      ],
      'b:9092',
    );
    expect(event.records['orders-0']![0]).not.toHaveProperty('key');
    expect(event.records['orders-0']![1]).not.toHaveProperty('value');
    const { seen } = await decodeAll(event);
    expect(seen.map((r) => [r.key, r.value])).toEqual([
      [null, Buffer.from('no key')],
      [Buffer.from('k1'), null],
      [Buffer.alloc(0), Buffer.alloc(0)],
    ]);
  });

  it('passes null to the deserializers for absent fields, so jsonDeserializer reads a tombstone as null', async () => {
    const event = buildKafkaEvent(
      [triggerRecord(0, 0, '{"id":1}', { key: Buffer.from('a') }), triggerRecord(0, 1, null)],
      'b:9092',
    );
    const { seen } = await decodeAll(event, {
      deserializer: jsonDeserializer<{ id: number }>(),
      keyDeserializer: textDeserializer,
    });
    expect(seen.map((r) => [r.key, r.value])).toEqual([
      ['a', { id: 1 }],
      [null, null],
    ]);
  });

  it('decodes header values from signed bytes, in order, keeping duplicate names and empty values', async () => {
    const event = oneRecordEvent({
      headers: [
        { origin: [99, 97, 102, -61, -87] },
        { trace: [118, 49] },
        { origin: [0x6f, 0x6b] },
        { empty: [] },
        { unsigned: [195, 169] },
      ],
    });
    const { seen } = await decodeAll(event);
    expect(seen[0]!.headers.map((h) => [h.key, h.value.toString('utf8')])).toEqual([
      ['origin', 'café'],
      ['trace', 'v1'],
      ['origin', 'ok'],
      ['empty', ''],
      ['unsigned', 'é'],
    ]);
    expect(seen[0]!.headers.every((h) => Buffer.isBuffer(h.value))).toBe(true);
  });

  it('gives the timestamp as epoch ms and as a Date, the timestamp type, and the record identity', async () => {
    const event = buildKafkaEvent(
      [
        triggerRecord(12, 40, 'x', {
          topic: 'eu-orders.v2',
          timestamp: 1_767_225_600_123,
          timestampType: 'LOG_APPEND_TIME',
        }),
      ],
      'b:9092',
    );
    const { seen } = await decodeAll(event);
    const [record] = seen;
    expect(record).toMatchObject({
      topic: 'eu-orders.v2',
      partition: 12,
      offset: 40,
      topicPartition: 'eu-orders.v2-12',
      idempotencyKey: 'eu-orders.v2-12@40',
      timestamp: 1_767_225_600_123,
      timestampType: 'LOG_APPEND_TIME',
    });
    expect(record!.date).toBeInstanceOf(Date);
    expect(record!.date.toISOString()).toBe('2026-01-01T00:00:00.123Z');
  });

  it('gives back exactly the records an event was built from with buildKafkaEvent', async () => {
    const everyByte = Uint8Array.from({ length: 256 }, (_, i) => i);
    const records: TriggerRecord[] = [
      triggerRecord(0, 5, null, {
        key: everyByte,
        headers: [
          { key: 'b', value: everyByte },
          { key: 'a', value: null },
          { key: 'b', value: Buffer.from('second') },
        ],
      }),
      triggerRecord(0, 6, 'zażółć', { key: null, timestampType: 'LOG_APPEND_TIME' }),
      triggerRecord(3, 0, '', { key: Buffer.from('') }),
    ];
    const { seen } = await decodeAll(buildKafkaEvent(records, 'b:9092'));
    expect(
      seen.map((r) => ({
        topic: r.topic,
        partition: r.partition,
        offset: r.offset,
        timestamp: r.timestamp,
        timestampType: r.timestampType,
        key: r.key === null ? null : new Uint8Array(r.key as Buffer),
        value: r.value === null ? null : new Uint8Array(r.value as Buffer),
        headers: r.headers.map((h) => ({ key: h.key, value: new Uint8Array(h.value) })),
      })),
    ).toEqual(
      records.map((r) => ({
        ...r,
        key: r.key === null ? null : new Uint8Array(r.key),
        value: r.value === null ? null : new Uint8Array(r.value),
        // A header without a value travels as [] (esm-event.ts): it comes back as empty bytes.
        headers: r.headers.map((h) => ({ key: h.key, value: new Uint8Array(h.value ?? []) })),
      })),
    );
  });

  it('decodes the MSK event of the reference (§1.5): keys, JSON values, a null key, a tombstone, signed headers', async () => {
    const { seen, failures, response } = await decodeAll(mskEvent(), {
      deserializer: jsonDeserializer<unknown>(),
      keyDeserializer: textDeserializer,
    });
    expect(
      seen.map((r) => ({
        at: r.idempotencyKey,
        key: r.key,
        value: r.value,
        type: r.timestampType,
        headers: r.headers.map((h) => `${h.key}=${h.value.toString('utf8')}`),
      })),
    ).toEqual([
      {
        at: 'orders-3@1207',
        key: 'order-42',
        value: { id: 42, total: 9.5 },
        type: 'CREATE_TIME',
        headers: ['trace-id=v1', 'origin=café'],
      },
      { at: 'orders-5@88', key: 'order-43', value: null, type: 'LOG_APPEND_TIME', headers: [] },
    ]);
    // Offset 1208's value is `ping`, not JSON: that record alone fails.
    expect(response).toEqual({
      batchItemFailures: [{ itemIdentifier: { partition: 'orders-3', offset: 1208 } }],
    });
    expect(failures).toEqual([expect.any(RecordDeserializationError)]);
    expect(failures[0]).toMatchObject({ field: 'value', offset: 1208, cause: expect.any(SyntaxError) });
  });

  it('reads the MSK event with the raw deserializers too', async () => {
    const { seen } = await decodeAll(mskEvent(), { keyDeserializer: textDeserializer });
    expect(
      seen.map((r) => [r.idempotencyKey, r.key, (r.value as Buffer | null)?.toString('utf8') ?? null]),
    ).toEqual([
      ['orders-3@1207', 'order-42', '{"id":42,"total":9.5}'],
      ['orders-3@1208', null, 'ping'],
      ['orders-5@88', 'order-43', null],
    ]);
  });

  it.each([
    ['a key that is not base64', { key: 'b3J*ZXI=' }, 'key'],
    ['a value with a missing padding', { value: 'cGluZw' }, 'value'],
    ['a value that is not a string', { value: 42 }, 'value'],
    ['headers that are not an array', { headers: { a: [1] } }, 'headers'],
    ['a header byte out of range', { headers: [{ a: [1, 300] }] }, 'headers'],
    ['a header value that is text', { headers: [{ a: 'text' }] }, 'headers'],
    ['a timestamp that is text', { timestamp: '2026-01-01' }, 'timestamp'],
    ['an unknown timestamp type', { timestampType: 'NO_TIMESTAMP_TYPE' }, 'timestampType'],
  ])('fails the record, not the batch, for %s', async (_, fields, field) => {
    const { seen, failures, response } = await decodeAll(oneRecordEvent(fields));
    expect(seen).toEqual([]);
    expect(response).toEqual({
      batchItemFailures: [{ itemIdentifier: { partition: 'orders-0', offset: 7 } }],
    });
    expect(failures).toHaveLength(1);
    expect(failures[0]).toBeInstanceOf(RecordDeserializationError);
    expect(failures[0]).toMatchObject({
      code: 'RECORD_DESERIALIZATION_FAILED',
      topic: 'orders',
      partition: 0,
      offset: 7,
      field,
    });
  });
});
