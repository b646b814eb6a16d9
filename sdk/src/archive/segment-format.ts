/**
 * Log segments of the S3 tier, laid out like Kafka's: a `.log` object holding RecordBatches back
 * to back, a sparse `.index` (offset → byte position) and a `.timeindex` (timestamp → offset).
 * Pure: building, splitting, verifying and index lookups; the archiver and the segment reader do
 * the I/O.
 *
 * ```
 * .index      8-byte entries   relativeOffset int32 BE, position int32 BE
 * .timeindex 12-byte entries   timestamp int64 BE, relativeOffset int32 BE
 * ```
 *
 * Relative offsets are `offset - baseOffset` (so a segment spans fewer than 2^31 offsets) and
 * positions are byte positions in the `.log` (so a segment is smaller than 2 GiB), as in Kafka.
 * Both indexes have one entry for the first batch, then one each time at least
 * `indexIntervalBytes` were written since the previous entry, always at a batch boundary; entry
 * `i` of the `.timeindex` describes the same batch as entry `i` of the `.index`.
 *
 * Two deliberate differences from Kafka's semantics (the byte layouts are Kafka's):
 * - An index entry names the **base offset** of the batch starting at its position (Kafka names
 *   the batch's last offset). Every entry is then an exact batch start, and a lookup returns the
 *   batch that contains the target or the nearest indexed batch before it.
 * - A time index entry's timestamp is the running max timestamp of the segment **through** that
 *   batch (as the log table's running max), and it is written at every index point even when it
 *   did not grow (Kafka skips entries whose timestamp did not grow).
 */
import { CorruptRecordError, InvalidArgumentError } from '../errors.ts';
import {
  type BatchHeader,
  RECORD_BATCH_OVERHEAD,
  readBatchHeader,
  verifyBatchCrc,
} from '../log/record-batch.ts';
import { MAX_MESSAGE_BYTES_LIMIT } from '../topics/configs.ts';

/** Bytes of an offset index entry. */
export const OFFSET_INDEX_ENTRY_BYTES = 8;
/** Bytes of a time index entry. */
export const TIME_INDEX_ENTRY_BYTES = 12;
/** Kafka's `index.interval.bytes` default. */
export const DEFAULT_INDEX_INTERVAL_BYTES = 4096;
/**
 * The largest batch a segment holds: the largest Tributary accepts. A length field claiming more
 * is corrupt, so a ranged reader never fetches gigabytes on the word of a damaged header.
 */
export const MAX_SEGMENT_BATCH_BYTES = MAX_MESSAGE_BYTES_LIMIT;

/** baseOffset and batchLength, which batchLength does not count. */
const LOG_OVERHEAD = 12;
const POS_BATCH_LENGTH = 8;
const POS_MAGIC = 16;
const MAGIC = 2;
const INT32_MAX = 0x7fffffff;

/** One batch to put in a segment, as the log table holds it. */
export interface SegmentBatch {
  /** Offset of the batch's first record (its slot's offset). */
  readonly offset: number;
  /** Offsets the batch covers: its header's lastOffsetDelta + 1. */
  readonly count: number;
  /** Max record timestamp of the batch (the log item's), for the time index. */
  readonly maxTimestamp: number;
  /** Exactly one RecordBatch v2 whose header baseOffset is already `offset`. */
  readonly bytes: Uint8Array;
}

/** Options of {@link buildSegment}. */
export interface BuildSegmentOptions {
  /**
   * Bytes of `.log` written between index entries (Kafka's `index.interval.bytes`); 0 indexes
   * every batch.
   * @default 4096
   */
  readonly indexIntervalBytes?: number;
}

/** A segment ready to upload. */
export interface BuiltSegment {
  /** The `.log` object: the batches concatenated. */
  readonly log: Uint8Array;
  /** The `.index` object. */
  readonly index: Uint8Array;
  /** The `.timeindex` object. */
  readonly timeIndex: Uint8Array;
  /** Offset of the first batch; the objects are named by it. */
  readonly baseOffset: number;
  /** The offset after the last batch. */
  readonly endOffset: number;
  readonly batchCount: number;
  /** Size of `log` in bytes. */
  readonly bytes: number;
  /** Timestamp of the segment's first record (its batch's baseTimestamp); absent when no batch has records. */
  readonly firstTimestamp?: number;
  /** Largest `maxTimestamp` of the batches. */
  readonly maxTimestamp: number;
}

/** A batch's place in a segment, from an index lookup. */
export interface SegmentPosition {
  /** Base offset of the batch at `position`. */
  readonly offset: number;
  /** Byte position of that batch in the `.log`. */
  readonly position: number;
}

/** Where a timestamp search starts, from {@link findOffsetForTimestamp}. */
export interface TimestampStart {
  /** Base offset of the batch to scan from (an indexed batch: `findPosition` maps it to its exact position). */
  readonly offset: number;
  /** Number of the index entry (the same in `.index` and `.timeindex`). */
  readonly entry: number;
}

/** A `.log` byte range cut into whole batches. */
export interface SplitBatches {
  /** The whole batches, in order (views into the input). */
  readonly batches: Uint8Array[];
  /** Bytes at the end that begin a batch but do not complete it (0 when the range ends on a boundary). */
  readonly rest: number;
}

/** What {@link verifySegment} found in a sound `.log`. */
export interface VerifiedSegment {
  readonly baseOffset: number;
  readonly endOffset: number;
  readonly batchCount: number;
}

/**
 * Builds a segment from contiguous batches: the `.log` (the batches concatenated, unchanged) and
 * its two indexes. Batch CRCs are not checked here; {@link verifySegment} checks the written object.
 *
 * @throws InvalidArgumentError when there are no batches, they are not contiguous (each must start
 *   at the previous one's `offset + count`), a batch's header disagrees with its `offset`/`count`
 *   or its bytes are not exactly one batch, or the segment would not fit the index format
 *   (2^31 offsets, 2 GiB).
 * @throws CorruptRecordError when a batch's header cannot be read.
 */
export function buildSegment(
  batches: readonly SegmentBatch[],
  options: BuildSegmentOptions = {},
): BuiltSegment {
  const interval = options.indexIntervalBytes ?? DEFAULT_INDEX_INTERVAL_BYTES;
  if (!Number.isSafeInteger(interval) || interval < 0) {
    throw new InvalidArgumentError(`indexIntervalBytes must be an integer ≥ 0, got ${interval}`);
  }
  const first = batches[0];
  if (first === undefined) {
    throw new InvalidArgumentError('A segment needs at least one batch');
  }
  const baseOffset = first.offset;
  let next = baseOffset;
  let size = 0;
  let firstTimestamp: number | undefined;
  for (let i = 0; i < batches.length; i++) {
    const batch = batches[i]!;
    const header = checkSegmentBatch(batch, i, next);
    if (firstTimestamp === undefined && header.recordCount > 0) firstTimestamp = header.baseTimestamp;
    next = batch.offset + batch.count;
    size += batch.bytes.length;
  }
  if (next - 1 - baseOffset > INT32_MAX) {
    throw new InvalidArgumentError(
      `A segment spans at most 2^31 offsets; offsets ${baseOffset}..${next - 1} are too many`,
    );
  }
  if (size > INT32_MAX) {
    throw new InvalidArgumentError(`A segment holds less than 2 GiB; these batches have ${size} bytes`);
  }

  const log = new Uint8Array(size);
  const offsetEntries: number[] = [];
  const timeEntries: number[] = [];
  let position = 0;
  let sinceEntry = 0;
  let maxTimestamp = Number.NEGATIVE_INFINITY;
  for (const batch of batches) {
    if (batch.maxTimestamp > maxTimestamp) maxTimestamp = batch.maxTimestamp;
    if (position === 0 || sinceEntry >= interval) {
      offsetEntries.push(batch.offset - baseOffset, position);
      timeEntries.push(maxTimestamp, batch.offset - baseOffset);
      sinceEntry = 0;
    }
    log.set(batch.bytes, position);
    position += batch.bytes.length;
    sinceEntry += batch.bytes.length;
  }
  return {
    log,
    index: writeOffsetIndex(offsetEntries),
    timeIndex: writeTimeIndex(timeEntries),
    baseOffset,
    endOffset: next,
    batchCount: batches.length,
    bytes: size,
    ...(firstTimestamp === undefined ? {} : { firstTimestamp }),
    maxTimestamp,
  };
}

/** Checks one input batch against its neighbours and its own header; returns the header. */
function checkSegmentBatch(batch: SegmentBatch, i: number, expectedOffset: number): BatchHeader {
  const what = `Segment batch ${i}`;
  checkOffset(batch.offset, `${what}: offset`);
  if (!Number.isSafeInteger(batch.count) || batch.count < 1) {
    throw new InvalidArgumentError(`${what}: count must be an integer ≥ 1, got ${batch.count}`);
  }
  if (!Number.isSafeInteger(batch.maxTimestamp)) {
    throw new InvalidArgumentError(`${what}: maxTimestamp must be a safe integer, got ${batch.maxTimestamp}`);
  }
  if (batch.offset !== expectedOffset) {
    const problem = batch.offset > expectedOffset ? 'leaves a gap' : 'overlaps the previous batch';
    throw new InvalidArgumentError(
      `${what} starts at offset ${batch.offset} but the previous batch ended at ${expectedOffset}: it ${problem}`,
    );
  }
  if (!(batch.bytes instanceof Uint8Array)) {
    throw new InvalidArgumentError(`${what}: bytes must be a Uint8Array`);
  }
  if (batch.bytes.length > MAX_SEGMENT_BATCH_BYTES) {
    throw new InvalidArgumentError(
      `${what} has ${batch.bytes.length} bytes; a segment batch has at most ${MAX_SEGMENT_BATCH_BYTES}`,
    );
  }
  const header = readBatchHeader(batch.bytes, `batch ${i} (offset ${batch.offset})`);
  if (header.batchLength + LOG_OVERHEAD !== batch.bytes.length) {
    throw new InvalidArgumentError(
      `${what}: bytes must be exactly one batch: its header says ${header.batchLength + LOG_OVERHEAD} bytes, ` +
        `there are ${batch.bytes.length}`,
    );
  }
  if (header.baseOffset !== batch.offset) {
    throw new InvalidArgumentError(
      `${what}: the batch's header baseOffset is ${header.baseOffset}, not its offset ${batch.offset} ` +
        '(rewrite it with setBaseOffset)',
    );
  }
  if (header.lastOffsetDelta + 1 !== batch.count) {
    throw new InvalidArgumentError(
      `${what}: the batch covers ${header.lastOffsetDelta + 1} offsets (lastOffsetDelta + 1), not its count ${batch.count}`,
    );
  }
  return header;
}

function checkOffset(value: number, what: string): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new InvalidArgumentError(`${what} must be a safe integer ≥ 0, got ${value}`);
  }
}

/** `entries` holds relativeOffset, position pairs. */
function writeOffsetIndex(entries: readonly number[]): Uint8Array {
  const out = new Uint8Array((entries.length / 2) * OFFSET_INDEX_ENTRY_BYTES);
  const view = viewOf(out);
  for (let i = 0; i < entries.length; i += 2) {
    const at = (i / 2) * OFFSET_INDEX_ENTRY_BYTES;
    view.setInt32(at, entries[i]!);
    view.setInt32(at + 4, entries[i + 1]!);
  }
  return out;
}

/** `entries` holds timestamp, relativeOffset pairs. */
function writeTimeIndex(entries: readonly number[]): Uint8Array {
  const out = new Uint8Array((entries.length / 2) * TIME_INDEX_ENTRY_BYTES);
  const view = viewOf(out);
  for (let i = 0; i < entries.length; i += 2) {
    const at = (i / 2) * TIME_INDEX_ENTRY_BYTES;
    view.setBigInt64(at, BigInt(entries[i]!));
    view.setInt32(at + 8, entries[i + 1]!);
  }
  return out;
}

/**
 * Looks `target` up in a `.index`: the greatest entry whose offset is ≤ `target`, i.e. where a
 * ranged GET of the `.log` starts. The batch at the returned position contains `target` or
 * precedes it (scan forward from it); no later indexed batch does. When `target` precedes every
 * entry (it is below `baseOffset`), returns the segment's start `{ offset: baseOffset, position: 0 }`.
 *
 * @param location - the index object, for error messages.
 * @throws CorruptRecordError when the index is empty, not a whole number of 8-byte entries, or
 *   its first entry is not (0, 0).
 */
export function findPosition(
  index: Uint8Array,
  baseOffset: number,
  target: number,
  location?: string,
): SegmentPosition {
  checkOffset(baseOffset, 'baseOffset');
  if (!Number.isSafeInteger(target)) {
    throw new InvalidArgumentError(`target must be a safe integer, got ${target}`);
  }
  const view = indexView(index, OFFSET_INDEX_ENTRY_BYTES, '.index', location);
  if (view.getInt32(0) !== 0 || view.getInt32(4) !== 0) {
    throw new CorruptRecordError(
      `Offset index starts with (${view.getInt32(0)}, ${view.getInt32(4)}), not the first batch (0, 0)`,
      location,
    );
  }
  const relative = target - baseOffset;
  // Greatest entry with relativeOffset ≤ relative; entry 0 (relative offset 0) when none is.
  let lo = 0;
  let hi = index.length / OFFSET_INDEX_ENTRY_BYTES - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (view.getInt32(mid * OFFSET_INDEX_ENTRY_BYTES) <= relative) lo = mid;
    else hi = mid - 1;
  }
  const at = lo * OFFSET_INDEX_ENTRY_BYTES;
  const entryOffset = view.getInt32(at);
  const position = view.getInt32(at + 4);
  if (entryOffset < 0 || position < 0) {
    throw new CorruptRecordError(`Offset index entry ${lo} is (${entryOffset}, ${position})`, location);
  }
  return { offset: baseOffset + entryOffset, position };
}

/**
 * Where a ranged read of a `.log` from the batch boundary `from` ends so that it holds whole
 * batches only: the last indexed batch start in `(from, want]`; when there is none (a batch, or
 * a run of batches between two entries, larger than the read), the first one after `want`; and
 * the end of the segment when no entry follows. Every index entry is a batch start, so no byte
 * of a batch the read cuts off is fetched, to be fetched again by the next read.
 *
 * @throws CorruptRecordError when the index is malformed.
 */
export function wholeBatchesEnd(
  index: Uint8Array,
  from: number,
  want: number,
  segmentBytes: number,
  location?: string,
): number {
  if (want >= segmentBytes) return segmentBytes;
  const view = indexView(index, OFFSET_INDEX_ENTRY_BYTES, '.index', location);
  const entries = index.length / OFFSET_INDEX_ENTRY_BYTES;
  const position = (entry: number) => view.getInt32(entry * OFFSET_INDEX_ENTRY_BYTES + 4);
  // First entry with position > want (entries are in position order); `entries` when none.
  let lo = 0;
  let hi = entries;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (position(mid) > want) hi = mid;
    else lo = mid + 1;
  }
  if (lo > 0 && position(lo - 1) > from) return position(lo - 1);
  return lo < entries ? position(lo) : segmentBytes;
}

/**
 * Where to start looking for the first record with timestamp ≥ `timestamp` (Kafka's
 * offsets-for-times) in one segment: the **last** entry whose running max timestamp is
 * < `timestamp`, or entry 0 when there is none. Every record before the returned batch, and in
 * it, is older than `timestamp` for such an entry, so the caller scans forward from it (records
 * within and across batches need not be in time order) and takes the first record with timestamp
 * ≥ `timestamp`; the segment has none when the scan reaches its end. The returned offset is an
 * indexed batch's base offset: `findPosition(index, baseOffset, offset)` gives its exact position.
 *
 * @param location - the time index object, for error messages.
 * @throws CorruptRecordError when the time index is empty, not a whole number of 12-byte entries,
 *   does not start at relative offset 0, or holds a timestamp outside the safe integer range.
 */
export function findOffsetForTimestamp(
  timeIndex: Uint8Array,
  baseOffset: number,
  timestamp: number,
  location?: string,
): TimestampStart {
  checkOffset(baseOffset, 'baseOffset');
  if (!Number.isSafeInteger(timestamp)) {
    throw new InvalidArgumentError(`timestamp must be a safe integer, got ${timestamp}`);
  }
  const view = indexView(timeIndex, TIME_INDEX_ENTRY_BYTES, '.timeindex', location);
  if (view.getInt32(8) !== 0) {
    throw new CorruptRecordError(
      `Time index starts at relative offset ${view.getInt32(8)}, not the first batch (0)`,
      location,
    );
  }
  // Last entry whose timestamp is < timestamp; entry 0 when none is.
  let lo = 0;
  let hi = timeIndex.length / TIME_INDEX_ENTRY_BYTES - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (readTimestamp(view, mid, location) < timestamp) lo = mid;
    else hi = mid - 1;
  }
  const relative = view.getInt32(lo * TIME_INDEX_ENTRY_BYTES + 8);
  if (relative < 0) {
    throw new CorruptRecordError(`Time index entry ${lo} has relative offset ${relative}`, location);
  }
  return { offset: baseOffset + relative, entry: lo };
}

function readTimestamp(view: DataView, entry: number, location: string | undefined): number {
  const value = view.getBigInt64(entry * TIME_INDEX_ENTRY_BYTES);
  if (value < BigInt(Number.MIN_SAFE_INTEGER) || value > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new CorruptRecordError(
      `Time index entry ${entry} has timestamp ${value}, outside the safe integer range`,
      location,
    );
  }
  return Number(value);
}

function indexView(
  bytes: Uint8Array,
  entryBytes: number,
  kind: string,
  location: string | undefined,
): DataView {
  if (bytes.length === 0 || bytes.length % entryBytes !== 0) {
    throw new CorruptRecordError(
      `A ${kind} holds one or more ${entryBytes}-byte entries; it has ${bytes.length} bytes (truncated?)`,
      location,
    );
  }
  return viewOf(bytes);
}

/**
 * Cuts bytes read from a `.log` (starting at a batch boundary, e.g. a ranged GET from an index
 * position) into whole batches by their length fields, and counts the trailing bytes of a batch
 * the range cut off, so a ranged reader knows to fetch more. Each whole batch's header is checked
 * (magic, offsets, codec); CRCs are not (decoding checks them).
 *
 * @param location - where the bytes come from (object key and range), for error messages.
 * @throws CorruptRecordError (with `location` and the byte position) on bytes that cannot start a
 *   batch: a magic other than 2, a length below the batch header's or above
 *   {@link MAX_SEGMENT_BATCH_BYTES}, or a bad header.
 */
export function splitBatches(bytes: Uint8Array, location: string): SplitBatches {
  const view = viewOf(bytes);
  const batches: Uint8Array[] = [];
  let pos = 0;
  while (pos < bytes.length) {
    const remaining = bytes.length - pos;
    if (remaining < LOG_OVERHEAD) return { batches, rest: remaining };
    const where = `${location}, byte ${pos}`;
    const size = LOG_OVERHEAD + view.getInt32(pos + POS_BATCH_LENGTH);
    if (size < RECORD_BATCH_OVERHEAD || size > MAX_SEGMENT_BATCH_BYTES) {
      throw new CorruptRecordError(
        `Batch length field says ${size} bytes; a batch has ${RECORD_BATCH_OVERHEAD}..${MAX_SEGMENT_BATCH_BYTES}`,
        where,
      );
    }
    if (remaining > POS_MAGIC && view.getInt8(pos + POS_MAGIC) !== MAGIC) {
      throw new CorruptRecordError(
        `Unsupported record batch magic ${view.getInt8(pos + POS_MAGIC)}: a segment holds format v2 (magic 2)`,
        where,
      );
    }
    if (remaining < size) return { batches, rest: remaining };
    const batch = bytes.subarray(pos, pos + size);
    readBatchHeader(batch, where);
    batches.push(batch);
    pos += size;
  }
  return { batches, rest: 0 };
}

/**
 * Checks a whole `.log` object, as the archiver does after writing it: every batch is whole, its
 * CRC-32C matches, and each starts at the offset after the previous one. Returns what it found,
 * to compare with what was written (the first batch's baseOffset and the partitionLeaderEpoch
 * fields are outside every CRC, as in Kafka).
 *
 * @param location - the object, for error messages.
 * @throws CorruptRecordError (with `location` and the byte position) when any check fails or the
 *   object is empty.
 */
export function verifySegment(log: Uint8Array, location: string): VerifiedSegment {
  const { batches, rest } = splitBatches(log, location);
  if (rest !== 0) {
    throw new CorruptRecordError(
      `The segment ends inside a batch: ${rest} trailing bytes`,
      `${location}, byte ${log.length - rest}`,
    );
  }
  if (batches.length === 0) {
    throw new CorruptRecordError('The segment holds no batches', location);
  }
  let baseOffset = 0;
  let next = 0;
  let pos = 0;
  for (let i = 0; i < batches.length; i++) {
    const batch = batches[i]!;
    const where = `${location}, byte ${pos}`;
    verifyBatchCrc(batch, where);
    const header = readBatchHeader(batch, where);
    if (i === 0) {
      baseOffset = header.baseOffset;
    } else if (header.baseOffset !== next) {
      throw new CorruptRecordError(
        `Batch ${i} starts at offset ${header.baseOffset} but the previous batch ended at ${next}`,
        where,
      );
    }
    next = header.baseOffset + header.lastOffsetDelta + 1;
    pos += batch.length;
  }
  return { baseOffset, endOffset: next, batchCount: batches.length };
}

function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
