/**
 * HTTP API against direct (`BENCH_ONLY=http`): the same SDK calls through both transports, in the
 * same run and on the same stack. Direct: the SDK talks to DynamoDB Local through the edge. HTTP:
 * the SDK signs JSON requests to the local API server (the Lambda handler of `functions/api`),
 * whose own direct client talks to the same DynamoDB Local. Measures produce throughput (with the
 * raw `PutItem` baseline of main.ts replaying the direct producer's items), sequential
 * single-record produce latency, consume throughput and end-to-end latency, plus the CPU cost of
 * the encoding steps only the HTTP path has (per request, measured in isolation).
 *
 * The API server runs in this process: its handler shares the event loop with the clients (and
 * with the edge proxy). The figures are for the local path only; API Gateway and Lambda add
 * network hops, per-request latency and cold starts that this does not have.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { type AttributeValue, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import { decodeBytes, encodeBytes } from '../functions/api/wire.ts';
import { startApiServer } from '../local/api-server.ts';
import type { LocalStack } from '../local/index.ts';
import { Tributary } from '../sdk/src/index.ts';
import {
  CONTRACT,
  DirectTransport,
  Partitioner,
  prepareMessages,
  rawSerializer,
  toWireRecord,
} from '../sdk/src/internal.ts';
import { type CapacityTotals, meterCapacity } from './capacity-meter.ts';

const RECORD_BYTES = 1024;
const RECORDS = Number(process.env.BENCH_HTTP_RECORDS ?? 20_000);
const ROUNDS = Number(process.env.BENCH_HTTP_ROUNDS ?? 3);
const PARTITIONS = 4;
/** Records per `send()` in the throughput runs (to one partition, round-robin, as main.ts does). */
const SEND_RECORDS = 100;
const LATENCY_SENDS = Number(process.env.BENCH_HTTP_LATENCY_SENDS ?? 300);
const LATENCY_WARMUP = 30;
const E2E_SAMPLES = Number(process.env.BENCH_HTTP_E2E_SAMPLES ?? 25);
const E2E_WARMUP = 3;
/** Pause before each end-to-end sample: uniform in this range, so the consumer is idle and waiting. */
const E2E_GAP_MS = [200, 800] as const;
const CONSUMER = { maxRecords: 2_000, maxBytes: 4 * 1024 * 1024 };
const MICRO_REPS = 20;
const MB = 1024 * 1024;

type Kind = 'direct' | 'http';

/** A log item as main.ts's baseline helpers read and replay them. */
export interface LogItem {
  partition: number;
  item: Record<string, AttributeValue>;
}

/** main.ts's raw DynamoDB baseline: read back the items the SDK wrote, replay them with PutItem. */
export interface RawPutBaseline {
  storedItems(topic: string, partitions: number): Promise<LogItem[]>;
  /** One PutItem in flight per partition; pushes each call's milliseconds to `latencies` if given. */
  rawPut(
    items: LogItem[],
    partitions: number,
    latencies?: number[],
  ): Promise<{ seconds: number; records: number }>;
}

interface Throughput {
  seconds: number;
  records: number;
  /** Share of the wall time this process's event loop was busy (clients, API handler, edge proxy). */
  busy: number;
  /** HTTP requests (HTTP) or DynamoDB requests (direct) the client made. */
  clientRequests: number;
  /** DynamoDB requests and units: the client's (direct) or the API handler's (HTTP). */
  capacity: CapacityTotals;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** Nearest-rank percentile. */
function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Counts the HTTP transport's requests (it calls the global `fetch`). */
function countFetch() {
  const counts = { requests: 0 };
  const original = globalThis.fetch;
  globalThis.fetch = (input, init) => {
    counts.requests++;
    return original(input, init);
  };
  return {
    counts,
    reset: () => {
      counts.requests = 0;
    },
    restore: () => {
      globalThis.fetch = original;
    },
  };
}

export async function benchHttp(stack: LocalStack, baseline: RawPutBaseline): Promise<string[]> {
  const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
  const newDdb = () =>
    new DynamoDBClient({ endpoint: stack.endpoint, region: stack.region, credentials, maxAttempts: 1 });
  const connection = {
    endpoint: stack.endpoint,
    region: stack.region,
    tablePrefix: stack.tablePrefix,
    bucket: stack.bucket,
  };
  // The local API server as the stack starts it, but with a metered DynamoDB client.
  const apiDdb = newDdb();
  const apiMeter = meterCapacity(apiDdb);
  const api = await startApiServer({ connection: { ...connection, dynamoDBClient: apiDdb }, port: 0 });
  const wire = countFetch();

  const open = (kind: Kind) => {
    if (kind === 'http') {
      const tributary = new Tributary({ transport: 'http', endpoint: api.url, region: stack.region });
      return { tributary, meter: apiMeter, close: () => tributary.close() };
    }
    const ddb = newDdb();
    const tributary = new Tributary({ ...connection, dynamoDBClient: ddb });
    return {
      tributary,
      meter: meterCapacity(ddb),
      close: () => {
        tributary.close();
        ddb.destroy();
      },
    };
  };
  const values = Array.from({ length: 1_000 }, () => randomBytes(RECORD_BYTES));

  /** Times `fn`, with this process's event-loop utilisation and the requests counted meanwhile. */
  async function measure(meter: ReturnType<typeof meterCapacity>, fn: () => Promise<number>) {
    meter.reset();
    wire.reset();
    const elu = performance.eventLoopUtilization();
    const start = performance.now();
    const records = await fn();
    const seconds = (performance.now() - start) / 1000;
    const busy = performance.eventLoopUtilization(elu).utilization;
    return { seconds, records, busy, capacity: structuredClone(meter.totals), wire: { ...wire.counts } };
  }

  /** Produces RECORDS to a new topic with `producers` producers of one client (producer i sends to partitions ≡ i). */
  async function produce(
    kind: Kind,
    topic: string,
    producers = 1,
  ): Promise<Throughput & { batches: number }> {
    const { tributary, meter, close } = open(kind);
    await tributary.admin().createTopic({ topic, partitions: PARTITIONS });
    // Random bytes do not compress: a codec would only spend CPU (and the API writes them
    // uncompressed whatever the HTTP producer's option, as the topic says).
    const all = Array.from({ length: producers }, () =>
      tributary.producer({ compression: 'none', lingerMs: 5 }),
    );
    const m = await measure(meter, async () => {
      const sends: Promise<unknown>[] = [];
      for (let i = 0; i < RECORDS; i += SEND_RECORDS) {
        const partition = (i / SEND_RECORDS) % PARTITIONS;
        sends.push(
          all[partition % producers]!.send({
            topic,
            messages: Array.from({ length: SEND_RECORDS }, (_, j) => ({
              value: values[(i + j) % values.length]!,
              partition,
            })),
          }),
        );
      }
      await Promise.all(sends);
      await Promise.all(all.map((p) => p.flush()));
      return RECORDS;
    });
    const batches = all.reduce((sum, p) => sum + p.metrics().batches, 0);
    for (const p of all) await p.close();
    close();
    return {
      ...m,
      clientRequests: kind === 'http' ? m.wire.requests : m.capacity.requests,
      batches,
    };
  }

  async function consume(kind: Kind, topic: string): Promise<Throughput> {
    const { tributary, meter, close } = open(kind);
    const consumer = tributary.consumer(CONSUMER);
    await consumer.assign(
      Array.from({ length: PARTITIONS }, (_, partition) => ({ topic, partition, offset: 0 })),
    );
    const m = await measure(meter, async () => {
      let read = 0;
      while (read < RECORDS) for (const batch of await consumer.poll()) read += batch.messages.length;
      return read;
    });
    consumer.close();
    close();
    return {
      ...m,
      clientRequests: kind === 'http' ? m.wire.requests : m.capacity.requests,
    };
  }

  async function round(index: number) {
    const id = randomBytes(3).toString('hex');
    const topics = { direct: `bench-http-d-${id}`, http: `bench-http-h-${id}` };
    const order: Kind[] = index % 2 === 0 ? ['direct', 'http'] : ['http', 'direct'];
    const produced = {} as Record<Kind, Awaited<ReturnType<typeof produce>>>;
    for (const kind of order) produced[kind] = await produce(kind, topics[kind]);
    // Diagnostic: one HTTP producer per partition, so PARTITIONS produce requests are in flight.
    const httpParallel = await produce('http', `bench-http-p-${id}`, PARTITIONS);
    const directItems = await baseline.storedItems(topics.direct, PARTITIONS);
    const httpItems = await baseline.storedItems(topics.http, PARTITIONS);
    const raw = await baseline.rawPut(directItems, PARTITIONS);
    const consumed = {} as Record<Kind, Throughput>;
    for (const kind of order) consumed[kind] = await consume(kind, topics[kind]);
    const avgItem = (items: LogItem[]) =>
      items.reduce((n, { item }) => n + (item.b?.B?.byteLength ?? 0), 0) / items.length;
    return {
      topics,
      produced,
      httpParallel,
      consumed,
      raw,
      items: { direct: avgItem(directItems), http: avgItem(httpItems) },
      appends: { direct: directItems.length, http: httpItems.length },
    };
  }

  /** Sequential single-record sends (lingerMs 0) to a new one-partition topic; ms per send after a warm-up. */
  async function latency(kind: Kind) {
    const { tributary, close } = open(kind);
    const topic = `bench-http-lat-${kind}-${randomBytes(3).toString('hex')}`;
    await tributary.admin().createTopic({ topic, partitions: 1 });
    const producer = tributary.producer({ compression: 'none', lingerMs: 0 });
    const ms: number[] = [];
    for (let i = 0; i < LATENCY_WARMUP + LATENCY_SENDS; i++) {
      const start = performance.now();
      await producer.send({ topic, messages: [{ value: values[i % values.length]! }] });
      if (i >= LATENCY_WARMUP) ms.push(performance.now() - start);
    }
    await producer.close();
    close();
    return { topic, ms };
  }

  /**
   * From the start of a one-record `send()` until a consumer that was already waiting (HTTP:
   * long-polling; direct: iterating with its idle backoff, the defaults) delivers it.
   */
  async function endToEnd(kind: Kind) {
    const { tributary, close } = open(kind);
    const topic = `bench-http-e2e-${kind}-${randomBytes(3).toString('hex')}`;
    await tributary.admin().createTopic({ topic, partitions: 1 });
    const producer = tributary.producer({ compression: 'none', lingerMs: 0 });
    const consumer = tributary.consumer();
    await consumer.assign([{ topic, partition: 0, offset: 'latest' }]);
    let waiting: { index: number; arrived: (at: number) => void } | undefined;
    const reading = (async () => {
      for await (const message of consumer.messages()) {
        const at = performance.now();
        if (waiting && message.value?.readUInt32BE(0) === waiting.index) waiting.arrived(at);
      }
    })().catch(() => undefined); // close() may end a long-poll with ClientClosedError
    const ms: number[] = [];
    for (let i = 0; i < E2E_WARMUP + E2E_SAMPLES; i++) {
      await sleep(E2E_GAP_MS[0] + Math.random() * (E2E_GAP_MS[1] - E2E_GAP_MS[0]));
      const value = Buffer.alloc(RECORD_BYTES);
      value.writeUInt32BE(i, 0);
      const arrived = new Promise<number>((resolve) => {
        waiting = { index: i, arrived: resolve };
      });
      const start = performance.now();
      await producer.send({ topic, messages: [{ value }] });
      const at = await arrived;
      if (i >= E2E_WARMUP) ms.push(at - start);
    }
    consumer.close();
    await reading;
    await producer.close();
    close();
    return ms;
  }

  /**
   * CPU of the steps only the HTTP path has, for one produce request of `perRequest` records and
   * one fetch response of `maxRecords` records, each step alone (median of MICRO_REPS).
   */
  async function encodingCosts(topic: string, perRequest: number) {
    const direct = new DirectTransport(connection);
    const metadata = await direct.topics.get(topic);
    direct.close();
    const signer = new SignatureV4({
      service: 'execute-api',
      region: stack.region,
      credentials,
      sha256: Hash.bind(null, 'sha256'),
    });
    const messages = Array.from({ length: perRequest }, (_, i) => ({
      value: values[i % values.length]!,
      partition: Math.floor(i / SEND_RECORDS) % PARTITIONS,
    }));
    const prepared = prepareMessages(
      { topic, messages },
      metadata,
      rawSerializer,
      new Partitioner(),
      Date.now(),
    );
    const time = async (fn: () => unknown) => {
      const ms: number[] = [];
      for (let i = 0; i < MICRO_REPS; i++) {
        const start = performance.now();
        await fn();
        ms.push(performance.now() - start);
      }
      return median(ms);
    };
    let body = '';
    const url = new URL(`${api.url}/v1/topics/${topic}/records`);
    const produceCost = {
      // HttpProducer: toWireRecord (base64, and JSON.stringify of each record to size it), then buildRequest.
      encode: await time(() => {
        body = JSON.stringify({ encoding: 'base64', records: prepared.map(toWireRecord).map((w) => w.body) });
      }),
      sign: await time(() =>
        signer.sign({
          method: 'POST',
          protocol: url.protocol,
          hostname: url.hostname,
          port: Number(url.port),
          path: url.pathname,
          query: {},
          headers: { host: url.host, 'content-type': 'application/json' },
          body,
        }),
      ),
      // The handler: parseInput (size check, JSON.parse, zod), then decodeBytes of every value.
      decode: await time(() => {
        const bytes = Buffer.from(body, 'utf8');
        const parsed = CONTRACT.produce.body!.parse(JSON.parse(bytes.toString('utf8'))) as {
          records: { value: string }[];
        };
        for (const [i, r] of parsed.records.entries()) decodeBytes(r.value, 'base64', `records[${i}].value`);
      }),
      bodyBytes: Buffer.byteLength(body),
    };
    const fetched = Array.from({ length: CONSUMER.maxRecords }, (_, i) => ({
      offset: i,
      timestamp: Date.now(),
      key: null as Buffer | null,
      value: values[i % values.length]!,
      headers: [],
    }));
    let response = '';
    const fetchCost = {
      // The fetch operation's result, then the handler's JSON.stringify.
      encode: await time(() => {
        response = JSON.stringify({
          topic,
          partition: 0,
          encoding: 'base64',
          records: fetched.map((r) => ({
            offset: r.offset,
            timestamp: r.timestamp,
            key: encodeBytes(r.key, 'base64'),
            value: encodeBytes(r.value, 'base64'),
            headers: [],
          })),
          nextOffset: fetched.length,
          highWatermark: fetched.length,
        });
      }),
      // HttpClient's JSON.parse, then HttpPartitionSource's base64 decode.
      decode: await time(() => {
        const parsed = JSON.parse(response) as { records: { value: string | null }[] };
        for (const r of parsed.records) if (r.value !== null) Buffer.from(r.value, 'base64');
      }),
      bodyBytes: Buffer.byteLength(response),
    };
    return { produce: produceCost, fetch: fetchCost };
  }

  try {
    await round(1); // warm-up
    const rounds: Awaited<ReturnType<typeof round>>[] = [];
    for (let i = 0; i < ROUNDS; i++) rounds.push(await round(i));
    type Round = (typeof rounds)[number];
    const med = (f: (r: Round) => number) => median(rounds.map(f));

    const lat = { direct: await latency('direct'), http: await latency('http') };
    const rawLatency: number[] = [];
    const latencyItems = await baseline.storedItems(lat.direct.topic, 1);
    await baseline.rawPut(latencyItems.slice(LATENCY_WARMUP), 1, rawLatency);
    const e2e = { direct: await endToEnd('direct'), http: await endToEnd('http') };
    const perRequest = Math.round(med((r) => RECORDS / r.produced.http.batches));
    const costs = await encodingCosts(rounds[0]!.topics.direct, perRequest);

    const n = (v: number, digits = 0) => v.toLocaleString('en-US', { maximumFractionDigits: digits });
    const perSecond = (t: { records: number; seconds: number }) => t.records / t.seconds;
    const mbps = (t: { records: number; seconds: number }) => (t.records * RECORD_BYTES) / MB / t.seconds;
    const mbOf = (t: Throughput) => (t.records * RECORD_BYTES) / MB;
    const throughputRow = (
      label: string,
      pick: (r: Round) => Throughput,
      ratio: string,
      units: 'writeUnits' | 'readUnits',
    ) =>
      `| ${label} | ${n(med((r) => perSecond(pick(r))))} | ${n(
        med((r) => mbps(pick(r))),
        1,
      )} | ${ratio} | ${n(
        med((r) => (1000 * pick(r).clientRequests) / pick(r).records),
        1,
      )} | ${n(
        med((r) => (1000 * pick(r).capacity.requests) / pick(r).records),
        1,
      )} | ${n(
        med((r) => pick(r).capacity[units] / mbOf(pick(r))),
        1,
      )} | ${n(
        med((r) => 100 * pick(r).busy),
        0,
      )}% |`;
    const ratio = (f: (r: Round) => number) => `${med(f).toFixed(2)}×`;
    const p = (values: number[], q: number) => n(percentile(values, q), 1);
    const latencyRow = (label: string, values: number[], against: number[] | undefined) =>
      `| ${label} | ${p(values, 50)} | ${p(values, 95)} | ${p(values, 99)} | ${
        against ? `${(percentile(values, 50) / percentile(against, 50)).toFixed(2)}×` : '1.00×'
      } |`;
    const requestMs = med((r) => (r.produced.http.seconds * 1000) / r.produced.http.batches);
    const produceCpu = costs.produce.encode + costs.produce.sign + costs.produce.decode;
    const fetchCpu = costs.fetch.encode + costs.fetch.decode;

    return [
      '',
      `HTTP API against direct: ${n(RECORDS)} records × ${RECORD_BYTES} B per transport and round, ${PARTITIONS} partitions, sends of ${SEND_RECORDS} records to one partition each (round-robin), producer \`lingerMs\` 5; consumer from offset 0 with maxRecords ${CONSUMER.maxRecords}, maxBytes 4 MiB, timed after \`assign()\`. Direct: the SDK → edge → DynamoDB Local. HTTP: the SDK → SigV4-signed JSON → the local API server (the Lambda handler, in this process) → its direct client → the same DynamoDB Local. Medians of ${ROUNDS} rounds after a warm-up round; the transports alternate which goes first.`,
      '',
      '| scenario | records/s | MB/s | vs direct | client requests per 1000 records | DynamoDB requests per 1000 records | DynamoDB units per MB | Node event loop busy |',
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
      throughputRow('produce, direct', (r) => r.produced.direct, '1.00×', 'writeUnits'),
      throughputRow(
        'produce, HTTP',
        (r) => r.produced.http,
        ratio((r) => perSecond(r.produced.http) / perSecond(r.produced.direct)),
        'writeUnits',
      ),
      throughputRow(
        `produce, HTTP, ${PARTITIONS} producers (one per partition)`,
        (r) => r.httpParallel,
        ratio((r) => perSecond(r.httpParallel) / perSecond(r.produced.direct)),
        'writeUnits',
      ),
      `| raw PutItem of the direct producer's items | ${n(med((r) => perSecond(r.raw)))} | ${n(
        med((r) => mbps(r.raw)),
        1,
      )} | ${ratio((r) => perSecond(r.raw) / perSecond(r.produced.direct))} | | | | |`,
      throughputRow('consume, direct', (r) => r.consumed.direct, '1.00×', 'readUnits'),
      throughputRow(
        'consume, HTTP',
        (r) => r.consumed.http,
        ratio((r) => perSecond(r.consumed.http) / perSecond(r.consumed.direct)),
        'readUnits',
      ),
      '',
      `Items written: direct ${n(med((r) => r.appends.direct))} appends of ${n(med((r) => r.items.direct) / 1024, 1)} KB; HTTP ${n(med((r) => r.produced.http.batches))} produce requests of ${perRequest} records, written by the handler as ${n(med((r) => r.appends.http))} appends of ${n(med((r) => r.items.http) / 1024, 1)} KB. An HTTP produce request took ${n(requestMs, 1)} ms on average (each spanning all partitions, so they do not overlap). Client requests are HTTP requests (HTTP) or DynamoDB requests (direct); DynamoDB requests and units are the client's (direct) or the API handler's (HTTP), as DynamoDB reports them. "Node event loop busy": this process, which runs the clients, the API handler and the edge proxy (DynamoDB Local is a separate JVM).`,
      '',
      `Produce latency: ${LATENCY_SENDS} sequential one-record sends of ${RECORD_BYTES} B (after ${LATENCY_WARMUP} warm-up sends), producer \`lingerMs\` 0, one-partition topic; the raw baseline is PutItem of the direct producer's items, one at a time.`,
      '',
      '| path | p50 ms | p95 ms | p99 ms | p50 vs direct |',
      '| --- | ---: | ---: | ---: | ---: |',
      latencyRow('direct `send()`', lat.direct.ms, undefined),
      latencyRow('HTTP `send()`', lat.http.ms, lat.direct.ms),
      latencyRow('raw PutItem (same items)', rawLatency, lat.direct.ms),
      '',
      `End-to-end latency: ${E2E_SAMPLES} samples (after ${E2E_WARMUP}), from the start of a one-record \`send()\` until a consumer already waiting delivers it, ${E2E_GAP_MS[0]}–${E2E_GAP_MS[1]} ms apart (uniform). Consumer defaults: direct iterates with its idle backoff (50 ms doubling to 1 s); HTTP long-polls (maxWaitMs 5000), and the handler re-reads the partition meanwhile (50 ms doubling to 500 ms).`,
      '',
      '| path | p50 ms | p95 ms | max ms |',
      '| --- | ---: | ---: | ---: |',
      `| direct | ${p(e2e.direct, 50)} | ${p(e2e.direct, 95)} | ${n(Math.max(...e2e.direct), 1)} |`,
      `| HTTP (long-poll) | ${p(e2e.http, 50)} | ${p(e2e.http, 95)} | ${n(Math.max(...e2e.http), 1)} |`,
      '',
      `CPU of the steps only the HTTP path has, each alone, median of ${MICRO_REPS} (ms):`,
      '',
      '| request | body (per record byte) | client | SigV4 signing | server | sum | per MB of records |',
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
      `| produce, ${perRequest} records | ${n(costs.produce.bodyBytes / 1024)} KB (${n(costs.produce.bodyBytes / (perRequest * RECORD_BYTES), 2)}) | ${n(costs.produce.encode, 2)} (base64, JSON) | ${n(costs.produce.sign, 2)} | ${n(costs.produce.decode, 2)} (JSON.parse, zod, base64 check and decode) | ${n(produceCpu, 2)} | ${n(produceCpu / ((perRequest * RECORD_BYTES) / MB), 2)} |`,
      `| fetch response, ${CONSUMER.maxRecords} records | ${n(costs.fetch.bodyBytes / 1024)} KB (${n(costs.fetch.bodyBytes / (CONSUMER.maxRecords * RECORD_BYTES), 2)}) | ${n(costs.fetch.decode, 2)} (JSON.parse, base64) | (request only) | ${n(costs.fetch.encode, 2)} (base64, JSON) | ${n(fetchCpu, 2)} | ${n(fetchCpu / ((CONSUMER.maxRecords * RECORD_BYTES) / MB), 2)} |`,
    ];
  } finally {
    wire.restore();
    await api.stop();
    apiDdb.destroy();
  }
}
