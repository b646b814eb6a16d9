/**
 * Which codec stored batches get: a producer compresses with zstd unless told otherwise, over
 * either transport (the HTTP producer sends its codec; the API writes with it), and a topic's codec
 * overrides every producer's.
 */
import { QueryCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, describe, expect, it } from 'vitest';
import type { Compression, Tributary } from '../../../sdk/src/index.ts';
import { partitionKey } from '../../../sdk/src/keys.ts';
import { readBatchHeader } from '../../../sdk/src/log/record-batch.ts';
import { readAll } from '../../helpers/consume.ts';
import { testStackConfig } from '../../helpers/stack.ts';
import { testClient, testDynamoDB, uniqueTopic } from '../../helpers/tributary.ts';

const direct = testClient();
const http = testClient({ transport: 'http' });
const ddb = testDynamoDB();
afterAll(() => {
  direct.close();
  http.close();
});

/** The codec of every batch stored in partition 0 of `topic`, in offset order. */
async function storedCodecs(topic: string): Promise<Compression[]> {
  const { incarnation } = await direct.admin().describeTopic(topic);
  const out = await ddb.send(
    new QueryCommand({
      TableName: `${testStackConfig().tablePrefix}log`,
      KeyConditionExpression: 'pk = :pk AND #off >= :zero',
      ExpressionAttributeNames: { '#off': 'off' },
      ExpressionAttributeValues: {
        ':pk': { S: partitionKey({ topic, incarnation, partition: 0 }) },
        ':zero': { N: '0' },
      },
      ConsistentRead: true,
    }),
  );
  return (out.Items ?? []).map((item) => readBatchHeader(item.b!.B!).compression);
}

/** JSON-like values: the kind of records compression is for. */
const values = Array.from({ length: 50 }, (_, i) =>
  JSON.stringify({ orderId: `o-${i}`, status: 'paid', total: i }),
);

async function produce(client: Tributary, topic: string, compression?: Compression): Promise<void> {
  const producer = client.producer(compression ? { compression } : {});
  await producer.send({ topic, messages: values.map((value) => ({ value })) });
  await producer.close();
}

async function consumed(topic: string): Promise<string[]> {
  const consumer = direct.consumer();
  await consumer.assign([{ topic, partition: 0, offset: 0 }]);
  const messages = await readAll(consumer, values.length);
  consumer.close();
  return messages.map((m) => String(m.value));
}

describe('compression of stored batches', () => {
  it('is zstd for a direct producer without a compression option, and none when asked', async () => {
    const topic = uniqueTopic('codec');
    await direct.admin().createTopic({ topic, partitions: 1 });
    await produce(direct, topic);
    await produce(direct, topic, 'none');
    expect(await storedCodecs(topic)).toEqual(['zstd', 'none']);
    expect(await consumed(topic)).toEqual([...values, ...values]);
  });

  it("is the HTTP producer's codec over HTTP too (zstd by default) for `producer` topics", async () => {
    const topic = uniqueTopic('codec');
    await direct.admin().createTopic({ topic, partitions: 1 });
    await produce(http, topic);
    await produce(http, topic, 'gzip');
    expect(await storedCodecs(topic)).toEqual(['zstd', 'gzip']);
    expect(await consumed(topic)).toEqual([...values, ...values]);
  });

  it("is the topic's compression.type over both transports when it names a codec", async () => {
    const topic = uniqueTopic('codec');
    await direct.admin().createTopic({ topic, partitions: 1, configs: { 'compression.type': 'lz4' } });
    await produce(direct, topic);
    await produce(http, topic);
    expect(await storedCodecs(topic)).toEqual(['lz4', 'lz4']);
    expect(await consumed(topic)).toEqual([...values, ...values]);
  });
});
