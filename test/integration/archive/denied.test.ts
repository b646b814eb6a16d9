/**
 * Readers without `s3:ListBucket` (topic-scoped roles) get 403 AccessDenied, not 404, for a
 * segment object that retention deleted under them. The reader takes a 403 for a deletion only
 * when the log start has passed its offset; otherwise the denial is real and surfaces.
 */
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, describe, expect, it } from 'vitest';
import { Tributary } from '../../../sdk/src/index.ts';
import { topicObjectPrefix } from '../../../sdk/src/keys.ts';
import { readAll } from '../../helpers/consume.ts';
import { type FaultRule, injectFaults } from '../../helpers/faults.ts';
import { testStackConfig } from '../../helpers/stack.ts';
import { testClient, testDynamoDB, testS3, uniqueTopic } from '../../helpers/tributary.ts';

const tributary = testClient();
const admin = tributary.admin();
const s3 = testS3();
afterAll(() => tributary.close());

const BASE_TIMESTAMP = Date.now() - 3_600_000;
const denied = () => ({ error: Object.assign(new Error('Access Denied'), { name: 'AccessDenied' }) });

function clientWith(ddbRule: FaultRule, s3Rule: FaultRule): Tributary {
  const ddb = testDynamoDB();
  const s3Client = testS3();
  injectFaults(ddb, ddbRule);
  injectFaults(s3Client, s3Rule);
  const { tablePrefix, bucket } = testStackConfig();
  return new Tributary({ dynamoDBClient: ddb, s3Client, tablePrefix, bucket, retry: { deadlineMs: 5_000 } });
}

async function archivedTopic(): Promise<string> {
  const topic = uniqueTopic('denied');
  await admin.createTopic({ topic, configs: { 'segment.bytes': 4096, 'local.retention.ms': 0 } });
  const producer = tributary.producer();
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
  it('take a segment deleted by retention under the reader for a deletion and reset to the log start', async () => {
    const topic = await archivedTopic();
    const before = await objectKeys(topic);
    // The reader, parked at offset 0 in S3, sees 403 for objects that are gone, as a scoped role would.
    const gone = new Set<string>();
    const reader = clientWith(
      () => undefined,
      ({ command, input }) =>
        command === 'GetObjectCommand' && gone.has(String(input.Key)) ? denied() : undefined,
    );
    const consumer = reader.consumer({ offsetReset: 'earliest' });
    await consumer.assign([{ topic, partition: 0, offset: 0 }]);

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
    for (const key of before) if (!(await objectKeys(topic)).has(key)) gone.add(key);
    expect(gone.size).toBeGreaterThan(0);

    const logStart = (await admin.partitionOffsets(topic, 0)).logStartOffset;
    expect(logStart).toBeGreaterThan(0);
    const messages = await readAll(consumer, 100 - logStart);
    expect(messages[0]!.offset).toBe(logStart);
    expect(messages.at(-1)!.offset).toBe(99);
    consumer.close();
    reader.close();
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
