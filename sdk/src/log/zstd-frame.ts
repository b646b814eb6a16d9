/**
 * A structural check of Zstandard data (RFC 8878) before it is decompressed. node:zlib's zstd
 * decoder returns what it decoded so far, without an error, when the input stops early; walking
 * the frame and block headers first makes a truncated or padded input fail instead.
 */
import { CorruptRecordError } from '../errors.ts';

const ZSTD_MAGIC = 0xfd2fb528;
/** Skippable frames use magics 0x184D2A50 to 0x184D2A5F. */
const SKIPPABLE_MAGIC_BASE = 0x184d2a50;
const DICTIONARY_ID_SIZES = [0, 1, 2, 4] as const;
const CONTENT_SIZE_SIZES = [0, 2, 4, 8] as const;
const BLOCK_TYPE_RLE = 1;
const BLOCK_TYPE_RESERVED = 3;

function readU32LE(b: Uint8Array, i: number): number {
  return (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)) >>> 0;
}

/**
 * Checks that `bytes` is one or more complete Zstandard (or skippable) frames, with nothing
 * missing or left over, and at least one Zstandard frame.
 *
 * @throws CorruptRecordError when it is not.
 */
export function checkZstdFrames(bytes: Uint8Array): void {
  let ip = 0;
  let frames = 0;
  const truncated = (): CorruptRecordError => new CorruptRecordError('Zstandard data is truncated');
  while (ip < bytes.length) {
    if (ip + 4 > bytes.length) throw truncated();
    const magic = readU32LE(bytes, ip);
    ip += 4;
    if ((magic & 0xfffffff0) === SKIPPABLE_MAGIC_BASE) {
      if (ip + 4 > bytes.length) throw truncated();
      ip += 4 + readU32LE(bytes, ip);
      if (ip > bytes.length) throw truncated();
      continue;
    }
    if (magic !== ZSTD_MAGIC) {
      throw new CorruptRecordError(`Not a Zstandard frame (magic 0x${magic.toString(16)})`);
    }
    if (ip >= bytes.length) throw truncated();
    const descriptor = bytes[ip++]!;
    if ((descriptor & 0x08) !== 0) {
      throw new CorruptRecordError('Zstandard frame header has its reserved bit set');
    }
    const singleSegment = (descriptor & 0x20) !== 0;
    const contentSizeFlag = descriptor >>> 6;
    const contentSizeBytes =
      contentSizeFlag === 0 && singleSegment ? 1 : CONTENT_SIZE_SIZES[contentSizeFlag]!;
    ip += (singleSegment ? 0 : 1) + DICTIONARY_ID_SIZES[descriptor & 0x03]! + contentSizeBytes;
    for (let last = false; !last; ) {
      if (ip + 3 > bytes.length) throw truncated();
      const header = bytes[ip]! | (bytes[ip + 1]! << 8) | (bytes[ip + 2]! << 16);
      ip += 3;
      last = (header & 1) === 1;
      const type = (header >>> 1) & 0x03;
      if (type === BLOCK_TYPE_RESERVED) throw new CorruptRecordError('Zstandard block has the reserved type');
      ip += type === BLOCK_TYPE_RLE ? 1 : header >>> 3;
      if (ip > bytes.length) throw truncated();
    }
    if ((descriptor & 0x04) !== 0) ip += 4; // content checksum
    if (ip > bytes.length) throw truncated();
    frames++;
  }
  if (frames === 0) throw new CorruptRecordError('Zstandard data holds no frame');
}
