/**
 * The multi-region local stack: a DynamoDB Local and an edge per region, and the MREC replicator
 * between them (asynchronous, item by item, out of order across items, last writer wins, pausable,
 * no loops). This file starts its own three-region stack; it does not use the global setup's.
 *
 * Names are fixed (the stack is this file's alone) so the seeded delays are the same on every run.
 */
import {
  BatchWriteItemCommand,
  DeleteItemCommand,
  DescribeTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  ScanCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import {
  type _Record,
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
} from '@aws-sdk/client-dynamodb-streams';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalStack, startLocalStack } from '../../../local/index.ts';
import { DEFAULT_LAG, replicationDelay } from '../../../local/regions/delivery-schedule.ts';
import { canonicalImage, type ItemImage, itemIdentity } from '../../../local/regions/item-image.ts';
import { InvalidArgumentError } from '../../../sdk/src/errors.ts';
import { Tributary } from '../../../sdk/src/index.ts';
import { TABLES, tableName, tableNames } from '../../../sdk/src/schema.ts';
import { isRunning, reachable } from '../../helpers/processes.ts';
import { until } from '../../helpers/wait.ts';

const HOME = 'us-east-1';
const EU = 'eu-west-1';
const AP = 'ap-southeast-2';
const REGIONS = [HOME, EU, AP];
/** Any seed works; this one is fixed so the delays (and the order they give) replay exactly. */
const SEED = 1_402;
const TABLE_PREFIX = 'regions-';
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

let stack: LocalStack;
const lines: string[] = [];
const clients = new Map<string, DynamoDBClient>();
const streamClients = new Map<string, DynamoDBStreamsClient>();
const groups = tableNames(TABLE_PREFIX).groups;

beforeAll(async () => {
  stack = await startLocalStack({
    regions: REGIONS,
    edgePort: 0,
    tablePrefix: TABLE_PREFIX,
    replication: { seed: SEED },
    log: (line) => lines.push(line),
  });
  for (const { region, endpoint } of stack.regions) {
    clients.set(region, new DynamoDBClient({ endpoint, region, credentials }));
    streamClients.set(region, new DynamoDBStreamsClient({ endpoint, region, credentials }));
  }
}, 120_000);

afterAll(async () => {
  for (const client of [...clients.values(), ...streamClients.values()]) client.destroy();
  await stack?.stop();
});

function ddb(region: string): DynamoDBClient {
  const client = clients.get(region);
  if (!client) throw new Error(`no client for ${region}`);
  return client;
}

function replicator() {
  const running = stack.replicator;
  if (!running) throw new Error('a multi-region stack has a replicator');
  return running;
}

/** A raw item of the groups table (key `g`, `k`). */
function groupItem(group: string, key: string, extra: ItemImage = {}): ItemImage {
  return { g: { S: group }, k: { S: key }, ...extra };
}

async function put(region: string, item: ItemImage): Promise<void> {
  await ddb(region).send(new PutItemCommand({ TableName: groups, Item: item }));
}

async function get(region: string, group: string, key: string): Promise<ItemImage | undefined> {
  const { Item } = await ddb(region).send(
    new GetItemCommand({ TableName: groups, Key: groupItem(group, key), ConsistentRead: true }),
  );
  return Item;
}

/** `v` of an item in every region (undefined where it is absent). */
async function valuesEverywhere(group: string, key: string): Promise<(string | undefined)[]> {
  return Promise.all(REGIONS.map(async (region) => (await get(region, group, key))?.v?.S));
}

/** Every record of a region's stream of `table` (through its edge), in stream order. */
async function streamRecords(region: string, table: string): Promise<_Record[]> {
  const streams = streamClients.get(region);
  if (!streams) throw new Error(`no streams client for ${region}`);
  const { Table } = await ddb(region).send(new DescribeTableCommand({ TableName: table }));
  const StreamArn = Table?.LatestStreamArn;
  const { StreamDescription } = await streams.send(new DescribeStreamCommand({ StreamArn }));
  const records: _Record[] = [];
  for (const shard of StreamDescription?.Shards ?? []) {
    let { ShardIterator } = await streams.send(
      new GetShardIteratorCommand({ StreamArn, ShardId: shard.ShardId, ShardIteratorType: 'TRIM_HORIZON' }),
    );
    while (ShardIterator) {
      const page = await streams.send(new GetRecordsCommand({ ShardIterator, Limit: 1000 }));
      records.push(...(page.Records ?? []));
      if ((page.Records ?? []).length < 1000) break;
      ShardIterator = page.NextShardIterator;
    }
  }
  return records;
}

/** Every item of a table in a region, canonical and sorted. */
async function tableContents(region: string, table: string): Promise<string[]> {
  const items: string[] = [];
  let ExclusiveStartKey: ItemImage | undefined;
  do {
    const page = await ddb(region).send(
      new ScanCommand({ TableName: table, ConsistentRead: true, ExclusiveStartKey }),
    );
    for (const item of page.Items ?? []) items.push(canonicalImage(item));
    ExclusiveStartKey = page.LastEvaluatedKey;
  } while (ExclusiveStartKey);
  return items.sort();
}

/** The records of one group's items in a region's stream of the groups table, in stream order. */
async function groupRecords(region: string, group: string): Promise<_Record[]> {
  return (await streamRecords(region, groups)).filter((record) => record.dynamodb?.Keys?.g?.S === group);
}

describe('a three-region local stack', () => {
  it('has an edge and a DynamoDB Local per region, home first, the same tables in each with NEW_AND_OLD_IMAGES streams', async () => {
    expect(stack.regions.map(({ region }) => region)).toEqual(REGIONS);
    expect(stack.region).toBe(HOME);
    expect(stack.endpoint).toBe(stack.regions[0]?.endpoint);
    expect(stack.dynamodbEndpoint).toBe(stack.regions[0]?.dynamodbEndpoint);
    expect(new Set(stack.regions.map(({ endpoint }) => endpoint)).size).toBe(3);
    expect(new Set(stack.regions.map(({ dynamodbEndpoint }) => dynamodbEndpoint)).size).toBe(3);
    expect(replicator().regions).toEqual(REGIONS);
    expect(replicator().mode).toBe('MREC');
    expect(replicator().seed).toBe(SEED);
    expect(replicator().lag).toEqual(DEFAULT_LAG);
    for (const region of REGIONS) {
      for (const schema of TABLES) {
        const { Table } = await ddb(region).send(
          new DescribeTableCommand({ TableName: tableName(schema, TABLE_PREFIX) }),
        );
        expect(Table?.StreamSpecification, `${schema.suffix} in ${region}`).toEqual({
          StreamEnabled: true,
          StreamViewType: 'NEW_AND_OLD_IMAGES',
        });
      }
    }
  });

  it('replicates puts, updates and deletes made in any region to the others', async () => {
    await put(EU, groupItem('spread', 'a', { v: { S: 'from-eu' }, n: { N: '1' } }));
    await replicator().settled();
    for (const region of REGIONS) {
      expect(await get(region, 'spread', 'a'), region).toEqual(
        groupItem('spread', 'a', { v: { S: 'from-eu' }, n: { N: '1' } }),
      );
    }

    await ddb(HOME).send(
      new UpdateItemCommand({
        TableName: groups,
        Key: groupItem('spread', 'a'),
        UpdateExpression: 'SET n = n + :one',
        ExpressionAttributeValues: { ':one': { N: '1' } },
      }),
    );
    await replicator().settled();
    for (const region of REGIONS) expect((await get(region, 'spread', 'a'))?.n, region).toEqual({ N: '2' });

    await ddb(AP).send(new DeleteItemCommand({ TableName: groups, Key: groupItem('spread', 'a') }));
    await replicator().settled();
    for (const region of REGIONS) expect(await get(region, 'spread', 'a'), region).toBeUndefined();
  });

  it('never replicates its own writes back', async () => {
    // No other writer is active: the Tributary test, whose dispatcher writes a moment later, comes last.
    const before = replicator().stats();
    await put(AP, groupItem('once', 'x', { v: { S: 'only' } }));
    await replicator().settled();
    const after = replicator().stats();
    // One client write read, delivered to the two other regions, read back there as echoes.
    expect(after.observed - before.observed).toBe(1);
    expect(after.applied - before.applied).toBe(2);
    expect(after.echoes - before.echoes).toBe(2);
    expect(after.skipped - before.skipped).toBe(0);
    expect(after.pending).toBe(0);
    // The source region saw exactly its one write; each replica exactly one replicated write.
    for (const region of REGIONS) {
      const records = await groupRecords(region, 'once');
      expect(
        records.map((record) => record.eventName),
        region,
      ).toEqual(['INSERT']);
    }
  });

  it('converges concurrent writes to one item in two regions on one value everywhere (last writer wins)', async () => {
    const items = Array.from({ length: 12 }, (_, n) => `item-${n}`);
    // With no lag, deliveries often land on a write the replicator has not read yet (and put it back).
    try {
      for (const lag of [DEFAULT_LAG, { meanMs: 0, jitterMs: 0 }]) {
        const group = `conflict-${lag.meanMs}`;
        replicator().setLag(lag);
        await Promise.all(
          items.flatMap((key) => [
            put(HOME, groupItem(group, key, { v: { S: 'home' } })),
            put(EU, groupItem(group, key, { v: { S: 'eu' } })),
          ]),
        );
        await replicator().settled();
        for (const key of items) {
          const values = await valuesEverywhere(group, key);
          expect(new Set(values).size, `${group}/${key}: ${values.join(', ')}`).toBe(1);
          expect(['home', 'eu']).toContain(values[0]);
        }
      }
    } finally {
      replicator().setLag(DEFAULT_LAG);
    }
  });

  it('lets the later of two writes win everywhere', async () => {
    await put(EU, groupItem('later', 'x', { v: { S: 'first' } }));
    // Read from EU's stream (stamped) before the second write is made.
    await replicator().settled();
    await put(AP, groupItem('later', 'x', { v: { S: 'second' } }));
    await replicator().settled();
    expect(await valuesEverywhere('later', 'x')).toEqual(['second', 'second', 'second']);
  });

  it("keeps a paused region's writes local, and converges after resume", async () => {
    replicator().pause(AP);
    try {
      await put(AP, groupItem('cut', 'shared', { v: { S: 'ap' } }));
      await put(AP, groupItem('cut', 'from-ap', { v: { S: 'ap' } }));
      // AP's writes are read (and stamped) now, while it is cut off.
      await replicator().settled();
      await put(HOME, groupItem('cut', 'shared', { v: { S: 'home' } }));
      await put(HOME, groupItem('cut', 'from-home', { v: { S: 'home' } }));
      await replicator().settled();

      expect(await valuesEverywhere('cut', 'shared')).toEqual(['home', 'home', 'ap']);
      expect(await valuesEverywhere('cut', 'from-ap')).toEqual([undefined, undefined, 'ap']);
      expect(await valuesEverywhere('cut', 'from-home')).toEqual(['home', 'home', undefined]);
      const stats = replicator().stats();
      expect(stats.paused).toEqual([AP]);
      // Out of AP: two writes to two regions; into AP: two writes.
      expect(stats.held).toBe(6);
      expect(stats.pending).toBe(6);
    } finally {
      replicator().resume(AP);
    }
    const beforeResume = replicator().stats();
    await replicator().settled();
    const afterResume = replicator().stats();
    // Into AP: both of HOME's writes. Out of AP: `from-ap` twice; `shared` skipped twice, older than HOME's.
    expect(afterResume.applied - beforeResume.applied).toBe(4);
    expect(afterResume.skipped - beforeResume.skipped).toBe(2);
    // HOME's write to `shared` came later: it wins in AP too, and AP's older one is skipped elsewhere.
    expect(await valuesEverywhere('cut', 'shared')).toEqual(['home', 'home', 'home']);
    expect(await valuesEverywhere('cut', 'from-ap')).toEqual(['ap', 'ap', 'ap']);
    expect(await valuesEverywhere('cut', 'from-home')).toEqual(['home', 'home', 'home']);
    expect(replicator().stats()).toMatchObject({ pending: 0, held: 0, paused: [] });
  });

  it("delivers items out of order across items, and each item's versions in order", async () => {
    const keys = Array.from({ length: 20 }, (_, n) => `i${String(n).padStart(2, '0')}`);
    // The seeded delays of these deliveries to EU (each item's first there) are not in key order.
    const predicted = [...keys].sort(
      (a, b) => delayToEu('order', a) - delayToEu('order', b) || a.localeCompare(b),
    );
    expect(predicted, `seed ${SEED}`).not.toEqual(keys);

    // All written in one request, in key order, so they are read from HOME's stream together.
    await ddb(HOME).send(
      new BatchWriteItemCommand({
        RequestItems: { [groups]: keys.map((key) => ({ PutRequest: { Item: groupItem('order', key) } })) },
      }),
    );
    // One item written five times, each write after the previous one.
    for (let version = 1; version <= 5; version++) {
      await put(HOME, groupItem('versions', 'x', { v: { N: String(version) } }));
    }
    await replicator().settled();

    const written = (await groupRecords(HOME, 'order')).map((record) => record.dynamodb?.Keys?.k?.S);
    const arrived = (await groupRecords(EU, 'order')).map((record) => record.dynamodb?.Keys?.k?.S);
    expect(written).toEqual(keys);
    expect([...arrived].sort()).toEqual(keys);
    expect(arrived, `seed ${SEED}`).not.toEqual(keys);

    for (const region of [EU, AP]) {
      const versions = (await groupRecords(region, 'versions')).map(
        (record) => record.dynamodb?.NewImage?.v?.N,
      );
      expect(versions, region).toEqual(['1', '2', '3', '4', '5']);
    }
  });

  it("replicates Tributary's own tables: a topic produced to in the home region is in every replica", async () => {
    const home = stack.regions[0];
    if (!home) throw new Error('no home region');
    const tributary = new Tributary({
      endpoint: home.endpoint,
      region: home.region,
      tablePrefix: TABLE_PREFIX,
      bucket: stack.bucket,
      credentials,
    });
    try {
      await tributary.admin().createTopic({ topic: 'replicated', partitions: 2 });
      const producer = tributary.producer();
      await producer.send({
        topic: 'replicated',
        messages: Array.from({ length: 20 }, (_, n) => ({ key: `k${n}`, value: `v${n}` })),
      });
      await producer.close();
    } finally {
      tributary.close();
    }
    // The stack's dispatcher (home region), woken by the log's NEW_AND_OLD_IMAGES stream, rings the
    // partitions' archive schedules (writes of its own, a moment later): wait until it has, and the
    // regions hold the same tables.
    const names = [...Object.values(tableNames(TABLE_PREFIX))];
    let contents: string[][] = [];
    await until(
      async () => {
        await replicator().settled();
        contents = await Promise.all(
          REGIONS.map(async (region) =>
            (await Promise.all(names.map((table) => tableContents(region, table)))).flat(),
          ),
        );
        const rung = contents.every(
          (region) => region.filter((item) => item.includes('"schedule#replicated#')).length === 2,
        );
        return rung && contents.every((region) => JSON.stringify(region) === JSON.stringify(contents[0]));
      },
      {
        timeoutMs: 20_000,
        message: "the dispatcher's archive rings, and every region to hold the same tables",
      },
    );
    const logItems = (await tableContents(EU, tableNames(TABLE_PREFIX).log)).filter((item) =>
      item.includes('"replicated:'),
    );
    // At least a batch per partition.
    expect(logItems.length).toBeGreaterThanOrEqual(2);
    expect(contents[2]).toEqual(contents[0]);
  });

  it('refuses what it cannot simulate, before starting anything', async () => {
    await expect(startLocalStack({ regions: REGIONS, dataDir: '/tmp/never-created' })).rejects.toThrow(
      /kept in memory only/,
    );
    await expect(startLocalStack({ replication: { seed: 1 } })).rejects.toThrow(/one region/);
    await expect(startLocalStack({ regions: [HOME, 'moon-1'] })).rejects.toThrow(InvalidArgumentError);
    await expect(startLocalStack({ regions: [HOME, HOME] })).rejects.toThrow(/twice/);
    // MRSC needs three regions of one region set (regions-mrsc.test.ts covers that mode).
    await expect(startLocalStack({ regions: [HOME, EU], replication: { mode: 'MRSC' } })).rejects.toThrow(
      /exactly three/,
    );
    await expect(
      startLocalStack({ regions: [HOME, EU], replication: { lag: { meanMs: -1, jitterMs: 0 } } }),
    ).rejects.toThrow(InvalidArgumentError);
    expect(() => replicator().pause('eu-central-1')).toThrow(InvalidArgumentError);
    expect(() => replicator().setLag({ meanMs: 10, jitterMs: 1.5 })).toThrow(InvalidArgumentError);
    expect(replicator().lag).toEqual(DEFAULT_LAG);
  });

  it('stops every DynamoDB Local and edge, leaving no process running', async () => {
    const pids = lines.flatMap((line) => {
      const match = /java pid (\d+)/.exec(line);
      return match ? [Number(match[1])] : [];
    });
    expect(new Set(pids).size).toBe(3);
    for (const pid of pids) expect(isRunning(pid), `java ${pid}`).toBe(true);
    await stack.stop();
    await until(() => pids.every((pid) => !isRunning(pid)), { timeoutMs: 15_000, message: 'Java to exit' });
    for (const { endpoint, dynamodbEndpoint } of stack.regions) {
      expect(await reachable(endpoint), endpoint).toBe(false);
      expect(await reachable(dynamodbEndpoint), dynamodbEndpoint).toBe(false);
    }
    await expect(replicator().settled()).rejects.toThrow(/closed/);
  });
});

/** The delay of an item's first delivery to EU under this file's seed and the default lag. */
function delayToEu(group: string, key: string): number {
  const identity = itemIdentity(groups, { g: { S: group }, k: { S: key } });
  return replicationDelay(SEED, DEFAULT_LAG, `${EU}\u0000${identity}\u00000`);
}
