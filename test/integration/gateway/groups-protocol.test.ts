/**
 * Kafka's classic consumer group protocol through gateways, on the raw protocol: KIP-394's
 * MEMBER_ID_REQUIRED; the refusals of a bad session timeout or group id, which write nothing; a
 * second member's rebalance (JoinGroup held until every member rejoined, a follower's SyncGroup
 * held until the leader's assignment lands); commits fenced on the generation, and each
 * partition's own checks; OffsetFetch in its shapes (one group, every committed partition, groups
 * batched), offsets reset by Tributary's Admin among them; a member whose session expires, one that
 * does not rejoin within the rebalance timeout; leaving, static members fenced by their successor;
 * DescribeGroups (in every state), ListGroups and DeleteGroups; and two gateways coordinating one
 * group, one of them stopped while it holds a JoinGroup.
 *
 * Outcomes are checked on the wire and in storage: Tributary's Admin (`describeGroup`) and the
 * groups table itself. Expected codes are those of Kafka's own coordinator.
 */
import { type AttributeValue, QueryCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from '../../../gateway/index.ts';
import { GroupNotFoundError } from '../../../sdk/src/index.ts';
import { ClassicGroupStore } from '../../../sdk/src/internal.ts';
import { CLASSIC_BEAT_PREFIX, GroupAttr } from '../../../sdk/src/keys.ts';
import { tableNames } from '../../../sdk/src/schema.ts';
import { startTestGateway } from '../../helpers/gateway.ts';
import { batchOf, produceTo } from '../../helpers/kafka-batches.ts';
import { assignment, commitOffsets, GroupMember, subscription } from '../../helpers/kafka-groups.ts';
import { WireClient } from '../../helpers/kafka-wire.ts';
import { testStackConfig } from '../../helpers/stack.ts';
import { testClient, testContext, testDynamoDB, uniqueTopic } from '../../helpers/tributary.ts';
import { until } from '../../helpers/wait.ts';

/** Kafka's codes by name, as the tests read them. */
const E = {
  NONE: 0,
  OFFSET_OUT_OF_RANGE: 1,
  UNKNOWN_TOPIC_OR_PARTITION: 3,
  OFFSET_METADATA_TOO_LARGE: 12,
  ILLEGAL_GENERATION: 22,
  INVALID_GROUP_ID: 24,
  UNKNOWN_MEMBER_ID: 25,
  INVALID_SESSION_TIMEOUT: 26,
  REBALANCE_IN_PROGRESS: 27,
  INVALID_COMMIT_OFFSET_SIZE: 28,
  NON_EMPTY_GROUP: 68,
  GROUP_ID_NOT_FOUND: 69,
  MEMBER_ID_REQUIRED: 79,
  FENCED_INSTANCE_ID: 82,
} as const;

/** Short session timeouts allowed, no initial rebalance delay: tests form groups in milliseconds. */
const GROUP_OPTIONS = { initialRebalanceDelayMs: 0, sessionTimeoutRangeMs: { min: 1_000, max: 60_000 } };

const client = testClient();
const admin = client.admin();
const ddb = testDynamoDB();
const ctx = testContext(ddb);
let gateway: Gateway;
const opened: WireClient[] = [];

beforeAll(async () => {
  gateway = await startTestGateway(GROUP_OPTIONS);
});
afterAll(async () => {
  for (const w of opened) w.close();
  await gateway?.stop();
  client.close();
  ddb.destroy();
  ctx.s3.destroy();
});

async function connect(to: Gateway = gateway): Promise<WireClient> {
  const wire = await WireClient.connect(to.port);
  opened.push(wire);
  return wire;
}

/** Every item of the group in the groups table (consistent read). */
async function groupItems(groupId: string): Promise<Record<string, AttributeValue>[]> {
  const out = await ddb.send(
    new QueryCommand({
      TableName: tableNames(testStackConfig().tablePrefix).groups,
      KeyConditionExpression: '#g = :g',
      ExpressionAttributeNames: { '#g': GroupAttr.group },
      ExpressionAttributeValues: { ':g': { S: groupId } },
      ConsistentRead: true,
    }),
  );
  return out.Items ?? [];
}

/** A member's liveness counter as stored (−1: none). */
async function beatsOf(groupId: string, memberId: string): Promise<number> {
  const { beats } = await new ClassicGroupStore(ctx, groupId).read();
  return beats.get(memberId)?.beats ?? -1;
}

async function describeOnWire(wire: WireClient, groupId: string) {
  const answer = await wire.request('DescribeGroups', 5, {
    groups: [groupId],
    includeAuthorizedOperations: false,
  });
  const group = answer.groups[0];
  if (!group) throw new Error('DescribeGroups answered no group');
  return group;
}

/** OffsetFetch v`version` of one group (v1-7): offset and metadata by `topic#partition`. */
async function fetchOffsets(
  wire: WireClient,
  groupId: string,
  topics: { name: string; partitionIndexes: number[] }[] | null,
  version = 5,
): Promise<Map<string, { offset: bigint; metadata: string | null; errorCode: number }>> {
  const answer = await wire.request('OffsetFetch', version, { groupId, topics, groups: [] });
  if (version >= 2) expect(answer.errorCode).toBe(E.NONE);
  return new Map(
    answer.topics.flatMap((t) =>
      t.partitions.map((p) => [
        `${t.name}#${p.partitionIndex}`,
        { offset: p.committedOffset, metadata: p.metadata, errorCode: p.errorCode },
      ]),
    ),
  );
}

/** Committed offsets of the group by `topic#partition`, as Tributary's Admin describes them. */
async function describedOffsets(groupId: string): Promise<Map<string, number | undefined>> {
  const described = await admin.describeGroup(groupId);
  return new Map(described.partitions.map((p) => [`${p.topic}#${p.partition}`, p.committedOffset]));
}

/** A topic of `counts.length` partitions holding counts[p] records in partition p. */
async function topicWith(counts: readonly number[], wire: WireClient): Promise<string> {
  const topic = uniqueTopic('grp-t');
  await admin.createTopic({ topic, partitions: counts.length });
  for (const [partition, count] of counts.entries()) {
    if (count === 0) continue;
    const values = Array.from({ length: count }, (_, i) => `v${i}`);
    expect((await produceTo(wire, topic, partition, await batchOf(values))).errorCode).toBe(E.NONE);
  }
  return topic;
}

/**
 * Forms a Stable group of `a` (leader) and `b`: a joins alone (generation g), syncs; b's join
 * starts a rebalance, which a learns from its Heartbeat; a joins again, completing generation
 * g + 1; b syncs (held), then a hands out `assignments`. Returns the join answers.
 */
async function formTwo(
  a: GroupMember,
  wa: WireClient,
  b: GroupMember,
  wb: WireClient,
  assignments: (a: string, b: string) => Map<string, Uint8Array> = () => new Map(),
) {
  expect((await a.join(wa)).errorCode).toBe(E.NONE);
  expect((await a.sync(wa, new Map([[a.memberId, new Uint8Array(0)]]))).errorCode).toBe(E.NONE);
  const bJoin = b.join(wb);
  await until(async () => (await a.heartbeat(wa)) === E.REBALANCE_IN_PROGRESS, {
    message: 'the first member told to rejoin',
  });
  const [aJoined, bJoined] = await Promise.all([a.join(wa), bJoin]);
  expect(aJoined.errorCode).toBe(E.NONE);
  expect(bJoined.errorCode).toBe(E.NONE);
  const bSync = b.sync(wb);
  expect((await a.sync(wa, assignments(a.memberId, b.memberId))).errorCode).toBe(E.NONE);
  expect((await bSync).errorCode).toBe(E.NONE);
  return { aJoined, bJoined };
}

const byMemberId = <T extends { memberId: string }>(xs: readonly T[]): T[] =>
  [...xs].sort((x, y) => (x.memberId < y.memberId ? -1 : 1));

describe('JoinGroup', () => {
  it('KIP-394: v4+ without a member id gets MEMBER_ID_REQUIRED and an id; joining with it makes the member leader of generation 1', async () => {
    const groupId = uniqueTopic('g-kip394');
    const wire = await connect();
    const sub = subscription(['orders', 'payments'], new Uint8Array([1, 2, 3]));
    const body = {
      groupId,
      sessionTimeoutMs: 30_000,
      rebalanceTimeoutMs: 10_000,
      memberId: '',
      groupInstanceId: null,
      protocolType: 'consumer',
      protocols: [
        { name: 'range', metadata: sub },
        { name: 'roundrobin', metadata: sub },
      ],
    };
    const first = await wire.request('JoinGroup', 4, body);
    expect(first).toMatchObject({ errorCode: E.MEMBER_ID_REQUIRED, generationId: -1, members: [] });
    expect(first.memberId).toMatch(/^wire-test-[0-9a-f-]{36}$/);

    const joined = await wire.request('JoinGroup', 4, { ...body, memberId: first.memberId });
    expect(joined).toMatchObject({
      errorCode: E.NONE,
      generationId: 1,
      memberId: first.memberId,
      leader: first.memberId,
      protocolName: 'range',
    });
    expect(joined.members).toEqual([{ memberId: first.memberId, groupInstanceId: null, metadata: sub }]);

    expect(await describeOnWire(wire, groupId)).toMatchObject({
      errorCode: E.NONE,
      groupState: 'CompletingRebalance',
      protocolType: 'consumer',
      members: [{ memberId: first.memberId, clientId: 'wire-test' }],
    });
    const described = await admin.describeGroup(groupId);
    expect(described.members).toEqual([
      expect.objectContaining({ memberId: first.memberId, topics: ['orders', 'payments'], active: true }),
    ]);
  });

  it.each([0, 3])(
    'v%i without a member id joins at once, with an id the coordinator made up',
    async (version) => {
      const groupId = uniqueTopic('g-old-join');
      const wire = await connect();
      const joined = await wire.request('JoinGroup', version, {
        groupId,
        sessionTimeoutMs: 30_000,
        rebalanceTimeoutMs: 10_000,
        memberId: '',
        protocolType: 'consumer',
        protocols: [{ name: 'range', metadata: subscription(['t']) }],
      });
      expect(joined).toMatchObject({ errorCode: E.NONE, generationId: 1, protocolName: 'range' });
      expect(joined.memberId).toMatch(/^wire-test-/);
      expect(joined.leader).toBe(joined.memberId);
      expect((await admin.describeGroup(groupId)).members.map((m) => m.memberId)).toEqual([joined.memberId]);
    },
  );

  it.each([
    {
      case: 'a session timeout below the allowed range',
      id: 'ok',
      sessionTimeoutMs: 999,
      code: E.INVALID_SESSION_TIMEOUT,
    },
    {
      case: 'a session timeout above it',
      id: 'ok',
      sessionTimeoutMs: 60_001,
      code: E.INVALID_SESSION_TIMEOUT,
    },
    {
      case: 'a group id with illegal characters',
      id: 'a b',
      sessionTimeoutMs: 30_000,
      code: E.INVALID_GROUP_ID,
    },
  ])('refuses $case ($code), writing nothing', async ({ id, sessionTimeoutMs, code }) => {
    const groupId = id === 'ok' ? uniqueTopic('g-refused') : id;
    const wire = await connect();
    for (const version of [3, 5]) {
      const answer = await wire.request('JoinGroup', version, {
        groupId,
        sessionTimeoutMs,
        rebalanceTimeoutMs: 10_000,
        memberId: '',
        protocolType: 'consumer',
        protocols: [{ name: 'range', metadata: subscription(['t']) }],
      });
      expect(answer).toMatchObject({ errorCode: code, generationId: -1 });
    }
    expect(await groupItems(groupId)).toEqual([]);
    expect(await describeOnWire(wire, groupId)).toMatchObject({ groupState: 'Dead', members: [] });
    expect(await groupItems(groupId)).toEqual([]);
  });

  it('an illegal group id is INVALID_GROUP_ID for the other group requests too', async () => {
    const wire = await connect();
    const groupId = 'a b';
    expect((await wire.request('Heartbeat', 3, { groupId, generationId: 1, memberId: 'm' })).errorCode).toBe(
      E.INVALID_GROUP_ID,
    );
    expect(
      (await wire.request('SyncGroup', 3, { groupId, generationId: 1, memberId: 'm', assignments: [] }))
        .errorCode,
    ).toBe(E.INVALID_GROUP_ID);
    const codes = await commitOffsets(wire, groupId, [{ topic: 't', partition: 0, offset: 0n }], {
      version: 8,
      generation: -1,
      memberId: '',
    });
    expect([...codes.values()]).toEqual([E.INVALID_GROUP_ID]);
    expect(await groupItems(groupId)).toEqual([]);
  });

  it('a JoinGroup with a member id the coordinator never handed out is UNKNOWN_MEMBER_ID, changing nothing (Kafka)', async () => {
    // Kafka accepts a non-empty member id only from a member or a pending member (one it answered
    // MEMBER_ID_REQUIRED): anything else, e.g. the id of a member whose session expired, is
    // UNKNOWN_MEMBER_ID, and the client joins again without an id.
    const groupId = uniqueTopic('g-stranger');
    const [wa, ws] = await Promise.all([connect(), connect()]);
    const a = new GroupMember(groupId, { rebalanceTimeoutMs: 2_000 });
    expect((await a.join(wa)).errorCode).toBe(E.NONE);
    expect((await a.sync(wa)).errorCode).toBe(E.NONE);
    const stranger = new GroupMember(groupId, { rebalanceTimeoutMs: 2_000 });
    stranger.memberId = 'wire-test-made-up';
    expect((await stranger.join(ws)).errorCode).toBe(E.UNKNOWN_MEMBER_ID);
    expect(await a.heartbeat(wa)).toBe(E.NONE);
    expect(await describeOnWire(wa, groupId)).toMatchObject({
      groupState: 'Stable',
      members: [{ memberId: a.memberId }],
    });
  });
});

describe('a second member rebalances the group', () => {
  it('the first learns of it by Heartbeat; JoinGroup and the follower’s SyncGroup wait; everyone gets its assignment', async () => {
    const groupId = uniqueTopic('g-two');
    const setup = await connect();
    const topic = await topicWith([0, 0], setup);
    const [wa, wb] = await Promise.all([connect(), connect()]);
    const subA = subscription([topic], new Uint8Array([0xa]));
    const subB = subscription([topic], null);
    const a = new GroupMember(groupId, { protocols: [{ name: 'range', metadata: subA }] });
    const b = new GroupMember(groupId, {
      sessionTimeoutMs: 4_000,
      protocols: [
        { name: 'roundrobin', metadata: subB },
        { name: 'range', metadata: subB },
      ],
    });

    const alone = await a.join(wa);
    expect(alone).toMatchObject({ errorCode: E.NONE, generationId: 1, leader: a.memberId });
    const onlyA = assignment({ [topic]: [0, 1] });
    expect(await a.sync(wa, new Map([[a.memberId, onlyA]]))).toMatchObject({
      errorCode: E.NONE,
      assignment: onlyA,
      protocolType: null,
    });
    expect(await a.heartbeat(wa)).toBe(E.NONE);

    let bJoinSettled = false;
    const bJoin = b.join(wb).finally(() => {
      bJoinSettled = true;
    });
    await until(async () => (await a.heartbeat(wa)) === E.REBALANCE_IN_PROGRESS, {
      message: 'REBALANCE_IN_PROGRESS for the first member',
    });
    // b's join started the rebalance and waits for a to join again.
    expect(bJoinSettled).toBe(false);
    expect(await describeOnWire(wa, groupId)).toMatchObject({ groupState: 'PreparingRebalance' });

    const [aJoined, bJoined] = await Promise.all([a.join(wa), bJoin]);
    expect(aJoined).toMatchObject({
      errorCode: E.NONE,
      generationId: 2,
      leader: a.memberId,
      protocolName: 'range',
    });
    expect(byMemberId(aJoined.members)).toEqual(
      byMemberId([
        { memberId: a.memberId, groupInstanceId: null, metadata: subA },
        { memberId: b.memberId, groupInstanceId: null, metadata: subB },
      ]),
    );
    expect(bJoined).toMatchObject({ errorCode: E.NONE, generationId: 2, leader: a.memberId, members: [] });
    expect(b.memberId).not.toBe(a.memberId);

    // The follower's SyncGroup, sent before the leader's, is held (its liveness moves meanwhile).
    const beatsBefore = await beatsOf(groupId, b.memberId);
    let bSynced = false;
    const bSync = b.sync(wb).finally(() => {
      bSynced = true;
    });
    await until(async () => (await beatsOf(groupId, b.memberId)) > beatsBefore, {
      message: "the gateway holding the follower's SyncGroup",
    });
    expect(bSynced).toBe(false);
    const forA = assignment({ [topic]: [0] });
    const forB = assignment({ [topic]: [1] }, new Uint8Array([7, 7]));
    expect(
      await a.sync(
        wa,
        new Map([
          [a.memberId, forA],
          [b.memberId, forB],
        ]),
      ),
    ).toMatchObject({ errorCode: E.NONE, assignment: forA });
    expect(await bSync).toMatchObject({ errorCode: E.NONE, assignment: forB });
    expect(await a.heartbeat(wa)).toBe(E.NONE);
    expect(await b.heartbeat(wb)).toBe(E.NONE);

    const described = await describeOnWire(wa, groupId);
    expect(described).toMatchObject({
      groupState: 'Stable',
      protocolType: 'consumer',
      protocolData: 'range',
    });
    expect(
      byMemberId(described.members).map((m) => [m.memberId, m.memberMetadata, m.memberAssignment]),
    ).toEqual(
      byMemberId([
        { memberId: a.memberId, meta: subA, as: forA },
        { memberId: b.memberId, meta: subB, as: forB },
      ]).map((m) => [m.memberId, m.meta, m.as]),
    );
    const stored = await admin.describeGroup(groupId);
    expect(stored.members.map((m) => m.memberId).sort()).toEqual([a.memberId, b.memberId].sort());
    expect(stored.members.every((m) => m.topics.includes(topic) && m.active)).toBe(true);
    expect(stored.partitions.map((p) => [p.partition, p.owner])).toEqual([
      [0, a.memberId],
      [1, b.memberId],
    ]);
  });
});

describe('OffsetCommit', () => {
  it('is fenced on the generation; each partition is checked on its own; offsets may go back', async () => {
    const groupId = uniqueTopic('g-commit');
    const setup = await connect();
    const topic = await topicWith([10, 5], setup);
    const other = await topicWith([3, 3], setup);
    const [wa, wb, wx] = await Promise.all([connect(), connect(), connect()]);
    const a = new GroupMember(groupId, { protocols: [{ name: 'range', metadata: subscription([topic]) }] });
    const b = new GroupMember(groupId, { protocols: [{ name: 'range', metadata: subscription([topic]) }] });
    const at = (t: string, p: number) => `${t}#${p}`;

    // Generation 1: a alone commits with OffsetCommit v2 and v8.
    expect((await a.join(wa)).generationId).toBe(1);
    expect((await a.sync(wa, new Map([[a.memberId, assignment({ [topic]: [0, 1] })]]))).errorCode).toBe(
      E.NONE,
    );
    expect(
      await a.commit(wa, [{ topic, partition: 0, offset: 3n, metadata: 'from generation 1' }], {
        version: 2,
      }),
    ).toEqual(new Map([[at(topic, 0), E.NONE]]));

    // Generation 2: b joins. While the rebalance runs, a still commits in generation 1 (as an eager
    // consumer does when its partitions are revoked, before it joins again), with v8.
    const bJoin = b.join(wb);
    await until(async () => (await a.heartbeat(wa)) === E.REBALANCE_IN_PROGRESS, {
      message: 'the rebalance',
    });
    expect(await a.commit(wa, [{ topic, partition: 1, offset: 2n }], { version: 8 })).toEqual(
      new Map([[at(topic, 1), E.NONE]]),
    );
    // Before the leader's SyncGroup, a commit of the new generation is REBALANCE_IN_PROGRESS
    // (Kafka: the member does not know its assignment yet).
    const gen1 = a.generation;
    const [aJoined] = await Promise.all([a.join(wa), bJoin]);
    expect(aJoined.generationId).toBe(2);
    expect(await a.commit(wa, [{ topic, partition: 0, offset: 4n }])).toEqual(
      new Map([[at(topic, 0), E.REBALANCE_IN_PROGRESS]]),
    );
    const bSync = b.sync(wb);
    expect((await a.sync(wa)).errorCode).toBe(E.NONE);
    expect((await bSync).errorCode).toBe(E.NONE);

    // The old generation, a stranger, and a standalone commit while the group has members: refused.
    for (const version of [2, 8]) {
      expect(
        await a.commit(wa, [{ topic, partition: 0, offset: 9n }], { version, generation: gen1 }),
      ).toEqual(new Map([[at(topic, 0), E.ILLEGAL_GENERATION]]));
    }
    expect(
      await commitOffsets(wx, groupId, [{ topic, partition: 0, offset: 9n }], {
        version: 8,
        generation: 2,
        memberId: 'wire-test-stranger',
      }),
    ).toEqual(new Map([[at(topic, 0), E.UNKNOWN_MEMBER_ID]]));
    expect(
      await commitOffsets(wx, groupId, [{ topic, partition: 0, offset: 9n }], {
        version: 8,
        generation: -1,
        memberId: '',
      }),
    ).toEqual(new Map([[at(topic, 0), E.UNKNOWN_MEMBER_ID]]));
    expect(
      (await fetchOffsets(wx, groupId, [{ name: topic, partitionIndexes: [0, 1] }])).get(at(topic, 0)),
    ).toEqual({
      offset: 3n,
      metadata: 'from generation 1',
      errorCode: E.NONE,
    });
    expect(await describedOffsets(groupId)).toEqual(
      new Map([
        [at(topic, 0), 3],
        [at(topic, 1), 2],
      ]),
    );

    // One request, each partition on its own: the fine ones are committed.
    const mixed = await a.commit(wa, [
      { topic, partition: 0, offset: 11n }, // beyond the high watermark (10)
      { topic, partition: 1, offset: 5n, metadata: 'x'.repeat(4_096) }, // at the high watermark: fine
      { topic, partition: 7, offset: 0n }, // no such partition
      { topic: other, partition: 0, offset: -3n }, // -1 and -2 mean latest and earliest; below is none

      { topic: other, partition: 1, offset: 1n, metadata: 'x'.repeat(4_097) },
      { topic: uniqueTopic('no-such-topic'), partition: 0, offset: 0n },
    ]);
    expect(
      [...mixed.entries()].map(([k, code]) => [k.replace(/^no-such-topic-[0-9a-f]+/, 'missing'), code]),
    ).toEqual([
      [at(topic, 0), E.OFFSET_OUT_OF_RANGE],
      [at(topic, 1), E.NONE],
      [at(topic, 7), E.UNKNOWN_TOPIC_OR_PARTITION],
      [at(other, 0), E.INVALID_COMMIT_OFFSET_SIZE],
      [at(other, 1), E.OFFSET_METADATA_TOO_LARGE],
      ['missing#0', E.UNKNOWN_TOPIC_OR_PARTITION],
    ]);
    const afterMixed = await fetchOffsets(wx, groupId, [
      { name: topic, partitionIndexes: [0, 1] },
      { name: other, partitionIndexes: [0, 1] },
    ]);
    expect(afterMixed.get(at(topic, 0))?.offset).toBe(3n);
    expect(afterMixed.get(at(topic, 1))).toEqual({
      offset: 5n,
      metadata: 'x'.repeat(4_096),
      errorCode: E.NONE,
    });
    expect(afterMixed.get(at(other, 0))?.offset).toBe(-1n);
    expect(afterMixed.get(at(other, 1))?.offset).toBe(-1n);

    // Lower than stored: allowed, as in Kafka (a consumer that seeks back commits less).
    expect(await b.commit(wb, [{ topic, partition: 1, offset: 1n, metadata: 'back' }])).toEqual(
      new Map([[at(topic, 1), E.NONE]]),
    );
    expect(await describedOffsets(groupId)).toEqual(
      new Map([
        [at(topic, 0), 3],
        [at(topic, 1), 1],
      ]),
    );

    // Everyone left (Empty): a standalone commit (generation −1, no member) is accepted.
    const left = await wa.request('LeaveGroup', 3, {
      groupId,
      memberId: '',
      members: [
        { memberId: a.memberId, groupInstanceId: null },
        { memberId: b.memberId, groupInstanceId: null },
      ],
    });
    expect(left.members.map((m) => m.errorCode)).toEqual([E.NONE, E.NONE]);
    expect(
      await commitOffsets(wx, groupId, [{ topic, partition: 0, offset: 0n, metadata: 'admin' }], {
        version: 8,
        generation: -1,
        memberId: '',
      }),
    ).toEqual(new Map([[at(topic, 0), E.NONE]]));
    expect(
      (await fetchOffsets(wx, groupId, [{ name: topic, partitionIndexes: [0] }])).get(at(topic, 0)),
    ).toEqual({
      offset: 0n,
      metadata: 'admin',
      errorCode: E.NONE,
    });
  });
});

describe('OffsetFetch', () => {
  it('answers v1, v5, v7 (topics null: every committed partition) and v8 (groups batched); metadata round-trips; Admin resets show', async () => {
    const groupId = uniqueTopic('g-fetch');
    const otherGroup = uniqueTopic('g-fetch-other');
    const wire = await connect();
    const topic = await topicWith([10, 10, 10], wire);
    const second = await topicWith([4], wire);
    const metadata = 'ünïcødé ✓ {"consumer":"a","n":[1,2]}  ';
    const standalone = { version: 8, generation: -1, memberId: '' };
    expect(
      await commitOffsets(
        wire,
        groupId,
        [
          { topic, partition: 0, offset: 4n, metadata },
          { topic, partition: 2, offset: 10n, metadata: '' },
          { topic: second, partition: 0, offset: 1n, metadata: null },
        ],
        standalone,
      ),
    ).toEqual(
      new Map([
        [`${topic}#0`, E.NONE],
        [`${topic}#2`, E.NONE],
        [`${second}#0`, E.NONE],
      ]),
    );
    expect(
      await commitOffsets(
        wire,
        otherGroup,
        [{ topic, partition: 1, offset: 7n, metadata: 'other' }],
        standalone,
      ),
    ).toEqual(new Map([[`${topic}#1`, E.NONE]]));

    const expected = new Map([
      [`${topic}#0`, { offset: 4n, metadata, errorCode: E.NONE }],
      [`${topic}#1`, { offset: -1n, metadata: '', errorCode: E.NONE }],
      [`${topic}#2`, { offset: 10n, metadata: '', errorCode: E.NONE }],
    ]);
    for (const version of [1, 5]) {
      expect(
        await fetchOffsets(wire, groupId, [{ name: topic, partitionIndexes: [0, 1, 2] }], version),
      ).toEqual(expected);
    }
    // Topics null: every partition with a committed offset, and only those.
    expect(await fetchOffsets(wire, groupId, null, 7)).toEqual(
      new Map([
        [`${topic}#0`, { offset: 4n, metadata, errorCode: E.NONE }],
        [`${topic}#2`, { offset: 10n, metadata: '', errorCode: E.NONE }],
        [`${second}#0`, { offset: 1n, metadata: '', errorCode: E.NONE }],
      ]),
    );

    const never = uniqueTopic('g-never');
    const batched = await wire.request('OffsetFetch', 8, {
      groupId: '',
      topics: [],
      groups: [
        { groupId, topics: null },
        { groupId: otherGroup, topics: [{ name: topic, partitionIndexes: [0, 1] }] },
        { groupId: never, topics: null },
      ],
    });
    const groups = new Map(
      batched.groups.map((g) => [
        g.groupId,
        {
          errorCode: g.errorCode,
          // Sorted: topics come in no particular order.
          offsets: g.topics
            .flatMap((t) =>
              t.partitions.map((p) => [`${t.name}#${p.partitionIndex}`, p.committedOffset, p.metadata]),
            )
            .sort((x, y) => (String(x[0]) < String(y[0]) ? -1 : 1)),
        },
      ]),
    );
    expect(groups.get(groupId)).toEqual({
      errorCode: E.NONE,
      offsets: [
        [`${topic}#0`, 4n, metadata],
        [`${topic}#2`, 10n, ''],
        [`${second}#0`, 1n, ''],
      ].sort((x, y) => (String(x[0]) < String(y[0]) ? -1 : 1)),
    });
    expect(groups.get(otherGroup)).toEqual({
      errorCode: E.NONE,
      offsets: [
        [`${topic}#0`, -1n, ''],
        [`${topic}#1`, 7n, 'other'],
      ],
    });
    expect(groups.get(never)).toEqual({ errorCode: E.NONE, offsets: [] });

    // An offset reset by Tributary's Admin is what Kafka clients fetch.
    expect(await admin.resetGroupOffsets(groupId, topic, { offset: 6 }, { partitions: [1] })).toEqual([
      { partition: 1, offset: 6 },
    ]);
    expect(await admin.resetGroupOffsets(groupId, second, 'latest')).toEqual([{ partition: 0, offset: 4 }]);
    const afterReset = await fetchOffsets(wire, groupId, null, 7);
    expect(afterReset.get(`${topic}#0`)?.offset).toBe(4n);
    expect(afterReset.get(`${topic}#1`)?.offset).toBe(6n);
    expect(afterReset.get(`${second}#0`)?.offset).toBe(4n);
  });
});

describe('session expiry', () => {
  it('a member that stops heartbeating is removed: the other is told to rejoin, it is UNKNOWN_MEMBER_ID', async () => {
    const groupId = uniqueTopic('g-expiry');
    const [wa, wb] = await Promise.all([connect(), connect()]);
    const a = new GroupMember(groupId, { sessionTimeoutMs: 2_000 });
    const b = new GroupMember(groupId, { sessionTimeoutMs: 30_000 });
    await formTwo(a, wa, b, wb);
    expect(a.generation).toBe(2);
    expect(await b.heartbeat(wb)).toBe(E.NONE);

    // a goes silent; b keeps heartbeating and is told to rejoin once a's session has expired.
    await until(async () => (await b.heartbeat(wb)) === E.REBALANCE_IN_PROGRESS, {
      timeoutMs: 20_000,
      intervalMs: 200,
      message: "b told to rejoin after a's session expired",
    });
    expect(await describeOnWire(wb, groupId)).toMatchObject({
      groupState: 'PreparingRebalance',
      members: [{ memberId: b.memberId }],
    });
    expect((await admin.describeGroup(groupId)).members.map((m) => m.memberId)).toEqual([b.memberId]);
    const items = await groupItems(groupId);
    expect(items.some((i) => i[GroupAttr.key]?.S === `${CLASSIC_BEAT_PREFIX}${a.memberId}`)).toBe(false);
    expect(await a.heartbeat(wa)).toBe(E.UNKNOWN_MEMBER_ID);

    // b joins again and goes on alone, as the leader of the next generation.
    expect(await b.join(wb)).toMatchObject({ errorCode: E.NONE, generationId: 3, leader: b.memberId });
    expect((await b.sync(wb)).errorCode).toBe(E.NONE);
    expect(await b.heartbeat(wb)).toBe(E.NONE);
    expect(await a.heartbeat(wa)).toBe(E.UNKNOWN_MEMBER_ID);
  });
});

describe('rebalance timeout', () => {
  it('a member that does not join again within the rebalance timeout is left out of the next generation', async () => {
    const groupId = uniqueTopic('g-rebalance-timeout');
    const [wa, wb] = await Promise.all([connect(), connect()]);
    const a = new GroupMember(groupId, { rebalanceTimeoutMs: 1_500 });
    const b = new GroupMember(groupId, { rebalanceTimeoutMs: 1_500 });
    await formTwo(a, wa, b, wb);
    // b (the follower) changes its subscription and joins again; a keeps heartbeating but never rejoins.
    b.protocols = [{ name: 'range', metadata: subscription(['other']) }];
    let bSettled = false;
    const bJoin = b.join(wb).finally(() => {
      bSettled = true;
    });
    await until(async () => (await a.heartbeat(wa)) === E.REBALANCE_IN_PROGRESS, {
      message: 'the rebalance',
    });
    await until(async () => bSettled || (await a.heartbeat(wa)) !== E.REBALANCE_IN_PROGRESS, {
      message: 'the round to complete without a',
    });
    expect(await bJoin).toMatchObject({ errorCode: E.NONE, generationId: 3, leader: b.memberId });
    expect((await bJoin).members.map((m) => m.memberId)).toEqual([b.memberId]);
    expect(await a.heartbeat(wa)).toBe(E.UNKNOWN_MEMBER_ID);
    expect((await admin.describeGroup(groupId)).members.map((m) => m.memberId)).toEqual([b.memberId]);
  });
});

describe('LeaveGroup', () => {
  it('v0: the member leaves, the other is told to rejoin; the last one leaves the group Empty', async () => {
    const groupId = uniqueTopic('g-leave0');
    const [wa, wb] = await Promise.all([connect(), connect()]);
    const a = new GroupMember(groupId);
    const b = new GroupMember(groupId);
    await formTwo(a, wa, b, wb);
    const leave = (memberId: string) => wb.request('LeaveGroup', 0, { groupId, memberId, members: [] });

    expect((await leave(b.memberId)).errorCode).toBe(E.NONE);
    expect(await a.heartbeat(wa)).toBe(E.REBALANCE_IN_PROGRESS);
    expect(await b.heartbeat(wb)).toBe(E.UNKNOWN_MEMBER_ID);
    expect(await a.join(wa)).toMatchObject({ errorCode: E.NONE, generationId: 3 });
    expect((await leave(a.memberId)).errorCode).toBe(E.NONE);
    expect(await describeOnWire(wa, groupId)).toMatchObject({ groupState: 'Empty', members: [] });
    expect((await admin.describeGroup(groupId)).members).toEqual([]);
    expect((await leave(a.memberId)).errorCode).toBe(E.UNKNOWN_MEMBER_ID);
  });

  it('v3+: a batch, a static member by instance id; FENCED_INSTANCE_ID for the id its successor replaced', async () => {
    const groupId = uniqueTopic('g-static');
    const instanceId = uniqueTopic('instance');
    const [wd, ws, ws2] = await Promise.all([connect(), connect(), connect()]);
    const topic = await topicWith([1], wd);
    const d = new GroupMember(groupId);
    const s = new GroupMember(groupId, { instanceId });
    const forS = assignment({ t: [0, 1] });
    const { bJoined } = await formTwo(
      d,
      wd,
      s,
      ws,
      (dId, sId) =>
        new Map([
          [dId, assignment({ t: [2] })],
          [sId, forS],
        ]),
    );
    expect(bJoined.members).toEqual([]);

    // The static member restarts: without a member id it gets a fresh one at once (no
    // MEMBER_ID_REQUIRED), replacing the previous id in the same generation with its assignment.
    const s2 = new GroupMember(groupId, { instanceId });
    const rejoined = await s2.join(ws2);
    expect(rejoined).toMatchObject({ errorCode: E.NONE, generationId: s.generation, leader: d.memberId });
    expect(s2.memberId).not.toBe(s.memberId);
    expect(await s2.sync(ws2)).toMatchObject({ errorCode: E.NONE, assignment: forS });
    expect(await d.heartbeat(wd)).toBe(E.NONE);

    // The previous id is fenced wherever it names the instance.
    expect(await s.heartbeat(ws)).toBe(E.FENCED_INSTANCE_ID);
    expect((await s.sync(ws)).errorCode).toBe(E.FENCED_INSTANCE_ID);
    expect(await s.commit(ws, [{ topic, partition: 0, offset: 1n }])).toEqual(
      new Map([[`${topic}#0`, E.FENCED_INSTANCE_ID]]),
    );
    expect(
      (await fetchOffsets(ws, groupId, [{ name: topic, partitionIndexes: [0] }])).get(`${topic}#0`)?.offset,
    ).toBe(-1n);
    const fenced = await ws.request('LeaveGroup', 3, {
      groupId,
      memberId: '',
      members: [{ memberId: s.memberId, groupInstanceId: instanceId }],
    });
    expect(fenced).toMatchObject({
      errorCode: E.NONE,
      members: [{ memberId: s.memberId, groupInstanceId: instanceId, errorCode: E.FENCED_INSTANCE_ID }],
    });
    const stillThere = await describeOnWire(wd, groupId);
    expect(stillThere.groupState).toBe('Stable');
    expect(byMemberId(stillThere.members).map((m) => [m.memberId, m.groupInstanceId])).toEqual(
      byMemberId([
        { memberId: d.memberId, groupInstanceId: null },
        { memberId: s2.memberId, groupInstanceId: instanceId },
      ]).map((m) => [m.memberId, m.groupInstanceId]),
    );

    // A batch: the static member by its instance id alone, the dynamic one by id, and a stranger.
    const left = await wd.request('LeaveGroup', 5, {
      groupId,
      memberId: '',
      members: [
        { memberId: '', groupInstanceId: instanceId, reason: 'shutting down' },
        { memberId: d.memberId, groupInstanceId: null },
        { memberId: 'wire-test-ghost', groupInstanceId: null },
      ],
    });
    expect(left.errorCode).toBe(E.NONE);
    expect(left.members.map((m) => [m.memberId, m.errorCode])).toEqual([
      ['', E.NONE],
      [d.memberId, E.NONE],
      ['wire-test-ghost', E.UNKNOWN_MEMBER_ID],
    ]);
    expect(await describeOnWire(wd, groupId)).toMatchObject({ groupState: 'Empty', members: [] });
    expect((await admin.describeGroup(groupId)).members).toEqual([]);
    expect(await s2.heartbeat(ws2)).toBe(E.UNKNOWN_MEMBER_ID);
    const keys = (await groupItems(groupId)).map((i) => i[GroupAttr.key]?.S ?? '');
    // No liveness item is left behind, the replaced id's included.
    const names = new Map([
      [s.memberId, 'the replaced static id'],
      [s2.memberId, 'its successor'],
      [d.memberId, 'the dynamic member'],
    ]);
    expect(
      keys
        .filter((k) => k.startsWith(CLASSIC_BEAT_PREFIX))
        .map((k) => names.get(k.slice(CLASSIC_BEAT_PREFIX.length)) ?? k),
    ).toEqual([]);
  });
});

describe('DescribeGroups, ListGroups, DeleteGroups', () => {
  it('describe and list a group as Kafka does; delete it only once Empty, with its offsets', async () => {
    const groupId = uniqueTopic('g-admin');
    const wire = await connect();
    const topic = await topicWith([5], wire);
    const sub = subscription([topic], new Uint8Array([42]));
    const own = assignment({ [topic]: [0] });
    const a = new GroupMember(groupId, { protocols: [{ name: 'roundrobin', metadata: sub }] });
    expect((await a.join(wire)).errorCode).toBe(E.NONE);
    expect((await a.sync(wire, new Map([[a.memberId, own]]))).errorCode).toBe(E.NONE);
    expect(await a.commit(wire, [{ topic, partition: 0, offset: 2n, metadata: 'm' }])).toEqual(
      new Map([[`${topic}#0`, E.NONE]]),
    );

    const unknown = uniqueTopic('g-unknown');
    const described = await wire.request('DescribeGroups', 5, {
      groups: [groupId, unknown],
      includeAuthorizedOperations: false,
    });
    expect(described.groups).toEqual([
      {
        errorCode: E.NONE,
        groupId,
        groupState: 'Stable',
        protocolType: 'consumer',
        protocolData: 'roundrobin',
        members: [
          {
            memberId: a.memberId,
            groupInstanceId: null,
            clientId: 'wire-test',
            clientHost: expect.stringContaining('127.0.0.1'),
            memberMetadata: sub,
            memberAssignment: own,
          },
        ],
        authorizedOperations: -2147483648,
      },
      {
        errorCode: E.NONE,
        groupId: unknown,
        groupState: 'Dead',
        protocolType: '',
        protocolData: '',
        members: [],
        authorizedOperations: -2147483648,
      },
    ]);
    const stored = await admin.describeGroup(groupId);
    expect(stored.partitions).toEqual([
      expect.objectContaining({
        topic,
        partition: 0,
        owner: a.memberId,
        committedOffset: 2,
        metadata: 'm',
        lag: 3,
      }),
    ]);

    const listed = async (version: number, statesFilter: string[] = [], typesFilter: string[] = []) =>
      (await wire.request('ListGroups', version, { statesFilter, typesFilter })).groups.filter(
        (g) => g.groupId === groupId,
      );
    expect(await listed(0)).toEqual([expect.objectContaining({ groupId, protocolType: 'consumer' })]);
    expect(await listed(4, ['Stable'])).toEqual([
      expect.objectContaining({ groupId, protocolType: 'consumer', groupState: 'Stable' }),
    ]);
    expect(await listed(4, ['Empty', 'PreparingRebalance'])).toEqual([]);
    expect(await listed(5, [], ['Classic'])).toEqual([
      { groupId, protocolType: 'consumer', groupState: 'Stable', groupType: 'classic' },
    ]);
    expect(await listed(5, [], ['consumer'])).toEqual([]);
    expect((await admin.listGroups()).map((g) => g.groupId)).toContain(groupId);

    // Not while it has a member.
    const remove = async () =>
      (await wire.request('DeleteGroups', 2, { groupsNames: [groupId] })).results.map((r) => [
        r.groupId,
        r.errorCode,
      ]);
    expect(await remove()).toEqual([[groupId, E.NON_EMPTY_GROUP]]);
    expect(await a.heartbeat(wire)).toBe(E.NONE);
    expect((await describedOffsets(groupId)).get(`${topic}#0`)).toBe(2);

    const left = await wire.request('LeaveGroup', 0, { groupId, memberId: a.memberId, members: [] });
    expect(left.errorCode).toBe(E.NONE);
    // Empty, it keeps its protocol type (as in Kafka).
    expect(await listed(4, ['Empty'])).toEqual([
      expect.objectContaining({ groupId, groupState: 'Empty', protocolType: 'consumer' }),
    ]);
    expect(await remove()).toEqual([[groupId, E.NONE]]);
    expect(await groupItems(groupId)).toEqual([]);
    await expect(admin.describeGroup(groupId)).rejects.toBeInstanceOf(GroupNotFoundError);
    expect(
      (await fetchOffsets(wire, groupId, [{ name: topic, partitionIndexes: [0] }])).get(`${topic}#0`)?.offset,
    ).toBe(-1n);
    expect(await listed(0)).toEqual([]);
    expect((await describeOnWire(wire, groupId)).groupState).toBe('Dead');
    expect(await remove()).toEqual([[groupId, E.GROUP_ID_NOT_FOUND]]);
  });
});

describe('DescribeGroups while rebalancing', () => {
  it('outside Stable: no protocol, and members without metadata or assignment (Kafka)', async () => {
    // Kafka's coordinator describes the protocol and each member's metadata and assignment only
    // in Stable (`describeGroups`: `describeNoMetadata()` otherwise, protocol data "").
    const groupId = uniqueTopic('g-describe-states');
    const [wa, wb] = await Promise.all([connect(), connect()]);
    const sub = subscription(['t'], null);
    const a = new GroupMember(groupId, { protocols: [{ name: 'range', metadata: sub }] });
    const b = new GroupMember(groupId, { protocols: [{ name: 'range', metadata: sub }] });
    const own = assignment({ t: [0] });
    const summary = async () => {
      const g = await describeOnWire(wa, groupId);
      return {
        state: g.groupState,
        protocol: g.protocolData,
        members: g.members.map((m) => [m.memberMetadata.byteLength, m.memberAssignment.byteLength]),
      };
    };

    expect((await a.join(wa)).errorCode).toBe(E.NONE);
    const completing = await summary();
    expect((await a.sync(wa, new Map([[a.memberId, own]]))).errorCode).toBe(E.NONE);
    const stable = await summary();
    const bJoin = b.join(wb);
    await until(async () => (await a.heartbeat(wa)) === E.REBALANCE_IN_PROGRESS, {
      message: 'the rebalance',
    });
    const preparing = await summary();
    await Promise.all([a.join(wa), bJoin]);

    expect({ completing, stable, preparing }).toEqual({
      completing: { state: 'CompletingRebalance', protocol: '', members: [[0, 0]] },
      stable: { state: 'Stable', protocol: 'range', members: [[sub.byteLength, own.byteLength]] },
      preparing: {
        state: 'PreparingRebalance',
        protocol: '',
        members: [
          [0, 0],
          [0, 0],
        ],
      },
    });
  });
});

describe('any gateway coordinates any group', () => {
  let one: Gateway;
  let two: Gateway;
  beforeAll(async () => {
    [one, two] = await Promise.all([startTestGateway(GROUP_OPTIONS), startTestGateway(GROUP_OPTIONS)]);
  });
  afterAll(async () => {
    await Promise.all([one?.stop(), two?.stop()]);
  });

  it('members on two gateways form one group; a gateway stopped while holding a JoinGroup loses nothing', async () => {
    const groupId = uniqueTopic('g-two-gw');
    const [a1, a2, b1, b2] = await Promise.all([connect(one), connect(two), connect(one), connect(two)]);
    const topic = await topicWith([0, 0], a1);
    const a = new GroupMember(groupId, { protocols: [{ name: 'range', metadata: subscription([topic]) }] });
    const b = new GroupMember(groupId, { protocols: [{ name: 'range', metadata: subscription([topic]) }] });

    // a joins through gateway 1, b through gateway 2; the round completes for both.
    expect((await a.join(a1)).generationId).toBe(1);
    expect((await a.sync(a1)).errorCode).toBe(E.NONE);
    const bJoin = b.join(b2);
    await until(async () => (await a.heartbeat(a2)) === E.REBALANCE_IN_PROGRESS, {
      message: 'the rebalance',
    });
    const [aJoined, bJoined] = await Promise.all([a.join(a1), bJoin]);
    expect(aJoined).toMatchObject({ errorCode: E.NONE, generationId: 2, leader: a.memberId });
    expect(aJoined.members.map((m) => m.memberId).sort()).toEqual([a.memberId, b.memberId].sort());
    expect(bJoined).toMatchObject({ errorCode: E.NONE, generationId: 2, leader: a.memberId });

    // The follower's SyncGroup held by gateway 1, the leader's through gateway 2.
    const forA = assignment({ [topic]: [0] });
    const forB = assignment({ [topic]: [1] });
    const bSync = b.sync(b1);
    expect(
      await a.sync(
        a2,
        new Map([
          [a.memberId, forA],
          [b.memberId, forB],
        ]),
      ),
    ).toMatchObject({ errorCode: E.NONE, assignment: forA });
    expect(await bSync).toMatchObject({ errorCode: E.NONE, assignment: forB });
    for (const [member, wire] of [
      [a, a1],
      [a, a2],
      [b, b1],
      [b, b2],
      [a, a2],
      [b, b1],
    ] as const) {
      expect(await member.heartbeat(wire)).toBe(E.NONE);
    }

    // b subscribes to more and joins again through gateway 1, which holds the JoinGroup until a
    // rejoins; gateway 1 stops meanwhile and closes b's connection.
    const wider = [{ name: 'range', metadata: subscription([topic, 'more']) }];
    b.protocols = wider;
    const heldByOne = b.join(b1);
    const heldOutcome = heldByOne.then(
      () => 'answered',
      (error: Error) => error.message,
    );
    await until(async () => (await a.heartbeat(a2)) === E.REBALANCE_IN_PROGRESS, {
      message: "the rebalance b's second join started",
    });
    await one.stop();
    await b1.closed;
    expect(b1.isClosed).toBe(true);
    expect(await heldOutcome).toBe('The gateway closed the connection');

    // b sends its JoinGroup again, through gateway 2; a rejoins there too: generation 3 with both.
    const bAgain = b.join(b2);
    expect(await a.heartbeat(a2)).toBe(E.REBALANCE_IN_PROGRESS);
    const [aThird, bThird] = await Promise.all([a.join(a2), bAgain]);
    expect(aThird).toMatchObject({ errorCode: E.NONE, generationId: 3, leader: a.memberId });
    expect(bThird).toMatchObject({ errorCode: E.NONE, generationId: 3, memberId: b.memberId });
    expect(aThird.members.find((m) => m.memberId === b.memberId)?.metadata).toEqual(wider[0]?.metadata);
    const bSync3 = b.sync(b2);
    expect((await a.sync(a2, new Map([[b.memberId, forB]]))).errorCode).toBe(E.NONE);
    expect(await bSync3).toMatchObject({ errorCode: E.NONE, assignment: forB });
    expect(await a.heartbeat(a2)).toBe(E.NONE);
    expect(await b.heartbeat(b2)).toBe(E.NONE);

    const described = await describeOnWire(a2, groupId);
    expect(described.groupState).toBe('Stable');
    expect(described.members.map((m) => m.memberId).sort()).toEqual([a.memberId, b.memberId].sort());
    const stored = await admin.describeGroup(groupId);
    expect(stored.members.find((m) => m.memberId === b.memberId)?.topics).toEqual([topic, 'more']);
  });
});
