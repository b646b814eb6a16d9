import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../../sdk/src/errors.ts';
import { buildKafkaEvent, eventByteSize, type TriggerRecord } from '../../../sdk/src/triggers/esm-event.ts';
import {
  type FailureInput,
  s3InvocationRecord,
  sqsInvocationRecord,
  topicDeadLetters,
} from '../../../sdk/src/triggers/failure-record.ts';

const utf8 = (s: string) => new TextEncoder().encode(s);

function rec(partition: number, offset: number, timestamp: number, key: string | null): TriggerRecord {
  return {
    topic: 'orders',
    partition,
    offset,
    timestamp,
    timestampType: 'CREATE_TIME',
    key: key === null ? null : utf8(key),
    value: utf8(`{"offset":${offset}}`),
    headers: [{ key: 'h', value: utf8('é') }],
  };
}

const records = [
  rec(3, 1207, Date.parse('2026-01-01T00:00:00.123Z'), 'order-42'),
  rec(3, 1208, Date.parse('2026-01-01T00:00:00.200Z'), null),
  rec(5, 88, Date.parse('2026-01-01T00:00:00.150Z'), 'order-43'),
];

const input: FailureInput = {
  condition: 'RetryAttemptsExhausted',
  records,
  requestId: '7d1c0b5e-2f4a-4c1e-9a3b-0e5f6a7b8c9d',
  functionArn: 'arn:aws:lambda:eu-west-1:111122223333:function:order-projector',
  approximateInvokeCount: 4,
  response: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
  bootstrapServers: 'broker-a:9092',
  now: Date.parse('2026-01-01T00:00:07.412Z'),
};

const requestContext = {
  requestId: '7d1c0b5e-2f4a-4c1e-9a3b-0e5f6a7b8c9d',
  functionArn: 'arn:aws:lambda:eu-west-1:111122223333:function:order-projector',
  condition: 'RetryAttemptsExhausted',
  approximateInvokeCount: 4,
};

describe('sqsInvocationRecord', () => {
  it('has the SQS shape: recordsInfo per partition, offsets as strings, ISO times, no payload', () => {
    const record = sqsInvocationRecord(input);
    expect(JSON.parse(JSON.stringify(record))).toEqual({
      requestContext,
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
      version: '1.0',
      timestamp: '2026-01-01T00:00:07.412Z',
      KafkaBatchInfo: {
        batchSize: 3,
        bootstrapServers: 'broker-a:9092',
        payloadSize: eventByteSize(buildKafkaEvent(records, 'broker-a:9092')),
        recordsInfo: {
          'orders-3': {
            firstRecordOffset: '1207',
            lastRecordOffset: '1208',
            firstRecordTimestamp: '2026-01-01T00:00:00.123Z',
            lastRecordTimestamp: '2026-01-01T00:00:00.200Z',
          },
          'orders-5': {
            firstRecordOffset: '88',
            lastRecordOffset: '88',
            firstRecordTimestamp: '2026-01-01T00:00:00.150Z',
            lastRecordTimestamp: '2026-01-01T00:00:00.150Z',
          },
        },
      },
    });
    expect(record).not.toHaveProperty('payload');
    expect(record.KafkaBatchInfo).not.toHaveProperty('eventSourceArn');
  });

  it('writes a null responseContext for an oversized record', () => {
    const record = sqsInvocationRecord({
      ...input,
      condition: 'MaximumPayloadSizeExceeded',
      response: null,
      approximateInvokeCount: 0,
      records: [records[0]!],
    });
    expect(record.responseContext).toBeNull();
    expect(record.requestContext).toMatchObject({
      condition: 'MaximumPayloadSizeExceeded',
      approximateInvokeCount: 0,
    });
  });

  it('refuses an empty batch', () => {
    expect(() => sqsInvocationRecord({ ...input, records: [] })).toThrow(InvalidArgumentError);
  });
});

describe('s3InvocationRecord', () => {
  it('is the SQS record plus the whole event as an escaped JSON string', () => {
    const record = s3InvocationRecord({ ...input, condition: 'RecordAgeExceeded' });
    const { payload, ...rest } = record;
    expect(rest).toEqual(sqsInvocationRecord({ ...input, condition: 'RecordAgeExceeded' }));
    expect(typeof payload).toBe('string');
    expect(JSON.parse(payload)).toEqual(
      JSON.parse(JSON.stringify(buildKafkaEvent(records, 'broker-a:9092'))),
    );
    expect(JSON.stringify(record)).toContain('"payload":"{\\"eventSource\\":\\"SelfManagedKafka\\"');
  });
});

describe('topicDeadLetters', () => {
  it('writes one dead letter per record, keyed like the original, with the one-record event embedded', () => {
    const letters = topicDeadLetters(input);
    expect(letters.map((l) => (l.key === null ? null : Buffer.from(l.key).toString()))).toEqual([
      'order-42',
      null,
      'order-43',
    ]);
    const second = letters[1]!;
    const one = buildKafkaEvent([records[1]!], 'broker-a:9092');
    expect(JSON.parse(Buffer.from(second.value).toString('utf8'))).toEqual({
      requestContext,
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
      version: '1.0',
      timestamp: '2026-01-01T00:00:07.412Z',
      KafkaBatchInfo: {
        batchSize: 1,
        bootstrapServers: 'broker-a:9092',
        payloadSize: eventByteSize(one),
        recordInfo: { offset: '1208', timestamp: '2026-01-01T00:00:00.200Z' },
      },
      payload: {
        eventSource: 'SelfManagedKafka',
        bootstrapServers: 'broker-a:9092',
        records: {
          'orders-3': [
            {
              topic: 'orders',
              partition: 3,
              offset: 1208,
              timestamp: Date.parse('2026-01-01T00:00:00.200Z'),
              timestampType: 'CREATE_TIME',
              value: Buffer.from('{"offset":1208}').toString('base64'),
              headers: [{ h: [-61, -87] }],
            },
          ],
        },
      },
    });
    expect(second.record.KafkaBatchInfo).not.toHaveProperty('recordsInfo');
  });
});
