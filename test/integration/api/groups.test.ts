/**
 * Consumer groups through the HTTP API, as a client without a background loop uses them:
 * join, heartbeat until the assignment settles, hand off revoked partitions, commit with
 * fencing (a zombie's stale epoch is refused), consume from committed offsets, leave.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { api } from '../../helpers/api.ts';
import { uniqueTopic } from '../../helpers/tributary.ts';

interface Member {
  memberId: string;
  session: string;
  assignment: {
    topic: string;
    partition: number;
    epoch: number;
    committedOffset: number | null;
    state: string;
  }[];
}

const topic = uniqueTopic('api-grp');

async function join(group: string, sessionTimeoutMs = 3_000): Promise<Member> {
  const response = await api('POST', `/v1/groups/${group}/members`, { topics: [topic], sessionTimeoutMs });
  expect(response.status).toBe(200);
  return response.body;
}

async function heartbeat(group: string, m: Member, release: { topic: string; partition: number }[] = []) {
  const response = await api('POST', `/v1/groups/${group}/members/${m.memberId}/heartbeat`, {
    session: m.session,
    release,
  });
  expect(response.status).toBe(200);
  Object.assign(m, response.body);
  return response.body as Member & { lost: { partition: number }[] };
}

/** Heartbeats both members, releasing what they are asked to, until they split the partitions. */
async function settle(group: string, a: Member, b: Member): Promise<void> {
  for (let round = 0; round < 20; round++) {
    for (const m of [a, b]) {
      const revoking = m.assignment
        .filter((l) => l.state === 'revoking')
        .map(({ topic, partition }) => ({ topic, partition }));
      await heartbeat(group, m, revoking);
    }
    const owned = [...a.assignment, ...b.assignment].filter((l) => l.state === 'owned');
    if (a.assignment.length === 2 && b.assignment.length === 2 && owned.length === 4) return;
  }
  throw new Error(`No settled assignment: ${JSON.stringify([a.assignment, b.assignment])}`);
}

describe('consumer groups over HTTP', () => {
  beforeAll(async () => {
    expect((await api('POST', '/v1/topics', { topic, partitions: 4 })).status).toBe(201);
    const records = Array.from({ length: 40 }, (_, i) => ({ value: `r${i}`, partition: i % 4 }));
    expect((await api('POST', `/v1/topics/${topic}/records`, { records })).status).toBe(200);
  });

  it('splits partitions between two members by heartbeats, handing off revoked ones', async () => {
    const group = uniqueTopic('g');
    const a = await join(group);
    expect(a.assignment.map((l) => l.partition).sort()).toEqual([0, 1, 2, 3]);
    const b = await join(group);
    await settle(group, a, b);
    const partitions = [...a.assignment, ...b.assignment].map((l) => l.partition).sort();
    expect(partitions).toEqual([0, 1, 2, 3]);
    // Moved leases got a new epoch: the old owner's epoch no longer commits.
    const described = await api('GET', `/v1/groups/${group}`);
    expect(described.status).toBe(200);
    expect(described.body.members.map((m: { memberId: string }) => m.memberId).sort()).toEqual(
      [a.memberId, b.memberId].sort(),
    );
    for (const m of [a, b]) {
      expect(
        (await api('POST', `/v1/groups/${group}/members/${m.memberId}/leave`, { session: m.session })).status,
      ).toBe(204);
    }
  });

  it('consumes from committed offsets, commits with fencing and reports lag', async () => {
    const group = uniqueTopic('g');
    const a = await join(group);
    const consume = async (m: Member, body: Record<string, unknown> = {}) => {
      const response = await api(
        'POST',
        `/v1/groups/${group}/members/${m.memberId}/topics/${topic}/records`,
        {
          session: m.session,
          offsetReset: 'earliest',
          encoding: 'utf8',
          maxRecords: 5,
          ...body,
        },
      );
      expect(response.status).toBe(200);
      return response.body.batches as {
        partition: number;
        records: { value: string }[];
        nextOffset: number;
      }[];
    };
    const first = await consume(a);
    expect(first).toHaveLength(4);
    expect(first.map((b) => b.records.length)).toEqual([5, 5, 5, 5]);
    const p0 = first.find((b) => b.partition === 0)!;
    expect(p0.records.map((r) => r.value)).toEqual(['r0', 'r4', 'r8', 'r12', 'r16']);
    const offsets = first.map((b) => {
      const lease = a.assignment.find((l) => l.partition === b.partition)!;
      return { topic, partition: b.partition, offset: b.nextOffset, epoch: lease.epoch };
    });
    expect(
      (
        await api('POST', `/v1/groups/${group}/offsets`, {
          memberId: a.memberId,
          session: a.session,
          offsets,
        })
      ).status,
    ).toBe(204);
    // The next consume continues after the commit.
    const second = await consume(a);
    expect(second.find((b) => b.partition === 0)!.records.map((r) => r.value)).toEqual([
      'r20',
      'r24',
      'r28',
      'r32',
      'r36',
    ]);
    // Explicit positions override the committed offsets.
    const again = await consume(a, { positions: [{ partition: 0, offset: 9 }] });
    expect(again.find((b) => b.partition === 0)!.records[0]!.value).toBe('r36');
    const lag = await api('GET', `/v1/groups/${group}`);
    expect(lag.body.partitions.map((p: { lag: number }) => p.lag)).toEqual([5, 5, 5, 5]);

    // A zombie: `a` stops heartbeating, `b` takes over after the session timeout; a's epoch is fenced.
    const b = await join(group);
    for (let i = 0; i < 40 && b.assignment.length < 4; i++) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      await heartbeat(group, b);
    }
    expect(b.assignment).toHaveLength(4);
    const fenced = await api('POST', `/v1/groups/${group}/offsets`, {
      memberId: a.memberId,
      session: a.session,
      offsets: [{ ...offsets[0]!, offset: 10 }],
    });
    expect(fenced.status).toBe(409);
    expect(fenced.body.error.code).toBe('LEASE_LOST');
    // The zombie's next heartbeat tells it what it lost.
    const woke = await heartbeat(group, a);
    expect(woke.assignment).toHaveLength(0);
    expect(woke.lost.map((l) => l.partition).sort()).toEqual([0, 1, 2, 3]);
    // b continues from a's last commit.
    const fromCommit = await consume(b);
    expect(fromCommit.find((batch) => batch.partition === 0)!.records[0]!.value).toBe('r20');
  });

  it('long-polls a consume until records arrive', async () => {
    const group = uniqueTopic('g');
    const a = await join(group);
    const pending = api('POST', `/v1/groups/${group}/members/${a.memberId}/topics/${topic}/records`, {
      session: a.session,
      offsetReset: 'latest',
      encoding: 'utf8',
      maxWaitMs: 15_000,
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(
      (await api('POST', `/v1/topics/${topic}/records`, { records: [{ value: 'late', partition: 2 }] }))
        .status,
    ).toBe(200);
    const response = await pending;
    expect(response.status).toBe(200);
    const withRecords = response.body.batches.filter((b: { records: unknown[] }) => b.records.length > 0);
    expect(withRecords).toHaveLength(1);
    expect(withRecords[0].records[0].value).toBe('late');
  });
});
