/**
 * An append-only writer of Kafka's primitive types. Small values go into a scratch buffer; large
 * byte strings (record batches) are kept by reference and copied once, in {@link ByteWriter.finish},
 * so a Fetch response carrying megabytes of records is not copied on every buffer growth.
 * Every write checks that the value fits its wire type: `DataView` would silently wrap it.
 */
import { ProtocolError } from './errors.ts';

const UTF8 = new TextEncoder();
/** Byte strings at least this long are referenced rather than copied into the scratch buffer. */
const REFERENCE_THRESHOLD = 1024;
const INITIAL_SCRATCH = 256;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

function notEncodable(detail: string): ProtocolError {
  return new ProtocolError('NOT_ENCODABLE', detail);
}

function checkInteger(value: number, min: number, max: number, type: string): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw notEncodable(`${String(value)} is not a valid ${type} (${min}..${max})`);
  }
}

function checkInt64(value: bigint, type: string): void {
  if (typeof value !== 'bigint' || value < INT64_MIN || value > INT64_MAX) {
    throw notEncodable(`${String(value)} is not a valid ${type}`);
  }
}

/** The UTF-8 encoding of `value` (for callers that need its length before writing it). */
export function utf8Bytes(value: string): Uint8Array {
  if (typeof value !== 'string') throw notEncodable(`${String(value)} is not a string`);
  return UTF8.encode(value);
}

export class ByteWriter {
  readonly #chunks: Uint8Array[] = [];
  /** True once a caller's array is among the chunks: {@link ByteWriter.finish} must then copy. */
  #referenced = false;
  #flushed = 0;
  #scratch = new Uint8Array(INITIAL_SCRATCH);
  #view = new DataView(this.#scratch.buffer);
  #pos = 0;

  /** Bytes written so far. */
  get length(): number {
    return this.#flushed + this.#pos;
  }

  #room(size: number): void {
    if (this.#pos + size <= this.#scratch.length) return;
    this.#flush();
    if (size > this.#scratch.length) {
      this.#scratch = new Uint8Array(Math.max(size, this.#scratch.length * 2));
      this.#view = new DataView(this.#scratch.buffer);
    }
  }

  #flush(): void {
    if (this.#pos === 0) return;
    this.#chunks.push(this.#scratch.subarray(0, this.#pos));
    this.#flushed += this.#pos;
    // The flushed view keeps the old buffer alive; later writes go to a fresh one.
    this.#scratch = new Uint8Array(Math.min(this.#scratch.length * 2, 64 * 1024));
    this.#view = new DataView(this.#scratch.buffer);
    this.#pos = 0;
  }

  int8(value: number): void {
    checkInteger(value, -0x80, 0x7f, 'int8');
    this.#room(1);
    this.#view.setInt8(this.#pos, value);
    this.#pos += 1;
  }

  int16(value: number): void {
    checkInteger(value, -0x8000, 0x7fff, 'int16');
    this.#room(2);
    this.#view.setInt16(this.#pos, value);
    this.#pos += 2;
  }

  uint16(value: number): void {
    checkInteger(value, 0, 0xffff, 'uint16');
    this.#room(2);
    this.#view.setUint16(this.#pos, value);
    this.#pos += 2;
  }

  int32(value: number): void {
    checkInteger(value, -0x80000000, 0x7fffffff, 'int32');
    this.#room(4);
    this.#view.setInt32(this.#pos, value);
    this.#pos += 4;
  }

  int64(value: bigint): void {
    checkInt64(value, 'int64');
    this.#room(8);
    this.#view.setBigInt64(this.#pos, value);
    this.#pos += 8;
  }

  float64(value: number): void {
    if (typeof value !== 'number') throw notEncodable(`${String(value)} is not a float64`);
    this.#room(8);
    this.#view.setFloat64(this.#pos, value);
    this.#pos += 8;
  }

  bool(value: boolean): void {
    if (typeof value !== 'boolean') throw notEncodable(`${String(value)} is not a bool`);
    this.#room(1);
    this.#scratch[this.#pos++] = value ? 1 : 0;
  }

  /** A UUID given as `8-4-4-4-12` hex. */
  uuid(value: string): void {
    if (typeof value !== 'string' || !UUID.test(value)) throw notEncodable(`${String(value)} is not a UUID`);
    const hex = value.replaceAll('-', '');
    this.#room(16);
    for (let i = 0; i < 16; i++)
      this.#scratch[this.#pos++] = Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  }

  /** An unsigned varint of at most 32 bits. */
  uvarint(value: number): void {
    checkInteger(value, 0, 0xffffffff, 'unsigned varint');
    this.#room(5);
    let rest = value;
    while (rest >= 0x80) {
      this.#scratch[this.#pos++] = (rest % 0x80) | 0x80;
      rest = Math.floor(rest / 0x80);
    }
    this.#scratch[this.#pos++] = rest;
  }

  /** A zigzag varint holding an int32. */
  varint(value: number): void {
    checkInteger(value, -0x80000000, 0x7fffffff, 'varint');
    this.uvarint(value >= 0 ? value * 2 : -value * 2 - 1);
  }

  /** A zigzag varlong holding an int64. */
  varlong(value: bigint): void {
    checkInt64(value, 'varlong');
    let rest = value >= 0n ? value << 1n : (-value << 1n) - 1n;
    this.#room(10);
    while (rest >= 0x80n) {
      this.#scratch[this.#pos++] = Number(rest & 0x7fn) | 0x80;
      rest >>= 7n;
    }
    this.#scratch[this.#pos++] = Number(rest);
  }

  /** Raw bytes, without a length. */
  bytes(value: Uint8Array): void {
    if (!(value instanceof Uint8Array)) throw notEncodable('Expected a Uint8Array');
    if (value.length >= REFERENCE_THRESHOLD) {
      this.#flush();
      this.#chunks.push(value);
      this.#referenced = true;
      this.#flushed += value.length;
      return;
    }
    this.#room(value.length);
    this.#scratch.set(value, this.#pos);
    this.#pos += value.length;
  }

  /** Everything written, as one array. The writer is not used afterwards. */
  finish(): Uint8Array {
    if (this.#pos > 0) {
      this.#chunks.push(this.#scratch.subarray(0, this.#pos));
      this.#flushed += this.#pos;
      this.#pos = 0;
    }
    if (this.#chunks.length === 0) return new Uint8Array(0);
    if (this.#chunks.length === 1 && !this.#referenced) return this.#chunks[0] as Uint8Array;
    const out = new Uint8Array(this.#flushed);
    let at = 0;
    for (const chunk of this.#chunks) {
      out.set(chunk, at);
      at += chunk.length;
    }
    return out;
  }
}
