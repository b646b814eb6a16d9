/** Produce, fetch (with long-poll) and partition offsets. */
import {
  type HeaderValue,
  InvalidArgumentError,
  type ProducerMessage,
  type RawValue,
} from '../../../sdk/src/index.ts';
import type { Encoding, ProduceProducerBody, RequestProducer } from '../../../sdk/src/internal.ts';
import { decodeBytes, encodeRecord, fitResponse } from '../wire.ts';
import type { Operations } from './types.ts';

const DEFAULT_MAX_RECORDS = 500;
const DEFAULT_MAX_BYTES = 1024 * 1024;

export const recordOperations: Operations<'produce' | 'fetch' | 'partitionOffsets'> = {
  produce: async ({ params, body }, { producer }) => {
    const encoding: Encoding = body.encoding ?? 'utf8';
    // Decode everything first: a bad record anywhere rejects the request before any write.
    const messages: ProducerMessage<RawValue>[] = body.records.map((r, i) => {
      const field = `records[${i}]`;
      // Built with fromEntries (own properties), so a header named "__proto__" stays a header.
      const headers: Record<string, HeaderValue> = Object.fromEntries(
        Object.entries(r.headers ?? {}).map(([key, value]) => [
          key,
          Array.isArray(value)
            ? value.map((v, j) => decodeBytes(v, encoding, `${field}.headers.${key}[${j}]`))
            : decodeBytes(value, encoding, `${field}.headers.${key}`),
        ]),
      );
      return {
        key: r.key == null ? null : decodeBytes(r.key, encoding, `${field}.key`),
        value: r.value === null ? null : decodeBytes(r.value, encoding, `${field}.value`),
        headers,
        ...(r.partition !== undefined ? { partition: r.partition } : {}),
        ...(r.timestamp !== undefined ? { timestamp: r.timestamp } : {}),
      };
    });
    const sent = await producer.append({
      topic: params.topic,
      messages,
      ...(body.producer ? { producer: requestProducer(body.producer) } : {}),
      ...(body.expectedOffset !== undefined ? { expectedOffset: body.expectedOffset } : {}),
      ...(body.compression !== undefined ? { compression: body.compression } : {}),
    });
    return {
      topic: params.topic,
      records: sent.map((m) => ({ partition: m.partition, offset: m.offset, timestamp: m.timestamp })),
    };
  },

  fetch: async ({ params, query }, { sources, signal }) => {
    const encoding: Encoding = query.encoding ?? 'base64';
    const source = await sources({ topic: params.topic, partition: params.partition });
    const fetched = await source.fetch(
      query.offset,
      {
        maxRecords: query.maxRecords ?? DEFAULT_MAX_RECORDS,
        maxBytes: query.maxBytes ?? DEFAULT_MAX_BYTES,
        maxWaitMs: query.maxWaitMs ?? 0,
      },
      signal,
    );
    const [fitted] = fitResponse([
      {
        records: fetched.records.map((r) => encodeRecord(r, encoding)),
        nextOffset: fetched.nextOffset,
        start: query.offset,
      },
    ]);
    const highWatermark =
      fetched.records.length > 0
        ? await source.resolve('latest')
        : Math.max(fetched.nextOffset, query.offset);
    return {
      topic: params.topic,
      partition: params.partition,
      encoding,
      records: fitted!.records,
      nextOffset: fitted!.nextOffset,
      highWatermark: Math.max(highWatermark, fetched.nextOffset),
    };
  },

  partitionOffsets: async ({ params, query }, { admin, sources }) => {
    const offsets = await admin.partitionOffsets(params.topic, params.partition);
    if (query.timestamp === undefined) return offsets;
    const source = await sources({ topic: params.topic, partition: params.partition });
    return { ...offsets, timestampOffset: await source.timestampOffset(query.timestamp) };
  },
};

/** The producer part of a body as the appender takes it; a partition named twice is refused. */
function requestProducer(body: ProduceProducerBody): RequestProducer {
  const sequences = new Map<number, number>();
  for (const { partition, sequence } of body.sequences) {
    if (sequences.has(partition)) {
      throw new InvalidArgumentError(`producer.sequences names partition ${partition} twice`);
    }
    sequences.set(partition, sequence);
  }
  return { id: BigInt(body.id), epoch: body.epoch ?? 0, sequences };
}
