/** Produce requests of the HTTP transport: wire form of a record and how records are split into requests. */
import { describe, expect, it } from 'vitest';
import type { Prepared } from '../../../sdk/src/producer-input.ts';
import {
  MAX_RECORDS_PER_REQUEST,
  PRODUCE_ENVELOPE_BYTES,
  produceBodyBytes,
  recordsForRequest,
  toWireRecord,
} from '../../../sdk/src/transport/produce-request.ts';

function prepared(
  partition: number,
  value: Uint8Array | null,
  extra: Partial<Prepared['record']> = {},
): Prepared {
  return {
    topic: undefined as unknown as Prepared['topic'],
    partition,
    record: { key: null, value, timestamp: 1_700_000_000_000, headers: [], ...extra },
    size: 36 + (value?.byteLength ?? 0),
  };
}

describe('toWireRecord', () => {
  it('writes key, value and header values in base64, repeated header keys as arrays, partition and timestamp explicit', () => {
    const wire = toWireRecord(
      prepared(2, Buffer.from([0, 255, 1]), {
        key: Buffer.from('k'),
        headers: [
          { key: 'trace', value: Buffer.from('a') },
          { key: 'tag', value: Buffer.from('x') },
          { key: 'tag', value: Buffer.from('y') },
          { key: '__proto__', value: Buffer.from('z') },
        ],
      }),
    );
    expect(wire.body).toEqual({
      key: 'aw==',
      value: 'AP8B',
      headers: { trace: 'YQ==', tag: ['eA==', 'eQ=='], ['__proto__']: 'eg==' },
      partition: 2,
      timestamp: 1_700_000_000_000,
    });
    expect(Object.hasOwn(wire.body.headers!, '__proto__')).toBe(true);
    expect(wire.jsonBytes).toBe(Buffer.byteLength(JSON.stringify(wire.body)));
  });

  it('keeps a null key and a null value (tombstone) as null, and encodes a view of a larger buffer exactly', () => {
    expect(toWireRecord(prepared(0, null)).body).toMatchObject({ key: null, value: null });
    const backing = Buffer.from('xxhelloxx');
    expect(toWireRecord(prepared(0, backing.subarray(2, 7))).body.value).toBe(
      Buffer.from('hello').toString('base64'),
    );
  });
});

describe('produceBodyBytes', () => {
  it('is exactly the length of the JSON body with the longest codec name (an upper bound for the others)', () => {
    const records = [prepared(0, Buffer.from('a')), prepared(1, Buffer.from('bcd')), prepared(0, null)].map(
      toWireRecord,
    );
    const body = { encoding: 'base64', compression: 'snappy', records: records.map((r) => r.body) };
    expect(produceBodyBytes(records)).toBe(Buffer.byteLength(JSON.stringify(body)));
    expect(produceBodyBytes([])).toBe(PRODUCE_ENVELOPE_BYTES);
    const withOffset = {
      encoding: 'base64',
      compression: 'snappy',
      expectedOffset: 12345,
      records: records.map((r) => r.body),
    };
    const zstd = { encoding: 'base64', compression: 'zstd', records: records.map((r) => r.body) };
    expect(produceBodyBytes(records)).toBeGreaterThanOrEqual(Buffer.byteLength(JSON.stringify(zstd)));
    expect(produceBodyBytes(records, Buffer.byteLength(',"expectedOffset":12345'))).toBe(
      Buffer.byteLength(JSON.stringify(withOffset)),
    );
  });
});

describe('recordsForRequest', () => {
  const limits = { partitionBytes: 1_000, bodyBytes: 10_000 };
  const entry = (partition: number, size: number, jsonBytes = size) => ({ partition, size, jsonBytes });

  it('takes records while each partition stays within its batch bytes', () => {
    const queue = [entry(0, 400), entry(0, 400), entry(0, 400), entry(0, 400)];
    expect(recordsForRequest(queue, limits)).toBe(2);
  });

  it('fills several partitions in one request, stopping at the first record that does not fit (order kept)', () => {
    const queue = [entry(0, 600), entry(1, 600), entry(0, 600), entry(1, 100)];
    expect(recordsForRequest(queue, limits)).toBe(2);
    expect(recordsForRequest([entry(0, 500), entry(1, 900), entry(0, 500), entry(2, 1)], limits)).toBe(4);
  });

  it('keeps the JSON body within its limit', () => {
    const queue = Array.from({ length: 10 }, (_, p) => entry(p, 100, 3_000));
    // 3 records: envelope + 3 × 3000 + 2 commas ≤ 10000; a fourth would not fit.
    expect(recordsForRequest(queue, limits)).toBe(3);
  });

  it('always takes at least one record, even one over the limits', () => {
    expect(recordsForRequest([entry(0, 5_000, 20_000), entry(0, 1)], limits)).toBe(1);
    expect(recordsForRequest([], limits)).toBe(0);
  });

  it('takes at most the API maximum of records', () => {
    const queue = Array.from({ length: MAX_RECORDS_PER_REQUEST + 5 }, (_, i) => entry(i % 100, 1, 1));
    expect(recordsForRequest(queue, { partitionBytes: 1e9, bodyBytes: 1e9 })).toBe(MAX_RECORDS_PER_REQUEST);
  });
});
