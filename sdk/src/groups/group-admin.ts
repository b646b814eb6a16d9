/**
 * Administration of consumer groups — Tributary's own and Kafka's (coordinated by the gateway with
 * the classic protocol) alike: list, describe (members, owners, committed offsets and lag in
 * records and in time), reset offsets, delete. Resets and deletes are refused while members
 * are active, unless forced; "active" here is judged from the members' own heartbeat timestamps
 * (an administrative check, not a correctness mechanism: commits stay fenced by lease epochs).
 */
import { mapLimited } from '../concurrency.ts';
import type { StorageContext } from '../context.ts';
import {
  GroupActiveError,
  GroupNotFoundError,
  InvalidArgumentError,
  OffsetOutOfRangeError,
  TopicNotFoundError,
} from '../errors.ts';
import { PartitionReader } from '../log/reader.ts';
import { decodeRecordBatch } from '../log/record-batch.ts';
import { offsetForTimestamp } from '../log/timestamp-lookup.ts';
import type { TopicMetadata, TopicRegistry } from '../topics/registry.ts';
import { partitionRef } from '../topics/topic-metadata.ts';
import { leaseKey } from './assignment.ts';
import { CONSUMER_PROTOCOL_TYPE, decodeAssignment, decodeSubscriptionTopics } from './consumer-protocol.ts';
import { validateGroupId } from './group-id.ts';
import { type GroupSnapshot, LeaseStore, listGroups, type MemberRecord } from './lease-store.ts';

/** A group in a listing. */
export interface GroupSummary {
  readonly groupId: string;
  readonly createdAt: Date | undefined;
}

/** A member as described. */
export interface GroupMemberDescription {
  readonly memberId: string;
  readonly instanceId: string | undefined;
  readonly topics: readonly string[];
  /** The member's own clock at its last heartbeat. */
  readonly lastHeartbeatAt: Date;
  /** Heartbeated within its session timeout (by this caller's clock). */
  readonly active: boolean;
}

/** One partition of a group as described. */
export interface GroupPartitionDescription {
  readonly topic: string;
  readonly partition: number;
  /** Member holding the lease, if any. */
  readonly owner: string | undefined;
  readonly epoch: number;
  /** Next offset to process, if the group committed one (for this incarnation of the topic). */
  readonly committedOffset: number | undefined;
  readonly metadata: string | undefined;
  readonly committedAt: Date | undefined;
  readonly logStartOffset: number;
  readonly highWatermark: number;
  /** Records not yet committed: high watermark − (committed offset, or log start if none). */
  readonly lag: number;
  /** Age of the oldest record not yet committed (ms); 0 when there is no lag. */
  readonly lagMs: number;
}

/** A consumer group with its members and partitions. */
export interface GroupDescription {
  readonly groupId: string;
  readonly createdAt: Date | undefined;
  readonly members: readonly GroupMemberDescription[];
  readonly partitions: readonly GroupPartitionDescription[];
}

/** Where to reset a group's offsets. */
export type OffsetResetTarget =
  | 'earliest'
  | 'latest'
  | { readonly timestamp: number }
  | { readonly offset: number };

/** What describing and the activity check need of a member, of either protocol. */
type MemberSummary = Pick<MemberRecord, 'memberId' | 'instanceId' | 'topics' | 'seenAt' | 'sessionTimeoutMs'>;

function isActive(member: MemberSummary, now: number): boolean {
  return now - member.seenAt < member.sessionTimeoutMs;
}

/**
 * The members of a group: Tributary's own, and those of a Kafka group (classic protocol, through
 * the gateway), whose topics come from their subscriptions and whose last heartbeat is the last
 * move of their liveness counter.
 */
function membersOf(snapshot: GroupSnapshot): MemberSummary[] {
  const { group, beats } = snapshot.classic;
  const kafka = (group?.members ?? []).map((m) => {
    const chosen = m.protocols.find((p) => p.name === group?.protocolName) ?? m.protocols[0];
    const consumer = group?.protocolType === CONSUMER_PROTOCOL_TYPE && chosen !== undefined;
    return {
      memberId: m.memberId,
      instanceId: m.instanceId,
      topics: (consumer ? decodeSubscriptionTopics(chosen.metadata) : undefined) ?? [],
      seenAt: beats.get(m.memberId)?.seenAt ?? 0,
      sessionTimeoutMs: m.sessionTimeoutMs,
    };
  });
  return [...snapshot.members, ...kafka];
}

/** Partition owners of a Kafka consumer group's current generation, from its members' assignments. */
function classicOwners(snapshot: GroupSnapshot): Map<string, string> {
  const owners = new Map<string, string>();
  const { group } = snapshot.classic;
  if (group?.state !== 'Stable' || group.protocolType !== CONSUMER_PROTOCOL_TYPE) return owners;
  for (const m of group.members) {
    for (const { topic, partitions } of decodeAssignment(m.assignment ?? new Uint8Array(0)) ?? []) {
      for (const p of partitions) owners.set(leaseKey(topic, p), m.memberId);
    }
  }
  return owners;
}

/** Consumer group administration; used by `Admin`. */
export class GroupAdmin {
  readonly #ctx: StorageContext;
  readonly #registry: TopicRegistry;

  constructor(ctx: StorageContext, registry: TopicRegistry) {
    this.#ctx = ctx;
    this.#registry = registry;
  }

  /** Every group that ever had a member (and was not deleted), sorted by id. */
  async list(): Promise<GroupSummary[]> {
    const groups = await listGroups(this.#ctx);
    return groups
      .map((g) => ({
        groupId: g.groupId,
        createdAt: g.createdAt === undefined ? undefined : new Date(g.createdAt),
      }))
      .sort((a, b) => (a.groupId < b.groupId ? -1 : 1));
  }

  /** Members, owners, committed offsets and lag of every partition the group knows. */
  async describe(groupId: string): Promise<GroupDescription> {
    const snapshot = await this.#snapshot(groupId);
    const now = this.#ctx.now();
    const members = membersOf(snapshot);
    const kafkaOwners = classicOwners(snapshot);
    const topicNames = new Set([...snapshot.leases.map((l) => l.topic), ...members.flatMap((m) => m.topics)]);
    const topics = (await Promise.all([...topicNames].sort().map((t) => this.#topic(t)))).filter(
      (t) => t !== undefined,
    );
    const leases = new Map(snapshot.leases.map((l) => [leaseKey(l.topic, l.partition), l]));
    const targets = topics.flatMap((t) =>
      Array.from({ length: t.partitions }, (_, partition) => ({ topic: t, partition })),
    );
    const partitions = await mapLimited(targets, 16, async ({ topic, partition }) => {
      const lease = leases.get(leaseKey(topic.name, partition));
      const reader = new PartitionReader(this.#ctx, partitionRef(topic, partition));
      const [logStartOffset, highWatermark] = await Promise.all([
        reader.logStartOffset(),
        reader.highWatermark(false),
      ]);
      const committed = lease?.incarnation === topic.incarnation ? lease.offset : undefined;
      const from = Math.max(committed ?? logStartOffset, logStartOffset);
      const lag = Math.max(0, highWatermark - from);
      return {
        topic: topic.name,
        partition,
        owner: lease?.owner ?? kafkaOwners.get(leaseKey(topic.name, partition)),
        epoch: lease?.epoch ?? 0,
        committedOffset: committed,
        metadata: committed === undefined ? undefined : lease?.metadata,
        committedAt: lease?.committedAt === undefined ? undefined : new Date(lease.committedAt),
        logStartOffset,
        highWatermark,
        lag,
        lagMs: lag === 0 ? 0 : await this.#ageOf(reader, from, now),
      };
    });
    return {
      groupId,
      createdAt: snapshot.createdAt === undefined ? undefined : new Date(snapshot.createdAt),
      members: members.map((m) => ({
        memberId: m.memberId,
        instanceId: m.instanceId,
        topics: m.topics,
        lastHeartbeatAt: new Date(m.seenAt),
        active: isActive(m, now),
      })),
      partitions,
    };
  }

  /**
   * Sets the group's committed offsets of a topic's partitions (all, or `partitions`). Refused
   * with {@link GroupActiveError} while members are active unless `force`. Every target is
   * resolved and validated before anything is written. Returns the new offsets.
   */
  async resetOffsets(
    groupId: string,
    topicName: string,
    to: OffsetResetTarget,
    options: { readonly partitions?: readonly number[]; readonly force?: boolean } = {},
  ): Promise<{ partition: number; offset: number }[]> {
    const snapshot = await this.#snapshot(groupId);
    this.#assertInactive(groupId, snapshot, options.force, 'reset offsets of');
    const topic = await this.#registry.get(topicName);
    const partitions = options.partitions ?? Array.from({ length: topic.partitions }, (_, i) => i);
    for (const p of partitions) {
      if (!Number.isInteger(p) || p < 0 || p >= topic.partitions) {
        throw new InvalidArgumentError(`Topic "${topicName}" has no partition ${p}`);
      }
    }
    const resolved = await mapLimited(partitions, 8, async (partition) => {
      const reader = new PartitionReader(this.#ctx, partitionRef(topic, partition));
      const [start, end] = await Promise.all([reader.logStartOffset(), reader.highWatermark()]);
      let offset: number;
      if (to === 'earliest') offset = start;
      else if (to === 'latest') offset = end;
      else if ('timestamp' in to) offset = (await offsetForTimestamp(reader, to.timestamp)) ?? end;
      else {
        offset = to.offset;
        if (!Number.isSafeInteger(offset) || offset < start || offset > end) {
          throw new OffsetOutOfRangeError(topic.name, partition, offset, start, end);
        }
      }
      return { partition, offset };
    });
    await new LeaseStore(this.#ctx, groupId).setOffsets(
      resolved.map(({ partition, offset }) => ({
        topic: topic.name,
        partition,
        offset,
        incarnation: topic.incarnation,
      })),
    );
    return resolved;
  }

  /** Deletes the group and its committed offsets; refused while members are active unless `force`. */
  async delete(groupId: string, options: { readonly force?: boolean } = {}): Promise<void> {
    const snapshot = await this.#snapshot(groupId);
    this.#assertInactive(groupId, snapshot, options.force, 'delete');
    await new LeaseStore(this.#ctx, groupId).deleteAll();
  }

  async #snapshot(groupId: string): Promise<GroupSnapshot> {
    validateGroupId(groupId);
    const snapshot = await new LeaseStore(this.#ctx, groupId).snapshot();
    if (
      !snapshot.exists &&
      snapshot.members.length === 0 &&
      snapshot.leases.length === 0 &&
      snapshot.classic.group === undefined
    ) {
      throw new GroupNotFoundError(groupId);
    }
    return snapshot;
  }

  #assertInactive(
    groupId: string,
    snapshot: GroupSnapshot,
    force: boolean | undefined,
    operation: string,
  ): void {
    const now = this.#ctx.now();
    const active = membersOf(snapshot)
      .filter((m) => isActive(m, now))
      .map((m) => m.memberId);
    if (active.length > 0 && !force) throw new GroupActiveError(groupId, active, operation);
  }

  async #topic(name: string): Promise<TopicMetadata | undefined> {
    try {
      return await this.#registry.get(name);
    } catch (error) {
      if (error instanceof TopicNotFoundError) return undefined;
      throw error;
    }
  }

  /**
   * The high watermark and lag (records, and the age of the oldest undelivered record) of every
   * partition of `topic`, from the committed offsets in `committed` (absent: from the log start).
   */
  async lagOf(
    topic: TopicMetadata,
    committed: ReadonlyMap<
      number,
      { readonly committed: number | undefined; readonly incarnation: string | undefined }
    >,
    now: number,
  ): Promise<Map<number, { highWatermark: number; lag: number; lagMs: number }>> {
    const partitions = Array.from({ length: topic.partitions }, (_, partition) => partition);
    const measured = await mapLimited(partitions, 16, async (partition) => {
      const reader = new PartitionReader(this.#ctx, partitionRef(topic, partition));
      const [logStartOffset, highWatermark] = await Promise.all([
        reader.logStartOffset(),
        reader.highWatermark(false),
      ]);
      const state = committed.get(partition);
      const offset = state?.incarnation === topic.incarnation ? state.committed : undefined;
      const from = Math.max(offset ?? logStartOffset, logStartOffset);
      const lag = Math.max(0, highWatermark - from);
      return [
        partition,
        { highWatermark, lag, lagMs: lag === 0 ? 0 : await this.#ageOf(reader, from, now) },
      ] as const;
    });
    return new Map(measured);
  }

  /** How old the record at `offset` is (ms), from its timestamp. */
  async #ageOf(reader: PartitionReader, offset: number, now: number): Promise<number> {
    // The batch the seek read is the one wanted: the fetch returns it without reading it again.
    const { batchOffset, batch } = await reader.seek(offset);
    const { batches } = await reader.fetch(batchOffset, { maxRecords: 1, maxBytes: 1 }, batch);
    for (const slot of batches) {
      if (slot.voided) continue;
      const record = (await decodeRecordBatch(slot.body, reader.label)).records.find(
        (r) => r.offset >= offset,
      );
      if (record) return Math.max(0, now - record.timestamp);
    }
    return 0;
  }
}
