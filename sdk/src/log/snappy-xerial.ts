/**
 * Snappy as Kafka uses it for `compression.type=snappy`.
 *
 * Kafka's Java client writes through snappy-java's `SnappyOutputStream`, whose "xerial" framing
 * is a 16-byte header (0x82 "SNAPPY" 0x00, then big-endian int32 version 1 and int32 minimum
 * compatible version 1) followed by blocks, each a big-endian int32 length and a raw Snappy
 * block compressing at most 32 KiB of input. Other clients (kafkajs-snappy, librdkafka on some
 * paths) write one raw Snappy block without framing; readers, Kafka's included, accept both.
 *
 * Compression writes the xerial framing, raw blocks from snappyjs. Decompression is implemented
 * here rather than with `snappyjs.uncompress`, which does not check that a block fills exactly
 * its declared length (a short or overlong block would come back zero-padded or cut): this
 * decoder checks every length and copy offset and fails instead.
 */
import { compress as snappyCompressBlock } from 'snappyjs';
import { CorruptRecordError } from '../errors.ts';

const XERIAL_MAGIC = [0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00] as const;
const XERIAL_HEADER_SIZE = 16;
const XERIAL_VERSION = 1;
const XERIAL_MIN_COMPATIBLE_VERSION = 1;
/** snappy-java's default block size. */
const XERIAL_BLOCK_SIZE = 32 * 1024;

/** True when `bytes` starts with the xerial (snappy-java) stream header. */
export function isXerialFramed(bytes: Uint8Array): boolean {
  if (bytes.length < XERIAL_HEADER_SIZE) return false;
  for (let i = 0; i < XERIAL_MAGIC.length; i++) if (bytes[i] !== XERIAL_MAGIC[i]) return false;
  return true;
}

/** Compresses `src` in the xerial framing, as Kafka's Java client does. */
export function snappyCompressXerial(src: Uint8Array): Uint8Array {
  const blocks: Uint8Array[] = [];
  let size = XERIAL_HEADER_SIZE;
  for (let start = 0; start < src.length; start += XERIAL_BLOCK_SIZE) {
    const block = snappyCompressBlock(src.subarray(start, Math.min(start + XERIAL_BLOCK_SIZE, src.length)));
    blocks.push(block);
    size += 4 + block.length;
  }
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  out.set(XERIAL_MAGIC, 0);
  view.setInt32(8, XERIAL_VERSION);
  view.setInt32(12, XERIAL_MIN_COMPATIBLE_VERSION);
  let op = XERIAL_HEADER_SIZE;
  for (const block of blocks) {
    view.setInt32(op, block.length);
    out.set(block, op + 4);
    op += 4 + block.length;
  }
  return out;
}

/**
 * Decompresses xerial-framed Snappy or one raw Snappy block.
 *
 * @param maxOutput - the largest decompressed size accepted.
 * @throws CorruptRecordError on malformed or truncated input, or more than `maxOutput` bytes.
 */
export function snappyDecompress(src: Uint8Array, maxOutput: number): Uint8Array {
  // snappy-java's stream writes nothing at all, not even its header, for empty input.
  if (src.length === 0) return new Uint8Array(0);
  if (!isXerialFramed(src)) {
    const length = uncompressedLength(src, 0, src.length);
    if (length.value > maxOutput) {
      throw new CorruptRecordError(`Snappy data decodes to more than ${maxOutput} bytes`);
    }
    const out = new Uint8Array(length.value);
    decompressBlock(src, length.next, src.length, out, 0, length.value);
    return out;
  }
  // First pass: find the blocks and add up their declared sizes, so the output is allocated once.
  const view = new DataView(src.buffer, src.byteOffset, src.byteLength);
  const starts: number[] = [];
  let total = 0;
  let ip = XERIAL_HEADER_SIZE;
  while (ip < src.length) {
    if (ip + 4 > src.length) throw new CorruptRecordError('Xerial Snappy stream is truncated (block length)');
    const size = view.getInt32(ip);
    if (size <= 0 || ip + 4 + size > src.length) {
      throw new CorruptRecordError(`Xerial Snappy block length ${size} at byte ${ip} is invalid`);
    }
    starts.push(ip + 4);
    total += uncompressedLength(src, ip + 4, ip + 4 + size).value;
    if (total > maxOutput) {
      throw new CorruptRecordError(`Snappy data decodes to more than ${maxOutput} bytes`);
    }
    ip += 4 + size;
  }
  const out = new Uint8Array(total);
  let op = 0;
  for (const start of starts) {
    const end = start + view.getInt32(start - 4);
    const length = uncompressedLength(src, start, end);
    decompressBlock(src, length.next, end, out, op, op + length.value);
    op += length.value;
  }
  return out;
}

/** The uncompressed length (an unsigned varint of at most 32 bits) that opens a raw block. */
function uncompressedLength(src: Uint8Array, start: number, end: number): { value: number; next: number } {
  let value = 0;
  let ip = start;
  for (let shift = 0; shift < 35; shift += 7) {
    if (ip >= end) throw new CorruptRecordError('Snappy block is truncated (length)');
    const b = src[ip++]!;
    if (shift === 28 && b > 0x0f) throw new CorruptRecordError('Snappy block length does not fit 32 bits');
    value += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) return { value, next: ip };
  }
  throw new CorruptRecordError('Snappy block length is longer than 5 bytes');
}

/** Decodes the elements of a raw block in `src[start, end)` into exactly `dst[dstStart, dstEnd)`. */
function decompressBlock(
  src: Uint8Array,
  start: number,
  end: number,
  dst: Uint8Array,
  dstStart: number,
  dstEnd: number,
): void {
  let ip = start;
  let op = dstStart;
  while (ip < end) {
    const tag = src[ip++]!;
    let length: number;
    let offset: number;
    switch (tag & 0x03) {
      case 0: {
        // Literal: length - 1 in the tag's upper 6 bits, or in the next 1-4 bytes (60..63).
        length = tag >>> 2;
        if (length >= 60) {
          const n = length - 59;
          if (ip + n > end) throw new CorruptRecordError('Snappy block is truncated (literal length)');
          length = 0;
          for (let i = n - 1; i >= 0; i--) length = length * 256 + src[ip + i]!;
          ip += n;
        }
        length += 1;
        if (ip + length > end) throw new CorruptRecordError('Snappy literal runs past the end of the block');
        if (op + length > dstEnd) {
          throw new CorruptRecordError('Snappy block decodes past its declared length');
        }
        dst.set(src.subarray(ip, ip + length), op);
        ip += length;
        op += length;
        continue;
      }
      case 1:
        if (ip + 1 > end) throw new CorruptRecordError('Snappy block is truncated (copy)');
        length = ((tag >>> 2) & 0x07) + 4;
        offset = ((tag >>> 5) << 8) | src[ip]!;
        ip += 1;
        break;
      case 2:
        if (ip + 2 > end) throw new CorruptRecordError('Snappy block is truncated (copy)');
        length = (tag >>> 2) + 1;
        offset = src[ip]! | (src[ip + 1]! << 8);
        ip += 2;
        break;
      default:
        if (ip + 4 > end) throw new CorruptRecordError('Snappy block is truncated (copy)');
        length = (tag >>> 2) + 1;
        offset = (src[ip]! | (src[ip + 1]! << 8) | (src[ip + 2]! << 16) | (src[ip + 3]! << 24)) >>> 0;
        ip += 4;
    }
    if (offset === 0 || offset > op - dstStart) {
      throw new CorruptRecordError(`Invalid Snappy copy offset ${offset}`);
    }
    if (op + length > dstEnd) throw new CorruptRecordError('Snappy block decodes past its declared length');
    let from = op - offset;
    if (offset >= length) {
      dst.copyWithin(op, from, from + length);
      op += length;
    } else {
      const stop = op + length;
      while (op < stop) dst[op++] = dst[from++]!;
    }
  }
  if (op !== dstEnd) {
    throw new CorruptRecordError(`Snappy block decoded to ${op - dstStart} of ${dstEnd - dstStart} bytes`);
  }
}
