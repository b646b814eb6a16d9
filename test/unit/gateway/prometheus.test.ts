/** The `/metrics` body: Prometheus' text exposition format 0.0.4, exactly. */
import { describe, expect, it } from 'vitest';
import { GatewayMetrics, LATENCY_BUCKETS_SECONDS } from '../../../gateway/metrics.ts';
import { escapeLabelValue, formatPrometheus } from '../../../gateway/prometheus.ts';

/** A sample line: name, optional labels (each `name="escaped value"`), a value. */
const SAMPLE =
  /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"(,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*")*\})? (-?[0-9.e+-]+|\+Inf|-Inf|NaN)$/;

describe('formatPrometheus', () => {
  it('writes the counters of a fresh gateway: every metric declared, zeros, no per-API series', () => {
    const text = formatPrometheus(new GatewayMetrics().snapshot());
    expect(text).toBe(
      [
        '# HELP tributary_gateway_connections_open Client connections open now.',
        '# TYPE tributary_gateway_connections_open gauge',
        'tributary_gateway_connections_open 0',
        '# HELP tributary_gateway_connections_total Client connections accepted.',
        '# TYPE tributary_gateway_connections_total counter',
        'tributary_gateway_connections_total 0',
        '# HELP tributary_gateway_connections_closed_malformed_total Connections closed because their input could not be framed or decoded.',
        '# TYPE tributary_gateway_connections_closed_malformed_total counter',
        'tributary_gateway_connections_closed_malformed_total 0',
        '# HELP tributary_gateway_received_bytes_total Bytes received from clients.',
        '# TYPE tributary_gateway_received_bytes_total counter',
        'tributary_gateway_received_bytes_total 0',
        '# HELP tributary_gateway_sent_bytes_total Bytes sent to clients.',
        '# TYPE tributary_gateway_sent_bytes_total counter',
        'tributary_gateway_sent_bytes_total 0',
        '# HELP tributary_gateway_requests_total Requests served, by API and version.',
        '# TYPE tributary_gateway_requests_total counter',
        '# HELP tributary_gateway_response_error_codes_total Non-zero error codes in responses (every errorCode field, nested ones included), by API and code.',
        '# TYPE tributary_gateway_response_error_codes_total counter',
        '# HELP tributary_gateway_request_duration_seconds Time from reading a request to handing its response to the socket, by API (long-polls included).',
        '# TYPE tributary_gateway_request_duration_seconds histogram',
        '',
      ].join('\n'),
    );
  });

  it('writes requests by API and version, codes with their Kafka names, and cumulative histograms', () => {
    const metrics = new GatewayMetrics();
    metrics.connectionOpened();
    metrics.received(42);
    metrics.sent(17);
    metrics.request('Produce', 9, 3, { responses: [{ partitionResponses: [{ errorCode: 3 }] }] });
    metrics.request('Produce', 9, 700, undefined);
    metrics.request('Metadata', 12, 0.2, { topics: [{ errorCode: 3 }], other: { errorCode: 999 } });
    const text = formatPrometheus(metrics.snapshot());
    const lines = text.trimEnd().split('\n');
    for (const line of lines) {
      if (!line.startsWith('#')) expect(line).toMatch(SAMPLE);
    }
    const samples = lines.filter((l) => !l.startsWith('#'));
    expect(samples).toContain('tributary_gateway_connections_open 1');
    expect(samples).toContain('tributary_gateway_received_bytes_total 42');
    expect(samples).toContain('tributary_gateway_sent_bytes_total 17');
    expect(samples.filter((l) => l.startsWith('tributary_gateway_requests_total'))).toEqual([
      'tributary_gateway_requests_total{api="Metadata",version="12"} 1',
      'tributary_gateway_requests_total{api="Produce",version="9"} 2',
    ]);
    // A code the gateway has no name for keeps its number only.
    expect(samples.filter((l) => l.startsWith('tributary_gateway_response_error_codes_total'))).toEqual([
      'tributary_gateway_response_error_codes_total{api="Metadata",code="3",error="UNKNOWN_TOPIC_OR_PARTITION"} 1',
      'tributary_gateway_response_error_codes_total{api="Metadata",code="999"} 1',
      'tributary_gateway_response_error_codes_total{api="Produce",code="3",error="UNKNOWN_TOPIC_OR_PARTITION"} 1',
    ]);
    const produce = samples.filter(
      (l) => l.startsWith('tributary_gateway_request_duration_seconds') && l.includes('"Produce"'),
    );
    expect(produce).toHaveLength(LATENCY_BUCKETS_SECONDS.length + 3);
    expect(produce).toContain(
      'tributary_gateway_request_duration_seconds_bucket{api="Produce",le="0.001"} 0',
    );
    expect(produce).toContain(
      'tributary_gateway_request_duration_seconds_bucket{api="Produce",le="0.005"} 1',
    );
    expect(produce).toContain('tributary_gateway_request_duration_seconds_bucket{api="Produce",le="0.5"} 1');
    expect(produce).toContain('tributary_gateway_request_duration_seconds_bucket{api="Produce",le="1"} 2');
    expect(produce.at(-3)).toBe(
      'tributary_gateway_request_duration_seconds_bucket{api="Produce",le="+Inf"} 2',
    );
    expect(produce.at(-2)).toBe('tributary_gateway_request_duration_seconds_sum{api="Produce"} 0.703');
    expect(produce.at(-1)).toBe('tributary_gateway_request_duration_seconds_count{api="Produce"} 2');
    // Buckets are cumulative: never decreasing, in ascending bounds.
    const counts = produce.filter((l) => l.includes('_bucket')).map((l) => Number(l.split(' ')[1]));
    expect(counts).toEqual([...counts].sort((a, b) => a - b));
    // Every sample belongs to a metric declared (TYPE) before it.
    const declared = new Set<string>();
    for (const line of lines) {
      const type = /^# TYPE (\S+) /.exec(line);
      if (type?.[1]) declared.add(type[1]);
      else if (!line.startsWith('#')) {
        const name = /^[^{ ]+/.exec(line)?.[0] ?? '';
        expect([...declared].some((d) => name === d || name.startsWith(`${d}_`))).toBe(true);
      }
    }
  });

  it('escapes backslashes, double quotes and line feeds in label values', () => {
    expect(escapeLabelValue('a\\b"c\nd')).toBe('a\\\\b\\"c\\nd');
    expect(escapeLabelValue('Produce')).toBe('Produce');
  });
});
