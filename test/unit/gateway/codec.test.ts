/**
 * The generic codec on small descriptions written for the test: versions, defaults, nullability,
 * compact and legacy lengths, tagged fields, every primitive type, hostile lengths, and the
 * checks that reject an inconsistent description when it is built.
 */
import { describe, expect, it } from 'vitest';
import { defineApi } from '../../../gateway/protocol/api-description.ts';
import { ByteReader } from '../../../gateway/protocol/byte-reader.ts';
import { ByteWriter } from '../../../gateway/protocol/byte-writer.ts';
import { compileMessage, decodeMessage, encodeMessage } from '../../../gateway/protocol/codec.ts';
import { ProtocolError, SchemaDefinitionError } from '../../../gateway/protocol/errors.ts';
import { decodeRequest } from '../../../gateway/protocol/frame-codec.ts';
import {
  array,
  bool,
  bytes,
  type Fields,
  float64,
  int8,
  int16,
  int32,
  int64,
  type MessageInput,
  records,
  string,
  struct,
  uint16,
  uuid,
  varint,
  varlong,
} from '../../../gateway/protocol/schema.ts';

function encode<F extends Fields>(
  fields: F,
  version: number,
  flexible: boolean,
  value: MessageInput<F>,
): string {
  const writer = new ByteWriter();
  encodeMessage(fields, version, flexible, value, writer);
  return Buffer.from(writer.finish()).toString('hex');
}

function decode<F extends Fields>(fields: F, version: number, flexible: boolean, hexBytes: string) {
  const reader = new ByteReader(Uint8Array.from(Buffer.from(hexBytes, 'hex')));
  const message = decodeMessage(fields, version, flexible, reader);
  expect(reader.remaining).toBe(0);
  return message;
}

/** The ProtocolError `run` throws (failing the test if it throws nothing or something else). */
function protocolError(run: () => unknown): ProtocolError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ProtocolError);
    return error as ProtocolError;
  }
  throw new Error('Expected a ProtocolError, nothing was thrown');
}

describe('versions and defaults', () => {
  const fields = {
    a: int32(),
    b: int16({ versions: '2+', default: -1 }),
    c: string({ versions: '0-1' }),
    d: int64({ versions: '3+' }),
  };

  it('writes only the fields of the version', () => {
    expect(encode(fields, 1, false, { a: 1, b: 7, c: 'x', d: 9n })).toBe('00000001' + '000178');
    expect(encode(fields, 2, false, { a: 1, b: 7, c: 'x', d: 9n })).toBe('00000001' + '0007');
    expect(encode(fields, 3, false, { a: 1, b: 7, c: 'x', d: 9n })).toBe(
      '00000001' + '0007' + '0000000000000009',
    );
  });

  it('decodes fields absent from the version as their defaults (explicit, else the type default)', () => {
    expect(decode(fields, 1, false, '00000001000178')).toEqual({ a: 1, b: -1, c: 'x', d: 0n });
    expect(decode(fields, 3, false, '000000010007' + '0000000000000009')).toEqual({
      a: 1,
      b: 7,
      c: '',
      d: 9n,
    });
  });

  it('takes the default for a field with one that the input leaves out', () => {
    expect(encode(fields, 2, false, { a: 1, c: '', d: 0n })).toBe('00000001ffff');
  });

  it('fills the type defaults of every kind', () => {
    const all = {
      n: int8({ versions: '1+' }),
      l: int64({ versions: '1+' }),
      f: bool({ versions: '1+' }),
      s: string({ versions: '1+' }),
      u: uuid({ versions: '1+' }),
      by: bytes({ versions: '1+' }),
      r: records({ versions: '1+', nullableVersions: '1+' }),
      arr: array('int32', { versions: '1+' }),
      st: struct({ x: int32({ default: 5 }), y: string() }, { versions: '1+' }),
      x: int8(),
    };
    expect(decode(all, 0, false, '07')).toEqual({
      n: 0,
      l: 0n,
      f: false,
      s: '',
      u: '00000000-0000-0000-0000-000000000000',
      by: new Uint8Array(0),
      r: null,
      arr: [],
      st: { x: 5, y: '' },
      x: 7,
    });
  });
});

describe('nullability', () => {
  const fields = {
    s: string({ nullableVersions: '1+' }),
    b: bytes({ nullableVersions: '1+' }),
    a: array('int8', { nullableVersions: '1+' }),
  };

  it('writes null as -1 (legacy) or 0 (compact)', () => {
    expect(encode(fields, 1, false, { s: null, b: null, a: null })).toBe('ffff' + 'ffffffff' + 'ffffffff');
    expect(encode(fields, 1, true, { s: null, b: null, a: null })).toBe('00' + '00' + '00' + '00');
    expect(decode(fields, 1, true, '00000000')).toEqual({ s: null, b: null, a: null });
  });

  it('refuses to write null in a version where the field is not nullable', () => {
    const error = protocolError(() => encode(fields, 0, false, { s: null, b: new Uint8Array(0), a: [] }));
    expect(error.code).toBe('NOT_ENCODABLE');
    expect(error.field).toBe('s');
  });

  it('refuses to read null in a version where the field is not nullable', () => {
    expect(protocolError(() => decode(fields, 0, false, 'ffff')).code).toBe('INVALID_VALUE');
    expect(protocolError(() => decode(fields, 0, true, '00')).code).toBe('INVALID_VALUE');
    expect(protocolError(() => decode(fields, 0, false, '0000' + 'ffffffff')).field).toBe('b');
  });
});

describe('lengths', () => {
  const fields = {
    s: string(),
    b: bytes(),
    a: array('int16'),
    client: string({ flexibleVersions: 'none' }),
  };
  const value = { s: 'hé', b: Uint8Array.of(9), a: [1, 2], client: 'c' };

  it('uses int16/int32 lengths in legacy versions and length + 1 varints in flexible ones', () => {
    expect(encode(fields, 0, false, value)).toBe(
      '0003 68c3a9 00000001 09 00000002 0001 0002 0001 63'.replaceAll(' ', ''),
    );
    expect(encode(fields, 0, true, value)).toBe(
      '04 68c3a9 02 09 03 0001 0002 0001 63 00'.replaceAll(' ', ''),
    );
  });

  it('keeps an int16 length for a field whose flexibleVersions are "none" (the header client id)', () => {
    expect(decode(fields, 0, true, '0468c3a90209030001000200016300')).toEqual(value);
  });

  it('refuses to write a legacy string over 32767 bytes, and writes it compact', () => {
    const long = 'x'.repeat(32768);
    expect(protocolError(() => encode({ s: string() }, 0, false, { s: long })).code).toBe('NOT_ENCODABLE');
    // 32768 + 1 = 0x8001 as an unsigned varint: 81 80 02, then "x" (78) ...
    expect(encode({ s: string() }, 0, true, { s: long }).slice(0, 8)).toBe('81800278');
  });
});

describe('primitive types', () => {
  const fields = {
    i8: int8(),
    u16: uint16(),
    v: varint(),
    vl: varlong(),
    f: float64(),
    id: uuid(),
    ok: bool(),
  };

  it('encodes extremes exactly', () => {
    const value = {
      i8: -128,
      u16: 65535,
      v: -1,
      vl: -(2n ** 63n),
      f: -0.5,
      id: '0123abcd-4567-89ef-0123-456789abcdef',
      ok: true,
    };
    const wire =
      `80 ffff 01 ${'ff'.repeat(9)}01 bfe0000000000000 0123abcd456789ef0123456789abcdef 01`.replaceAll(
        ' ',
        '',
      );
    expect(encode(fields, 0, false, value)).toBe(wire);
    expect(decode(fields, 0, false, wire)).toEqual(value);
  });

  it('zigzags varints like protobuf', () => {
    const v = { v: varint() };
    expect([0, -1, 1, -2, 300, 2147483647, -2147483648].map((n) => encode(v, 0, false, { v: n }))).toEqual([
      '00',
      '01',
      '02',
      '03',
      'd804',
      'feffffff0f',
      'ffffffff0f',
    ]);
    expect(decode(v, 0, false, 'ffffffff0f')).toEqual({ v: -2147483648 });
  });

  it('reads any non-zero byte as true, as Kafka does', () => {
    expect(decode({ ok: bool() }, 0, false, '02')).toEqual({ ok: true });
  });

  it('refuses values that do not fit their wire type', () => {
    const cases: [Fields, Record<string, unknown>][] = [
      [{ x: int8() }, { x: 128 }],
      [{ x: int16() }, { x: 1.5 }],
      [{ x: uint16() }, { x: -1 }],
      [{ x: int32() }, { x: 2 ** 31 }],
      [{ x: int64() }, { x: 1 }],
      [{ x: int64() }, { x: 2n ** 63n }],
      [{ x: varlong() }, { x: -(2n ** 63n) - 1n }],
      [{ x: uuid() }, { x: 'not-a-uuid' }],
      [{ x: bool() }, { x: 1 }],
      [{ x: string() }, { x: 5 }],
      [{ x: bytes() }, { x: 'text' }],
      [{ x: array('int8') }, { x: 'abc' }],
      [{ x: struct({ y: int8() }) }, { x: [] }],
    ];
    for (const [fields, value] of cases) {
      const error = protocolError(() => encode(fields, 0, false, value as never));
      expect(error.code).toBe('NOT_ENCODABLE');
      expect(error.field).toBe('x');
    }
  });
});

describe('tagged fields', () => {
  const fields = {
    a: int8(),
    t1: int32({ tag: 1, default: -1 }),
    t0: string({ tag: 0, nullableVersions: '0+', default: null }),
    nested: array({ x: int8(), t: struct({ y: int16({ default: 7 }) }, { tag: 4 }) }),
  };

  it('writes only fields that differ from their defaults, by ascending tag', () => {
    expect(encode(fields, 0, true, { a: 1, nested: [] })).toBe('01' + '01' + '00');
    expect(encode(fields, 0, true, { a: 1, t1: -1, t0: null, nested: [{ x: 2, t: { y: 7 } }] })).toBe(
      '0102020000',
    );
    const wire = [
      '01', // a
      '02', // nested: 1 element
      '02 01 04 03 0008 00', // x = 2; 1 tagged field: tag 4, 3 bytes: y = 8, no tagged fields
      '02', // 2 tagged fields
      '00 02 027a', // tag 0, 2 bytes: "z"
      '01 04 00000005', // tag 1, 4 bytes: 5
    ];
    expect(encode(fields, 0, true, { t1: 5, a: 1, t0: 'z', nested: [{ x: 2, t: { y: 8 } }] })).toBe(
      wire.join('').replaceAll(' ', ''),
    );
  });

  it('skips tags it does not know, at the top level and in nested structs', () => {
    // a=1, nested=[{x:2, tags: {9: 3 bytes}}], top-level tags: {0:"z", 5: 2 bytes, 1: 5}
    const wire = '01 02 02 01 09 03 aabbcc 03 00 02 02 7a 05 02 dddd 01 04 00000005'.replaceAll(' ', '');
    expect(decode(fields, 0, true, wire)).toEqual({ a: 1, t1: 5, t0: 'z', nested: [{ x: 2, t: { y: 7 } }] });
  });

  it('rejects a known tagged field whose declared size is not its value size', () => {
    // tag 1 (int32) declared as 5 bytes.
    const error = protocolError(() =>
      decode(fields, 0, true, '01 01 01 01 05 0000000500'.replaceAll(' ', '')),
    );
    expect(error.code).toBe('INVALID_VALUE');
    expect(error.field).toBe('t1');
    // tag 1 declared as 3 bytes: the int32 runs out of its section.
    expect(
      protocolError(() => decode(fields, 0, true, '01 01 01 01 03 000005'.replaceAll(' ', ''))).code,
    ).toBe('TRUNCATED');
  });
});

describe('hostile and malformed input', () => {
  const fields = { name: string(), items: array({ id: int32(), data: bytes() }) };

  it('fails at once on a string longer than the bytes left', () => {
    const error = protocolError(() => decode(fields, 0, false, '7fff616263'));
    expect(error.code).toBe('TRUNCATED');
    expect(error.field).toBe('name');
    expect(error.message).toContain('declares 32767 bytes but 3 bytes are left');
  });

  it('fails at once on an array count larger than the bytes could hold', () => {
    // 0x7fffffff elements of at least 8 bytes each, with 8 bytes left: refused before the loop.
    const error = protocolError(() =>
      decode(fields, 0, false, '0000 7fffffff 0000000100000000'.replaceAll(' ', '')),
    );
    expect(error.code).toBe('TRUNCATED');
    expect(error.field).toBe('items');
    expect(error.message).toContain('declares 2147483647 items of at least 8 bytes');
    // 2 elements of at least 8 bytes (legacy) with 15 bytes left.
    expect(
      protocolError(() => decode(fields, 0, false, `0000 00000002 ${'00'.repeat(15)}`.replaceAll(' ', '')))
        .code,
    ).toBe('TRUNCATED');
  });

  it('fails at once on byte strings longer than the bytes left, and on negative lengths', () => {
    expect(
      protocolError(() => decode(fields, 0, false, '0000 00000001 00000000 7ffffff0'.replaceAll(' ', '')))
        .field,
    ).toBe('items[0].data');
    expect(protocolError(() => decode(fields, 0, false, 'fffe')).code).toBe('INVALID_LENGTH');
    expect(protocolError(() => decode(fields, 0, false, '0000 fffffffe'.replaceAll(' ', ''))).code).toBe(
      'INVALID_LENGTH',
    );
  });

  it('rejects compact lengths beyond int32 and varints over 5 bytes', () => {
    // 0xffffffff - 1 items: beyond an int32 count.
    expect(protocolError(() => decode(fields, 0, true, '01 ffffffff0f'.replaceAll(' ', ''))).code).toBe(
      'INVALID_LENGTH',
    );
    // A 5th varint byte with bits above 32.
    expect(protocolError(() => decode(fields, 0, true, 'ffffffff1f')).code).toBe('INVALID_LENGTH');
    expect(protocolError(() => decode({ v: varlong() }, 0, false, `${'ff'.repeat(10)}01`)).code).toBe(
      'INVALID_LENGTH',
    );
    expect(protocolError(() => decode({ v: varlong() }, 0, false, `${'ff'.repeat(9)}02`)).code).toBe(
      'INVALID_LENGTH',
    );
  });

  it('fails at once on a tagged-field count or size larger than the bytes left', () => {
    expect(
      protocolError(() => decode({ a: int8() }, 0, true, '01 ffffff7f 0000'.replaceAll(' ', ''))).code,
    ).toBe('TRUNCATED');
    expect(
      protocolError(() => decode({ a: int8() }, 0, true, '01 01 09 ffffff7f 00'.replaceAll(' ', ''))).code,
    ).toBe('TRUNCATED');
  });

  it('rejects malformed UTF-8 rather than replacing it', () => {
    const error = protocolError(() => decode({ s: string() }, 0, false, '0002c328'));
    expect(error.code).toBe('INVALID_VALUE');
    expect(error.cause).toBeInstanceOf(TypeError);
  });

  it('reports the path of the failing field', () => {
    // Two topics (at least 12 bytes, 12 are left); the second name declares 5 bytes, 3 are left.
    const error = protocolError(() =>
      decode(
        { topics: array({ name: string(), parts: array('int32') }) },
        0,
        false,
        '00000002 0001 61 00000000 0005 68656c'.replaceAll(' ', ''),
      ),
    );
    expect(error.field).toBe('topics[1].name');
    expect(error.message).toMatch(/^topics\[1\]\.name: /);
  });

  it('rejects bytes after the end of a request', () => {
    // Heartbeat v0: group "g", generation 1, member "m", then one stray byte.
    const frame = Buffer.from('000c 0000 00000001 ffff 000167 00000001 00016d ee'.replaceAll(' ', ''), 'hex');
    const error = protocolError(() => decodeRequest(frame));
    expect(error.code).toBe('TRAILING_BYTES');
    expect(decodeRequest(frame.subarray(0, -1))).toMatchObject({
      api: 'Heartbeat',
      body: { groupId: 'g', memberId: 'm' },
    });
  });
});

describe('descriptions are checked when built', () => {
  const cases: [string, Fields, number, boolean, string][] = [
    [
      'a tagged field in a non-flexible version',
      { a: int32({ tag: 0 }) },
      0,
      false,
      'tagged fields exist only in flexible',
    ],
    [
      'a null default where the field is not nullable',
      { a: string({ default: null }) },
      0,
      false,
      'default null',
    ],
    ['a default of the wrong type', { a: int16({ default: 1e6 }) }, 0, false, 'is not a int16'],
    ['a nullable int32', { a: { type: 'int32', nullableVersions: '0+' } }, 0, false, 'cannot be nullable'],
    ['a tag used twice', { a: int8({ tag: 1 }), b: int8({ tag: 1 }) }, 0, true, 'tag 1 is used twice'],
    [
      'an array of structs that take no bytes',
      { a: array({ b: int8({ versions: '1+' }) }) },
      0,
      false,
      'take no bytes',
    ],
    ['a malformed version range', { a: int8({ versions: '2-1' }) }, 0, false, 'ends before it starts'],
    [
      'flexibleVersions on an int',
      { a: { type: 'int8', flexibleVersions: 'none' } },
      0,
      false,
      'strings and byte strings only',
    ],
    ['a numeric field name', { 1: int8() }, 0, false, 'must not be numeric'],
  ];

  it.each(cases)('rejects %s', (_, fields, version, flexible, message) => {
    expect(() => compileMessage(fields, version, flexible, 'test')).toThrow(SchemaDefinitionError);
    expect(() => compileMessage(fields, version, flexible, 'test')).toThrow(message);
  });

  it('checks every version of an API when it is defined', () => {
    expect(() =>
      defineApi({
        name: 'Broken',
        apiKey: 1000,
        minVersion: 0,
        maxVersion: 3,
        flexibleVersions: '3+',
        request: { a: int8({ versions: '2+', tag: 0 }) },
        response: {},
      }),
    ).toThrow('Broken v2 request.a: tagged fields exist only in flexible versions, not in v2');
  });
});
