/**
 * A multi-region local stack for the regions tests: `startLocalStack({ regions })` (a DynamoDB
 * Local and an edge per region, the MREC replicator between them), started by the test file that
 * needs it, with clients per region and raw access to each region's tables.
 */
import { randomBytes } from 'node:crypto';
import { DynamoDBClient, GetItemCommand, PutItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { type LocalStack, startLocalStack } from '../../local/stack.ts';
import { Tributary, type TributaryOptions } from '../../sdk/src/index.ts';
import {
  DirectTransport,
  type PartitionRef,
  partitionKey,
  type TopicMetadata,
} from '../../sdk/src/internal.ts';
import type { LogItem } from '../../sdk/src/log/log-store.ts';
import { isLoopbackEndpoint } from '../../sdk/src/loopback.ts';
import { type TableNames, tableNames } from '../../sdk/src/schema.ts';

export const HOME = 'us-east-1';
export const REPLICA = 'eu-west-1';

const CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' };

/** The running stack, and what the tests use of it. */
export interface RegionsStack {
  readonly stack: LocalStack;
  readonly tables: TableNames;
  /** A client in `region` that knows both regions (`regions: stack.regions`). */
  client(region: string, overrides?: Partial<Omit<TributaryOptions, 'transport'>>): Tributary;
  /** The direct transport a client in `region` would have. */
  transport(region: string, overrides?: Partial<Omit<TributaryOptions, 'transport'>>): DirectTransport;
  /** The options of a client in `region`. */
  options(region: string, overrides?: Partial<Omit<TributaryOptions, 'transport'>>): TributaryOptions;
  /** A raw DynamoDB client of `region`'s edge (no Tributary logic, no retries). */
  ddb(region: string): DynamoDBClient;
  /** Every item of one partition's batch key space in `region`, by offset, read consistently. */
  batchItems(region: string, ref: PartitionRef): Promise<LogItem[]>;
  /** Every item under one log table partition key in `region` (e.g. producer state), read consistently. */
  logItems(region: string, pk: string): Promise<LogItem[]>;
  /** Copies batch items (as read from `from`) into `to`'s log table, in the order given. */
  copyItems(to: string, items: readonly LogItem[]): Promise<void>;
  /** The topic item in `region`'s topics table, if any. */
  topicItem(region: string, name: string): Promise<LogItem | undefined>;
  /** Runs `fn` with `region` cut off, then reconnects it and waits until replication settled. */
  cutOff<T>(region: string, fn: () => Promise<T>): Promise<T>;
  stop(): Promise<void>;
}

/** Starts a two-region stack (home {@link HOME}, replica {@link REPLICA}) with a seeded replicator. */
export async function startRegionsStack(seed = 14): Promise<RegionsStack> {
  const tablePrefix = `regions-${randomBytes(4).toString('hex')}-`;
  const stack = await startLocalStack({
    regions: [HOME, REPLICA],
    edgePort: 0,
    tablePrefix,
    dispatcher: false,
    replication: { lag: { meanMs: 60, jitterMs: 60 }, seed },
  });
  for (const r of stack.regions) {
    if (!isLoopbackEndpoint(r.endpoint)) {
      await stack.stop();
      throw new Error(`Refusing to run against a non-loopback endpoint: ${r.endpoint}`);
    }
  }
  const tables = tableNames(tablePrefix);
  const raw = new Map<string, DynamoDBClient>();
  const endpointOf = (region: string) => {
    const found = stack.regions.find((r) => r.region === region);
    if (!found) throw new Error(`No region ${region} in the stack`);
    return found.endpoint;
  };
  const ddb = (region: string) => {
    let client = raw.get(region);
    if (!client) {
      client = new DynamoDBClient({ endpoint: endpointOf(region), region, credentials: CREDENTIALS });
      raw.set(region, client);
    }
    return client;
  };
  const options = (region: string, overrides: Partial<Omit<TributaryOptions, 'transport'>> = {}) => ({
    endpoint: endpointOf(region),
    region,
    regions: stack.regions,
    tablePrefix,
    bucket: stack.bucket,
    credentials: CREDENTIALS,
    retry: { deadlineMs: 15_000 },
    ...overrides,
    transport: 'direct' as const,
  });
  const query = async (region: string, pk: string, batchesOnly: boolean) => {
    const items: LogItem[] = [];
    let startKey: LogItem | undefined;
    do {
      const page = await ddb(region).send(
        new QueryCommand({
          TableName: tables.log,
          // Batches only: the partition's metadata item sits at -1.
          KeyConditionExpression: batchesOnly ? 'pk = :pk AND #off >= :zero' : 'pk = :pk',
          ...(batchesOnly ? { ExpressionAttributeNames: { '#off': 'off' } } : {}),
          ExpressionAttributeValues: { ':pk': { S: pk }, ...(batchesOnly ? { ':zero': { N: '0' } } : {}) },
          ConsistentRead: true,
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        }),
      );
      items.push(...(page.Items ?? []));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return items;
  };
  return {
    stack,
    tables,
    options,
    client: (region, overrides) => new Tributary(options(region, overrides)),
    transport: (region, overrides) => new DirectTransport(options(region, overrides)),
    ddb,
    batchItems: (region, ref) => query(region, partitionKey(ref), true),
    logItems: (region, pk) => query(region, pk, false),
    async copyItems(to, items) {
      for (const item of items) await ddb(to).send(new PutItemCommand({ TableName: tables.log, Item: item }));
    },
    async topicItem(region, name) {
      const out = await ddb(region).send(
        new GetItemCommand({ TableName: tables.topics, Key: { name: { S: name } }, ConsistentRead: true }),
      );
      return out.Item;
    },
    async cutOff(region, fn) {
      const replicator = stack.replicator!;
      replicator.pause(region);
      try {
        return await fn();
      } finally {
        replicator.resume(region);
        await replicator.settled();
      }
    },
    async stop() {
      for (const client of raw.values()) client.destroy();
      await stack.stop();
    },
  };
}

/** The partition of a topic as its log keys name it. */
export function refOf(topic: Pick<TopicMetadata, 'name' | 'incarnation'>, partition: number): PartitionRef {
  return { topic: topic.name, incarnation: topic.incarnation, partition };
}

/** Offsets of batch items, in order. */
export function offsetsOf(items: readonly LogItem[]): number[] {
  return items.map((i) => Number(i.off?.N));
}
