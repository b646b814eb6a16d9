/**
 * LZ4 frame format (magic 0x184D2204), the framing Kafka uses for `compression.type=lz4`.
 *
 * Writing follows Kafka's Java `Lz4BlockOutputStream`: version 01, independent blocks, 64 KiB
 * maximum block size, no content size or checksums, a block stored uncompressed when compressing
 * does not make it smaller, then the end mark. Kafka's reader rejects frames whose blocks are not
 * independent, which is why this does not use `lz4js.compress` (it writes dependent-block frames);
 * the block compressor here also keeps the format's end-of-block rules (the last match starts at
 * least 12 bytes before the end, the last 5 bytes are literals) that strict decoders rely on.
 *
 * Reading accepts any version-01 frame (dependent or independent blocks, 64 KiB to 4 MiB blocks,
 * content size, block and content checksums, which are verified) and checks every length and match
 * offset, so corrupt input fails instead of yielding wrong bytes. The xxHash32 of the frame
 * descriptor and checksums comes from lz4js.
 */
import { hash as xxh32 } from 'lz4js/xxh32.js';
import { CorruptRecordError } from '../errors.ts';

const MAGIC = 0x184d2204;
/** FLG: version 01, block independence. */
const FLG_WRITTEN = 0x60;
/** BD: maximum block size 64 KiB (code 4), as Kafka writes. */
const BD_WRITTEN = 0x40;
const BLOCK_SIZE_WRITTEN = 64 * 1024;
const UNCOMPRESSED_BIT = 0x80000000;

const MIN_MATCH = 4;
/** A match may not start within the last 12 bytes of a block. */
const MFLIMIT = 12;
/** The last 5 bytes of a block are always literals. */
const LAST_LITERALS = 5;
const MAX_OFFSET = 0xffff;
const HASH_LOG = 13;
/** Positions (relative to the block start) of the last 4-byte sequences seen, by hash; -1 = none. */
const hashTable = new Int32Array(1 << HASH_LOG);

function readU32LE(b: Uint8Array, i: number): number {
  return (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)) >>> 0;
}

function writeU32LE(b: Uint8Array, i: number, v: number): void {
  b[i] = v & 0xff;
  b[i + 1] = (v >>> 8) & 0xff;
  b[i + 2] = (v >>> 16) & 0xff;
  b[i + 3] = (v >>> 24) & 0xff;
}

function worstCaseBlock(length: number): number {
  return length + Math.ceil(length / 255) + 16;
}

/** Compresses `src` into one LZ4 frame the way Kafka's Java client does. */
export function lz4CompressFrame(src: Uint8Array): Uint8Array {
  const blocks = Math.ceil(src.length / BLOCK_SIZE_WRITTEN);
  const out = new Uint8Array(7 + blocks * (4 + worstCaseBlock(BLOCK_SIZE_WRITTEN)) + 4);
  writeU32LE(out, 0, MAGIC);
  out[4] = FLG_WRITTEN;
  out[5] = BD_WRITTEN;
  out[6] = (xxh32(0, out, 4, 2) >>> 8) & 0xff;
  let op = 7;
  for (let start = 0; start < src.length; start += BLOCK_SIZE_WRITTEN) {
    const end = Math.min(start + BLOCK_SIZE_WRITTEN, src.length);
    const size = compressBlock(src, start, end, out, op + 4);
    if (size > 0 && size < end - start) {
      writeU32LE(out, op, size);
      op += 4 + size;
    } else {
      writeU32LE(out, op, (UNCOMPRESSED_BIT | (end - start)) >>> 0);
      out.set(src.subarray(start, end), op + 4);
      op += 4 + end - start;
    }
  }
  writeU32LE(out, op, 0);
  op += 4;
  return out.subarray(0, op);
}

/**
 * LZ4 block compression of `src[start, end)` into `dst` at `dstStart` (room for the worst case is
 * the caller's job); returns the compressed size. Matches never reach before `start`, so every
 * block decodes on its own.
 */
function compressBlock(
  src: Uint8Array,
  start: number,
  end: number,
  dst: Uint8Array,
  dstStart: number,
): number {
  const table = hashTable;
  table.fill(-1);
  const shift = 32 - HASH_LOG;
  const matchStartLimit = end - MFLIMIT;
  const matchEndLimit = end - LAST_LITERALS;
  let op = dstStart;
  let anchor = start;
  let ip = start;
  let attempts = 1 << 6;
  while (ip <= matchStartLimit) {
    const seq = src[ip]! | (src[ip + 1]! << 8) | (src[ip + 2]! << 16) | (src[ip + 3]! << 24);
    const h = Math.imul(seq, 0x9e3779b1) >>> shift;
    const candidate = table[h]!;
    table[h] = ip - start;
    let ref = start + candidate;
    if (
      candidate < 0 ||
      ip - ref > MAX_OFFSET ||
      (src[ref]! | (src[ref + 1]! << 8) | (src[ref + 2]! << 16) | (src[ref + 3]! << 24)) !== seq
    ) {
      // Step further the longer nothing matches (LZ4's acceleration on incompressible data).
      ip += attempts++ >> 6;
      continue;
    }
    attempts = 1 << 6;
    // Extend the match backwards over pending literals, then forwards.
    while (ip > anchor && ref > start && src[ip - 1] === src[ref - 1]) {
      ip--;
      ref--;
    }
    let matchEnd = ip + MIN_MATCH;
    let r = ref + MIN_MATCH;
    while (matchEnd < matchEndLimit && src[matchEnd] === src[r]) {
      matchEnd++;
      r++;
    }
    const token = op;
    op = writeSequence(src, anchor, ip - anchor, dst, op);
    const offset = ip - ref;
    dst[op++] = offset & 0xff;
    dst[op++] = offset >>> 8;
    const extra = matchEnd - ip - MIN_MATCH;
    dst[token] = dst[token]! | Math.min(extra, 15);
    if (extra >= 15) op = writeLengthTail(dst, op, extra - 15);
    ip = matchEnd;
    anchor = ip;
  }
  op = writeSequence(src, anchor, end - anchor, dst, op);
  return op - dstStart;
}

/**
 * Writes a token (its match nibble left 0 for the caller) and `count` literals from `src[from]`;
 * returns the offset after them.
 */
function writeSequence(src: Uint8Array, from: number, count: number, dst: Uint8Array, start: number): number {
  let op = start;
  dst[op++] = Math.min(count, 15) << 4;
  if (count >= 15) op = writeLengthTail(dst, op, count - 15);
  dst.set(src.subarray(from, from + count), op);
  return op + count;
}

function writeLengthTail(dst: Uint8Array, start: number, rest: number): number {
  let op = start;
  let n = rest;
  while (n >= 255) {
    dst[op++] = 255;
    n -= 255;
  }
  dst[op++] = n;
  return op;
}

/**
 * Decodes one LZ4 frame that must span all of `src`.
 *
 * @param maxOutput - the largest decompressed size accepted.
 * @throws CorruptRecordError when the frame is malformed, truncated, fails a checksum, or decodes to
 *   more than `maxOutput` bytes.
 */
export function lz4DecompressFrame(src: Uint8Array, maxOutput: number): Uint8Array {
  if (src.length < 7) throw new CorruptRecordError('LZ4 frame is shorter than its header');
  if (readU32LE(src, 0) !== MAGIC) throw new CorruptRecordError('Not an LZ4 frame (bad magic number)');
  const flg = src[4]!;
  const bd = src[5]!;
  if (flg >>> 6 !== 1) throw new CorruptRecordError(`Unsupported LZ4 frame version ${flg >>> 6}`);
  if ((flg & 0x03) !== 0) throw new CorruptRecordError('LZ4 frame uses a dictionary or reserved flag');
  const independent = (flg & 0x20) !== 0;
  const blockChecksums = (flg & 0x10) !== 0;
  const hasContentSize = (flg & 0x08) !== 0;
  const contentChecksum = (flg & 0x04) !== 0;
  const sizeCode = (bd >>> 4) & 0x07;
  if ((bd & 0x8f) !== 0 || sizeCode < 4) {
    throw new CorruptRecordError(`Invalid LZ4 block descriptor 0x${bd.toString(16)}`);
  }
  const maxBlockSize = 1 << (2 * sizeCode + 8);
  let ip = 6;
  let contentSize = -1;
  if (hasContentSize) {
    if (src.length < 15) throw new CorruptRecordError('LZ4 frame is shorter than its header');
    contentSize = readU32LE(src, 6) + readU32LE(src, 10) * 0x100000000;
    if (contentSize > maxOutput) {
      throw new CorruptRecordError(`LZ4 content size ${contentSize} exceeds ${maxOutput}`);
    }
    ip = 14;
  }
  if (src[ip] !== ((xxh32(0, src, 4, ip - 4) >>> 8) & 0xff)) {
    throw new CorruptRecordError('LZ4 frame descriptor checksum mismatch');
  }
  ip++;

  // With a declared content size the output is allocated once; otherwise it grows by doubling.
  const cap = contentSize >= 0 ? contentSize : maxOutput;
  let out = new Uint8Array(
    contentSize >= 0 ? contentSize : Math.min(maxOutput, Math.max(1024, src.length * 4)),
  );
  let op = 0;
  for (;;) {
    if (ip + 4 > src.length) throw new CorruptRecordError('LZ4 frame is truncated (block size)');
    const word = readU32LE(src, ip);
    ip += 4;
    if (word === 0) break;
    const stored = (word & UNCOMPRESSED_BIT) !== 0;
    const size = word & 0x7fffffff;
    if (size > maxBlockSize) {
      throw new CorruptRecordError(`LZ4 block of ${size} bytes exceeds its maximum ${maxBlockSize}`);
    }
    if (ip + size + (blockChecksums ? 4 : 0) > src.length) {
      throw new CorruptRecordError('LZ4 frame is truncated (block)');
    }
    if (blockChecksums && xxh32(0, src, ip, size) !== readU32LE(src, ip + size)) {
      throw new CorruptRecordError('LZ4 block checksum mismatch');
    }
    const limit = Math.min(op + maxBlockSize, cap);
    if (out.length < limit) {
      const grown = new Uint8Array(Math.min(cap, Math.max(limit, out.length * 2)));
      grown.set(out.subarray(0, op));
      out = grown;
    }
    if (stored) {
      if (op + size > limit) throw new CorruptRecordError(`LZ4 frame decodes to more than ${cap} bytes`);
      out.set(src.subarray(ip, ip + size), op);
      op += size;
    } else {
      op = decompressBlock(src, ip, ip + size, out, op, limit, independent ? op : 0);
    }
    ip += size + (blockChecksums ? 4 : 0);
  }
  if (contentChecksum) {
    if (ip + 4 > src.length) throw new CorruptRecordError('LZ4 frame is truncated (content checksum)');
    if (xxh32(0, out, 0, op) !== readU32LE(src, ip)) {
      throw new CorruptRecordError('LZ4 content checksum mismatch');
    }
    ip += 4;
  }
  if (ip !== src.length) {
    throw new CorruptRecordError(`${src.length - ip} unexpected bytes after the LZ4 frame`);
  }
  if (contentSize >= 0 && op !== contentSize) {
    throw new CorruptRecordError(`LZ4 frame decoded to ${op} bytes, its header says ${contentSize}`);
  }
  return out.subarray(0, op);
}

/**
 * Decodes the LZ4 block `src[start, end)` into `dst` at `dstStart`, writing below `limit` and
 * copying matches from no earlier than `windowStart`; returns the offset after the output.
 */
function decompressBlock(
  src: Uint8Array,
  start: number,
  end: number,
  dst: Uint8Array,
  dstStart: number,
  limit: number,
  windowStart: number,
): number {
  let ip = start;
  let op = dstStart;
  for (;;) {
    if (ip >= end) throw new CorruptRecordError('LZ4 block ends inside a sequence');
    const token = src[ip++]!;
    let literals = token >>> 4;
    if (literals === 15) {
      let b = 255;
      while (b === 255) {
        if (ip >= end) throw new CorruptRecordError('LZ4 block ends inside a literal length');
        b = src[ip++]!;
        literals += b;
      }
    }
    if (ip + literals > end) throw new CorruptRecordError('LZ4 literals run past the end of the block');
    if (op + literals > limit) throw new CorruptRecordError('LZ4 block decodes past its size limit');
    dst.set(src.subarray(ip, ip + literals), op);
    ip += literals;
    op += literals;
    if (ip === end) return op; // the last sequence has literals only
    if (ip + 2 > end) throw new CorruptRecordError('LZ4 block ends inside a match offset');
    const offset = src[ip]! | (src[ip + 1]! << 8);
    ip += 2;
    if (offset === 0 || op - offset < windowStart) {
      throw new CorruptRecordError(`Invalid LZ4 match offset ${offset}`);
    }
    let length = token & 0x0f;
    if (length === 15) {
      let b = 255;
      while (b === 255) {
        if (ip >= end) throw new CorruptRecordError('LZ4 block ends inside a match length');
        b = src[ip++]!;
        length += b;
      }
    }
    length += MIN_MATCH;
    if (op + length > limit) throw new CorruptRecordError('LZ4 block decodes past its size limit');
    let from = op - offset;
    if (offset >= length) {
      dst.copyWithin(op, from, from + length);
      op += length;
    } else {
      // Overlapping copy: the match repeats the last `offset` bytes.
      const stop = op + length;
      while (op < stop) dst[op++] = dst[from++]!;
    }
  }
}
