/**
 * A bounds-checked read cursor over one frame. Every read checks the bytes left first, so
 * truncated input fails with a {@link ProtocolError} at the first missing byte, and a declared
 * length larger than what is left fails before anything is allocated for it.
 */
import { ProtocolError } from './errors.ts';

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

export class ByteReader {
  readonly #bytes: Uint8Array;
  readonly #view: DataView;
  readonly #end: number;
  #pos: number;

  /** Reads `bytes` from `start` up to (not including) `end`. */
  constructor(bytes: Uint8Array, start = 0, end = bytes.length) {
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.#pos = start;
    this.#end = end;
  }

  /** Position of the next byte, relative to the start of the underlying array. */
  get position(): number {
    return this.#pos;
  }

  get remaining(): number {
    return this.#end - this.#pos;
  }

  /**
   * Fails unless `count` items of at least `minBytes` bytes each can still follow. Used for
   * declared lengths and counts, so a hostile count fails before a loop or allocation.
   */
  expect(count: number, minBytes: number, what: string): void {
    if (count * minBytes > this.remaining) {
      throw new ProtocolError(
        'TRUNCATED',
        `${what} declares ${count}${minBytes === 1 ? ' bytes' : ` items of at least ${minBytes} bytes`} but ${this.remaining} bytes are left`,
        { position: this.#pos },
      );
    }
  }

  #take(size: number, what: string): number {
    if (size > this.remaining) {
      throw new ProtocolError('TRUNCATED', `${what} needs ${size} bytes but ${this.remaining} are left`, {
        position: this.#pos,
      });
    }
    const at = this.#pos;
    this.#pos += size;
    return at;
  }

  int8(): number {
    return this.#view.getInt8(this.#take(1, 'an int8'));
  }

  int16(): number {
    return this.#view.getInt16(this.#take(2, 'an int16'));
  }

  uint16(): number {
    return this.#view.getUint16(this.#take(2, 'a uint16'));
  }

  int32(): number {
    return this.#view.getInt32(this.#take(4, 'an int32'));
  }

  int64(): bigint {
    return this.#view.getBigInt64(this.#take(8, 'an int64'));
  }

  float64(): number {
    return this.#view.getFloat64(this.#take(8, 'a float64'));
  }

  /** Kafka reads any non-zero byte as true. */
  bool(): boolean {
    return this.#view.getInt8(this.#take(1, 'a bool')) !== 0;
  }

  /** A UUID as lowercase `8-4-4-4-12` hex. */
  uuid(): string {
    const at = this.#take(16, 'a uuid');
    let hex = '';
    for (let i = 0; i < 16; i++) {
      hex += HEX[this.#bytes[at + i] as number];
      if (i === 3 || i === 5 || i === 7 || i === 9) hex += '-';
    }
    return hex;
  }

  /** An unsigned varint of at most 32 bits (5 bytes), as Kafka's compact lengths and tags use. */
  uvarint(): number {
    const start = this.#pos;
    let value = 0;
    for (let i = 0; i < 5; i++) {
      const byte = this.#bytes[this.#take(1, 'a varint')] as number;
      if (i === 4 && byte > 0x0f) {
        throw new ProtocolError('INVALID_LENGTH', 'An unsigned varint exceeds 32 bits', { position: start });
      }
      value += (byte & 0x7f) * 2 ** (7 * i);
      if (byte < 0x80) return value;
    }
    throw new ProtocolError('INVALID_LENGTH', 'An unsigned varint is longer than 5 bytes', {
      position: start,
    });
  }

  /** A zigzag varint holding an int32. */
  varint(): number {
    const zz = this.uvarint();
    // zz < 2^32: halve without bit operators (which would truncate to int32) and restore the sign.
    return zz % 2 === 0 ? zz / 2 : -(zz + 1) / 2;
  }

  /** A zigzag varlong holding an int64 (at most 10 bytes). */
  varlong(): bigint {
    const start = this.#pos;
    let value = 0n;
    for (let i = 0; i < 10; i++) {
      const byte = this.#bytes[this.#take(1, 'a varlong')] as number;
      if (i === 9 && byte > 0x01) {
        throw new ProtocolError('INVALID_LENGTH', 'A varlong exceeds 64 bits', { position: start });
      }
      value |= BigInt(byte & 0x7f) << BigInt(7 * i);
      if (byte < 0x80) return (value >> 1n) ^ -(value & 1n);
    }
    throw new ProtocolError('INVALID_LENGTH', 'A varlong is longer than 10 bytes', { position: start });
  }

  /**
   * The next `size` bytes as a view into the frame (no copy). Always a plain `Uint8Array`, also
   * when the frame is a Node `Buffer`, so decoded messages do not depend on where bytes came from.
   */
  bytes(size: number): Uint8Array {
    this.expect(size, 1, 'A byte string');
    const at = this.#take(size, 'a byte string');
    return new Uint8Array(this.#bytes.buffer, this.#bytes.byteOffset + at, size);
  }

  /** The next `size` bytes decoded as UTF-8; malformed UTF-8 is an error, not replaced. */
  utf8(size: number): string {
    this.expect(size, 1, 'A string');
    const at = this.#take(size, 'a string');
    try {
      return UTF8.decode(this.#bytes.subarray(at, at + size));
    } catch (cause) {
      throw new ProtocolError('INVALID_VALUE', 'A string is not valid UTF-8', { position: at, cause });
    }
  }

  /** A reader over the next `size` bytes; this reader moves past them. */
  sub(size: number): ByteReader {
    this.expect(size, 1, 'A tagged field');
    const at = this.#take(size, 'a tagged field');
    return new ByteReader(this.#bytes, at, at + size);
  }
}
