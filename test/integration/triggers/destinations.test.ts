/**
 * SQS and S3 on-failure destinations end to end, on the local stack's dispatcher. The edge routes
 * SQS's JSON protocol (`x-amz-target: AmazonSQS.*`) to the S3/SQS emulator (fauxqs), so queues and
 * buckets are created with the AWS SDK against the edge, as against AWS. The invocation records
 * have the shapes of reference §4.2/§4.3: the SQS message is metadata only; the S3 object carries
 * the whole invocation event as a JSON string in `payload`.
 */
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { afterAll, describe, expect, it } from 'vitest';
import type { Tributary } from '../../../sdk/src/index.ts';
import type { SelfManagedKafkaEvent } from '../../../sdk/src/lambda/index.ts';
import { recordedRecords, valueText } from '../../helpers/recorded.ts';
import { testStackConfig } from '../../helpers/stack.ts';
import { testClient, testS3, uniqueTopic } from '../../helpers/tributary.ts';
import { produce, waitCaughtUp } from '../../helpers/triggers.ts';
import { until } from '../../helpers/wait.ts';

const tributary: Tributary = testClient();
const { endpoint, region } = testStackConfig();
const sqs = new SQSClient({
  endpoint,
  region,
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
});
const s3 = testS3();
afterAll(() => {
  tributary.close();
  sqs.destroy();
  s3.destroy();
});
const admin = tributary.admin();

/** A trigger whose batch of three (one poison record) fails once and is given up on. */
async function failingTrigger(topic: string, destination: string): Promise<string> {
  await admin.createTopic({ topic, partitions: 1 });
  const name = `t-${topic}`;
  await admin.createTrigger({
    name,
    topic,
    functionName: 'recorder',
    startingPosition: 'TRIM_HORIZON',
    batchSize: 3,
    maximumBatchingWindowInSeconds: 5,
    maximumRetryAttempts: 0,
    destinationConfig: { onFailure: { destination } },
  });
  return name;
}

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/** The fields SQS and S3 invocation records share (reference §4.2). */
function expectBatchRecord(record: Record<string, unknown>, topic: string, sent: readonly number[]): void {
  expect(record.version).toBe('1.0');
  expect(record.timestamp).toMatch(ISO);
  expect(record.requestContext).toEqual({
    requestId: expect.any(String),
    functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:recorder',
    condition: 'RetryAttemptsExhausted',
    approximateInvokeCount: 1,
  });
  expect(record.responseContext).toEqual({
    statusCode: 200,
    executedVersion: '$LATEST',
    functionError: 'Unhandled',
  });
  const info = record.KafkaBatchInfo as Record<string, unknown>;
  expect(info).toEqual({
    batchSize: 3,
    bootstrapServers: 'tributary.local:9092',
    payloadSize: expect.any(Number),
    recordsInfo: {
      [`${topic}-0`]: {
        firstRecordOffset: '0',
        lastRecordOffset: '2',
        firstRecordTimestamp: new Date(sent[0]!).toISOString(),
        lastRecordTimestamp: new Date(sent[2]!).toISOString(),
      },
    },
  });
  // Self-managed Kafka has no event source ARN.
  expect(info).not.toHaveProperty('eventSourceArn');
}

describe.concurrent('on-failure destinations', () => {
  it('send a metadata-only invocation record to an SQS queue', async () => {
    const queue = uniqueTopic('dlq');
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: queue }));
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }),
    );
    expect(Attributes?.QueueArn).toBe(`arn:aws:sqs:us-east-1:000000000000:${queue}`);
    const topic = uniqueTopic('dest-sqs');
    const name = await failingTrigger(topic, Attributes!.QueueArn!);
    const timestamps = [0, 1, 2].map((i) => Date.now() - 1_000 + i);
    await produce(
      tributary,
      topic,
      ['ok-0', 'poison-1', 'ok-2'].map((value, i) => ({ value, timestamp: timestamps[i]! })),
    );

    const bodies: string[] = [];
    await until(
      async () => {
        const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10 }));
        for (const m of out.Messages ?? []) bodies.push(m.Body ?? '');
        return bodies.length > 0;
      },
      { timeoutMs: 20_000, message: 'a message in the queue' },
    );
    await waitCaughtUp(admin, name);
    expect(bodies).toHaveLength(1);
    const record = JSON.parse(bodies[0]!) as Record<string, unknown>;
    expectBatchRecord(record, topic, timestamps);
    expect(record).not.toHaveProperty('payload');
    expect(Object.keys(record).sort()).toEqual(
      ['KafkaBatchInfo', 'requestContext', 'responseContext', 'timestamp', 'version'].sort(),
    );
    expect(recordedRecords(topic).map(valueText)).toEqual(['ok-0', 'poison-1', 'ok-2']);
  });

  it('write the invocation record with the whole event as a JSON string to an S3 bucket', async () => {
    const bucket = uniqueTopic('dlb');
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const topic = uniqueTopic('dest-s3');
    const name = await failingTrigger(topic, `arn:aws:s3:::${bucket}`);
    const timestamps = [0, 1, 2].map((i) => Date.now() - 1_000 + i);
    await produce(
      tributary,
      topic,
      ['ok-0', 'poison-1', 'ok-2'].map((value, i) => ({ value, key: `k${i}`, timestamp: timestamps[i]! })),
    );

    let keys: string[] = [];
    await until(
      async () => {
        const out = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
        keys = (out.Contents ?? []).map((o) => o.Key!);
        return keys.length > 0;
      },
      { timeoutMs: 20_000, message: 'an object in the bucket' },
    );
    await waitCaughtUp(admin, name);
    expect(keys).toHaveLength(1);
    const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: keys[0] }));
    expect(object.ContentType).toBe('application/json');
    const record = JSON.parse(await object.Body!.transformToString()) as Record<string, unknown>;
    expectBatchRecord(record, topic, timestamps);
    expect(typeof record.payload).toBe('string');
    const event = JSON.parse(record.payload as string) as SelfManagedKafkaEvent;
    expect(event.eventSource).toBe('SelfManagedKafka');
    expect(event.bootstrapServers).toBe('tributary.local:9092');
    expect(Object.keys(event.records)).toEqual([`${topic}-0`]);
    const records = event.records[`${topic}-0`]!;
    expect(records.map((r) => [r.offset, valueText(r), Buffer.from(r.key!, 'base64').toString()])).toEqual([
      [0, 'ok-0', 'k0'],
      [1, 'poison-1', 'k1'],
      [2, 'ok-2', 'k2'],
    ]);
    expect((record.KafkaBatchInfo as { payloadSize: number }).payloadSize).toBe(
      Buffer.byteLength(record.payload as string),
    );
  });
});
