/** The S3 tier end to end: archiving, transparent reads, retention, against DynamoDB Local and fauxqs. */
import { QueryCommand } from '@aws-sdk/client-dynamodb';
import { ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, describe, expect, it } from 'vitest';
import { TierMetadata } from '../../../sdk/src/archive/tier-metadata.ts';
import { CorruptRecordError, OffsetOutOfRangeError } from '../../../sdk/src/index.ts';
import { partitionKey, segmentManifestKey, topicObjectPrefix } from '../../../sdk/src/keys.ts';
import { readAll } from '../../helpers/consume.ts';
import { testStackConfig } from '../../helpers/stack.ts';
import { testClient, testContext, testDynamoDB, testS3, uniqueTopic } from '../../helpers/tributary.ts';

const tributary = testClient();
const admin = tributary.admin();
const ddb = testDynamoDB();
const s3 = testS3();
afterAll(() => tributary.close());

/** Small segments and immediate archiving, so a few KB make several segments. */
const ARCHIVE_NOW = { 'segment.bytes': 4096, 'local.retention.ms': 0 };

async function ref(topic: string, partition = 0) {
  const { incarnation } = await admin.describeTopic(topic);
  return { topic, incarnation, partition };
}

/** Record timestamps: an hour ago (inside the default retention), 1 ms apart. */
const BASE_TIMESTAMP = Date.now() - 3_600_000;

/** Produces `count` records in batches of `perBatch`; values carry their index. */
async function produce(topic: string, count: number, perBatch = 5, from = 0): Promise<void> {
  // Stored sizes here assume uncompressed batches (the producer compresses with zstd by default).
  const producer = tributary.producer({ compression: 'none' });
  for (let i = from; i < from + count; i += perBatch) {
    await producer.send({
      topic,
      messages: Array.from({ length: Math.min(perBatch, from + count - i) }, (_, j) => ({
        key: `k${i + j}`,
        value: `value-${i + j}-${'x'.repeat(150)}`,
        timestamp: BASE_TIMESTAMP + i + j,
      })),
    });
  }
  await producer.close();
}

async function consumeFrom(topic: string, offset: number, count: number): Promise<number[]> {
  const consumer = tributary.consumer();
  await consumer.assign([{ topic, partition: 0, offset }]);
  const messages = await readAll(consumer, count);
  consumer.close();
  for (const m of messages) expect(String(m.value)).toMatch(new RegExp(`^value-${m.offset}-`));
  return messages.map((m) => m.offset);
}

async function items(pk: string) {
  const out = await ddb.send(
    new QueryCommand({
      TableName: `${testStackConfig().tablePrefix}log`,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': { S: pk } },
      ConsistentRead: true,
    }),
  );
  return out.Items ?? [];
}

async function objects(topic: string): Promise<string[]> {
  const { incarnation } = await admin.describeTopic(topic);
  const out = await s3.send(
    new ListObjectsV2Command({
      Bucket: testStackConfig().bucket,
      Prefix: topicObjectPrefix(topic, incarnation),
    }),
  );
  return (out.Contents ?? []).map((o) => o.Key!).sort();
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

describe('archiving and transparent reads', () => {
  it('archives closed segments and reads every record once, in order, across S3 and DynamoDB', async () => {
    const topic = uniqueTopic('arch');
    await admin.createTopic({ topic, configs: ARCHIVE_NOW });
    await produce(topic, 200);
    const report = await tributary.archiver().run({ topics: [topic] });
    expect(report.segmentsArchived).toBeGreaterThanOrEqual(5);
    const [p0] = report.partitions;
    expect(p0?.logStartOffset).toBe(0);
    // The newest batch never moves.
    expect(p0?.localLogStartOffset).toBeLessThan(200);
    expect(p0?.localLogStartOffset).toBeGreaterThan(100);

    const r = await ref(topic);
    const log = await items(partitionKey(r));
    const local = p0!.localLogStartOffset;
    for (const item of log) {
      const off = Number(item.off?.N);
      if (off < 0) continue;
      // Below the local log start only stubs (no bytes) remain.
      expect(Boolean(item.a), `item ${off}`).toBe(off < local);
      expect(Boolean(item.b), `item ${off}`).toBe(off >= local);
    }
    const manifest = await items(segmentManifestKey(r));
    expect(manifest).toHaveLength(report.segmentsArchived);
    expect(await objects(topic)).toHaveLength(3 * report.segmentsArchived);

    expect(await consumeFrom(topic, 0, 200)).toEqual(range(0, 200));
    // Seek into the middle of an archived segment (not at a batch boundary).
    expect(await consumeFrom(topic, 37, 163)).toEqual(range(37, 200));
    // And across the boundary between the tiers.
    expect(await consumeFrom(topic, local - 2, 200 - local + 2)).toEqual(range(local - 2, 200));
  });

  it('keeps producing after archiving, and a rerun archives only what is new', async () => {
    const topic = uniqueTopic('arch');
    await admin.createTopic({ topic, configs: ARCHIVE_NOW });
    await produce(topic, 60);
    const first = await tributary.archiver().run({ topics: [topic] });
    const again = await tributary.archiver().run({ topics: [topic] });
    expect(again.segmentsArchived).toBe(0);
    await produce(topic, 60, 5, 60);
    const third = await tributary.archiver().run({ topics: [topic] });
    expect(third.segmentsArchived).toBeGreaterThan(0);
    expect(third.partitions[0]!.localLogStartOffset).toBeGreaterThan(
      first.partitions[0]!.localLogStartOffset,
    );
    expect(await consumeFrom(topic, 0, 120)).toEqual(range(0, 120));
  });

  it('finds offsets by timestamp in archived segments', async () => {
    const topic = uniqueTopic('arch');
    await admin.createTopic({ topic, configs: ARCHIVE_NOW });
    await produce(topic, 100);
    await tributary.archiver().run({ topics: [topic] });
    const consumer = tributary.consumer();
    await consumer.assign([{ topic, partition: 0, offset: { timestamp: BASE_TIMESTAMP + 23 } }]);
    const [first] = await readAll(consumer, 1);
    consumer.close();
    expect(first?.offset).toBe(23);
  });

  it('does not archive before hot retention has passed', async () => {
    const topic = uniqueTopic('arch');
    await admin.createTopic({ topic, configs: { 'segment.bytes': 4096 } });
    await produce(topic, 60);
    const report = await tributary.archiver().run({ topics: [topic] });
    expect(report.segmentsArchived).toBe(0);
    await admin.alterTopicConfigs(topic, { 'local.retention.bytes': 2048 });
    const bytes = await tributary.archiver().run({ topics: [topic] });
    expect(bytes.segmentsArchived).toBeGreaterThan(0);
    expect(await consumeFrom(topic, 0, 60)).toEqual(range(0, 60));
  });

  it('raises a typed error naming the object when a segment fails its CRC check', async () => {
    const topic = uniqueTopic('arch');
    await admin.createTopic({ topic, configs: ARCHIVE_NOW });
    await produce(topic, 40);
    await tributary.archiver().run({ topics: [topic] });
    const r = await ref(topic);
    const [segment] = await collect(new TierMetadata(testContext(), r).segments());
    // Flip one byte inside the first batch's records (past its header).
    const ctx = testContext();
    const { GetObjectCommand } = await import('@aws-sdk/client-s3');
    const got = await ctx.s3.send(new GetObjectCommand({ Bucket: ctx.bucket, Key: segment!.keys.log }));
    const bytes = await got.Body!.transformToByteArray();
    bytes[100] = bytes[100]! ^ 0xff;
    await s3.send(new PutObjectCommand({ Bucket: ctx.bucket, Key: segment!.keys.log, Body: bytes }));
    const consumer = tributary.consumer();
    await consumer.assign([{ topic, partition: 0, offset: 0 }]);
    const error = await consumer.poll().then(
      () => consumer.poll(),
      (e: unknown) => e,
    );
    consumer.close();
    expect(error).toBeInstanceOf(CorruptRecordError);
    expect((error as CorruptRecordError).location).toContain(segment!.keys.log);
  });
});

describe('consumer groups over archived data', () => {
  async function runMember(groupId: string, topic: string, until: number): Promise<number[]> {
    const seen: number[] = [];
    const consumer = tributary.consumer({
      groupId,
      heartbeatIntervalMs: 200,
      sessionTimeoutMs: 1_000,
      autoCommitIntervalMs: 100,
      maxIdleIntervalMs: 100,
      onError: () => undefined,
    });
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      eachMessage: async (m) => {
        expect(String(m.value)).toMatch(new RegExp(`^value-${m.offset}-`));
        seen.push(m.offset);
      },
    });
    const deadline = Date.now() + 20_000;
    while (!seen.includes(until - 1) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await consumer.disconnect();
    return seen;
  }

  it('resumes an old committed offset from S3, and one below the log start from the earliest offset', async () => {
    const topic = uniqueTopic('grp-arch');
    const groupId = uniqueTopic('g');
    await admin.createTopic({ topic, configs: ARCHIVE_NOW });
    await produce(topic, 100);
    // The group's first run reads everything (from the beginning: no committed offset yet).
    expect(await runMember(groupId, topic, 100)).toEqual(range(0, 100));
    await admin.resetGroupOffsets(groupId, topic, { offset: 7 });
    const report = await tributary.archiver().run({ topics: [topic] });
    expect(report.partitions[0]!.localLogStartOffset).toBeGreaterThan(50);
    expect(await runMember(groupId, topic, 100)).toEqual(range(7, 100));

    // Retention passes the committed offset: the member starts again at the log start.
    await admin.resetGroupOffsets(groupId, topic, { offset: 3 });
    await admin.alterTopicConfigs(topic, { 'retention.bytes': 8192 });
    const start = (await tributary.archiver().run({ topics: [topic] })).partitions[0]!.logStartOffset;
    expect(start).toBeGreaterThan(3);
    expect(await runMember(groupId, topic, 100)).toEqual(range(start, 100));
  });
});

describe('retention', () => {
  it('deletes whole segments past retention.bytes and moves the log start', async () => {
    const topic = uniqueTopic('ret');
    await admin.createTopic({ topic, configs: { ...ARCHIVE_NOW, 'retention.bytes': 8192 } });
    await produce(topic, 100);
    // Batches already past total retention expire from DynamoDB without a trip to S3.
    const initial = await tributary.archiver().run({ topics: [topic] });
    expect(initial.bytesExpired).toBeGreaterThan(0);
    expect(initial.segmentsArchived).toBeGreaterThan(0);
    await produce(topic, 100, 5, 100);
    const report = await tributary.archiver().run({ topics: [topic] });
    // Now archived segments are the oldest data: they go first.
    expect(report.segmentsDeleted).toBeGreaterThan(0);
    const start = report.partitions[0]!.logStartOffset;
    expect(start).toBeGreaterThan(0);
    const r = await ref(topic);
    const segments = await collect(new TierMetadata(testContext(), r).segments());
    expect(segments[0]?.baseOffset).toBe(start);
    expect(await objects(topic)).toHaveLength(3 * segments.length);
    expect(await consumeFrom(topic, start, 200 - start)).toEqual(range(start, 200));

    // Below the log start: a typed error with the earliest offset, or a reset per policy.
    const strict = tributary.consumer({ offsetReset: 'error' });
    await expect(strict.assign([{ topic, partition: 0, offset: start - 1 }])).rejects.toMatchObject({
      constructor: OffsetOutOfRangeError,
      logStartOffset: start,
      highWatermark: 200,
    });
    strict.close();
    const earliest = tributary.consumer();
    await earliest.assign([{ topic, partition: 0, offset: 'earliest' }]);
    const [first] = await readAll(earliest, 1);
    earliest.close();
    expect(first?.offset).toBe(start);
  });

  it('deletes by time, and a consumer parked below the log start resets to earliest', async () => {
    const topic = uniqueTopic('ret');
    await admin.createTopic({ topic, configs: ARCHIVE_NOW });
    await produce(topic, 100);
    const consumer = tributary.consumer({ offsetReset: 'earliest' });
    await consumer.assign([{ topic, partition: 0, offset: 0 }]);
    await tributary.archiver().run({ topics: [topic] });
    // Records are an hour old: a minute's retention expires every closed segment.
    await admin.alterTopicConfigs(topic, { 'local.retention.ms': 0, 'retention.ms': 60_000 });
    const report = await tributary.archiver().run({ topics: [topic] });
    const start = report.partitions[0]!.logStartOffset;
    // Everything but the open (newest) segment is past retention; the newest batch always stays.
    expect(start).toBe(report.partitions[0]!.localLogStartOffset);
    expect(start).toBeGreaterThan(70);
    expect(start).toBeLessThan(100);
    expect(await collect(new TierMetadata(testContext(), await ref(topic)).segments())).toEqual([]);
    expect(await objects(topic)).toEqual([]);
    const messages = await readAll(consumer, 100 - start);
    consumer.close();
    expect(messages.map((m) => m.offset)).toEqual(range(start, 100));
  });

  it('expires batches in DynamoDB directly when remote storage is off', async () => {
    const topic = uniqueTopic('ret');
    await admin.createTopic({
      topic,
      configs: { 'segment.bytes': 4096, 'remote.storage.enable': false, 'retention.bytes': 4096 },
    });
    await produce(topic, 100);
    const report = await tributary.archiver().run({ topics: [topic] });
    expect(report.segmentsArchived).toBe(0);
    const start = report.partitions[0]!.logStartOffset;
    expect(start).toBeGreaterThan(0);
    expect(await objects(topic)).toEqual([]);
    expect(await consumeFrom(topic, start, 100 - start)).toEqual(range(start, 100));
  });
});

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}
