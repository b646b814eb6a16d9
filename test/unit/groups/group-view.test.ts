import { describe, expect, it } from 'vitest';
import {
  FULL_READ_EVERY_HEARTBEATS,
  type MemberFacts,
  NO_VIEW,
  needsLeaseRead,
  type TopicFacts,
  viewFingerprint,
} from '../../../sdk/src/groups/group-view.ts';

const members: MemberFacts[] = [
  { memberId: 'a', changes: 10, topics: ['orders', 'payments'], live: true },
  { memberId: 'b', changes: 3, topics: ['orders'], live: true },
  { memberId: 'c', changes: 7, topics: ['orders'], live: false },
];
const topics: TopicFacts[] = [
  { name: 'orders', incarnation: 'i1', partitions: 12 },
  { name: 'payments', incarnation: 'i2', partitions: 3 },
];
const base = viewFingerprint(members, topics);

describe('viewFingerprint', () => {
  it('does not depend on the order items were read in', () => {
    const shuffled = [members[2]!, members[0]!, { ...members[1]!, topics: ['orders'] }];
    const a = { ...members[0]!, topics: ['payments', 'orders'] };
    expect(viewFingerprint([a, shuffled[0]!, shuffled[2]!], [...topics].reverse())).toBe(base);
  });

  it('moves with everything the assignment depends on', () => {
    const variants: [string, MemberFacts[], TopicFacts[]][] = [
      ['a change counter', [{ ...members[0]!, changes: 11 }, members[1]!, members[2]!], topics],
      ['a liveness verdict', [members[0]!, members[1]!, { ...members[2]!, live: true }], topics],
      ['a subscription', [members[0]!, { ...members[1]!, topics: ['payments'] }, members[2]!], topics],
      ['a join', [...members, { memberId: 'd', changes: 0, topics: ['orders'], live: true }], topics],
      ['a leave', members.slice(0, 2), topics],
      ['a partition count', members, [{ ...topics[0]!, partitions: 13 }, topics[1]!]],
      ['a recreated topic', members, [topics[0]!, { ...topics[1]!, incarnation: 'i3' }]],
    ];
    const seen = new Set([base]);
    for (const [what, m, t] of variants) {
      const fingerprint = viewFingerprint(m, t);
      expect(seen.has(fingerprint), what).toBe(false);
      seen.add(fingerprint);
    }
  });

  it('is 22 characters of base64url (what a session carries)', () => {
    expect(base).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });
});

describe('needsLeaseRead', () => {
  it('reads when there is no view or it changed, and once every FULL_READ_EVERY_HEARTBEATS heartbeats', () => {
    expect(needsLeaseRead(NO_VIEW, base)).toBe(true);
    expect(needsLeaseRead({ fingerprint: 'x'.repeat(22), age: 0 }, base)).toBe(true);
    expect(needsLeaseRead({ fingerprint: base, age: 0 }, base)).toBe(false);
    // The read comes at the FULL_READ_EVERY_HEARTBEATS-th heartbeat after the last one.
    expect(needsLeaseRead({ fingerprint: base, age: FULL_READ_EVERY_HEARTBEATS - 2 }, base)).toBe(false);
    expect(needsLeaseRead({ fingerprint: base, age: FULL_READ_EVERY_HEARTBEATS - 1 }, base)).toBe(true);
  });
});
