/**
 * Kafka's classic group protocol as pure transitions of a group's stored state: what a join,
 * a sync, a leave or an expiry does to the group, and which error a request of a member gets.
 * No I/O and no clocks: the coordinator (`group-coordinator.ts`) reads the state, applies one of
 * these, and writes the result conditionally on the version it read, so every gateway applies the
 * same rules to the same state.
 *
 * The rules follow Kafka's own coordinator (`GroupCoordinator`/`ClassicGroup`): a join of a new
 * member, or of a known one whose protocols changed or who leads, starts a rebalance
 * (PreparingRebalance), in which every member must join again for the next generation; when all
 * did (or the rebalance timeout passed) the round completes (CompletingRebalance: generation + 1,
 * a protocol every member supports, a leader); the leader's SyncGroup hands out the assignments
 * (Stable). A known follower joining again with the same protocols outside a rebalance just gets
 * the current generation, as in Kafka.
 */
import {
  type ClassicGroup,
  type ClassicMember,
  type ClassicProtocol,
  classicItemBytes,
  MAX_CLASSIC_ITEM_BYTES,
} from '../sdk/src/internal.ts';
import { KafkaError, type KafkaErrorCode } from './kafka-errors.ts';

/** Handed-out member ids a group remembers at most (each ~100 bytes of its state item). */
export const MAX_PENDING_MEMBERS = 1_000;

/** A member's join, as the coordinator passes it (its member id already decided). */
export interface JoinRequest {
  readonly memberId: string;
  /** True when the coordinator just made the member id up (the member sent none). */
  readonly newMemberId: boolean;
  /** The coordinator's clock (epoch ms), for the expiry of handed-out member ids. */
  readonly now: number;
  readonly instanceId: string | undefined;
  readonly clientId: string;
  readonly clientHost: string;
  readonly sessionTimeoutMs: number;
  readonly rebalanceTimeoutMs: number;
  readonly protocolType: string;
  readonly protocols: readonly ClassicProtocol[];
}

/** What a join does: the state to write (undefined: none) and whether the member waits for a round. */
export type JoinDecision =
  | { readonly kind: 'error'; readonly code: KafkaErrorCode; readonly message: string }
  /** The member is in the current generation already: answer it now. */
  | { readonly kind: 'current'; readonly next: ClassicGroup | undefined; readonly replaced?: string }
  /** The member joined the pending round: wait for it to complete. */
  | { readonly kind: 'wait'; readonly next: ClassicGroup; readonly replaced?: string };

/** A request's failure as Kafka answers it. */
export interface GroupFailure {
  readonly code: KafkaErrorCode;
  readonly message: string;
}

function failure(code: KafkaErrorCode, message: string): GroupFailure {
  return { code, message };
}

/** Applies a member's JoinGroup to `group`. */
export function join(group: ClassicGroup, request: JoinRequest): JoinDecision {
  if (request.protocolType.length === 0 || request.protocols.length === 0) {
    return {
      kind: 'error',
      ...failure(
        KafkaError.INCONSISTENT_GROUP_PROTOCOL,
        'A join must name a protocol type and at least one protocol',
      ),
    };
  }
  const others = group.members.filter((m) => m.memberId !== request.memberId);
  if (others.length > 0 && !supportsProtocols(group, others, request)) {
    return {
      kind: 'error',
      ...failure(
        KafkaError.INCONSISTENT_GROUP_PROTOCOL,
        `Group members use protocol type "${group.protocolType}" with protocols none of which this member offers`,
      ),
    };
  }
  const pending = group.pending.filter((p) => p.until > request.now);
  const wasPending = pending.some((p) => p.memberId === request.memberId);
  const current: ClassicGroup = { ...group, pending: pending.filter((p) => p.memberId !== request.memberId) };
  const byInstance =
    request.instanceId === undefined
      ? undefined
      : group.members.find((m) => m.instanceId === request.instanceId);
  if (byInstance && byInstance.memberId !== request.memberId) {
    // A static member coming back (KIP-345): only with a fresh id, which fences the previous one.
    if (!request.newMemberId) {
      return {
        kind: 'error',
        ...failure(
          KafkaError.FENCED_INSTANCE_ID,
          `Instance "${request.instanceId}" is held by another member id`,
        ),
      };
    }
    const replaced = byInstance.memberId;
    const swapped: ClassicGroup = {
      ...current,
      members: current.members.map((m) =>
        m.memberId === replaced ? { ...m, memberId: request.memberId, protocols: request.protocols } : m,
      ),
      leader: current.leader === replaced ? request.memberId : current.leader,
    };
    // Kafka's rule: a Stable group keeps its generation when the protocol it would choose stays.
    if (group.state === 'Stable' && selectProtocol(swapped.members) === group.protocolName) {
      return { kind: 'current', next: swapped, replaced };
    }
    const decision = startOrJoinRound(swapped, request);
    return decision.kind === 'wait' ? { ...decision, replaced } : decision;
  }
  const known = group.members.find((m) => m.memberId === request.memberId);
  if (!known && !request.newMemberId && !wasPending) {
    return {
      kind: 'error',
      ...failure(
        KafkaError.UNKNOWN_MEMBER_ID,
        `Member id "${request.memberId}" is not one this group handed out`,
      ),
    };
  }
  if (known && sameProtocols(known.protocols, request.protocols)) {
    // Kafka's rule: a member joining again with the same protocols gets the current generation,
    // while its assignment is being made (leader too) or in a Stable group (followers only: a
    // Stable leader joining again means it wants a new assignment).
    const followerInStable = group.state === 'Stable' && group.leader !== known.memberId;
    if (group.state === 'CompletingRebalance' || followerInStable)
      return { kind: 'current', next: undefined };
  }
  return startOrJoinRound(current, request);
}

/**
 * Records a member id handed out with MEMBER_ID_REQUIRED (KIP-394), accepted in a join until
 * `until` (the writer's clock, epoch ms); expired ones are dropped.
 */
export function addPendingMember(
  group: ClassicGroup,
  memberId: string,
  until: number,
  now: number,
): ClassicGroup {
  const kept = group.pending.filter((p) => p.until > now && p.memberId !== memberId);
  // Bounded, whatever a client floods the group with: the oldest ids go first.
  return { ...group, pending: [...kept.slice(-(MAX_PENDING_MEMBERS - 1)), { memberId, until }] };
}

function startOrJoinRound(group: ClassicGroup, request: JoinRequest): JoinDecision {
  const target = group.generation + 1;
  const preparing = group.state === 'PreparingRebalance';
  const existing = group.members.find((m) => m.memberId === request.memberId);
  const member: ClassicMember = {
    memberId: request.memberId,
    instanceId: request.instanceId,
    clientId: request.clientId,
    clientHost: request.clientHost,
    sessionTimeoutMs: request.sessionTimeoutMs,
    rebalanceTimeoutMs: request.rebalanceTimeoutMs,
    protocols: request.protocols,
    joinedFor: target,
    assignment: undefined,
  };
  const members = existing
    ? group.members.map((m) => (m.memberId === request.memberId ? member : m))
    : [...group.members, member];
  const next: ClassicGroup = {
    ...group,
    state: 'PreparingRebalance',
    protocolType: group.members.length === 0 ? request.protocolType : group.protocolType,
    // Assignments of the generation being left are void (a sync in a rebalance is refused anyway).
    members: preparing ? members : members.map((m) => ({ ...m, assignment: undefined })),
    initialRebalance: preparing ? group.initialRebalance : group.state === 'Empty',
  };
  if (classicItemBytes(next) > MAX_CLASSIC_ITEM_BYTES) {
    return {
      kind: 'error',
      ...failure(
        KafkaError.GROUP_MAX_SIZE_REACHED,
        `The group's members and their protocol metadata would exceed ${MAX_CLASSIC_ITEM_BYTES} bytes`,
      ),
    };
  }
  return { kind: 'wait', next };
}

/** Kafka's rule: a joining member must share the protocol type and offer a protocol every other member offers. */
function supportsProtocols(
  group: ClassicGroup,
  others: readonly ClassicMember[],
  request: JoinRequest,
): boolean {
  if (group.protocolType !== undefined && group.protocolType !== request.protocolType) return false;
  const offered = new Set(request.protocols.map((p) => p.name));
  return candidateProtocols(others).some((name) => offered.has(name));
}

function sameProtocols(a: readonly ClassicProtocol[], b: readonly ClassicProtocol[]): boolean {
  return (
    a.length === b.length &&
    a.every((p, i) => p.name === b[i]?.name && Buffer.from(p.metadata).equals(Buffer.from(b[i]!.metadata)))
  );
}

/** Protocol names every one of `members` offers, in the first member's order of preference. */
function candidateProtocols(members: readonly ClassicMember[]): string[] {
  const [first, ...rest] = members;
  if (!first) return [];
  return first.protocols
    .map((p) => p.name)
    .filter((name) => rest.every((m) => m.protocols.some((p) => p.name === name)));
}

/**
 * Kafka's protocol vote: each member votes for the first of its protocols that every member
 * offers; the most votes win (ties: the first member's preference).
 */
function selectProtocol(members: readonly ClassicMember[]): string | undefined {
  const candidates = candidateProtocols(members);
  const votes = new Map<string, number>(candidates.map((name) => [name, 0]));
  for (const m of members) {
    const choice = m.protocols.find((p) => votes.has(p.name));
    if (choice) votes.set(choice.name, (votes.get(choice.name) ?? 0) + 1);
  }
  let chosen = candidates[0];
  for (const [name, count] of votes) if (count > (votes.get(chosen ?? '') ?? -1)) chosen = name;
  return chosen;
}

/** True when every member of a pending round has joined it. */
export function allJoined(group: ClassicGroup): boolean {
  return (
    group.state === 'PreparingRebalance' && group.members.every((m) => m.joinedFor === group.generation + 1)
  );
}

/**
 * Completes a pending round: the members that joined it form the next generation (the others are
 * removed), with the protocol most of them prefer among those all offer, and a leader (the
 * previous one if still a member). No member left: the group is Empty in the next generation (its
 * protocol type stays, as in Kafka, so listings still say what kind of group it is).
 */
export function completeRound(group: ClassicGroup): ClassicGroup {
  const generation = group.generation + 1;
  const members = group.members
    .filter((m) => m.joinedFor === generation)
    .map((m) => ({ ...m, assignment: undefined }));
  if (members.length === 0) {
    return {
      ...group,
      state: 'Empty',
      generation,
      protocolName: undefined,
      leader: undefined,
      members: [],
      initialRebalance: false,
    };
  }
  const protocolName = selectProtocol(members);
  const leader = members.some((m) => m.memberId === group.leader) ? group.leader : members[0]!.memberId;
  return {
    ...group,
    state: 'CompletingRebalance',
    generation,
    protocolName,
    leader,
    members,
    initialRebalance: false,
  };
}

/**
 * Removes members (a LeaveGroup, or members whose session expired). The others must join again,
 * unless a round is already pending (then it may complete without the removed ones). Returns
 * undefined when none of them is a member.
 */
export function removeMembers(group: ClassicGroup, memberIds: ReadonlySet<string>): ClassicGroup | undefined {
  const members = group.members.filter((m) => !memberIds.has(m.memberId));
  if (members.length === group.members.length) return undefined;
  if (members.length === 0) {
    return {
      ...group,
      state: 'Empty',
      generation: group.generation + 1,
      protocolName: undefined,
      leader: undefined,
      members,
      initialRebalance: false,
    };
  }
  if (group.state === 'PreparingRebalance') return { ...group, members };
  return {
    ...group,
    state: 'PreparingRebalance',
    members: members.map((m) => ({ ...m, assignment: undefined })),
    initialRebalance: false,
  };
}

/**
 * The error a member's request within a generation gets (Heartbeat, SyncGroup, OffsetCommit),
 * or undefined when the member is in `generation`: unknown member, a static instance held by
 * another member id, another generation.
 */
export function memberProblem(
  group: ClassicGroup,
  memberId: string,
  instanceId: string | undefined | null,
  generation: number,
): GroupFailure | undefined {
  if (instanceId) {
    const holder = group.members.find((m) => m.instanceId === instanceId);
    if (holder && holder.memberId !== memberId) {
      return failure(KafkaError.FENCED_INSTANCE_ID, `Instance "${instanceId}" is held by another member id`);
    }
  }
  if (!group.members.some((m) => m.memberId === memberId)) {
    return failure(
      KafkaError.UNKNOWN_MEMBER_ID,
      `Member "${memberId}" is not in group (state ${group.state})`,
    );
  }
  if (group.generation !== generation) {
    return failure(
      KafkaError.ILLEGAL_GENERATION,
      `Generation ${generation} is not the group's ${group.generation}`,
    );
  }
  return undefined;
}

/** The Heartbeat error for a member in `group`, NONE when it is in the current generation and no rebalance runs. */
export function heartbeatProblem(
  group: ClassicGroup,
  memberId: string,
  instanceId: string | undefined | null,
  generation: number,
): GroupFailure | undefined {
  const problem = memberProblem(group, memberId, instanceId, generation);
  if (problem) return problem;
  if (group.state === 'PreparingRebalance') {
    return failure(KafkaError.REBALANCE_IN_PROGRESS, 'The group is rebalancing: join again');
  }
  return undefined;
}

/** What a SyncGroup does. */
export type SyncDecision =
  | { readonly kind: 'error'; readonly code: KafkaErrorCode; readonly message: string }
  | { readonly kind: 'assignment'; readonly assignment: Uint8Array; readonly next: ClassicGroup | undefined }
  /** A follower before the leader's assignment: wait for it. */
  | { readonly kind: 'wait' };

/** Applies a member's SyncGroup (the leader's carries everyone's assignment). */
export function sync(
  group: ClassicGroup,
  memberId: string,
  instanceId: string | undefined | null,
  generation: number,
  assignments: ReadonlyMap<string, Uint8Array>,
): SyncDecision {
  const problem = memberProblem(group, memberId, instanceId, generation);
  if (problem) return { kind: 'error', ...problem };
  if (group.state === 'PreparingRebalance') {
    return {
      kind: 'error',
      ...failure(KafkaError.REBALANCE_IN_PROGRESS, 'The group is rebalancing: join again'),
    };
  }
  const me = group.members.find((m) => m.memberId === memberId)!;
  if (group.state === 'Stable')
    return { kind: 'assignment', assignment: me.assignment ?? new Uint8Array(0), next: undefined };
  if (group.leader !== memberId) return { kind: 'wait' };
  const next: ClassicGroup = {
    ...group,
    state: 'Stable',
    members: group.members.map((m) => ({
      ...m,
      assignment: assignments.get(m.memberId) ?? new Uint8Array(0),
    })),
  };
  if (classicItemBytes(next) > MAX_CLASSIC_ITEM_BYTES) {
    return {
      kind: 'error',
      ...failure(
        KafkaError.INVALID_REQUEST,
        `The assignments would make the group's state exceed ${MAX_CLASSIC_ITEM_BYTES} bytes`,
      ),
    };
  }
  return { kind: 'assignment', assignment: assignments.get(memberId) ?? new Uint8Array(0), next };
}
