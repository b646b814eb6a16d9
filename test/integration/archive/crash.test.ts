/**
 * The archiver under crashes, lost responses, concurrent runs and stale writers. Every scenario
 * ends with the same audit: the log reads back exactly once and in order from offset 0, the
 * manifest tiles [logStart, localLogStart) with a whole segment per entry, only stubs remain
 * below the local log start, and no large-batch object of an archived batch is left behind.
 */
import { randomBytes } from 'node:crypto';
import { QueryCommand } from '@aws-sdk/client-dynamodb';
import { HeadObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, describe, expect, it } from 'vitest';
import { TierMetadata } from '../../../sdk/src/archive/tier-metadata.ts';
import { Tributary } from '../../../sdk/src/index.ts';
import {
  claimObjectPrefix,
  type PartitionRef,
  partitionKey,
  topicObjectPrefix,
} from '../../../sdk/src/keys.ts';
import { PartitionAppender } from '../../../sdk/src/log/appender.ts';
import { encodeRecordBatch } from '../../../sdk/src/log/record-batch.ts';
import { type FaultRule, injectFaults } from '../../helpers/faults.ts';
import { seededRandom, testSeed } from '../../helpers/random.ts';
import { testStackConfig } from '../../helpers/stack.ts';
import { testClient, testContext, testDynamoDB, testS3, uniqueTopic } from '../../helpers/tributary.ts';

const tributary = testClient();
const admin = tributary.admin();
afterAll(() => tributary.close());

const BASE_TIMESTAMP = Date.now() - 3_600_000;
const RECORDS = 80;
/** Every 4th batch carries a 2 KB value, stored by claim check (threshold 1 KB). */
const CONFIGS = { 'segment.bytes': 4096, 'local.retention.ms': 0, 'large.message.threshold.bytes': 1024 };

function recordValue(i: number): string {
  return `value-${i}-${(i % 20 === 0 ? 'L' : 's').repeat(i % 20 === 0 ? 2048 : 120)}`;
}

async function setUp(): Promise<{ topic: string; ref: PartitionRef }> {
  const topic = uniqueTopic('crash');
  await admin.createTopic({ topic, configs: CONFIGS });
  // Stored sizes here assume uncompressed batches (the producer compresses with zstd by default).
  const producer = tributary.producer({ compression: 'none' });
  for (let i = 0; i < RECORDS; i += 5) {
    await producer.send({
      topic,
      messages: Array.from({ length: 5 }, (_, j) => ({
        key: `k${i + j}`,
        value: recordValue(i + j),
        timestamp: BASE_TIMESTAMP + i + j,
      })),
    });
  }
  await producer.close();
  const { incarnation } = await admin.describeTopic(topic);
  return { topic, ref: { topic, incarnation, partition: 0 } };
}

/** Appends 40 more records (offsets RECORDS.. RECORDS + 39) in batches of 5. */
async function produceMore(topic: string): Promise<void> {
  // Stored sizes here assume uncompressed batches (the producer compresses with zstd by default).
  const producer = tributary.producer({ compression: 'none' });
  for (let i = RECORDS; i < RECORDS + 40; i += 5) {
    await producer.send({
      topic,
      messages: Array.from({ length: 5 }, (_, j) => ({
        value: recordValue(i + j),
        timestamp: BASE_TIMESTAMP + i + j,
      })),
    });
  }
  await producer.close();
}

/** A client whose DynamoDB and S3 requests pass through fault rules. */
function faultyClient(ddbRule: FaultRule, s3Rule: FaultRule = () => undefined): Tributary {
  const ddb = testDynamoDB();
  const s3 = testS3();
  injectFaults(ddb, ddbRule);
  injectFaults(s3, s3Rule);
  const { tablePrefix, bucket } = testStackConfig();
  return new Tributary({
    dynamoDBClient: ddb,
    s3Client: s3,
    tablePrefix,
    bucket,
    retry: { deadlineMs: 5_000 },
  });
}

const crash = () => ({ error: Object.assign(new Error('injected crash'), { name: 'InjectedCrash' }) });

/** Reads the whole partition from offset 0 with a fresh consumer. */
async function readBack(topic: string, expectedCount = RECORDS): Promise<number[]> {
  const consumer = tributary.consumer();
  await consumer.assign([{ topic, partition: 0, offset: 0 }]);
  const offsets: number[] = [];
  const deadline = Date.now() + 20_000;
  while (offsets.length < expectedCount && Date.now() < deadline) {
    for (const batch of await consumer.poll()) {
      for (const m of batch.messages) {
        expect(String(m.value)).toBe(recordValue(m.offset));
        offsets.push(m.offset);
      }
    }
  }
  consumer.close();
  return offsets;
}

/** The audit every scenario ends with (see the file's comment). */
async function audit(
  topic: string,
  ref: PartitionRef,
  records = RECORDS,
): Promise<{ segments: number; localStart: number }> {
  expect(await readBack(topic, records)).toEqual(Array.from({ length: records }, (_, i) => i));
  const ctx = testContext();
  const metadata = new TierMetadata(ctx, ref);
  const bounds = await metadata.bounds();
  expect(bounds.stubbedThrough).toBe(bounds.localLogStart.offset);
  let expected = bounds.logStart.offset;
  let segments = 0;
  for await (const segment of metadata.segments()) {
    expect(segment.baseOffset).toBe(expected);
    expected = segment.endOffset;
    segments++;
    for (const key of [segment.keys.log, segment.keys.index, segment.keys.timeIndex]) {
      const head = await ctx.s3.send(new HeadObjectCommand({ Bucket: ctx.bucket, Key: key }));
      if (key === segment.keys.log) expect(head.ContentLength).toBe(segment.bytes);
    }
  }
  expect(expected).toBe(bounds.localLogStart.offset);
  const items = await testDynamoDB().send(
    new QueryCommand({
      TableName: ctx.tables.log,
      KeyConditionExpression: 'pk = :pk AND #off >= :zero',
      ExpressionAttributeNames: { '#off': 'off' },
      ExpressionAttributeValues: { ':pk': { S: partitionKey(ref) }, ':zero': { N: '0' } },
      ConsistentRead: true,
    }),
  );
  const liveClaims = new Set<string>();
  for (const item of items.Items ?? []) {
    const off = Number(item.off!.N);
    const stub = item.a?.N === '1';
    expect(stub, `item at ${off}`).toBe(off < bounds.localLogStart.offset);
    if (stub) expect(item.b ?? item.s3, `stub at ${off} still holds bytes`).toBeUndefined();
    if (item.s3?.S) liveClaims.add(item.s3.S);
  }
  const listed = await ctx.s3.send(
    new ListObjectsV2Command({
      Bucket: ctx.bucket,
      Prefix: `${topicObjectPrefix(ref.topic, ref.incarnation)}`,
    }),
  );
  const claimObjects = (listed.Contents ?? []).map((o) => o.Key!).filter((k) => k.includes('/claims/'));
  // Claims of archived batches are gone; those of hot batches stay.
  expect(new Set(claimObjects)).toEqual(liveClaims);
  return { segments, localStart: bounds.localLogStart.offset };
}

/** Crash points, in the archiver's order. */
const CRASH_POINTS: { name: string; ddb?: FaultRule; s3?: FaultRule }[] = [
  {
    name: 'while writing the segment (.log upload)',
    s3: ({ command, input }) =>
      command === 'PutObjectCommand' && String(input.Key).endsWith('.log') ? crash() : undefined,
  },
  {
    name: 'before the manifest item',
    ddb: ({ command, input }) =>
      command === 'PutItemCommand' && JSON.stringify(input).includes('#segments') ? crash() : undefined,
  },
  {
    name: 'before moving the local log start',
    ddb: ({ command, input }) =>
      command === 'UpdateItemCommand' && String(input.UpdateExpression).includes('#llso =')
        ? crash()
        : undefined,
  },
  {
    name: 'before deleting large-batch objects',
    s3: ({ command }) => (command === 'DeleteObjectsCommand' ? crash() : undefined),
  },
  {
    name: 'half-way through replacing items by stubs',
    ddb: (() => {
      let stubs = 0;
      return ({ command, input }) =>
        command === 'UpdateItemCommand' && String(input.UpdateExpression).includes('#a = :one') && ++stubs > 2
          ? crash()
          : undefined;
    })(),
  },
  {
    name: 'before recording the stubs',
    ddb: ({ command, input }) =>
      command === 'UpdateItemCommand' && String(input.UpdateExpression).includes('#sto')
        ? crash()
        : undefined,
  },
];

describe('archiver crash safety', () => {
  it.each(CRASH_POINTS)('a crash $name loses nothing, and a rerun finishes the job', async (point) => {
    const { topic, ref } = await setUp();
    const crashing = faultyClient(point.ddb ?? (() => undefined), point.s3 ?? (() => undefined));
    await expect(crashing.archiver().run({ topics: [topic] })).rejects.toThrow('injected crash');
    crashing.close();
    // Readers are never tripped by what the crash left behind.
    expect(await readBack(topic)).toEqual(Array.from({ length: RECORDS }, (_, i) => i));
    await tributary.archiver().run({ topics: [topic] });
    const { segments, localStart } = await audit(topic, ref);
    expect(segments).toBeGreaterThan(2);
    expect(localStart).toBeGreaterThan(40);
  });

  it('survives lost responses on every write it makes', async () => {
    const { topic, ref } = await setUp();
    const random = seededRandom(testSeed('archiver-lost-responses'));
    const lossy = faultyClient(
      ({ command }) =>
        ['PutItemCommand', 'UpdateItemCommand'].includes(command) && random() < 0.3
          ? 'drop-response'
          : undefined,
      ({ command }) =>
        ['PutObjectCommand', 'DeleteObjectsCommand'].includes(command) && random() < 0.3
          ? 'drop-response'
          : undefined,
    );
    await lossy.archiver().run({ topics: [topic] });
    lossy.close();
    await audit(topic, ref);
  });
});

describe('concurrent archivers', () => {
  it('two archivers on one partition never corrupt or double-delete anything', async () => {
    const { topic, ref } = await setUp();
    const random = seededRandom(testSeed('concurrent-archivers'));
    // Random small delays interleave the two runs' steps differently on every request.
    const jitter: FaultRule = () => (random() < 0.5 ? { delayMs: Math.floor(random() * 15) } : undefined);
    const a = faultyClient(jitter, jitter);
    const b = faultyClient(jitter, jitter);
    const [ra, rb] = await Promise.all([
      a.archiver().run({ topics: [topic] }),
      b.archiver().run({ topics: [topic] }),
    ]);
    a.close();
    b.close();
    const { segments } = await audit(topic, ref);
    // Each segment was recorded once, whoever wrote it.
    expect(segments).toBeGreaterThan(2);
    expect(Math.max(ra.segmentsArchived, rb.segmentsArchived)).toBeLessThanOrEqual(segments);
  });
});

describe('orphaned large-batch objects', () => {
  it('are deleted once provably unreferenced, and live ones are kept', async () => {
    const { topic, ref } = await setUp();
    const ctx = testContext();
    const orphan = `${claimObjectPrefix(ref)}999-0-dead.batch`;
    await ctx.s3.send(new PutObjectCommand({ Bucket: ctx.bucket, Key: orphan, Body: randomBytes(2048) }));
    // The first run records its check point: nothing is provably orphaned yet.
    const first = await tributary.archiver({ orphanGraceMs: 0 }).run({ topics: [topic] });
    expect(first.orphansDeleted).toBe(0);
    // S3 timestamps may have one-second precision.
    await new Promise((r) => setTimeout(r, 1_100));
    await produceMore(topic);
    // Once the archive passes the check point's end, older unreferenced objects go.
    const second = await tributary.archiver({ orphanGraceMs: 0 }).run({ topics: [topic] });
    expect(second.orphansDeleted).toBe(1);
    // Hot batches' objects stay (the audit compares objects with the hot items' pointers).
    await audit(topic, ref, RECORDS + 40);
  });
});

describe('stale writers', () => {
  it('a writer whose cached tail points into the archived range collides with a stub and appends at the end', async () => {
    const { topic, ref } = await setUp();
    const ctx = testContext();
    const stale = new PartitionAppender(ctx, ref);
    // The stale writer learns the tail at offset RECORDS, then others write and the archiver runs.
    await stale.refreshTail();
    await produceMore(topic);
    const report = await tributary.archiver().run({ topics: [topic] });
    expect(report.partitions[0]!.localLogStartOffset).toBeGreaterThan(RECORDS);
    const value = `late-${randomBytes(4).toString('hex')}`;
    const body = await encodeRecordBatch({
      baseOffset: 0,
      records: [{ key: null, value: Buffer.from(value), timestamp: Date.now(), headers: [] }],
      compression: 'none',
      producerId: 4242n,
      producerEpoch: 0,
      baseSequence: 0,
    });
    const result = await stale.append({
      body,
      count: 1,
      maxTimestamp: Date.now(),
      producerId: '4242',
      sequence: 0,
    });
    expect(result.baseOffset).toBe(RECORDS + 40);
    expect(result.collisions).toBeGreaterThan(0);
    const consumer = tributary.consumer();
    await consumer.assign([{ topic, partition: 0, offset: RECORDS + 40 }]);
    const [batch] = await consumer.poll().then(async (b) => (b.length > 0 ? b : consumer.poll()));
    consumer.close();
    expect(batch?.messages.map((m) => String(m.value))).toEqual([value]);
  });
});
