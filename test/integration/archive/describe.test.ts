/** `admin.describeTopic` and `admin.partitionOffsets` across the tiers: offsets and sizes that add up. */
import { QueryCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, describe, expect, it } from 'vitest';
import { type SegmentInfo, TierMetadata } from '../../../sdk/src/archive/tier-metadata.ts';
import type { PartitionOffsets } from '../../../sdk/src/index.ts';
import { partitionKey } from '../../../sdk/src/keys.ts';
import { testStackConfig } from '../../helpers/stack.ts';
import { testClient, testContext, testDynamoDB, uniqueTopic } from '../../helpers/tributary.ts';

const tributary = testClient();
const admin = tributary.admin();
const ddb = testDynamoDB();
afterAll(() => {
  tributary.close();
  ddb.destroy();
});

/** Small segments and immediate archiving, so a few KB make several segments. */
const ARCHIVE_NOW = { 'segment.bytes': 4096, 'local.retention.ms': 0 };

/** Produces `count` records of ~150 bytes to partition 0 in batches of 5, timestamped an hour ago. */
async function produce(topic: string, count: number): Promise<void> {
  const base = Date.now() - 3_600_000;
  // Stored sizes here assume uncompressed batches (the producer compresses with zstd by default).
  const producer = tributary.producer({ compression: 'none' });
  for (let i = 0; i < count; i += 5) {
    await producer.send({
      topic,
      messages: Array.from({ length: Math.min(5, count - i) }, (_, j) => ({
        key: `k${i + j}`,
        value: `value-${i + j}-${'x'.repeat(140)}`,
        timestamp: base + i + j,
        partition: 0,
      })),
    });
  }
  await producer.close();
}

/** Bytes of every batch body in partition 0's log items (before archiving: every batch produced). */
async function bodyBytes(topic: string): Promise<number> {
  const { incarnation } = await admin.describeTopic(topic);
  const out = await ddb.send(
    new QueryCommand({
      TableName: `${testStackConfig().tablePrefix}log`,
      KeyConditionExpression: 'pk = :pk AND off >= :zero',
      ExpressionAttributeValues: {
        ':pk': { S: partitionKey({ topic, incarnation, partition: 0 }) },
        ':zero': { N: '0' },
      },
      ConsistentRead: true,
    }),
  );
  expect(out.LastEvaluatedKey).toBeUndefined();
  return (out.Items ?? []).reduce((n, item) => n + (item.b?.B?.byteLength ?? 0), 0);
}

async function tiers(topic: string): Promise<{ segments: SegmentInfo[]; metadata: TierMetadata }> {
  const { incarnation } = await admin.describeTopic(topic);
  const metadata = new TierMetadata(testContext(), { topic, incarnation, partition: 0 });
  const segments: SegmentInfo[] = [];
  for await (const segment of metadata.segments()) segments.push(segment);
  return { segments, metadata };
}

/** What must hold for any partition, whatever the archiver has done. */
function expectConsistent(p: PartitionOffsets): void {
  expect(p.logStartOffset).toBeLessThanOrEqual(p.localLogStartOffset);
  expect(p.localLogStartOffset).toBeLessThanOrEqual(p.highWatermark);
  expect(p.s3.startOffset).toBe(p.logStartOffset);
  expect(p.s3.endOffset).toBe(p.localLogStartOffset);
  expect(p.dynamodb.startOffset).toBe(p.localLogStartOffset);
  expect(p.dynamodb.endOffset).toBe(p.highWatermark);
}

describe('describeTopic across the tiers', () => {
  it('reports an empty partition as empty in both tiers', async () => {
    const topic = uniqueTopic('desc');
    await admin.createTopic({ topic, partitions: 2, configs: ARCHIVE_NOW });
    const { partitions } = await admin.describeTopic(topic);
    expect(partitions).toEqual(
      [0, 1].map((partition) => ({
        partition,
        logStartOffset: 0,
        localLogStartOffset: 0,
        highWatermark: 0,
        dynamodb: { startOffset: 0, endOffset: 0, bytes: 0 },
        s3: { startOffset: 0, endOffset: 0, segments: 0, bytes: 0 },
      })),
    );
  });

  it('splits offsets and bytes between S3 and DynamoDB consistently as the archiver moves them', async () => {
    const topic = uniqueTopic('desc');
    await admin.createTopic({ topic, partitions: 2, configs: ARCHIVE_NOW });
    await produce(topic, 100);
    const produced = await bodyBytes(topic);
    expect(produced).toBeGreaterThan(100 * 150);

    const before = (await admin.describeTopic(topic)).partitions[0]!;
    expectConsistent(before);
    expect(before).toMatchObject({ logStartOffset: 0, localLogStartOffset: 0, highWatermark: 100 });
    expect(before.s3).toEqual({ startOffset: 0, endOffset: 0, segments: 0, bytes: 0 });
    expect(before.dynamodb.bytes).toBe(produced);

    const report = await tributary.archiver().run({ topics: [topic] });
    const archived = report.partitions.find((p) => p.partition === 0)!;
    expect(archived.segmentsArchived).toBeGreaterThan(0);

    const description = await admin.describeTopic(topic);
    const after = description.partitions[0]!;
    expectConsistent(after);
    expect(after).toMatchObject({
      logStartOffset: 0,
      localLogStartOffset: archived.localLogStartOffset,
      highWatermark: 100,
    });
    expect(after.localLogStartOffset).toBeGreaterThan(0);
    const { segments, metadata } = await tiers(topic);
    expect(after.s3.segments).toBe(segments.length);
    expect(after.s3.segments).toBe(archived.segmentsArchived);
    expect(after.s3.bytes).toBe(segments.reduce((n, s) => n + s.bytes, 0));
    expect(after.s3.bytes).toBe(archived.bytesArchived);
    expect(after.s3.bytes).toBe((await metadata.bounds()).localLogStart.bytes);
    expect(after.s3.bytes).toBeGreaterThan(0);
    expect(after.dynamodb.bytes).toBeGreaterThan(0);
    expect(after.s3.bytes + after.dynamodb.bytes).toBe(produced);
    // The untouched partition, and partitionOffsets agreeing with describeTopic.
    expect(description.partitions[1]).toMatchObject({ highWatermark: 0, s3: { segments: 0 } });
    expect(await admin.partitionOffsets(topic, 0)).toEqual(after);
  });

  it('leaves segments deleted by retention out, and counts from the log start', async () => {
    const topic = uniqueTopic('desc');
    await admin.createTopic({ topic, configs: ARCHIVE_NOW });
    await produce(topic, 100);
    const produced = await bodyBytes(topic);
    await tributary.archiver().run({ topics: [topic] });
    await admin.alterTopicConfigs(topic, { 'retention.bytes': 8192 });
    const report = await tributary.archiver().run({ topics: [topic] });
    expect(report.segmentsDeleted).toBeGreaterThan(0);

    const p = await admin.partitionOffsets(topic, 0);
    expectConsistent(p);
    expect(p.logStartOffset).toBe(report.partitions[0]!.logStartOffset);
    expect(p.logStartOffset).toBeGreaterThan(0);
    const { segments, metadata } = await tiers(topic);
    const live = segments.filter((s) => s.endOffset > p.logStartOffset);
    expect(p.s3.segments).toBe(live.length);
    expect(p.s3.bytes).toBe(live.reduce((n, s) => n + s.bytes, 0));
    const bounds = await metadata.bounds();
    expect(p.s3.bytes).toBe(bounds.localLogStart.bytes - bounds.logStart.bytes);
    expect(p.s3.bytes + p.dynamodb.bytes).toBe(produced - bounds.logStart.bytes);
    expect(p.s3.bytes + p.dynamodb.bytes).toBeLessThan(produced);
  });
});
