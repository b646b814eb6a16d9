import { describe, expect, it } from 'vitest';
import {
  buildSegment,
  DEFAULT_INDEX_INTERVAL_BYTES,
  findOffsetForTimestamp,
  findPosition,
  MAX_SEGMENT_BATCH_BYTES,
  type SegmentBatch,
  splitBatches,
  verifySegment,
  wholeBatchesEnd,
} from '../../../sdk/src/archive/segment-format.ts';
import { CorruptRecordError, InvalidArgumentError } from '../../../sdk/src/errors.ts';
import { segmentObjectKeys } from '../../../sdk/src/keys.ts';
import type { Compression } from '../../../sdk/src/log/compression.ts';
import {
  decodeRecordBatch,
  decodeRecordBatches,
  encodeRecordBatch,
  RECORD_BATCH_OVERHEAD,
  type RecordInput,
  readBatchHeader,
  setBaseOffset,
} from '../../../sdk/src/log/record-batch.ts';
import { seededRandom, testSeed } from '../../helpers/random.ts';

const CODECS: readonly Compression[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];
const NOT_IDEMPOTENT = { producerId: -1n, producerEpoch: -1, baseSequence: -1 } as const;
const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+|#.*$/gm, ''), 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** A record of `valueBytes` bytes with a null key and no headers. */
function record(timestamp: number, valueBytes: number, fill = 0x61): RecordInput {
  return { key: null, value: new Uint8Array(valueBytes).fill(fill), timestamp, headers: [] };
}

/** Encodes at offset 0, then places the batch at `offset` as the log does. */
async function segmentBatch(
  offset: number,
  records: readonly RecordInput[],
  compression: Compression = 'none',
): Promise<SegmentBatch> {
  const encoded = await encodeRecordBatch({ baseOffset: 0, records, compression, ...NOT_IDEMPOTENT });
  return {
    offset,
    count: records.length,
    maxTimestamp: Math.max(...records.map((r) => r.timestamp)),
    bytes: setBaseOffset(encoded, offset),
  };
}

/** Contiguous batches from `base` with random counts, sizes, codecs and non-monotonic timestamps. */
async function randomBatches(random: () => number, base: number, n: number): Promise<SegmentBatch[]> {
  const batches: SegmentBatch[] = [];
  let offset = base;
  for (let i = 0; i < n; i++) {
    const count = 1 + Math.floor(random() * 6);
    const records = Array.from({ length: count }, () =>
      record(1000 + Math.floor(random() * 100) - 50, Math.floor(random() * 150), 0x61 + (i % 26)),
    );
    const batch = await segmentBatch(offset, records, CODECS[Math.floor(random() * CODECS.length)]!);
    batches.push(batch);
    offset += count;
  }
  return batches;
}

function concat(batches: readonly SegmentBatch[]): Uint8Array {
  return Uint8Array.from(Buffer.concat(batches.map((b) => b.bytes)));
}

/** The index entries, read independently of the module under test. */
function offsetEntries(index: Uint8Array): { relative: number; position: number }[] {
  const view = new DataView(index.buffer, index.byteOffset, index.byteLength);
  return Array.from({ length: index.length / 8 }, (_, i) => ({
    relative: view.getInt32(i * 8),
    position: view.getInt32(i * 8 + 4),
  }));
}

function timeEntries(timeIndex: Uint8Array): { timestamp: number; relative: number }[] {
  const view = new DataView(timeIndex.buffer, timeIndex.byteOffset, timeIndex.byteLength);
  return Array.from({ length: timeIndex.length / 12 }, (_, i) => ({
    timestamp: Number(view.getBigInt64(i * 12)),
    relative: view.getInt32(i * 12 + 8),
  }));
}

/** Byte position of each batch in the segment. */
function positions(batches: readonly SegmentBatch[]): number[] {
  const out: number[] = [];
  let pos = 0;
  for (const batch of batches) {
    out.push(pos);
    pos += batch.bytes.length;
  }
  return out;
}

function expectCorrupt(fn: () => unknown, location: string): CorruptRecordError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(CorruptRecordError);
    expect((error as CorruptRecordError).location).toContain(location);
    return error as CorruptRecordError;
  }
  throw new Error('expected a CorruptRecordError');
}

/**
 * A small segment computed by hand. Every record has a null key, a 30-byte value, no headers and
 * a timestamp within 63 ms of its batch's first, so each record is 37 bytes (length 1, attributes
 * 1, timestampDelta 1, offsetDelta 1, key 1, value 1 + 30, headers 1) and a batch of n records is
 * 61 + 37n bytes.
 *
 *   batch  offsets   records  bytes  position  timestamps          running max
 *   b0     100-101   2        135    0         1005, 1002          1005
 *   b1     102       1        98     135       1003                1005
 *   b2     103-105   3        172    233       1000, 1010, 1004    1010
 *   b3     106       1        98     405       1001                1010
 *   b4     107-108   2        135    503       1020, 999           1020
 *
 * With indexIntervalBytes 200: b0 is indexed; before b2, 135 + 98 = 233 ≥ 200 bytes were written
 * since the last entry, so b2 is indexed; before b3 only 172; before b4 172 + 98 = 270 ≥ 200, so
 * b4 is indexed.
 */
async function handSegmentBatches(): Promise<SegmentBatch[]> {
  return [
    await segmentBatch(100, [record(1005, 30), record(1002, 30)]),
    await segmentBatch(102, [record(1003, 30)]),
    await segmentBatch(103, [record(1000, 30), record(1010, 30), record(1004, 30)]),
    await segmentBatch(106, [record(1001, 30)]),
    await segmentBatch(107, [record(1020, 30), record(999, 30)]),
  ];
}

describe('segmentObjectKeys', () => {
  const ref = { topic: 'orders', incarnation: 'k3x9', partition: 7 };

  it("names the three objects by the 20-digit base offset, like Kafka's segment files", () => {
    expect(segmentObjectKeys(ref, 1234)).toEqual({
      log: 'orders/k3x9/7/00000000000000001234.log',
      index: 'orders/k3x9/7/00000000000000001234.index',
      timeIndex: 'orders/k3x9/7/00000000000000001234.timeindex',
    });
    expect(segmentObjectKeys(ref, 0).log).toBe('orders/k3x9/7/00000000000000000000.log');
    expect(segmentObjectKeys(ref, Number.MAX_SAFE_INTEGER).log).toBe(
      'orders/k3x9/7/00009007199254740991.log',
    );
  });

  it('sorts lexicographically in offset order', () => {
    const keys = [5, 40, 300, 2_000_000, 10].map((o) => segmentObjectKeys(ref, o).log);
    expect([...keys].sort()).toEqual([5, 10, 40, 300, 2_000_000].map((o) => segmentObjectKeys(ref, o).log));
  });

  it('rejects offsets that are not safe integers ≥ 0', () => {
    for (const bad of [-1, 1.5, Number.NaN, 2 ** 53]) {
      expect(() => segmentObjectKeys(ref, bad)).toThrow(InvalidArgumentError);
    }
  });
});

describe('buildSegment: a hand-computed segment', () => {
  it('has the batch sizes the layout above assumes', async () => {
    const batches = await handSegmentBatches();
    expect(batches.map((b) => b.bytes.length)).toEqual([135, 98, 172, 98, 135]);
    expect(positions(batches)).toEqual([0, 135, 233, 405, 503]);
  });

  it('concatenates the batches and indexes b0, b2 and b4 at interval 200', async () => {
    const batches = await handSegmentBatches();
    const segment = buildSegment(batches, { indexIntervalBytes: 200 });
    expect(toHex(segment.log)).toBe(toHex(concat(batches)));
    expect(toHex(segment.index)).toBe(
      toHex(
        hex(`
          00000000 00000000  # b0: relative offset 0 at position 0
          00000003 000000e9  # b2: relative offset 3 (offset 103) at position 233
          00000007 000001f7  # b4: relative offset 7 (offset 107) at position 503
        `),
      ),
    );
    expect(toHex(segment.timeIndex)).toBe(
      toHex(
        hex(`
          00000000000003ed 00000000  # running max 1005 through b0
          00000000000003f2 00000003  # running max 1010 through b2
          00000000000003fc 00000007  # running max 1020 through b4
        `),
      ),
    );
    expect(segment).toMatchObject({
      baseOffset: 100,
      endOffset: 109,
      batchCount: 5,
      bytes: 638,
      firstTimestamp: 1005,
      maxTimestamp: 1020,
    });
  });

  it('indexes every batch at interval 0 and only the first at a large interval', async () => {
    const batches = await handSegmentBatches();
    expect(offsetEntries(buildSegment(batches, { indexIntervalBytes: 0 }).index)).toEqual(
      [0, 135, 233, 405, 503].map((position, i) => ({ relative: [0, 2, 3, 6, 7][i], position })),
    );
    expect(
      timeEntries(buildSegment(batches, { indexIntervalBytes: 0 }).timeIndex).map((e) => e.timestamp),
    ).toEqual([1005, 1005, 1010, 1010, 1020]);
    expect(offsetEntries(buildSegment(batches, { indexIntervalBytes: 638 }).index)).toEqual([
      { relative: 0, position: 0 },
    ]);
    // Default 4096: a 638-byte segment has one entry.
    expect(DEFAULT_INDEX_INTERVAL_BYTES).toBe(4096);
    expect(buildSegment(batches).index.length).toBe(8);
    expect(buildSegment(batches).timeIndex.length).toBe(12);
  });

  it('looks offsets up: the greatest indexed batch at or before the target', async () => {
    const segment = buildSegment(await handSegmentBatches(), { indexIntervalBytes: 200 });
    const expected: Record<number, [number, number]> = {
      100: [100, 0],
      101: [100, 0],
      102: [100, 0],
      103: [103, 233],
      104: [103, 233],
      106: [103, 233],
      107: [107, 503],
      108: [107, 503],
      500: [107, 503],
    };
    for (const [target, [offset, position]] of Object.entries(expected)) {
      expect(findPosition(segment.index, 100, Number(target))).toEqual({ offset, position });
    }
    expect(findPosition(segment.index, 100, 99)).toEqual({ offset: 100, position: 0 });
    expect(findPosition(segment.index, 100, 0)).toEqual({ offset: 100, position: 0 });
  });

  it('looks timestamps up: the last entry whose running max is below the timestamp, else the first', async () => {
    const segment = buildSegment(await handSegmentBatches(), { indexIntervalBytes: 200 });
    const expected: Record<number, [number, number]> = {
      0: [100, 0],
      999: [100, 0],
      1005: [100, 0], // no running max is < 1005
      1006: [100, 0], // 1005 < 1006 ≤ 1010
      1010: [100, 0],
      1011: [103, 1],
      1020: [103, 1],
      1021: [107, 2], // nothing that recent: the scan from b4 finds no record
      5000: [107, 2],
    };
    for (const [t, [offset, entry]] of Object.entries(expected)) {
      expect(findOffsetForTimestamp(segment.timeIndex, 100, Number(t))).toEqual({ offset, entry });
    }
  });
});

describe('buildSegment: random segments', () => {
  it('writes the log as the concatenation, decodable as a Kafka segment, for every codec', async () => {
    const random = seededRandom(testSeed('segment layout'));
    const batches = await randomBatches(random, 5000, 30);
    expect(new Set(batches.map((b) => readBatchHeader(b.bytes).compression)).size).toBeGreaterThan(1);
    const segment = buildSegment(batches);
    expect(Buffer.from(segment.log).equals(Buffer.from(concat(batches)))).toBe(true);
    const end = 5000 + batches.reduce((n, b) => n + b.count, 0);
    expect(segment).toMatchObject({
      baseOffset: 5000,
      endOffset: end,
      batchCount: 30,
      bytes: segment.log.length,
      maxTimestamp: Math.max(...batches.map((b) => b.maxTimestamp)),
    });
    const decoded = await decodeRecordBatches(segment.log, 'segment');
    expect(decoded.flatMap((b) => b.records.map((r) => r.offset))).toEqual(
      Array.from({ length: end - 5000 }, (_, i) => 5000 + i),
    );
    expect(segment.firstTimestamp).toBe(decoded[0]!.records[0]!.timestamp);
  });

  it('places index entries exactly when indexIntervalBytes were written, paired with time entries', async () => {
    const random = seededRandom(testSeed('segment index points'));
    const batches = await randomBatches(random, 42, 40);
    const starts = positions(batches);
    const total = concat(batches).length;
    for (const interval of [0, 1, 100, 333, 1000, 4096, total, total + 1]) {
      const segment = buildSegment(batches, { indexIntervalBytes: interval });
      const entries = offsetEntries(segment.index);
      expect(entries[0]).toEqual({ relative: 0, position: 0 });
      // Each entry is a batch start, named by that batch's relative base offset.
      const indexed = entries.map((e) => starts.indexOf(e.position));
      expect(indexed).not.toContain(-1);
      entries.forEach((e, i) => {
        expect(e.relative).toBe(batches[indexed[i]!]!.offset - 42);
      });
      // The next entry comes at the first batch after at least `interval` bytes, never later.
      const boundaries = [...indexed, batches.length];
      for (let i = 0; i + 1 < boundaries.length; i++) {
        const from = starts[boundaries[i]!]!;
        const to = boundaries[i + 1]! === batches.length ? total : starts[boundaries[i + 1]!]!;
        const lastBatch = batches[boundaries[i + 1]! - 1]!.bytes.length;
        if (boundaries[i + 1]! < batches.length) expect(to - from).toBeGreaterThanOrEqual(interval);
        expect(to - from - lastBatch).toBeLessThan(Math.max(interval, 1));
      }
      // Time entries: same batches, running max through each.
      const times = timeEntries(segment.timeIndex);
      expect(times.map((t) => t.relative)).toEqual(entries.map((e) => e.relative));
      times.forEach((t, i) => {
        const through = batches.slice(0, indexed[i]! + 1).map((b) => b.maxTimestamp);
        expect(t.timestamp).toBe(Math.max(...through));
      });
      if (interval === 0) expect(entries).toHaveLength(batches.length);
      if (interval >= total) expect(entries).toHaveLength(1);
    }
  });

  it('findPosition: for every offset, the batch there contains or precedes it and no later indexed batch does', async () => {
    const random = seededRandom(testSeed('segment findPosition'));
    const batches = await randomBatches(random, 777, 25);
    const end = 777 + batches.reduce((n, b) => n + b.count, 0);
    for (const interval of [0, 150, 600, 1_000_000]) {
      const segment = buildSegment(batches, { indexIntervalBytes: interval });
      const entries = offsetEntries(segment.index);
      for (let target = 770; target < end + 3; target++) {
        const found = findPosition(segment.index, 777, target, 'seg.index');
        if (target < 777) {
          expect(found).toEqual({ offset: 777, position: 0 });
          continue;
        }
        const { batches: from } = splitBatches(segment.log.subarray(found.position), 'seg.log');
        expect(readBatchHeader(from[0]!).baseOffset).toBe(found.offset);
        expect(found.offset).toBeLessThanOrEqual(target);
        for (const later of entries.filter((e) => e.position > found.position)) {
          expect(777 + later.relative).toBeGreaterThan(target);
        }
        if (target < end) {
          // Scanning forward from the position reaches the batch holding the target.
          const holder = from.find((b) => {
            const h = readBatchHeader(b);
            return h.baseOffset <= target && target <= h.baseOffset + h.lastOffsetDelta;
          });
          expect(holder).toBeDefined();
        }
      }
    }
  });

  it('wholeBatchesEnd: a read from any indexed batch to it holds whole batches, as many as fit', async () => {
    const random = seededRandom(testSeed('segment wholeBatchesEnd'));
    const batches = await randomBatches(random, 40, 30);
    const starts = batches.map((_, i) => batches.slice(0, i).reduce((n, b) => n + b.bytes.length, 0));
    for (const interval of [0, 150, 600, 1_000_000]) {
      const segment = buildSegment(batches, { indexIntervalBytes: interval });
      const positions = offsetEntries(segment.index).map((e) => e.position);
      for (const from of positions) {
        for (let want = from + 1; want <= segment.bytes + 10; want += 37) {
          const end = wholeBatchesEnd(segment.index, from, want, segment.bytes, 'seg.index');
          // Ends at a batch start (or the segment's end) after `from`: the read splits with nothing left over.
          expect(end).toBeGreaterThan(from);
          expect([...starts, segment.bytes]).toContain(end);
          expect(splitBatches(segment.log.subarray(from, end), 'seg.log').rest).toBe(0);
          if (want >= segment.bytes) expect(end).toBe(segment.bytes);
          else if (end > want) {
            // Longer than asked only when no indexed batch start lies in (from, want].
            expect(positions.filter((p) => p > from && p <= want)).toEqual([]);
            expect(positions.filter((p) => p > want && p < end)).toEqual([]);
          } else {
            // Otherwise the last indexed start within reach: no later one fits.
            expect(positions.filter((p) => p > end && p <= want)).toEqual([]);
          }
        }
      }
    }
  });

  it('findOffsetForTimestamp: scanning from the entry finds the first record at least that recent', async () => {
    const random = seededRandom(testSeed('segment timestamps'));
    const batches = await randomBatches(random, 300, 25);
    const records = (await Promise.all(batches.map((b) => decodeRecordBatch(b.bytes)))).flatMap((b) =>
      b.records.map((r) => ({ offset: r.offset, timestamp: r.timestamp })),
    );
    // Timestamps go backwards somewhere: the index must cope with that.
    expect(records.some((r, i) => i > 0 && r.timestamp < records[i - 1]!.timestamp)).toBe(true);
    const batchEnd = (offset: number): number => {
      const batch = batches.find((b) => b.offset === offset)!;
      return batch.offset + batch.count;
    };
    for (const interval of [0, 200, 800]) {
      const segment = buildSegment(batches, { indexIntervalBytes: interval });
      const entries = timeEntries(segment.timeIndex);
      for (let t = 940; t <= 1060; t++) {
        const start = findOffsetForTimestamp(segment.timeIndex, 300, t, 'seg.timeindex');
        const expected = records.find((r) => r.timestamp >= t)?.offset;
        // Safe: nothing before the start batch is that recent (nor in it, unless it is entry 0).
        expect(records.filter((r) => r.offset < start.offset && r.timestamp >= t)).toEqual([]);
        if (start.entry > 0) {
          expect(records.filter((r) => r.offset < batchEnd(start.offset) && r.timestamp >= t)).toEqual([]);
        }
        // Tight: the next entry's batch (or one before it) has a record that recent.
        const next = entries[start.entry + 1];
        if (next !== undefined) {
          const nextEnd = batchEnd(300 + next.relative);
          expect(records.some((r) => r.offset < nextEnd && r.timestamp >= t)).toBe(true);
        }
        // The offset is an indexed batch: findPosition maps it exactly; scanning from there works.
        const at = findPosition(segment.index, 300, start.offset);
        expect(at.offset).toBe(start.offset);
        const { batches: from } = splitBatches(segment.log.subarray(at.position), 'seg.log');
        let hit: number | undefined;
        for (const bytes of from) {
          hit = (await decodeRecordBatch(bytes)).records.find((r) => r.timestamp >= t)?.offset;
          if (hit !== undefined) break;
        }
        expect(hit).toBe(expected);
      }
    }
  });

  it('keeps firstTimestamp absent until a batch has records', async () => {
    const voidBatch = async (offset: number, count: number): Promise<SegmentBatch> => {
      const bytes = await encodeRecordBatch({
        baseOffset: offset,
        records: [],
        lastOffsetDelta: count - 1,
        compression: 'none',
        isControl: true,
        ...NOT_IDEMPOTENT,
      });
      return { offset, count, maxTimestamp: -1, bytes };
    };
    const voids = [await voidBatch(10, 3), await voidBatch(13, 1)];
    expect(buildSegment(voids).firstTimestamp).toBeUndefined();
    expect('firstTimestamp' in buildSegment(voids)).toBe(false);
    const mixed = [...voids, await segmentBatch(14, [record(2000, 5), record(1990, 5)])];
    expect(buildSegment(mixed)).toMatchObject({ firstTimestamp: 2000, maxTimestamp: 2000, endOffset: 16 });
  });
});

describe('buildSegment: bad input', () => {
  it('rejects no batches, gaps, overlaps, and batches that disagree with their headers', async () => {
    const [b0, b1] = [
      await segmentBatch(10, [record(1, 3), record(2, 3)]),
      await segmentBatch(12, [record(3, 3)]),
    ];
    const bad: [string, () => unknown][] = [
      ['empty', () => buildSegment([])],
      ['gap', () => buildSegment([b0, { ...b1, offset: 13, bytes: setBaseOffset(b1.bytes, 13) }])],
      ['overlap', () => buildSegment([b0, { ...b1, offset: 11, bytes: setBaseOffset(b1.bytes, 11) }])],
      ['header offset', () => buildSegment([b0, { ...b1, bytes: setBaseOffset(b1.bytes, 99) }])],
      [
        'count',
        () =>
          buildSegment([
            { ...b0, count: 3 },
            { ...b1, offset: 13 },
          ]),
      ],
      ['two batches in one', () => buildSegment([{ ...b0, bytes: concat([b0, b1]) }])],
      ['zero count', () => buildSegment([{ ...b0, count: 0 }])],
      ['negative offset', () => buildSegment([{ ...b0, offset: -1 }])],
      ['bad timestamp', () => buildSegment([{ ...b0, maxTimestamp: 1.5 }])],
      ['negative interval', () => buildSegment([b0], { indexIntervalBytes: -1 })],
      ['fractional interval', () => buildSegment([b0], { indexIntervalBytes: 0.5 })],
    ];
    for (const [name, fn] of bad) {
      expect(fn, name).toThrow(InvalidArgumentError);
    }
    expect(() => buildSegment([b0, { ...b1, offset: 13, bytes: setBaseOffset(b1.bytes, 13) }])).toThrow(
      /gap/,
    );
    expect(() => buildSegment([b0, { ...b1, offset: 11, bytes: setBaseOffset(b1.bytes, 11) }])).toThrow(
      /overlaps/,
    );
    expect(buildSegment([b0, b1]).endOffset).toBe(13);
  });

  it('reports unreadable batch bytes as corrupt', async () => {
    const b0 = await segmentBatch(10, [record(1, 3)]);
    const garbage = b0.bytes.slice();
    garbage[16] = 1; // magic
    expect(() => buildSegment([{ ...b0, bytes: garbage }])).toThrow(CorruptRecordError);
    expect(() => buildSegment([{ ...b0, bytes: b0.bytes.subarray(0, 40) }])).toThrow(CorruptRecordError);
  });
});

describe('splitBatches', () => {
  it('splits every prefix of a segment into its whole batches and the rest', async () => {
    const random = seededRandom(testSeed('segment split'));
    const batches = await randomBatches(random, 0, 12);
    const log = buildSegment(batches).log;
    const starts = positions(batches);
    for (const startBatch of [0, 1, 7]) {
      const from = starts[startBatch]!;
      for (let length = 0; length <= log.length - from; length++) {
        const { batches: whole, rest } = splitBatches(log.subarray(from, from + length), 'seg.log');
        const expected = batches.slice(startBatch).filter((_, i) => {
          const end = starts[startBatch + i]! + batches[startBatch + i]!.bytes.length;
          return end <= from + length;
        });
        expect(whole.length).toBe(expected.length);
        whole.forEach((b, i) => {
          expect(Buffer.from(b).equals(Buffer.from(expected[i]!.bytes))).toBe(true);
        });
        expect(rest).toBe(length - expected.reduce((n, b) => n + b.bytes.length, 0));
      }
    }
  });

  it('throws CorruptRecordError naming the location and byte on garbage', async () => {
    const batches = [await segmentBatch(0, [record(1, 20)]), await segmentBatch(1, [record(2, 20)])];
    const log = concat(batches);
    const second = batches[0]!.bytes.length;
    const corrupt = (edit: (bytes: Uint8Array, view: DataView) => void): Uint8Array => {
      const copy = log.slice();
      edit(copy, new DataView(copy.buffer));
      return copy;
    };
    const cases: [string, Uint8Array][] = [
      ['bad magic', corrupt((b) => (b[second + 16] = 1))],
      ['negative length', corrupt((_, v) => v.setInt32(second + 8, -5))],
      ['length below a header', corrupt((_, v) => v.setInt32(second + 8, RECORD_BATCH_OVERHEAD - 13))],
      ['oversized length', corrupt((_, v) => v.setInt32(second + 8, MAX_SEGMENT_BATCH_BYTES))],
      ['bad header field', corrupt((b) => (b[second + 22] = 7))], // compression codec 7
    ];
    for (const [name, bytes] of cases) {
      const error = expectCorrupt(
        () => splitBatches(bytes, 'orders/k3x9/7/00000000000000000000.log'),
        'orders/',
      );
      expect(error.location, name).toBe(`orders/k3x9/7/00000000000000000000.log, byte ${second}`);
    }
    // Garbage is caught even in an incomplete batch once its magic is in range.
    const truncated = cases[0]![1].subarray(0, second + 17);
    expectCorrupt(() => splitBatches(truncated, 'seg.log'), 'seg.log, byte');
    expect(splitBatches(log.subarray(0, second + 16), 'seg.log')).toMatchObject({ rest: 16 });
  });
});

describe('verifySegment', () => {
  it('returns what a sound segment holds', async () => {
    const random = seededRandom(testSeed('segment verify'));
    const batches = await randomBatches(random, 90, 10);
    const segment = buildSegment(batches);
    expect(verifySegment(segment.log, 'seg.log')).toEqual({
      baseOffset: 90,
      endOffset: segment.endOffset,
      batchCount: 10,
    });
  });

  it('detects a flipped bit anywhere except the leader epoch, which no CRC covers', async () => {
    const random = seededRandom(testSeed('segment flips'));
    const batches = await randomBatches(random, 1000, 5);
    const log = buildSegment(batches).log;
    const epochBytes = new Set(positions(batches).flatMap((p) => [12, 13, 14, 15].map((d) => p + d)));
    for (let i = 0; i < log.length; i++) {
      const copy = log.slice();
      copy[i]! ^= 0x01;
      if (epochBytes.has(i)) {
        expect(() => verifySegment(copy, 'seg.log')).not.toThrow();
      } else {
        expectCorrupt(() => verifySegment(copy, 'bucket/seg.log'), 'bucket/seg.log');
      }
    }
  });

  it('rejects a truncated or empty segment and a gap between batches', async () => {
    const batches = [await segmentBatch(0, [record(1, 20)]), await segmentBatch(1, [record(2, 20)])];
    const log = concat(batches);
    expectCorrupt(() => verifySegment(log.subarray(0, log.length - 1), 'seg.log'), 'seg.log');
    expectCorrupt(() => verifySegment(new Uint8Array(0), 'seg.log'), 'seg.log');
    const gap = concat([batches[0]!, { ...batches[1]!, bytes: setBaseOffset(batches[1]!.bytes, 2) }]);
    expect(() => verifySegment(gap, 'seg.log')).toThrow(
      /starts at offset 2 but the previous batch ended at 1/,
    );
  });
});

describe('index validation on read', () => {
  it('rejects truncated, empty or misplaced indexes with the location', async () => {
    const segment = buildSegment(await handSegmentBatches(), { indexIntervalBytes: 200 });
    for (const cut of [1, 4, 7, 9]) {
      expectCorrupt(
        () => findPosition(segment.index.subarray(0, segment.index.length - cut), 100, 104, 'seg.index'),
        'seg.index',
      );
    }
    for (const cut of [1, 5, 11, 13]) {
      expectCorrupt(
        () =>
          findOffsetForTimestamp(
            segment.timeIndex.subarray(0, segment.timeIndex.length - cut),
            100,
            1011,
            'seg.ti',
          ),
        'seg.ti',
      );
    }
    expectCorrupt(() => findPosition(new Uint8Array(0), 100, 104, 'seg.index'), 'seg.index');
    expectCorrupt(() => findOffsetForTimestamp(new Uint8Array(0), 100, 5, 'seg.ti'), 'seg.ti');
    // A first entry that is not the first batch.
    expectCorrupt(() => findPosition(segment.index.subarray(8), 100, 104, 'seg.index'), 'seg.index');
    expectCorrupt(
      () => findOffsetForTimestamp(segment.timeIndex.subarray(12), 100, 1011, 'seg.ti'),
      'seg.ti',
    );
    // A timestamp beyond the safe integer range.
    const huge = segment.timeIndex.slice();
    new DataView(huge.buffer).setBigInt64(12, 2n ** 62n);
    expectCorrupt(() => findOffsetForTimestamp(huge, 100, 1011, 'seg.ti'), 'seg.ti');
  });

  it('rejects lookups with arguments that are not integers', async () => {
    const segment = buildSegment(await handSegmentBatches());
    expect(() => findPosition(segment.index, 100, 1.5)).toThrow(InvalidArgumentError);
    expect(() => findPosition(segment.index, -1, 5)).toThrow(InvalidArgumentError);
    expect(() => findOffsetForTimestamp(segment.timeIndex, 100, Number.NaN)).toThrow(InvalidArgumentError);
  });
});
