/**
 * Trigger figures: records per second through a trigger into a no-op handler against a direct
 * group consumer reading the same records, in one run; latency from `send()` resolving to the
 * handler starting (p50/p95/p99, maximum batching window 0); and what delivery costs — the
 * dispatcher's DynamoDB units (metered on its own client), its invocations and the target's, per
 * million records.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { startLocalDispatcher } from '../local/dispatcher.ts';
import type { LocalStack } from '../local/index.ts';
import { provisionTables } from '../local/provision.ts';
import { Tributary } from '../sdk/src/index.ts';
import { meterCapacity } from './capacity-meter.ts';

const RECORDS = Number(process.env.BENCH_TRIGGER_RECORDS ?? 20_000);
const LATENCY_SAMPLES = Number(process.env.BENCH_TRIGGER_SAMPLES ?? 200);
const PARTITIONS = 4;
const RECORD_BYTES = 1024;
/** us-east-1 list prices (USD): DynamoDB on-demand, and Lambda arm64 requests and duration. */
const PRICES = { readUnit: 0.125e-6, writeUnit: 0.625e-6, lambdaRequest: 0.2e-6 };

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

async function until(
  condition: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`bench: timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

interface Timing {
  readonly startedAt: number;
  readonly count: number;
  readonly sent: readonly string[];
}

function timings(file: string): Timing[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.endsWith('}'))
    .map((line) => JSON.parse(line) as Timing);
}

export async function benchTriggers(stack: LocalStack): Promise<string[]> {
  const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
  const tablePrefix = `bench-trig-${randomBytes(3).toString('hex')}-`;
  const setup = new DynamoDBClient({ endpoint: stack.endpoint, region: stack.region, credentials });
  await provisionTables(setup, tablePrefix);
  setup.destroy();
  const dir = mkdtempSync(join(tmpdir(), 'tributary-bench-triggers-'));
  const timingFile = join(dir, 'timings.jsonl');
  stack.lambda.register({
    name: 'bench-noop',
    module: fileURLToPath(new URL('./fixtures/noop-handler.ts', import.meta.url)),
    concurrency: PARTITIONS * 2,
    environment: { BENCH_TIMINGS: timingFile },
  });
  const connection = {
    endpoint: stack.endpoint,
    region: stack.region,
    tablePrefix,
    bucket: stack.bucket,
    credentials,
  };
  const dispatcherDdb = new DynamoDBClient({ ...connection, maxAttempts: 1 });
  const meter = meterCapacity(dispatcherDdb);
  let workerRuns = 0;
  const dispatcher = await startLocalDispatcher({
    connection: { ...connection, dynamoDBClient: dispatcherDdb },
    onMetrics: () => {
      workerRuns++;
    },
  });
  const tributary = new Tributary(connection);
  const admin = tributary.admin();
  const lines: string[] = [];
  try {
    const topic = 'bench-trigger';
    await admin.createTopic({ topic, partitions: PARTITIONS });
    const value = (i: number) => `${i}:${'x'.repeat(RECORD_BYTES - 12)}`;
    const producer = tributary.producer({ lingerMs: 5, compression: 'none' });
    const sends: Promise<unknown>[] = [];
    for (let i = 0; i < RECORDS; i++) sends.push(producer.send({ topic, messages: [{ value: value(i) }] }));
    await Promise.all(sends);
    await producer.flush();

    // Throughput: a group consumer, then a trigger, over the same RECORDS records.
    const consumer = tributary.consumer({ groupId: 'bench-direct', maxRecords: 500 });
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    let consumed = 0;
    const consumeStart = performance.now();
    await consumer.run({
      eachBatch: async (batch) => {
        consumed += batch.messages.length;
      },
    });
    await until(() => consumed >= RECORDS, 120_000, 'the group consumer');
    const consumeSeconds = (performance.now() - consumeStart) / 1000;
    await consumer.disconnect();

    meter.reset();
    workerRuns = 0;
    const triggerStart = performance.now();
    await admin.createTrigger({
      name: 'bench-throughput',
      topic,
      functionName: 'bench-noop',
      startingPosition: 'TRIM_HORIZON',
      batchSize: 500,
      maximumBatchingWindowInSeconds: 0,
    });
    await dispatcher.sweep();
    await until(
      () => timings(timingFile).reduce((n, t) => n + t.count, 0) >= RECORDS,
      180_000,
      'the trigger to deliver every record',
    );
    const triggerSeconds = (performance.now() - triggerStart) / 1000;
    const invocations = timings(timingFile).length;
    const units = { ...meter.totals };
    const perMillion = 1e6 / RECORDS;
    const dynamoCost = (units.readUnits * PRICES.readUnit + units.writeUnits * PRICES.writeUnit) * perMillion;
    lines.push(
      '',
      `Triggers: ${RECORDS} records of ${RECORD_BYTES} B on ${PARTITIONS} partitions, a no-op handler, batch size 500.`,
      `  trigger delivery       ${Math.round(RECORDS / triggerSeconds)} records/s`,
      `  direct group consumer  ${Math.round(RECORDS / consumeSeconds)} records/s  (trigger ÷ consumer ${(consumeSeconds / triggerSeconds).toFixed(2)}×)`,
      `  dispatcher units       ${(units.readUnits / (RECORDS / 1e6)).toFixed(0)} RU and ${(units.writeUnits / (RECORDS / 1e6)).toFixed(0)} WU per million records` +
        ` (${units.requests} requests), $${dynamoCost.toFixed(3)} per million`,
      `  invocations            ${invocations} of the target (${(invocations * perMillion).toFixed(0)} per million records), ` +
        `${workerRuns} worker runs (each one dispatcher invocation in AWS)`,
    );
    await admin.deleteTrigger('bench-throughput');

    // Latency: single records, sent one after another, to a caught-up trigger with no batching window.
    rmSync(timingFile, { force: true });
    const latencyTopic = 'bench-latency';
    await admin.createTopic({ topic: latencyTopic, partitions: PARTITIONS });
    await admin.createTrigger({
      name: 'bench-latency',
      topic: latencyTopic,
      functionName: 'bench-noop',
      startingPosition: 'LATEST',
      maximumBatchingWindowInSeconds: 0,
    });
    // Past the trigger-list refresh, so every doorbell knows the trigger.
    await new Promise((resolve) => setTimeout(resolve, 12_000));
    const sentAt = new Map<string, number>();
    const lowLatency = tributary.producer({ lingerMs: 0 });
    for (let i = 0; i < LATENCY_SAMPLES; i++) {
      const id = `lat-${i}`;
      await lowLatency.send({ topic: latencyTopic, messages: [{ value: id }] });
      sentAt.set(id, Date.now());
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    await until(
      () => timings(timingFile).reduce((n, t) => n + t.count, 0) >= LATENCY_SAMPLES,
      60_000,
      'the latency samples',
    );
    const latencies: number[] = [];
    for (const t of timings(timingFile)) {
      for (const id of t.sent) {
        const sent = sentAt.get(id);
        if (sent !== undefined) latencies.push(t.startedAt - sent);
      }
    }
    latencies.sort((a, b) => a - b);
    lines.push(
      `  latency send() → handler start (${latencies.length} samples, window 0, local stream): ` +
        `p50 ${percentile(latencies, 50)} ms, p95 ${percentile(latencies, 95)} ms, p99 ${percentile(latencies, 99)} ms`,
    );
    await producer.close();
    await lowLatency.close();
  } finally {
    tributary.close();
    await dispatcher.stop();
    dispatcherDdb.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
  return lines;
}
