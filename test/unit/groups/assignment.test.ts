import { describe, expect, it } from 'vitest';
import {
  idealAssignment,
  type LeaseView,
  leaseKey,
  type MemberView,
} from '../../../sdk/src/groups/assignment.ts';
import { seededRandom } from '../../helpers/random.ts';

type Assignment = ReadonlyMap<string, string>;

/** `count` leases of `topic`, owned as `owner(partition)` says (nobody by default). */
function leasesOf(
  topic: string,
  count: number,
  owner: (partition: number) => string | undefined = () => undefined,
): LeaseView[] {
  return Array.from({ length: count }, (_, partition) => ({ topic, partition, owner: owner(partition) }));
}

function member(memberId: string, ...topics: string[]): MemberView {
  return { memberId, topics };
}

/** The lease table after every member has taken or released leases to match `assignment`. */
function settle(leases: readonly LeaseView[], assignment: Assignment): LeaseView[] {
  return leases.map((lease) => ({ ...lease, owner: assignment.get(leaseKey(lease.topic, lease.partition)) }));
}

/** Leases that had an owner and end up with a different one (or none). */
function moved(before: readonly LeaseView[], after: Assignment): LeaseView[] {
  return before.filter(
    (lease) => lease.owner !== undefined && after.get(leaseKey(lease.topic, lease.partition)) !== lease.owner,
  );
}

/** How many leases each member gets, optionally only those of one topic. */
function counts(assignment: Assignment, topic?: string): Map<string, number> {
  const result = new Map<string, number>();
  for (const [key, owner] of assignment) {
    if (topic === undefined || key.startsWith(`${topic}:`)) result.set(owner, (result.get(owner) ?? 0) + 1);
  }
  return result;
}

function sortedEntries(assignment: Assignment): [string, string][] {
  return [...assignment].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

const prng = seededRandom;

function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy;
}

describe('leaseKey', () => {
  it('joins topic and partition with a colon', () => {
    expect(leaseKey('orders', 7)).toBe('orders:7');
  });
});

describe('idealAssignment examples', () => {
  const leases = leasesOf('orders', 12);
  const three = [member('a', 'orders'), member('b', 'orders'), member('c', 'orders')];
  const settled = settle(leases, idealAssignment(leases, three));

  it('splits 12 free partitions 4/4/4 among 3 members', () => {
    const assignment = idealAssignment(leases, three);
    expect(assignment.size).toBe(12);
    expect(counts(assignment)).toEqual(
      new Map([
        ['a', 4],
        ['b', 4],
        ['c', 4],
      ]),
    );
  });

  it('moves exactly 3 leases, all to the new member, when a 4th joins', () => {
    const after = idealAssignment(settled, [...three, member('d', 'orders')]);
    expect([...counts(after).values()]).toEqual([3, 3, 3, 3]);
    const changed = moved(settled, after);
    expect(changed).toHaveLength(3);
    for (const lease of changed) expect(after.get(leaseKey(lease.topic, lease.partition))).toBe('d');
  });

  it('spreads a crashed member’s leases and moves no others', () => {
    const crashed = three.filter((m) => m.memberId !== 'b');
    const after = idealAssignment(settled, crashed);
    expect(counts(after)).toEqual(
      new Map([
        ['a', 6],
        ['c', 6],
      ]),
    );
    const changed = moved(settled, after);
    expect(changed).toHaveLength(4);
    for (const lease of changed) expect(lease.owner).toBe('b');
  });

  it('keeps an assignment unchanged when nothing changes', () => {
    expect(moved(settled, idealAssignment(settled, three))).toEqual([]);
  });

  it('lets an owner over quota keep its lowest-numbered partitions', () => {
    const allA = leasesOf('orders', 6, () => 'a');
    const after = idealAssignment(allA, [member('a', 'orders'), member('b', 'orders')]);
    expect(sortedEntries(after)).toEqual([
      ['orders:0', 'a'],
      ['orders:1', 'a'],
      ['orders:2', 'a'],
      ['orders:3', 'b'],
      ['orders:4', 'b'],
      ['orders:5', 'b'],
    ]);
  });

  it('leaves a balanced table alone whichever members hold the extra partitions', () => {
    const table = leasesOf('orders', 5, (p) => (p < 3 ? 'b' : 'a'));
    expect(moved(table, idealAssignment(table, [member('a', 'orders'), member('b', 'orders')]))).toEqual([]);
  });

  it('treats an owner that is not live as no owner', () => {
    const ghostly = leasesOf('orders', 4, (p) => (p < 3 ? 'ghost' : 'a'));
    const after = idealAssignment(ghostly, [member('a', 'orders'), member('b', 'orders')]);
    expect(after.get('orders:3')).toBe('a');
    expect(counts(after)).toEqual(
      new Map([
        ['a', 2],
        ['b', 2],
      ]),
    );
    expect([...after.values()]).not.toContain('ghost');
  });

  it('treats a live owner that no longer subscribes to the topic as no owner', () => {
    const held = leasesOf('orders', 2, () => 'a');
    const after = idealAssignment(held, [member('a', 'payments'), member('b', 'orders')]);
    expect([...after.values()]).toEqual(['b', 'b']);
  });
});

describe('idealAssignment with heterogeneous subscriptions', () => {
  const leases = [...leasesOf('A', 5), ...leasesOf('B', 7), ...leasesOf('C', 3)];
  const members = [member('onlyA', 'A'), member('both', 'A', 'B'), member('onlyB', 'B'), member('bToo', 'B')];
  const assignment = idealAssignment(leases, members);

  it('gives each member only leases of topics it subscribes to', () => {
    for (const [key, owner] of assignment) {
      const topic = key.slice(0, key.indexOf(':'));
      expect(members.find((m) => m.memberId === owner)?.topics, key).toContain(topic);
    }
  });

  it('balances each topic among its eligible members', () => {
    expect([...counts(assignment, 'A').values()].sort()).toEqual([2, 3]);
    expect([...counts(assignment, 'B').values()].sort()).toEqual([2, 2, 3]);
  });

  it('leaves out leases of topics nobody subscribes to', () => {
    expect(assignment.size).toBe(12);
    expect([...assignment.keys()].some((key) => key.startsWith('C:'))).toBe(false);
    expect(idealAssignment(leases, [])).toEqual(new Map());
  });
});

describe('idealAssignment balance across topics', () => {
  it('rotates the extra partitions so no member always gets them', () => {
    const leases = ['t1', 't2', 't3'].flatMap((topic) => leasesOf(topic, 4));
    const members = ['a', 'b', 'c'].map((id) => member(id, 't1', 't2', 't3'));
    expect([...counts(idealAssignment(leases, members)).values()]).toEqual([4, 4, 4]);
  });

  it('keeps every member’s total within one of the mean over many odd-sized topics', () => {
    const topics = Array.from({ length: 40 }, (_, i) => `topic-${i}`);
    const leases = topics.flatMap((topic, i) => leasesOf(topic, 2 * (i % 9) + 1));
    const members = Array.from({ length: 7 }, (_, i) => member(`m${i}`, ...topics));
    const assignment = idealAssignment(leases, members);
    const mean = leases.length / members.length;
    const totals = counts(assignment);
    expect(totals.size).toBe(7);
    for (const total of totals.values()) {
      expect(total).toBeGreaterThanOrEqual(Math.floor(mean));
      expect(total).toBeLessThanOrEqual(Math.ceil(mean));
    }
  });
});

describe('idealAssignment determinism', () => {
  it('gives the same result for any order of leases, members and topics', () => {
    const random = prng(42);
    const topics = ['x', 'y', 'z'];
    const ids = ['m1', 'm2', 'm3', 'm4', 'm5'];
    const leases = topics.flatMap((topic, t) =>
      leasesOf(topic, 5 + 3 * t, (p) => (p % 3 === 0 ? undefined : p % 3 === 1 ? 'ghost' : ids[p % 5])),
    );
    const members = ids.map((id, i) => member(id, ...topics.slice(0, 1 + (i % 3))));
    const reference = sortedEntries(idealAssignment(leases, members));
    for (let round = 0; round < 50; round++) {
      const permutedMembers = shuffled(members, random).map((m) =>
        member(m.memberId, ...shuffled(m.topics, random)),
      );
      const result = idealAssignment(shuffled(leases, random), permutedMembers);
      expect(sortedEntries(result), `round ${round}`).toEqual(reference);
    }
  });

  it('tolerates duplicate leases and members whatever their order', () => {
    const leases = [
      { topic: 't', partition: 0, owner: 'b' },
      { topic: 't', partition: 0, owner: 'a' },
      { topic: 't', partition: 0, owner: 'ghost' },
      { topic: 't', partition: 1, owner: undefined },
    ];
    const members = [member('b', 't'), member('a'), member('a', 't')];
    const reference = sortedEntries(idealAssignment(leases, members));
    expect(reference).toEqual([
      ['t:0', 'a'],
      ['t:1', 'b'],
    ]);
    expect(sortedEntries(idealAssignment([...leases].reverse(), [...members].reverse()))).toEqual(reference);
  });
});

interface Group {
  readonly leases: LeaseView[];
  readonly members: MemberView[];
  readonly topics: string[];
  /** Every member subscribes to every topic. */
  readonly uniform: boolean;
}

function randomGroup(random: () => number): Group {
  const int = (n: number): number => Math.floor(random() * n);
  const topics = Array.from({ length: 1 + int(5) }, (_, i) => `topic${i}-${int(100)}`);
  const uniform = random() < 0.4;
  const subscription = (): string[] => (uniform ? [...topics] : topics.filter(() => random() < 0.6));
  const ids = [...new Set(Array.from({ length: 1 + int(10) }, () => `m${int(1000)}`))];
  const members = ids.map((id) => member(id, ...subscription()));
  const owner = (): string | undefined => {
    const roll = random();
    if (roll < 0.3) return undefined;
    if (roll < 0.4) return `ghost${int(3)}`;
    return ids[int(ids.length)];
  };
  const leases = topics.flatMap((topic) => leasesOf(topic, int(40), owner));
  return { leases, members, topics, uniform };
}

/** Checks everything that must hold for any group; `context` names the seed on failure. */
function checkInvariants(group: Group, assignment: Assignment, context: string): void {
  const { leases, members, topics, uniform } = group;
  const eligible = (topic: string): string[] =>
    members.filter((m) => m.topics.includes(topic)).map((m) => m.memberId);

  // Every lease with an eligible member is assigned exactly once, to an eligible member.
  const expectedKeys = leases
    .filter((lease) => eligible(lease.topic).length > 0)
    .map((lease) => leaseKey(lease.topic, lease.partition));
  expect([...assignment.keys()].sort(), context).toEqual(expectedKeys.sort());
  for (const lease of leases) {
    const owner = assignment.get(leaseKey(lease.topic, lease.partition));
    if (owner !== undefined) expect(eligible(lease.topic), context).toContain(owner);
  }

  for (const topic of topics) {
    const subscribers = eligible(topic);
    const topicLeases = leases.filter((lease) => lease.topic === topic);
    if (subscribers.length === 0 || topicLeases.length === 0) continue;
    // Balance: floor or ceil of the topic's share for every eligible member.
    const perMember = counts(assignment, topic);
    const share = topicLeases.length / subscribers.length;
    for (const id of subscribers) {
      const got = perMember.get(id) ?? 0;
      expect(got, `${context} ${topic} ${id}`).toBeGreaterThanOrEqual(Math.floor(share));
      expect(got, `${context} ${topic} ${id}`).toBeLessThanOrEqual(Math.ceil(share));
    }
    // Minimal movement: each valid owner keeps min(held, assigned) leases, its lowest-numbered ones.
    for (const id of subscribers) {
      const held = topicLeases
        .filter((lease) => lease.owner === id)
        .map((lease) => lease.partition)
        .sort((a, b) => a - b);
      const kept = held.filter((partition) => assignment.get(leaseKey(topic, partition)) === id);
      expect(kept, `${context} ${topic} ${id}`).toEqual(
        held.slice(0, Math.min(held.length, perMember.get(id) ?? 0)),
      );
    }
  }

  if (uniform && members.length > 0 && assignment.size > 0) {
    const mean = assignment.size / members.length;
    for (const id of members.map((m) => m.memberId)) {
      const total = counts(assignment).get(id) ?? 0;
      expect(total, `${context} total of ${id}`).toBeGreaterThanOrEqual(Math.floor(mean));
      expect(total, `${context} total of ${id}`).toBeLessThanOrEqual(Math.ceil(mean));
    }
  }
}

describe('idealAssignment properties over random groups', () => {
  const seeds = Array.from({ length: 300 }, (_, i) => 0x7a1b + i);

  it('is balanced, complete, minimal-movement, deterministic and a fixed point', () => {
    for (const seed of seeds) {
      const context = `seed ${seed}`;
      const random = prng(seed);
      const group = randomGroup(random);
      const assignment = idealAssignment(group.leases, group.members);
      checkInvariants(group, assignment, context);

      const permuted = idealAssignment(
        shuffled(group.leases, random),
        shuffled(group.members, random).map((m) => member(m.memberId, ...shuffled(m.topics, random))),
      );
      expect(sortedEntries(permuted), context).toEqual(sortedEntries(assignment));

      const settled = settle(group.leases, assignment);
      expect(moved(settled, idealAssignment(settled, group.members)), context).toEqual([]);

      // Joins and leaves across topics keep every invariant (movement minimal for the new quotas).
      const joinerTopics = group.uniform ? group.topics : group.topics.filter(() => random() < 0.7);
      const joined = [...group.members, member('newcomer', ...joinerTopics)];
      checkInvariants(
        { ...group, leases: settled, members: joined },
        idealAssignment(settled, joined),
        context,
      );
      const remaining = group.members.slice(1);
      const left = { ...group, leases: settled, members: remaining };
      checkInvariants(left, idealAssignment(settled, remaining), `${context} leave`);
    }
  });

  it('moves only the leases a join or a leave requires within a topic, step after step', () => {
    const topic = 'solo';
    for (const seed of seeds) {
      const random = prng(seed);
      const int = (n: number): number => Math.floor(random() * n);
      // Start from a balanced table whose extras are held by random members: nothing moves.
      let members = randomGroup(random).members.map((m) => member(m.memberId, topic));
      const count = 1 + int(40);
      const base = Math.floor(count / members.length);
      const holders = shuffled(members, random).flatMap((m, i) =>
        Array<string>(i < count % members.length ? base + 1 : base).fill(m.memberId),
      );
      let table = leasesOf(topic, count, (p) => holders[p]);
      expect(moved(table, idealAssignment(table, members)), `seed ${seed} balanced start`).toEqual([]);

      for (let step = 0; step < 8; step++) {
        const context = `seed ${seed} step ${step}`;
        const join = members.length <= 1 || random() < 0.5;
        // A random id, so the newcomer sorts anywhere among the members.
        const newcomer = member(`m${int(1000)}-${step}`, topic);
        const leaver = members[int(members.length)]!;
        const next = join ? [...members, newcomer] : members.filter((m) => m !== leaver);
        const assignment = idealAssignment(table, next);
        const group: Group = { leases: table, members: next, topics: [topic], uniform: true };
        checkInvariants(group, assignment, context);
        const changed = moved(table, assignment);
        if (join) {
          // Every lease that changes hands goes to the newcomer, which gets at most its quota.
          for (const lease of changed) {
            expect(assignment.get(leaseKey(topic, lease.partition)), context).toBe(newcomer.memberId);
          }
          expect(changed.length, context).toBeLessThanOrEqual(Math.ceil(table.length / next.length));
        } else {
          // Only the leaver's leases change hands.
          for (const lease of changed) expect(lease.owner, context).toBe(leaver.memberId);
        }
        members = next;
        table = settle(table, assignment);
      }
    }
  });
});
