/** Turning application values into record bytes and back. */
import { InvalidArgumentError } from './errors.ts';

/** Turns an application value into record bytes (`null` for a tombstone). */
export type Serializer<V> = (value: V) => Uint8Array | string | null;

/** Turns record bytes (`null` for a tombstone) into an application value. */
export type Deserializer<V> = (bytes: Buffer | null) => V;

/** Values the default serializer accepts: text (UTF-8), bytes, or `null`. */
export type RawValue = string | Uint8Array | null;

/** The default serializer: strings as UTF-8, bytes as they are. */
export const rawSerializer: Serializer<RawValue> = (value) => {
  if (value === null || typeof value === 'string' || value instanceof Uint8Array) return value;
  throw new InvalidArgumentError(
    `A record value must be a string, a Uint8Array/Buffer or null, got ${typeof value}. ` +
      'Pass a serializer (e.g. jsonSerializer()) to send other values.',
  );
};

/** The default deserializer: the bytes as a Buffer. */
export const rawDeserializer: Deserializer<Buffer | null> = (bytes) => bytes;

/** Serializes values as JSON text; the type parameter documents what the topic carries. */
export function jsonSerializer<T>(): Serializer<T> {
  return (value) => {
    const text = JSON.stringify(value);
    if (text === undefined)
      throw new InvalidArgumentError(`Value ${String(value)} cannot be serialized as JSON`);
    return text;
  };
}

/** Parses JSON values; `null` records (tombstones) become `null`. */
export function jsonDeserializer<T>(): Deserializer<T | null> {
  return (bytes) => (bytes === null ? null : (JSON.parse(bytes.toString('utf8')) as T));
}

/** Bytes of a serialized value. */
export function toBytes(value: Uint8Array | string | null): Uint8Array | null {
  if (value === null) return null;
  return typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
}
