/**
 * Readers without `s3:ListBucket` (topic-scoped roles) get 403 AccessDenied, not 404, for a
 * segment object that retention deleted under them. The reader takes a 403 for a deletion only
 * when the log start has passed its offset; otherwise the denial is real and surfaces.
 */
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, describe, expect, it } from 'vitest';
import { OffsetOutOfRangeError, Tributary, type TributaryOptions } from '../../../sdk/src/index.ts';
import { DirectTransport } from '../../../sdk/src/internal.ts';
import { topicObjectPrefix } from '../../../sdk/src/keys.ts';
import { PartitionReader } from '../../../sdk/src/log/reader.ts';
import { type FaultRule, injectFaults } from '../../helpers/faults.ts';
import { testStackConfig } from '../../helpers/stack.ts';
import { testClient, testDynamoDB, testS3, uniqueTopic } from '../../helpers/tributary.ts';

const tributary = testClient();
const admin = tributary.admin();
const s3 = testS3();
afterAll(() => tributary.close());

const BASE_TIMESTAMP = Date.now() - 3_600_000;
const denied = () => ({ error: Object.assign(new Error('Access Denied'), { name: 'AccessDenied' }) });

/** Options of a direct client whose own DynamoDB and S3 clients take these faults. */
function optionsWith(ddbRule: FaultRule, s3Rule: FaultRule): TributaryOptions {
  const ddb = testDynamoDB();
  const s3Client = testS3();
  injectFaults(ddb, ddbRule);
  injectFaults(s3Client, s3Rule);
  const { tablePrefix, bucket } = testStackConfig();
  return { dynamoDBClient: ddb, s3Client, tablePrefix, bucket, retry: { deadlineMs: 5_000 } };
}

function clientWith(ddbRule: FaultRule, s3Rule: FaultRule): Tributary {
  return new Tributary(optionsWith(ddbRule, s3Rule));
}

async function archivedTopic(): Promise<string> {
  const topic = uniqueTopic('denied');
  await admin.createTopic({ topic, configs: { 'segment.bytes': 4096, 'local.retention.ms': 0 } });
  // Stored sizes here assume uncompressed batches (the producer compresses with zstd by default).
  const producer = tributary.producer({ compression: 'none' });
  for (let i = 0; i < 100; i += 5) {
    await producer.send({
      topic,
      messages: Array.from({ length: 5 }, (_, j) => ({
        value: `v${i + j}-${'x'.repeat(150)}`,
        timestamp: BASE_TIMESTAMP + i + j,
      })),
    });
  }
  await producer.close();
  await tributary.archiver().run({ topics: [topic] });
  const offsets = await admin.partitionOffsets(topic, 0);
  expect(offsets.localLogStartOffset, JSON.stringify(offsets)).toBeGreaterThan(0);
  return topic;
}

async function objectKeys(topic: string): Promise<Set<string>> {
  const { incarnation } = await admin.describeTopic(topic);
  const out = await s3.send(
    new ListObjectsV2Command({
      Bucket: testStackConfig().bucket,
      Prefix: topicObjectPrefix(topic, incarnation),
    }),
  );
  return new Set((out.Contents ?? []).map((o) => o.Key!));
}

describe('S3 reads denied (no ListBucket)', () => {
  it('take a segment deleted by retention under the reader for a deletion: out of range, not denied', async () => {
    const topic = await archivedTopic();
    const before = await objectKeys(topic);
    // The reader sees 403 for objects that are gone, as a role without ListBucket would.
    const gone = new Set<string>();
    let deniedReads = 0;
    const storage = new DirectTransport(
      optionsWith(
        () => undefined,
        ({ command, input }) => {
          if (command !== 'GetObjectCommand' || !gone.has(String(input.Key))) return undefined;
          deniedReads++;
          return denied();
        },
      ),
    );
    const { incarnation } = await admin.describeTopic(topic);
    const reader = new PartitionReader(storage.ctx, { topic, incarnation, partition: 0 });
    // The reader reads the first segment (and caches its index); batches hold 5 records each.
    const first = await reader.fetch((await reader.seek(0)).batchOffset, { maxRecords: 5, maxBytes: 1 });
    expect(first.batches.map((b) => b.offset).slice(0, 2)).toEqual([0, 5]);

    // Retention stops after deleting the objects but before the manifest (a crash, or a reader in between).
    await admin.alterTopicConfigs(topic, { 'retention.ms': 60_000 });
    const crashing = clientWith(
      ({ command, input }) =>
        command === 'DeleteItemCommand' && JSON.stringify(input).includes('#segments')
          ? { error: Object.assign(new Error('injected crash'), { name: 'InjectedCrash' }) }
          : undefined,
      () => undefined,
    );
    await expect(crashing.archiver().run({ topics: [topic] })).rejects.toThrow('injected crash');
    crashing.close();
    const after = await objectKeys(topic);
    for (const key of before) if (!after.has(key)) gone.add(key);
    expect(gone.size).toBeGreaterThan(0);

    const logStart = (await admin.partitionOffsets(topic, 0)).logStartOffset;
    // Reading again inside the first segment, whose objects are gone while its manifest item stays.
    await expect(reader.fetch(5, { maxRecords: 5, maxBytes: 1 })).rejects.toMatchObject({
      constructor: OffsetOutOfRangeError,
      logStartOffset: logStart,
    });
    // The reader did meet the 403, and took it for the deletion it was.
    expect(deniedReads).toBeGreaterThan(0);
    storage.close();
  });

  it('surface a denial of a segment that is still in the log', async () => {
    const topic = await archivedTopic();
    const reader = clientWith(
      () => undefined,
      ({ command }) => (command === 'GetObjectCommand' ? denied() : undefined),
    );
    const consumer = reader.consumer({ offsetReset: 'earliest' });
    // Locating offset 0 reads the segment's index: the denial surfaces there, untouched.
    await expect(consumer.assign([{ topic, partition: 0, offset: 0 }])).rejects.toMatchObject({
      name: 'AccessDenied',
    });
    consumer.close();
    reader.close();
  });
});
