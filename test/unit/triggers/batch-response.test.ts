import { describe, expect, it } from 'vitest';
import {
  type BatchOutcome,
  classifyInvokeError,
  countsAsAttempt,
  interpretResponse,
  outcomeForPartition,
} from '../../../sdk/src/triggers/batch-response.ts';
import { buildKafkaEvent, type TriggerRecord } from '../../../sdk/src/triggers/esm-event.ts';

function rec(topic: string, partition: number, offset: number): TriggerRecord {
  return {
    topic,
    partition,
    offset,
    timestamp: 1_700_000_000_000,
    timestampType: 'CREATE_TIME',
    key: null,
    value: new Uint8Array([1]),
    headers: [],
  };
}

const event = buildKafkaEvent(
  [rec('orders-eu', 3, 1207), rec('orders-eu', 3, 1208), rec('orders-eu', 3, 1210), rec('orders-eu', 5, 88)],
  'b:9092',
);

const ok = (payload: string | undefined) => ({ functionError: undefined, payload });
const failures = (...items: unknown[]) => JSON.stringify({ batchItemFailures: items });
const item = (partition: unknown, offset: unknown) => ({ itemIdentifier: { partition, offset } });

describe('interpretResponse with ReportBatchItemFailures', () => {
  it.each<[string, string | undefined]>([
    ['no payload', undefined],
    ['an empty payload', ''],
    ['whitespace', ' \n'],
    ['null', 'null'],
    ['an empty object', '{}'],
    ['an object with other fields', '{"status":"done"}'],
    ['batchItemFailures null', '{"batchItemFailures":null}'],
    ['batchItemFailures empty', '{"batchItemFailures":[]}'],
  ])('%s is a success', (_, payload) => {
    expect(interpretResponse(ok(payload), event, true)).toEqual({ kind: 'success' });
  });

  it.each<[string, string, RegExp]>([
    ['a payload that is not JSON', 'ok', /not JSON/],
    ['a JSON string', '"ok"', /neither an object nor null/],
    ['a JSON array', '[]', /neither an object nor null/],
    ['batchItemFailures that is not an array', '{"batchItemFailures":{}}', /not an array/],
    ['an item that is not an object', failures('x'), /not an object/],
    ['a null itemIdentifier', failures({ itemIdentifier: null }), /must be an object/],
    ['an empty-string itemIdentifier', failures({ itemIdentifier: '' }), /must be an object/],
    ['an SQS-style string identifier', failures({ itemIdentifier: 'orders-eu-3' }), /must be an object/],
    [
      'a misspelt key',
      failures({ itemIdentifer: { partition: 'orders-eu-3', offset: 1207 } }),
      /must be an object/,
    ],
    ['an unknown partition key', failures(item('orders-eu-4', 1207)), /is not a "<topic>-<partition>" key/],
    ['a numeric partition', failures(item(3, 1207)), /is not a "<topic>-<partition>" key/],
    [
      'an inherited name as partition',
      failures(item('constructor', 1)),
      /is not a "<topic>-<partition>" key/,
    ],
    ['an offset not in the event', failures(item('orders-eu-3', 1209)), /is not an offset of orders-eu-3/],
    ['an offset of another partition', failures(item('orders-eu-5', 1207)), /is not an offset/],
    ['a missing offset', failures({ itemIdentifier: { partition: 'orders-eu-3' } }), /is not an offset/],
    ['a fractional offset', failures(item('orders-eu-3', 1207.5)), /is not an offset/],
    [
      'one bad item among good ones',
      failures(item('orders-eu-3', 1208), item('orders-eu-3', 99)),
      /batchItemFailures\[1\]/,
    ],
  ])('%s fails the whole batch', (_, payload, reason) => {
    const outcome = interpretResponse(ok(payload), event, true);
    expect(outcome.kind).toBe('invalid-response');
    expect(outcome.kind === 'invalid-response' && outcome.reason).toMatch(reason);
  });

  it('keeps, per partition, the lowest reported offset', () => {
    const outcome = interpretResponse(
      ok(failures(item('orders-eu-3', 1210), item('orders-eu-3', 1208), item('orders-eu-5', 88))),
      event,
      true,
    );
    expect(outcome).toEqual({
      kind: 'partial',
      lowestFailedOffsets: new Map([
        ['orders-eu-3', 1208],
        ['orders-eu-5', 88],
      ]),
      failedOffsets: new Map([
        ['orders-eu-3', [1208, 1210]],
        ['orders-eu-5', [88]],
      ]),
    });
    expect(outcomeForPartition(outcome, 'orders-eu-3')).toEqual({
      kind: 'partial',
      lowestFailedOffset: 1208,
      failedOffsets: [1208, 1210],
    });
  });

  it('accepts an offset written as a decimal string (the ESM coerces it)', () => {
    const outcome = interpretResponse(ok(failures(item('orders-eu-5', '88'))), event, true);
    expect(outcomeForPartition(outcome, 'orders-eu-5')).toEqual({
      kind: 'partial',
      lowestFailedOffset: 88,
      failedOffsets: [88],
    });
    expect(outcomeForPartition(outcome, 'orders-eu-3')).toEqual({ kind: 'success' });
  });

  it('reads a payload given as bytes', () => {
    const bytes = new TextEncoder().encode(failures(item('orders-eu-3', 1207)));
    expect(interpretResponse({ functionError: undefined, payload: bytes }, event, true).kind).toBe('partial');
  });
});

describe('interpretResponse without ReportBatchItemFailures', () => {
  it.each([failures(item('orders-eu-3', 1207)), 'not json', '"x"', failures(item('nope', 1))])(
    'any payload of a successful call is a success: %s',
    (payload) => {
      expect(interpretResponse(ok(payload), event, false)).toEqual({ kind: 'success' });
    },
  );
});

describe('function errors', () => {
  it.each<[string, string, boolean]>([
    ['an unhandled error', '{"errorType":"TypeError","errorMessage":"boom"}', false],
    [
      'a timeout',
      '{"errorType":"Sandbox.Timedout","errorMessage":"RequestId: 1 Error: Task timed out after 3.00 seconds"}',
      true,
    ],
    [
      'an old-style timeout',
      '{"errorMessage":"2019-01-01T00:00:00.000Z 1 Task timed out after 3.00 seconds"}',
      true,
    ],
    ['an error document that is not JSON', 'oops', false],
  ])('%s fails the whole batch, partial responses or not', (_, payload, timedOut) => {
    for (const report of [true, false]) {
      const outcome = interpretResponse({ functionError: 'Unhandled', payload }, event, report);
      expect(outcome.kind).toBe('function-error');
      expect(outcome.kind === 'function-error' && outcome.timedOut).toBe(timedOut);
      expect(countsAsAttempt(outcomeForPartition(outcome, 'orders-eu-5'))).toBe(true);
    }
  });

  it('fails the batch even when the error payload looks like a partial response', () => {
    const outcome = interpretResponse(
      { functionError: 'Handled', payload: failures(item('orders-eu-3', 1207)) },
      event,
      true,
    );
    expect(outcome).toMatchObject({ kind: 'function-error', functionError: 'Handled' });
  });
});

describe('classifyInvokeError', () => {
  const sdkError = (name: string, status?: number) =>
    Object.assign(new Error(name), {
      name,
      ...(status === undefined ? {} : { $metadata: { httpStatusCode: status } }),
    });

  it.each<[string, unknown, BatchOutcome]>([
    ['TooManyRequestsException', sdkError('TooManyRequestsException', 429), { kind: 'throttled' }],
    ['any 429', sdkError('SomethingNew', 429), { kind: 'throttled' }],
    ['an ENI throttle', sdkError('EC2ThrottledException', 502), { kind: 'throttled' }],
    ['RequestTooLargeException', sdkError('RequestTooLargeException', 413), { kind: 'payload-too-large' }],
    [
      'a service error',
      sdkError('ServiceException', 500),
      { kind: 'invoke-error', errorName: 'ServiceException', retriable: true },
    ],
    [
      'a missing function',
      sdkError('ResourceNotFoundException', 404),
      { kind: 'invoke-error', errorName: 'ResourceNotFoundException', retriable: false },
    ],
    [
      'a function being updated',
      sdkError('ResourceConflictException', 409),
      { kind: 'invoke-error', errorName: 'ResourceConflictException', retriable: true },
    ],
    [
      'a network failure (no status)',
      sdkError('TimeoutError'),
      { kind: 'invoke-error', errorName: 'TimeoutError', retriable: true },
    ],
    ['a thrown non-error', 'weird', { kind: 'invoke-error', errorName: 'Error', retriable: true }],
  ])('%s', (_, error, expected) => {
    expect(classifyInvokeError(error)).toEqual(expected);
  });

  it('never counts a throttle or an invoke error as an attempt', () => {
    expect(countsAsAttempt({ kind: 'throttled' })).toBe(false);
    expect(countsAsAttempt({ kind: 'invoke-error', errorName: 'X', retriable: true })).toBe(false);
    expect(countsAsAttempt({ kind: 'success' })).toBe(false);
    expect(countsAsAttempt({ kind: 'partial', lowestFailedOffset: 1, failedOffsets: [1] })).toBe(true);
  });
});
