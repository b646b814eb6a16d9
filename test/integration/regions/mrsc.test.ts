/**
 * The SDK on MRSC global tables (`consistency: 'strong'`), on the local stack's MRSC simulation:
 * three regions of the US region set, one DynamoDB Local behind every region's edge (a conditional
 * write sees every region's writes), transactions and UpdateTimeToLive answered with a
 * ValidationException as AWS answers them, a region cut off losing its quorum. Every client here
 * is in one region and knows all three; the simulation's refusal counters show that no transaction
 * ever reached an edge. This file starts its own stack; it does not use the global setup's.
 */
import { randomBytes } from 'node:crypto';
import {
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  GetItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalStack, startLocalStack } from '../../../local/index.ts';
import { Archiver } from '../../../sdk/src/archive/archiver.ts';
import {
  type ConsumedMessage,
  InvalidArgumentError,
  LeaseLostError,
  PartiallyResetError,
  type RegionEndpoint,
  TopicNotFoundError,
  Tributary,
  type TributaryOptions,
  UnsupportedOperationError,
} from '../../../sdk/src/index.ts';
import {
  CONSISTENCY_ENVIRONMENT_VARIABLE,
  DirectTransport,
  errorToResponse,
  GroupSessions,
  type Membership,
  partitionKey,
  REGIONS_ENVIRONMENT_VARIABLE,
} from '../../../sdk/src/internal.ts';
import { GroupAttr, LogAttr, leaseItemKey, TopicAttr, tombstoneKey } from '../../../sdk/src/keys.ts';
import { isLoopbackEndpoint } from '../../../sdk/src/loopback.ts';
import { type TableNames, tableNames } from '../../../sdk/src/schema.ts';
import { readAll } from '../../helpers/consume.ts';
import { type FaultRule, injectFaults } from '../../helpers/faults.ts';
import { uniqueTopic } from '../../helpers/tributary.ts';
import { until } from '../../helpers/wait.ts';

const HOME = 'us-east-1';
const OHIO = 'us-east-2';
const OREGON = 'us-west-2';
const REGIONS = [HOME, OHIO, OREGON];
const CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' };
const DAY_MS = 86_400_000;

let stack: LocalStack;
let tables: TableNames;
let tablePrefix: string;
/** Raw clients of each region's edge (no Tributary logic), for looking at what was written. */
const raw = new Map<string, DynamoDBClient>();
const toClose: { close(): void }[] = [];
const toDestroy: DynamoDBClient[] = [];

beforeAll(async () => {
  tablePrefix = `mrsc-sdk-${randomBytes(4).toString('hex')}-`;
  tables = tableNames(tablePrefix);
  stack = await startLocalStack({
    regions: REGIONS,
    edgePort: 0,
    tablePrefix,
    replication: { mode: 'MRSC' },
    dispatcher: false,
  });
  for (const { region, endpoint } of stack.regions) {
    if (!isLoopbackEndpoint(endpoint)) throw new Error(`Refusing a non-loopback endpoint: ${endpoint}`);
    raw.set(region, new DynamoDBClient({ endpoint, region, credentials: CREDENTIALS }));
  }
}, 60_000);

afterAll(async () => {
  for (const c of toClose) c.close();
  for (const c of [...toDestroy, ...raw.values()]) c.destroy();
  await stack?.stop();
});

function endpointOf(region: string): string {
  const found = stack.regions.find((r) => r.region === region);
  if (!found) throw new Error(`No region ${region} in the stack`);
  return found.endpoint;
}

function ddb(region: string): DynamoDBClient {
  return raw.get(region)!;
}

function mrsc() {
  const mode = stack.strongConsistency;
  if (!mode) throw new Error('an MRSC stack has stack.strongConsistency');
  return mode;
}

/** Transactions the regions' edges refused so far: none of the SDK's requests may be one. */
function refusedTransactions(): number {
  return mrsc().stats().refused.transactions;
}

/** The options of a strongly consistent client in `region`. */
function options(
  region: string,
  overrides: Partial<Omit<TributaryOptions, 'transport'>> = {},
): TributaryOptions {
  return {
    endpoint: endpointOf(region),
    region,
    regions: stack.regions,
    consistency: 'strong',
    tablePrefix,
    bucket: stack.bucket,
    credentials: CREDENTIALS,
    retry: { deadlineMs: 15_000 },
    ...overrides,
    transport: 'direct',
  };
}

function client(region: string, overrides: Partial<Omit<TributaryOptions, 'transport'>> = {}): Tributary {
  const tributary = new Tributary(options(region, overrides));
  toClose.push(tributary);
  return tributary;
}

/**
 * A client in `region` whose DynamoDB client of each region is one of ours: it records every
 * request by region (`sent`), and `fault` may make the own region's requests misbehave.
 */
function instrumented(region: string, fault?: FaultRule) {
  const sent = new Map<string, string[]>(REGIONS.map((r) => [r, []]));
  const regions: RegionEndpoint[] = stack.regions.map(({ region: name, endpoint }) => {
    const dynamoDBClient = new DynamoDBClient({
      endpoint,
      region: name,
      credentials: CREDENTIALS,
      maxAttempts: 1,
    });
    toDestroy.push(dynamoDBClient);
    injectFaults(dynamoDBClient, (request) => {
      sent.get(name)!.push(request.command);
      return name === region ? fault?.(request) : undefined;
    });
    return { region: name, endpoint, dynamoDBClient };
  });
  const transport = new DirectTransport(options(region, { regions }));
  toClose.push(transport);
  return { tributary: client(region, { regions }), transport, sent };
}

/** Every message of one partition from the start, read by a consumer of `tributary`. */
async function readPartition(tributary: Tributary, topic: string, partition: number, count: number) {
  const consumer = tributary.consumer();
  try {
    await consumer.assign([{ topic, partition, offset: 'earliest' }]);
    const messages = await readAll(consumer, count);
    return messages.map((m) => ({ offset: m.offset, value: String(m.value) }));
  } finally {
    consumer.close();
  }
}

/** Every item of a partition's batch key space (epoch 0), read strongly consistently. */
async function batchItems(topic: string, incarnation: string, partition: number) {
  const out = await ddb(HOME).send(
    new QueryCommand({
      TableName: tables.log,
      KeyConditionExpression: 'pk = :pk AND #off >= :zero',
      ExpressionAttributeNames: { '#off': LogAttr.offset },
      ExpressionAttributeValues: {
        ':pk': { S: partitionKey({ topic, incarnation, partition }) },
        ':zero': { N: '0' },
      },
      ConsistentRead: true,
    }),
  );
  return out.Items ?? [];
}

/** The committed offset of each partition of `topic` in the group. */
async function committed(tributary: Tributary, group: string, topic: string) {
  const { partitions } = await tributary.admin().describeGroup(group);
  return Object.fromEntries(
    partitions.filter((p) => p.topic === topic).map((p) => [p.partition, p.committedOffset]),
  );
}

/** Another member takes the lease over, as after a session timeout: new owner, next epoch. */
async function takeOver(group: string, topic: string, partition: number): Promise<void> {
  await ddb(OREGON).send(
    new UpdateItemCommand({
      TableName: tables.groups,
      Key: { [GroupAttr.group]: { S: group }, [GroupAttr.key]: { S: leaseItemKey(topic, partition) } },
      UpdateExpression: 'SET #o = :thief, #ep = #ep + :one',
      ExpressionAttributeNames: { '#o': GroupAttr.owner, '#ep': GroupAttr.epoch },
      ExpressionAttributeValues: { ':thief': { S: 'thief' }, ':one': { N: '1' } },
    }),
  );
}

/** What a failed call threw (fails the test when it succeeded). */
async function failure(call: Promise<unknown>): Promise<Error> {
  const outcome = await call.then(
    () => undefined,
    (error: unknown) => error as Error,
  );
  if (!outcome) throw new Error('the call succeeded');
  return outcome;
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

describe('appends on MRSC', () => {
  it('takes appends to one partition from producers in all three regions exactly once and densely, each in its own region', async () => {
    const topic = uniqueTopic('contended');
    // home.region routes nothing on MRSC: the producers below append where they are.
    await client(HOME)
      .admin()
      .createTopic({ topic, partitions: 1, configs: { 'home.region': OREGON } });
    let requests = 0;
    // Every 7th batch write of each region lands but loses its response: the retry must find its
    // own batch instead of appending it again.
    const writers = REGIONS.map((region) =>
      instrumented(region, ({ command, input }) =>
        command === 'PutItemCommand' && input.TableName === tables.log && ++requests % 7 === 0
          ? 'drop-response'
          : undefined,
      ),
    );
    const refusedBefore = refusedTransactions();
    const noQuorumBefore = mrsc().stats().refused.noQuorum;
    // Oregon starts cut off: its writes find no quorum until it is reconnected, and then go through.
    mrsc().pause(OREGON);
    const acks: { value: string; offset: number; region: string }[] = [];
    const producing = writers.flatMap(({ tributary }, r) =>
      [0, 1].map(async (n) => {
        const producer = tributary.producer({ lingerMs: 0 });
        try {
          const sends = range(0, 20).map(async (s) => {
            const values = range(0, 1 + ((s + n + r) % 4)).map((i) => `${REGIONS[r]}/${n}/${s}/${i}`);
            const metadata = await producer.send({
              topic,
              messages: values.map((value) => ({ value, partition: 0 })),
            });
            metadata.forEach((m, i) => {
              acks.push({ value: values[i]!, offset: m.offset, region: REGIONS[r]! });
            });
          });
          await Promise.all(sends);
        } finally {
          await producer.close();
        }
      }),
    );
    try {
      await until(() => mrsc().stats().refused.noQuorum > noQuorumBefore, {
        timeoutMs: 10_000,
        message: 'a write refused in the cut-off region',
      });
    } finally {
      mrsc().resume(OREGON);
    }
    await Promise.all(producing);

    // The checker: every acknowledgement is in the log once, at its offset; the log is dense and
    // holds nothing else; every region reads the same log.
    const total = acks.length;
    expect(total).toBe(2 * 3 * range(0, 20).reduce((n, s) => n + 1 + (s % 4), 0));
    expect(new Set(acks.map((a) => a.offset)).size).toBe(total);
    const logs = await Promise.all(REGIONS.map((region) => readPartition(client(region), topic, 0, total)));
    const [log] = logs as [{ offset: number; value: string }[]];
    expect(log.map((m) => m.offset)).toEqual(range(0, total));
    for (const other of logs) expect(other).toEqual(log);
    const atOffset = new Map(log.map((m) => [m.offset, m.value]));
    for (const ack of acks) expect(atOffset.get(ack.offset), `${ack.value} at ${ack.offset}`).toBe(ack.value);
    expect(log.map((m) => m.value).sort()).toEqual(acks.map((a) => a.value).sort());

    // Each region appended through its own region's tables, never another's.
    const { incarnation } = await client(HOME).admin().describeTopic(topic);
    const stamps = new Set(
      (await batchItems(topic, incarnation, 0)).map((item) => item[LogAttr.writerRegion]?.S),
    );
    expect(stamps).toEqual(new Set(REGIONS));
    for (const [r, { sent }] of writers.entries()) {
      for (const region of REGIONS) {
        if (region === REGIONS[r])
          expect(sent.get(region)!.filter((c) => c === 'PutItemCommand').length).toBeGreaterThan(0);
        else expect(sent.get(region), `${REGIONS[r]}'s client in ${region}`).toEqual([]);
      }
    }
    expect(requests).toBeGreaterThanOrEqual(7);
    expect(refusedTransactions()).toBe(refusedBefore);
  });
});

describe('what MRSC cannot do', () => {
  it('refuses atomic appends and group transactions with UnsupportedOperationError, writing nothing', async () => {
    const tributary = client(OHIO);
    const admin = tributary.admin();
    const source = uniqueTopic('tx-in');
    const sink = uniqueTopic('tx-out');
    await admin.createTopic({ topic: source, partitions: 1 });
    await admin.createTopic({ topic: sink, partitions: 1 });
    const refusedBefore = refusedTransactions();
    const producer = tributary.producer({ lingerMs: 0 });

    const atomic = await failure(
      producer.sendAtomically([
        { topic: source, messages: [{ value: 'a' }] },
        { topic: sink, messages: [{ value: 'b' }] },
      ]),
    );
    expect(atomic).toBeInstanceOf(UnsupportedOperationError);
    expect(atomic).toMatchObject({ code: 'UNSUPPORTED_OPERATION', retriable: false });
    expect(atomic.message).toMatch(/sendAtomically\(\).*multi-Region strong consistency \(MRSC/);
    expect((await admin.partitionOffsets(source, 0)).highWatermark).toBe(0);
    expect((await admin.partitionOffsets(sink, 0)).highWatermark).toBe(0);

    await producer.send({ topic: source, messages: [{ value: 'in-0' }, { value: 'in-1' }] });
    const group = uniqueTopic('g-tx');
    const consumer = tributary.consumer({
      groupId: group,
      heartbeatIntervalMs: 150,
      sessionTimeoutMs: 1_500,
      maxIdleIntervalMs: 100,
      autoCommit: false,
      onError: () => undefined,
    });
    try {
      await consumer.subscribe({ topics: [source], fromBeginning: true });
      await consumer.run({ eachMessage: async () => undefined });
      await until(() => consumer.assignment().length === 1, { message: 'the partition assigned' });
      const transaction = await failure(
        consumer.transaction({
          offsets: [{ topic: source, partition: 0, offset: 2 }],
          send: [{ topic: sink, messages: [{ value: 'out' }] }],
        }),
      );
      expect(transaction).toBeInstanceOf(UnsupportedOperationError);
      expect(transaction.message).toMatch(/consumer\.transaction\(\) of group .*MRSC/);
      expect(await committed(tributary, group, source)).toEqual({ 0: undefined });
      expect((await admin.partitionOffsets(sink, 0)).highWatermark).toBe(0);
    } finally {
      await consumer.disconnect();
      await producer.close();
    }
    // Refused by the SDK: no transaction reached any region.
    expect(refusedTransactions()).toBe(refusedBefore);
  });
});

describe('groups on MRSC', () => {
  it('commits several partitions without a transaction: fences checked first, a lease lost in between reported with what was written', async () => {
    const topic = uniqueTopic('commits');
    const group = uniqueTopic('g-commits');
    let hook: (() => Promise<void>) | undefined;
    const { tributary, transport } = instrumented(OHIO, ({ command, input }) => {
      const key = input.Key as Record<string, { S?: string }> | undefined;
      if (
        hook &&
        command === 'UpdateItemCommand' &&
        input.TableName === tables.groups &&
        key?.[GroupAttr.key]?.S === leaseItemKey(topic, 1) &&
        String(input.ConditionExpression).includes(':me')
      ) {
        const before = hook;
        hook = undefined;
        return { before };
      }
      return undefined;
    });
    await tributary.admin().createTopic({ topic, partitions: 3 });
    const producer = tributary.producer({ lingerMs: 0 });
    for (const partition of [0, 1, 2]) {
      await producer.send({
        topic,
        messages: range(0, 10).map((i) => ({ value: `${partition}-${i}`, partition })),
      });
    }
    await producer.close();
    // The HTTP API's group membership: its commits are the ones that name several partitions.
    const sessions = new GroupSessions(transport.ctx, transport.topics, { key: randomBytes(32) });
    let member: Membership = await sessions.join(group, { topics: [topic] });
    await until(
      async () => {
        member = await sessions.heartbeat(group, member.memberId, member.session);
        return member.assignment.filter((l) => l.state === 'owned').length === 3;
      },
      { message: 'the member owning all three partitions' },
    );
    const epoch = (partition: number) => member.assignment.find((l) => l.partition === partition)!.epoch;
    const commit = (offsets: Record<number, number>) =>
      sessions.commit(
        group,
        member.memberId,
        member.session,
        Object.entries(offsets).map(([p, offset]) => ({
          topic,
          partition: Number(p),
          offset,
          epoch: epoch(Number(p)),
        })),
      );
    const refusedBefore = refusedTransactions();

    await commit({ 0: 4, 1: 5, 2: 6 });
    expect(await committed(tributary, group, topic)).toEqual({ 0: 4, 1: 5, 2: 6 });

    // A lease already lost when the fences are read: nothing at all is written.
    await takeOver(group, topic, 2);
    const before = await failure(commit({ 0: 7, 1: 7, 2: 7 }));
    expect(before).toBeInstanceOf(LeaseLostError);
    expect(before).toMatchObject({ topic, partition: 2, committed: undefined });
    expect(await committed(tributary, group, topic)).toEqual({ 0: 4, 1: 5, 2: 6 });

    // A lease lost after the fences were read, just before its own write: the others are written,
    // and the error (also as the API answers it) says which.
    hook = () => takeOver(group, topic, 1);
    const midway = await failure(commit({ 0: 8, 1: 8 }));
    expect(hook).toBeUndefined();
    expect(midway).toBeInstanceOf(LeaseLostError);
    expect(midway).toMatchObject({ topic, partition: 1, committed: [{ topic, partition: 0, offset: 8 }] });
    expect(midway.message).toMatch(/already written .*\[0\]=8/);
    expect(errorToResponse(midway as LeaseLostError).body.error.details).toMatchObject({
      committed: [{ topic, partition: 0, offset: 8 }],
    });
    expect(await committed(tributary, group, topic)).toEqual({ 0: 8, 1: 5, 2: 6 });
    expect(refusedTransactions()).toBe(refusedBefore);
  });

  it('consumes as a group in one region, and the group moved to another resumes at the same offsets', async () => {
    const topic = uniqueTopic('moved');
    const group = uniqueTopic('g-moved');
    const ohio = client(OHIO);
    await ohio.admin().createTopic({ topic, partitions: 3 });
    const producer = ohio.producer({ lingerMs: 0 });
    for (const partition of [0, 1, 2]) {
      await producer.send({
        topic,
        messages: range(0, 12).map((i) => ({ value: `${partition}-${i}`, partition })),
      });
    }
    await producer.close();

    const member = (tributary: Tributary, seen: ConsumedMessage<Buffer | null>[], stopAfter?: number) => {
      const consumer = tributary.consumer({
        groupId: group,
        heartbeatIntervalMs: 150,
        sessionTimeoutMs: 1_500,
        maxIdleIntervalMs: 100,
        autoCommitIntervalMs: 100,
        onError: () => undefined,
      });
      let stopping: Promise<void> | undefined;
      return {
        consumer,
        stopped: () => stopping,
        async start() {
          await consumer.subscribe({ topics: [topic], fromBeginning: true });
          await consumer.run({
            eachMessage: async (message) => {
              seen.push(message);
              // Stops between two messages: what was processed is committed on the way out.
              if (stopAfter !== undefined && seen.length >= stopAfter) stopping ??= consumer.disconnect();
            },
          });
        },
      };
    };
    const first: ConsumedMessage<Buffer | null>[] = [];
    const inOhio = member(ohio, first, 20);
    await inOhio.start();
    await until(() => inOhio.stopped() !== undefined, { message: 'the first 20 messages in Ohio' });
    await inOhio.stopped();
    const stored = await committed(ohio, group, topic);
    const seenIn = (messages: ConsumedMessage<Buffer | null>[], partition: number) =>
      messages.filter((m) => m.partition === partition).map((m) => m.offset);
    for (const partition of [0, 1, 2]) {
      // Exactly what was processed is committed.
      expect(stored[partition] ?? 0, `partition ${partition}`).toBe(seenIn(first, partition).length);
      expect(seenIn(first, partition)).toEqual(range(0, stored[partition] ?? 0));
    }

    const oregon = client(OREGON);
    const second: ConsumedMessage<Buffer | null>[] = [];
    const inOregon = member(oregon, second);
    await inOregon.start();
    await until(() => second.length >= 36 - first.length, { message: 'the rest read in Oregon' });
    await inOregon.consumer.disconnect();
    for (const partition of [0, 1, 2]) {
      expect(seenIn(second, partition), `partition ${partition}`).toEqual(range(stored[partition] ?? 0, 12));
    }
    expect(await committed(oregon, group, topic)).toEqual({ 0: 12, 1: 12, 2: 12 });
  });

  it('resets offsets without a transaction, and a reset stopped part-way says which partitions it set', async () => {
    const topic = uniqueTopic('reset');
    const group = uniqueTopic('g-reset');
    let crash = false;
    const { tributary } = instrumented(OHIO, ({ command, input }) => {
      const key = input.Key as Record<string, { S?: string }> | undefined;
      if (crash && command === 'UpdateItemCommand' && key?.[GroupAttr.key]?.S === leaseItemKey(topic, 1)) {
        crash = false;
        return { error: new Error('injected: the write of partition 1 failed') };
      }
      return undefined;
    });
    const admin = tributary.admin();
    await admin.createTopic({ topic, partitions: 3 });
    const producer = tributary.producer({ lingerMs: 0 });
    for (const partition of [0, 1, 2]) {
      await producer.send({ topic, messages: range(0, 5).map((i) => ({ value: `${i}`, partition })) });
    }
    await producer.close();
    const refusedBefore = refusedTransactions();
    // A group that consumed nothing yet: reset it to the latest offsets (all of them at once).
    const consumer = tributary.consumer({
      groupId: group,
      heartbeatIntervalMs: 150,
      onError: () => undefined,
    });
    await consumer.subscribe({ topics: [topic] });
    await consumer.run({ eachMessage: async () => undefined });
    await until(() => consumer.assignment().length === 3, { message: 'the partitions assigned' });
    await consumer.disconnect();

    expect(await admin.resetGroupOffsets(group, topic, 'latest')).toEqual([
      { partition: 0, offset: 5 },
      { partition: 1, offset: 5 },
      { partition: 2, offset: 5 },
    ]);
    expect(await committed(tributary, group, topic)).toEqual({ 0: 5, 1: 5, 2: 5 });

    crash = true;
    const partial = await failure(admin.resetGroupOffsets(group, topic, { offset: 2 }));
    expect(partial).toBeInstanceOf(PartiallyResetError);
    expect(partial).toMatchObject({
      code: 'PARTIALLY_RESET',
      retriable: true,
      groupId: group,
      reset: [
        { topic, partition: 0, offset: 2 },
        { topic, partition: 2, offset: 2 },
      ],
      notReset: [{ topic, partition: 1, offset: 2 }],
    });
    expect(await committed(tributary, group, topic)).toEqual({ 0: 2, 1: 5, 2: 2 });
    // Repeating the reset finishes it.
    await admin.resetGroupOffsets(group, topic, { offset: 2 });
    expect(await committed(tributary, group, topic)).toEqual({ 0: 2, 1: 2, 2: 2 });
    expect(refusedTransactions()).toBe(refusedBefore);
  });
});

describe('topics on MRSC', () => {
  it('deletes a topic without a transaction, and a delete stopped between its two writes leaves the topic whole', async () => {
    let crash: string | undefined;
    const { tributary } = instrumented(OHIO, ({ command, input }) => {
      const key = input.Key as Record<string, { S?: string }> | undefined;
      if (
        crash &&
        command === 'DeleteItemCommand' &&
        input.TableName === tables.topics &&
        key?.[TopicAttr.name]?.S === crash
      ) {
        crash = undefined;
        return { error: new Error('injected: the process stopped here') };
      }
      return undefined;
    });
    const admin = tributary.admin();
    const tombstoneOf = async (topic: string, incarnation: string) =>
      (
        await ddb(HOME).send(
          new GetItemCommand({
            TableName: tables.topics,
            Key: { [TopicAttr.name]: { S: tombstoneKey(topic, incarnation) } },
            ConsistentRead: true,
          }),
        )
      ).Item;
    const produce = async (topic: string) => {
      const producer = tributary.producer({ lingerMs: 0 });
      await producer.send({ topic, messages: range(0, 5).map((i) => ({ value: `v${i}` })) });
      await producer.close();
    };
    const refusedBefore = refusedTransactions();

    const topic = uniqueTopic('deleted');
    await admin.createTopic({ topic, partitions: 1 });
    await produce(topic);
    const { incarnation } = await admin.describeTopic(topic);
    await admin.deleteTopic(topic);
    expect(await failure(admin.describeTopic(topic))).toBeInstanceOf(TopicNotFoundError);
    expect(await batchItems(topic, incarnation, 0)).toEqual([]);
    expect(await tombstoneOf(topic, incarnation)).toBeUndefined();
    // Created again, it starts empty.
    await admin.createTopic({ topic, partitions: 1 });
    expect((await admin.partitionOffsets(topic, 0)).highWatermark).toBe(0);

    const kept = uniqueTopic('kept');
    await admin.createTopic({ topic: kept, partitions: 1 });
    await produce(kept);
    const before = await admin.describeTopic(kept);
    crash = kept;
    expect((await failure(admin.deleteTopic(kept))).message).toMatch(/injected/);
    // The tombstone is written, the topic item is not deleted: the topic is whole and readable,
    // and a purge (the archiver's) leaves it alone.
    expect(await tombstoneOf(kept, before.incarnation)).toBeDefined();
    expect((await admin.describeTopic(kept)).incarnation).toBe(before.incarnation);
    expect((await tributary.archiver().run()).purgesFinished).toBe(0);
    expect(await readPartition(tributary, kept, 0, 5)).toEqual(
      range(0, 5).map((i) => ({ offset: i, value: `v${i}` })),
    );
    // Deleting it again finishes.
    await admin.deleteTopic(kept);
    expect(await failure(admin.describeTopic(kept))).toBeInstanceOf(TopicNotFoundError);
    expect(await batchItems(kept, before.incarnation, 0)).toEqual([]);
    expect(await tombstoneOf(kept, before.incarnation)).toBeUndefined();
    expect(refusedTransactions()).toBe(refusedBefore);
  });

  it('archives with the stubs deleted by the archiver itself once they expire: the tables have no TTL', async () => {
    const { TimeToLiveDescription } = await ddb(OHIO).send(
      new DescribeTimeToLiveCommand({ TableName: tables.log }),
    );
    expect(TimeToLiveDescription?.TimeToLiveStatus).toBe('DISABLED');
    const tributary = client(OHIO);
    const admin = tributary.admin();
    const topic = uniqueTopic('stubs');
    // Small segments archived at once: a few KB make several. Closed by size only (not by time
    // within the days the clock moves below), so only the stubs' expiry can make a visit due.
    await admin.createTopic({
      topic,
      partitions: 1,
      configs: { 'segment.bytes': 4096, 'local.retention.ms': 0, 'segment.ms': 5 * DAY_MS },
    });
    const producer = tributary.producer({ lingerMs: 0, compression: 'none' });
    for (let i = 0; i < 60; i += 5) {
      await producer.send({
        topic,
        messages: range(i, i + 5).map((n) => ({ value: `value-${n}-${'x'.repeat(150)}` })),
      });
    }
    await producer.close();
    const { incarnation } = await admin.describeTopic(topic);
    const stubs = async () =>
      (await batchItems(topic, incarnation, 0)).filter((i) => i[LogAttr.archived]?.N === '1');
    const transport = new DirectTransport(options(OHIO));
    toClose.push(transport);
    // One archiver's settings at three moments; nothing but the stubs' expiry is due within days.
    const archiverAt = (shiftMs: number) =>
      new Archiver({ ...transport.ctx, now: () => Date.now() + shiftMs }, transport.registry, {
        orphanGraceMs: 10 * DAY_MS,
      });

    const archived = await archiverAt(0).run({ topics: [topic] });
    expect(archived.segmentsArchived).toBeGreaterThan(0);
    expect(archived.stubsDeleted).toBe(0);
    const written = await stubs();
    expect(written.length).toBeGreaterThan(0);
    const nowSeconds = Date.now() / 1000;
    for (const stub of written) {
      // The expiry TTL would go by, a day out.
      expect(Number(stub[LogAttr.expiresAt]?.N)).toBeGreaterThan(nowSeconds + 86_000);
    }

    // Before the expiry: nothing is due, the run does not even visit the partition.
    const early = await archiverAt(DAY_MS - 120_000).run({ topics: [topic] });
    expect(early.partitions).toEqual([]);
    expect(await stubs()).toHaveLength(written.length);

    // After it: the schedule makes the partition due, and the archiver deletes every stub itself.
    const late = await archiverAt(DAY_MS + 120_000).run({ topics: [topic] });
    expect(late.stubsDeleted).toBe(written.length);
    expect(late.partitions.map((p) => p.stubsDeleted)).toEqual([written.length]);
    expect(await stubs()).toEqual([]);
    // The records are all read from S3, as before.
    const log = await readPartition(tributary, topic, 0, 60);
    expect(log.map((m) => m.offset)).toEqual(range(0, 60));
    expect((await admin.partitionOffsets(topic, 0)).logStartOffset).toBe(0);
  });
});

describe('bad input', () => {
  it('refuses MRSC with a wrong region set, or with policies only MREC has, before sending anything', () => {
    const sent: string[] = [];
    const own = new DynamoDBClient({ endpoint: endpointOf(HOME), region: HOME, credentials: CREDENTIALS });
    toDestroy.push(own);
    injectFaults(own, ({ command }) => {
      sent.push(command);
      return undefined;
    });
    const entries = stack.regions.map(({ region, endpoint }) => ({ region, endpoint }));
    const attempt = (overrides: Partial<Omit<TributaryOptions, 'transport'>>) => () =>
      new Tributary(options(HOME, { dynamoDBClient: own, ...overrides }));
    const refusal = (overrides: Partial<Omit<TributaryOptions, 'transport'>>) => {
      try {
        attempt(overrides)().close();
      } catch (error) {
        return error as InvalidArgumentError;
      }
      throw new Error('the client was created');
    };

    const two = refusal({ regions: entries.slice(0, 2) });
    expect(two).toBeInstanceOf(InvalidArgumentError);
    expect(two).toMatchObject({ code: 'INVALID_ARGUMENT', retriable: false });
    expect(two.message).toMatch(/exactly three replica regions/);
    expect(
      refusal({ regions: [...entries.slice(0, 2), { region: 'eu-west-1', endpoint: endpointOf(OREGON) }] })
        .message,
    ).toMatch(/eu-west-1 not in the US region set/);
    expect(
      refusal({ regions: [...entries, { region: 'us-west-1', endpoint: endpointOf(OREGON) }] }),
    ).toBeInstanceOf(InvalidArgumentError);
    expect(refusal({ appends: 'refuse' }).message).toMatch(
      /appends: 'refuse' applies to eventually consistent/,
    );
    expect(refusal({ readFrom: 'home' })).toBeInstanceOf(InvalidArgumentError);

    // The same through the environment, as the stack's functions are configured.
    const saved = [process.env[REGIONS_ENVIRONMENT_VARIABLE], process.env[CONSISTENCY_ENVIRONMENT_VARIABLE]];
    try {
      process.env[CONSISTENCY_ENVIRONMENT_VARIABLE] = 'strong';
      process.env[REGIONS_ENVIRONMENT_VARIABLE] = `${HOME},${OHIO}`;
      const fromEnvironment = () =>
        new DirectTransport({
          endpoint: endpointOf(HOME),
          region: HOME,
          dynamoDBClient: own,
          tablePrefix,
          bucket: stack.bucket,
          credentials: CREDENTIALS,
        });
      expect(fromEnvironment).toThrow(InvalidArgumentError);
      process.env[REGIONS_ENVIRONMENT_VARIABLE] = REGIONS.join(',');
      const configured = fromEnvironment();
      expect(configured.regions?.consistency).toBe('strong');
      configured.close();
      process.env[CONSISTENCY_ENVIRONMENT_VARIABLE] = 'mrsc';
      expect(fromEnvironment).toThrow(/TRIBUTARY_CONSISTENCY must be 'eventual' or 'strong'/);
    } finally {
      restore(REGIONS_ENVIRONMENT_VARIABLE, saved[0]);
      restore(CONSISTENCY_ENVIRONMENT_VARIABLE, saved[1]);
    }
    // Refused while the options were read: not one request went out.
    expect(sent).toEqual([]);
  });
});

function restore(name: string, value: string | undefined): void {
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
}
