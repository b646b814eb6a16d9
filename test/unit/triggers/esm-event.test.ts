import { kafkaConsumer } from '@aws-lambda-powertools/kafka';
import type {
  SelfManagedKafkaEvent as AwsSelfManagedKafkaEvent,
  Context,
  SelfManagedKafkaRecord,
} from 'aws-lambda';
import fc from 'fast-check';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { InvalidArgumentError } from '../../../sdk/src/errors.ts';
import {
  buildKafkaEvent,
  emptyEventByteSize,
  encodeEventRecord,
  eventByteSize,
  exceedsPayloadLimit,
  INVOKE_PAYLOAD_LIMIT_BYTES,
  type KafkaBatchResponse,
  type KafkaEventRecord,
  parsePartitionKey,
  partitionKey,
  recordContribution,
  type SelfManagedKafkaEvent,
  serializeKafkaEvent,
  type TriggerRecord,
} from '../../../sdk/src/triggers/esm-event.ts';
import { testSeed } from '../../helpers/random.ts';

const utf8 = (s: string) => new TextEncoder().encode(s);

function record(overrides: Partial<TriggerRecord> = {}): TriggerRecord {
  return {
    topic: 'orders',
    partition: 3,
    offset: 1207,
    timestamp: 1767225600123,
    timestampType: 'CREATE_TIME',
    key: utf8('order-42'),
    value: utf8('{"id":42,"total":9.5}'),
    headers: [],
    ...overrides,
  };
}

describe('buildKafkaEvent', () => {
  it('writes the self-managed Kafka event of the reference, byte for byte', () => {
    const event = buildKafkaEvent(
      [
        record({
          headers: [
            { key: 'trace-id', value: utf8('v1') },
            { key: 'origin', value: utf8('café') },
          ],
        }),
        record({ offset: 1208, timestamp: 1767225600200, key: null, value: utf8('ping') }),
        record({
          partition: 5,
          offset: 88,
          timestamp: 1767225600150,
          timestampType: 'LOG_APPEND_TIME',
          key: utf8('order-43'),
          value: null,
        }),
      ],
      'broker-a.internal:9092,broker-b.internal:9092',
    );
    expect(serializeKafkaEvent(event)).toBe(
      JSON.stringify({
        eventSource: 'SelfManagedKafka',
        bootstrapServers: 'broker-a.internal:9092,broker-b.internal:9092',
        records: {
          'orders-3': [
            {
              topic: 'orders',
              partition: 3,
              offset: 1207,
              timestamp: 1767225600123,
              timestampType: 'CREATE_TIME',
              key: 'b3JkZXItNDI=',
              value: 'eyJpZCI6NDIsInRvdGFsIjo5LjV9',
              headers: [{ 'trace-id': [118, 49] }, { origin: [99, 97, 102, -61, -87] }],
            },
            {
              topic: 'orders',
              partition: 3,
              offset: 1208,
              timestamp: 1767225600200,
              timestampType: 'CREATE_TIME',
              value: 'cGluZw==',
              headers: [],
            },
          ],
          'orders-5': [
            {
              topic: 'orders',
              partition: 5,
              offset: 88,
              timestamp: 1767225600150,
              timestampType: 'LOG_APPEND_TIME',
              key: 'b3JkZXItNDM=',
              headers: [],
            },
          ],
        },
      }),
    );
  });

  it.each([
    ['an empty value', utf8(''), ''],
    ['binary bytes', new Uint8Array([0, 255, 128, 10]), 'AP+ACg=='],
  ])('encodes %s as base64', (_, value, expected) => {
    expect(encodeEventRecord(record({ value })).value).toBe(expected);
  });

  it('encodes a view into a larger buffer by its own bytes only', () => {
    const backing = utf8('xxhelloxx');
    expect(encodeEventRecord(record({ value: backing.subarray(2, 7) })).value).toBe(
      Buffer.from('hello').toString('base64'),
    );
  });

  it('keeps header order and duplicates, writes null header values as [] and odd names as own keys', () => {
    const encoded = encodeEventRecord(
      record({
        headers: [
          { key: 'a', value: new Uint8Array([0x80, 0x7f, 0xff]) },
          { key: 'a', value: null },
          { key: '__proto__', value: utf8('x') },
        ],
      }),
    );
    expect(JSON.stringify(encoded.headers)).toBe('[{"a":[-128,127,-1]},{"a":[]},{"__proto__":[120]}]');
  });

  it('refuses records of a partition out of offset order', () => {
    expect(() => buildKafkaEvent([record({ offset: 5 }), record({ offset: 5 })], 'b:9092')).toThrow(
      InvalidArgumentError,
    );
  });
});

describe('partition keys', () => {
  it.each([
    ['orders', 3, 'orders-3'],
    ['my-topic-v2', 0, 'my-topic-v2-0'],
    ['a.b_c', 17, 'a.b_c-17'],
  ])('%s[%i] is keyed %s and parses back at the last dash', (topic, partition, key) => {
    expect(partitionKey(topic, partition)).toBe(key);
    expect(parsePartitionKey(key)).toEqual({ topic, partition });
  });

  it.each(['orders', '-3', 'orders-', 'orders-x', 'orders-03'])('%s is not a partition key', (key) => {
    expect(parsePartitionKey(key)).toBeUndefined();
  });
});

const arbRecord = (topic: fc.Arbitrary<string>) =>
  fc.record({
    topic,
    partition: fc.integer({ min: 0, max: 4 }),
    offset: fc.nat(),
    timestamp: fc.nat({ max: 2 ** 42 }),
    timestampType: fc.constantFrom('CREATE_TIME' as const, 'LOG_APPEND_TIME' as const),
    key: fc.option(fc.uint8Array({ maxLength: 20 }), { nil: null }),
    value: fc.option(fc.uint8Array({ maxLength: 40 }), { nil: null }),
    headers: fc.array(
      fc.record({
        key: fc.string({ unit: 'grapheme', maxLength: 6 }),
        value: fc.option(fc.uint8Array(), { nil: null }),
      }),
      { maxLength: 3 },
    ),
  });

/** Makes offsets ascending per partition, as the dispatcher reads them. */
function ordered(records: TriggerRecord[]): TriggerRecord[] {
  const next = new Map<string, number>();
  return records.map((r) => {
    const key = partitionKey(r.topic, r.partition);
    const offset = (next.get(key) ?? 0) + r.offset;
    next.set(key, offset + 1);
    return { ...r, offset };
  });
}

describe('sizes', () => {
  it('an event is the empty envelope plus each record contribution, exactly (property)', () => {
    const seed = testSeed('esm-event sizes');
    fc.assert(
      fc.property(
        fc.array(arbRecord(fc.constantFrom('orders', 'tëst-ü', 'a"b\\c')), { maxLength: 12 }),
        fc.string({ unit: 'grapheme', maxLength: 30 }),
        (raw, servers) => {
          const records = ordered(raw);
          let total = emptyEventByteSize(servers);
          const seen = new Set<string>();
          for (const r of records) {
            const key = partitionKey(r.topic, r.partition);
            total += recordContribution(r, {
              partitionPresent: seen.has(key),
              otherPartitions: seen.size > 0,
            });
            seen.add(key);
          }
          const event = buildKafkaEvent(records, servers);
          expect(total).toBe(eventByteSize(event));
          expect(eventByteSize(event)).toBe(Buffer.byteLength(JSON.stringify(event)));
        },
      ),
      { seed, numRuns: 300 },
    );
  });

  it('tells when one record alone exceeds the 6 MB invoke payload', () => {
    expect(INVOKE_PAYLOAD_LIMIT_BYTES).toBe(6_291_456);
    const servers = 'b:9092';
    const overhead = eventByteSize(buildKafkaEvent([record({ value: new Uint8Array(0) })], servers));
    // Base64 grows 3 bytes to 4: the largest value that still fits, and one 3-byte group more.
    const fitting = Math.floor((INVOKE_PAYLOAD_LIMIT_BYTES - overhead) / 4) * 3;
    const fits = record({ value: new Uint8Array(fitting) });
    const tooLarge = record({ value: new Uint8Array(fitting + 3) });
    expect(eventByteSize(buildKafkaEvent([fits], servers))).toBeLessThanOrEqual(INVOKE_PAYLOAD_LIMIT_BYTES);
    expect(exceedsPayloadLimit(fits, servers)).toBe(false);
    expect(eventByteSize(buildKafkaEvent([tooLarge], servers))).toBeGreaterThan(INVOKE_PAYLOAD_LIMIT_BYTES);
    expect(exceedsPayloadLimit(tooLarge, servers)).toBe(true);
  });
});

describe('compatibility', () => {
  it('matches @types/aws-lambda: a real ESM event is one of ours, ours with key and value is one of theirs', () => {
    // AWS's types make key and value required; the ESM omits them when null (reference A1).
    expectTypeOf<AwsSelfManagedKafkaEvent>().toExtend<SelfManagedKafkaEvent>();
    expectTypeOf<Required<KafkaEventRecord>>().toExtend<SelfManagedKafkaRecord>();
    expectTypeOf<SelfManagedKafkaEvent['eventSource']>().toEqualTypeOf<
      AwsSelfManagedKafkaEvent['eventSource']
    >();
    expectTypeOf<KafkaEventRecord['timestampType']>().toEqualTypeOf<
      SelfManagedKafkaRecord['timestampType']
    >();
    expectTypeOf<KafkaBatchResponse['batchItemFailures']>().toExtend<
      readonly { itemIdentifier: { partition: string; offset: number } }[] | null
    >();
  });

  it("is accepted unchanged by @aws-lambda-powertools/kafka's consumer, keys, values and headers decoded", async () => {
    const event = buildKafkaEvent(
      [
        record({ headers: [{ key: 'origin', value: utf8('café') }] }),
        record({ offset: 1208, key: null, value: utf8('{"id":43}') }),
        record({ partition: 5, offset: 88, value: null }),
      ],
      'b-1:9092',
    );
    const seen: unknown[] = [];
    const handler = kafkaConsumer<string, unknown>(
      async (consumed) => {
        for (const r of consumed.records) {
          seen.push({ offset: r.offset, key: r.key, value: r.value, headers: r.headers });
        }
        return consumed.bootstrapServers;
      },
      { value: { type: 'json' } },
    );
    const before = serializeKafkaEvent(event);
    // Powertools types its input as the MSK event; at run time it reads any Kafka ESM event.
    const result = await handler(event as unknown as Parameters<typeof handler>[0], {} as Context);
    expect(result).toBe('b-1:9092');
    expect(seen).toEqual([
      { offset: 1207, key: 'order-42', value: { id: 42, total: 9.5 }, headers: [{ origin: 'café' }] },
      { offset: 1208, key: undefined, value: { id: 43 }, headers: [] },
      { offset: 88, key: 'order-42', value: undefined, headers: [] },
    ]);
    expect(serializeKafkaEvent(event)).toBe(before);
  });
});
