/**
 * What group coordination costs and how it recovers, against DynamoDB Local: an idle member reads
 * the member items each heartbeat and the leases only when something changed, so its read units
 * per heartbeat do not grow with the partitions (direct members and the HTTP API's stateless ones
 * alike); a lost announcement of a hand-off is repaired by the writer's next heartbeat; a lease
 * write made outside the protocol is found by the periodic full read. Bounds are in heartbeats
 * (counted from the requests), never in ms.
 */
import { randomBytes } from 'node:crypto';
import { UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, describe, expect, it } from 'vitest';
import { FULL_READ_EVERY_HEARTBEATS } from '../../../sdk/src/groups/group-view.ts';
import type { GroupConsumer } from '../../../sdk/src/index.ts';
import { GroupSessions, type Membership } from '../../../sdk/src/internal.ts';
import { tableNames } from '../../../sdk/src/schema.ts';
import { injectFaults } from '../../helpers/faults.ts';
import { type GroupRequestKind, type GroupTraffic, traceGroupTraffic } from '../../helpers/group-traffic.ts';
import { testStackConfig } from '../../helpers/stack.ts';
import { testClient, testDirectTransport, testDynamoDB, uniqueTopic } from '../../helpers/tributary.ts';
import { until } from '../../helpers/wait.ts';

const HEARTBEAT_MS = 150;
// Long against the heartbeat: on a loaded machine (the suite runs files side by side, some with
// child processes) a heartbeat can be late by a second, and a member judged gone would make the
// others read the leases — the very reads this file counts.
const SESSION_MS = 4_000;
const GROUPS_TABLE = tableNames(testStackConfig().tablePrefix).groups;

const admin = testClient();
afterAll(() => admin.close());

interface Member {
  readonly consumer: GroupConsumer<Buffer | null>;
  readonly traffic: GroupTraffic;
  readonly close: () => void;
}

/** A direct member with its own DynamoDB client, traced (and optionally faulted). */
async function startMember(
  group: string,
  topic: string,
  fault?: Parameters<typeof injectFaults>[1],
): Promise<Member> {
  const ddb = testDynamoDB();
  const traffic = traceGroupTraffic(ddb, GROUPS_TABLE);
  if (fault) injectFaults(ddb, fault);
  const client = testClient({ dynamoDBClient: ddb });
  const consumer = client.consumer({
    groupId: group,
    heartbeatIntervalMs: HEARTBEAT_MS,
    sessionTimeoutMs: SESSION_MS,
    onError: () => undefined,
  });
  await consumer.subscribe({ topics: [topic] });
  await consumer.run({ eachMessage: async () => undefined });
  return { consumer, traffic, close: () => client.close() };
}

function settled(members: readonly Member[], partitions: number): boolean {
  const held = members.map((m) => m.consumer.assignment().length);
  const owned = new Set(members.flatMap((m) => m.consumer.assignment().map((tp) => tp.partition)));
  return owned.size === partitions && held.every((n) => Math.abs(n - partitions / members.length) < 1);
}

/** Waits until every member has sent `n` more heartbeats. */
async function ticks(members: readonly Member[], n: number): Promise<void> {
  const from = members.map((m) => m.traffic.ticks());
  await until(() => members.every((m, i) => m.traffic.ticks() >= from[i]! + n), {
    // A deadline only (the figures are counted in heartbeats): generous for a loaded machine.
    timeoutMs: Math.max(30_000, 20 * n * HEARTBEAT_MS),
    message: `${n} heartbeats of every member`,
  });
}

/** Read units per heartbeat of an idle group of two members on `partitions` partitions. */
async function idleReadUnitsPerHeartbeat(partitions: number) {
  const topic = uniqueTopic('cost');
  const group = uniqueTopic('g');
  await admin.admin().createTopic({ topic, partitions });
  const members = [await startMember(group, topic), await startMember(group, topic)];
  await until(() => settled(members, partitions), { timeoutMs: 20_000, message: 'a settled group' });
  // The last moves are announced and re-read once; after that nothing changes.
  await ticks(members, 3);
  // Whole ticks only: the requests of ticks from+1 … from+window, each counted in the tick whose
  // heartbeat it followed (the window's edges cut no tick in two); the tick after the window has
  // begun once every member sent one more heartbeat, so the window's ticks are complete.
  const window = 10;
  const from = members.map((m) => m.traffic.ticks());
  await ticks(members, window + 1);
  const inWindow = members.flatMap((m, i) =>
    m.traffic.requests.filter((r) => r.tick > from[i]! && r.tick <= from[i]! + window),
  );
  const heartbeats = members.length * window;
  const count = (kind: GroupRequestKind) => inWindow.filter((r) => r.kind === kind).length;
  const figures = {
    readUnitsPerHeartbeat: inWindow.reduce((n, r) => n + r.readUnits, 0) / heartbeats,
    memberQueriesPerHeartbeat: count('members-query') / heartbeats,
    leaseReads: count('leases-query') + count('group-query'),
    leaseWrites: count('owner'),
  };
  for (const m of members) await m.consumer.disconnect();
  for (const m of members) m.close();
  return figures;
}

describe('group coordination cost', () => {
  it('reads the same units per heartbeat on 12 and on 160 partitions once idle', async () => {
    const small = await idleReadUnitsPerHeartbeat(12);
    const large = await idleReadUnitsPerHeartbeat(160);
    // One consistent query of two member items per heartbeat (one read unit), nothing else: the
    // 160 lease items (about 15 KB, 4 read units) are not read while nothing changes.
    for (const figures of [small, large]) {
      expect(figures.memberQueriesPerHeartbeat).toBe(1);
      expect(figures.leaseReads).toBe(0);
      expect(figures.leaseWrites).toBe(0);
    }
    expect(large.readUnitsPerHeartbeat).toBe(small.readUnitsPerHeartbeat);
    expect(large.readUnitsPerHeartbeat).toBe(1);
  }, 120_000);

  it("keeps the HTTP API's stateless members as cheap: the view travels in the session", async () => {
    const transport = testDirectTransport({ dynamoDBClient: testDynamoDB() });
    const ddb = transport.ctx.ddb;
    const traffic = traceGroupTraffic(ddb as Parameters<typeof traceGroupTraffic>[0], GROUPS_TABLE);
    const sessions = new GroupSessions(transport.ctx, transport.topics, { key: randomBytes(32) });
    const perPartitions = async (partitions: number) => {
      const topic = uniqueTopic('http-cost');
      const group = uniqueTopic('g');
      await admin.admin().createTopic({ topic, partitions });
      let a: Membership = await sessions.join(group, { topics: [topic], sessionTimeoutMs: 3_000 });
      let b: Membership = await sessions.join(group, { topics: [topic], sessionTimeoutMs: 3_000 });
      const beat = async (m: Membership) => {
        const release = m.assignment.filter((l) => l.state === 'revoking');
        return sessions.heartbeat(group, m.memberId, m.session, release);
      };
      for (let round = 0; round < 20; round++) {
        a = await beat(a);
        b = await beat(b);
        const owned = [...a.assignment, ...b.assignment].filter((l) => l.state === 'owned');
        if (owned.length === partitions && a.assignment.length === partitions / 2) break;
      }
      expect(a.assignment.length + b.assignment.length).toBe(partitions);
      // One more round re-reads after the last hand-offs; then the group is idle.
      a = await beat(a);
      b = await beat(b);
      traffic.reset();
      for (let round = 0; round < 5; round++) {
        a = await beat(a);
        b = await beat(b);
      }
      const figures = {
        readUnits: traffic.readUnits() / 10,
        leaseReads: traffic.count('leases-query') + traffic.count('group-query'),
        assignment: [a.assignment.length, b.assignment.length],
      };
      await sessions.leave(group, a.memberId, a.session);
      await sessions.leave(group, b.memberId, b.session);
      return figures;
    };
    const small = await perPartitions(12);
    const large = await perPartitions(160);
    expect(small).toEqual({ readUnits: 1, leaseReads: 0, assignment: [6, 6] });
    expect(large).toEqual({ readUnits: 1, leaseReads: 0, assignment: [80, 80] });
    transport.close();
  });
});

describe('group coordination recovery', () => {
  it('repairs a lost announcement of a hand-off with the next heartbeat', async () => {
    const topic = uniqueTopic('lost-bump');
    const group = uniqueTopic('g');
    await admin.admin().createTopic({ topic, partitions: 4 });
    // Every announcement `a` makes is lost: acknowledged, never written.
    const a = await startMember(group, topic, ({ command, input }) => {
      const key = (input.Key as { k?: { S?: string } } | undefined)?.k?.S ?? '';
      const update = String(input.UpdateExpression ?? '');
      return command === 'UpdateItemCommand' && key.startsWith('member#') && !update.includes('#hb')
        ? 'drop-request'
        : undefined;
    });
    await until(() => a.consumer.assignment().length === 4, { timeoutMs: 10_000 });
    const b = await startMember(group, topic);
    await until(() => settled([a, b], 4), { timeoutMs: 20_000, message: 'a split after the hand-offs' });
    // `a` handed two leases to `b` and announced it (lost); `b` adopted them.
    const handOffs = a.traffic.requests.filter(
      (r) => r.kind === 'owner' && r.ok && r.to === b.consumer.memberId,
    );
    expect(handOffs).toHaveLength(2);
    expect(a.traffic.count('announce')).toBeGreaterThan(0);
    const adoptions = b.traffic.requests.filter(
      (r) => r.kind === 'owner' && r.ok && r.to === b.consumer.memberId,
    );
    expect(adoptions.map((r) => r.key).sort()).toEqual(handOffs.map((r) => r.key).sort());
    // Within a's next heartbeat and b's tick after it — not at the periodic full read.
    const handedAt = Math.max(...handOffs.map((r) => r.at));
    const bTicksAfterHandOff = Math.max(...adoptions.map((r) => r.tick)) - b.traffic.ticksAt(handedAt);
    expect(bTicksAfterHandOff).toBeLessThanOrEqual(3);
    expect(bTicksAfterHandOff).toBeLessThan(FULL_READ_EVERY_HEARTBEATS);
    await a.consumer.disconnect();
    await b.consumer.disconnect();
    a.close();
    b.close();
  });

  it('finds a lease write made outside the protocol at the periodic full read', async () => {
    const topic = uniqueTopic('safety');
    const group = uniqueTopic('g');
    await admin.admin().createTopic({ topic, partitions: 2 });
    const a = await startMember(group, topic);
    await until(() => a.consumer.assignment().length === 2, { timeoutMs: 10_000 });
    await ticks([a], 2);
    // Free partition 0 behind the member's back: no member announces it.
    const ddb = testDynamoDB();
    const freed = await ddb.send(
      new UpdateItemCommand({
        TableName: GROUPS_TABLE,
        Key: { g: { S: group }, k: { S: `lease#${topic}#0` } },
        UpdateExpression: 'SET ep = ep + :one REMOVE o',
        ExpressionAttributeValues: { ':one': { N: '1' } },
        ReturnValues: 'ALL_NEW',
      }),
    );
    const freedEpoch = Number(freed.Attributes?.ep?.N);
    const freedAt = Date.now();
    const lastRead = Math.max(
      ...a.traffic.requests.filter((r) => r.kind === 'leases-query' && r.at <= freedAt).map((r) => r.tick),
    );
    const retaken = () =>
      a.traffic.requests.find(
        (r) => r.kind === 'owner' && r.ok && r.key === `lease#${topic}#0` && r.at > freedAt,
      );
    await until(() => retaken() !== undefined, {
      // A deadline only: when the lease came back is checked in heartbeats below.
      timeoutMs: 10 * FULL_READ_EVERY_HEARTBEATS * HEARTBEAT_MS,
      message: 'the member to take its freed lease back',
    });
    // The first lease read after the write is the safety net's, 60 heartbeats after the last one.
    const reads = a.traffic.requests.filter((r) => r.kind === 'leases-query' && r.at > freedAt);
    expect(reads[0]!.tick - lastRead).toBe(FULL_READ_EVERY_HEARTBEATS);
    expect(retaken()!.tick).toBe(reads[0]!.tick);
    const described = (await admin.admin().describeGroup(group)).partitions.find((p) => p.partition === 0);
    expect(described).toMatchObject({ owner: a.consumer.memberId, epoch: freedEpoch + 1 });
    ddb.destroy();
    await a.consumer.disconnect();
    a.close();
  }, 180_000);
});
