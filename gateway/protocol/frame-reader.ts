/**
 * Splits a TCP byte stream into Kafka frames: an int32 size, then that many bytes. Chunks may
 * end anywhere (inside the size, inside a frame, or after several frames). A declared size above
 * the maximum — a hostile or garbage stream, or TLS / HTTP bytes sent to a plaintext port — is
 * refused before anything is buffered for it; after that the stream cannot be resynchronised, so
 * the reader stays failed and the connection should be closed.
 */
import { ProtocolError } from './errors.ts';

/** Kafka's own default for `socket.request.max.bytes` (100 MiB). */
export const DEFAULT_MAX_FRAME_BYTES = 100 * 1024 * 1024;

export interface FrameReaderOptions {
  /** Largest frame payload accepted, in bytes. @default 104857600 (100 MiB, as Kafka) */
  readonly maxFrameBytes?: number;
}

const SIZE_BYTES = 4;

export class FrameReader {
  readonly #maxFrameBytes: number;
  /** Unconsumed input, oldest first; the first chunk may be a tail of what was pushed. */
  readonly #chunks: Uint8Array[] = [];
  #buffered = 0;
  /** Payload size of the frame being read, once its prefix is complete. */
  #size: number | undefined;
  /** Stream offset of the first unconsumed byte (for error positions). */
  #consumed = 0;
  #failure: ProtocolError | undefined;

  constructor(options: FrameReaderOptions = {}) {
    const max = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    if (!Number.isInteger(max) || max < 0 || max > 0x7fffffff) {
      throw new RangeError(`maxFrameBytes must be an integer from 0 to 2147483647, got ${max}`);
    }
    this.#maxFrameBytes = max;
  }

  /** Bytes received that do not yet form a complete frame. */
  get buffered(): number {
    return this.#buffered;
  }

  /**
   * Adds `chunk` and returns the frames it completes, in order (payloads without the size).
   * A frame that lies in one chunk is returned as a view into it.
   *
   * @throws ProtocolError `FRAME_TOO_LARGE` or `INVALID_LENGTH` for a bad size prefix; every
   *   later call throws the same error.
   */
  push(chunk: Uint8Array): Uint8Array[] {
    if (this.#failure !== undefined) throw this.#failure;
    if (chunk.length > 0) {
      this.#chunks.push(chunk);
      this.#buffered += chunk.length;
    }
    const frames: Uint8Array[] = [];
    for (;;) {
      if (this.#size === undefined) {
        if (this.#buffered < SIZE_BYTES) break;
        const prefix = this.#take(SIZE_BYTES);
        const size = new DataView(prefix.buffer, prefix.byteOffset, SIZE_BYTES).getInt32(0);
        this.#size = this.#checkSize(size);
      }
      if (this.#buffered < this.#size) break;
      frames.push(this.#take(this.#size));
      this.#size = undefined;
    }
    return frames;
  }

  #checkSize(size: number): number {
    const position = this.#consumed - SIZE_BYTES;
    if (size < 0) {
      this.#failure = new ProtocolError('INVALID_LENGTH', `A frame declares a negative size (${size})`, {
        position,
      });
    } else if (size > this.#maxFrameBytes) {
      this.#failure = new ProtocolError(
        'FRAME_TOO_LARGE',
        `A frame declares ${size} bytes, more than the maximum of ${this.#maxFrameBytes}`,
        { position },
      );
    }
    if (this.#failure !== undefined) {
      this.#chunks.length = 0;
      this.#buffered = 0;
      throw this.#failure;
    }
    return size;
  }

  /** Removes the next `size` buffered bytes (there are at least that many). */
  #take(size: number): Uint8Array {
    this.#buffered -= size;
    this.#consumed += size;
    const first = this.#chunks[0];
    if (first !== undefined && first.length >= size) {
      if (first.length === size) this.#chunks.shift();
      else this.#chunks[0] = first.subarray(size);
      return first.subarray(0, size);
    }
    const out = new Uint8Array(size);
    let filled = 0;
    while (filled < size) {
      const chunk = this.#chunks[0] as Uint8Array;
      const part = Math.min(chunk.length, size - filled);
      out.set(chunk.subarray(0, part), filled);
      filled += part;
      if (part === chunk.length) this.#chunks.shift();
      else this.#chunks[0] = chunk.subarray(part);
    }
    return out;
  }
}
