/** Bytes on the wire: strict base64 decoding, and responses kept under Lambda's 6 MB limit. */
import { describe, expect, it } from 'vitest';
import { decodeBytes, fitResponse, type WireRecord } from '../../../functions/api/wire.ts';
import { InvalidArgumentError, RecordTooLargeError } from '../../../sdk/src/errors.ts';

const record = (offset: number, valueBytes: number): WireRecord => ({
  offset,
  timestamp: 0,
  key: null,
  value: 'A'.repeat(valueBytes),
  headers: [],
});

describe('decodeBytes', () => {
  it('decodes valid base64 and UTF-8', () => {
    expect(decodeBytes('aGVsbG8=', 'base64', 'v').toString()).toBe('hello');
    expect(decodeBytes('aGk=', 'base64', 'v').toString()).toBe('hi');
    expect(decodeBytes('', 'base64', 'v')).toHaveLength(0);
    expect(decodeBytes('héllo', 'utf8', 'v').toString()).toBe('héllo');
  });

  it('refuses malformed base64, naming the field', () => {
    for (const bad of ['aGVsbG8', 'aGV sbG8=', 'a=bc', '%%%%', 'aGk==AAA', 'aGVsbG8==']) {
      expect(() => decodeBytes(bad, 'base64', 'records[3].value'), bad).toThrow(InvalidArgumentError);
    }
    expect(() => decodeBytes('!!!!', 'base64', 'records[3].value')).toThrow(/records\[3\]\.value/);
  });
});

describe('fitResponse', () => {
  it('leaves a response within the limit alone', () => {
    const batch = { records: [record(0, 10), record(1, 10)], nextOffset: 2, start: 0 };
    expect(fitResponse([batch])).toEqual([batch]);
  });

  it('cuts records past the budget and continues after the last one kept', () => {
    const big = Array.from({ length: 12 }, (_, i) => record(100 + i, 700_000));
    const [fitted] = fitResponse([{ records: big, nextOffset: 112, start: 100 }]);
    expect(fitted!.records.length).toBeGreaterThan(0);
    expect(fitted!.records.length).toBeLessThan(12);
    expect(fitted!.nextOffset).toBe(100 + fitted!.records.length);
    const bytes = fitted!.records.reduce((n, r) => n + JSON.stringify(r).length, 0);
    expect(bytes).toBeLessThan(6 * 1024 * 1024);
  });

  it('gives later partitions nothing once the budget is spent, continuing where they started', () => {
    const first = {
      records: Array.from({ length: 9 }, (_, i) => record(i, 700_000)),
      nextOffset: 9,
      start: 0,
    };
    const second = { records: [record(50, 10)], nextOffset: 51, start: 50 };
    const [, cut] = fitResponse([first, second]);
    expect(cut).toMatchObject({ records: [], nextOffset: 50 });
  });

  it('refuses a single record that no response can hold', () => {
    expect(() => fitResponse([{ records: [record(7, 6_000_000)], nextOffset: 8, start: 7 }])).toThrow(
      RecordTooLargeError,
    );
  });
});
