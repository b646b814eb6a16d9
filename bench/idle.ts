/**
 * Idle cost (`BENCH_ONLY=idle`): what the scheduled sweeps cost over partitions that get no
 * records — the archiver's run (every minute in AWS, `functions/archiver/handler.ts`) and the
 * trigger dispatcher's sweep (`Dispatcher.sweep`, every minute) — in read and write units as
 * DynamoDB reports them, priced at us-east-1 on-demand rates for one run a minute.
 *
 * Each setting gets a table set of its own (a fresh prefix on the stack's DynamoDB Local), so the
 * topics table holds only its topics and the figures do not depend on what else the stack holds.
 * Partitions hold 128 KB batches: an idle run that reads a partition's newest batch pays for all
 * of it. Two settings: `hot` (default configs, recent records: nothing is due for a day) and
 * `archived` (immediate archiving: after the first runs only the newest batch is left in DynamoDB).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { LocalStack } from '../local/index.ts';
import { provisionTables } from '../local/provision.ts';
import { DirectTransport, Dispatcher, rawSerializer } from '../sdk/src/internal.ts';
import type { BenchSection } from './bounds.ts';
import { type CapacityTotals, meterCapacity } from './capacity-meter.ts';

/** Partition counts measured; each setting is measured at every count. */
const PARTITION_COUNTS = (process.env.BENCH_IDLE_PARTITIONS ?? '10,100').split(',').map(Number);
/** Partitions per topic (a deployment's partitions are spread over topics of this size). */
const PARTITIONS_PER_TOPIC = 10;
const BATCH_BYTES = 128 * 1024;
const IDLE_RUNS = 3;
/** One run a minute, 30 days. */
const RUN_INTERVAL_MS = 60_000;
const RUNS_PER_MONTH = 60 * 24 * 30;
/** The archiver's default `probeIntervalMs`. */
const DEFAULT_PROBE_INTERVAL_MS = 3_600_000;
/** us-east-1 on-demand prices, in $. */
const PRICE = { readUnit: 0.125 / 1e6, writeUnit: 0.625 / 1e6 };
const RECORDER = fileURLToPath(new URL('../test/fixtures/functions/recorder.ts', import.meta.url));

interface Setting {
  readonly name: 'hot' | 'archived';
  readonly configs: Readonly<Record<string, string | number>>;
  /** Batches of BATCH_BYTES written to each partition. */
  readonly batches: number;
}

const SETTINGS: readonly Setting[] = [
  { name: 'hot', configs: {}, batches: 3 },
  // Two batches per segment: everything but the newest batch is archived by the first run.
  { name: 'archived', configs: { 'local.retention.ms': 0, 'segment.bytes': 300 * 1024 }, batches: 5 },
];

/** Read and write units of one run, per table. */
interface RunCost {
  readonly readUnits: number;
  readonly writeUnits: number;
  readonly requests: number;
  readonly byTable: CapacityTotals['byTable'];
}

interface Measured {
  readonly setting: Setting['name'];
  readonly partitions: number;
  /** The scheduled archiver's run (`visit: 'scheduled'`, the stack's function and the local timer). */
  readonly archiver: RunCost;
  /** A scheduled run in which every partition is probed (each one's turn comes once an hour). */
  readonly archiverProbing: RunCost;
  /** A user's run (`visit: 'due'`, the default: a consistent probe of each idle partition). */
  readonly archiverDue: RunCost;
  /** Every partition read in full (`visit: 'all'`): what every run read before schedules. */
  readonly archiverAll: RunCost;
  readonly sweepNoTriggers: RunCost;
  readonly sweepWithTriggers: RunCost;
  readonly workersStarted: number;
}

function snapshot(totals: CapacityTotals): RunCost {
  return {
    readUnits: totals.readUnits,
    writeUnits: totals.writeUnits,
    requests: totals.requests,
    byTable: structuredClone(totals.byTable),
  };
}

/** The mean of IDLE_RUNS runs of `fn`, each measured on its own. */
async function idleCost(
  meter: ReturnType<typeof meterCapacity>,
  fn: () => Promise<unknown>,
): Promise<RunCost> {
  const runs: RunCost[] = [];
  for (let i = 0; i < IDLE_RUNS; i++) {
    meter.reset();
    await fn();
    runs.push(snapshot(meter.totals));
  }
  const mean = (f: (r: RunCost) => number) => runs.reduce((n, r) => n + f(r), 0) / runs.length;
  return {
    readUnits: mean((r) => r.readUnits),
    writeUnits: mean((r) => r.writeUnits),
    requests: mean((r) => r.requests),
    byTable: runs.at(-1)!.byTable,
  };
}

async function measure(stack: LocalStack, setting: Setting, partitions: number): Promise<Measured> {
  const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
  const tablePrefix = `bench-idle-${randomBytes(4).toString('hex')}-`;
  const ddb = new DynamoDBClient({
    endpoint: stack.endpoint,
    region: stack.region,
    credentials,
    maxAttempts: 1,
  });
  await provisionTables(ddb, tablePrefix);
  const meter = meterCapacity(ddb);
  const transport = new DirectTransport({
    endpoint: stack.endpoint,
    region: stack.region,
    credentials,
    tablePrefix,
    bucket: stack.bucket,
    dynamoDBClient: ddb,
  });
  const admin = transport.admin();
  const topics = Array.from(
    { length: Math.ceil(partitions / PARTITIONS_PER_TOPIC) },
    (_, i) => `idle-${setting.name}-${i}`,
  );
  const producer = transport.producer({
    serializer: rawSerializer,
    compression: 'none',
    lingerMs: 0,
    maxBatchBytes: BATCH_BYTES + 1024,
  });
  for (const [i, topic] of topics.entries()) {
    const count = Math.min(PARTITIONS_PER_TOPIC, partitions - i * PARTITIONS_PER_TOPIC);
    await admin.createTopic({ topic, partitions: count, configs: setting.configs });
    for (let b = 0; b < setting.batches; b++) {
      await Promise.all(
        Array.from({ length: count }, (_, partition) =>
          producer.send({ topic, messages: [{ key: null, value: randomBytes(BATCH_BYTES), partition }] }),
        ),
      );
    }
  }
  await producer.close();

  // The runs that archive what is due and record the schedules; then idle runs.
  const archiver = transport.archiver();
  for (let i = 0; i < 3; i++) await archiver.run();
  const archiverCost = await idleCost(meter, () => archiver.run({ visit: 'scheduled' }));
  const probing = transport.archiver({ probeIntervalMs: 0 });
  const archiverProbing = await idleCost(meter, () => probing.run({ visit: 'scheduled' }));
  const archiverDue = await idleCost(meter, () => archiver.run({ visit: 'due' }));
  const archiverAll = await idleCost(meter, () => archiver.run({ visit: 'all' }));

  let workersStarted = 0;
  const sqs = new SQSClient({ endpoint: stack.endpoint, region: stack.region, credentials });
  // Sweeps come a minute apart, longer than the dispatcher function's topic metadata cache (5 s):
  // each sweep reads the topics of the triggers again.
  const uncached = new DirectTransport({
    endpoint: stack.endpoint,
    region: stack.region,
    credentials,
    tablePrefix,
    bucket: stack.bucket,
    dynamoDBClient: ddb,
    metadataMaxAgeMs: -1,
  });
  const dispatcher = new Dispatcher({
    ctx: uncached.ctx,
    topics: uncached.topics,
    triggers: uncached.triggers(),
    lambda: transport.lambda,
    sqs: () => sqs,
    region: stack.region,
    bootstrapServers: 'tributary.local:9092',
    appendToTopic: async () => undefined,
    startWorker: async () => {
      workersStarted++;
    },
  });
  const sweepNoTriggers = await idleCost(meter, () => dispatcher.sweep());
  // A trigger on every topic, from LATEST: every partition has a committed offset and nothing is due.
  for (const topic of topics) {
    await admin.createTrigger({
      name: `${topic}-trigger`,
      topic,
      functionName: 'idle-bench-target',
      startingPosition: 'LATEST',
    });
  }
  const sweepWithTriggers = await idleCost(meter, () => dispatcher.sweep());
  sqs.destroy();
  uncached.close();
  transport.close();
  ddb.destroy();
  return {
    setting: setting.name,
    partitions,
    archiver: archiverCost,
    archiverProbing,
    archiverDue,
    archiverAll,
    sweepNoTriggers,
    sweepWithTriggers,
    workersStarted,
  };
}

const f = (n: number, digits = 3) => n.toFixed(digits);
const row = (cells: readonly (string | number)[]) => `| ${cells.join(' | ')} |`;

/**
 * A scheduled run averaged over a probe interval: each partition is probed in one run of every
 * `DEFAULT_PROBE_INTERVAL_MS / RUN_INTERVAL_MS` (60), the other runs only read the schedule.
 */
function amortized(r: Measured): RunCost {
  const share = RUN_INTERVAL_MS / DEFAULT_PROBE_INTERVAL_MS;
  const mix = (f: (c: RunCost) => number) => f(r.archiver) + (f(r.archiverProbing) - f(r.archiver)) * share;
  return {
    readUnits: mix((c) => c.readUnits),
    writeUnits: mix((c) => c.writeUnits),
    requests: mix((c) => c.requests),
    byTable: r.archiver.byTable,
  };
}

/** $ per partition-month of a run's units at one run a minute. */
function monthly(cost: RunCost, partitions: number): number {
  return (
    ((cost.readUnits * PRICE.readUnit + cost.writeUnits * PRICE.writeUnit) * RUNS_PER_MONTH) / partitions
  );
}

export async function benchIdle(stack: LocalStack): Promise<BenchSection> {
  const recordDir = mkdtempSync(join(tmpdir(), 'tributary-idle-'));
  stack.lambda.register({
    name: 'idle-bench-target',
    module: RECORDER,
    environment: { RECORD_DIR: recordDir },
  });
  const results: Measured[] = [];
  try {
    for (const setting of SETTINGS) {
      for (const partitions of PARTITION_COUNTS) results.push(await measure(stack, setting, partitions));
    }
  } finally {
    rmSync(recordDir, { recursive: true, force: true });
  }
  const lines = [
    `Idle cost: ${IDLE_RUNS} idle runs measured per figure (mean), ${BATCH_BYTES / 1024} KB batches, ` +
      `${PARTITIONS_PER_TOPIC} partitions per topic; $ per partition-month at one run a minute ` +
      '(43,200 runs) and $0.125 / $0.625 per million read / write request units.',
    '',
    row([
      'sweep',
      'setting',
      'partitions',
      'RU per run',
      'RU per partition-run',
      'WU per partition-run',
      'requests per run',
      '$ per partition-month',
    ]),
    row(['---', '---', '---:', '---:', '---:', '---:', '---:', '---:']),
  ];
  for (const r of results) {
    const sweeps: [string, RunCost][] = [
      ["archiver run, `visit: 'scheduled'` (the schedule's runs)", r.archiver],
      ["archiver run, `visit: 'scheduled'`, probing every partition", r.archiverProbing],
      ['archiver run, scheduled, averaged over an hour (each partition probed once)', amortized(r)],
      ["archiver run, `visit: 'due'` (the default)", r.archiverDue],
      ["archiver run, `visit: 'all'` (as every run before schedules)", r.archiverAll],
      ['dispatcher sweep, no triggers', r.sweepNoTriggers],
      ['dispatcher sweep, a trigger per topic', r.sweepWithTriggers],
    ];
    for (const [what, cost] of sweeps) {
      lines.push(
        row([
          what,
          r.setting,
          r.partitions,
          f(cost.readUnits, 1),
          f(cost.readUnits / r.partitions),
          f(cost.writeUnits / r.partitions),
          f(cost.requests, 0),
          `$${monthly(cost, r.partitions).toFixed(5)}`,
        ]),
      );
    }
  }
  const started = results.reduce((n, r) => n + r.workersStarted, 0);
  lines.push('', `Workers the idle sweeps started: ${started} (0 expected: nothing was due).`);
  const tables = results.at(-1)!.archiver.byTable;
  lines.push(
    '',
    `Last archiver run by table: ${Object.entries(tables)
      .map(([t, c]) => `${t}: ${f(c.readUnits, 1)} RU, ${f(c.writeUnits, 1)} WU, ${c.requests} requests`)
      .join('; ')}`,
  );
  return { lines, checks: [] };
}
