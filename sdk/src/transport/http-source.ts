/**
 * The HTTP transport's partition source: fetches through the API, which long-polls for new
 * records (so the consumer needs no idle backoff of its own). Start positions are resolved with
 * the partition-offsets route; a numeric offset outside the log fails with the same
 * `OffsetOutOfRangeError` (log start and high watermark included) as on the direct transport.
 */
import { InvalidArgumentError, OffsetOutOfRangeError } from '../errors.ts';
import type { StartPosition, TopicPartition } from '../topic-partition.ts';
import type { HttpClient } from './http-client.ts';
import type {
  FetchedRecords,
  PartitionSource,
  PartitionSourceFactory,
  RawRecord,
  SourceFetchLimits,
} from './partition-source.ts';

export class HttpPartitionSource implements PartitionSource {
  readonly partition: TopicPartition;
  readonly waitsForRecords = true;
  readonly #http: HttpClient;

  constructor(http: HttpClient, partition: TopicPartition) {
    this.#http = http;
    this.partition = { topic: partition.topic, partition: partition.partition };
  }

  /** The partition's bounds (and, with a timestamp, the offset for it). */
  offsets(timestamp?: number) {
    return this.#http.call('partitionOffsets', {
      params: { topic: this.partition.topic, partition: this.partition.partition },
      ...(timestamp === undefined ? {} : { query: { timestamp } }),
    });
  }

  async resolve(start: StartPosition): Promise<number> {
    if (start === 'earliest') return (await this.offsets()).logStartOffset;
    if (start === 'latest') return (await this.offsets()).highWatermark;
    if (typeof start === 'number') {
      if (!Number.isSafeInteger(start) || start < 0) {
        throw new InvalidArgumentError(
          `Offsets are non-negative integers; got ${start} for ${this.partition.topic}[${this.partition.partition}]`,
        );
      }
      const { logStartOffset, highWatermark } = await this.offsets();
      if (start < logStartOffset || start > highWatermark) {
        const { topic, partition } = this.partition;
        throw new OffsetOutOfRangeError(topic, partition, start, logStartOffset, highWatermark);
      }
      return start;
    }
    if (typeof start === 'object' && start !== null && Number.isFinite(start.timestamp)) {
      const found = await this.offsets(start.timestamp);
      return found.timestampOffset ?? found.highWatermark;
    }
    throw new InvalidArgumentError(
      `A start position is an offset, 'earliest', 'latest' or { timestamp }; got ${JSON.stringify(start)}`,
    );
  }

  async timestampOffset(timestamp: number): Promise<number | null> {
    return (await this.offsets(timestamp)).timestampOffset ?? null;
  }

  async fetch(position: number, limits: SourceFetchLimits, signal?: AbortSignal): Promise<FetchedRecords> {
    const result = await this.#http.call('fetch', {
      ...(signal ? { signal } : {}),
      params: { topic: this.partition.topic, partition: this.partition.partition },
      query: {
        offset: position,
        maxRecords: limits.maxRecords,
        maxBytes: limits.maxBytes,
        maxWaitMs: limits.maxWaitMs,
        encoding: 'base64',
      },
    });
    const bytes = (text: string | null) => (text === null ? null : Buffer.from(text, 'base64'));
    const records: RawRecord[] = result.records.map((r) => ({
      offset: r.offset,
      timestamp: r.timestamp,
      key: bytes(r.key),
      value: bytes(r.value),
      headers: r.headers.map((h) => ({ key: h.key, value: bytes(h.value) })),
    }));
    return { records, nextOffset: result.nextOffset };
  }
}

/** Opens HTTP sources (the API checks the topic and partition on the first call). */
export function httpSources(http: HttpClient): PartitionSourceFactory {
  return async (partition) => new HttpPartitionSource(http, partition);
}
