import { describe, expect, it } from 'vitest';
import { CorruptRecordError, InvalidArgumentError } from '../../../sdk/src/errors.ts';
import {
  readVarint,
  readVarlong,
  sizeOfVarint,
  sizeOfVarlong,
  writeVarint,
  writeVarlong,
} from '../../../sdk/src/log/varint.ts';
import { seededRandom, testSeed } from '../../helpers/random.ts';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

function encodeVarint(value: number): string {
  const out = new Uint8Array(sizeOfVarint(value));
  expect(writeVarint(out, 0, value)).toBe(out.length);
  return toHex(out);
}

function encodeVarlong(value: number): string {
  const out = new Uint8Array(sizeOfVarlong(value));
  expect(writeVarlong(out, 0, value)).toBe(out.length);
  return toHex(out);
}

/** Zigzag varlong from the definition, with bigint arithmetic. */
function referenceVarlong(value: number): string {
  let zz = BigInt.asUintN(64, (BigInt(value) << 1n) ^ (BigInt(value) >> 63n));
  const out: number[] = [];
  while (zz >= 0x80n) {
    out.push(Number(zz & 0x7fn) | 0x80);
    zz >>= 7n;
  }
  out.push(Number(zz));
  return Buffer.from(out).toString('hex');
}

// Zigzag vectors from the protobuf encoding spec (which Kafka's varints follow), plus the
// int32 limits. `[value, hex]`.
const VARINTS: readonly (readonly [number, string])[] = [
  [0, '00'],
  [-1, '01'],
  [1, '02'],
  [-2, '03'],
  [63, '7e'],
  [-64, '7f'],
  [64, '8001'],
  [75, '9601'], // zigzag 150: the spec's "96 01" example
  [150, 'ac02'],
  [300, 'd804'],
  [-300, 'd704'],
  [2147483647, 'feffffff0f'],
  [-2147483648, 'ffffffff0f'],
];

const VARLONGS: readonly (readonly [number, string])[] = [
  ...VARINTS,
  [2147483648, '8080808010'],
  [-2147483649, '8180808010'],
  [1_700_000_000_000, '80a0abfef962'],
  [-1_700_000_000_000, 'ff9fabfef962'],
  [Number.MAX_SAFE_INTEGER, 'feffffffffffff1f'],
  [Number.MIN_SAFE_INTEGER, 'fdffffffffffff1f'],
];

describe('varint', () => {
  it.each(VARINTS)('encodes and decodes %d as %s', (value, encoded) => {
    expect(encodeVarint(value)).toBe(encoded);
    const cursor = { offset: 0 };
    expect(readVarint(hex(encoded), cursor)).toBe(value);
    expect(cursor.offset).toBe(encoded.length / 2);
  });

  it('reads at the cursor and stops at the end of the value', () => {
    const bytes = hex('ff' + 'ac02' + '01');
    const cursor = { offset: 1 };
    expect(readVarint(bytes, cursor)).toBe(150);
    expect(readVarint(bytes, cursor)).toBe(-1);
    expect(cursor.offset).toBe(4);
  });

  it('rejects truncated input, including input cut by `end`', () => {
    expect(() => readVarint(hex(''), { offset: 0 })).toThrow(CorruptRecordError);
    expect(() => readVarint(hex('80'), { offset: 0 })).toThrow(CorruptRecordError);
    expect(() => readVarint(hex('ffffffff'), { offset: 0 })).toThrow(CorruptRecordError);
    expect(() => readVarint(hex('ac02'), { offset: 0 }, 1)).toThrow(/Truncated varint/);
  });

  it('rejects varints that do not fit 32 bits', () => {
    expect(() => readVarint(hex('ffffffff1f'), { offset: 0 })).toThrow(CorruptRecordError);
    expect(() => readVarint(hex('ffffffff8f01'), { offset: 0 })).toThrow(CorruptRecordError);
  });

  it('refuses to write what is not an int32', () => {
    const out = new Uint8Array(10);
    for (const bad of [2 ** 31, -(2 ** 31) - 1, 1.5, Number.NaN]) {
      expect(() => writeVarint(out, 0, bad)).toThrow(InvalidArgumentError);
    }
  });
});

describe('varlong', () => {
  it.each(VARLONGS)('encodes and decodes %d as %s', (value, encoded) => {
    expect(encodeVarlong(value)).toBe(encoded);
    expect(referenceVarlong(value)).toBe(encoded);
    const cursor = { offset: 0 };
    expect(readVarlong(hex(encoded), cursor)).toBe(value);
    expect(cursor.offset).toBe(encoded.length / 2);
  });

  it('agrees with a bigint reference for random safe integers of every magnitude', () => {
    const random = seededRandom(testSeed('varlong'));
    for (let i = 0; i < 2000; i++) {
      const magnitude = Math.floor(random() * 2 ** Math.floor(random() * 54));
      const value = Math.min(magnitude, Number.MAX_SAFE_INTEGER) * (random() < 0.5 ? -1 : 1) || 0; // no -0
      const encoded = encodeVarlong(value);
      expect(encoded).toBe(referenceVarlong(value));
      expect(readVarlong(hex(encoded), { offset: 0 })).toBe(value);
    }
  });

  it('rejects values outside the safe integer range instead of rounding them', () => {
    expect(() => readVarlong(hex('8080808080808020'), { offset: 0 })).toThrow(/safe integer/); // 2^53
    expect(() => readVarlong(hex('ffffffffffffff1f'), { offset: 0 })).toThrow(CorruptRecordError); // -2^53
    expect(() => readVarlong(hex('feffffffffffffffff01'), { offset: 0 })).toThrow(CorruptRecordError); // 2^63-1
  });

  it('rejects truncated and over-long input', () => {
    expect(() => readVarlong(hex(''), { offset: 0 })).toThrow(CorruptRecordError);
    expect(() => readVarlong(hex('8080'), { offset: 0 })).toThrow(/Truncated varlong/);
    expect(() => readVarlong(hex('80a0abfef962'), { offset: 0 }, 5)).toThrow(CorruptRecordError);
    expect(() => readVarlong(hex('8080808080808080808000'), { offset: 0 })).toThrow(/longer than 10 bytes/);
  });

  it('refuses to write what is not a safe integer', () => {
    const out = new Uint8Array(10);
    for (const bad of [2 ** 53, -(2 ** 53), 0.5, Number.POSITIVE_INFINITY]) {
      expect(() => writeVarlong(out, 0, bad)).toThrow(InvalidArgumentError);
    }
  });
});
