/**
 * Kafka's variable-length integers (the protobuf encoding): zigzag maps signed to unsigned
 * (0→0, -1→1, 1→2, -2→3, ...), then 7 bits per byte, least significant group first, high bit
 * set on every byte but the last. A varint holds an int32 (at most 5 bytes), a varlong an int64
 * (at most 10 bytes).
 *
 * Varints are JS numbers. Varlongs are JS numbers too, limited to safe integers (±(2^53 - 1)):
 * a varlong outside that range is rejected on read rather than rounded.
 *
 * Writers take the buffer and the offset to write at and return the offset after the value;
 * readers advance a {@link Cursor}. Neither allocates.
 */
import { CorruptRecordError, InvalidArgumentError } from '../errors.ts';

/** A read position in a buffer, advanced by the readers. */
export interface Cursor {
  offset: number;
}

const INT32_MIN = -0x80000000;
const INT32_MAX = 0x7fffffff;
/** Values whose zigzag form fits 31 bits take the int32 fast path in the varlong functions. */
const FAST_MIN = -0x40000000;
const FAST_MAX = 0x3fffffff;

/** Bytes of `value` (an int32) as a zigzag varint: 1 to 5. */
export function sizeOfVarint(value: number): number {
  const zz = ((value << 1) ^ (value >> 31)) >>> 0;
  if (zz < 0x80) return 1;
  if (zz < 0x4000) return 2;
  if (zz < 0x200000) return 3;
  if (zz < 0x10000000) return 4;
  return 5;
}

/**
 * Writes `value` as a zigzag varint at `offset`; returns the offset after it. The buffer must
 * have room ({@link sizeOfVarint}).
 *
 * @throws InvalidArgumentError when `value` is not an int32.
 */
export function writeVarint(bytes: Uint8Array, offset: number, value: number): number {
  if (!Number.isInteger(value) || value < INT32_MIN || value > INT32_MAX) {
    throw new InvalidArgumentError(`A varint must be a 32-bit signed integer, got ${value}`);
  }
  let zz = ((value << 1) ^ (value >> 31)) >>> 0;
  let pos = offset;
  while (zz >= 0x80) {
    bytes[pos++] = (zz & 0x7f) | 0x80;
    zz >>>= 7;
  }
  bytes[pos++] = zz;
  return pos;
}

/**
 * Reads a zigzag varint at `cursor.offset` (advancing it, not past `end`).
 *
 * @param end - where the readable bytes stop. @default bytes.length
 * @throws CorruptRecordError when the varint runs past `end` or does not fit 32 bits.
 */
export function readVarint(bytes: Uint8Array, cursor: Cursor, end = bytes.length): number {
  let pos = cursor.offset;
  let zz = 0;
  for (let shift = 0; shift < 35; shift += 7) {
    if (pos >= end) throw new CorruptRecordError(`Truncated varint at byte ${cursor.offset}`);
    const b = bytes[pos++]!;
    if (shift === 28 && b > 0x0f) {
      throw new CorruptRecordError(`Varint at byte ${cursor.offset} does not fit 32 bits`);
    }
    zz |= (b & 0x7f) << shift;
    if (b < 0x80) {
      cursor.offset = pos;
      return (zz >>> 1) ^ -(zz & 1);
    }
  }
  // Unreachable: the fifth byte either ends the varint or fails the 32-bit check above.
  throw new CorruptRecordError(`Varint at byte ${cursor.offset} is longer than 5 bytes`);
}

function checkVarlong(value: number): void {
  if (!Number.isSafeInteger(value)) {
    throw new InvalidArgumentError(`A varlong must be a safe integer (±(2^53 - 1)), got ${value}`);
  }
}

/** Bytes of `value` (a safe integer) as a zigzag varlong: 1 to 8. */
export function sizeOfVarlong(value: number): number {
  if (value >= FAST_MIN && value <= FAST_MAX) return sizeOfVarint(value);
  checkVarlong(value);
  // zigzag(value) = 2 * magnitude + sign; count its 7-bit groups without 32-bit arithmetic.
  let rest = (value >= 0 ? value : -value - 1) / 64;
  let size = 1;
  while (rest >= 1) {
    rest /= 128;
    size++;
  }
  return size;
}

/**
 * Writes `value` as a zigzag varlong at `offset`; returns the offset after it. The buffer must
 * have room ({@link sizeOfVarlong}).
 *
 * @throws InvalidArgumentError when `value` is not a safe integer.
 */
export function writeVarlong(bytes: Uint8Array, offset: number, value: number): number {
  if (value >= FAST_MIN && value <= FAST_MAX) return writeVarint(bytes, offset, value);
  checkVarlong(value);
  // zigzag(value) = 2 * magnitude + sign, with magnitude = value or -value - 1 (both safe).
  const sign = value < 0 ? 1 : 0;
  let magnitude = sign ? -value - 1 : value;
  let pos = offset;
  let group = ((magnitude % 64) << 1) | sign;
  magnitude = Math.floor(magnitude / 64);
  while (magnitude > 0) {
    bytes[pos++] = group | 0x80;
    group = magnitude % 128;
    magnitude = Math.floor(magnitude / 128);
  }
  bytes[pos++] = group;
  return pos;
}

/**
 * Reads a zigzag varlong at `cursor.offset` (advancing it, not past `end`).
 *
 * @param end - where the readable bytes stop. @default bytes.length
 * @throws CorruptRecordError when the varlong runs past `end`, is longer than 10 bytes, or its
 *   value is not a safe integer.
 */
export function readVarlong(bytes: Uint8Array, cursor: Cursor, end = bytes.length): number {
  const start = cursor.offset;
  if (start >= end) throw new CorruptRecordError(`Truncated varlong at byte ${start}`);
  const first = bytes[start]!;
  const sign = first & 1;
  // magnitude = zigzag >>> 1: the first byte gives 6 bits, each next byte 7 more.
  let magnitude = (first & 0x7e) >>> 1;
  let pos = start + 1;
  let b = first;
  let scale = 64;
  while (b >= 0x80) {
    if (pos - start >= 10) throw new CorruptRecordError(`Varlong at byte ${start} is longer than 10 bytes`);
    if (pos >= end) throw new CorruptRecordError(`Truncated varlong at byte ${start}`);
    b = bytes[pos++]!;
    magnitude += (b & 0x7f) * scale;
    scale *= 128;
  }
  // Each term is exact and the sum only rounds once it is past 2^53, so this check is reliable.
  if (magnitude > Number.MAX_SAFE_INTEGER - sign) {
    throw new CorruptRecordError(`Varlong at byte ${start} is outside the safe integer range`);
  }
  cursor.offset = pos;
  return sign ? -magnitude - 1 : magnitude;
}
