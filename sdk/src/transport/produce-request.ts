/**
 * Produce requests of the HTTP transport, as pure functions: a prepared message in the API's
 * wire form (always base64, so any bytes travel unchanged), and how many queued messages fit in
 * the next request.
 */
import type { ProduceRecordBody } from '../api/schemas.ts';
import type { Prepared } from '../producer-input.ts';

/** Most records the API takes in one produce request. */
export const MAX_RECORDS_PER_REQUEST = 10_000;

/** Bytes of a produce body around its records: `{"encoding":"base64","records":[]}`. */
export const PRODUCE_ENVELOPE_BYTES = Buffer.byteLength(
  // The longest codec name: the envelope is an upper bound whatever the producer compresses with.
  JSON.stringify({ encoding: 'base64', compression: 'snappy', records: [] }),
);

/** A message in wire form, with the bytes it adds to a request body. */
export interface WireRecord {
  readonly partition: number;
  /** Bytes of the record as the log counts them (the producer's size bound). */
  readonly size: number;
  readonly body: ProduceRecordBody;
  /** Bytes of `body` as JSON. */
  readonly jsonBytes: number;
}

/** Limits of one produce request. */
export interface RequestLimits {
  /** Record bytes per partition (a batch's worth: `maxBatchBytes`, within `max.message.bytes`). */
  readonly partitionBytes: number;
  /** Bytes of the JSON body. */
  readonly bodyBytes: number;
}

/** A prepared message as the API takes it: key, value and header values in base64, partition and timestamp explicit. */
export function toWireRecord(prepared: Prepared): WireRecord {
  const { record, partition, size } = prepared;
  const headers = new Map<string, string | string[]>();
  for (const h of record.headers) {
    // The producer's header values are never null (a null cannot be sent); an empty value stands in.
    const value = base64(h.value ?? EMPTY);
    const previous = headers.get(h.key);
    headers.set(
      h.key,
      previous === undefined ? value : Array.isArray(previous) ? [...previous, value] : [previous, value],
    );
  }
  const body: ProduceRecordBody = {
    key: record.key === null ? null : base64(record.key),
    value: record.value === null ? null : base64(record.value),
    // fromEntries defines own properties, so a header named "__proto__" stays a header.
    ...(headers.size > 0 ? { headers: Object.fromEntries(headers) } : {}),
    partition,
    timestamp: record.timestamp,
  };
  return { partition, size, body, jsonBytes: Buffer.byteLength(JSON.stringify(body)) };
}

/** Bytes of the JSON body of a produce request holding `records` (with `extra` more top-level fields' bytes). */
export function produceBodyBytes(records: readonly Pick<WireRecord, 'jsonBytes'>[], extra = 0): number {
  let bytes = PRODUCE_ENVELOPE_BYTES + extra + Math.max(0, records.length - 1);
  for (const r of records) bytes += r.jsonBytes;
  return bytes;
}

/**
 * How many of `queue`'s leading records go in the next request: at least one, then as many as
 * keep every partition's record bytes within `partitionBytes`, the body within `bodyBytes` and
 * the count within {@link MAX_RECORDS_PER_REQUEST}. Stops at the first record that does not fit,
 * so records stay in the order they were sent.
 */
export function recordsForRequest(
  queue: readonly Pick<WireRecord, 'partition' | 'size' | 'jsonBytes'>[],
  limits: RequestLimits,
): number {
  const perPartition = new Map<number, number>();
  let body = PRODUCE_ENVELOPE_BYTES;
  let count = 0;
  for (const r of queue) {
    if (count === MAX_RECORDS_PER_REQUEST) break;
    const partitionBytes = (perPartition.get(r.partition) ?? 0) + r.size;
    const bodyBytes = body + r.jsonBytes + (count > 0 ? 1 : 0);
    if (count > 0 && (partitionBytes > limits.partitionBytes || bodyBytes > limits.bodyBytes)) break;
    perPartition.set(r.partition, partitionBytes);
    body = bodyBytes;
    count++;
  }
  return count;
}

const EMPTY = new Uint8Array(0);

function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}
