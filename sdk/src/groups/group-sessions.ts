/**
 * Group membership for callers that cannot keep a heartbeat loop in this process: the HTTP API.
 * Each call restores the member from a session the caller carries (its held leases and what it
 * has observed of the others' heartbeats), runs one coordination tick — exactly what a direct
 * member does on its timer — and returns the new assignment and session. Liveness is judged on
 * the API's clocks (synchronised Lambda hosts), never the caller's.
 *
 * The session is opaque to callers but not secret: everything that matters is fenced in
 * DynamoDB (lease owner and epoch), so a forged session can do no more than the caller's IAM
 * grant on the group already allows.
 */
import { randomBytes } from 'node:crypto';
import type { TopicPartition } from '../consumer.ts';
import type { StorageContext } from '../context.ts';
import { InvalidArgumentError, OffsetOutOfRangeError } from '../errors.ts';
import { PartitionReader } from '../log/reader.ts';
import type { TopicCache } from '../topics/topic-cache.ts';
import { leaseKey } from './assignment.ts';
import { GroupMember, type HeldLease, type MemberState } from './group-member.ts';
import { LeaseStore, type MemberInfo, validateGroupId } from './lease-store.ts';

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

interface SessionToken {
  readonly v: 1;
  readonly group: string;
  readonly member: MemberInfo;
  readonly state: MemberState;
}

const DEFAULT_SESSION_TIMEOUT_MS = 10_000;

/** Stateless group membership over the lease store; one instance serves every group. */
export class GroupSessions {
  readonly #ctx: StorageContext;
  readonly #topics: TopicCache;

  constructor(ctx: StorageContext, topics: TopicCache) {
    this.#ctx = ctx;
    this.#topics = topics;
  }

  /** Joins a group as a new member (or, with an `instanceId`, as that static member). */
  async join(groupId: string, request: JoinRequest): Promise<Membership> {
    validateGroupId(groupId);
    if (request.instanceId !== undefined) validateGroupId(request.instanceId);
    const topics = [...new Set(request.topics)].sort();
    if (topics.length === 0) throw new InvalidArgumentError('Joining a group needs at least one topic');
    for (const topic of topics) await this.#topics.get(topic);
    const member: MemberInfo = {
      memberId: request.instanceId ?? request.memberId ?? `m-${randomBytes(6).toString('hex')}`,
      instanceId: request.instanceId,
      topics,
      sessionTimeoutMs: request.sessionTimeoutMs ?? DEFAULT_SESSION_TIMEOUT_MS,
    };
    return this.#run(groupId, member, undefined, async (m) => m.join({ background: false }));
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
    const token = this.#open(groupId, memberId, session);
    return this.#run(groupId, token.member, token.state, async (m) => {
      await m.resume({ background: false });
      for (const p of release) {
        const lease = m.lease(p.topic, p.partition);
        if (lease?.state === 'revoking') await m.handOff(lease);
      }
    });
  }

  /** Leaves the group, handing every held partition straight to its next owner. */
  async leave(groupId: string, memberId: string, session: string): Promise<void> {
    const token = this.#open(groupId, memberId, session);
    const store = new LeaseStore(this.#ctx, groupId);
    const member = new GroupMember(
      this.#ctx,
      this.#topics,
      store,
      token.member,
      timing(token.member),
      { assigned: async () => undefined, revokeRequested: () => undefined, lost: () => undefined },
      () => undefined,
      token.state,
    );
    await member.leave();
  }

  /**
   * Commits offsets, each fenced by the lease epoch the caller holds: {@link LeaseLostError}
   * when the member no longer owns the partition at that epoch, nothing committed for it.
   * Offsets beyond the high watermark are refused before anything is written.
   * (`LeaseLostError` comes from the lease store.)
   */
  async commit(groupId: string, memberId: string, offsets: readonly FencedCommit[]): Promise<void> {
    validateGroupId(groupId);
    await Promise.all(
      offsets.map(async (o) => {
        const topic = await this.#topics.get(o.topic);
        const reader = new PartitionReader(this.#ctx, {
          topic: topic.name,
          incarnation: topic.incarnation,
          partition: o.partition,
        });
        const end = await reader.highWatermark(false);
        if (o.offset > end) {
          throw new OffsetOutOfRangeError(o.topic, o.partition, o.offset, await reader.logStartOffset(), end);
        }
      }),
    );
    const store = new LeaseStore(this.#ctx, groupId);
    await Promise.all(
      offsets.map((o) =>
        store.commit(
          { topic: o.topic, partition: o.partition, memberId, epoch: o.epoch },
          o.offset,
          o.metadata,
        ),
      ),
    );
  }

  /**
   * The partitions a session holds with their committed offsets as stored now (one read of the
   * group), for fetching a member's partitions where it left off.
   */
  async positions(
    groupId: string,
    memberId: string,
    session: string,
  ): Promise<(TopicPartition & { committed: number | undefined })[]> {
    const held = this.#open(groupId, memberId, session).state.held;
    if (held.length === 0) return [];
    const snapshot = await new LeaseStore(this.#ctx, groupId).snapshot();
    return held.map((lease: HeldLease) => {
      const stored = snapshot.leases.find((l) => l.topic === lease.topic && l.partition === lease.partition);
      const committed = stored?.incarnation === lease.incarnation ? stored.offset : lease.committed;
      return { topic: lease.topic, partition: lease.partition, committed };
    });
  }

  async #run(
    groupId: string,
    info: MemberInfo,
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
    if (failure) throw failure;
    const state = member.state();
    const token: SessionToken = { v: 1, group: groupId, member: info, state };
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
      session: Buffer.from(JSON.stringify(token)).toString('base64url'),
      heartbeatIntervalMs: Math.max(100, Math.floor(info.sessionTimeoutMs / 3)),
    };
  }

  #open(groupId: string, memberId: string, session: string): SessionToken {
    validateGroupId(groupId);
    let token: SessionToken;
    try {
      token = JSON.parse(Buffer.from(session, 'base64url').toString('utf8')) as SessionToken;
    } catch {
      throw new InvalidArgumentError('The session is not one this API issued; join the group again');
    }
    if (token?.v !== 1 || token.group !== groupId || token.member?.memberId !== memberId) {
      throw new InvalidArgumentError(
        `The session does not belong to member "${memberId}" of group "${groupId}"; join the group again`,
      );
    }
    return token;
  }
}

function timing(member: MemberInfo) {
  return {
    sessionTimeoutMs: member.sessionTimeoutMs,
    heartbeatIntervalMs: Math.max(100, Math.floor(member.sessionTimeoutMs / 3)),
  };
}
