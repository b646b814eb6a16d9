/** Large batches stored in S3 by claim check, against DynamoDB Local and the S3 emulator. */
import { randomBytes } from 'node:crypto';
import { QueryCommand } from '@aws-sdk/client-dynamodb';
import { DeleteObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, describe, expect, it } from 'vitest';
import { CorruptRecordError, RecordTooLargeError } from '../../../sdk/src/index.ts';
import { partitionKey, topicObjectPrefix } from '../../../sdk/src/keys.ts';
import { readAll } from '../../helpers/consume.ts';
import { injectFaults } from '../../helpers/faults.ts';
import { testStackConfig } from '../../helpers/stack.ts';
import { testClient, testDynamoDB, testS3, uniqueTopic } from '../../helpers/tributary.ts';

const tributary = testClient();
const admin = tributary.admin();
const s3 = testS3();
const ddb = testDynamoDB();
afterAll(() => tributary.close());

async function objectsOf(topic: string): Promise<string[]> {
  const { incarnation } = await admin.describeTopic(topic);
  const out = await s3.send(
    new ListObjectsV2Command({
      Bucket: testStackConfig().bucket,
      Prefix: topicObjectPrefix(topic, incarnation),
    }),
  );
  return (out.Contents ?? []).map((o) => o.Key!);
}

async function logItems(topic: string, partition = 0) {
  const { incarnation } = await admin.describeTopic(topic);
  const out = await ddb.send(
    new QueryCommand({
      TableName: `${testStackConfig().tablePrefix}log`,
      KeyConditionExpression: 'pk = :pk AND #off >= :zero',
      ExpressionAttributeNames: { '#off': 'off' },
      ExpressionAttributeValues: {
        ':pk': { S: partitionKey({ topic, incarnation, partition }) },
        ':zero': { N: '0' },
      },
      ConsistentRead: true,
    }),
  );
  return out.Items ?? [];
}

describe('claim check', () => {
  it('round-trips a 5 MB record through S3, with a small pointer in the log', async () => {
    const topic = uniqueTopic('big');
    await admin.createTopic({ topic, configs: { 'max.message.bytes': 10 * 1024 * 1024 } });
    const big = randomBytes(5 * 1024 * 1024);
    const producer = tributary.producer();
    const [meta] = await producer.send({ topic, messages: [{ key: 'k', value: 'small-before' }] });
    const [bigMeta] = await producer.send({
      topic,
      messages: [{ key: 'big', value: big, headers: { h: 'v' } }],
    });
    await producer.send({ topic, messages: [{ value: 'small-after' }] });
    await producer.close();
    expect([meta?.offset, bigMeta?.offset]).toEqual([0, 1]);
    const items = await logItems(topic);
    expect(items.map((i) => [Boolean(i.b), Boolean(i.s3)])).toEqual([
      [true, false],
      [false, true],
      [true, false],
    ]);
    expect(await objectsOf(topic)).toHaveLength(1);
    const consumer = tributary.consumer();
    await consumer.assign([{ topic, partition: 0, offset: 0 }]);
    const got = await readAll(consumer, 3);
    expect(got.map((m) => m.offset)).toEqual([0, 1, 2]);
    expect(Buffer.compare(got[1]!.value!, big)).toBe(0);
    expect(got[1]!.headers).toEqual([{ key: 'h', value: Buffer.from('v') }]);
    // Deleting the topic removes its objects too.
    const { incarnation } = await admin.describeTopic(topic);
    await admin.deleteTopic(topic);
    const left = await s3.send(
      new ListObjectsV2Command({
        Bucket: testStackConfig().bucket,
        Prefix: topicObjectPrefix(topic, incarnation),
      }),
    );
    expect(left.Contents ?? []).toEqual([]);
  });

  it('refuses a record over max.message.bytes before writing anything', async () => {
    const topic = uniqueTopic('toobig');
    await admin.createTopic({ topic, configs: { 'max.message.bytes': 2 * 1024 * 1024 } });
    const producer = tributary.producer();
    await expect(
      producer.send({ topic, messages: [{ value: randomBytes(3 * 1024 * 1024) }] }),
    ).rejects.toBeInstanceOf(RecordTooLargeError);
    await producer.close();
    expect(await logItems(topic)).toEqual([]);
    expect(await objectsOf(topic)).toEqual([]);
  });

  it('stores batches above the threshold in S3, exactly once under lost responses', async () => {
    const topic = uniqueTopic('threshold');
    await admin.createTopic({ topic, configs: { 'large.message.threshold.bytes': 2048 } });
    const faulty = testDynamoDB();
    let dropped = 0;
    injectFaults(faulty, ({ command }) =>
      command === 'PutItemCommand' && dropped++ < 2 ? 'drop-response' : undefined,
    );
    const client = testClient({ dynamoDBClient: faulty });
    // Stored sizes here assume uncompressed batches (the producer compresses with zstd by default).
    const producer = client.producer({ lingerMs: 0, compression: 'none' });
    const values = Array.from({ length: 4 }, (_, i) => `${i}:${'x'.repeat(i % 2 === 0 ? 3000 : 100)}`);
    for (const value of values) await producer.send({ topic, messages: [{ value }] });
    await producer.close();
    client.close();
    expect(dropped).toBeGreaterThanOrEqual(2);
    const items = await logItems(topic);
    expect(items.map((i) => Boolean(i.s3))).toEqual([true, false, true, false]);
    const consumer = tributary.consumer();
    await consumer.assign([{ topic, partition: 0, offset: 0 }]);
    expect((await readAll(consumer, 4)).map((m) => m.value!.toString())).toEqual(values);
  });

  it('raises a typed error naming the object when a claimed batch is missing', async () => {
    const topic = uniqueTopic('missing');
    await admin.createTopic({ topic, configs: { 'large.message.threshold.bytes': 1024 } });
    // Stored sizes here assume uncompressed batches (the producer compresses with zstd by default).
    const producer = tributary.producer({ compression: 'none' });
    await producer.send({ topic, messages: [{ value: 'y'.repeat(5000) }] });
    await producer.close();
    const [key] = await objectsOf(topic);
    await s3.send(new DeleteObjectCommand({ Bucket: testStackConfig().bucket, Key: key! }));
    const consumer = tributary.consumer();
    await consumer.assign([{ topic, partition: 0, offset: 0 }]);
    const failure = await consumer.poll().then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(CorruptRecordError);
    expect((failure as CorruptRecordError).location).toContain(key!);
  });
});
