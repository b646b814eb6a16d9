/**
 * Bytes on the wire: keys, values and header values are UTF-8 text or base64 in JSON bodies.
 * Decoding is strict — a malformed base64 string is a 400 naming the field, never silently
 * mangled bytes written to the log.
 */
import type { Encoding } from '../../sdk/src/api/schemas.ts';
import type { ConsumedHeader } from '../../sdk/src/consumer.ts';
import { InvalidArgumentError } from '../../sdk/src/errors.ts';

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Bytes of a string in a request (`field` names it in the error). */
export function decodeBytes(text: string, encoding: Encoding, field: string): Buffer {
  if (encoding === 'utf8') return Buffer.from(text, 'utf8');
  if (!BASE64.test(text)) throw new InvalidArgumentError(`${field} is not valid base64 (encoding is base64)`);
  return Buffer.from(text, 'base64');
}

/** A string for bytes in a response. */
export function encodeBytes(bytes: Buffer | null, encoding: Encoding): string | null {
  if (bytes === null) return null;
  return encoding === 'utf8' ? bytes.toString('utf8') : bytes.toString('base64');
}

/** Headers of a consumed record on the wire. */
export function encodeHeaders(
  headers: readonly ConsumedHeader[],
  encoding: Encoding,
): { key: string; value: string | null }[] {
  return headers.map((h) => ({ key: h.key, value: encodeBytes(h.value, encoding) }));
}

/** An optional date as an ISO string or null. */
export function isoOrNull(date: Date | undefined): string | null {
  return date ? date.toISOString() : null;
}
