/**
 * S3 tier figures (`BENCH_ONLY=archive`): how fast the archiver moves closed segments from
 * DynamoDB to S3, what that costs per archived GB (DynamoDB units as DynamoDB reports them, S3
 * requests from the archiver's report, both priced at us-east-1 on-demand rates), and how fast
 * the normal consumer reads an archived range (ranged GETs of S3 segments) against the same
 * number of records of an identical topic that stayed in DynamoDB, in the same run.
 */

import { randomBytes } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import type { LocalStack } from '../local/index.ts';
import { Tributary } from '../sdk/src/index.ts';
import { tableNames, writeUnits } from '../sdk/src/internal.ts';
import type { BenchSection } from './bounds.ts';
import { type CapacityTotals, meterCapacity } from './capacity-meter.ts';
import { dynamoItemBytes, partitionLogItems } from './log-items.ts';

const RECORD_BYTES = 1024;
const RECORDS = Number(process.env.BENCH_ARCHIVE_RECORDS ?? 20_000);
const ROUNDS = Number(process.env.BENCH_ARCHIVE_ROUNDS ?? 5);
/** Records per send, and about per batch (see `maxBatchBytes` below). */
const BATCH_RECORDS = 100;
const MB = 1024 * 1024;
const GB = 1024 * MB;
/** fauxqs caps a request body at 11 MiB; 4 MiB segments go up in one PUT each. */
const SEGMENT_BYTES = 4 * MB;
const TOPIC_CONFIGS = { 'segment.bytes': SEGMENT_BYTES, 'local.retention.ms': 0 };

/** us-east-1 on-demand prices, in $. */
const PRICE = {
  writeUnit: 0.625 / 1e6,
  readUnit: 0.125 / 1e6,
  s3Put: 0.005 / 1000,
  s3Get: 0.0004 / 1000,
  /** S3 does not charge DELETE requests. */
  s3Delete: 0,
  s3GbMonth: 0.023,
  ddbGbMonth: 0.25,
};

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const start = process.hrtime.bigint();
  const value = await fn();
  return [value, Number(process.hrtime.bigint() - start) / 1e9];
}

/** Counts S3 requests by command, and the bytes GETs returned. */
function countS3(s3: S3Client) {
  const counts = { byCommand: {} as Record<string, number>, bytesRead: 0 };
  type Next = (args: unknown) => Promise<{ output: { ContentLength?: number } }>;
  const middleware = (next: Next, context: { commandName?: string }) => async (args: unknown) => {
    const name = context.commandName ?? '?';
    counts.byCommand[name] = (counts.byCommand[name] ?? 0) + 1;
    const result = await next(args);
    if (name === 'GetObjectCommand') counts.bytesRead += result.output.ContentLength ?? 0;
    return result;
  };
  s3.middlewareStack.add(middleware as never, { step: 'initialize', name: 'bench-s3-counter' });
  return {
    counts,
    reset: () => {
      counts.byCommand = {};
      counts.bytesRead = 0;
    },
  };
}

interface Read {
  seconds: number;
  records: number;
  capacity: CapacityTotals;
  s3Gets: number;
  s3BytesRead: number;
}

export async function benchArchive(stack: LocalStack): Promise<BenchSection> {
  const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
  const tables = tableNames(stack.tablePrefix);
  const newClient = () => {
    const common = { endpoint: stack.endpoint, region: stack.region, credentials, maxAttempts: 1 };
    const ddb = new DynamoDBClient(common);
    const s3 = new S3Client({ ...common, forcePathStyle: true });
    const meter = meterCapacity(ddb);
    const s3Meter = countS3(s3);
    const client = new Tributary({
      endpoint: stack.endpoint,
      region: stack.region,
      tablePrefix: stack.tablePrefix,
      bucket: stack.bucket,
      dynamoDBClient: ddb,
      s3Client: s3,
    });
    const close = () => {
      client.close();
      ddb.destroy();
      s3.destroy();
    };
    return { client, meter, s3Meter, close };
  };
  const values = Array.from({ length: 1_000 }, () => randomBytes(RECORD_BYTES));

  async function produce(topic: string) {
    const { client, close } = newClient();
    await client.admin().createTopic({ topic, partitions: 1, configs: TOPIC_CONFIGS });
    // Batches of about BATCH_RECORDS records: the batch closes at this many bytes. Random bytes
    // do not compress: the codec would only spend CPU.
    const producer = client.producer({
      compression: 'none',
      lingerMs: 5,
      maxBatchBytes: BATCH_RECORDS * (RECORD_BYTES + 16),
    });
    const sends: Promise<unknown>[] = [];
    for (let i = 0; i < RECORDS; i += BATCH_RECORDS) {
      sends.push(
        producer.send({
          topic,
          messages: Array.from({ length: BATCH_RECORDS }, (_, j) => ({
            value: values[(i + j) % values.length]!,
          })),
        }),
      );
    }
    await Promise.all(sends);
    await producer.flush();
    const { batches } = producer.metrics();
    await producer.close();
    close();
    return { batches };
  }

  /** The log items of a partition as stored now (sizes as DynamoDB bills them). */
  async function itemSizes(topic: string): Promise<number[]> {
    const { client, close } = newClient();
    const { incarnation } = await client.admin().describeTopic(topic);
    const ddb = new DynamoDBClient({ endpoint: stack.endpoint, region: stack.region, credentials });
    const items = await partitionLogItems(ddb, tables.log, { topic, incarnation, partition: 0 });
    const sizes = items.map(dynamoItemBytes);
    ddb.destroy();
    close();
    return sizes;
  }

  async function archive(topic: string) {
    const { client, meter, s3Meter, close } = newClient();
    const archiver = client.archiver();
    meter.reset();
    s3Meter.reset();
    const [report, seconds] = await timed(() => archiver.run({ topics: [topic] }));
    const capacity = { ...meter.totals };
    const s3 = { ...s3Meter.counts };
    // A second run right away finds nothing to archive: what a scheduled run costs when the
    // partition's next segment is still open.
    meter.reset();
    s3Meter.reset();
    const [rerunReport, rerunSeconds] = await timed(() => archiver.run({ topics: [topic] }));
    const rerun = { report: rerunReport, seconds: rerunSeconds, capacity: { ...meter.totals } };
    close();
    return { report, seconds, capacity, s3, rerun };
  }

  /**
   * Reads the first `records` records (the archived range) with the normal consumer, timed from
   * `assign()`; records after them that a fetch returns too are not counted.
   */
  async function consume(topic: string, records: number): Promise<Read> {
    const { client, meter, s3Meter, close } = newClient();
    const consumer = client.consumer({ maxRecords: 2_000, maxBytes: 4 * MB });
    meter.reset();
    s3Meter.reset();
    let read = 0;
    // From assign(): the consumer starts fetching (and, from S3, reads the first index) there.
    const [, seconds] = await timed(async () => {
      await consumer.assign([{ topic, partition: 0, offset: 0 }]);
      while (read < records) {
        for (const batch of await consumer.poll())
          for (const m of batch.messages) if (m.offset < records) read++;
      }
    });
    consumer.close();
    close();
    return {
      seconds,
      records: read,
      capacity: meter.totals,
      s3Gets: s3Meter.counts.byCommand.GetObjectCommand ?? 0,
      s3BytesRead: s3Meter.counts.bytesRead,
    };
  }

  async function round(index: number) {
    const id = randomBytes(3).toString('hex');
    const cold = `bench-archive-${id}`;
    const hot = `bench-hot-${id}`;
    const produced = await produce(cold);
    await produce(hot);
    const sizes = await itemSizes(cold);
    const archived = await archive(cold);
    const p = archived.report.partitions[0]!;
    const records = p.localLogStartOffset;
    // Alternate which tier is read first.
    const reads =
      index % 2 === 0
        ? { s3: await consume(cold, records), ddb: await consume(hot, records) }
        : { ddb: await consume(hot, records), s3: await consume(cold, records) };
    // Stubs replace the first `batchesArchived` items; AWS bills each on the larger of the old
    // and new item (the old one: a stub is a few dozen bytes).
    const stubUnitsAws = sizes.slice(0, p.batchesArchived).reduce((n, s) => n + writeUnits(s), 0);
    const openSegmentBytes = sizes.slice(p.batchesArchived).reduce((n, s) => n + s, 0);
    return { produced, sizes, archived, records, ...reads, stubUnitsAws, openSegmentBytes };
  }

  await round(1); // warm-up
  const rounds: Awaited<ReturnType<typeof round>>[] = [];
  for (let i = 0; i < ROUNDS; i++) rounds.push(await round(i));
  type Round = (typeof rounds)[number];
  const med = (f: (r: Round) => number) => median(rounds.map(f));
  const n = (v: number, digits = 0) => v.toLocaleString('en-US', { maximumFractionDigits: digits });
  const $ = (v: number, digits = 4) => `$${v.toFixed(digits)}`;

  // Archive throughput and cost. DynamoDB Local reports a stub update at the size of the item
  // it replaces, as AWS bills it; the figure used is the larger of that and the size computed
  // from the replaced items, so a meter that reported the stub's size would not hide the cost.
  const gb = (r: Round) => r.archived.report.bytesArchived / GB;
  const updateUnits = (r: Round) => r.archived.capacity.byCommand.UpdateItemCommand?.writeUnits ?? 0;
  const billedWrites = (r: Round) =>
    r.archived.capacity.writeUnits - updateUnits(r) + Math.max(updateUnits(r), r.stubUnitsAws);
  const wru = med((r) => billedWrites(r) / gb(r));
  const stubWru = med((r) => r.stubUnitsAws / gb(r));
  const rru = med((r) => r.archived.capacity.readUnits / gb(r));
  const puts = med((r) => r.archived.report.s3Requests.puts / gb(r));
  const gets = med((r) => r.archived.report.s3Requests.gets / gb(r));
  const deletes = med((r) => r.archived.report.s3Requests.deletes / gb(r));
  const cost = {
    write: wru * PRICE.writeUnit,
    stubs: stubWru * PRICE.writeUnit,
    read: rru * PRICE.readUnit,
    put: puts * PRICE.s3Put,
    get: gets * PRICE.s3Get,
    delete: deletes * PRICE.s3Delete,
  };
  const total = cost.write + cost.read + cost.put + cost.get + cost.delete;
  // Expiring the same batches in DynamoDB instead (retention without the S3 tier) plans the same
  // segments (same reads) and writes the same stubs: what archiving adds is the rest.
  const extra = total - cost.stubs - cost.read;
  const saving = PRICE.ddbGbMonth - PRICE.s3GbMonth;
  const items = rounds.flatMap((r) => r.sizes);
  const avgItem = items.reduce((a, b) => a + b, 0) / items.length;
  const rerunRru = med((r) => r.archived.rerun.capacity.readUnits);
  const openMb = med((r) => r.openSegmentBytes / MB);

  // Consume from S3 against DynamoDB.
  const mbOf = (x: Read) => (x.records * RECORD_BYTES) / MB;
  const perSecond = (x: Read) => x.records / x.seconds;
  const readRow = (label: string, pick: (r: Round) => Read, ratio: string) =>
    `| ${label} | ${n(med((r) => perSecond(pick(r))))} | ${n(
      med((r) => mbOf(pick(r)) / pick(r).seconds),
      1,
    )} | ${ratio} | ${n(
      med((r) => pick(r).capacity.readUnits / mbOf(pick(r))),
      1,
    )} | ${n(
      med((r) => pick(r).s3Gets / mbOf(pick(r))),
      3,
    )} |`;

  const s3BytesPerByte = med((r) => r.s3.s3BytesRead / (r.s3.records * RECORD_BYTES));
  const s3GetsPerMb = med((r) => r.s3.s3Gets / mbOf(r.s3));
  const lines = [
    '',
    `S3 tier: ${n(RECORDS)} records × ${RECORD_BYTES} B per topic, one partition, ${n(med((r) => RECORDS / r.produced.batches))} records per batch (${n(avgItem / 1024, 1)} KB items), \`segment.bytes\` = ${SEGMENT_BYTES / MB} MiB, \`local.retention.ms\` = 0. DynamoDB Local and fauxqs (S3) behind the edge endpoint. Medians of ${ROUNDS} rounds after a warm-up round; each round archives a new topic and reads it back next to an identical topic that stays in DynamoDB (the order alternates).`,
    '',
    '| archiver run | segments | MB archived | seconds | MB/s |',
    '| --- | ---: | ---: | ---: | ---: |',
    `| \`archiver().run()\`, one partition | ${n(med((r) => r.archived.report.segmentsArchived))} | ${n(
      med((r) => r.archived.report.bytesArchived / MB),
      1,
    )} | ${n(
      med((r) => r.archived.seconds),
      2,
    )} | ${n(
      med((r) => r.archived.report.bytesArchived / MB / r.archived.seconds),
      1,
    )} |`,
    `| the same again at once (nothing closed to archive) | 0 | 0 | ${n(
      med((r) => r.archived.rerun.seconds),
      2,
    )} | |`,
    '',
    'Cost per archived GB, us-east-1 on-demand (write $0.625 per million WRU, read $0.125 per million RRU, S3 PUT $0.005 and GET $0.0004 per 1000, DELETE free):',
    '',
    '| what | per GB archived | $ per GB |',
    '| --- | ---: | ---: |',
    `| DynamoDB write units | ${n(wru)} WRU | ${$(cost.write)} |`,
    `| of which replacing items by stubs (billed on the replaced item's size) | ${n(stubWru)} WRU | ${$(cost.stubs)} |`,
    `| DynamoDB read units (consistent) | ${n(rru)} RRU (${n(rru / 1024)} per MB) | ${$(cost.read)} |`,
    `| S3 PUT | ${n(puts, 1)} | ${$(cost.put, 6)} |`,
    `| S3 GET | ${n(gets, 1)} | ${$(cost.get, 6)} |`,
    `| S3 DELETE | ${n(deletes, 1)} | ${$(cost.delete, 6)} |`,
    `| **total, once per GB** | | **${$(total)}** |`,
    `| of which expiring the same data in DynamoDB would not spend (it reads and stubs the same items) | | ${$(extra)} |`,
    '',
    `Formula: $/GB = WRU/GB × 0.625e-6 + RRU/GB × 0.125e-6 + PUT/GB × 5e-6 + GET/GB × 0.4e-6 = ${n(wru)} × 0.625e-6 + ${n(rru)} × 0.125e-6 + ${n(puts, 1)} × 5e-6 + ${n(gets, 1)} × 0.4e-6 = ${$(total)}.`,
    `DynamoDB Local reports the stub updates at the replaced item's size as AWS bills them (${n(med((r) => updateUnits(r) / gb(r)))} WRU per GB for all updates, reported; ${n(stubWru)} computed from the replaced items' sizes; the table uses the larger).`,
    `Storage: S3 Standard $${PRICE.s3GbMonth} vs DynamoDB $${PRICE.ddbGbMonth} per GB-month (saves $${saving.toFixed(3)}). The whole archive cost equals ${n((total / saving) * 30)} days of that saving; what archiving adds over expiring in DynamoDB, ${n((extra / saving) * 30 * 24, 1)} hours.`,
    `A run that finds nothing to do (the open segment holds ${n(openMb, 1)} MB here) reads ${n(rerunRru)} RRU (${$(rerunRru * PRICE.readUnit, 6)}) per partition: the bounds, the tail and the first hot item.`,
    '',
    `Consume from offset 0 of ${n(med((r) => r.records))} records (the archived range), normal consumer (maxRecords 2000, maxBytes 4 MiB), timed from \`assign()\`. Units and requests include \`assign()\` and the consumer's prefetch past the last record counted (from the S3 range: the DynamoDB items after it).`,
    '',
    '| source | records/s | MB/s | vs DynamoDB | DynamoDB RU per MB | S3 GETs per MB |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    readRow(
      'S3 segments (ranged GETs)',
      (r) => r.s3,
      `${med((r) => perSecond(r.s3) / perSecond(r.ddb)).toFixed(2)}×`,
    ),
    readRow('DynamoDB (identical topic, not archived)', (r) => r.ddb, '1.00×'),
    '',
    `S3 bytes read per record byte consumed: ${s3BytesPerByte.toFixed(3)} (batch framing and index objects).`,
  ];
  return {
    lines,
    checks: [
      { bound: 's3BytesPerByte', what: 'consume from S3 segments', value: s3BytesPerByte },
      { bound: 's3GetsPerMb', what: 'consume from S3 segments', value: s3GetsPerMb },
    ],
  };
}
