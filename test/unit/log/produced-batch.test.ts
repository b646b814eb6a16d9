/**
 * Checks of batches as Kafka producers send them (`produced-batch.ts`): what is accepted as it is,
 * what is corrected (maxTimestamp, with the CRC), and every problem, as a value.
 */
import { describe, expect, it } from 'vitest';
import { crc32c } from '../../../sdk/src/log/crc32c.ts';
import {
  type BatchProblem,
  inspectProducedBatch,
  isBatchProblem,
  type ProducedBatch,
  withLogAppendTime,
} from '../../../sdk/src/log/produced-batch.ts';
import {
  decodeRecordBatch,
  type EncodeBatchInput,
  encodeRecordBatch,
} from '../../../sdk/src/log/record-batch.ts';

const record = (value: string, timestamp: number) => ({
  key: null,
  value: Buffer.from(value),
  timestamp,
  headers: [],
});

function encode(overrides: Partial<EncodeBatchInput> = {}): Promise<Uint8Array> {
  return encodeRecordBatch({
    baseOffset: 0,
    records: [record('a', 1000), record('b', 1001)],
    compression: 'none',
    producerId: -1n,
    producerEpoch: -1,
    baseSequence: -1,
    ...overrides,
  });
}

async function accepted(bytes: Uint8Array): Promise<ProducedBatch> {
  const result = await inspectProducedBatch(bytes);
  if (isBatchProblem(result)) throw new Error(`refused: ${result.message}`);
  return result;
}

async function refused(bytes: Uint8Array): Promise<BatchProblem> {
  const result = await inspectProducedBatch(bytes);
  if (!isBatchProblem(result)) throw new Error('accepted');
  return result;
}

function reseal(bytes: Uint8Array): Uint8Array {
  new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).setUint32(17, crc32c(bytes.subarray(21)));
  return bytes;
}

describe('inspectProducedBatch', () => {
  it('accepts a valid batch and keeps its bytes', async () => {
    const bytes = await encode({ compression: 'lz4', producerId: 5n, producerEpoch: 0, baseSequence: 7 });
    const batch = await accepted(bytes);
    expect(batch.bytes).toBe(bytes);
    expect(batch.records.map((r) => Buffer.from(r.value!).toString())).toEqual(['a', 'b']);
    expect(batch.maxTimestamp).toBe(1001);
    expect(batch.producer).toEqual({ producerId: 5n, producerEpoch: 0, baseSequence: 7 });
    expect(batch.header.compression).toBe('lz4');
  });

  it('refuses corruption: a CRC mismatch, another magic, truncation, bytes that do not decompress', async () => {
    const flipped = await encode();
    flipped[flipped.length - 1]! ^= 1;
    expect((await refused(flipped)).kind).toBe('corrupt');
    const magic = await encode();
    magic[16] = 1;
    expect(await refused(magic)).toMatchObject({
      kind: 'corrupt',
      message: expect.stringMatching(/magic 1/),
    });
    expect((await refused((await encode()).subarray(0, 40))).kind).toBe('corrupt');
    const zstd = await encode({ compression: 'zstd' });
    zstd.fill(0x55, 61);
    expect((await refused(reseal(zstd))).kind).toBe('corrupt');
  });

  it('refuses what Kafka refuses of a producer: two batches, control and transactional batches, LogAppendTime, no records, gaps in offsets, bad producer fields', async () => {
    const two = Buffer.concat([await encode(), await encode()]);
    expect(await refused(two)).toMatchObject({
      kind: 'invalid',
      message: expect.stringMatching(/exactly one batch/),
    });
    expect((await refused(await encode({ isControl: true }))).kind).toBe('invalid');
    expect(
      (
        await refused(
          await encode({ isTransactional: true, producerId: 1n, producerEpoch: 0, baseSequence: 0 }),
        )
      ).kind,
    ).toBe('transactional');
    expect((await refused(await encode({ timestampType: 'log-append' }))).kind).toBe('invalid');
    expect(await refused(await encode({ records: [], lastOffsetDelta: 0 }))).toMatchObject({
      kind: 'invalid',
      message: 'The batch holds no records',
    });
    expect((await refused(await encode({ lastOffsetDelta: 4 }))).kind).toBe('invalid');
    expect((await refused(await encode({ producerId: 3n, producerEpoch: -1, baseSequence: 0 }))).kind).toBe(
      'invalid',
    );
    expect((await refused(await encode({ producerId: 3n, producerEpoch: 0, baseSequence: -1 }))).kind).toBe(
      'invalid',
    );
    expect((await refused(await encode({ producerId: -5n }))).kind).toBe('invalid');
  });

  it('corrects a maxTimestamp that is not the largest record timestamp, recomputing the CRC', async () => {
    const bytes = await encode({ records: [record('late', 5000), record('early', 1000)] });
    new DataView(bytes.buffer, bytes.byteOffset).setBigInt64(35, 1000n);
    const batch = await accepted(reseal(bytes));
    expect(batch.bytes).not.toBe(bytes);
    expect(batch.maxTimestamp).toBe(5000);
    const decoded = await decodeRecordBatch(batch.bytes);
    expect(decoded.maxTimestamp).toBe(5000);
    expect(Buffer.from(batch.bytes.subarray(43))).toEqual(Buffer.from(bytes.subarray(43)));
  });
});

describe('withLogAppendTime', () => {
  it('sets the timestamp type and maxTimestamp to the append time, and the CRC with them', async () => {
    const stamped = withLogAppendTime(await encode(), 99_999);
    const decoded = await decodeRecordBatch(stamped);
    expect(decoded.timestampType).toBe('log-append');
    expect(decoded.maxTimestamp).toBe(99_999);
    expect(decoded.records.map((r) => r.timestamp)).toEqual([99_999, 99_999]);
  });
});
