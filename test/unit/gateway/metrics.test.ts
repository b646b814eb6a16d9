/** The gateway's in-memory counters: connections, bytes, requests by API and version, codes, latency, intervals. */
import { describe, expect, it } from 'vitest';
import { GatewayMetrics, LATENCY_BUCKETS_SECONDS } from '../../../gateway/metrics.ts';

const failed = (code: number) => ({ responses: [{ partitionResponses: [{ errorCode: code }] }] });

describe('GatewayMetrics', () => {
  it('counts connections open, accepted and closed for malformed input, and bytes each way', () => {
    const metrics = new GatewayMetrics();
    metrics.connectionOpened();
    metrics.connectionOpened();
    metrics.connectionClosed();
    metrics.closedForMalformedInput();
    metrics.received(100);
    metrics.received(23);
    metrics.sent(7);
    expect(metrics.snapshot()).toMatchObject({
      connectionsOpen: 1,
      connectionsTotal: 2,
      connectionsClosedMalformed: 1,
      bytesReceived: 123,
      bytesSent: 7,
    });
  });

  it('counts requests by API and version and error codes by API and code, sorted', () => {
    const metrics = new GatewayMetrics();
    metrics.request('Produce', 9, 1, failed(3));
    metrics.request('Metadata', 12, 1, { topics: [{ errorCode: 3 }, { errorCode: 3 }] });
    metrics.request('Produce', 3, 1, undefined);
    metrics.request('Produce', 9, 1, failed(87));
    metrics.request('Produce', 9, 1, { responses: [] });
    const snapshot = metrics.snapshot();
    expect(snapshot.requests).toEqual([
      { api: 'Metadata', version: 12, count: 1 },
      { api: 'Produce', version: 3, count: 1 },
      { api: 'Produce', version: 9, count: 3 },
    ]);
    expect(snapshot.errorCodes).toEqual([
      { api: 'Metadata', code: 3, count: 2 },
      { api: 'Produce', code: 3, count: 1 },
      { api: 'Produce', code: 87, count: 1 },
    ]);
  });

  it('puts each latency in the first bucket whose bound is at or above it, cumulatively, with sum and count', () => {
    const metrics = new GatewayMetrics();
    const bound = (i: number) => LATENCY_BUCKETS_SECONDS[i] as number;
    // On a bound (inclusive), just above one, and past the last (only in +Inf, i.e. the count).
    metrics.request('Fetch', 11, bound(0) * 1000, undefined);
    metrics.request('Fetch', 11, bound(3) * 1000 + 0.5, undefined);
    metrics.request('Fetch', 11, bound(LATENCY_BUCKETS_SECONDS.length - 1) * 1000 + 1, undefined);
    const [fetch] = metrics.snapshot().latency;
    expect(fetch?.api).toBe('Fetch');
    expect(fetch?.count).toBe(3);
    expect(fetch?.cumulative).toHaveLength(LATENCY_BUCKETS_SECONDS.length);
    expect(fetch?.cumulative.slice(0, 5)).toEqual([1, 1, 1, 1, 2]);
    expect(fetch?.cumulative.at(-1)).toBe(2);
    const expectedSum = bound(0) + (bound(3) * 1000 + 0.5) / 1000 + (bound(14) * 1000 + 1) / 1000;
    expect(fetch?.sumSeconds).toBeCloseTo(expectedSum, 9);
  });

  it('reports per interval the APIs with requests, their responses with errors, latency sum and max, then starts over', () => {
    const metrics = new GatewayMetrics();
    metrics.request('Produce', 9, 4, failed(3));
    metrics.request('Produce', 9, 10, {
      responses: [{ partitionResponses: [{ errorCode: 3 }, { errorCode: 2 }] }],
    });
    metrics.request('Produce', 9, 1, { responses: [{ partitionResponses: [{ errorCode: 0 }] }] });
    metrics.request('ApiVersions', 3, 0.5, { errorCode: 0 });
    expect(metrics.takeInterval()).toEqual([
      { api: 'ApiVersions', requests: 1, errorResponses: 0, latencySumMs: 0.5, latencyMaxMs: 0.5 },
      // Two responses carried errors (three codes between them).
      { api: 'Produce', requests: 3, errorResponses: 2, latencySumMs: 15, latencyMaxMs: 10 },
    ]);
    expect(metrics.takeInterval()).toEqual([]);
    metrics.request('Metadata', 12, 2, undefined);
    expect(metrics.takeInterval()).toEqual([
      { api: 'Metadata', requests: 1, errorResponses: 0, latencySumMs: 2, latencyMaxMs: 2 },
    ]);
    // The cumulative counters are not reset by intervals.
    expect(metrics.snapshot().requests.map((r) => r.count)).toEqual([1, 1, 3]);
  });
});
