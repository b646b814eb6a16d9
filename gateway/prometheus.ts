/**
 * The gateway's counters in Prometheus' text exposition format (version 0.0.4), which Prometheus,
 * the CloudWatch agent's Prometheus scraper and OpenTelemetry collectors read. Pure.
 */
import { KafkaError } from './kafka-errors.ts';
import { LATENCY_BUCKETS_SECONDS, type MetricsSnapshot } from './metrics.ts';

/** The `Content-Type` of the exposition. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

const PREFIX = 'tributary_gateway_';

/** Kafka's name of each error code the gateway answers with. */
const ERROR_NAMES: ReadonlyMap<number, string> = new Map(
  Object.entries(KafkaError).map(([name, code]) => [code, name]),
);

/** `snapshot` as exposition text: one `# HELP` and `# TYPE` per metric, then its samples. */
export function formatPrometheus(snapshot: MetricsSnapshot): string {
  const out: string[] = [];
  const metric = (name: string, type: 'counter' | 'gauge' | 'histogram', help: string) => {
    out.push(`# HELP ${PREFIX}${name} ${escapeHelp(help)}`, `# TYPE ${PREFIX}${name} ${type}`);
  };
  const sample = (name: string, labels: Readonly<Record<string, string>>, value: number) => {
    out.push(`${PREFIX}${name}${formatLabels(labels)} ${formatValue(value)}`);
  };

  metric('connections_open', 'gauge', 'Client connections open now.');
  sample('connections_open', {}, snapshot.connectionsOpen);
  metric('connections_total', 'counter', 'Client connections accepted.');
  sample('connections_total', {}, snapshot.connectionsTotal);
  metric(
    'connections_closed_malformed_total',
    'counter',
    'Connections closed because their input could not be framed or decoded.',
  );
  sample('connections_closed_malformed_total', {}, snapshot.connectionsClosedMalformed);
  metric('received_bytes_total', 'counter', 'Bytes received from clients.');
  sample('received_bytes_total', {}, snapshot.bytesReceived);
  metric('sent_bytes_total', 'counter', 'Bytes sent to clients.');
  sample('sent_bytes_total', {}, snapshot.bytesSent);

  metric('requests_total', 'counter', 'Requests served, by API and version.');
  for (const { api, version, count } of snapshot.requests) {
    sample('requests_total', { api, version: String(version) }, count);
  }
  metric(
    'response_error_codes_total',
    'counter',
    'Non-zero error codes in responses (every errorCode field, nested ones included), by API and code.',
  );
  for (const { api, code, count } of snapshot.errorCodes) {
    const name = ERROR_NAMES.get(code);
    sample(
      'response_error_codes_total',
      { api, code: String(code), ...(name ? { error: name } : {}) },
      count,
    );
  }
  metric(
    'request_duration_seconds',
    'histogram',
    'Time from reading a request to handing its response to the socket, by API (long-polls included).',
  );
  for (const { api, cumulative, count, sumSeconds } of snapshot.latency) {
    LATENCY_BUCKETS_SECONDS.forEach((bound, i) => {
      sample('request_duration_seconds_bucket', { api, le: formatValue(bound) }, cumulative[i] ?? 0);
    });
    sample('request_duration_seconds_bucket', { api, le: '+Inf' }, count);
    sample('request_duration_seconds_sum', { api }, sumSeconds);
    sample('request_duration_seconds_count', { api }, count);
  }
  return `${out.join('\n')}\n`;
}

function formatLabels(labels: Readonly<Record<string, string>>): string {
  const pairs = Object.entries(labels).map(([name, value]) => `${name}="${escapeLabelValue(value)}"`);
  return pairs.length === 0 ? '' : `{${pairs.join(',')}}`;
}

/** A label value: backslash, double quote and line feed escaped, as the format requires. */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(value);
}
