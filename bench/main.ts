/**
 * `npm run bench`: produce and consume throughput of 1 KB records through the SDK, each next to
 * its raw DynamoDB baseline measured in the same run on the same stack (PutItem / Query of items
 * of the size the SDK writes), plus capacity units per MB and the waste under contention; then
 * compression of a JSON workload (`compression.ts`), consumer groups (`groups.ts`), the S3 tier
 * (`archive.ts`) and the HTTP API against direct (`http.ts`), which `BENCH_ONLY=compression`,
 * `BENCH_ONLY=groups`, `BENCH_ONLY=archive` and `BENCH_ONLY=http` run alone. Prints Markdown for
 * BENCHMARKS.md. Figures are ratios against the baseline: the absolute numbers depend on the
 * machine and on DynamoDB Local, the ratios much less; the capacity-unit ratios not at all, and
 * the run exits non-zero when one of them is past its bound (`bounds.ts`).
 */

import { randomBytes } from 'node:crypto';
import { DynamoDBClient, PutItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { startLocalStack } from '../local/index.ts';
import { Tributary } from '../sdk/src/index.ts';
import { slotFromItem, tableNames } from '../sdk/src/internal.ts';
import { benchArchive } from './archive.ts';
import { type BenchSection, type BoundCheck, boundsReport } from './bounds.ts';
import { type CapacityTotals, meterCapacity } from './capacity-meter.ts';
import { benchCompression } from './compression.ts';
import { benchGateway } from './gateway.ts';
import { benchGroups } from './groups.ts';
import { benchHttp } from './http.ts';
import { benchIdle } from './idle.ts';
import { partitionLogItems } from './log-items.ts';
import { benchRegions } from './regions.ts';
import { benchTriggers } from './triggers.ts';

const RECORD_BYTES = 1024;
const RECORDS = Number(process.env.BENCH_RECORDS ?? 30_000);
const CONTENDERS = 8;
const CONTENTION_RECORDS = Number(process.env.BENCH_CONTENTION_RECORDS ?? 1_500);
const MB = 1024 * 1024;

interface Run {
  seconds: number;
  records: number;
  bytes: number;
  capacity: CapacityTotals;
}

const stack = await startLocalStack({ edgePort: 0 });
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
const newDdb = () =>
  new DynamoDBClient({ endpoint: stack.endpoint, region: stack.region, credentials, maxAttempts: 1 });
const client = (ddb: DynamoDBClient) =>
  new Tributary({
    endpoint: stack.endpoint,
    region: stack.region,
    tablePrefix: stack.tablePrefix,
    bucket: stack.bucket,
    dynamoDBClient: ddb,
  });
const tables = tableNames(stack.tablePrefix);
const payload = () => randomBytes(RECORD_BYTES);

function rate(run: Run): { perSecond: number; mbPerSecond: number } {
  return { perSecond: run.records / run.seconds, mbPerSecond: run.bytes / MB / run.seconds };
}

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const start = process.hrtime.bigint();
  const value = await fn();
  return [value, Number(process.hrtime.bigint() - start) / 1e9];
}

/** SDK produce of RECORDS 1 KB records to `partitions` partitions of a new topic. */
async function sdkProduce(topic: string, partitions: number): Promise<Run> {
  const ddb = newDdb();
  const meter = meterCapacity(ddb);
  const tributary = client(ddb);
  await tributary.admin().createTopic({ topic, partitions });
  // Random bytes do not compress: the codec would only spend CPU (compression has its own section).
  const producer = tributary.producer({ compression: 'none', lingerMs: 5 });
  const values = Array.from({ length: 1_000 }, payload);
  meter.reset();
  const [, seconds] = await timed(async () => {
    const sends: Promise<unknown>[] = [];
    for (let i = 0; i < RECORDS; i += 100) {
      sends.push(
        producer.send({
          topic,
          messages: Array.from({ length: 100 }, (_, j) => ({
            value: values[(i + j) % values.length]!,
            partition: (i / 100) % partitions,
          })),
        }),
      );
    }
    await Promise.all(sends);
    await producer.flush();
  });
  await producer.close();
  tributary.close();
  return { seconds, records: RECORDS, bytes: RECORDS * RECORD_BYTES, capacity: { ...meter.totals } };
}

/** The items the SDK wrote, to replay as the raw baseline. */
async function storedItems(topic: string, partitions: number) {
  const tributary = client(newDdb());
  const { incarnation } = await tributary.admin().describeTopic(topic);
  const ddb = newDdb();
  const items = [];
  for (let partition = 0; partition < partitions; partition++) {
    const stored = await partitionLogItems(ddb, tables.log, { topic, incarnation, partition });
    items.push(...stored.map((item) => ({ partition, item })));
  }
  tributary.close();
  return items;
}

/**
 * Raw PutItem of the same items under new keys, one in flight per partition (like the SDK); each
 * call's milliseconds go to `latencies` if given.
 */
async function rawPut(
  items: Awaited<ReturnType<typeof storedItems>>,
  partitions: number,
  latencies?: number[],
): Promise<Run> {
  const ddb = newDdb();
  const meter = meterCapacity(ddb);
  const pk = `raw-${randomBytes(4).toString('hex')}`;
  const [, seconds] = await timed(() =>
    Promise.all(
      Array.from({ length: partitions }, async (_, p) => {
        for (const { item } of items.filter((i) => i.partition === p)) {
          const start = performance.now();
          await ddb.send(
            new PutItemCommand({ TableName: tables.log, Item: { ...item, pk: { S: `${pk}:${p}` } } }),
          );
          latencies?.push(performance.now() - start);
        }
      }),
    ),
  );
  const records = items.reduce((n, { item }) => n + Number(item.n?.N ?? 0), 0);
  return { seconds, records, bytes: records * RECORD_BYTES, capacity: { ...meter.totals }, pk } as Run & {
    pk: string;
  };
}

/** SDK consume of everything in the topic. */
async function sdkConsume(topic: string, partitions: number): Promise<Run> {
  const ddb = newDdb();
  const meter = meterCapacity(ddb);
  const tributary = client(ddb);
  const consumer = tributary.consumer({ maxRecords: 2_000, maxBytes: 4 * MB });
  await consumer.assign(
    Array.from({ length: partitions }, (_, partition) => ({ topic, partition, offset: 0 })),
  );
  meter.reset();
  let records = 0;
  const [, seconds] = await timed(async () => {
    while (records < RECORDS) {
      for (const batch of await consumer.poll()) records += batch.messages.length;
    }
  });
  consumer.close();
  tributary.close();
  return { seconds, records, bytes: records * RECORD_BYTES, capacity: { ...meter.totals } };
}

/** Raw eventually consistent Query pages over the baseline's items, one reader per partition. */
async function rawQuery(pk: string, partitions: number): Promise<Run> {
  const ddb = newDdb();
  const meter = meterCapacity(ddb);
  let records = 0;
  const [, seconds] = await timed(() =>
    Promise.all(
      Array.from({ length: partitions }, async (_, p) => {
        let startKey: Record<string, never> | undefined;
        do {
          const page = await ddb.send(
            new QueryCommand({
              TableName: tables.log,
              KeyConditionExpression: 'pk = :pk AND #off >= :zero',
              ExpressionAttributeNames: { '#off': 'off' },
              ExpressionAttributeValues: { ':pk': { S: `${pk}:${p}` }, ':zero': { N: '0' } },
              ...(startKey ? { ExclusiveStartKey: startKey } : {}),
            }),
          );
          for (const item of page.Items ?? []) records += slotFromItem(item).count;
          startKey = page.LastEvaluatedKey as Record<string, never> | undefined;
        } while (startKey);
      }),
    ),
  );
  return { seconds, records, bytes: records * RECORD_BYTES, capacity: { ...meter.totals } };
}

/** CONTENDERS producers racing on one partition. */
async function contention() {
  const topic = `bench-contend-${randomBytes(3).toString('hex')}`;
  await client(newDdb()).admin().createTopic({ topic, partitions: 1 });
  const producers = Array.from({ length: CONTENDERS }, () => {
    const ddb = newDdb();
    const meter = meterCapacity(ddb);
    const tributary = client(ddb);
    return { tributary, meter, producer: tributary.producer({ compression: 'none', lingerMs: 5 }) };
  });
  const value = payload();
  const [, seconds] = await timed(() =>
    Promise.all(
      producers.map(async ({ producer }) => {
        const sends: Promise<unknown>[] = [];
        for (let i = 0; i < CONTENTION_RECORDS; i += 50) {
          sends.push(producer.send({ topic, messages: Array.from({ length: 50 }, () => ({ value })) }));
        }
        await Promise.all(sends);
        await producer.flush();
      }),
    ),
  );
  let useful = 0;
  let wasted = 0;
  let collisions = 0;
  let batches = 0;
  let measuredWrite = 0;
  let failedMeasured = 0;
  for (const { producer, meter, tributary } of producers) {
    const m = producer.metrics();
    useful += m.writeUnits;
    wasted += m.wastedWriteUnits;
    collisions += m.collisions;
    batches += m.batches;
    measuredWrite += meter.totals.writeUnits;
    failedMeasured += meter.totals.failedWriteUnits;
    await producer.close();
    tributary.close();
  }
  const records = CONTENDERS * CONTENTION_RECORDS;
  return { seconds, records, useful, wasted, collisions, batches, measuredWrite, failedMeasured };
}

function row(cells: (string | number)[]): string {
  return `| ${cells.map((c) => (typeof c === 'number' ? c.toLocaleString('en-US', { maximumFractionDigits: 2 }) : c)).join(' | ')} |`;
}

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** One round of the four measurements on a new topic. */
async function round(partitions: number) {
  const topic = `bench-${partitions}p-${randomBytes(3).toString('hex')}`;
  const produced = await sdkProduce(topic, partitions);
  const items = await storedItems(topic, partitions);
  const raw = (await rawPut(items, partitions)) as Run & { pk: string };
  const consumed = await sdkConsume(topic, partitions);
  const rawRead = await rawQuery(raw.pk, partitions);
  const storedBytes = items.reduce((n, { item }) => n + (item.b?.B?.byteLength ?? 0), 0);
  return { produced, raw, consumed, rawRead, storedBytes, avgItem: storedBytes / items.length };
}

const ONLY = process.env.BENCH_ONLY;

/** The log-engine figures: produce, consume and contention against their raw baselines. */
async function benchLogEngine(): Promise<BenchSection> {
  const lines: string[] = [];
  const checks: BoundCheck[] = [];
  lines.push(
    `Records: ${RECORDS} × ${RECORD_BYTES} B, uncompressed. Node ${process.version}. DynamoDB Local (in memory) via the edge endpoint.`,
    `Each figure is the median of ${ROUNDS} rounds after a warm-up round; SDK and baseline alternate within a round.`,
    '',
  );
  lines.push(
    row(['scenario', 'partitions', 'records/s', 'MB/s', 'vs raw baseline', 'capacity units per MB']),
  );
  lines.push(row(['---', '---:', '---:', '---:', '---:', '---:']));
  await round(1);
  for (const partitions of [1, 4]) {
    const rounds: Awaited<ReturnType<typeof round>>[] = [];
    for (let i = 0; i < ROUNDS; i++) rounds.push(await round(partitions));
    const med = (f: (r: (typeof rounds)[number]) => number) => median(rounds.map(f));
    const produceRate = med((r) => rate(r.produced).perSecond);
    const rawRate = med((r) => rate(r.raw).perSecond);
    const consumeRate = med((r) => rate(r.consumed).perSecond);
    const queryRate = med((r) => rate(r.rawRead).perSecond);
    const mbps = (recordsPerSecond: number) => (recordsPerSecond * RECORD_BYTES) / MB;
    const writeRatio = med((r) => r.produced.capacity.writeUnits / r.raw.capacity.writeUnits);
    const readRatio = med((r) => r.consumed.capacity.readUnits / r.rawRead.capacity.readUnits);
    const unit = partitions === 1 ? 'partition' : 'partitions';
    checks.push(
      { bound: 'writeUnitsVsRawPut', what: `produce, ${partitions} ${unit}`, value: writeRatio },
      { bound: 'readUnitsVsRawQuery', what: `consume, ${partitions} ${unit}`, value: readRatio },
    );
    lines.push(
      row([
        `produce (SDK, ${Math.round(med((r) => r.avgItem) / 1024)} KB batches)`,
        partitions,
        produceRate,
        mbps(produceRate),
        `${med((r) => rate(r.produced).perSecond / rate(r.raw).perSecond).toFixed(2)}×`,
        `${med((r) => r.produced.capacity.writeUnits / (r.storedBytes / MB)).toFixed(1)} WU (${med((r) => r.produced.capacity.writeUnits / (r.storedBytes / 1024)).toFixed(3)} per KB stored; ${writeRatio.toFixed(4)}× raw)`,
      ]),
      row([
        'raw PutItem, same items',
        partitions,
        rawRate,
        mbps(rawRate),
        '1.00×',
        `${med((r) => r.raw.capacity.writeUnits / (r.storedBytes / MB)).toFixed(1)} WU`,
      ]),
      row([
        'consume (SDK)',
        partitions,
        consumeRate,
        mbps(consumeRate),
        `${med((r) => rate(r.consumed).perSecond / rate(r.rawRead).perSecond).toFixed(2)}×`,
        `${med((r) => r.consumed.capacity.readUnits / (r.storedBytes / MB)).toFixed(1)} RU (${readRatio.toFixed(4)}× raw)`,
      ]),
      row([
        'raw Query (eventually consistent)',
        partitions,
        queryRate,
        mbps(queryRate),
        '1.00×',
        `${med((r) => r.rawRead.capacity.readUnits / (r.storedBytes / MB)).toFixed(1)} RU`,
      ]),
    );
  }
  const c = await contention();
  lines.push(
    '',
    `Contention: ${CONTENDERS} producers × ${CONTENTION_RECORDS} records of 1 KB on one partition.`,
    '',
  );
  lines.push(
    row([
      'records/s',
      'batches',
      'collisions',
      'useful WU',
      'wasted WU',
      'wasted / useful',
      'WU reported by DynamoDB',
    ]),
  );
  lines.push(row(['---:', '---:', '---:', '---:', '---:', '---:', '---:']));
  lines.push(
    row([
      c.records / c.seconds,
      c.batches,
      c.collisions,
      c.useful,
      c.wasted,
      `${((100 * c.wasted) / c.useful).toFixed(1)}%`,
      `${c.measuredWrite} (+${c.failedMeasured} est. failed)`,
    ]),
  );
  return { lines, checks };
}

/** Runs the sections, prints their figures and the bounds; exits non-zero past a bound. */
async function run(sections: readonly (() => Promise<BenchSection | string[]>)[]): Promise<void> {
  const lines: string[] = [];
  const checks: BoundCheck[] = [];
  for (const section of sections) {
    const out = await section();
    if (Array.isArray(out)) lines.push(...out);
    else {
      lines.push(...out.lines);
      checks.push(...out.checks);
    }
  }
  const report = checks.length > 0 ? boundsReport(checks) : undefined;
  process.stdout.write(`${[...lines, ...(report?.lines ?? [])].join('\n')}\n`);
  if (report && report.failed.length > 0) {
    process.stderr.write(
      `Regression: ${report.failed.map((f) => `${f.what}: ${f.value.toFixed(3)} (bound ${f.bound})`).join('; ')}\n`,
    );
    process.exitCode = 1;
  }
}

const SECTIONS: Record<string, () => Promise<BenchSection | string[]>> = {
  compression: () => benchCompression(stack),
  groups: () => benchGroups(stack),
  archive: () => benchArchive(stack),
  http: () => benchHttp(stack, { storedItems, rawPut }),
  triggers: () => benchTriggers(stack),
  idle: () => benchIdle(stack),
  regions: () => benchRegions(),
  gateway: () => benchGateway(stack),
};

try {
  if (ONLY !== undefined) {
    const section = SECTIONS[ONLY];
    if (!section) throw new Error(`BENCH_ONLY is one of ${Object.keys(SECTIONS).join(', ')}; got ${ONLY}`);
    await run([section]);
  } else {
    await run([benchLogEngine, ...Object.values(SECTIONS)]);
  }
} finally {
  await stack.stop();
}
