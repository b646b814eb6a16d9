/**
 * Kafka's RecordBatch, format v2 (magic 2), byte for byte as the Kafka protocol documents it:
 *
 * ```
 * offset size field
 *      0    8 baseOffset            int64
 *      8    4 batchLength           int32   bytes after this field
 *     12    4 partitionLeaderEpoch  int32
 *     16    1 magic                 int8    2
 *     17    4 crc                   uint32  CRC-32C of bytes 21..end
 *     21    2 attributes            int16   bits 0-2 compression, 3 timestampType, 4 isTransactional,
 *                                           5 isControl, 6 hasDeleteHorizonMs
 *     23    4 lastOffsetDelta       int32
 *     27    8 baseTimestamp         int64
 *     35    8 maxTimestamp          int64
 *     43    8 producerId            int64
 *     51    2 producerEpoch         int16
 *     53    4 baseSequence          int32
 *     57    4 recordCount           int32
 *     61    - records               compressed as a whole unless compression is none
 * ```
 *
 * Each record: length varint (of the rest), attributes int8 (unused, 0), timestampDelta varlong,
 * offsetDelta varint, keyLength varint (-1 = null) + key, valueLength varint (-1 = null) + value,
 * header count varint, then per header keyLength varint + UTF-8 key, valueLength varint
 * (-1 = null) + value. All integers are big-endian; varints are zigzag (`varint.ts`).
 *
 * Offsets and timestamps are JS numbers; decoding rejects an int64 field outside the safe
 * integer range (except producerId, a bigint) instead of rounding it.
 */
import {
  CorruptRecordError,
  InvalidArgumentError,
  LogInvariantError,
  RecordTooLargeError,
} from '../errors.ts';
import {
  type Compression,
  compress,
  compressionCode,
  compressionFromCode,
  decompress,
} from './compression.ts';
import { crc32c } from './crc32c.ts';
import {
  type Cursor,
  readVarint,
  readVarlong,
  sizeOfVarint,
  sizeOfVarlong,
  writeVarint,
  writeVarlong,
} from './varint.ts';

/** Bytes of a batch before its records: the fixed header. */
export const RECORD_BATCH_OVERHEAD = 61;

/** The record batch format version this module reads and writes. */
const MAGIC = 2;
/** baseOffset and batchLength, which batchLength does not count. */
const LOG_OVERHEAD = 12;
const MAX_BATCH_SIZE = LOG_OVERHEAD + 0x7fffffff;

const POS_BATCH_LENGTH = 8;
const POS_PARTITION_LEADER_EPOCH = 12;
const POS_MAGIC = 16;
const POS_CRC = 17;
const POS_ATTRIBUTES = 21;
const POS_LAST_OFFSET_DELTA = 23;
const POS_BASE_TIMESTAMP = 27;
const POS_MAX_TIMESTAMP = 35;
const POS_PRODUCER_ID = 43;
const POS_PRODUCER_EPOCH = 51;
const POS_BASE_SEQUENCE = 53;
const POS_RECORD_COUNT = 57;

const COMPRESSION_MASK = 0x07;
const TIMESTAMP_TYPE_LOG_APPEND = 0x08;
const TRANSACTIONAL = 0x10;
const CONTROL = 0x20;

/** The smallest possible record: length, attributes, timestampDelta, offsetDelta, key, value, headers. */
const MIN_RECORD_SIZE = 7;
/** Kafka's "no timestamp", the base and max timestamp of a batch without records. */
const NO_TIMESTAMP = -1;
/** Kafka's "no partition leader epoch", what producers write. */
const NO_PARTITION_LEADER_EPOCH = -1;

const INT16_MIN = -0x8000;
const INT16_MAX = 0x7fff;
const INT32_MIN = -0x80000000;
const INT32_MAX = 0x7fffffff;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const TWO_POW_32 = 0x100000000;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A record header: a UTF-8 key and an optional value. */
export interface RecordHeader {
  readonly key: string;
  readonly value: Uint8Array | null;
}

/** A record to encode. */
export interface RecordInput {
  readonly key: Uint8Array | null;
  readonly value: Uint8Array | null;
  /** Epoch milliseconds (any safe integer). */
  readonly timestamp: number;
  readonly headers: readonly RecordHeader[];
}

/** What {@link encodeRecordBatch} writes. */
export interface EncodeBatchInput {
  /** Offset of the first record; usually patched later with {@link setBaseOffset}. */
  readonly baseOffset: number;
  /** The records, at offset deltas 0, 1, 2, ...; may be empty only when `lastOffsetDelta` is given. */
  readonly records: readonly RecordInput[];
  readonly compression: Compression;
  /** Level of gzip or zstd. @default the codec's (see `DEFAULT_COMPRESSION_LEVELS`) */
  readonly compressionLevel?: number;
  /** `-1n` when the producer is not idempotent. */
  readonly producerId: bigint;
  /** `-1` when the producer is not idempotent. */
  readonly producerEpoch: number;
  /** `-1` when the producer is not idempotent. */
  readonly baseSequence: number;
  /** @default false */
  readonly isTransactional?: boolean;
  /** @default false */
  readonly isControl?: boolean;
  /** @default -1 (Kafka's "no epoch", what Kafka producers write) */
  readonly partitionLeaderEpoch?: number;
  /**
   * Offset delta of the last offset the batch covers. Larger than `records.length - 1`, it makes
   * the batch cover offsets it has no records for (a "void" batch covers n offsets with none).
   * @default records.length - 1
   */
  readonly lastOffsetDelta?: number;
  /** @default 'create' */
  readonly timestampType?: 'create' | 'log-append';
}

/** A decoded record. Key, value and header values are views into the batch's (decompressed) bytes. */
export interface DecodedRecord {
  readonly offset: number;
  /** The record's timestamp; for a `'log-append'` batch, the batch's `maxTimestamp` (as in Kafka). */
  readonly timestamp: number;
  readonly key: Uint8Array | null;
  readonly value: Uint8Array | null;
  readonly headers: readonly RecordHeader[];
}

/** The fixed header of a batch. */
export interface BatchHeader {
  readonly baseOffset: number;
  /** Bytes after the batchLength field: the whole batch is `batchLength + 12` bytes. */
  readonly batchLength: number;
  readonly partitionLeaderEpoch: number;
  readonly magic: number;
  /** The CRC-32C stored in the batch (unsigned). */
  readonly crc: number;
  readonly compression: Compression;
  readonly timestampType: 'create' | 'log-append';
  readonly isTransactional: boolean;
  readonly isControl: boolean;
  readonly lastOffsetDelta: number;
  /** Timestamp of the first record, -1 when the batch has none. */
  readonly baseTimestamp: number;
  /** Largest record timestamp, -1 when the batch has no records. */
  readonly maxTimestamp: number;
  readonly producerId: bigint;
  readonly producerEpoch: number;
  readonly baseSequence: number;
  readonly recordCount: number;
}

/** A decoded batch: its header and its records. */
export interface DecodedBatch extends BatchHeader {
  readonly records: readonly DecodedRecord[];
}

/**
 * Encodes records into one RecordBatch v2. Record sizes are computed first and the records are
 * written once into a buffer of the right size (then compressed as a whole if asked).
 *
 * Its baseTimestamp is the first record's timestamp and its maxTimestamp the largest (both -1
 * without records); record timestamps may go backwards (negative deltas).
 *
 * @throws InvalidArgumentError when a field is out of its range (offsets and timestamps must be
 *   safe integers, producerEpoch an int16, baseSequence and partitionLeaderEpoch int32s, ...).
 * @throws RecordTooLargeError when the batch would exceed the format's 2 GiB limit.
 */
export async function encodeRecordBatch(input: EncodeBatchInput): Promise<Uint8Array> {
  const { records } = input;
  const lastOffsetDelta = input.lastOffsetDelta ?? records.length - 1;
  const partitionLeaderEpoch = input.partitionLeaderEpoch ?? NO_PARTITION_LEADER_EPOCH;
  const codec = compressionCode(input.compression);
  validateBatchInput(input, lastOffsetDelta, partitionLeaderEpoch);

  let baseTimestamp = NO_TIMESTAMP;
  let maxTimestamp = NO_TIMESTAMP;
  const first = records[0];
  if (first !== undefined) {
    baseTimestamp = first.timestamp;
    maxTimestamp = first.timestamp;
  }
  // Sizes first: each record's body size, and the UTF-8 length of each header key (in order).
  const bodySizes = new Array<number>(records.length);
  const headerKeyLengths: number[] = [];
  let recordsSize = 0;
  for (let i = 0; i < records.length; i++) {
    const record = records[i]!;
    validateRecord(record, i);
    if (record.timestamp > maxTimestamp) maxTimestamp = record.timestamp;
    const timestampDelta = record.timestamp - baseTimestamp;
    if (!Number.isSafeInteger(timestampDelta)) {
      throw new InvalidArgumentError(
        `Record ${i}: timestamp ${record.timestamp} is too far from the batch's first timestamp ${baseTimestamp}`,
      );
    }
    let size =
      1 +
      sizeOfVarlong(timestampDelta) +
      sizeOfVarint(i) +
      sizeOfBytes(record.key) +
      sizeOfBytes(record.value) +
      sizeOfVarint(record.headers.length);
    for (const header of record.headers) {
      const keyLength = Buffer.byteLength(header.key, 'utf8');
      headerKeyLengths.push(keyLength);
      size += sizeOfVarint(keyLength) + keyLength + sizeOfBytes(header.value);
    }
    bodySizes[i] = size;
    recordsSize += sizeOfVarint(size) + size;
  }

  let out: Uint8Array;
  if (codec === 0) {
    out = allocateBatch(RECORD_BATCH_OVERHEAD + recordsSize);
    writeRecords(out, RECORD_BATCH_OVERHEAD, records, bodySizes, headerKeyLengths, baseTimestamp);
  } else {
    const raw = new Uint8Array(recordsSize);
    writeRecords(raw, 0, records, bodySizes, headerKeyLengths, baseTimestamp);
    const compressed = await compress(input.compression, raw, input.compressionLevel);
    out = allocateBatch(RECORD_BATCH_OVERHEAD + compressed.length);
    out.set(compressed, RECORD_BATCH_OVERHEAD);
  }

  const view = viewOf(out);
  let attributes = codec;
  if (input.timestampType === 'log-append') attributes |= TIMESTAMP_TYPE_LOG_APPEND;
  if (input.isTransactional) attributes |= TRANSACTIONAL;
  if (input.isControl) attributes |= CONTROL;
  writeInt64(view, 0, input.baseOffset);
  view.setInt32(POS_BATCH_LENGTH, out.length - LOG_OVERHEAD);
  view.setInt32(POS_PARTITION_LEADER_EPOCH, partitionLeaderEpoch);
  view.setInt8(POS_MAGIC, MAGIC);
  view.setInt16(POS_ATTRIBUTES, attributes);
  view.setInt32(POS_LAST_OFFSET_DELTA, lastOffsetDelta);
  writeInt64(view, POS_BASE_TIMESTAMP, baseTimestamp);
  writeInt64(view, POS_MAX_TIMESTAMP, maxTimestamp);
  view.setBigInt64(POS_PRODUCER_ID, input.producerId);
  view.setInt16(POS_PRODUCER_EPOCH, input.producerEpoch);
  view.setInt32(POS_BASE_SEQUENCE, input.baseSequence);
  view.setInt32(POS_RECORD_COUNT, records.length);
  view.setUint32(POS_CRC, crc32c(out.subarray(POS_ATTRIBUTES)));
  return out;
}

function allocateBatch(size: number): Uint8Array {
  if (size > MAX_BATCH_SIZE) {
    throw new RecordTooLargeError(size, MAX_BATCH_SIZE, 'a record batch cannot exceed 2 GiB');
  }
  return new Uint8Array(size);
}

function validateBatchInput(
  input: EncodeBatchInput,
  lastOffsetDelta: number,
  partitionLeaderEpoch: number,
): void {
  const { baseOffset, records } = input;
  if (!Number.isSafeInteger(baseOffset) || baseOffset < 0) {
    throw new InvalidArgumentError(`baseOffset must be a safe integer ≥ 0, got ${baseOffset}`);
  }
  if (records.length === 0 && input.lastOffsetDelta === undefined) {
    throw new InvalidArgumentError(
      'A batch without records must say which offsets it covers: give lastOffsetDelta',
    );
  }
  if (!isInt(lastOffsetDelta, 0, INT32_MAX) || lastOffsetDelta < records.length - 1) {
    throw new InvalidArgumentError(
      `lastOffsetDelta must be an int32 ≥ records.length - 1 (${records.length - 1}) and ≥ 0, got ${lastOffsetDelta}`,
    );
  }
  if (!Number.isSafeInteger(baseOffset + lastOffsetDelta)) {
    throw new InvalidArgumentError(
      `The batch's last offset ${baseOffset} + ${lastOffsetDelta} is not a safe integer`,
    );
  }
  if (typeof input.producerId !== 'bigint' || input.producerId < INT64_MIN || input.producerId > INT64_MAX) {
    throw new InvalidArgumentError(`producerId must be an int64 bigint, got ${String(input.producerId)}`);
  }
  if (!isInt(input.producerEpoch, INT16_MIN, INT16_MAX)) {
    throw new InvalidArgumentError(`producerEpoch must be an int16, got ${input.producerEpoch}`);
  }
  if (!isInt(input.baseSequence, INT32_MIN, INT32_MAX)) {
    throw new InvalidArgumentError(`baseSequence must be an int32, got ${input.baseSequence}`);
  }
  if (!isInt(partitionLeaderEpoch, INT32_MIN, INT32_MAX)) {
    throw new InvalidArgumentError(`partitionLeaderEpoch must be an int32, got ${partitionLeaderEpoch}`);
  }
  const { timestampType } = input;
  if (timestampType !== undefined && timestampType !== 'create' && timestampType !== 'log-append') {
    throw new InvalidArgumentError(
      `timestampType must be 'create' or 'log-append', got ${String(timestampType)}`,
    );
  }
}

function validateRecord(record: RecordInput, index: number): void {
  if (!Number.isSafeInteger(record.timestamp)) {
    throw new InvalidArgumentError(
      `Record ${index}: timestamp must be a safe integer, got ${record.timestamp}`,
    );
  }
  if (record.key !== null && !(record.key instanceof Uint8Array)) {
    throw new InvalidArgumentError(`Record ${index}: key must be a Uint8Array or null`);
  }
  if (record.value !== null && !(record.value instanceof Uint8Array)) {
    throw new InvalidArgumentError(`Record ${index}: value must be a Uint8Array or null`);
  }
  for (const header of record.headers) {
    if (typeof header.key !== 'string') {
      throw new InvalidArgumentError(`Record ${index}: header keys must be strings`);
    }
    if (header.value !== null && !(header.value instanceof Uint8Array)) {
      throw new InvalidArgumentError(
        `Record ${index}: header "${header.key}" value must be a Uint8Array or null`,
      );
    }
  }
}

function isInt(value: number, min: number, max: number): boolean {
  return Number.isInteger(value) && value >= min && value <= max;
}

function sizeOfBytes(bytes: Uint8Array | null): number {
  return bytes === null ? 1 : sizeOfVarint(bytes.length) + bytes.length;
}

function writeBytes(out: Uint8Array, offset: number, bytes: Uint8Array | null): number {
  if (bytes === null) return writeVarint(out, offset, -1);
  const pos = writeVarint(out, offset, bytes.length);
  out.set(bytes, pos);
  return pos + bytes.length;
}

/** Writes the records at `start` of `out`, which has exactly the room they need. */
function writeRecords(
  out: Uint8Array,
  start: number,
  records: readonly RecordInput[],
  bodySizes: readonly number[],
  headerKeyLengths: readonly number[],
  baseTimestamp: number,
): void {
  const text = Buffer.from(out.buffer, out.byteOffset, out.byteLength);
  let pos = start;
  let headerIndex = 0;
  for (let i = 0; i < records.length; i++) {
    const record = records[i]!;
    pos = writeVarint(out, pos, bodySizes[i]!);
    out[pos++] = 0; // record attributes: unused
    pos = writeVarlong(out, pos, record.timestamp - baseTimestamp);
    pos = writeVarint(out, pos, i);
    pos = writeBytes(out, pos, record.key);
    pos = writeBytes(out, pos, record.value);
    pos = writeVarint(out, pos, record.headers.length);
    for (const header of record.headers) {
      const keyLength = headerKeyLengths[headerIndex++]!;
      pos = writeVarint(out, pos, keyLength);
      text.write(header.key, pos, keyLength, 'utf8');
      pos += keyLength;
      pos = writeBytes(out, pos, header.value);
    }
  }
  if (pos !== out.length) {
    // A sizing bug, never bad input: fail loudly rather than emit a malformed batch.
    throw new LogInvariantError(
      `Record batch encoder wrote ${pos - start} bytes of records, sized ${out.length - start}`,
    );
  }
}

/**
 * Returns a copy of the batch with its baseOffset rewritten. The baseOffset is outside the CRC,
 * so nothing else changes.
 *
 * @throws InvalidArgumentError when `baseOffset` is not a safe integer ≥ 0.
 * @throws CorruptRecordError when `bytes` is not (the start of) a v2 batch.
 */
export function setBaseOffset(bytes: Uint8Array, baseOffset: number): Uint8Array {
  if (!Number.isSafeInteger(baseOffset) || baseOffset < 0) {
    throw new InvalidArgumentError(`baseOffset must be a safe integer ≥ 0, got ${baseOffset}`);
  }
  checkMagicAndHeader(bytes, undefined);
  const copy = new Uint8Array(bytes); // copies, unlike Buffer#slice
  writeInt64(viewOf(copy), 0, baseOffset);
  return copy;
}

/**
 * Reads the fixed header of the batch at the start of `bytes` (which may hold more after it):
 * no CRC check and no decompression, but the header's own fields are checked.
 *
 * @throws CorruptRecordError when the header is truncated, not magic 2, or has a field out of range.
 */
export function readBatchHeader(bytes: Uint8Array, location?: string): BatchHeader {
  return parseHeader(bytes, location, false);
}

/**
 * Checks that `bytes` is exactly one v2 batch whose stored CRC-32C matches its content.
 *
 * @throws CorruptRecordError when it is not.
 */
export function verifyBatchCrc(bytes: Uint8Array, location?: string): void {
  checkMagicAndHeader(bytes, location);
  checkExactLength(bytes, viewOf(bytes).getInt32(POS_BATCH_LENGTH), location);
  checkCrc(bytes, location);
}

/**
 * Decodes exactly one batch: checks its length, magic and CRC, decompresses its records and
 * parses them strictly. Anything wrong (truncation, trailing bytes, a bad varint, a record count
 * or length that does not add up, a decompression failure) throws; it never returns partial or
 * guessed data.
 *
 * @param location - where the bytes come from, for error messages (e.g. `orders[3]@1200`).
 * @throws CorruptRecordError (with `location`) when the bytes are not a valid batch.
 */
export async function decodeRecordBatch(bytes: Uint8Array, location?: string): Promise<DecodedBatch> {
  const header = parseHeader(bytes, location, true);
  checkCrc(bytes, location);
  const stored = bytes.subarray(RECORD_BATCH_OVERHEAD);
  let data = stored;
  if (header.compression !== 'none') {
    try {
      data = await decompress(header.compression, stored);
    } catch (error) {
      throw relocate(error, `Batch at offset ${header.baseOffset}`, location);
    }
  }
  return { ...header, records: decodeRecords(data, header, location) };
}

/**
 * Decodes a concatenation of batches (the layout of a Kafka `.log` segment), in order.
 *
 * @throws CorruptRecordError (with `location` and the byte position) when any batch is invalid or
 *   the bytes end inside a batch.
 */
export async function decodeRecordBatches(bytes: Uint8Array, location?: string): Promise<DecodedBatch[]> {
  const view = viewOf(bytes);
  const batches: DecodedBatch[] = [];
  let pos = 0;
  while (pos < bytes.length) {
    const where = location === undefined ? `byte ${pos}` : `${location}, byte ${pos}`;
    if (bytes.length - pos < LOG_OVERHEAD) {
      throw new CorruptRecordError(`${bytes.length - pos} trailing bytes are too few for a batch`, where);
    }
    const size = LOG_OVERHEAD + view.getInt32(pos + POS_BATCH_LENGTH);
    if (size < RECORD_BATCH_OVERHEAD || pos + size > bytes.length) {
      throw new CorruptRecordError(
        `Batch length field says ${size} bytes; ${bytes.length - pos} remain and a batch is at least ${RECORD_BATCH_OVERHEAD}`,
        where,
      );
    }
    batches.push(await decodeRecordBatch(bytes.subarray(pos, pos + size), where));
    pos += size;
  }
  return batches;
}

function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function writeInt64(view: DataView, pos: number, value: number): void {
  const high = Math.floor(value / TWO_POW_32);
  view.setInt32(pos, high);
  view.setUint32(pos + 4, value - high * TWO_POW_32);
}

function readSafeInt64(view: DataView, pos: number, field: string, location: string | undefined): number {
  const value = view.getInt32(pos) * TWO_POW_32 + view.getUint32(pos + 4);
  if (!Number.isSafeInteger(value)) {
    throw new CorruptRecordError(
      `${field} ${view.getBigInt64(pos)} is outside the safe integer range`,
      location,
    );
  }
  return value;
}

/** Checks there is a full header and that the magic is 2 (checked first: legacy formats put it at the same place). */
function checkMagicAndHeader(bytes: Uint8Array, location: string | undefined): void {
  if (bytes.length <= POS_MAGIC) {
    throw new CorruptRecordError(`Record batch truncated to ${bytes.length} bytes`, location);
  }
  const magic = viewOf(bytes).getInt8(POS_MAGIC);
  if (magic !== MAGIC) {
    throw new CorruptRecordError(
      `Unsupported record batch magic ${magic}: only format v2 (magic 2) is read`,
      location,
    );
  }
  if (bytes.length < RECORD_BATCH_OVERHEAD) {
    throw new CorruptRecordError(
      `Record batch truncated to ${bytes.length} bytes, less than its ${RECORD_BATCH_OVERHEAD}-byte header`,
      location,
    );
  }
}

function checkExactLength(bytes: Uint8Array, batchLength: number, location: string | undefined): void {
  if (LOG_OVERHEAD + batchLength !== bytes.length) {
    throw new CorruptRecordError(
      `Record batch length field says ${LOG_OVERHEAD + batchLength} bytes but there are ${bytes.length}`,
      location,
    );
  }
}

function checkCrc(bytes: Uint8Array, location: string | undefined): void {
  const stored = viewOf(bytes).getUint32(POS_CRC);
  const computed = crc32c(bytes.subarray(POS_ATTRIBUTES));
  if (stored !== computed) {
    throw new CorruptRecordError(
      `Record batch CRC-32C mismatch: stored 0x${stored.toString(16).padStart(8, '0')}, ` +
        `computed 0x${computed.toString(16).padStart(8, '0')}`,
      location,
    );
  }
}

function parseHeader(bytes: Uint8Array, location: string | undefined, exact: boolean): BatchHeader {
  checkMagicAndHeader(bytes, location);
  const view = viewOf(bytes);
  const batchLength = view.getInt32(POS_BATCH_LENGTH);
  if (exact) {
    checkExactLength(bytes, batchLength, location);
  } else if (
    batchLength < RECORD_BATCH_OVERHEAD - LOG_OVERHEAD ||
    LOG_OVERHEAD + batchLength > bytes.length
  ) {
    throw new CorruptRecordError(
      `Record batch length field says ${LOG_OVERHEAD + batchLength} bytes but there are ${bytes.length}`,
      location,
    );
  }
  const attributes = view.getInt16(POS_ATTRIBUTES);
  const compression = compressionFromCode(attributes & COMPRESSION_MASK);
  if (compression === undefined) {
    throw new CorruptRecordError(`Unknown compression codec id ${attributes & COMPRESSION_MASK}`, location);
  }
  const baseOffset = readSafeInt64(view, 0, 'baseOffset', location);
  const lastOffsetDelta = view.getInt32(POS_LAST_OFFSET_DELTA);
  const recordCount = view.getInt32(POS_RECORD_COUNT);
  if (baseOffset < 0 || lastOffsetDelta < 0 || !Number.isSafeInteger(baseOffset + lastOffsetDelta)) {
    throw new CorruptRecordError(
      `Invalid offsets: baseOffset ${baseOffset}, lastOffsetDelta ${lastOffsetDelta}`,
      location,
    );
  }
  if (recordCount < 0 || recordCount > lastOffsetDelta + 1) {
    throw new CorruptRecordError(
      `Invalid record count ${recordCount} for a batch covering ${lastOffsetDelta + 1} offsets`,
      location,
    );
  }
  return {
    baseOffset,
    batchLength,
    partitionLeaderEpoch: view.getInt32(POS_PARTITION_LEADER_EPOCH),
    magic: MAGIC,
    crc: view.getUint32(POS_CRC),
    compression,
    timestampType: attributes & TIMESTAMP_TYPE_LOG_APPEND ? 'log-append' : 'create',
    isTransactional: (attributes & TRANSACTIONAL) !== 0,
    isControl: (attributes & CONTROL) !== 0,
    lastOffsetDelta,
    baseTimestamp: readSafeInt64(view, POS_BASE_TIMESTAMP, 'baseTimestamp', location),
    maxTimestamp: readSafeInt64(view, POS_MAX_TIMESTAMP, 'maxTimestamp', location),
    producerId: view.getBigInt64(POS_PRODUCER_ID),
    producerEpoch: view.getInt16(POS_PRODUCER_EPOCH),
    baseSequence: view.getInt32(POS_BASE_SEQUENCE),
    recordCount,
  };
}

/** Adds `context` and `location` to a CorruptRecordError; rethrows anything else as it is. */
function relocate(error: unknown, context: string, location: string | undefined): unknown {
  if (error instanceof CorruptRecordError) {
    return new CorruptRecordError(`${context}: ${error.message}`, location);
  }
  return error;
}

/** Parses exactly `header.recordCount` records filling all of `data`. */
function decodeRecords(data: Uint8Array, header: BatchHeader, location: string | undefined): DecodedRecord[] {
  const count = header.recordCount;
  if (count * MIN_RECORD_SIZE > data.length) {
    throw new CorruptRecordError(
      `Batch at offset ${header.baseOffset} claims ${count} records in ${data.length} bytes of records`,
      location,
    );
  }
  const logAppendTime = header.timestampType === 'log-append';
  const records = new Array<DecodedRecord>(count);
  const cursor: Cursor = { offset: 0 };
  let previousDelta = -1;
  let i = 0;
  try {
    for (; i < count; i++) {
      const length = readVarint(data, cursor);
      const end = cursor.offset + length;
      if (length < MIN_RECORD_SIZE - 1 || end > data.length) {
        throw new CorruptRecordError(
          `length ${length} does not fit the ${data.length - cursor.offset} bytes left`,
        );
      }
      cursor.offset++; // record attributes: unused
      const timestampDelta = readVarlong(data, cursor, end);
      const offsetDelta = readVarint(data, cursor, end);
      if (offsetDelta <= previousDelta || offsetDelta > header.lastOffsetDelta) {
        throw new CorruptRecordError(
          `offset delta ${offsetDelta} is not after ${previousDelta} and within 0..${header.lastOffsetDelta}`,
        );
      }
      previousDelta = offsetDelta;
      const key = readBytes(data, cursor, end);
      const value = readBytes(data, cursor, end);
      const headerCount = readVarint(data, cursor, end);
      if (headerCount < 0 || headerCount * 2 > end - cursor.offset) {
        throw new CorruptRecordError(`header count ${headerCount} does not fit the record`);
      }
      const headers = new Array<RecordHeader>(headerCount);
      for (let h = 0; h < headerCount; h++) {
        const keyLength = readVarint(data, cursor, end);
        if (keyLength < 0 || cursor.offset + keyLength > end) {
          throw new CorruptRecordError(`header ${h} key length ${keyLength} is invalid`);
        }
        const keyStart = cursor.offset;
        cursor.offset += keyLength;
        headers[h] = {
          key: decodeUtf8(data.subarray(keyStart, cursor.offset), h),
          value: readBytes(data, cursor, end),
        };
      }
      if (cursor.offset !== end) {
        throw new CorruptRecordError(
          `length says ${length} bytes but its fields take ${cursor.offset - end + length}`,
        );
      }
      const timestamp = logAppendTime ? header.maxTimestamp : header.baseTimestamp + timestampDelta;
      if (!Number.isSafeInteger(timestamp)) {
        throw new CorruptRecordError(
          `timestamp ${header.baseTimestamp} + ${timestampDelta} is not a safe integer`,
        );
      }
      records[i] = { offset: header.baseOffset + offsetDelta, timestamp, key, value, headers };
    }
  } catch (error) {
    throw relocate(error, `Batch at offset ${header.baseOffset}, record ${i}`, location);
  }
  if (cursor.offset !== data.length) {
    throw new CorruptRecordError(
      `Batch at offset ${header.baseOffset} has ${data.length - cursor.offset} bytes after its ${count} records`,
      location,
    );
  }
  return records;
}

function readBytes(data: Uint8Array, cursor: Cursor, end: number): Uint8Array | null {
  const length = readVarint(data, cursor, end);
  if (length === -1) return null;
  const start = cursor.offset;
  if (length < -1 || start + length > end) {
    throw new CorruptRecordError(`byte length ${length} at byte ${start} is invalid`);
  }
  cursor.offset = start + length;
  return data.subarray(start, start + length);
}

function decodeUtf8(bytes: Uint8Array, index: number): string {
  try {
    return utf8.decode(bytes);
  } catch (error) {
    // A fatal TextDecoder reports malformed input as a TypeError.
    if (error instanceof TypeError) throw new CorruptRecordError(`header ${index} key is not valid UTF-8`);
    throw error;
  }
}
