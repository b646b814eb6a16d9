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

  it('decodes every byte value and length in canonical base64', () => {
    for (let length = 0; length < 8; length++) {
      const bytes = Buffer.from(Array.from({ length }, (_, i) => (i * 97 + 255) % 256));
      expect(decodeBytes(bytes.toString('base64'), 'base64', 'v')).toEqual(bytes);
    }
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    expect(decodeBytes(all.toString('base64'), 'base64', 'v')).toEqual(all);
  });

  it.each([
    ['base64url characters', '-_-_'],
    ['a base64url "-" among standard ones', 'ab-d'],
    ['a base64url "_" among standard ones', 'ab_d'],
    ['missing padding (2 bytes)', 'aGk'],
    ['missing padding (1 byte)', 'aA'],
    ['non-zero bits after the last byte (1 byte)', 'aB=='],
    ['non-zero bits after the last byte (2 bytes)', 'aGl='],
    ['padding where none belongs', 'aGVs='],
    ['too much padding', 'aA==='],
    ['padding in the middle', 'aA==aGk='],
    ['a line break', 'aGVs\nbG8='],
    ['a leading space', ' aGk='],
    ['a trailing space', 'aGk= '],
    ['a tab', 'aG\tk='],
    ['a lone padding character', '='],
    ['a non-ASCII character', 'aGé='],
  ])('refuses %s (%j)', (_, text) => {
    expect(() => decodeBytes(text, 'base64', 'records[0].key')).toThrow(InvalidArgumentError);
    expect(() => decodeBytes(text, 'base64', 'records[0].key')).toThrow(
      /records\[0\]\.key is not valid base64/,
    );
  });

  it('costs a few decodes on a 6 MB value (printed, not asserted)', () => {
    const text = Buffer.alloc(4.5 * 1024 * 1024, 7).toString('base64');
    const started = performance.now();
    for (let i = 0; i < 5; i++) decodeBytes(text, 'base64', 'v');
    const strict = (performance.now() - started) / 5;
    const lenientStarted = performance.now();
    for (let i = 0; i < 5; i++) Buffer.from(text, 'base64');
    const lenient = (performance.now() - lenientStarted) / 5;
    console.info(
      `[wire] ${(text.length / 1e6).toFixed(1)} MB of base64: strict decode ${strict.toFixed(1)} ms, Node's lenient decode alone ${lenient.toFixed(1)} ms`,
    );
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
