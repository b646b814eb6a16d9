/**
 * What a group consumer needs from its transport: a member that coordinates with the others,
 * fenced commits, the partitions' records, and (direct transport only) transactions. The
 * consumer's logic — processing, retries, auto-commit, graceful hand-off — is the same over both
 * transports; only these operations differ.
 */
import type { TransactWriteItem } from '@aws-sdk/client-dynamodb';
import type { StorageContext } from '../context.ts';
import { UnsupportedOperationError } from '../errors.ts';
import { DirectProducer, type RecordMetadata } from '../producer.ts';
import type { ProducerRecord } from '../producer-input.ts';
import { groupContext, homeContext } from '../regions/routing.ts';
import { assertTransactionsAvailable } from '../regions/transactions.ts';
import { type RawValue, rawSerializer } from '../serde.ts';
import type { TopicPartition } from '../topic-partition.ts';
import type { TopicCache } from '../topics/topic-cache.ts';
import { directSources } from '../transport/direct-source.ts';
import type { PartitionSourceFactory } from '../transport/partition-source.ts';
import { checkCommitBound } from './commit-bound.ts';
import { GroupMember, type HeldLease, type MembershipEvents, type MemberTiming } from './group-member.ts';
import { type LeaseFence, LeaseStore, type MemberInfo } from './lease-store.ts';

/** A member's side of coordination, as the group consumer drives it. */
export interface MemberCoordinator {
  /** The member's id in the group (over HTTP it may change once, if the proposed one was taken). */
  readonly memberId: string;
  /** Joins and keeps heartbeating in the background; resolves after the first round. */
  join(): Promise<void>;
  /** Leases held now. */
  held(): HeldLease[];
  /** Hands a revoking lease on (its batches are finished and committed); false if it stays here. */
  handOff(lease: HeldLease): Promise<boolean>;
  /** Leaves, handing every lease straight to its next owner. */
  leave(): Promise<void>;
  /** Stops heartbeating without leaving (a crash, as the others see it). */
  abandon(): Promise<void>;
}

/** An offset to commit with the lease it is fenced by. */
export interface FencedOffset {
  readonly fence: LeaseFence;
  readonly offset: number;
  readonly metadata: string | undefined;
}

/** The transport-specific half of a group consumer, for one group. */
export interface GroupBackend {
  readonly sources: PartitionSourceFactory;
  /** Throws `TopicNotFoundError` for a topic that does not exist. */
  checkTopic(topic: string): Promise<void>;
  member(
    info: MemberInfo,
    timing: MemberTiming,
    events: MembershipEvents,
    onError: (e: unknown) => void,
  ): MemberCoordinator;
  /** Refuses (before any write) an offset beyond the partition's high watermark. */
  checkCommit(partition: TopicPartition, lease: HeldLease, offset: number): Promise<void>;
  /** Commits, fenced: `LeaseLostError` when the member no longer owns the lease at that epoch. */
  commit(commit: FencedOffset): Promise<void>;
  /**
   * Commits offsets and appends records (and the caller's items) in one transaction. Throws
   * `TransactionConditionFailedError` whose `failedItems` index `commits` first, then the items.
   */
  transaction(
    commits: readonly FencedOffset[],
    send: readonly ProducerRecord<RawValue>[],
    items: readonly TransactWriteItem[],
  ): Promise<RecordMetadata[][]>;
  /** Releases what the backend holds (a producer for transactions). */
  close(): Promise<void>;
}

/** The transaction items of `commits` (fenced offset updates), then the caller's items. */
function extra(
  store: LeaseStore,
  commits: readonly FencedOffset[],
  items: readonly TransactWriteItem[],
): TransactWriteItem[] {
  return [...commits.map((c) => store.commitTransactionItem(c.fence, c.offset, c.metadata)), ...items];
}

/** The direct transport's backend: leases in DynamoDB with the caller's credentials. */
export class DirectGroupBackend implements GroupBackend {
  readonly sources: PartitionSourceFactory;
  readonly #ctx: StorageContext;
  readonly #topics: TopicCache;
  readonly #store: LeaseStore;
  #producer: DirectProducer<RawValue> | undefined;

  constructor(ctx: StorageContext, topics: TopicCache, groupId: string) {
    this.#ctx = ctx;
    this.#topics = topics;
    this.#store = new LeaseStore(ctx, groupId);
    this.sources = directSources(ctx, topics);
  }

  async checkTopic(topic: string): Promise<void> {
    await this.#topics.get(topic);
  }

  member(
    info: MemberInfo,
    timing: MemberTiming,
    events: MembershipEvents,
    onError: (e: unknown) => void,
  ): MemberCoordinator {
    return new GroupMember(this.#ctx, this.#topics, this.#store, info, timing, events, onError);
  }

  async checkCommit(p: TopicPartition, lease: HeldLease, offset: number): Promise<void> {
    await checkCommitBound(
      this.#ctx,
      { topic: p.topic, incarnation: lease.incarnation, partition: p.partition },
      offset,
      () => this.#topics.get(p.topic),
    );
  }

  async commit(c: FencedOffset): Promise<void> {
    await this.#store.commit(c.fence, c.offset, c.metadata);
  }

  async transaction(
    commits: readonly FencedOffset[],
    send: readonly ProducerRecord<RawValue>[],
    items: readonly TransactWriteItem[],
  ): Promise<RecordMetadata[][]> {
    assertTransactionsAvailable(
      this.#ctx,
      `consumer.transaction() of group ${this.#store.group}`,
      'Produce, then commit (at-least-once), and make the processing idempotent.',
    );
    const groups = groupContext(this.#ctx);
    // The offset commits are items of the groups table in the group's region, and a transaction
    // never spans regions: every topic written must be homed there.
    for (const topic of new Set(send.map((r) => r.topic))) {
      const home = homeContext(this.#ctx, await this.#topics.get(topic)).region;
      if (home !== groups.region) {
        throw new UnsupportedOperationError(
          `A transaction of group ${this.#store.group} commits offsets in ${groups.region} and cannot append to ` +
            `topic "${topic}", homed in ${home}: DynamoDB transactions do not span regions. ` +
            "Coordinate the group in the topics' home region (groupRegion), or produce outside the transaction.",
        );
      }
    }
    // Created on the group's storage, so that a transaction of commits alone goes to its region.
    this.#producer ??= new DirectProducer<RawValue>(groups, this.#topics, { serializer: rawSerializer });
    return this.#producer.sendAtomically(send, { extraItems: extra(this.#store, commits, items) });
  }

  async close(): Promise<void> {
    await this.#producer?.close();
  }
}
