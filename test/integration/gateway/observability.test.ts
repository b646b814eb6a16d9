/**
 * The gateway's health and metrics listener and its per-API metric lines, on the test stack:
 * kafkajs produces, reads metadata and fails to produce to a missing topic through a wire tap,
 * and `/metrics` counts exactly the requests (by API and version), error codes, connections and
 * bytes that crossed the wire; the EMF lines written at stop count the same. `/health` is 200
 * while serving, 503 while stopping (held open by a request in flight) and gone after; unknown
 * paths are 404 and other methods 405. Malformed input and KIP-511's ApiVersions are counted.
 */
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import { type Gateway, startGateway } from '../../../gateway/index.ts';
import { encodeRequest } from '../../../gateway/protocol/index.ts';
import { DirectTransport } from '../../../sdk/src/internal.ts';
import { injectFaults } from '../../helpers/faults.ts';
import { startTestGateway } from '../../helpers/gateway.ts';
import { KafkaTap, type TappedRequest } from '../../helpers/kafka-tap.ts';
import { WireClient } from '../../helpers/kafka-wire.ts';
import { testStackConfig } from '../../helpers/stack.ts';
import { testClient, testDynamoDB, uniqueTopic } from '../../helpers/tributary.ts';
import { until } from '../../helpers/wait.ts';

const client = testClient();
const admin = client.admin();
afterAll(() => client.close());

interface HttpAnswer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

/** One HTTP request on a connection of its own (no pool: a closed listener is seen as closed). */
function http(gateway: Gateway, path: string, method = 'GET'): Promise<HttpAnswer> {
  const health = gateway.health;
  if (!health) throw new Error('The gateway has no health listener');
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: health.host, port: health.port, path, method, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        body += d;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** The samples of a Prometheus text exposition (the label values here need no unescaping). */
function parseExposition(text: string): Sample[] {
  return text
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const match = /^([a-z_]+)(?:\{(.*)\})? (\S+)$/.exec(line);
      if (!match) throw new Error(`Not a sample line: ${line}`);
      const labels = Object.fromEntries(
        [...(match[2] ?? '').matchAll(/([a-z_]+)="([^"]*)"/g)].map((m) => [m[1] as string, m[2] as string]),
      );
      return { name: match[1] as string, labels, value: Number(match[3]) };
    });
}

async function scrape(gateway: Gateway): Promise<Sample[]> {
  const answer = await http(gateway, '/metrics');
  expect(answer.status).toBe(200);
  return parseExposition(answer.body);
}

function value(samples: readonly Sample[], name: string): number | undefined {
  return samples.find((s) => s.name === name && Object.keys(s.labels).length === 0)?.value;
}

/** `key → count` of the samples named `name`, keyed by the labels `keys`. */
function series(samples: readonly Sample[], name: string, keys: readonly string[]): Record<string, number> {
  return Object.fromEntries(
    samples.filter((s) => s.name === name).map((s) => [keys.map((k) => s.labels[k]).join(' '), s.value]),
  );
}

function tally(keys: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const key of keys) counts[key] = (counts[key] ?? 0) + 1;
  return counts;
}

/**
 * The error codes of a tapped response, read from the fields each API kafkajs used here puts them
 * in (spelled out rather than walked generically, so as not to share the gateway's walk).
 */
function errorCodesOf(request: TappedRequest): number[] {
  const body = request.response as Record<string, unknown> | undefined;
  if (body === undefined) return [];
  const nonZero = (codes: number[]) => codes.filter((c) => c !== 0);
  switch (request.api) {
    case 'ApiVersions':
      return nonZero([body.errorCode as number]);
    case 'Metadata': {
      const topics = body.topics as { errorCode: number; partitions: { errorCode: number }[] }[];
      return nonZero(topics.flatMap((t) => [t.errorCode, ...t.partitions.map((p) => p.errorCode)]));
    }
    case 'Produce': {
      const responses = body.responses as { partitionResponses: { errorCode: number }[] }[];
      return nonZero(responses.flatMap((r) => r.partitionResponses.map((p) => p.errorCode)));
    }
    default:
      throw new Error(`kafkajs sent ${request.api}, which this test does not read error codes of`);
  }
}

const UNKNOWN_TOPIC_OR_PARTITION = 3;

describe('the gateway health and metrics listener', () => {
  it('counts exactly the requests, error codes, connections and bytes kafkajs exchanged, and writes them as EMF lines at stop', async () => {
    const topic = uniqueTopic('obs');
    const missing = uniqueTopic('obs-missing');
    await admin.createTopic({ topic, partitions: 2 });
    const metricLines: string[] = [];
    const gateway = await startTestGateway({ healthPort: 0, metricsLog: (line) => metricLines.push(line) });
    expect(gateway.health?.host).toBe('127.0.0.1');
    const tap = new KafkaTap();
    const kafka = new Kafka({
      clientId: 'observability-test',
      brokers: [`127.0.0.1:${gateway.port}`],
      logLevel: logLevel.NOTHING,
      socketFactory: tap.socketFactory,
      retry: { retries: 1, initialRetryTime: 50 },
    });
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    const kafkaAdmin = kafka.admin();
    try {
      const fresh = await http(gateway, '/health');
      expect(fresh.status).toBe(200);
      expect(fresh.headers['content-type']).toBe('application/json');
      expect(JSON.parse(fresh.body)).toEqual({ status: 'ok', connections: 0 });

      await producer.connect();
      await producer.send({ topic, acks: -1, messages: [{ value: 'a', partition: 0 }] });
      await producer.send({
        topic,
        acks: 1,
        messages: [
          { value: 'b', partition: 1 },
          { value: 'c', partition: 0 },
        ],
      });
      await kafkaAdmin.connect();
      expect((await kafkaAdmin.fetchTopicMetadata({ topics: [topic] })).topics).toHaveLength(1);
      // Metadata answers the missing topic UNKNOWN_TOPIC_OR_PARTITION (never creates it); kafkajs gives up.
      await expect(producer.send({ topic: missing, messages: [{ value: 'x' }] })).rejects.toThrow();
      const serving = JSON.parse((await http(gateway, '/health')).body) as { connections: number };
      expect(serving.connections).toBeGreaterThan(0);
    } finally {
      await producer.disconnect();
      await kafkaAdmin.disconnect();
    }
    await until(async () => value(await scrape(gateway), 'tributary_gateway_connections_open') === 0, {
      message: "the gateway to see kafkajs's connections closed",
    });

    expect(tap.undecodable).toEqual([]);
    const answered = tap.requests.filter((r) => r.response !== undefined);
    expect(answered).toHaveLength(tap.requests.length);
    const sentApis = new Set(tap.requests.map((r) => r.api));
    expect([...sentApis].sort()).toEqual(['ApiVersions', 'Metadata', 'Produce']);
    const expectedErrors = tally(answered.flatMap((r) => errorCodesOf(r).map((code) => `${r.api} ${code}`)));
    // The scenario did exercise a failure (so the counts below can fail).
    expect(expectedErrors[`Metadata ${UNKNOWN_TOPIC_OR_PARTITION}`]).toBeGreaterThan(0);

    const metrics = await http(gateway, '/metrics');
    expect(metrics.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    const samples = parseExposition(metrics.body);
    expect(series(samples, 'tributary_gateway_requests_total', ['api', 'version'])).toEqual(
      tally(tap.requests.map((r) => `${r.api} ${r.version}`)),
    );
    expect(series(samples, 'tributary_gateway_response_error_codes_total', ['api', 'code'])).toEqual(
      expectedErrors,
    );
    expect(
      samples.find(
        (s) => s.name === 'tributary_gateway_response_error_codes_total' && s.labels.api === 'Metadata',
      )?.labels.error,
    ).toBe('UNKNOWN_TOPIC_OR_PARTITION');
    expect(value(samples, 'tributary_gateway_connections_total')).toBe(tap.connections);
    expect(value(samples, 'tributary_gateway_connections_closed_malformed_total')).toBe(0);
    expect(value(samples, 'tributary_gateway_received_bytes_total')).toBe(tap.bytesWritten);
    expect(value(samples, 'tributary_gateway_sent_bytes_total')).toBe(tap.bytesRead);

    // One histogram per API: as many observations as requests, cumulative buckets ending at the count.
    const perApi = tally(tap.requests.map((r) => r.api));
    expect(series(samples, 'tributary_gateway_request_duration_seconds_count', ['api'])).toEqual(perApi);
    for (const [api, count] of Object.entries(perApi)) {
      const buckets = samples.filter(
        (s) => s.name === 'tributary_gateway_request_duration_seconds_bucket' && s.labels.api === api,
      );
      expect(buckets.at(-1)).toMatchObject({ labels: { le: '+Inf' }, value: count });
      const counts = buckets.map((b) => b.value);
      expect(counts).toEqual([...counts].sort((a, b) => a - b));
      const sum = samples.find(
        (s) => s.name === 'tributary_gateway_request_duration_seconds_sum' && s.labels.api === api,
      );
      expect(sum?.value).toBeGreaterThan(0);
    }

    await gateway.stop();
    // The lines written at stop: one per API, the interval's requests and responses with errors.
    const lines = metricLines.map((l) => JSON.parse(l) as Record<string, unknown> & { _aws: unknown });
    expect(lines.map((l) => l.Api).sort()).toEqual([...sentApis].sort());
    for (const line of lines) {
      const api = line.Api as string;
      const requests = answered.filter((r) => r.api === api);
      expect(line).toMatchObject({
        _aws: { CloudWatchMetrics: [{ Namespace: 'Tributary/Gateway', Dimensions: [['Api']] }] },
        RequestCount: requests.length,
        ErrorCount: requests.filter((r) => errorCodesOf(r).length > 0).length,
      });
      expect(line.LatencyMax as number).toBeLessThanOrEqual(line.LatencySum as number);
    }
  });

  it('answers 404 for other paths and 405 for other methods, HEAD like GET without a body', async () => {
    const gateway = await startTestGateway({ healthPort: 0 });
    try {
      const missing = await http(gateway, '/healthz');
      expect(missing.status).toBe(404);
      expect(JSON.parse(missing.body)).toEqual({ error: 'no such path: /healthz' });
      expect((await http(gateway, '/')).status).toBe(404);
      const post = await http(gateway, '/health', 'POST');
      expect(post.status).toBe(405);
      expect(post.headers.allow).toBe('GET, HEAD');
      expect((await http(gateway, '/metrics', 'DELETE')).status).toBe(405);
      const head = await http(gateway, '/health', 'HEAD');
      expect(head.status).toBe(200);
      expect(head.body).toBe('');
      // A query string does not change the path.
      expect((await http(gateway, '/health?probe=nlb')).status).toBe(200);
    } finally {
      await gateway.stop();
    }
  });

  it('answers 503 while stopping (a request still in flight holds the stop), then closes the listener', async () => {
    const { endpoint, region, tablePrefix, bucket } = testStackConfig();
    const ddb = testDynamoDB();
    let hold = false;
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const faults = injectFaults(ddb, () => (hold ? { before: () => released } : undefined));
    const transport = new DirectTransport({ endpoint, region, tablePrefix, bucket, dynamoDBClient: ddb });
    const gateway = await startGateway({
      tributary: transport,
      host: '127.0.0.1',
      port: 0,
      healthPort: 0,
      log: () => undefined,
      metricsLog: false,
    });
    const wire = await WireClient.connect(gateway.port);
    try {
      expect((await http(gateway, '/health')).status).toBe(200);
      hold = true;
      // A Metadata request for a topic no cache knows: it waits in DynamoDB until released.
      wire.send('Metadata', 12, {
        topics: [{ topicId: '00000000-0000-0000-0000-000000000000', name: uniqueTopic('obs-held') }],
        allowAutoTopicCreation: false,
        includeClusterAuthorizedOperations: false,
        includeTopicAuthorizedOperations: false,
      });
      await until(() => faults.counts.delay > 0, { message: 'the Metadata request to reach DynamoDB' });
      const stopped = gateway.stop();
      const stopping = await http(gateway, '/health');
      expect(stopping.status).toBe(503);
      expect(JSON.parse(stopping.body)).toMatchObject({ status: 'stopping' });
      // Metrics stay readable while stopping.
      expect((await http(gateway, '/metrics')).status).toBe(200);
      release();
      await stopped;
      await expect(http(gateway, '/health')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    } finally {
      release();
      wire.close();
      await gateway.stop();
      transport.close();
      ddb.destroy();
    }
  });

  it('counts a connection closed for malformed input, and KIP-511 ApiVersions answers as v0 with UNSUPPORTED_VERSION', async () => {
    const gateway = await startTestGateway({ healthPort: 0 });
    try {
      // ApiVersions v99 is answered (in the v0 body), and the connection stays open.
      const wire = await WireClient.connect(gateway.port);
      const future = encodeRequest(
        'ApiVersions',
        { apiVersion: 3, correlationId: 7, clientId: 'future' },
        { clientSoftwareName: 'future', clientSoftwareVersion: '1' },
      );
      new DataView(future.buffer, future.byteOffset).setInt16(6, 99);
      wire.writeRaw(future);
      await wire.nextFrame();
      expect(wire.isClosed).toBe(false);
      wire.close();

      // A frame naming an API key no one knows: malformed, the connection is closed.
      const socket = connect({ host: '127.0.0.1', port: gateway.port });
      const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
      socket.on('error', () => undefined);
      const frame = new Uint8Array(4 + 10);
      const view = new DataView(frame.buffer);
      view.setInt32(0, 10);
      view.setInt16(4, 999);
      view.setInt16(6, 0);
      view.setInt32(8, 1);
      view.setInt16(12, -1);
      socket.end(frame);
      await closed;
      await until(async () => value(await scrape(gateway), 'tributary_gateway_connections_open') === 0, {
        message: 'both connections to be closed',
      });
      const samples = await scrape(gateway);
      expect(value(samples, 'tributary_gateway_connections_total')).toBe(2);
      expect(value(samples, 'tributary_gateway_connections_closed_malformed_total')).toBe(1);
      expect(series(samples, 'tributary_gateway_requests_total', ['api', 'version'])).toEqual({
        'ApiVersions 0': 1,
      });
      expect(
        series(samples, 'tributary_gateway_response_error_codes_total', ['api', 'code', 'error']),
      ).toEqual({
        'ApiVersions 35 UNSUPPORTED_VERSION': 1,
      });
      expect(value(samples, 'tributary_gateway_received_bytes_total')).toBe(future.length + frame.length);
    } finally {
      await gateway.stop();
    }
  });

  it('writes the metric lines every metricsIntervalMs, for the APIs that had requests in the interval only', async () => {
    const lines: string[] = [];
    const gateway = await startTestGateway({ metricsIntervalMs: 50, metricsLog: (line) => lines.push(line) });
    const wire = await WireClient.connect(gateway.port);
    try {
      await wire.request('ApiVersions', 3, { clientSoftwareName: 'obs', clientSoftwareVersion: '1' });
      await until(() => lines.length > 0, { message: 'a metric line' });
      expect(lines.map((l) => JSON.parse(l) as { Api: string; RequestCount: number })).toEqual([
        expect.objectContaining({ Api: 'ApiVersions', RequestCount: 1, ErrorCount: 0 }),
      ]);
    } finally {
      wire.close();
      await gateway.stop();
    }
    // No request since: the interval timer and the stop wrote nothing more.
    expect(lines).toHaveLength(1);
  });

  it('counts the SASL exchanges too: a wrong password is SaslAuthenticate answered SASL_AUTHENTICATION_FAILED', async () => {
    const gateway = await startTestGateway({
      healthPort: 0,
      sasl: { mechanism: 'PLAIN', users: { alice: 'wonderland' } },
    });
    const tap = new KafkaTap();
    const kafka = new Kafka({
      brokers: [`127.0.0.1:${gateway.port}`],
      logLevel: logLevel.NOTHING,
      socketFactory: tap.socketFactory,
      sasl: { mechanism: 'plain', username: 'alice', password: 'wrong' },
      retry: { retries: 0 },
    });
    const producer = kafka.producer();
    try {
      await expect(producer.connect()).rejects.toThrow();
      await until(async () => value(await scrape(gateway), 'tributary_gateway_connections_open') === 0, {
        message: 'the refused connection to be closed',
      });
      const samples = await scrape(gateway);
      expect(tap.undecodable).toEqual([]);
      expect(series(samples, 'tributary_gateway_requests_total', ['api', 'version'])).toEqual(
        tally(tap.requests.map((r) => `${r.api} ${r.version}`)),
      );
      const authentications = tap.requests.filter((r) => r.api === 'SaslAuthenticate');
      expect(authentications.length).toBeGreaterThan(0);
      expect(
        series(samples, 'tributary_gateway_response_error_codes_total', ['api', 'code', 'error']),
      ).toEqual({
        'SaslAuthenticate 58 SASL_AUTHENTICATION_FAILED': authentications.length,
      });
    } finally {
      await producer.disconnect();
      await gateway.stop();
    }
  });

  it('refuses invalid health and metrics options, naming them', async () => {
    await expect(startTestGateway({ healthPort: 70_000 })).rejects.toThrow(
      /healthPort must be an integer from 0 to 65535, got 70000/,
    );
    await expect(startTestGateway({ healthHost: '127.0.0.1' })).rejects.toThrow(
      /healthHost needs healthPort/,
    );
    // Refused before anything listens: the port is never bound.
    await expect(startGateway({ port: 19_092, healthPort: 19_092, metricsLog: false })).rejects.toThrow(
      /healthPort must differ from port, the Kafka listener's; both are 19092/,
    );
    await expect(startTestGateway({ metricsIntervalMs: 0 })).rejects.toThrow(
      /metricsIntervalMs must be a positive integer, got 0/,
    );
  });
});
