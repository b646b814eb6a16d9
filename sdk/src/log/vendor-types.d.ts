/** Types of the parts of the compression packages we use; neither ships its own. */

declare module 'snappyjs' {
  /** One raw Snappy block (no framing) of `input`. */
  export function compress(input: Uint8Array): Uint8Array;
  /** Decodes one raw Snappy block; throws a plain `Error` on some (not all) malformed input. */
  export function uncompress(input: Uint8Array, maxLength?: number): Uint8Array;
}

declare module 'lz4js' {
  /** One LZ4 frame of `input` (version 01, dependent 4 MiB blocks, no checksums). */
  export function compress(input: Uint8Array, maxSize?: number): Uint8Array;
  /** Decodes one LZ4 frame (checksums are skipped, not verified). */
  export function decompress(input: Uint8Array, maxSize?: number): Uint8Array;
}

declare module 'lz4js/xxh32.js' {
  /** xxHash32 of `src[index, index + length)`, as an unsigned 32-bit number. */
  export function hash(seed: number, src: Uint8Array, index: number, length: number): number;
}
