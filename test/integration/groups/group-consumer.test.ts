/** Consumer groups on DynamoDB leases, against DynamoDB Local. */
import { afterAll, describe, expect, it } from 'vitest';
import {
  type ConsumedMessage,
  type GroupConsumer,
  InvalidArgumentError,
  InvalidGroupIdError,
  LeaseLostError,
  NoCommittedOffsetError,
  OffsetOutOfRangeError,
  type Tributary,
} from '../../../sdk/src/index.ts';
import { injectFaults } from '../../helpers/faults.ts';
import { TRANSPORTS, testClient, testDynamoDB, uniqueTopic } from '../../helpers/tributary.ts';
import { until } from '../../helpers/wait.ts';

const HEARTBEAT_MS = 150;
const SESSION_MS = 900;

const tributary = testClient();
const admin = tributary.admin();
afterAll(() => tributary.close());

interface Member {
  consumer: GroupConsumer<Buffer | null>;
  seen: ConsumedMessage<Buffer | null>[];
}

async function startMember(
  client: Tributary,
  groupId: string,
  topics: string[],
  extra: { instanceId?: string; autoCommit?: boolean } = {},
): Promise<Member> {
  const seen: ConsumedMessage<Buffer | null>[] = [];
  const consumer = client.consumer({
    groupId,
    heartbeatIntervalMs: HEARTBEAT_MS,
    sessionTimeoutMs: SESSION_MS,
    autoCommitIntervalMs: 100,
    maxIdleIntervalMs: 100,
    onError: () => undefined,
    ...extra,
  });
  await consumer.subscribe({ topics, fromBeginning: true });
  await consumer.run({
    eachMessage: async (message) => {
      seen.push(message);
    },
  });
  return { consumer, seen };
}

function counts(members: Member[]): number[] {
  return members.map((m) => m.consumer.assignment().length);
}

function balanced(members: Member[], total: number): boolean {
  const c = counts(members);
  const fair = total / members.length;
  return c.reduce((a, b) => a + b, 0) === total && c.every((n) => Math.abs(n - fair) < 1);
}

// The same group behaviour over both transports: leases in DynamoDB directly, or through the HTTP API.
describe.each(TRANSPORTS)('consumer groups (%s transport)', (transport) => {
  const tributary = testClient({ transport });
  const admin = tributary.admin();
  afterAll(() => tributary.close());

  it('balances 12 partitions over 3 members, rebalances when a 4th joins and when one crashes', async () => {
    const topic = uniqueTopic('grp');
    const group = uniqueTopic('g');
    await admin.createTopic({ topic, partitions: 12 });
    const members = [
      await startMember(tributary, group, [topic]),
      await startMember(tributary, group, [topic]),
      await startMember(tributary, group, [topic]),
    ];
    await until(() => balanced(members, 12), { timeoutMs: 10_000, message: 'balance over 3 members' });
    expect(counts(members)).toEqual([4, 4, 4]);

    const fourth = await startMember(tributary, group, [topic]);
    members.push(fourth);
    await until(() => balanced(members, 12), { timeoutMs: 10_000, message: 'balance over 4 members' });
    expect(counts(members).sort()).toEqual([3, 3, 3, 3]);

    // A crash: the member stops heartbeating without leaving.
    const crashed = members.shift()!;
    const orphaned = crashed.consumer.assignment().length;
    expect(orphaned).toBe(3);
    await crashed.consumer.abandon();
    await until(() => members.reduce((n, m) => n + m.consumer.assignment().length, 0) === 12, {
      timeoutMs: 10_000,
      message: 'every partition owned again',
    });
    expect(counts(members).sort()).toEqual([4, 4, 4]);

    // A graceful leave hands partitions over at once, without waiting for the session timeout.
    const leaving = members.pop()!;
    const leavingId = leaving.consumer.memberId;
    await leaving.consumer.disconnect();
    // Released as it left (not left to expire): no lease names it once disconnect() resolved.
    const afterLeave = await admin.describeGroup(group);
    expect(afterLeave.partitions.filter((p) => p.owner === leavingId)).toEqual([]);
    expect(afterLeave.members.map((m) => m.memberId)).not.toContain(leavingId);
    await until(() => members.reduce((n, m) => n + m.consumer.assignment().length, 0) === 12, {
      timeoutMs: 10_000,
    });
    await Promise.all(members.map((m) => m.consumer.disconnect()));
  });

  it('processes every record at least once across rebalances and commits only forward', async () => {
    const topic = uniqueTopic('alo');
    const group = uniqueTopic('g');
    await admin.createTopic({ topic, partitions: 4 });
    const producer = tributary.producer();
    const sent: string[] = [];
    for (let i = 0; i < 200; i++) sent.push(`r${i}`);
    await producer.send({
      topic,
      messages: sent.slice(0, 100).map((value, i) => ({ value, key: `k${i % 16}` })),
    });
    const a = await startMember(tributary, group, [topic]);
    const b = await startMember(tributary, group, [topic]);
    await producer.send({
      topic,
      messages: sent.slice(100).map((value, i) => ({ value, key: `k${i % 16}` })),
    });
    await producer.close();
    const all = () => new Set([...a.seen, ...b.seen].map((m) => m.value!.toString()));
    await until(() => all().size === 200, { timeoutMs: 15_000, message: 'all records processed' });
    await a.consumer.disconnect();
    await b.consumer.disconnect();
    const described = await admin.describeGroup(group);
    expect(described.partitions.map((p) => p.committedOffset)).toEqual(
      described.partitions.map((p) => p.highWatermark),
    );
    expect(described.partitions.every((p) => p.lag === 0)).toBe(true);
    // A restarted member resumes from the committed offsets: nothing is processed again.
    const c = await startMember(tributary, group, [topic]);
    await until(() => c.consumer.assignment().length === 4, { timeoutMs: 10_000 });
    expect(c.seen).toEqual([]);
    await c.consumer.disconnect();
  });

  it('gives a static member its partitions back after a restart without moving the others', async () => {
    const topic = uniqueTopic('static');
    const group = uniqueTopic('g');
    await admin.createTopic({ topic, partitions: 6 });
    const a = await startMember(tributary, group, [topic], { instanceId: 'host-a' });
    const b = await startMember(tributary, group, [topic], { instanceId: 'host-b' });
    await until(() => balanced([a, b], 6), { timeoutMs: 10_000 });
    const before = new Map(
      [...a.consumer.assignment(), ...b.consumer.assignment()].map((tp) => [tp.partition, '']),
    );
    const aPartitions = a.consumer
      .assignment()
      .map((tp) => tp.partition)
      .sort();
    const bPartitions = b.consumer
      .assignment()
      .map((tp) => tp.partition)
      .sort();
    expect(before.size).toBe(6);
    await a.consumer.abandon();
    const restarted = await startMember(tributary, group, [topic], { instanceId: 'host-a' });
    await until(() => restarted.consumer.assignment().length === 3, { timeoutMs: 10_000 });
    expect(
      restarted.consumer
        .assignment()
        .map((tp) => tp.partition)
        .sort(),
    ).toEqual(aPartitions);
    expect(
      b.consumer
        .assignment()
        .map((tp) => tp.partition)
        .sort(),
    ).toEqual(bPartitions);
    await restarted.consumer.disconnect();
    await b.consumer.disconnect();
  });

  it('picks up partitions added to a subscribed topic', async () => {
    const topic = uniqueTopic('grow');
    const group = uniqueTopic('g');
    await admin.createTopic({ topic, partitions: 2 });
    const client = testClient({ transport, metadataMaxAgeMs: 200 });
    const m = await startMember(client, group, [topic]);
    await until(() => m.consumer.assignment().length === 2, { timeoutMs: 10_000 });
    await admin.createPartitions(topic, 4);
    await until(() => m.consumer.assignment().length === 4, {
      timeoutMs: 10_000,
      message: 'new partitions assigned',
    });
    await m.consumer.disconnect();
    client.close();
  });

  it("holds a partition without a committed offset when offsetReset is 'error', until the application seeks", async () => {
    const topic = uniqueTopic('noreset');
    const group = uniqueTopic('g');
    await admin.createTopic({ topic, partitions: 1 });
    const producer = tributary.producer();
    await producer.send({ topic, messages: [{ value: 'a' }, { value: 'b' }] });
    await producer.close();
    const errors: unknown[] = [];
    const seen: string[] = [];
    const consumer = tributary.consumer({
      groupId: group,
      offsetReset: 'error',
      heartbeatIntervalMs: HEARTBEAT_MS,
      sessionTimeoutMs: SESSION_MS,
      autoCommitIntervalMs: 50,
      maxIdleIntervalMs: 50,
      onError: (e) => errors.push(e),
    });
    await consumer.subscribe({ topics: [topic] });
    await consumer.run({
      eachMessage: async (m) => {
        seen.push(m.value!.toString());
      },
    });
    await until(() => errors.some((e) => e instanceof NoCommittedOffsetError), { timeoutMs: 10_000 });
    await new Promise((r) => setTimeout(r, 300));
    expect(seen).toEqual([]);
    expect((await admin.describeGroup(group)).partitions[0]?.committedOffset).toBeUndefined();
    await consumer.seek({ topic, partition: 0, offset: 1 });
    await until(() => seen.length === 1, { timeoutMs: 10_000 });
    expect(seen).toEqual(['b']);
    await consumer.disconnect();
    expect((await admin.describeGroup(group)).partitions[0]?.committedOffset).toBe(2);
  });

  it('refuses bad input with typed errors and no state change', async () => {
    const topic = uniqueTopic('badgrp');
    await admin.createTopic({ topic, partitions: 1 });
    expect(() => tributary.consumer({ groupId: '' })).toThrow(InvalidGroupIdError);
    expect(() => tributary.consumer({ groupId: 'has space' })).toThrow(InvalidGroupIdError);
    expect(() =>
      tributary.consumer({ groupId: 'ok', heartbeatIntervalMs: 5000, sessionTimeoutMs: 1000 }),
    ).toThrow(InvalidArgumentError);
    const group = uniqueTopic('g');
    const m = await startMember(tributary, group, [topic]);
    await until(() => m.consumer.assignment().length === 1, { timeoutMs: 10_000 });
    await expect(m.consumer.commit([{ topic, partition: 0, offset: 7 }])).rejects.toBeInstanceOf(
      OffsetOutOfRangeError,
    );
    await expect(m.consumer.commit([{ topic, partition: 0, offset: -1 }])).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
    await expect(
      m.consumer.commit([{ topic: uniqueTopic('other'), partition: 0, offset: 0 }]),
    ).rejects.toBeInstanceOf(LeaseLostError);
    expect((await admin.describeGroup(group)).partitions[0]?.committedOffset).toBeUndefined();
    await m.consumer.disconnect();
  });
});

describe('consumer groups (direct transport, with injected faults)', () => {
  it('fences a zombie: a paused member cannot commit after another took over', async () => {
    const topic = uniqueTopic('zombie');
    const group = uniqueTopic('g');
    await admin.createTopic({ topic, partitions: 1 });
    const producer = tributary.producer();
    await producer.send({ topic, messages: Array.from({ length: 10 }, (_, i) => ({ value: `z${i}` })) });
    // The zombie's heartbeats stall (a long GC pause or a network partition) while it keeps its
    // in-memory state and can still reach DynamoDB for commits.
    const ddb = testDynamoDB();
    const paused = Promise.withResolvers<void>();
    let stalled = false;
    injectFaults(ddb, ({ command, input }) => {
      const key = (input.Key as { k?: { S?: string } } | undefined)?.k?.S ?? '';
      return stalled && command === 'UpdateItemCommand' && key.startsWith('member#')
        ? { before: () => paused.promise }
        : undefined;
    });
    const zombieClient = testClient({ dynamoDBClient: ddb });
    const zombie = await startMember(zombieClient, group, [topic], { autoCommit: false });
    await until(() => zombie.seen.length === 10, { timeoutMs: 10_000 });
    await zombie.consumer.commit([{ topic, partition: 0, offset: 10 }]);
    stalled = true;
    const successor = await startMember(tributary, group, [topic]);
    await until(() => successor.consumer.assignment().length === 1, {
      timeoutMs: 10_000,
      message: 'takeover',
    });
    await producer.send({ topic, messages: [{ value: 'z10' }, { value: 'z11' }] });
    await until(() => successor.seen.length === 2, { timeoutMs: 10_000 });
    await successor.consumer.commit([{ topic, partition: 0, offset: 12 }]);
    await producer.close();
    expect(successor.seen.map((m) => m.value?.toString())).toEqual(['z10', 'z11']);
    // The zombie still believes it owns the partition; its commits are refused by the lease epoch.
    expect(zombie.consumer.assignment()).toEqual([{ topic, partition: 0 }]);
    await expect(zombie.consumer.commit([{ topic, partition: 0, offset: 12 }])).rejects.toBeInstanceOf(
      LeaseLostError,
    );
    await expect(zombie.consumer.commit([{ topic, partition: 0, offset: 11 }])).rejects.toBeInstanceOf(
      LeaseLostError,
    );
    expect((await admin.describeGroup(group)).partitions[0]).toMatchObject({
      committedOffset: 12,
      owner: successor.consumer.memberId,
    });
    // When it wakes up, it notices the loss and stops processing the partition.
    paused.resolve();
    await until(() => zombie.consumer.assignment().length === 0, {
      timeoutMs: 10_000,
      message: 'zombie notices',
    });
    await successor.consumer.disconnect();
    await zombie.consumer.abandon();
    zombieClient.close();
  });
});
