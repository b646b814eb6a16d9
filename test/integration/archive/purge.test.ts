/**
 * A topic deletion whose purge was cut short (a crash, or the API answering within its time
 * limit) leaves a tombstone; the scheduled archiver finishes the purge. Over the API, deleting
 * answers `purged: true` when the purge finished in time.
 */
import { QueryCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { partitionKey } from '../../../sdk/src/keys.ts';
import { tableNames } from '../../../sdk/src/schema.ts';
import { api } from '../../helpers/api.ts';
import { injectFaults } from '../../helpers/faults.ts';
import { freshTablePrefix } from '../../helpers/stack.ts';
import { testClient, testDynamoDB, uniqueTopic } from '../../helpers/tributary.ts';

describe('interrupted topic purges', () => {
  const ddb = testDynamoDB();
  let crashPurge = false;
  injectFaults(ddb, ({ command }) =>
    crashPurge && command === 'BatchWriteItemCommand'
      ? { error: new Error('crash during purge') }
      : undefined,
  );
  // Tables of its own: a run over every topic must not purge other tests' deletions under them.
  let tablePrefix = '';
  let tributary: ReturnType<typeof testClient>;
  beforeAll(async () => {
    tablePrefix = await freshTablePrefix('purge');
    tributary = testClient({ dynamoDBClient: ddb, tablePrefix });
  });
  afterAll(() => tributary.close());

  async function itemsOf(topic: string, incarnation: string, partition: number): Promise<number> {
    const out = await ddb.send(
      new QueryCommand({
        TableName: tableNames(tablePrefix).log,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': { S: partitionKey({ topic, incarnation, partition }) } },
        Select: 'COUNT',
      }),
    );
    return out.Count ?? 0;
  }

  it('are finished by the next archiver run over every topic', async () => {
    const topic = uniqueTopic('purge');
    const admin = tributary.admin();
    await admin.createTopic({ topic, partitions: 2 });
    const producer = tributary.producer();
    await producer.send({
      topic,
      messages: Array.from({ length: 20 }, (_, i) => ({ value: `v${i}`, partition: i % 2 })),
    });
    await producer.close();
    const { incarnation } = await admin.describeTopic(topic);
    expect(await itemsOf(topic, incarnation, 0)).toBeGreaterThan(0);

    crashPurge = true;
    await expect(admin.deleteTopic(topic)).rejects.toThrow('crash during purge');
    crashPurge = false;
    // The topic is gone at once, but its records are still stored.
    await expect(admin.describeTopic(topic)).rejects.toMatchObject({ code: 'TOPIC_NOT_FOUND' });
    expect(await itemsOf(topic, incarnation, 0)).toBeGreaterThan(0);

    // A run over chosen topics leaves purges alone; a run over every topic finishes them.
    const other = uniqueTopic('purge-other');
    await admin.createTopic({ topic: other });
    expect((await tributary.archiver().run({ topics: [other] })).purgesFinished).toBe(0);
    const report = await tributary.archiver().run();
    expect(report.purgesFinished).toBeGreaterThanOrEqual(1);
    expect(await itemsOf(topic, incarnation, 0)).toBe(0);
    expect(await itemsOf(topic, incarnation, 1)).toBe(0);
    expect((await tributary.archiver().run()).purgesFinished).toBe(0);
  });

  it('over the API answer purged: true when the purge finished in time', async () => {
    const topic = uniqueTopic('purge-api');
    expect((await api('POST', '/v1/topics', { topic })).status).toBe(201);
    expect((await api('POST', `/v1/topics/${topic}/records`, { records: [{ value: 'x' }] })).status).toBe(
      200,
    );
    expect(await api('DELETE', `/v1/topics/${topic}`)).toEqual({
      status: 200,
      body: { topic, purged: true },
    });
    expect((await api('GET', `/v1/topics/${topic}`)).status).toBe(404);
  });
});
