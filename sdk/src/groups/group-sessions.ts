/**
 * Group membership for callers that cannot keep a heartbeat loop in this process: the HTTP API.
 * Each call restores the member from a session the caller carries (its held leases, what it has
 * observed of the others' heartbeats, its change counter and the view of the group it last read
 * the leases for), runs one coordination tick — exactly what a direct member does on its timer, so
 * a call reads the group's leases only when the group changed — and returns the new assignment and
 * session. Liveness is judged on the API's clocks (synchronised Lambda hosts), never the caller's.
 *
 * Nothing in a session is trusted because the caller sent it: sessions are tokens signed by the
 * API ({@link SessionSigner}), validated as strictly as the join that created them, bound to one
 * join of one member (heartbeats and leaving are conditional on the join id stored with the
 * member), and expiring. What a session claims to hold is checked against DynamoDB before any read
 * or commit: a caller reads and commits only partitions whose lease names it as owner at the
 * epoch it holds, of topics it subscribed to.
 */
import { randomBytes } from 'node:crypto';
import type { StorageContext } from '../context.ts';
import { InvalidArgumentError, LeaseLostError } from '../errors.ts';
import type { TopicPartition } from '../topic-partition.ts';
import { validateTopicName } from '../topics/names.ts';
import type { TopicCache } from '../topics/topic-cache.ts';
import { leaseKey } from './assignment.ts';
import { checkCommitBound } from './commit-bound.ts';
import { validateGroupId } from './group-id.ts';
import { GroupMember, type HeldLease, type MemberState } from './group-member.ts';
import {
  type FencedCommitEntry,
  LeaseStore,
  MAX_OFFSETS_PER_COMMIT,
  type MemberInfo,
} from './lease-store.ts';
import {
  LEGAL_MEMBER_ID,
  SESSION_TIMEOUT_RANGE,
  type SessionClaims,
  SessionSigner,
} from './session-token.ts';

/** What joining asks for. */
export interface JoinRequest {
  readonly topics: readonly string[];
  /** @default the instance id, else a generated one */
  readonly memberId?: string | undefined;
  readonly instanceId?: string | undefined;
  readonly sessionTimeoutMs?: number | undefined;
}

/** A lease as the caller sees it. */
export interface SessionLease extends TopicPartition {
  readonly epoch: number;
  readonly committedOffset: number | undefined;
  readonly state: 'owned' | 'revoking';
}

/** The outcome of a join or heartbeat. */
export interface Membership {
  readonly memberId: string;
  readonly assignment: readonly SessionLease[];
  /** Partitions taken away since the last call (stop processing them; commits would fail). */
  readonly lost: readonly TopicPartition[];
  readonly session: string;
  readonly heartbeatIntervalMs: number;
}

/** An offset to commit, fenced by the epoch of the caller's lease. */
export interface FencedCommit extends TopicPartition {
  readonly offset: number;
  readonly epoch: number;
  readonly metadata?: string | undefined;
}

/** A partition a member may read now, with its committed offset as stored. */
export interface ReadableLease extends TopicPartition {
  readonly committed: number | undefined;
}

/** Settings of {@link GroupSessions}. */
export interface GroupSessionsOptions {
  /** The secret sessions are signed with (at least 32 bytes); the same for every instance of the API. */
  readonly key: Uint8Array;
}

const DEFAULT_SESSION_TIMEOUT_MS = 10_000;
/** A session token expires this many session timeouts after it was issued. */
const SESSION_LIFETIME_FACTOR = 10;
const MAX_TOPICS = 100;

/** Stateless group membership over the lease store; one instance serves every group. */
export class GroupSessions {
  readonly #ctx: StorageContext;
  readonly #topics: TopicCache;
  readonly #signer: SessionSigner;

  constructor(ctx: StorageContext, topics: TopicCache, options: GroupSessionsOptions) {
    this.#ctx = ctx;
    this.#topics = topics;
    this.#signer = new SessionSigner(options.key);
  }

  /**
   * Joins a group as a new member (or, with an `instanceId`, as that static member, fencing the
   * previous instance's session). Everything is validated before anything is written: the group
   * id, member and instance ids, the topics (legal names of existing topics) and the session
   * timeout. A dynamic `memberId` already in the group is refused ({@link MemberIdInUseError}).
   */
  async join(groupId: string, request: JoinRequest): Promise<Membership> {
    validateGroupId(groupId);
    const member = await this.#validJoin(request);
    const store = new LeaseStore(this.#ctx, groupId);
    await store.assertNoKafkaMembers();
    await store.ensureGroup();
    await store.register(member);
    return this.#run(groupId, member, undefined, (m) => m.resume({ background: false }));
  }

  /**
   * Heartbeats: renews the member's leases, takes or gives up partitions as the group's
   * assignment says, and hands over `release`d partitions (revoking ones the caller finished).
   */
  async heartbeat(
    groupId: string,
    memberId: string,
    session: string,
    release: readonly TopicPartition[] = [],
  ): Promise<Membership> {
    const claims = this.#open(groupId, memberId, session);
    for (const p of release) this.#checkSubscribed(claims, p.topic, p.partition);
    // A hand-off goes to the lease's ideal owner now: a call that hands leases off reads the leases
    // (without the session's view, the tick does), the others only when the group changed.
    const state = release.length > 0 ? { ...claims.state, view: undefined } : claims.state;
    return this.#run(groupId, claims.member, state, async (m) => {
      await m.resume({ background: false });
      for (const p of release) {
        const lease = m.lease(p.topic, p.partition);
        if (lease?.state === 'revoking') await m.handOff(lease);
      }
    });
  }

  /** Leaves the group, handing every held partition straight to its next owner. */
  async leave(groupId: string, memberId: string, session: string): Promise<void> {
    const claims = this.#open(groupId, memberId, session);
    const member = new GroupMember(
      this.#ctx,
      this.#topics,
      new LeaseStore(this.#ctx, groupId),
      claims.member,
      timing(claims.member),
      { assigned: async () => undefined, revokeRequested: () => undefined, lost: () => undefined },
      () => undefined,
      claims.state,
    );
    await member.leave();
  }

  /**
   * Commits offsets all or nothing, each fenced by the lease epoch the caller holds:
   * {@link LeaseLostError} when the session does not hold a partition or the member no longer
   * owns it at that epoch, and nothing is committed. Offsets beyond the high watermark are refused
   * before anything is written.
   */
  async commit(
    groupId: string,
    memberId: string,
    session: string,
    offsets: readonly FencedCommit[],
  ): Promise<void> {
    const claims = this.#open(groupId, memberId, session);
    if (offsets.length === 0) throw new InvalidArgumentError('A commit needs at least one offset');
    if (offsets.length > MAX_OFFSETS_PER_COMMIT) {
      throw new InvalidArgumentError(
        `One commit writes at most ${MAX_OFFSETS_PER_COMMIT} offsets (all or nothing); got ${offsets.length}`,
      );
    }
    const held = new Map(claims.state.held.map((l) => [leaseKey(l.topic, l.partition), l]));
    const entries: FencedCommitEntry[] = offsets.map((o) => {
      this.#checkSubscribed(claims, o.topic, o.partition);
      const lease = held.get(leaseKey(o.topic, o.partition));
      if (!lease) throw new LeaseLostError(groupId, o.topic, o.partition);
      return {
        fence: { topic: o.topic, partition: o.partition, memberId, epoch: o.epoch },
        offset: o.offset,
        metadata: o.metadata,
      };
    });
    await Promise.all(
      offsets.map((o) => {
        const lease = held.get(leaseKey(o.topic, o.partition))!;
        return checkCommitBound(
          this.#ctx,
          { topic: o.topic, incarnation: lease.incarnation, partition: o.partition },
          o.offset,
          () => this.#topics.get(o.topic),
        );
      }),
    );
    await new LeaseStore(this.#ctx, groupId).commitAll(entries);
  }

  /**
   * The partitions of `topic` this session may read now — those it holds whose lease, read from
   * DynamoDB with one query of the topic's leases, still names this member at the held epoch —
   * with their committed offsets as stored.
   */
  async readable(
    groupId: string,
    memberId: string,
    session: string,
    topic: string,
  ): Promise<ReadableLease[]> {
    const claims = this.#open(groupId, memberId, session);
    this.#checkSubscribed(claims, topic);
    const held = claims.state.held.filter((l) => l.topic === topic);
    if (held.length === 0) return [];
    const stored = new Map(
      (await new LeaseStore(this.#ctx, groupId).topicLeases(topic)).map((l) => [l.partition, l]),
    );
    return held.flatMap((lease: HeldLease) => {
      const current = stored.get(lease.partition);
      if (current?.owner !== memberId || current.epoch !== lease.epoch) return [];
      const committed = current.incarnation === lease.incarnation ? current.offset : undefined;
      return [{ topic, partition: lease.partition, committed }];
    });
  }

  async #validJoin(request: JoinRequest): Promise<MemberInfo & { joinId: string }> {
    if (!Array.isArray(request.topics) || request.topics.length === 0) {
      throw new InvalidArgumentError('Joining a group needs at least one topic');
    }
    if (request.topics.length > MAX_TOPICS) {
      throw new InvalidArgumentError(`A member subscribes to at most ${MAX_TOPICS} topics`);
    }
    for (const topic of request.topics) validateTopicName(topic);
    const topics = [...new Set(request.topics)].sort();
    for (const id of [request.memberId, request.instanceId]) {
      if (id !== undefined && (typeof id !== 'string' || !LEGAL_MEMBER_ID.test(id))) {
        throw new InvalidArgumentError(
          `Member and instance ids are 1-249 characters of [a-zA-Z0-9._-]; got ${JSON.stringify(id)}`,
        );
      }
    }
    if (
      request.instanceId !== undefined &&
      request.memberId !== undefined &&
      request.memberId !== request.instanceId
    ) {
      throw new InvalidArgumentError(
        'A static member (instanceId) has its instance id as member id; omit memberId',
      );
    }
    const timeout = request.sessionTimeoutMs ?? DEFAULT_SESSION_TIMEOUT_MS;
    if (
      !Number.isInteger(timeout) ||
      timeout < SESSION_TIMEOUT_RANGE.min ||
      timeout > SESSION_TIMEOUT_RANGE.max
    ) {
      throw new InvalidArgumentError(
        `sessionTimeoutMs must be an integer in ${SESSION_TIMEOUT_RANGE.min}..${SESSION_TIMEOUT_RANGE.max}; got ${String(timeout)}`,
      );
    }
    for (const topic of topics) await this.#topics.get(topic);
    return {
      memberId: request.instanceId ?? request.memberId ?? `m-${randomBytes(6).toString('hex')}`,
      instanceId: request.instanceId,
      topics,
      sessionTimeoutMs: timeout,
      joinId: randomBytes(16).toString('base64url'),
    };
  }

  #open(groupId: string, memberId: string, session: string): SessionClaims {
    validateGroupId(groupId);
    return this.#signer.open(session, groupId, memberId, this.#ctx.now());
  }

  /** Refuses a partition of a topic the session does not subscribe to (before anything is read or written). */
  #checkSubscribed(claims: SessionClaims, topic: string, partition?: number): void {
    validateTopicName(topic);
    if (partition !== undefined && (!Number.isSafeInteger(partition) || partition < 0)) {
      throw new InvalidArgumentError(`Partitions are integers ≥ 0; got ${String(partition)}`);
    }
    if (!claims.member.topics.includes(topic)) {
      throw new InvalidArgumentError(
        `Member "${claims.member.memberId}" does not subscribe to topic "${topic}" (it subscribes to ${claims.member.topics.join(', ')})`,
      );
    }
  }

  async #run(
    groupId: string,
    info: MemberInfo & { readonly joinId: string },
    restored: MemberState | undefined,
    act: (member: GroupMember) => Promise<void>,
  ): Promise<Membership> {
    const lost: TopicPartition[] = [];
    let failure: unknown;
    const member = new GroupMember(
      this.#ctx,
      this.#topics,
      new LeaseStore(this.#ctx, groupId),
      info,
      timing(info),
      {
        assigned: async () => undefined,
        revokeRequested: () => undefined,
        lost: (lease) => lost.push({ topic: lease.topic, partition: lease.partition }),
      },
      (error) => {
        failure ??= error;
      },
      restored,
    );
    await act(member);
    // Announcements of hand-offs made in this call are written before it answers.
    await member.flush();
    if (failure) throw failure;
    const state = member.state();
    const now = this.#ctx.now();
    const session = this.#signer.issue({
      group: groupId,
      member: info,
      state,
      issuedAt: now,
      // Long enough for a paused member to come back and be told what it lost; a replay inside
      // the window gains nothing (leases are checked against DynamoDB, the join id fences others).
      expiresAt: now + SESSION_LIFETIME_FACTOR * info.sessionTimeoutMs,
    });
    return {
      memberId: info.memberId,
      assignment: state.held.map((lease) => ({
        topic: lease.topic,
        partition: lease.partition,
        epoch: lease.epoch,
        committedOffset: lease.committed,
        state: lease.state === 'revoking' ? 'revoking' : 'owned',
      })),
      // A lease released by hand-off is not "lost"; only those taken away are.
      lost: lost.filter(
        (p) => !state.held.some((l) => leaseKey(l.topic, l.partition) === leaseKey(p.topic, p.partition)),
      ),
      session,
      heartbeatIntervalMs: timing(info).heartbeatIntervalMs,
    };
  }
}

function timing(member: MemberInfo) {
  return {
    sessionTimeoutMs: member.sessionTimeoutMs,
    heartbeatIntervalMs: Math.max(100, Math.floor(member.sessionTimeoutMs / 3)),
  };
}
