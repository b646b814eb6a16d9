/**
 * Kafka's classic group protocol as pure transitions (`gateway/classic-group.ts`), table by table:
 * what a join does to the group (a first member, a known follower, a leader, changed metadata,
 * static members replacing each other, protocols that do not fit, a state too large to store),
 * how a round completes (generation, leader, the protocol vote, members that did not rejoin), what
 * leaving does, which error a member's Heartbeat, SyncGroup or commit gets, and what a sync does.
 * The expected outcomes are those of Kafka's own coordinator (`GroupCoordinator`/`ClassicGroup`).
 */
import { describe, expect, it } from 'vitest';
import {
  addPendingMember,
  allJoined,
  completeRound,
  heartbeatProblem,
  type JoinDecision,
  type JoinRequest,
  join,
  MAX_PENDING_MEMBERS,
  memberProblem,
  removeMembers,
  sync,
} from '../../../gateway/classic-group.ts';
import { KafkaError } from '../../../gateway/kafka-errors.ts';
import {
  type ClassicGroup,
  type ClassicMember,
  type ClassicProtocol,
  EMPTY_CLASSIC_GROUP,
  MAX_CLASSIC_ITEM_BYTES,
} from '../../../sdk/src/internal.ts';

const bytes = (text: string): Uint8Array => new Uint8Array(Buffer.from(text));

/** A protocol named `name` whose metadata is `metadata` (default: the name). */
const protocol = (name: string, metadata = name): ClassicProtocol => ({ name, metadata: bytes(metadata) });

function request(memberId: string, overrides: Partial<JoinRequest> = {}): JoinRequest {
  return {
    memberId,
    // A member id the coordinator just handed out (v0-3, or static): the usual first join.
    newMemberId: true,
    now: 1_000,
    instanceId: undefined,
    clientId: 'client',
    clientHost: '127.0.0.1',
    sessionTimeoutMs: 10_000,
    rebalanceTimeoutMs: 30_000,
    protocolType: 'consumer',
    protocols: [protocol('range')],
    ...overrides,
  };
}

function member(memberId: string, overrides: Partial<ClassicMember> = {}): ClassicMember {
  return {
    memberId,
    instanceId: undefined,
    clientId: 'client',
    clientHost: '127.0.0.1',
    sessionTimeoutMs: 10_000,
    rebalanceTimeoutMs: 30_000,
    protocols: [protocol('range')],
    joinedFor: 0,
    assignment: undefined,
    ...overrides,
  };
}

/**
 * A group read at version 7 in `state`, generation `generation`, led by the first member, with
 * protocol "range"; every member joined for the current generation and, when Stable, holds an
 * assignment naming it.
 */
function groupOf(
  state: ClassicGroup['state'],
  members: readonly ClassicMember[],
  generation = 3,
  overrides: Partial<ClassicGroup> = {},
): ClassicGroup {
  return {
    version: 7,
    pending: [],
    state,
    generation,
    protocolType: 'consumer',
    protocolName: 'range',
    leader: members[0]?.memberId,
    members: members.map((m) => ({
      ...m,
      joinedFor: generation,
      assignment: state === 'Stable' ? bytes(`assigned-to-${m.memberId}`) : undefined,
    })),
    initialRebalance: false,
    ...overrides,
  };
}

const stable = (...ids: string[]): ClassicGroup =>
  groupOf(
    'Stable',
    ids.map((id) => member(id)),
  );

/** The state a join waits in; fails when the join was not a 'wait'. */
function waiting(decision: JoinDecision): ClassicGroup {
  if (decision.kind !== 'wait') throw new Error(`Expected the join to wait, got ${JSON.stringify(decision)}`);
  return decision.next;
}

function memberOf(group: ClassicGroup, memberId: string): ClassicMember {
  const found = group.members.find((m) => m.memberId === memberId);
  if (!found) throw new Error(`No member ${memberId} in ${group.members.map((m) => m.memberId).join(', ')}`);
  return found;
}

describe('join', () => {
  it('the first member of a group starts its initial rebalance for generation 1', () => {
    const next = waiting(
      join(EMPTY_CLASSIC_GROUP, request('a', { protocols: [protocol('range', 'sub-a')] })),
    );
    expect(next).toMatchObject({
      // The version read: the coordinator writes conditionally on it.
      version: 0,
      state: 'PreparingRebalance',
      generation: 0,
      protocolType: 'consumer',
      initialRebalance: true,
      leader: undefined,
    });
    expect(next.members).toEqual([member('a', { joinedFor: 1, protocols: [protocol('range', 'sub-a')] })]);
    expect(allJoined(next)).toBe(true);
  });

  it('a second member joining the pending initial rebalance keeps it initial', () => {
    const first = waiting(join(EMPTY_CLASSIC_GROUP, request('a')));
    const next = waiting(join(first, request('b')));
    expect(next.initialRebalance).toBe(true);
    expect(next.members.map((m) => [m.memberId, m.joinedFor])).toEqual([
      ['a', 1],
      ['b', 1],
    ]);
  });

  it('a new member joining a Stable group starts a rebalance in which the others must join again', () => {
    const group = stable('a', 'b');
    const next = waiting(join(group, request('c')));
    expect(next).toMatchObject({ version: 7, state: 'PreparingRebalance', generation: 3, leader: 'a' });
    expect(next.initialRebalance).toBe(false);
    expect(next.members.map((m) => [m.memberId, m.joinedFor, m.assignment])).toEqual([
      ['a', 3, undefined],
      ['b', 3, undefined],
      ['c', 4, undefined],
    ]);
    expect(allJoined(next)).toBe(false);
  });

  it.each([
    {
      case: 'a follower with the same protocols',
      who: 'b',
      protocols: [protocol('range')],
      expected: 'current',
    },
    {
      case: 'a follower with changed metadata',
      who: 'b',
      protocols: [protocol('range', 'other-topics')],
      expected: 'wait',
    },
    {
      case: 'a follower offering another protocol too',
      who: 'b',
      protocols: [protocol('range'), protocol('roundrobin')],
      expected: 'wait',
    },
    {
      case: 'the leader with the same protocols',
      who: 'a',
      protocols: [protocol('range')],
      expected: 'wait',
    },
  ])('in Stable, a rejoin of $case: $expected', ({ who, protocols, expected }) => {
    const decision = join(stable('a', 'b'), request(who, { protocols }));
    expect(decision.kind).toBe(expected);
    if (decision.kind === 'current') expect(decision.next).toBeUndefined();
    if (decision.kind === 'wait') {
      expect(decision.next.state).toBe('PreparingRebalance');
      expect(memberOf(decision.next, who)).toMatchObject({ joinedFor: 4, protocols });
    }
  });

  it('in CompletingRebalance, a follower joining again with the same protocols gets the current generation', () => {
    const group = groupOf('CompletingRebalance', [member('a'), member('b')]);
    expect(join(group, request('b'))).toEqual({ kind: 'current', next: undefined });
  });

  it('in CompletingRebalance, the leader joining again with the same protocols gets the current generation (Kafka: no rebalance)', () => {
    // Kafka answers a member of a CompletingRebalance group whose protocols match with the current
    // generation, the leader included (its JoinGroup answer was lost): no new round.
    const group = groupOf('CompletingRebalance', [member('a'), member('b')]);
    expect(join(group, request('a')).kind).toBe('current');
  });

  it('in CompletingRebalance, changed metadata starts a rebalance', () => {
    const group = groupOf('CompletingRebalance', [member('a'), member('b')]);
    const next = waiting(join(group, request('b', { protocols: [protocol('range', 'new')] })));
    expect(next.state).toBe('PreparingRebalance');
    expect(memberOf(next, 'b').joinedFor).toBe(4);
  });

  it('in PreparingRebalance, a known member joining again joins the pending round with its new protocols', () => {
    const pending = waiting(join(stable('a', 'b'), request('c')));
    const next = waiting(join(pending, request('a', { protocols: [protocol('range', 'v2')] })));
    expect(memberOf(next, 'a')).toMatchObject({ joinedFor: 4, protocols: [protocol('range', 'v2')] });
    expect(allJoined(next)).toBe(false);
    expect(allJoined(waiting(join(next, request('b'))))).toBe(true);
  });

  it.each([
    { case: 'no protocol type', group: EMPTY_CLASSIC_GROUP, req: request('a', { protocolType: '' }) },
    { case: 'an empty protocol list', group: EMPTY_CLASSIC_GROUP, req: request('a', { protocols: [] }) },
    {
      case: 'another protocol type than the members’',
      group: stable('a'),
      req: request('b', { protocolType: 'connect' }),
    },
    {
      case: 'no protocol every member offers',
      group: stable('a'),
      req: request('b', { protocols: [protocol('roundrobin'), protocol('sticky')] }),
    },
    {
      case: 'no protocol every member offers (a pending round)',
      group: waiting(join(stable('a'), request('b', { protocols: [protocol('range'), protocol('sticky')] }))),
      req: request('c', { protocols: [protocol('sticky')] }),
    },
  ])('INCONSISTENT_GROUP_PROTOCOL for $case', ({ group, req }) => {
    expect(join(group, req)).toMatchObject({ kind: 'error', code: KafkaError.INCONSISTENT_GROUP_PROTOCOL });
  });

  it('a static member coming back with a fresh id replaces (fences) its previous id, keeping its assignment', () => {
    const group = groupOf('Stable', [member('lead'), member('old', { instanceId: 'i-1' })]);
    const decision = join(group, request('new', { newMemberId: true, instanceId: 'i-1' }));
    if (decision.kind !== 'current' || !decision.next) throw new Error(`Got ${JSON.stringify(decision)}`);
    // The coordinator drops the replaced id's liveness item.
    expect(decision.replaced).toBe('old');
    const next = decision.next;
    expect(next.members.map((m) => m.memberId)).toEqual(['lead', 'new']);
    expect(memberOf(next, 'new')).toMatchObject({ instanceId: 'i-1', assignment: bytes('assigned-to-old') });
    expect(next.state).toBe('Stable');
    expect(next.generation).toBe(3);
    // The previous id is fenced: its requests naming the instance get FENCED_INSTANCE_ID.
    expect(memberProblem(next, 'old', 'i-1', 3)?.code).toBe(KafkaError.FENCED_INSTANCE_ID);
    expect(heartbeatProblem(next, 'old', 'i-1', 3)?.code).toBe(KafkaError.FENCED_INSTANCE_ID);
    expect(memberProblem(next, 'new', 'i-1', 3)).toBeUndefined();
  });

  it('a static member coming back with protocols that change the group’s choice replaces its id and starts a rebalance', () => {
    const both = (first: string, second: string) => [protocol(first), protocol(second)];
    const group = groupOf('Stable', [
      member('lead', { protocols: both('roundrobin', 'range') }),
      member('x', { protocols: both('range', 'roundrobin') }),
      member('old', { instanceId: 'i-1', protocols: both('range', 'roundrobin') }),
    ]);
    // Its new preference tips the vote from range (the group's) to roundrobin.
    const decision = join(
      group,
      request('new', { newMemberId: true, instanceId: 'i-1', protocols: both('roundrobin', 'range') }),
    );
    expect(decision).toMatchObject({ kind: 'wait', replaced: 'old' });
    const next = waiting(decision);
    expect(next.state).toBe('PreparingRebalance');
    expect(next.members.map((m) => [m.memberId, m.joinedFor])).toEqual([
      ['lead', 3],
      ['x', 3],
      ['new', 4],
    ]);
  });

  // Kafka (KIP-345, `updateStaticMemberThenRebalanceOrCompleteJoin`): in Stable, a static member
  // replaced with a fresh id triggers no rebalance as long as the protocol the group would select
  // stays the one it uses, whether or not it leads and whatever its metadata.
  it.each([
    {
      case: 'the static leader with the same protocols',
      members: [member('old', { instanceId: 'i-1' }), member('other')],
      protocols: [protocol('range')],
    },
    {
      case: 'a static follower with new metadata of the same protocol',
      members: [member('lead'), member('old', { instanceId: 'i-1' })],
      protocols: [protocol('range', 'new-subscription')],
    },
  ])('in Stable, $case coming back with a fresh id: no rebalance (Kafka)', ({ members, protocols }) => {
    const group = groupOf('Stable', members);
    const decision = join(group, request('new', { newMemberId: true, instanceId: 'i-1', protocols }));
    expect(decision.kind).toBe('current');
    if (decision.kind !== 'current' || !decision.next) return;
    expect(decision.next.state).toBe('Stable');
    expect(memberOf(decision.next, 'new').assignment).toEqual(bytes('assigned-to-old'));
    expect(decision.next.leader).toBe(group.leader === 'old' ? 'new' : group.leader);
  });

  it('FENCED_INSTANCE_ID for an instance id held by another member id, unless the id is fresh', () => {
    const group = groupOf('Stable', [member('lead'), member('old', { instanceId: 'i-1' })]);
    expect(join(group, request('someone-else', { instanceId: 'i-1', newMemberId: false }))).toMatchObject({
      kind: 'error',
      code: KafkaError.FENCED_INSTANCE_ID,
    });
  });

  it('KIP-394: only a member id the group handed out (and not expired) joins; another is UNKNOWN_MEMBER_ID', () => {
    const stranger = join(EMPTY_CLASSIC_GROUP, request('made-up', { newMemberId: false }));
    expect(stranger).toMatchObject({ kind: 'error', code: KafkaError.UNKNOWN_MEMBER_ID });
    const handedOut = addPendingMember(EMPTY_CLASSIC_GROUP, 'given', 5_000, 1_000);
    const joined = waiting(join(handedOut, request('given', { newMemberId: false, now: 2_000 })));
    expect(joined.members.map((m) => m.memberId)).toEqual(['given']);
    expect(joined.pending).toEqual([]);
    // Past its window the id is refused, and dropped from the state.
    expect(join(handedOut, request('given', { newMemberId: false, now: 6_000 }))).toMatchObject({
      kind: 'error',
      code: KafkaError.UNKNOWN_MEMBER_ID,
    });
  });

  it('remembers at most MAX_PENDING_MEMBERS handed-out ids, dropping the oldest and the expired', () => {
    let group = EMPTY_CLASSIC_GROUP;
    for (let i = 0; i < MAX_PENDING_MEMBERS + 5; i++) group = addPendingMember(group, `m${i}`, 10_000, 1_000);
    expect(group.pending).toHaveLength(MAX_PENDING_MEMBERS);
    expect(group.pending[0]!.memberId).toBe('m5');
    expect(addPendingMember(group, 'late', 20_000, 15_000).pending).toEqual([
      { memberId: 'late', until: 20_000 },
    ]);
  });

  it('GROUP_MAX_SIZE_REACHED when the members’ metadata would not fit in the state item', () => {
    const huge = { name: 'range', metadata: new Uint8Array(MAX_CLASSIC_ITEM_BYTES) };
    expect(join(EMPTY_CLASSIC_GROUP, request('a', { protocols: [huge] }))).toMatchObject({
      kind: 'error',
      code: KafkaError.GROUP_MAX_SIZE_REACHED,
    });
    // Many members that fit one by one, not all together.
    const big = { name: 'range', metadata: new Uint8Array(Math.floor(MAX_CLASSIC_ITEM_BYTES / 4)) };
    let group: ClassicGroup = EMPTY_CLASSIC_GROUP;
    for (const id of ['a', 'b', 'c']) group = waiting(join(group, request(id, { protocols: [big] })));
    expect(join(group, request('d', { protocols: [big] }))).toMatchObject({
      kind: 'error',
      code: KafkaError.GROUP_MAX_SIZE_REACHED,
    });
  });
});

describe('completeRound', () => {
  it('forms the next generation of the members that joined, led by the first one, with no assignments yet', () => {
    let group = waiting(join(EMPTY_CLASSIC_GROUP, request('a')));
    group = waiting(join(group, request('b')));
    const done = completeRound(group);
    expect(done).toMatchObject({
      version: 0,
      state: 'CompletingRebalance',
      generation: 1,
      leader: 'a',
      protocolName: 'range',
      protocolType: 'consumer',
      initialRebalance: false,
    });
    expect(done.members.map((m) => [m.memberId, m.assignment])).toEqual([
      ['a', undefined],
      ['b', undefined],
    ]);
  });

  it('keeps the previous leader while it is a member, and removes members that did not join again', () => {
    const pending = waiting(join(stable('a', 'b', 'c'), request('d')));
    const rejoined = waiting(join(waiting(join(pending, request('c'))), request('a')));
    const done = completeRound(rejoined);
    expect(done.generation).toBe(4);
    expect(done.leader).toBe('a');
    expect(done.members.map((m) => m.memberId)).toEqual(['a', 'c', 'd']);
    // The leader gone: the first member that joined leads.
    const withoutLeader = completeRound(
      waiting(join(waiting(join(stable('a', 'b'), request('c'))), request('b'))),
    );
    expect(withoutLeader.leader).toBe('b');
    expect(withoutLeader.members.map((m) => m.memberId)).toEqual(['b', 'c']);
  });

  it('nobody joined: the group is Empty in the next generation, keeping its protocol type (as Kafka does)', () => {
    const pending = removeMembers(stable('a', 'b'), new Set(['b']));
    if (!pending) throw new Error('b was a member');
    expect(completeRound(pending)).toEqual({
      ...pending,
      state: 'Empty',
      generation: 4,
      protocolType: 'consumer',
      protocolName: undefined,
      leader: undefined,
      members: [],
      initialRebalance: false,
    });
  });

  it.each([
    {
      case: 'the protocol most members prefer, among those all offer',
      offers: [
        ['range', 'roundrobin'],
        ['roundrobin', 'range'],
        ['roundrobin', 'range'],
      ],
      chosen: 'roundrobin',
    },
    {
      case: 'a protocol every member offers, not one only some offer',
      offers: [['sticky', 'range'], ['range'], ['sticky', 'range']],
      chosen: 'range',
    },
    {
      case: 'the unanimous first choice',
      offers: [
        ['cooperative-sticky', 'range'],
        ['cooperative-sticky', 'range'],
      ],
      chosen: 'cooperative-sticky',
    },
    {
      case: 'the preferred common protocol, past names not all offer',
      offers: [
        ['x', 'y', 'range'],
        ['z', 'range', 'y'],
        ['range', 'y'],
      ],
      chosen: 'range',
    },
  ])('chooses $case', ({ offers, chosen }) => {
    let group: ClassicGroup = EMPTY_CLASSIC_GROUP;
    offers.forEach((names, i) => {
      group = waiting(join(group, request(`m${i}`, { protocols: names.map((n) => protocol(n)) })));
    });
    expect(completeRound(group).protocolName).toBe(chosen);
  });
});

describe('removeMembers', () => {
  it('from Stable: the others must join again (PreparingRebalance, assignments void)', () => {
    const next = removeMembers(stable('a', 'b', 'c'), new Set(['b']));
    expect(next).toMatchObject({ version: 7, state: 'PreparingRebalance', generation: 3 });
    expect(next?.members.map((m) => [m.memberId, m.joinedFor, m.assignment])).toEqual([
      ['a', 3, undefined],
      ['c', 3, undefined],
    ]);
  });

  it('from a pending round: the round goes on without them', () => {
    const pending = waiting(join(waiting(join(stable('a', 'b'), request('c'))), request('a')));
    const next = removeMembers(pending, new Set(['b']));
    expect(next?.state).toBe('PreparingRebalance');
    expect(next?.members.map((m) => [m.memberId, m.joinedFor])).toEqual([
      ['a', 4],
      ['c', 4],
    ]);
    expect(next && allJoined(next)).toBe(true);
  });

  it('the last members: Empty in the next generation, keeping its protocol type', () => {
    expect(removeMembers(stable('a', 'b'), new Set(['a', 'b']))).toMatchObject({
      state: 'Empty',
      generation: 4,
      members: [],
      leader: undefined,
      protocolName: undefined,
      protocolType: 'consumer',
    });
  });

  it('nobody of them is a member: nothing to write', () => {
    expect(removeMembers(stable('a'), new Set(['x']))).toBeUndefined();
  });
});

describe('memberProblem and heartbeatProblem', () => {
  const members = [member('a'), member('s', { instanceId: 'i-s' })];
  it.each([
    { state: 'Stable', id: 'a', instance: null, gen: 3, member: undefined, heartbeat: undefined },
    { state: 'Stable', id: 's', instance: 'i-s', gen: 3, member: undefined, heartbeat: undefined },
    {
      state: 'Stable',
      id: 'x',
      instance: null,
      gen: 3,
      member: 'UNKNOWN_MEMBER_ID',
      heartbeat: 'UNKNOWN_MEMBER_ID',
    },
    {
      state: 'Stable',
      id: 'a',
      instance: null,
      gen: 2,
      member: 'ILLEGAL_GENERATION',
      heartbeat: 'ILLEGAL_GENERATION',
    },
    {
      state: 'Stable',
      id: 'a',
      instance: null,
      gen: 4,
      member: 'ILLEGAL_GENERATION',
      heartbeat: 'ILLEGAL_GENERATION',
    },
    {
      state: 'Stable',
      id: 'a',
      instance: 'i-s',
      gen: 3,
      member: 'FENCED_INSTANCE_ID',
      heartbeat: 'FENCED_INSTANCE_ID',
    },
    {
      state: 'PreparingRebalance',
      id: 'a',
      instance: null,
      gen: 3,
      member: undefined,
      heartbeat: 'REBALANCE_IN_PROGRESS',
    },
    {
      state: 'PreparingRebalance',
      id: 'a',
      instance: null,
      gen: 2,
      member: 'ILLEGAL_GENERATION',
      heartbeat: 'ILLEGAL_GENERATION',
    },
    {
      state: 'PreparingRebalance',
      id: 'x',
      instance: null,
      gen: 3,
      member: 'UNKNOWN_MEMBER_ID',
      heartbeat: 'UNKNOWN_MEMBER_ID',
    },
    {
      state: 'CompletingRebalance',
      id: 'a',
      instance: null,
      gen: 3,
      member: undefined,
      heartbeat: undefined,
    },
    {
      state: 'CompletingRebalance',
      id: 'a',
      instance: null,
      gen: 2,
      member: 'ILLEGAL_GENERATION',
      heartbeat: 'ILLEGAL_GENERATION',
    },
  ] as const)(
    '$state, member $id (instance $instance) in generation $gen: $member / heartbeat $heartbeat',
    (row) => {
      const group = groupOf(row.state, members);
      expect(memberProblem(group, row.id, row.instance, row.gen)?.code).toBe(
        row.member === undefined ? undefined : KafkaError[row.member],
      );
      expect(heartbeatProblem(group, row.id, row.instance, row.gen)?.code).toBe(
        row.heartbeat === undefined ? undefined : KafkaError[row.heartbeat],
      );
    },
  );

  it('UNKNOWN_MEMBER_ID in an Empty group (no state item yet, or everyone left)', () => {
    expect(heartbeatProblem(EMPTY_CLASSIC_GROUP, 'a', null, 0)?.code).toBe(KafkaError.UNKNOWN_MEMBER_ID);
    const left = removeMembers(stable('a'), new Set(['a']));
    expect(left && heartbeatProblem(left, 'a', null, 4)?.code).toBe(KafkaError.UNKNOWN_MEMBER_ID);
  });
});

describe('sync', () => {
  const assignments = new Map([
    ['a', bytes('for-a')],
    ['b', bytes('for-b')],
  ]);

  it('in CompletingRebalance a follower waits; the leader hands out every assignment and makes the group Stable', () => {
    const group = groupOf('CompletingRebalance', [member('a'), member('b'), member('c')]);
    expect(sync(group, 'b', null, 3, new Map())).toEqual({ kind: 'wait' });
    const decision = sync(group, 'a', null, 3, assignments);
    if (decision.kind !== 'assignment' || !decision.next) throw new Error(`Got ${JSON.stringify(decision)}`);
    expect(decision.assignment).toEqual(bytes('for-a'));
    expect(decision.next).toMatchObject({ version: 7, state: 'Stable', generation: 3 });
    // A member the leader gave nothing gets an empty assignment, as in Kafka.
    expect(
      decision.next.members.map((m) => [m.memberId, Buffer.from(m.assignment ?? []).toString()]),
    ).toEqual([
      ['a', 'for-a'],
      ['b', 'for-b'],
      ['c', ''],
    ]);
    // The follower then gets its own, and changes nothing.
    expect(sync(decision.next, 'b', null, 3, new Map())).toEqual({
      kind: 'assignment',
      assignment: bytes('for-b'),
      next: undefined,
    });
  });

  it('in Stable every member gets its own assignment, the leader’s assignments change nothing', () => {
    const group = stable('a', 'b');
    expect(sync(group, 'a', null, 3, new Map([['b', bytes('other')]]))).toEqual({
      kind: 'assignment',
      assignment: bytes('assigned-to-a'),
      next: undefined,
    });
  });

  it.each([
    {
      case: 'a rebalance runs',
      group: groupOf('PreparingRebalance', [member('a')]),
      id: 'a',
      gen: 3,
      code: 'REBALANCE_IN_PROGRESS',
    },
    { case: 'another generation', group: stable('a'), id: 'a', gen: 2, code: 'ILLEGAL_GENERATION' },
    { case: 'a stranger', group: stable('a'), id: 'x', gen: 3, code: 'UNKNOWN_MEMBER_ID' },
    { case: 'an empty group', group: EMPTY_CLASSIC_GROUP, id: 'a', gen: 0, code: 'UNKNOWN_MEMBER_ID' },
  ] as const)('$code when $case', ({ group, id, gen, code }) => {
    expect(sync(group, id, null, gen, assignments)).toMatchObject({ kind: 'error', code: KafkaError[code] });
  });
});

describe('a whole round trip', () => {
  it('join, complete, sync; a second member rebalances the group; both end Stable in generation 2', () => {
    const subA = protocol('range', 'topics-of-a');
    const subB = protocol('range', 'topics-of-b');
    let group = waiting(join(EMPTY_CLASSIC_GROUP, request('a', { protocols: [subA] })));
    expect(allJoined(group)).toBe(true);
    group = completeRound(group);
    const first = sync(group, 'a', null, 1, new Map([['a', bytes('all')]]));
    if (first.kind !== 'assignment' || !first.next) throw new Error(`Got ${JSON.stringify(first)}`);
    group = first.next;
    expect(heartbeatProblem(group, 'a', null, 1)).toBeUndefined();

    group = waiting(join(group, request('b', { protocols: [subB] })));
    expect(heartbeatProblem(group, 'a', null, 1)?.code).toBe(KafkaError.REBALANCE_IN_PROGRESS);
    expect(allJoined(group)).toBe(false);
    group = waiting(join(group, request('a', { protocols: [subA] })));
    expect(allJoined(group)).toBe(true);
    group = completeRound(group);
    expect(group).toMatchObject({ state: 'CompletingRebalance', generation: 2, leader: 'a' });
    expect(group.members.map((m) => m.protocols)).toEqual([[subA], [subB]]);
    // A commit of the old generation is refused.
    expect(memberProblem(group, 'a', null, 1)?.code).toBe(KafkaError.ILLEGAL_GENERATION);
    expect(sync(group, 'b', null, 2, new Map())).toEqual({ kind: 'wait' });
    const second = sync(
      group,
      'a',
      null,
      2,
      new Map([
        ['a', bytes('half-a')],
        ['b', bytes('half-b')],
      ]),
    );
    if (second.kind !== 'assignment' || !second.next) throw new Error(`Got ${JSON.stringify(second)}`);
    expect(second.next.state).toBe('Stable');
    expect(sync(second.next, 'b', null, 2, new Map())).toMatchObject({ assignment: bytes('half-b') });
    expect(heartbeatProblem(second.next, 'b', null, 2)).toBeUndefined();
  });
});
