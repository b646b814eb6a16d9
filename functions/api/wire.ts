/**
 * Bytes on the wire: keys, values and header values are UTF-8 text or base64 in JSON bodies.
 * Decoding is strict — a malformed base64 string is a 400 naming the field, never silently
 * mangled bytes written to the log.
 */
import { type ConsumedHeader, InvalidArgumentError, RecordTooLargeError } from '../../sdk/src/index.ts';
import { type Encoding, MAX_RESPONSE_BYTES, type RawRecord } from '../../sdk/src/internal.ts';

/**
 * Bytes of a string in a request (`field` names it in the error). Base64 must be canonical
 * standard base64 (RFC 4648 §4): the `+/` alphabet, `=` padding to a multiple of 4, zero bits
 * after the last byte, no whitespace. Node's decoder is lenient — it also takes base64url's `-_`,
 * skips characters outside the alphabet, stops at early padding and ignores trailing bits — so two
 * different strings could write the same bytes. Re-encoding the decoded bytes gives the one
 * canonical string, and any other input differs from it (a regex would cost 8x the decode).
 */
export function decodeBytes(text: string, encoding: Encoding, field: string): Buffer {
  if (encoding === 'utf8') return Buffer.from(text, 'utf8');
  const bytes = Buffer.from(text, 'base64');
  if (bytes.toString('base64') !== text) {
    throw new InvalidArgumentError(
      `${field} is not valid base64 (encoding is base64: canonical standard base64, the alphabet A-Z a-z 0-9 + / padded with = to a multiple of 4)`,
    );
  }
  return bytes;
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

/** A consumed record as the API returns it. */
export interface WireRecord {
  readonly offset: number;
  readonly timestamp: number;
  readonly key: string | null;
  readonly value: string | null;
  readonly headers: { key: string; value: string | null }[];
}

/** A record on the wire. */
export function encodeRecord(r: RawRecord, encoding: Encoding): WireRecord {
  return {
    offset: r.offset,
    timestamp: r.timestamp,
    key: encodeBytes(r.key, encoding),
    value: encodeBytes(r.value, encoding),
    headers: encodeHeaders(r.headers, encoding),
  };
}

/** Room kept below Lambda's response limit for everything but the records (names, envelope). */
const RESPONSE_MARGIN_BYTES = 512 * 1024;

/** Bytes a record takes in a JSON response (an upper estimate: escaping is rare in base64). */
function jsonSize(r: WireRecord): number {
  let size = 80 + (r.key?.length ?? 4) + (r.value?.length ?? 4);
  for (const h of r.headers) size += 24 + h.key.length + (h.value?.length ?? 4);
  return size;
}

/**
 * Cuts fetched partitions so the response stays under Lambda's 6 MB response limit: records are
 * kept in order until the budget is spent, and a cut partition continues after its last record
 * kept (or where it started, when none was). A single record too large for any response fails
 * with `RecordTooLargeError` (read it with the direct transport).
 */
export function fitResponse<B extends { records: WireRecord[]; nextOffset: number; start: number }>(
  batches: B[],
): B[] {
  let budget = MAX_RESPONSE_BYTES - RESPONSE_MARGIN_BYTES;
  let cut = false;
  return batches.map((batch) => {
    if (cut) return { ...batch, records: [], nextOffset: batch.start };
    const kept: WireRecord[] = [];
    for (const record of batch.records) {
      const size = jsonSize(record);
      if (size > budget) {
        if (kept.length === 0 && budget === MAX_RESPONSE_BYTES - RESPONSE_MARGIN_BYTES) {
          throw new RecordTooLargeError(
            size,
            budget,
            `offset ${record.offset} does not fit in an HTTP API response (Lambda's 6 MB limit, after base64); read it with the direct transport`,
          );
        }
        cut = true;
        break;
      }
      budget -= size;
      kept.push(record);
    }
    if (!cut) return batch;
    const last = kept[kept.length - 1];
    return { ...batch, records: kept, nextOffset: last ? last.offset + 1 : batch.start };
  });
}

/** An optional date as an ISO string or null. */
export function isoOrNull(date: Date | undefined): string | null {
  return date ? date.toISOString() : null;
}
