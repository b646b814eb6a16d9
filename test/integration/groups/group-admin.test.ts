/** Group administration and the exactly-once transaction API, against DynamoDB Local. */
import { CreateTableCommand, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, describe, expect, it } from 'vitest';
import {
  GroupActiveError,
  GroupNotFoundError,
  InvalidGroupIdError,
  OffsetOutOfRangeError,
  TransactionConditionFailedError,
} from '../../../sdk/src/index.ts';
import { testStackConfig } from '../../helpers/stack.ts';
import { testClient, testDynamoDB, uniqueTopic } from '../../helpers/tributary.ts';
import { until } from '../../helpers/wait.ts';

const tributary = testClient();
const admin = tributary.admin();
afterAll(() => tributary.close());

const timing = {
  heartbeatIntervalMs: 150,
  sessionTimeoutMs: 900,
  autoCommitIntervalMs: 100,
  maxIdleIntervalMs: 100,
};

describe('group administration', () => {
  it('describes members, owners, committed offsets and lag in records and time; resets and deletes', async () => {
    const topic = uniqueTopic('gadm');
    const group = uniqueTopic('g');
    await admin.createTopic({ topic, partitions: 2 });
    const producer = tributary.producer();
    const old = Date.now() - 60_000;
    await producer.send({
      topic,
      messages: Array.from({ length: 6 }, (_, i) => ({ value: `a${i}`, partition: 0, timestamp: old + i })),
    });
    await producer.send({ topic, messages: [{ value: 'b0', partition: 1 }] });
    const seen: string[] = [];
    const member = tributary.consumer({ groupId: group, instanceId: 'worker-1', ...timing });
    await member.subscribe({ topics: [topic], fromBeginning: true });
    await member.run({
      eachMessage: async (m) => {
        seen.push(m.value!.toString());
      },
    });
    await until(() => seen.length === 7, { timeoutMs: 10_000 });
    const described = await admin.describeGroup(group);
    expect(described.members).toEqual([
      expect.objectContaining({
        memberId: 'worker-1',
        instanceId: 'worker-1',
        topics: [topic],
        active: true,
      }),
    ]);
    expect(described.partitions.map((p) => p.owner)).toEqual(['worker-1', 'worker-1']);
    expect((await admin.listGroups()).map((g) => g.groupId)).toContain(group);
    await expect(admin.resetGroupOffsets(group, topic, 'earliest')).rejects.toBeInstanceOf(GroupActiveError);
    await expect(admin.deleteGroup(group)).rejects.toBeInstanceOf(GroupActiveError);
    await member.disconnect();

    // After a clean leave the committed offsets equal the high watermarks.
    const after = await admin.describeGroup(group);
    expect(after.members).toEqual([]);
    expect(after.partitions.map((p) => [p.committedOffset, p.highWatermark, p.lag, p.lagMs])).toEqual([
      [6, 6, 0, 0],
      [1, 1, 0, 0],
    ]);
    // Reset partition 0 to offset 2: lag 4 records, the oldest uncommitted record is ~60 s old.
    expect(await admin.resetGroupOffsets(group, topic, { offset: 2 }, { partitions: [0] })).toEqual([
      { partition: 0, offset: 2 },
    ]);
    const reset = (await admin.describeGroup(group)).partitions[0]!;
    expect(reset).toMatchObject({ committedOffset: 2, highWatermark: 6, lag: 4 });
    expect(reset.lagMs).toBeGreaterThanOrEqual(59_000);
    await expect(admin.resetGroupOffsets(group, topic, { offset: 99 })).rejects.toBeInstanceOf(
      OffsetOutOfRangeError,
    );
    expect((await admin.describeGroup(group)).partitions[0]?.committedOffset).toBe(2);
    expect(await admin.resetGroupOffsets(group, topic, { timestamp: old + 3 }, { partitions: [0] })).toEqual([
      { partition: 0, offset: 3 },
    ]);
    expect(await admin.resetGroupOffsets(group, topic, 'latest')).toEqual([
      { partition: 0, offset: 6 },
      { partition: 1, offset: 1 },
    ]);
    await admin.deleteGroup(group);
    await expect(admin.describeGroup(group)).rejects.toBeInstanceOf(GroupNotFoundError);
    await producer.close();
  });

  it('refuses unknown and invalid groups', async () => {
    await expect(admin.describeGroup(uniqueTopic('nogroup'))).rejects.toBeInstanceOf(GroupNotFoundError);
    await expect(admin.resetGroupOffsets(uniqueTopic('nogroup'), 'x', 'earliest')).rejects.toBeInstanceOf(
      GroupNotFoundError,
    );
    await expect(admin.deleteGroup(uniqueTopic('nogroup'))).rejects.toBeInstanceOf(GroupNotFoundError);
    await expect(admin.describeGroup('')).rejects.toBeInstanceOf(InvalidGroupIdError);
  });
});

describe('exactly-once transaction', () => {
  it('commits offsets, appends outputs and writes the caller’s own item atomically', async () => {
    const input = uniqueTopic('tx-in');
    const output = uniqueTopic('tx-out');
    const group = uniqueTopic('g');
    await admin.createTopic({ topic: input });
    await admin.createTopic({ topic: output });
    const producer = tributary.producer();
    await producer.send({ topic: input, messages: [{ value: '1' }, { value: '2' }, { value: '3' }] });
    await producer.close();
    // The application's own table, written in the same transaction as the offsets and outputs.
    const ddb = testDynamoDB();
    const table = `${testStackConfig().tablePrefix}orders-${group}`;
    await ddb.send(
      new CreateTableCommand({
        TableName: table,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: 'name', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'name', KeyType: 'HASH' }],
      }),
    );
    const rowKey = { name: { S: 'order-1' } };
    const failures: unknown[] = [];
    const consumer = tributary.consumer({
      groupId: group,
      autoCommit: false,
      ...timing,
      onError: (e) => failures.push(e),
    });
    await consumer.subscribe({ topics: [input], fromBeginning: true });
    let attempt = 0;
    await consumer.run({
      eachBatch: async (batch) => {
        attempt++;
        const total = batch.messages.reduce((sum, m) => sum + Number(m.value!.toString()), 0);
        await consumer.transaction({
          offsets: [{ topic: batch.topic, partition: batch.partition, offset: batch.nextOffset }],
          send: [{ topic: output, messages: [{ value: `sum=${total}` }] }],
          items: [
            {
              Put: {
                TableName: table,
                Item: { ...rowKey, total: { N: String(total) } },
                // The first attempt fails on purpose: nothing of it may appear.
                ConditionExpression: attempt === 1 ? 'attribute_exists(#n)' : 'attribute_not_exists(#n)',
                ExpressionAttributeNames: { '#n': 'name' },
              },
            },
          ],
        });
      },
    });
    await until(async () => (await admin.partitionOffsets(output, 0)).highWatermark === 1, {
      timeoutMs: 15_000,
    });
    expect(failures.some((e) => e instanceof TransactionConditionFailedError && e.failedItems[0] === 0)).toBe(
      true,
    );
    await consumer.disconnect();
    expect((await admin.describeGroup(group)).partitions[0]?.committedOffset).toBe(3);
    const reader = tributary.consumer();
    await reader.assign([{ topic: output, partition: 0, offset: 0 }]);
    expect((await reader.poll()).flatMap((b) => b.messages.map((m) => m.value!.toString()))).toEqual([
      'sum=6',
    ]);
    const row = await ddb.send(new GetItemCommand({ TableName: table, Key: rowKey, ConsistentRead: true }));
    expect(row.Item?.total?.N).toBe('6');
  });
});
