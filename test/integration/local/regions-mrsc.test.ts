/**
 * The MRSC mode of the multi-region local stack: three regions of one MRSC region set, one
 * DynamoDB Local behind every region's edge, strongly consistent everywhere, no transactions, no
 * TTL, a region cut off losing its quorum. This file starts its own stack; it does not use the
 * global setup's.
 */
import {
  ConditionalCheckFailedException,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  TransactGetItemsCommand,
  TransactWriteItemsCommand,
  UpdateItemCommand,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
} from '@aws-sdk/client-dynamodb-streams';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalStack, startLocalStack } from '../../../local/index.ts';
import type { ItemImage } from '../../../local/regions/item-image.ts';
import { InvalidArgumentError } from '../../../sdk/src/errors.ts';
import { Tributary } from '../../../sdk/src/index.ts';
import { tableNames } from '../../../sdk/src/schema.ts';
import { isRunning, reachable } from '../../helpers/processes.ts';
import { until } from '../../helpers/wait.ts';

const HOME = 'us-east-1';
const OHIO = 'us-east-2';
const OREGON = 'us-west-2';
const REGIONS = [HOME, OHIO, OREGON];
const TABLE_PREFIX = 'mrsc-';
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
const { groups, log } = tableNames(TABLE_PREFIX);

let stack: LocalStack;
const lines: string[] = [];
const clients = new Map<string, DynamoDBClient>();
/** Clients that do not retry, so a refusal is seen once. */
const onceClients = new Map<string, DynamoDBClient>();

beforeAll(async () => {
  stack = await startLocalStack({
    regions: REGIONS,
    edgePort: 0,
    tablePrefix: TABLE_PREFIX,
    replication: { mode: 'MRSC' },
    // Nothing in this file needs triggers; the dispatcher would only add writes of its own.
    dispatcher: false,
    log: (line) => lines.push(line),
  });
  for (const { region, endpoint } of stack.regions) {
    clients.set(region, new DynamoDBClient({ endpoint, region, credentials }));
    onceClients.set(region, new DynamoDBClient({ endpoint, region, credentials, maxAttempts: 1 }));
  }
}, 60_000);

afterAll(async () => {
  for (const client of [...clients.values(), ...onceClients.values()]) client.destroy();
  await stack?.stop();
});

function ddb(region: string, retries: 'retrying' | 'once' = 'retrying'): DynamoDBClient {
  const client = (retries === 'once' ? onceClients : clients).get(region);
  if (!client) throw new Error(`no client for ${region}`);
  return client;
}

function strong() {
  const mode = stack.strongConsistency;
  if (!mode) throw new Error('an MRSC stack has stack.strongConsistency');
  return mode;
}

function groupItem(group: string, key: string, extra: ItemImage = {}): ItemImage {
  return { g: { S: group }, k: { S: key }, ...extra };
}

async function get(region: string, group: string, key: string, consistent = true) {
  const { Item } = await ddb(region, 'once').send(
    new GetItemCommand({ TableName: groups, Key: groupItem(group, key), ConsistentRead: consistent }),
  );
  return Item;
}

/** The error a request was refused with (fails the test if it succeeded). */
async function refusal(
  request: Promise<unknown>,
): Promise<Error & { $metadata?: { httpStatusCode?: number } }> {
  const outcome = await request.then(
    () => undefined,
    (error: unknown) => error as Error,
  );
  if (!outcome) throw new Error('the request succeeded');
  return outcome;
}

describe('an MRSC local stack', () => {
  it('has an edge per region, all in front of one DynamoDB Local, no replicator, tables without TTL', async () => {
    expect(stack.regions.map(({ region }) => region)).toEqual(REGIONS);
    expect(stack.region).toBe(HOME);
    expect(new Set(stack.regions.map(({ endpoint }) => endpoint)).size).toBe(3);
    expect(new Set(stack.regions.map(({ dynamodbEndpoint }) => dynamodbEndpoint))).toEqual(
      new Set([stack.dynamodbEndpoint]),
    );
    expect(stack.replicator).toBeUndefined();
    expect(strong().mode).toBe('MRSC');
    expect(strong().regions).toEqual(REGIONS);
    for (const region of REGIONS) {
      const { TimeToLiveDescription } = await ddb(region).send(
        new DescribeTimeToLiveCommand({ TableName: log }),
      );
      expect(TimeToLiveDescription?.TimeToLiveStatus, region).toBe('DISABLED');
    }
  });

  it('shows a write made in one region to strongly consistent reads in every other at once', async () => {
    await ddb(OHIO).send(
      new PutItemCommand({ TableName: groups, Item: groupItem('seen', 'x', { n: { N: '1' } }) }),
    );
    for (const region of REGIONS) expect((await get(region, 'seen', 'x'))?.n, region).toEqual({ N: '1' });

    await ddb(OREGON).send(
      new UpdateItemCommand({
        TableName: groups,
        Key: groupItem('seen', 'x'),
        UpdateExpression: 'SET n = n + :one',
        ExpressionAttributeValues: { ':one': { N: '1' } },
      }),
    );
    for (const region of REGIONS) expect((await get(region, 'seen', 'x'))?.n, region).toEqual({ N: '2' });
  });

  it('lets exactly one of three regions racing on an attribute_not_exists slot win, and every region read it', async () => {
    const slots = Array.from({ length: 25 }, (_, n) => `slot-${n}`);
    const outcomes = await Promise.all(
      slots.map(async (slot) => {
        const attempts = await Promise.allSettled(
          REGIONS.map((region) =>
            ddb(region).send(
              new PutItemCommand({
                TableName: groups,
                Item: groupItem('race', slot, { by: { S: region } }),
                ConditionExpression: 'attribute_not_exists(k)',
              }),
            ),
          ),
        );
        return { slot, attempts };
      }),
    );
    for (const { slot, attempts } of outcomes) {
      const winners = REGIONS.filter((_, i) => attempts[i]?.status === 'fulfilled');
      expect(winners, slot).toHaveLength(1);
      for (const attempt of attempts) {
        if (attempt.status === 'rejected')
          expect(attempt.reason).toBeInstanceOf(ConditionalCheckFailedException);
      }
      for (const region of REGIONS) expect((await get(region, 'race', slot))?.by?.S, region).toBe(winners[0]);
    }
  });

  it('refuses transactions in every region with a ValidationException, writing nothing', async () => {
    const before = strong().stats().refused.transactions;
    for (const region of REGIONS) {
      const error = await refusal(
        ddb(region, 'once').send(
          new TransactWriteItemsCommand({
            TransactItems: [
              { Put: { TableName: groups, Item: groupItem('txn', region) } },
              { Put: { TableName: groups, Item: groupItem('txn', `${region}-2`) } },
            ],
          }),
        ),
      );
      expect(error.name, region).toBe('ValidationException');
      expect(error.message).toMatch(/Transactions are not supported.*multi-Region strong consistency/);
      expect(error.$metadata?.httpStatusCode).toBe(400);
      expect(await get(HOME, 'txn', region)).toBeUndefined();
    }
    const read = await refusal(
      ddb(OHIO, 'once').send(
        new TransactGetItemsCommand({
          TransactItems: [{ Get: { TableName: groups, Key: groupItem('seen', 'x') } }],
        }),
      ),
    );
    expect(read.name).toBe('ValidationException');
    expect(strong().stats().refused.transactions - before).toBe(4);
  });

  it('refuses UpdateTimeToLive with a ValidationException, leaving TTL off', async () => {
    const error = await refusal(
      ddb(OREGON, 'once').send(
        new UpdateTimeToLiveCommand({
          TableName: log,
          TimeToLiveSpecification: { Enabled: true, AttributeName: 'exp' },
        }),
      ),
    );
    expect(error.name).toBe('ValidationException');
    expect(error.message).toMatch(/Time to Live is not supported/);
    const { TimeToLiveDescription } = await ddb(HOME).send(new DescribeTimeToLiveCommand({ TableName: log }));
    expect(TimeToLiveDescription?.TimeToLiveStatus).toBe('DISABLED');
  });

  it("serves DynamoDB Streams in every region, with every region's writes", async () => {
    const pk = `streamed:${Date.now()}`;
    await ddb(OREGON).send(
      new PutItemCommand({
        TableName: log,
        Item: { pk: { S: pk }, off: { N: '0' }, v: { S: 'from-oregon' } },
      }),
    );
    for (const { region, endpoint } of stack.regions) {
      const streams = new DynamoDBStreamsClient({ endpoint, region, credentials });
      try {
        const { Table } = await ddb(region).send(new DescribeTableCommand({ TableName: log }));
        const StreamArn = Table?.LatestStreamArn;
        expect(StreamArn, region).toBeDefined();
        await until(
          async () => {
            const { StreamDescription } = await streams.send(new DescribeStreamCommand({ StreamArn }));
            for (const shard of StreamDescription?.Shards ?? []) {
              const { ShardIterator } = await streams.send(
                new GetShardIteratorCommand({
                  StreamArn,
                  ShardId: shard.ShardId,
                  ShardIteratorType: 'TRIM_HORIZON',
                }),
              );
              const { Records = [] } = await streams.send(
                new GetRecordsCommand({ ShardIterator, Limit: 1000 }),
              );
              if (Records.some((record) => record.dynamodb?.Keys?.pk?.S === pk)) return true;
            }
            return false;
          },
          { timeoutMs: 10_000, message: `the write in ${OREGON} in ${region}'s stream` },
        );
      } finally {
        streams.destroy();
      }
    }
  });

  it('appends from producers in two regions to one partition without losing or duplicating a record', async () => {
    // Plain single-region clients, each on its own region's edge: MRSC needs no home-region routing.
    const clientIn = ({ region, endpoint }: { region: string; endpoint: string }) =>
      new Tributary({ endpoint, region, tablePrefix: TABLE_PREFIX, bucket: stack.bucket, credentials });
    const [home, ohio, oregon] = stack.regions.map(clientIn) as [Tributary, Tributary, Tributary];
    try {
      await home.admin().createTopic({ topic: 'contended', partitions: 1 });
      const sent = await Promise.all(
        [ohio, oregon].map(async (client, n) => {
          const producer = client.producer({ lingerMs: 0 });
          try {
            const values = Array.from({ length: 30 }, (_, i) => `p${n}-${i}`);
            // Batches in flight from both regions at once: every one has to win its slot by condition.
            await Promise.all(
              values.map((value) =>
                producer.send({ topic: 'contended', messages: [{ value, partition: 0 }] }),
              ),
            );
            return values;
          } finally {
            await producer.close();
          }
        }),
      );
      const consumer = home.consumer();
      const read: { offset: number; value: string }[] = [];
      try {
        await consumer.assign([{ topic: 'contended', partition: 0, offset: 'earliest' }]);
        await until(
          async () => {
            for (const batch of await consumer.poll()) {
              for (const message of batch.messages) {
                read.push({ offset: message.offset, value: String(message.value) });
              }
            }
            return read.length >= 60;
          },
          { timeoutMs: 20_000, message: 'all 60 records read back' },
        );
      } finally {
        consumer.close();
      }
      expect(read.map(({ offset }) => offset)).toEqual(Array.from({ length: 60 }, (_, i) => i));
      expect(read.map(({ value }) => value).sort()).toEqual(sent.flat().sort());
    } finally {
      for (const client of [home, ohio, oregon]) client.close();
    }
  });

  it('makes a region cut off refuse writes and strong reads (no quorum), while the other two carry on', async () => {
    await ddb(HOME).send(
      new PutItemCommand({ TableName: groups, Item: groupItem('cut', 'x', { v: { S: 'before' } }) }),
    );
    const before = strong().stats().refused.noQuorum;
    strong().pause(OREGON);
    try {
      expect(strong().stats().paused).toEqual([OREGON]);
      const write = await refusal(
        ddb(OREGON, 'once').send(
          new PutItemCommand({ TableName: groups, Item: groupItem('cut', 'x', { v: { S: 'oregon' } }) }),
        ),
      );
      expect(write.name).toBe('InternalServerError');
      expect(write.$metadata?.httpStatusCode).toBe(500);
      expect(write.message).toMatch(/us-west-2 cannot reach a quorum/);
      expect((await refusal(get(OREGON, 'cut', 'x'))).name).toBe('InternalServerError');
      // Eventually consistent reads are still served there.
      expect((await get(OREGON, 'cut', 'x', false))?.v?.S).toBe('before');
      // The other two are a quorum.
      await ddb(OHIO, 'once').send(
        new PutItemCommand({ TableName: groups, Item: groupItem('cut', 'x', { v: { S: 'ohio' } }) }),
      );
      expect((await get(HOME, 'cut', 'x'))?.v?.S).toBe('ohio');

      // A second region cut off: the home region is alone, without a quorum too.
      strong().pause(OHIO);
      expect(
        (
          await refusal(
            ddb(HOME, 'once').send(
              new PutItemCommand({ TableName: groups, Item: groupItem('cut', 'x', { v: { S: 'home' } }) }),
            ),
          )
        ).name,
      ).toBe('InternalServerError');
    } finally {
      strong().resume(OHIO);
      strong().resume(OREGON);
    }
    expect(strong().stats().refused.noQuorum - before).toBe(3);
    await ddb(OREGON, 'once').send(
      new PutItemCommand({ TableName: groups, Item: groupItem('cut', 'x', { v: { S: 'oregon' } }) }),
    );
    for (const region of REGIONS) expect((await get(region, 'cut', 'x'))?.v?.S, region).toBe('oregon');
    expect(() => strong().pause('eu-west-1')).toThrow(InvalidArgumentError);
  });

  it('refuses layouts MRSC cannot have before starting anything', async () => {
    const refusedLines: string[] = [];
    const attempt = (regions: string[], replication: { mode: 'MRSC' }) =>
      startLocalStack({ regions, edgePort: 0, replication, log: (line) => refusedLines.push(line) });
    await expect(attempt([HOME, OHIO], { mode: 'MRSC' })).rejects.toThrow(InvalidArgumentError);
    await expect(attempt([HOME, OHIO], { mode: 'MRSC' })).rejects.toThrow(/exactly three/);
    await expect(attempt([HOME, OHIO, 'eu-west-1'], { mode: 'MRSC' })).rejects.toThrow(/region set/);
    await expect(attempt([HOME, OHIO, OREGON, 'us-west-1'], { mode: 'MRSC' })).rejects.toThrow(
      InvalidArgumentError,
    );
    const withLag = { mode: 'MRSC', lag: { meanMs: 10, jitterMs: 0 } } as unknown as { mode: 'MRSC' };
    await expect(attempt(REGIONS, withLag)).rejects.toThrow(/takes no lag/);
    // Refused before Java (or anything else) started: no DynamoDB Local ever reported its pid.
    expect(refusedLines).toEqual([]);
  });

  it('stops its one DynamoDB Local and every edge, leaving no process running', async () => {
    const pids = lines.flatMap((line) => {
      const match = /java pid (\d+)/.exec(line);
      return match ? [Number(match[1])] : [];
    });
    expect(pids).toHaveLength(1);
    const [pid] = pids as [number];
    expect(isRunning(pid)).toBe(true);
    await stack.stop();
    await until(() => !isRunning(pid), { timeoutMs: 15_000, message: 'Java to exit' });
    for (const { endpoint, dynamodbEndpoint } of stack.regions) {
      expect(await reachable(endpoint), endpoint).toBe(false);
      expect(await reachable(dynamodbEndpoint), dynamodbEndpoint).toBe(false);
    }
  });
});
