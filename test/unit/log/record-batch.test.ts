import { describe, expect, it } from 'vitest';
import { CorruptRecordError, InvalidArgumentError } from '../../../sdk/src/errors.ts';
import type { Compression } from '../../../sdk/src/log/compression.ts';
import { crc32c } from '../../../sdk/src/log/crc32c.ts';
import {
  type DecodedBatch,
  decodeRecordBatch,
  decodeRecordBatches,
  type EncodeBatchInput,
  encodeRecordBatch,
  RECORD_BATCH_OVERHEAD,
  type RecordInput,
  readBatchHeader,
  setBaseOffset,
  verifyBatchCrc,
} from '../../../sdk/src/log/record-batch.ts';

const CODECS: readonly Compression[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];
const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+|#.*$/gm, ''), 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

const NOT_IDEMPOTENT = { producerId: -1n, producerEpoch: -1, baseSequence: -1 } as const;

/** Recomputes the CRC after a test changed bytes it covers, to reach the structural checks. */
function withFreshCrc(bytes: Uint8Array): Uint8Array {
  const copy = bytes.slice();
  new DataView(copy.buffer).setUint32(17, crc32c(copy.subarray(21)));
  return copy;
}

/**
 * A batch derived by hand from the protocol documentation ("Record Batch" in the message format
 * section): baseOffset 5, two uncompressed records, producer not idempotent.
 *   record 0: timestamp 1000, key null, value "hi", no headers
 *   record 1: timestamp 1001, key "k", value "v", header "h" = "x"
 * Varints are zigzag: 0→00, 1→02, 2→04, -1→01, 8→10, 12→18.
 * The CRC was computed with an independent bit-at-a-time CRC-32C over bytes 21..82.
 */
const HAND_DERIVED = hex(`
  0000000000000005  # baseOffset 5
  00000047          # batchLength 71 = 83 bytes - 12
  ffffffff          # partitionLeaderEpoch -1 (producers write "no epoch")
  02                # magic 2
  c53bacb1          # crc: CRC-32C of everything from attributes to the end
  0000              # attributes: no compression, create time, not transactional, not control
  00000001          # lastOffsetDelta 1
  00000000000003e8  # baseTimestamp 1000 (the first record's)
  00000000000003e9  # maxTimestamp 1001
  ffffffffffffffff  # producerId -1
  ffff              # producerEpoch -1
  ffffffff          # baseSequence -1
  00000002          # recordCount 2
  10                # record 0: length 8
  00                #   attributes
  00                #   timestampDelta 0
  00                #   offsetDelta 0
  01                #   keyLength -1 (null key)
  04 6869           #   valueLength 2, "hi"
  00                #   header count 0
  18                # record 1: length 12
  00                #   attributes
  02                #   timestampDelta 1
  02                #   offsetDelta 1
  02 6b             #   keyLength 1, "k"
  02 76             #   valueLength 1, "v"
  02                #   header count 1
  02 68             #   header key length 1, "h"
  02 78             #   header value length 1, "x"
`);

const HAND_DERIVED_INPUT: EncodeBatchInput = {
  baseOffset: 5,
  compression: 'none',
  ...NOT_IDEMPOTENT,
  records: [
    { key: null, value: utf8('hi'), timestamp: 1000, headers: [] },
    { key: utf8('k'), value: utf8('v'), timestamp: 1001, headers: [{ key: 'h', value: utf8('x') }] },
  ],
};

/** Records exercising every field shape. */
function variedRecords(): RecordInput[] {
  return [
    { key: null, value: null, timestamp: 1_700_000_000_000, headers: [] },
    { key: new Uint8Array(0), value: new Uint8Array(0), timestamp: 1_699_999_999_000, headers: [] }, // negative delta
    {
      key: utf8('key-ü'),
      value: utf8('value'),
      timestamp: 1_700_000_000_500,
      headers: [
        { key: 'ключ', value: utf8('значение') },
        { key: '🔑 emoji', value: null },
        { key: '', value: new Uint8Array(0) },
        { key: 'dup', value: utf8('1') },
        { key: 'dup', value: utf8('2') },
      ],
    },
    {
      key: utf8('many-headers'),
      value: new Uint8Array(100_000).map((_, i) => i % 251),
      timestamp: 0,
      headers: Array.from({ length: 60 }, (_, i) => ({ key: `h${i}`, value: utf8(`v${i}`.repeat(i)) })),
    },
  ];
}

function expectRecordsMatch(batch: DecodedBatch, input: readonly RecordInput[], baseOffset: number): void {
  expect(batch.records.length).toBe(input.length);
  batch.records.forEach((record, i) => {
    const expected = input[i]!;
    expect(record.offset).toBe(baseOffset + i);
    expect(record.timestamp).toBe(expected.timestamp);
    expect(record.key === null ? null : toHex(record.key)).toBe(
      expected.key === null ? null : toHex(expected.key),
    );
    expect(record.value === null ? null : toHex(record.value)).toBe(
      expected.value === null ? null : toHex(expected.value),
    );
    expect(record.headers.map((h) => [h.key, h.value === null ? null : toHex(h.value)])).toEqual(
      expected.headers.map((h) => [h.key, h.value === null ? null : toHex(h.value)]),
    );
  });
}

describe('the hand-derived batch', () => {
  it('is what encodeRecordBatch writes, byte for byte', async () => {
    expect(HAND_DERIVED.length).toBe(83);
    expect(crc32c(HAND_DERIVED.subarray(21))).toBe(0xc53bacb1);
    expect(toHex(await encodeRecordBatch(HAND_DERIVED_INPUT))).toBe(toHex(HAND_DERIVED));
  });

  it('decodes to its fields', async () => {
    const batch = await decodeRecordBatch(HAND_DERIVED);
    expect({ ...batch, records: undefined }).toEqual({
      baseOffset: 5,
      batchLength: 71,
      partitionLeaderEpoch: -1,
      magic: 2,
      crc: 0xc53bacb1,
      compression: 'none',
      timestampType: 'create',
      isTransactional: false,
      isControl: false,
      lastOffsetDelta: 1,
      baseTimestamp: 1000,
      maxTimestamp: 1001,
      producerId: -1n,
      producerEpoch: -1,
      baseSequence: -1,
      recordCount: 2,
      records: undefined,
    });
    expectRecordsMatch(batch, HAND_DERIVED_INPUT.records, 5);
  });

  it('has a 61-byte header', () => {
    expect(RECORD_BATCH_OVERHEAD).toBe(61);
    expect(HAND_DERIVED.length - RECORD_BATCH_OVERHEAD).toBe(22);
  });
});

describe.each(CODECS)('round trips with %s', (compression) => {
  it('keeps every record field: null and empty keys and values, headers, negative timestamp deltas', async () => {
    const records = variedRecords();
    const bytes = await encodeRecordBatch({ baseOffset: 42, records, compression, ...NOT_IDEMPOTENT });
    const batch = await decodeRecordBatch(bytes);
    expect(batch.compression).toBe(compression);
    expect(batch.recordCount).toBe(4);
    expect(batch.lastOffsetDelta).toBe(3);
    expect(batch.baseTimestamp).toBe(1_700_000_000_000);
    expect(batch.maxTimestamp).toBe(1_700_000_000_500);
    expectRecordsMatch(batch, records, 42);
    if (compression !== 'none') {
      const plain = await encodeRecordBatch({
        baseOffset: 42,
        records,
        compression: 'none',
        ...NOT_IDEMPOTENT,
      });
      expect(bytes.length).toBeLessThan(plain.length);
    }
  });

  it('keeps producer id, epoch and sequence, flags, epoch and timestamp type', async () => {
    const records = variedRecords().slice(0, 3);
    const bytes = await encodeRecordBatch({
      baseOffset: Number.MAX_SAFE_INTEGER - 10,
      records,
      compression,
      producerId: 2n ** 62n + 12345n,
      producerEpoch: 32767,
      baseSequence: 2 ** 31 - 1,
      isTransactional: true,
      isControl: true,
      partitionLeaderEpoch: 7,
      timestampType: 'log-append',
    });
    const batch = await decodeRecordBatch(bytes);
    expect(batch).toMatchObject({
      baseOffset: Number.MAX_SAFE_INTEGER - 10,
      producerId: 2n ** 62n + 12345n,
      producerEpoch: 32767,
      baseSequence: 2 ** 31 - 1,
      isTransactional: true,
      isControl: true,
      partitionLeaderEpoch: 7,
      timestampType: 'log-append',
      maxTimestamp: 1_700_000_000_500,
    });
    // With log-append time every record carries the batch's max timestamp, as in Kafka.
    expect(batch.records.map((r) => r.timestamp)).toEqual([
      1_700_000_000_500, 1_700_000_000_500, 1_700_000_000_500,
    ]);
    expect(batch.records.map((r) => r.offset)).toEqual(
      [0, 1, 2].map((d) => Number.MAX_SAFE_INTEGER - 10 + d),
    );
  });

  it('encodes a void batch covering 10 offsets with no records', async () => {
    const bytes = await encodeRecordBatch({
      baseOffset: 100,
      records: [],
      lastOffsetDelta: 9,
      compression,
      isControl: true,
      ...NOT_IDEMPOTENT,
    });
    const batch = await decodeRecordBatch(bytes);
    expect(batch).toMatchObject({
      baseOffset: 100,
      lastOffsetDelta: 9,
      recordCount: 0,
      isControl: true,
      baseTimestamp: -1,
      maxTimestamp: -1,
      records: [],
    });
    if (compression === 'none') expect(bytes.length).toBe(RECORD_BATCH_OVERHEAD);
  });

  it('covers more offsets than records when lastOffsetDelta says so', async () => {
    const records = variedRecords().slice(0, 2);
    const bytes = await encodeRecordBatch({
      baseOffset: 0,
      records,
      lastOffsetDelta: 4,
      compression,
      ...NOT_IDEMPOTENT,
    });
    const batch = await decodeRecordBatch(bytes);
    expect(batch.lastOffsetDelta).toBe(4);
    expect(batch.records.map((r) => r.offset)).toEqual([0, 1]);
  });
});

describe('corruption', () => {
  const sampleBatch = (compression: Compression = 'none'): Promise<Uint8Array> =>
    encodeRecordBatch({ baseOffset: 9, records: variedRecords(), compression, ...NOT_IDEMPOTENT });

  it.each(CODECS)('a flipped byte anywhere from the CRC to the end fails (%s)', async (compression) => {
    const bytes = await sampleBatch(compression);
    for (const position of [17, 21, 30, 57, 61, 70, Math.floor(bytes.length / 2), bytes.length - 1]) {
      const corrupt = bytes.slice();
      corrupt[position]! ^= 0x10;
      await expect(decodeRecordBatch(corrupt, 'orders[3]@9'), `byte ${position}`).rejects.toThrow(
        CorruptRecordError,
      );
      expect(() => verifyBatchCrc(corrupt)).toThrow(/CRC-32C mismatch/);
    }
    await expect(
      decodeRecordBatch(
        Uint8Array.from(bytes, (b, i) => (i === 70 ? b ^ 1 : b)),
        'orders[3]@9',
      ),
    ).rejects.toThrow('(in orders[3]@9)');
  });

  it('truncation at any length fails', async () => {
    const bytes = await sampleBatch();
    for (const length of [0, 8, 16, 17, 40, 60, 61, 62, 100, bytes.length - 1]) {
      await expect(decodeRecordBatch(bytes.subarray(0, length)), `length ${length}`).rejects.toThrow(
        CorruptRecordError,
      );
    }
  });

  it('a magic other than 2 fails, even for a header read', async () => {
    for (const magic of [0, 1, 3]) {
      const bytes = (await sampleBatch()).slice();
      bytes[16] = magic;
      await expect(decodeRecordBatch(bytes)).rejects.toThrow(/magic/);
      expect(() => readBatchHeader(bytes)).toThrow(/magic/);
    }
  });

  it('trailing bytes or a wrong batchLength fail', async () => {
    const bytes = await sampleBatch();
    await expect(decodeRecordBatch(Uint8Array.of(...bytes, 0))).rejects.toThrow(/length field/);
    const wrongLength = bytes.slice();
    new DataView(wrongLength.buffer).setInt32(8, bytes.length - 13);
    await expect(decodeRecordBatch(wrongLength)).rejects.toThrow(/length field/);
  });

  it('a wrong record count fails even with a valid CRC', async () => {
    const bytes = await sampleBatch();
    for (const count of [3, 1, -1, 1000]) {
      const changed = bytes.slice();
      new DataView(changed.buffer).setInt32(57, count);
      await expect(decodeRecordBatch(withFreshCrc(changed)), `count ${count}`).rejects.toThrow(
        CorruptRecordError,
      );
    }
  });

  it('bad record structure fails even with a valid CRC', async () => {
    const bytes = await encodeRecordBatch(HAND_DERIVED_INPUT);
    const cases: Record<string, (b: Uint8Array) => void> = {
      'record length too long': (b) => {
        b[61] = 0x12;
      },
      'record length too short': (b) => {
        b[61] = 0x0e;
      },
      'varint running past the record': (b) => {
        b[69] = 0x80; // record 0's header count
      },
      'timestamp delta swallowing the offset delta': (b) => {
        b[63] = 0x80;
      },
      'key length below -1': (b) => {
        b[65] = 0x03;
      },
      'offset delta repeated': (b) => {
        b[73] = 0x00;
      },
      'offset delta past lastOffsetDelta': (b) => {
        b[73] = 0x04;
      },
      'header key not UTF-8': (b) => {
        b[80] = 0xff;
      },
      'unknown codec id': (b) => {
        b[22] = 0x05;
      },
    };
    for (const [name, mutate] of Object.entries(cases)) {
      const changed = bytes.slice();
      mutate(changed);
      await expect(decodeRecordBatch(withFreshCrc(changed)), name).rejects.toThrow(CorruptRecordError);
    }
  });

  it.each(CODECS.filter((c) => c !== 'none'))(
    'undecompressable records fail with the location (%s)',
    async (codec) => {
      const bytes = (await sampleBatch(codec)).slice();
      bytes.fill(0x33, 65, 90);
      await expect(decodeRecordBatch(withFreshCrc(bytes), 'orders[0]@9')).rejects.toThrow(/in orders\[0\]@9/);
    },
  );

  it('int64 fields outside the safe integer range fail', async () => {
    const bytes = await sampleBatch();
    const bigOffset = bytes.slice();
    new DataView(bigOffset.buffer).setBigInt64(0, 2n ** 53n); // baseOffset is outside the CRC
    await expect(decodeRecordBatch(bigOffset)).rejects.toThrow(/baseOffset 9007199254740992/);
    const bigTimestamp = bytes.slice();
    new DataView(bigTimestamp.buffer).setBigInt64(35, -(2n ** 60n));
    await expect(decodeRecordBatch(withFreshCrc(bigTimestamp))).rejects.toThrow(/maxTimestamp/);
    expect(() => readBatchHeader(withFreshCrc(bigTimestamp))).toThrow(CorruptRecordError);
  });
});

describe('readBatchHeader', () => {
  it('reads the first header of a concatenation, without checking the CRC', async () => {
    const first = await encodeRecordBatch(HAND_DERIVED_INPUT);
    const second = await encodeRecordBatch({ ...HAND_DERIVED_INPUT, baseOffset: 7, compression: 'lz4' });
    const damaged = first.slice();
    damaged[70]! ^= 0xff;
    const header = readBatchHeader(Uint8Array.of(...damaged, ...second));
    expect(header).toMatchObject({ baseOffset: 5, recordCount: 2, batchLength: 71, crc: 0xc53bacb1 });
    expect(header).not.toHaveProperty('records');
    expect(readBatchHeader(second).compression).toBe('lz4');
  });

  it('rejects a header whose batch is cut short', async () => {
    const bytes = await encodeRecordBatch(HAND_DERIVED_INPUT);
    expect(() => readBatchHeader(bytes.subarray(0, 70))).toThrow(/length field/);
    expect(() => readBatchHeader(bytes.subarray(0, 60))).toThrow(/truncated/);
  });
});

describe('setBaseOffset', () => {
  it('returns a copy with the new base offset and the same, still valid, CRC', async () => {
    const original = await encodeRecordBatch({ ...HAND_DERIVED_INPUT, compression: 'zstd' });
    const moved = setBaseOffset(original, 1_000_000_000_000);
    expect(readBatchHeader(original).baseOffset).toBe(5);
    expect(toHex(moved.subarray(8))).toBe(toHex(original.subarray(8)));
    verifyBatchCrc(moved);
    const batch = await decodeRecordBatch(moved);
    expect(batch.records.map((r) => r.offset)).toEqual([1_000_000_000_000, 1_000_000_000_001]);
  });

  it('copies a Buffer too (whose slice would share memory)', async () => {
    const original = Buffer.from(await encodeRecordBatch(HAND_DERIVED_INPUT));
    setBaseOffset(original, 77);
    expect(readBatchHeader(original).baseOffset).toBe(5);
  });

  it('rejects an invalid offset or non-batch bytes', () => {
    expect(() => setBaseOffset(HAND_DERIVED, -1)).toThrow(InvalidArgumentError);
    expect(() => setBaseOffset(HAND_DERIVED, 2 ** 53)).toThrow(InvalidArgumentError);
    expect(() => setBaseOffset(HAND_DERIVED.subarray(0, 30), 1)).toThrow(CorruptRecordError);
  });
});

describe('decodeRecordBatches', () => {
  it('decodes a concatenation of batches (a .log segment), in order', async () => {
    const batches = await Promise.all(
      CODECS.map((compression, i) =>
        encodeRecordBatch({ ...HAND_DERIVED_INPUT, baseOffset: 10 * i, compression }).then((b) =>
          setBaseOffset(b, 10 * i),
        ),
      ),
    );
    const segment = Buffer.concat(batches);
    const decoded = await decodeRecordBatches(segment);
    expect(decoded.map((b) => [b.baseOffset, b.compression])).toEqual(CODECS.map((c, i) => [10 * i, c]));
    expect(await decodeRecordBatches(new Uint8Array(0))).toEqual([]);
  });

  it('rejects a segment ending inside a batch, naming the byte position', async () => {
    const one = await encodeRecordBatch(HAND_DERIVED_INPUT);
    const segment = Buffer.concat([one, one, one.subarray(0, 40)]);
    await expect(decodeRecordBatches(segment, 'segment-0')).rejects.toThrow('(in segment-0, byte 166)');
    await expect(decodeRecordBatches(Buffer.concat([one, one.subarray(0, 5)]))).rejects.toThrow(
      CorruptRecordError,
    );
  });
});

describe('encode validation', () => {
  const base = HAND_DERIVED_INPUT;
  const cases: Record<string, Partial<EncodeBatchInput>> = {
    'no records and no lastOffsetDelta': { records: [] },
    'lastOffsetDelta below the last record': { lastOffsetDelta: 0 },
    'negative baseOffset': { baseOffset: -1 },
    'fractional baseOffset': { baseOffset: 1.5 },
    'producerEpoch beyond int16': { producerEpoch: 40_000 },
    'baseSequence beyond int32': { baseSequence: 2 ** 31 },
    'producerId beyond int64': { producerId: 2n ** 63n },
    'unsafe timestamp': { records: [{ key: null, value: null, timestamp: 2 ** 53, headers: [] }] },
    'timestamp delta too large': {
      records: [
        { key: null, value: null, timestamp: -(2 ** 52), headers: [] },
        { key: null, value: null, timestamp: 2 ** 52 + 1, headers: [] },
      ],
    },
    'unknown compression': { compression: 'brotli' as Compression },
  };
  it.each(Object.entries(cases))('rejects %s', async (_name, change) => {
    await expect(encodeRecordBatch({ ...base, ...change })).rejects.toThrow(InvalidArgumentError);
  });
});
