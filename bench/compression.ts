/**
 * Compression figures (`BENCH_ONLY=compression`): a JSON workload (order events of about 1 KB,
 * `order-events.ts`, from a seed) produced through the SDK, then every codec and sensible levels
 * held side by side on the same batches: the client CPU to encode and decode a MB (process CPU
 * time around the codec work alone, `process.cpuUsage()`, which counts node:zlib's worker threads
 * too) against the write units DynamoDB reports for storing it and the read units for reading it
 * back, priced at us-east-1 on-demand rates. Last, the producer with its default `compression`, to
 * show what an application gets without choosing.
 */

import { randomBytes } from 'node:crypto';
import { type AttributeValue, DynamoDBClient, PutItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import type { LocalStack } from '../local/index.ts';
import { type Compression, Tributary } from '../sdk/src/index.ts';
import {
  DEFAULT_COMPRESSION_LEVELS,
  decodeRecordBatch,
  encodeRecordBatch,
  type RecordInput,
  tableNames,
} from '../sdk/src/internal.ts';
import type { BenchSection } from './bounds.ts';
import { type CapacityTotals, meterCapacity } from './capacity-meter.ts';
import { dynamoItemBytes, partitionLogItems } from './log-items.ts';
import { orderEvents } from './order-events.ts';

const RECORDS = Number(process.env.BENCH_JSON_RECORDS ?? 20_000);
const SEED = Number(process.env.BENCH_JSON_SEED ?? 42);
/** Passes over the batches per codec for the CPU figures (the median is shown). */
const CPU_ROUNDS = Number(process.env.BENCH_JSON_CPU_ROUNDS ?? 5);
const MB = 1024 * 1024;
/** Records per `send()`. */
const SEND_RECORDS = 100;

/** us-east-1 on-demand list prices, in $ (DynamoDB Standard table class). */
const PRICE = { writeUnit: 0.625 / 1e6, readUnit: 0.125 / 1e6, storageGbMonth: 0.25 };
/** DynamoDB bills storage as the items' bytes plus 100 bytes of overhead per item. */
const ITEM_STORAGE_OVERHEAD = 100;

/** A codec at a level; `level` undefined for codecs without levels. */
interface Variant {
  readonly codec: Compression;
  readonly level?: number;
}

const VARIANTS: readonly Variant[] = [
  { codec: 'none' },
  { codec: 'gzip', level: 1 },
  { codec: 'gzip', level: DEFAULT_COMPRESSION_LEVELS.gzip },
  { codec: 'gzip', level: 9 },
  { codec: 'snappy' },
  { codec: 'lz4' },
  { codec: 'zstd', level: 1 },
  { codec: 'zstd', level: DEFAULT_COMPRESSION_LEVELS.zstd },
  { codec: 'zstd', level: 6 },
  { codec: 'zstd', level: 9 },
];

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** CPU milliseconds (user + system, all threads of this process) that `fn` takes. */
async function cpuMs(fn: () => Promise<void>): Promise<number> {
  const start = process.cpuUsage();
  await fn();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}

/** Per MB of records produced: what storing and reading the variant's batches costs. */
interface Figures {
  readonly storedRatio: number;
  readonly writeUnitsPerMb: number;
  readonly readUnitsPerMb: number;
  readonly encodeCpuMsPerMb: number;
  readonly decodeCpuMsPerMb: number;
  /** DynamoDB storage per GB produced, in GB (items plus their overhead). */
  readonly storedGbPerGb: number;
}

export async function benchCompression(stack: LocalStack): Promise<BenchSection> {
  const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
  const tables = tableNames(stack.tablePrefix);
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
  const values = orderEvents(RECORDS, SEED);
  const recordMb = values.reduce((n, v) => n + v.byteLength, 0) / MB;

  /** Produces the workload to a new topic and reads it back, as DynamoDB bills both. */
  async function produceAndConsume(compression: Compression | undefined) {
    const ddb = newDdb();
    const meter = meterCapacity(ddb);
    const tributary = client(ddb);
    const topic = `bench-json-${randomBytes(3).toString('hex')}`;
    await tributary.admin().createTopic({ topic, partitions: 1 });
    const producer = tributary.producer({ lingerMs: 5, ...(compression ? { compression } : {}) });
    meter.reset();
    const sends: Promise<unknown>[] = [];
    for (let i = 0; i < values.length; i += SEND_RECORDS) {
      sends.push(
        producer.send({ topic, messages: values.slice(i, i + SEND_RECORDS).map((value) => ({ value })) }),
      );
    }
    await Promise.all(sends);
    await producer.close();
    const written: CapacityTotals = { ...meter.totals };
    const consumer = tributary.consumer({ maxRecords: 2_000, maxBytes: 4 * MB });
    await consumer.assign([{ topic, partition: 0, offset: 0 }]);
    meter.reset();
    let read = 0;
    while (read < values.length) for (const batch of await consumer.poll()) read += batch.messages.length;
    consumer.close();
    const readUnits = meter.totals.readUnits;
    const { incarnation } = await tributary.admin().describeTopic(topic);
    const items = await partitionLogItems(ddb, tables.log, { topic, incarnation, partition: 0 });
    tributary.close();
    return { writeUnits: written.writeUnits, readUnits, items };
  }

  // The batches the producer makes of this workload (it seals them by record bytes, before any
  // compression, so every codec gets the same ones), and their records.
  const plain = await produceAndConsume('none');
  const batches: { item: Record<string, AttributeValue>; records: RecordInput[] }[] = [];
  for (const item of plain.items) {
    const decoded = await decodeRecordBatch(item.b!.B!);
    batches.push({
      item,
      records: decoded.records.map((r) => ({
        key: r.key,
        value: r.value,
        timestamp: r.timestamp,
        headers: r.headers,
      })),
    });
  }
  const encode = (variant: Variant, records: readonly RecordInput[]) =>
    encodeRecordBatch({
      baseOffset: 0,
      records,
      compression: variant.codec,
      ...(variant.level === undefined ? {} : { compressionLevel: variant.level }),
      producerId: 1n,
      producerEpoch: 0,
      baseSequence: 0,
    });

  /** Stores the variant's batches as log items (the producer's layout) and reads them back. */
  async function measure(variant: Variant): Promise<Figures> {
    // An untimed pass first, so the figures are of compiled code and warm codec state.
    for (const { records } of batches.slice(0, 10)) await decodeRecordBatch(await encode(variant, records));
    const bodies: Uint8Array[] = [];
    const encodeMs: number[] = [];
    for (let round = 0; round < CPU_ROUNDS; round++) {
      bodies.length = 0;
      encodeMs.push(
        await cpuMs(async () => {
          for (const { records } of batches) bodies.push(await encode(variant, records));
        }),
      );
    }
    const decodeMs: number[] = [];
    for (let round = 0; round < CPU_ROUNDS; round++) {
      decodeMs.push(
        await cpuMs(async () => {
          for (const body of bodies) await decodeRecordBatch(body);
        }),
      );
    }
    const ddb = newDdb();
    const meter = meterCapacity(ddb);
    const pk = `bench-json-${variant.codec}-${variant.level ?? 0}-${randomBytes(3).toString('hex')}`;
    const items = batches.map(({ item }, i) => ({ ...item, pk: { S: pk }, b: { B: bodies[i]! } }));
    for (const item of items) await ddb.send(new PutItemCommand({ TableName: tables.log, Item: item }));
    const writeUnits = meter.totals.writeUnits;
    meter.reset();
    let startKey: Record<string, AttributeValue> | undefined;
    do {
      const page = await ddb.send(
        new QueryCommand({
          TableName: tables.log,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': { S: pk } },
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        }),
      );
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    const readUnits = meter.totals.readUnits;
    ddb.destroy();
    const bodyBytes = bodies.reduce((n, b) => n + b.byteLength, 0);
    const storedBytes = items.reduce((n, item) => n + dynamoItemBytes(item) + ITEM_STORAGE_OVERHEAD, 0);
    return {
      storedRatio: bodyBytes / (recordMb * MB),
      writeUnitsPerMb: writeUnits / recordMb,
      readUnitsPerMb: readUnits / recordMb,
      encodeCpuMsPerMb: median(encodeMs) / recordMb,
      decodeCpuMsPerMb: median(decodeMs) / recordMb,
      storedGbPerGb: storedBytes / (recordMb * MB),
    };
  }

  const measured: { variant: Variant; figures: Figures }[] = [];
  for (const variant of VARIANTS) measured.push({ variant, figures: await measure(variant) });
  // The producer as an application gets it, without a `compression` option.
  const byDefault = await produceAndConsume(undefined);
  const defaultCodec = (await decodeRecordBatch(byDefault.items[0]!.b!.B!)).compression;

  const n = (v: number, digits = 1) => v.toLocaleString('en-US', { maximumFractionDigits: digits });
  const costs = (f: { writeUnitsPerMb: number; readUnitsPerMb: number; storedGbPerGb: number }) => {
    const write = f.writeUnitsPerMb * 1024 * PRICE.writeUnit;
    const read = f.readUnitsPerMb * 1024 * PRICE.readUnit;
    const storage = f.storedGbPerGb * PRICE.storageGbMonth;
    return { write, read, storage, total: write + read + storage };
  };
  const defaultLevel = (v: Variant) =>
    (v.codec === 'gzip' || v.codec === 'zstd') && v.level === DEFAULT_COMPRESSION_LEVELS[v.codec];
  const label = (v: Variant) =>
    `${v.codec}${v.level === undefined ? '' : ` ${v.level}`}${defaultLevel(v) ? ' (its default level)' : ''}`;
  const rows = measured.map(({ variant, figures: f }) => {
    const c = costs(f);
    return `| ${label(variant)} | ${f.storedRatio.toFixed(3)} | ${n(f.writeUnitsPerMb)} | ${n(f.readUnitsPerMb)} | ${f.encodeCpuMsPerMb.toFixed(2)} | ${f.decodeCpuMsPerMb.toFixed(2)} | $${c.write.toFixed(4)} | $${c.read.toFixed(4)} | $${c.storage.toFixed(4)} | $${c.total.toFixed(4)} |`;
  });
  const viaSdk = (run: typeof plain) => {
    const storedBytes = run.items.reduce((s, item) => s + dynamoItemBytes(item) + ITEM_STORAGE_OVERHEAD, 0);
    const f = {
      writeUnitsPerMb: run.writeUnits / recordMb,
      readUnitsPerMb: run.readUnits / recordMb,
      storedGbPerGb: storedBytes / (recordMb * MB),
    };
    return { ...f, cost: costs(f) };
  };
  const sdkRow = (what: string, run: typeof plain) => {
    const f = viaSdk(run);
    return `| ${what} | ${n(run.items.length, 0)} | ${n(f.writeUnitsPerMb)} | ${n(f.readUnitsPerMb)} | $${f.cost.write.toFixed(4)} | $${f.cost.read.toFixed(4)} | $${f.cost.storage.toFixed(4)} | $${f.cost.total.toFixed(4)} |`;
  };
  const none = viaSdk(plain);
  const chosen = viaSdk(byDefault);
  const avgValue = (recordMb * MB) / values.length;

  return {
    lines: [
      '',
      `Compression: ${n(RECORDS, 0)} JSON order events (\`bench/order-events.ts\`, seed ${SEED}), ${n(avgValue, 0)} B on average, ${n(recordMb)} MB; one partition, sends of ${SEND_RECORDS}, producer \`lingerMs\` 5, so ${n(batches.length, 0)} batches of about ${n(RECORDS / batches.length, 0)} records (the producer seals a batch by record bytes, before compression: every codec below encodes the same batches). Per MB of records (JSON bytes). CPU: median of ${CPU_ROUNDS} passes over all batches, process CPU time around the codec work alone. Units as DynamoDB reports them for putting the batches as log items (the producer's layout) and for reading them back with eventually consistent queries. $ per GB produced at us-east-1 on-demand list prices: writes $0.625 per million WRU, reads $0.125 per million RRU, storage $0.25 per GB-month (items plus 100 B each).`,
      '',
      '| codec | stored bytes per record byte | write units per MB | read units per MB | encode CPU ms per MB | decode CPU ms per MB | $ per GB: write once | read once | store a month | total |',
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
      ...rows,
      '',
      'The same workload through the SDK (producer and consumer as above, units as DynamoDB reports them):',
      '',
      '| producer | batches | write units per MB | read units per MB | $ per GB: write once | read once | store a month | total |',
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
      sdkRow("`compression: 'none'`", plain),
      sdkRow(`no \`compression\` option (the default: ${defaultCodec})`, byDefault),
      '',
      `Formula: $/GB = WRU per MB × 1024 × 0.625e-6 + RRU per MB × 1024 × 0.125e-6 + stored GB per GB × $0.25. Uncompressed: ${n(none.writeUnitsPerMb)} × 1024 × 0.625e-6 + ${n(none.readUnitsPerMb)} × 1024 × 0.125e-6 + ${none.storedGbPerGb.toFixed(3)} × 0.25 = $${none.cost.total.toFixed(4)}; with the default (${defaultCodec}): ${n(chosen.writeUnitsPerMb)} × 1024 × 0.625e-6 + ${n(chosen.readUnitsPerMb)} × 1024 × 0.125e-6 + ${chosen.storedGbPerGb.toFixed(3)} × 0.25 = $${chosen.cost.total.toFixed(4)} (${(none.cost.total / chosen.cost.total).toFixed(1)}× less).`,
    ],
    checks: [],
  };
}
