/**
 * Cross-checks with kafkajs's own RecordBatch v2 encoder and decoder. kafkajs ships gzip only;
 * snappy, lz4 and zstd are plug-ins, registered here in the shape of the published ones:
 * - snappy like kafkajs-snappy (raw Snappy block on write; xerial framing or raw on read), with
 *   snappyjs standing in for the native `snappy` package;
 * - lz4 like kafkajs-lz4 (an LZ4 frame each way), with lz4js standing in for the `lz4` package;
 * - zstd like @kafkajs/zstd (a Zstandard frame), with node:zlib standing in for cppzst.
 * What this proves is batch-level agreement (layout, CRC, record encoding, how compressed records
 * sit in the batch) and that each codec reads what the plug-in's algorithm writes and vice versa.
 */
import { promisify } from 'node:util';
import { zstdCompress, zstdDecompress } from 'node:zlib';
import Decoder from 'kafkajs/src/protocol/decoder.js';
import { Codecs, type KafkajsCodec } from 'kafkajs/src/protocol/message/compression/index.js';
import Record, { type KafkajsHeaders } from 'kafkajs/src/protocol/recordBatch/record/v0/index.js';
import kafkajsDecodeBatch from 'kafkajs/src/protocol/recordBatch/v0/decoder.js';
import { RecordBatch } from 'kafkajs/src/protocol/recordBatch/v0/index.js';
import { compress as lz4jsCompress, decompress as lz4jsDecompress } from 'lz4js';
import { compress as snappyjsCompress, uncompress as snappyjsUncompress } from 'snappyjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Compression, compressionCode } from '../../../sdk/src/log/compression.ts';
import { decodeRecordBatch, encodeRecordBatch, type RecordInput } from '../../../sdk/src/log/record-batch.ts';

const CODECS: readonly Compression[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];
const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
const zstdCompressAsync = promisify(zstdCompress);
const zstdDecompressAsync = promisify(zstdDecompress);

const PLUG_INS: Record<number, () => KafkajsCodec> = {
  2: () => ({
    compress: async (encoder) => Buffer.from(snappyjsCompress(encoder.buffer)),
    async decompress(buffer) {
      if (!buffer.subarray(0, 8).equals(XERIAL_MAGIC)) return Buffer.from(snappyjsUncompress(buffer));
      const blocks: Buffer[] = [];
      for (let pos = 16; pos + 4 <= buffer.length; ) {
        const size = buffer.readUInt32BE(pos);
        blocks.push(Buffer.from(snappyjsUncompress(buffer.subarray(pos + 4, pos + 4 + size))));
        pos += 4 + size;
      }
      return Buffer.concat(blocks);
    },
  }),
  3: () => ({
    compress: async (encoder) => Buffer.from(lz4jsCompress(encoder.buffer)),
    decompress: async (buffer) => Buffer.from(lz4jsDecompress(buffer)),
  }),
  4: () => ({
    compress: (encoder) => zstdCompressAsync(encoder.buffer),
    decompress: (buffer) => zstdDecompressAsync(buffer),
  }),
};

const saved = new Map<number, () => KafkajsCodec>();
beforeAll(() => {
  for (const [id, factory] of Object.entries(PLUG_INS)) {
    const previous = Codecs[Number(id)];
    if (previous) saved.set(Number(id), previous);
    Codecs[Number(id)] = factory;
  }
});
afterAll(() => {
  for (const [id, factory] of saved) Codecs[id] = factory;
});

const utf8 = (s: string): Buffer => Buffer.from(s, 'utf8');
const BASE_TIMESTAMP = 1_700_000_000_000;

/** Records both sides can express (kafkajs cannot encode a null header value). */
const RECORDS: readonly RecordInput[] = [
  { key: null, value: utf8('first'), timestamp: BASE_TIMESTAMP, headers: [] },
  {
    key: utf8('k2'),
    value: null,
    timestamp: BASE_TIMESTAMP + 5,
    headers: [{ key: 'trace', value: utf8('abc') }],
  },
  {
    key: utf8('k3'),
    value: Buffer.alloc(5000, 'x'),
    timestamp: BASE_TIMESTAMP + 9,
    headers: [
      { key: 'ключ', value: utf8('значение') },
      { key: 'dup', value: utf8('1') },
      { key: 'dup', value: utf8('2') },
    ],
  },
  { key: utf8(''), value: utf8(''), timestamp: BASE_TIMESTAMP + 2, headers: [] }, // backwards in time
];

function kafkajsHeaders(record: RecordInput): KafkajsHeaders {
  const headers: KafkajsHeaders = {};
  for (const { key, value } of record.headers) {
    const existing = headers[key];
    const buffer = Buffer.from(value ?? new Uint8Array(0));
    if (existing === undefined) headers[key] = buffer;
    else headers[key] = Array.isArray(existing) ? [...existing, buffer] : [existing as Buffer, buffer];
  }
  return headers;
}

async function kafkajsEncode(compression: Compression, baseOffset: number): Promise<Buffer> {
  const encoded = await RecordBatch({
    compression: compressionCode(compression),
    firstOffset: BigInt(baseOffset),
    firstTimestamp: BASE_TIMESTAMP,
    maxTimestamp: BASE_TIMESTAMP + 9,
    partitionLeaderEpoch: 0,
    lastOffsetDelta: RECORDS.length - 1,
    transactional: true,
    producerId: 77n,
    producerEpoch: 2,
    firstSequence: 10,
    records: RECORDS.map((r, i) =>
      Record({
        offsetDelta: i,
        timestampDelta: r.timestamp - BASE_TIMESTAMP,
        key: r.key === null ? null : Buffer.from(r.key),
        value: r.value === null ? null : Buffer.from(r.value),
        headers: kafkajsHeaders(r),
      }),
    ),
  });
  return encoded.buffer;
}

const ours = (compression: Compression, baseOffset: number): Promise<Uint8Array> =>
  encodeRecordBatch({
    baseOffset,
    records: RECORDS,
    compression,
    producerId: 77n,
    producerEpoch: 2,
    baseSequence: 10,
    isTransactional: true,
    partitionLeaderEpoch: 0,
  });

describe.each(CODECS)('kafkajs interoperability, %s', (compression) => {
  it('kafkajs-encoded batches decode with ours (CRC included) to the same fields', async () => {
    const batch = await decodeRecordBatch(await kafkajsEncode(compression, 1000));
    expect(batch).toMatchObject({
      baseOffset: 1000,
      compression,
      isTransactional: true,
      isControl: false,
      lastOffsetDelta: 3,
      baseTimestamp: BASE_TIMESTAMP,
      maxTimestamp: BASE_TIMESTAMP + 9,
      producerId: 77n,
      producerEpoch: 2,
      baseSequence: 10,
      partitionLeaderEpoch: 0,
      recordCount: 4,
    });
    batch.records.forEach((record, i) => {
      const expected = RECORDS[i]!;
      expect(record.offset).toBe(1000 + i);
      expect(record.timestamp).toBe(expected.timestamp);
      expect(record.key && Buffer.from(record.key)).toEqual(expected.key && Buffer.from(expected.key));
      expect(record.value && Buffer.from(record.value)).toEqual(
        expected.value && Buffer.from(expected.value),
      );
      expect(record.headers.map((h) => [h.key, Buffer.from(h.value ?? [])])).toEqual(
        expected.headers.map((h) => [h.key, Buffer.from(h.value ?? [])]),
      );
    });
  });

  it('our batches decode with kafkajs to the same fields', async () => {
    const decoded = await kafkajsDecodeBatch(new Decoder(Buffer.from(await ours(compression, 1000))));
    expect(decoded).toMatchObject({
      firstOffset: '1000',
      firstTimestamp: String(BASE_TIMESTAMP),
      maxTimestamp: String(BASE_TIMESTAMP + 9),
      partitionLeaderEpoch: 0,
      inTransaction: true,
      isControlBatch: false,
      lastOffsetDelta: 3,
      producerId: '77',
      producerEpoch: 2,
      firstSequence: 10,
    });
    expect(decoded.records.map((r) => [r.offset, r.timestamp])).toEqual(
      RECORDS.map((r, i) => [String(1000 + i), String(r.timestamp)]),
    );
    expect(decoded.records.map((r) => [r.key, r.value])).toEqual(
      RECORDS.map((r) => [r.key && Buffer.from(r.key), r.value && Buffer.from(r.value)]),
    );
    expect(decoded.records.map((r) => r.headers)).toEqual(RECORDS.map(kafkajsHeaders));
  });
});

describe('kafkajs byte equality', () => {
  it.each(['none', 'gzip'] as const)(
    'ours and kafkajs write identical bytes for the same batch (%s)',
    async (codec) => {
      // Both use node:zlib's default gzip settings, so even the compressed bytes agree.
      expect(Buffer.from(await ours(codec, 1000)).toString('hex')).toBe(
        (await kafkajsEncode(codec, 1000)).toString('hex'),
      );
    },
  );

  it('kafkajs decodes our control and void batches', async () => {
    const bytes = await encodeRecordBatch({
      baseOffset: 50,
      records: [],
      lastOffsetDelta: 9,
      compression: 'none',
      isControl: true,
      producerId: -1n,
      producerEpoch: -1,
      baseSequence: -1,
    });
    const decoded = await kafkajsDecodeBatch(new Decoder(Buffer.from(bytes)));
    expect(decoded).toMatchObject({
      firstOffset: '50',
      isControlBatch: true,
      lastOffsetDelta: 9,
      records: [],
    });
  });
});
