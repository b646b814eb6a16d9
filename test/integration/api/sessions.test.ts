/**
 * Group sessions against a hostile caller: forged, tampered and replayed sessions, joins that
 * would store what the API must refuse, reads of topics the member does not hold, and commits
 * that must be all or nothing. Each refusal is checked to have written nothing (the group's
 * items compared before and after) and read nothing outside the caller's leases.
 */
import { QueryCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tableNames } from '../../../sdk/src/schema.ts';
import { type ApiResponse, api } from '../../helpers/api.ts';
import { testStackConfig } from '../../helpers/stack.ts';
import { testDynamoDB, uniqueTopic } from '../../helpers/tributary.ts';

interface Lease {
  topic: string;
  partition: number;
  epoch: number;
  committedOffset: number | null;
  state: string;
}
interface Member {
  memberId: string;
  session: string;
  assignment: Lease[];
}

const topic = uniqueTopic('sess');
const secretTopic = uniqueTopic('secret');
const ddb = testDynamoDB();
afterAll(() => ddb.destroy());

function expectError(response: ApiResponse, status: number, code: string): void {
  expect(response.status, JSON.stringify(response.body)).toBe(status);
  expect(response.body.error.code).toBe(code);
  expect(typeof response.body.error.message).toBe('string');
}

/** Every item of a group in the groups table, minus what heartbeats of live members change by themselves. */
async function groupItems(group: string): Promise<unknown[]> {
  const out = await ddb.send(
    new QueryCommand({
      TableName: tableNames(testStackConfig().tablePrefix).groups,
      KeyConditionExpression: 'g = :g',
      ExpressionAttributeValues: { ':g': { S: group } },
      ConsistentRead: true,
    }),
  );
  return out.Items ?? [];
}

async function join(group: string, body: Record<string, unknown> = {}): Promise<Member> {
  const response = await api('POST', `/v1/groups/${group}/members`, {
    topics: [topic],
    sessionTimeoutMs: 5_000,
    ...body,
  });
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  return response.body;
}

const heartbeatOf = (group: string, member: string, body: unknown) =>
  api('POST', `/v1/groups/${group}/members/${member}/heartbeat`, body);

describe('group sessions', () => {
  beforeAll(async () => {
    for (const name of [topic, secretTopic]) {
      expect((await api('POST', '/v1/topics', { topic: name, partitions: 2 })).status).toBe(201);
      const records = Array.from({ length: 6 }, (_, i) => ({ value: `${name}-${i}`, partition: i % 2 }));
      expect((await api('POST', `/v1/topics/${name}/records`, { records })).status).toBe(200);
    }
  });

  it('refuse tampered, foreign, truncated and re-encoded sessions on every group route, writing nothing', async () => {
    const group = uniqueTopic('g');
    const member = await join(group);
    const [version, payload, mac] = member.session.split('.') as [string, string, string];
    const flipped = (text: string, at: number) =>
      `${text.slice(0, at)}${text[at] === 'A' ? 'B' : 'A'}${text.slice(at + 1)}`;
    const forgeries = [
      '',
      member.memberId,
      `${member.session}garbage`,
      `${member.session}.`,
      `${version}.${payload}`,
      `${version}.${Buffer.from(payload, 'base64url').toString('base64')}=.${mac}`,
      `${version}.${payload}=.${mac}`,
      `${version}.${flipped(payload, 20)}.${mac}`,
      `${version}.${payload}.${flipped(mac, 5)}`,
      // A valid-looking token whose payload claims another topic's leases: the signature breaks.
      `${version}.${Buffer.from(
        Buffer.from(payload, 'base64url').toString('utf8').replaceAll(topic, secretTopic),
      ).toString('base64url')}.${mac}`,
    ];
    const before = await groupItems(group);
    for (const session of forgeries) {
      const routes: [string, string, Record<string, unknown>][] = [
        ['POST', `/v1/groups/${group}/members/${member.memberId}/heartbeat`, { session }],
        ['POST', `/v1/groups/${group}/members/${member.memberId}/leave`, { session }],
        ['POST', `/v1/groups/${group}/members/${member.memberId}/topics/${topic}/records`, { session }],
        [
          'POST',
          `/v1/groups/${group}/offsets`,
          {
            memberId: member.memberId,
            session,
            offsets: member.assignment.map((l) => ({
              topic,
              partition: l.partition,
              offset: 1,
              epoch: l.epoch,
            })),
          },
        ],
      ];
      for (const [method, path, body] of routes) {
        const response = await api(method, path, body);
        expect(response.status, `${path} ${session.slice(0, 30)}`).toBeGreaterThanOrEqual(400);
        expect(response.status).toBeLessThan(500);
        expect(['INVALID_SESSION', 'INVALID_ARGUMENT']).toContain(response.body.error.code);
      }
    }
    // Another member's path with a valid session of this one.
    expectError(
      await heartbeatOf(group, 'someone-else', { session: member.session }),
      409,
      'INVALID_SESSION',
    );
    expect(await groupItems(group)).toEqual(before);
  });

  it('refuse joins that would store what the API must not, and create nothing', async () => {
    const group = uniqueTopic('g');
    const refused: [Record<string, unknown>, number, string][] = [
      [{ sessionTimeoutMs: -1 }, 400, 'INVALID_ARGUMENT'],
      [{ sessionTimeoutMs: 10_000_000 }, 400, 'INVALID_ARGUMENT'],
      [{ memberId: 'bad id!' }, 400, 'INVALID_ARGUMENT'],
      [{ instanceId: 12 }, 400, 'INVALID_ARGUMENT'],
      [{ instanceId: '' }, 400, 'INVALID_ARGUMENT'],
      [{ topics: ['not a topic!'] }, 400, 'INVALID_TOPIC_NAME'],
      [{ topics: [uniqueTopic('missing')] }, 404, 'TOPIC_NOT_FOUND'],
      [{ topics: [] }, 400, 'INVALID_ARGUMENT'],
    ];
    for (const [body, status, code] of refused) {
      expectError(
        await api('POST', `/v1/groups/${group}/members`, { topics: [topic], ...body }),
        status,
        code,
      );
    }
    expect(await groupItems(group)).toEqual([]);
    expectError(await api('GET', `/v1/groups/${group}`), 404, 'GROUP_NOT_FOUND');
  });

  it("refuse a join under a live member's id, leaving its leases and epochs alone", async () => {
    const group = uniqueTopic('g');
    const real = await join(group);
    const leases = async () =>
      ((await api('GET', `/v1/groups/${group}`)).body.partitions as Record<string, unknown>[]).map(
        ({ partition, owner, epoch, committedOffset }) => ({ partition, owner, epoch, committedOffset }),
      );
    const leasesBefore = await leases();
    expectError(
      await api('POST', `/v1/groups/${group}/members`, { topics: [topic], memberId: real.memberId }),
      409,
      'MEMBER_ID_IN_USE',
    );
    expect(await leases()).toEqual(leasesBefore);
    // The real member goes on undisturbed.
    const next = await heartbeatOf(group, real.memberId, { session: real.session });
    expect(next.status).toBe(200);
    expect(next.body.assignment.map((l: Lease) => l.epoch)).toEqual(real.assignment.map((l) => l.epoch));
  });

  it('read only the topic of the path, only partitions whose lease the member holds now', async () => {
    const group = uniqueTopic('g');
    const member = await join(group);
    expect(member.assignment).toHaveLength(2);
    const read = (t: string, body: Record<string, unknown> = {}) =>
      api('POST', `/v1/groups/${group}/members/${member.memberId}/topics/${t}/records`, {
        session: member.session,
        offsetReset: 'earliest',
        encoding: 'utf8',
        ...body,
      });
    const own = await read(topic);
    expect(own.status).toBe(200);
    expect(
      own.body.batches.flatMap((b: { records: { value: string }[] }) => b.records.map((r) => r.value)).sort(),
    ).toEqual(Array.from({ length: 6 }, (_, i) => `${topic}-${i}`).sort());
    // A topic the member does not subscribe to: refused, nothing of it returned.
    const other = await read(secretTopic);
    expectError(other, 400, 'INVALID_ARGUMENT');
    expect(JSON.stringify(other.body)).not.toContain(`${secretTopic}-`);
    // A position on a partition the member does not hold.
    expectError(await read(topic, { positions: [{ partition: 7, offset: 0 }] }), 409, 'LEASE_LOST');
    // A lease taken away is no longer readable with the old (still valid) session.
    const rival = await join(group, { instanceId: 'rival' });
    for (let i = 0; i < 40; i++) {
      const beat = await heartbeatOf(group, rival.memberId, { session: rival.session });
      Object.assign(rival, beat.body);
      if (rival.assignment.length === 2) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(rival.assignment).toHaveLength(2);
    const stale = await read(topic);
    expect(stale.status).toBe(200);
    expect(stale.body.batches).toEqual([]);
  });

  it('commit all offsets or none: a bad epoch on the second leaves the first unmoved', async () => {
    const group = uniqueTopic('g');
    const member = await join(group);
    const [first, second] = member.assignment as [Lease, Lease];
    const commit = (offsets: unknown[]) =>
      api('POST', `/v1/groups/${group}/offsets`, {
        memberId: member.memberId,
        session: member.session,
        offsets,
      });
    const before = await groupItems(group);
    expectError(
      await commit([
        { topic, partition: first.partition, offset: 2, epoch: first.epoch },
        { topic, partition: second.partition, offset: 2, epoch: second.epoch + 1000 },
      ]),
      409,
      'LEASE_LOST',
    );
    // A partition of a topic the session does not subscribe to, next to a valid one.
    expectError(
      await commit([
        { topic, partition: first.partition, offset: 2, epoch: first.epoch },
        { topic: secretTopic, partition: 0, offset: 1, epoch: 1 },
      ]),
      400,
      'INVALID_ARGUMENT',
    );
    expect(await groupItems(group)).toEqual(before);
    expect(
      (
        await commit([
          { topic, partition: first.partition, offset: 2, epoch: first.epoch },
          { topic, partition: second.partition, offset: 3, epoch: second.epoch },
        ])
      ).status,
    ).toBe(204);
    const described = (await api('GET', `/v1/groups/${group}`)).body.partitions as {
      partition: number;
      committedOffset: number;
    }[];
    expect(described.map((p) => [p.partition, p.committedOffset]).sort()).toEqual(
      [
        [first.partition, 2],
        [second.partition, 3],
      ].sort(),
    );
  });

  it('fence the session of a static member once a new instance joined, and keep the new one when the old leaves', async () => {
    const group = uniqueTopic('g');
    const old = await join(group, { instanceId: 'worker-1' });
    const fresh = await join(group, { instanceId: 'worker-1' });
    const fenced = await heartbeatOf(group, 'worker-1', { session: old.session });
    expectError(fenced, 409, 'INVALID_SESSION');
    expect(fenced.body.error.details.fenced).toBe(true);
    expect(
      (await api('POST', `/v1/groups/${group}/members/worker-1/leave`, { session: old.session })).status,
    ).toBe(204);
    const members = (await api('GET', `/v1/groups/${group}`)).body.members as { memberId: string }[];
    expect(members.map((m) => m.memberId)).toEqual(['worker-1']);
    expect((await heartbeatOf(group, 'worker-1', { session: fresh.session })).status).toBe(200);
  });
});
