/**
 * The compression codecs of Kafka's RecordBatch, with their codec ids (attributes bits 0-2) and
 * the byte formats Kafka's Java client writes and reads:
 * - gzip: a gzip stream (node:zlib).
 * - snappy: snappy-java's "xerial" framing on write; xerial-framed or one raw block on read.
 * - lz4: one LZ4 frame with independent 64 KiB blocks (see `lz4-frame.ts`).
 * - zstd: a Zstandard frame (node:zlib).
 */
import { promisify } from 'node:util';
import { constants, gunzip, gzip, zstdCompress, zstdDecompress } from 'node:zlib';
import { CorruptRecordError, InvalidArgumentError } from '../errors.ts';
import { lz4CompressFrame, lz4DecompressFrame } from './lz4-frame.ts';
import { snappyCompressXerial, snappyDecompress } from './snappy-xerial.ts';
import { checkZstdFrames } from './zstd-frame.ts';

/** How a batch's records are compressed. */
export type Compression = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';

/** Codec ids of the RecordBatch attributes (bits 0-2), indexed by id. */
const CODECS: readonly Compression[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];

/**
 * The largest decompressed size accepted (256 MiB): a batch that claims more is treated as
 * corrupt rather than allowed to exhaust memory.
 */
export const MAX_DECOMPRESSED_BYTES = 256 * 1024 * 1024;

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);
const zstdCompressAsync = promisify(zstdCompress);
const zstdDecompressAsync = promisify(zstdDecompress);

/**
 * Levels the codecs with levels use unless told otherwise: node:zlib's defaults (which are
 * Kafka's Java client's too), so our gzip bytes equal kafkajs's for the same batch.
 */
export const DEFAULT_COMPRESSION_LEVELS = { gzip: 6, zstd: 3 } as const;

/** Codecs that take a level, and the levels each accepts. */
const LEVEL_RANGES = { gzip: [1, 9], zstd: [1, 22] } as const;

/** The Kafka codec id (0-4) of `codec`. */
export function compressionCode(codec: Compression): number {
  const code = CODECS.indexOf(codec);
  if (code < 0) {
    throw new InvalidArgumentError(`Unknown compression "${String(codec)}": use one of ${CODECS.join(', ')}`);
  }
  return code;
}

/** The codec with Kafka codec id `code`, or `undefined` for an id Kafka does not define. */
export function compressionFromCode(code: number): Compression | undefined {
  return CODECS[code];
}

/**
 * Compresses `bytes` with `codec` (`'none'` returns them as they are), at `level` for gzip (1-9)
 * and zstd (1-22), by default {@link DEFAULT_COMPRESSION_LEVELS}.
 *
 * @throws InvalidArgumentError for an unknown codec, or a level the codec does not take.
 */
export async function compress(codec: Compression, bytes: Uint8Array, level?: number): Promise<Uint8Array> {
  if (level !== undefined) checkLevel(codec, level);
  switch (codec) {
    case 'none':
      return bytes;
    case 'gzip':
      return gzipAsync(bytes, { level: level ?? DEFAULT_COMPRESSION_LEVELS.gzip });
    case 'snappy':
      return snappyCompressXerial(bytes);
    case 'lz4':
      return lz4CompressFrame(bytes);
    case 'zstd':
      return zstdCompressAsync(bytes, {
        params: { [constants.ZSTD_c_compressionLevel]: level ?? DEFAULT_COMPRESSION_LEVELS.zstd },
        // Told the size up front, zstd sizes its window and tables to the input (a batch is at
        // most a few hundred KB) instead of streaming defaults: the same ratio for about 40% less
        // CPU on 128 KB batches. The frame then records the content size, as the zstd CLI's do.
        pledgedSrcSize: bytes.byteLength,
      });
    default:
      throw new InvalidArgumentError(
        `Unknown compression "${String(codec)}": use one of ${CODECS.join(', ')}`,
      );
  }
}

function checkLevel(codec: Compression, level: number): void {
  const range = codec === 'gzip' || codec === 'zstd' ? LEVEL_RANGES[codec] : undefined;
  if (!range) {
    throw new InvalidArgumentError(`Compression ${codec} takes no level; gzip and zstd do`);
  }
  if (!Number.isInteger(level) || level < range[0] || level > range[1]) {
    throw new InvalidArgumentError(
      `A ${codec} level is an integer from ${range[0]} to ${range[1]}, got ${level}`,
    );
  }
}

/**
 * Decompresses `bytes` written by `codec` (`'none'` returns them as they are).
 *
 * @throws CorruptRecordError when the bytes are not valid for the codec, fail one of its checks,
 *   or decompress to more than {@link MAX_DECOMPRESSED_BYTES}.
 * @throws InvalidArgumentError for an unknown codec.
 */
export async function decompress(codec: Compression, bytes: Uint8Array): Promise<Uint8Array> {
  switch (codec) {
    case 'none':
      return bytes;
    case 'gzip':
      return gunzipAsync(bytes, { maxOutputLength: MAX_DECOMPRESSED_BYTES }).catch((e: unknown) =>
        zlibFailure(codec, e),
      );
    case 'snappy':
      return snappyDecompress(bytes, MAX_DECOMPRESSED_BYTES);
    case 'lz4':
      return lz4DecompressFrame(bytes, MAX_DECOMPRESSED_BYTES);
    case 'zstd':
      checkZstdFrames(bytes);
      return zstdDecompressAsync(bytes, { maxOutputLength: MAX_DECOMPRESSED_BYTES }).catch((e: unknown) =>
        zlibFailure(codec, e),
      );
    default:
      throw new InvalidArgumentError(
        `Unknown compression "${String(codec)}": use one of ${CODECS.join(', ')}`,
      );
  }
}

/**
 * node:zlib reports bad input with a `code` (`Z_DATA_ERROR`, `ZSTD_error_*`, ...) and an output
 * over `maxOutputLength` as `ERR_BUFFER_TOO_LARGE`: those become {@link CorruptRecordError};
 * anything else is rethrown as it is.
 */
function zlibFailure(codec: Compression, error: unknown): never {
  const code = error instanceof Error && 'code' in error ? error.code : undefined;
  if (
    typeof code === 'string' &&
    (code.startsWith('Z_') || code.startsWith('ZSTD_') || code === 'ERR_BUFFER_TOO_LARGE')
  ) {
    throw new CorruptRecordError(
      `Cannot decompress ${codec} data: ${error instanceof Error ? error.message : code}`,
    );
  }
  throw error;
}
