/**
 * Multi-region figures on the local simulation (`BENCH_ONLY=regions`): two regions, each its own
 * DynamoDB Local, with the stack's MREC replicator between them.
 * - **produce** from the home region against produce from the replica region, whose appends the
 *   SDK forwards to the home region's tables: throughput of a stream of records and the latency
 *   of one `send()`. One machine has no distance between regions, so each request the replica
 *   region's client sends to the home region is delayed by a simulated round trip
 *   (`BENCH_REGION_RTT_MS`, default 70 ms, about us-east-1 ↔ eu-west-1), with AWS SDK middleware;
 *   the same run also measures forwarding without it.
 * - **read** in the replica region from its own replica (`readFrom: 'local'`) against reading the
 *   home region's copy from there (`readFrom: 'home'`, same simulated round trip): throughput and
 *   read units per MB.
 * - **replication**: how long the simulated replicator took to make the replica whole (its lag is
 *   configured, not measured from AWS).
 * - **cost per GB per replica** from the write units measured here and AWS list prices.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type LocalStack, startLocalStack } from '../local/index.ts';
import { type RegionEndpoint, Tributary } from '../sdk/src/index.ts';
import { type CapacityTotals, meterCapacity } from './capacity-meter.ts';

const RECORDS = Number(process.env.BENCH_REGION_RECORDS ?? 10_000);
const RECORD_BYTES = 1024;
const PARTITIONS = 4;
const SINGLE_SENDS = Number(process.env.BENCH_REGION_SAMPLES ?? 100);
const RTT_MS = Number(process.env.BENCH_REGION_RTT_MS ?? 70);
const HOME = 'us-east-1';
const REPLICA = 'eu-west-1';
const CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' };
/**
 * us-east-1 list prices (USD): on-demand write and replicated write request units, storage per
 * GB-month in DynamoDB Standard, data transfer between regions per GB.
 */
const PRICES = { writeUnit: 0.625e-6, replicatedWriteUnit: 0.625e-6, storageGbMonth: 0.25, transferGb: 0.02 };

/** A DynamoDB client for one region of the simulation, optionally `delayMs` away. */
function regionClient(region: LocalStack['regions'][number], delayMs: number): DynamoDBClient {
  const client = new DynamoDBClient({
    endpoint: region.endpoint,
    region: region.region,
    credentials: CREDENTIALS,
    maxAttempts: 1,
  });
  if (delayMs > 0) {
    type Next = (args: unknown) => Promise<unknown>;
    const distance = (next: Next) => async (args: unknown) => {
      // Half the round trip each way.
      await new Promise((resolve) => setTimeout(resolve, delayMs / 2));
      const result = await next(args);
      await new Promise((resolve) => setTimeout(resolve, delayMs / 2));
      return result;
    };
    client.middlewareStack.add(distance as never, {
      step: 'finalizeRequest',
      name: 'bench-simulated-region-distance',
    });
  }
  return client;
}

/** A client living in `own`, reaching the home region `homeDelayMs` away. */
function clientIn(
  stack: LocalStack,
  own: string,
  homeDelayMs: number,
  options: { readFrom?: 'local' | 'home' } = {},
) {
  const clients = new Map<string, DynamoDBClient>();
  const regions: RegionEndpoint[] = stack.regions.map((r) => {
    const ddb = regionClient(r, r.region === own ? 0 : homeDelayMs);
    clients.set(r.region, ddb);
    return { region: r.region, endpoint: r.endpoint, dynamoDBClient: ddb };
  });
  const meters = new Map([...clients].map(([region, ddb]) => [region, meterCapacity(ddb)]));
  const tributary = new Tributary({
    endpoint: stack.regions.find((r) => r.region === own)!.endpoint,
    region: own,
    regions,
    credentials: CREDENTIALS,
    bucket: stack.bucket,
    tablePrefix: stack.tablePrefix,
    ...options,
  });
  return {
    tributary,
    meter: (region: string): CapacityTotals => meters.get(region)!.totals,
    close: () => {
      tributary.close();
      for (const ddb of clients.values()) ddb.destroy();
    },
  };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

const value = (i: number) => `${i}:${'x'.repeat(RECORD_BYTES - 12)}`;

async function produce(
  tributary: Tributary,
  topic: string,
): Promise<{ recordsPerSecond: number; p50Ms: number }> {
  const producer = tributary.producer({ lingerMs: 5, compression: 'none' });
  const started = performance.now();
  const sends: Promise<unknown>[] = [];
  for (let i = 0; i < RECORDS; i++) sends.push(producer.send({ topic, messages: [{ value: value(i) }] }));
  await Promise.all(sends);
  await producer.flush();
  const recordsPerSecond = RECORDS / ((performance.now() - started) / 1000);
  await producer.close();
  const single = tributary.producer({ lingerMs: 0, compression: 'none' });
  const latencies: number[] = [];
  for (let i = 0; i < SINGLE_SENDS; i++) {
    const t = performance.now();
    await single.send({ topic, messages: [{ value: value(i), partition: i % PARTITIONS }] });
    latencies.push(performance.now() - t);
  }
  await single.close();
  return { recordsPerSecond, p50Ms: median(latencies) };
}

async function consume(tributary: Tributary, topic: string, records: number): Promise<number> {
  const consumer = tributary.consumer({ maxRecords: 1_000 });
  await consumer.assign(
    Array.from({ length: PARTITIONS }, (_, partition) => ({ topic, partition, offset: 'earliest' as const })),
  );
  const started = performance.now();
  let seen = 0;
  for await (const batch of consumer) {
    seen += batch.messages.length;
    if (seen >= records) break;
  }
  consumer.close();
  return records / ((performance.now() - started) / 1000);
}

export async function benchRegions(): Promise<string[]> {
  const stack = await startLocalStack({
    regions: [HOME, REPLICA],
    edgePort: 0,
    dispatcher: false,
    replication: { lag: { meanMs: 100, jitterMs: 100 } },
  });
  const lines: string[] = [];
  const clients: { close: () => void }[] = [];
  try {
    const home = clientIn(stack, HOME, 0);
    const replicaFar = clientIn(stack, REPLICA, RTT_MS);
    const replicaNear = clientIn(stack, REPLICA, 0);
    const replicaReadsHome = clientIn(stack, REPLICA, RTT_MS, { readFrom: 'home' });
    clients.push(home, replicaFar, replicaNear, replicaReadsHome);
    const topics = {
      warmUp: 'bench-regions-warm-up',
      home: 'bench-regions-home',
      far: 'bench-regions-far',
      near: 'bench-regions-near',
    };
    for (const topic of Object.values(topics)) {
      await home.tributary.admin().createTopic({ topic, partitions: PARTITIONS });
    }
    await stack.replicator!.settled({ timeoutMs: 60_000 });

    // A warm-up round through both clients (JIT, the emulators' caches), not measured.
    await produce(home.tributary, topics.warmUp);
    await produce(replicaNear.tributary, topics.warmUp);
    const homeUnitsBefore = home.meter(HOME).writeUnits;
    const fromHome = await produce(home.tributary, topics.home);
    const homeUnits = home.meter(HOME).writeUnits - homeUnitsBefore;
    const forwardedNear = await produce(replicaNear.tributary, topics.near);
    const forwardedFar = await produce(replicaFar.tributary, topics.far);
    const replicaLocalWrites = replicaFar.meter(REPLICA).writeUnits + replicaNear.meter(REPLICA).writeUnits;

    const replicationStarted = performance.now();
    await stack.replicator!.settled({ timeoutMs: 300_000 });
    const replicationSeconds = (performance.now() - replicationStarted) / 1000;

    const total = RECORDS + SINGLE_SENDS;
    const localReadsBefore = replicaNear.meter(REPLICA).readUnits;
    const readLocal = await consume(replicaNear.tributary, topics.home, total);
    const localReadUnits = replicaNear.meter(REPLICA).readUnits - localReadsBefore;
    const homeReadsBefore = replicaReadsHome.meter(HOME).readUnits;
    const readHome = await consume(replicaReadsHome.tributary, topics.home, total);
    const homeReadUnits = replicaReadsHome.meter(HOME).readUnits - homeReadsBefore;
    const mb = (total * RECORD_BYTES) / 1e6;

    // Cost per GB appended, per replica region: each replica is written the same units again
    // (replicated write units), receives the bytes across regions, and stores them.
    const writeUnitsPerGb = (homeUnits / (total * RECORD_BYTES)) * 1e9;
    const homeWrite = writeUnitsPerGb * PRICES.writeUnit;
    const replicaWrite = writeUnitsPerGb * PRICES.replicatedWriteUnit;
    const perReplica = replicaWrite + PRICES.transferGb;
    const rtt = `${RTT_MS} ms simulated round trip`;
    lines.push(
      '',
      `Regions (simulation: ${HOME} home, ${REPLICA} replica, one DynamoDB Local each, MREC replicator at 100 ± 100 ms per item): ${RECORDS} records of ${RECORD_BYTES} B on ${PARTITIONS} partitions, uncompressed; one send() latency: median of ${SINGLE_SENDS}.`,
      '',
      '| figure | value |',
      '| --- | ---: |',
      `| produce in the home region | ${Math.round(fromHome.recordsPerSecond)} records/s, send() p50 ${fromHome.p50Ms.toFixed(1)} ms |`,
      `| produce in the replica region, forwarded, no distance | ${Math.round(forwardedNear.recordsPerSecond)} records/s (${(forwardedNear.recordsPerSecond / fromHome.recordsPerSecond).toFixed(2)}×), send() p50 ${forwardedNear.p50Ms.toFixed(1)} ms |`,
      `| produce in the replica region, forwarded, ${rtt} | ${Math.round(forwardedFar.recordsPerSecond)} records/s (${(forwardedFar.recordsPerSecond / fromHome.recordsPerSecond).toFixed(2)}×), send() p50 ${forwardedFar.p50Ms.toFixed(1)} ms |`,
      `| write units the forwarding clients spent in their own region | ${replicaLocalWrites} |`,
      `| replica whole after the last append (simulated lag) | ${replicationSeconds.toFixed(2)} s |`,
      `| read in the replica region from its replica | ${Math.round(readLocal)} records/s, ${(localReadUnits / mb).toFixed(1)} RU per MB |`,
      `| read in the replica region from the home region, ${rtt} | ${Math.round(readHome)} records/s (${(readHome / readLocal).toFixed(2)}×), ${(homeReadUnits / mb).toFixed(1)} RU per MB |`,
      `| write units per GB appended (home, measured) | ${Math.round(writeUnitsPerGb).toLocaleString('en-US')} |`,
      `| $ per GB appended: home writes | $${homeWrite.toFixed(3)} |`,
      `| $ per GB appended, per replica: replicated writes + transfer | $${replicaWrite.toFixed(3)} + $${PRICES.transferGb.toFixed(3)} = $${perReplica.toFixed(3)} |`,
      `| $ per GB-month stored, per region (while in DynamoDB) | $${PRICES.storageGbMonth.toFixed(2)} |`,
    );
    return lines;
  } finally {
    for (const c of clients) c.close();
    await stack.stop();
  }
}
