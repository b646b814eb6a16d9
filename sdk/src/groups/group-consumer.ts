/**
 * A consumer in a consumer group: members share the partitions of the topics they subscribe to
 * through leases (see `group-member.ts`), process them with `run({ eachMessage | eachBatch })`, and
 * commit what they processed, fenced by the lease epoch.
 *
 * Processing is at-least-once and never skips: a partition starts from its committed offset,
 * auto-commit commits only offsets whose records the handler finished, a failing handler is
 * retried from the failed record, and a partition is handed over only after its in-flight batch
 * has finished and been committed.
 */
import { randomBytes } from 'node:crypto';
import type { TransactWriteItem } from '@aws-sdk/client-dynamodb';
import { type ConsumedBatch, type ConsumedMessage, Consumer } from '../consumer.ts';
import {
  ClientClosedError,
  InvalidArgumentError,
  LeaseLostError,
  NoCommittedOffsetError,
  OffsetOutOfRangeError,
  TransactionConditionFailedError,
} from '../errors.ts';
import { partitionLabel } from '../keys.ts';
import type { RecordMetadata } from '../producer.ts';
import type { ProducerRecord } from '../producer-input.ts';
import type { Deserializer, RawValue } from '../serde.ts';
import type { TopicPartition } from '../topic-partition.ts';
import { Waker } from '../waker.ts';
import { leaseKey } from './assignment.ts';
import type { GroupBackend, MemberCoordinator } from './group-backend.ts';
import { validateGroupId } from './group-id.ts';
import type { HeldLease } from './group-member.ts';
import { isHeld } from './lease-state.ts';
import type { LeaseFence } from './lease-store.ts';

/** Settings of a group consumer. */
export interface GroupConsumerOptions<V> {
  /** The consumer group. Members with the same id share partitions. */
  readonly groupId: string;
  /**
   * Static membership: a stable id (e.g. the pod or host name). A restarted member with the same
   * id gets its previous partitions back without rebalancing the others, if it returns within
   * the session timeout.
   */
  readonly instanceId?: string;
  /** A member that stops heartbeating for this long is considered gone. @default 10000 */
  readonly sessionTimeoutMs?: number;
  /** How often the member heartbeats and rebalances. @default 3000 */
  readonly heartbeatIntervalMs?: number;
  /** Commit processed offsets automatically. @default true */
  readonly autoCommit?: boolean;
  /** How often auto-commit runs. @default 5000 */
  readonly autoCommitIntervalMs?: number;
  /** Where partitions without a committed offset start (Kafka's `auto.offset.reset`). @default 'latest' */
  readonly offsetReset?: 'earliest' | 'latest' | 'error';
  /** Turns record bytes into values. @default the bytes as a Buffer */
  readonly deserializer?: Deserializer<V>;
  /** Records per fetch and partition. @default 500 */
  readonly maxRecords?: number;
  /** Longest wait between polls while idle. @default 1000 */
  readonly maxIdleIntervalMs?: number;
  /** Called when a partition is assigned to this member, before its first batch. */
  readonly onAssigned?: (partition: TopicPartition) => void | Promise<void>;
  /**
   * Called when a partition leaves this member: after its last batch finished, before the
   * hand-off (you may still commit here), or after it was lost (commits would fail).
   */
  readonly onRevoked?: (partition: TopicPartition & { readonly lost: boolean }) => void | Promise<void>;
  /** Called with handler failures (the records are retried) and coordination errors. @default console.error */
  readonly onError?: (error: unknown) => void;
}

/** The defaults of {@link GroupConsumerOptions}, in one place (the options' `@default`s). */
export const GROUP_CONSUMER_DEFAULTS = {
  /** @default 10000 */
  sessionTimeoutMs: 10_000,
  /** @default 3000 */
  heartbeatIntervalMs: 3_000,
  /** @default true */
  autoCommit: true,
  /** @default 5000 */
  autoCommitIntervalMs: 5_000,
  /** @default 'latest' */
  offsetReset: 'latest',
  /** @default 500 */
  maxRecords: 500,
  /** @default 1000 */
  maxIdleIntervalMs: 1_000,
} as const;

/** The options that have defaults, with the defaults applied. */
interface GroupConsumerSettings {
  readonly sessionTimeoutMs: number;
  readonly heartbeatIntervalMs: number;
  readonly autoCommit: boolean;
  readonly autoCommitIntervalMs: number;
  readonly offsetReset: 'earliest' | 'latest' | 'error';
  readonly maxRecords: number;
  readonly maxIdleIntervalMs: number;
}

function groupConsumerSettings<V>(options: GroupConsumerOptions<V>): GroupConsumerSettings {
  const d = GROUP_CONSUMER_DEFAULTS;
  return {
    sessionTimeoutMs: options.sessionTimeoutMs ?? d.sessionTimeoutMs,
    heartbeatIntervalMs: options.heartbeatIntervalMs ?? d.heartbeatIntervalMs,
    autoCommit: options.autoCommit ?? d.autoCommit,
    autoCommitIntervalMs: options.autoCommitIntervalMs ?? d.autoCommitIntervalMs,
    offsetReset: options.offsetReset ?? d.offsetReset,
    maxRecords: options.maxRecords ?? d.maxRecords,
    maxIdleIntervalMs: options.maxIdleIntervalMs ?? d.maxIdleIntervalMs,
  };
}

/** What to consume. */
export interface Subscription {
  readonly topics: readonly string[];
  /** Start partitions that have no committed offset at the beginning instead of the end. */
  readonly fromBeginning?: boolean;
}

/** Handlers of {@link GroupConsumer.run}: exactly one of `eachMessage` or `eachBatch`. */
export type RunHandlers<V> =
  | { readonly eachMessage: (message: ConsumedMessage<V>) => Promise<void>; readonly eachBatch?: undefined }
  | { readonly eachBatch: (batch: ConsumedBatch<V>) => Promise<void>; readonly eachMessage?: undefined };

/** An offset to commit: the next offset to process in a partition. */
export interface OffsetCommit extends TopicPartition {
  readonly offset: number;
  readonly metadata?: string;
}

/** A consume-transform-produce step, all or nothing. */
export interface TransactionRequest {
  /** Offsets to commit (partitions this member holds). */
  readonly offsets: readonly OffsetCommit[];
  /** Messages to append (values are strings or bytes). */
  readonly send?: readonly ProducerRecord<RawValue>[];
  /** Your own DynamoDB items to write in the same transaction (e.g. a business row). */
  readonly items?: readonly TransactWriteItem[];
}

interface PartitionProgress {
  lease: HeldLease;
  /** Next offset not yet processed by the handler. */
  processed: number | undefined;
  /** Last offset committed by this member. */
  committed: number | undefined;
  failures: number;
}

/** A member of a consumer group. Obtain with `tributary.consumer({ groupId })`. */
export class GroupConsumer<V> {
  readonly groupId: string;
  /** The member id proposed at construction (the instance id for static members). */
  readonly #proposedMemberId: string;
  readonly #backend: GroupBackend;
  readonly #options: GroupConsumerOptions<V>;
  readonly #settings: GroupConsumerSettings;
  readonly #consumer: Consumer<V>;
  readonly #progress = new Map<string, PartitionProgress>();
  readonly #revoking = new Set<HeldLease>();
  readonly #lost = new Set<HeldLease>();
  #subscription: Subscription | undefined;
  #member: MemberCoordinator | undefined;
  #loop: Promise<void> | undefined;
  #running = false;
  #disconnected = false;
  #lastAutoCommit = 0;
  readonly #waker = new Waker();

  /** @internal use `tributary.consumer({ groupId })` */
  constructor(
    backend: (groupId: string) => GroupBackend,
    options: GroupConsumerOptions<V> & { deserializer: Deserializer<V> },
  ) {
    validateGroupId(options.groupId);
    if (options.instanceId !== undefined) validateGroupId(options.instanceId);
    const settings = groupConsumerSettings(options);
    const session = settings.sessionTimeoutMs;
    const heartbeat = settings.heartbeatIntervalMs;
    if (!(heartbeat > 0 && session > heartbeat)) {
      throw new InvalidArgumentError(
        `heartbeatIntervalMs (${heartbeat}) must be positive and below sessionTimeoutMs (${session}); a third of it is usual`,
      );
    }
    this.#options = options;
    this.#settings = settings;
    this.groupId = options.groupId;
    this.#proposedMemberId = options.instanceId ?? `m-${randomBytes(6).toString('hex')}`;
    this.#backend = backend(options.groupId);
    this.#consumer = new Consumer<V>(this.#backend.sources, {
      deserializer: options.deserializer,
      maxRecords: settings.maxRecords,
      maxIdleIntervalMs: settings.maxIdleIntervalMs,
      // A long-poll (HTTP) returns within a heartbeat, so revocations are acted on promptly.
      maxWaitMs: Math.min(heartbeat, 20_000),
      offsetReset: 'error',
    });
  }

  /** This member's id in the group (the `instanceId` for static members). */
  get memberId(): string {
    return this.#member?.memberId ?? this.#proposedMemberId;
  }

  /** Chooses the topics to consume. Call before {@link run}. */
  async subscribe(subscription: Subscription): Promise<void> {
    this.#assertUsable();
    if (!Array.isArray(subscription.topics) || subscription.topics.length === 0) {
      throw new InvalidArgumentError('subscribe() needs at least one topic');
    }
    for (const topic of subscription.topics) await this.#backend.checkTopic(topic);
    this.#subscription = {
      topics: [...new Set(subscription.topics)].sort(),
      fromBeginning: subscription.fromBeginning ?? false,
    };
  }

  /**
   * Joins the group and processes records with the handler until {@link disconnect}. Resolves
   * once the member has joined; handler failures go to `onError` and the records are retried.
   */
  async run(handlers: RunHandlers<V>): Promise<void> {
    this.#assertUsable();
    if (!this.#subscription) throw new InvalidArgumentError('Call subscribe() before run()');
    if (this.#running) throw new InvalidArgumentError('run() was already called');
    if (typeof handlers.eachMessage !== 'function' && typeof handlers.eachBatch !== 'function') {
      throw new InvalidArgumentError('run() needs eachMessage or eachBatch');
    }
    this.#running = true;
    this.#member = this.#backend.member(
      {
        memberId: this.memberId,
        instanceId: this.#options.instanceId,
        topics: this.#subscription.topics,
        sessionTimeoutMs: this.#settings.sessionTimeoutMs,
      },
      {
        heartbeatIntervalMs: this.#settings.heartbeatIntervalMs,
        sessionTimeoutMs: this.#settings.sessionTimeoutMs,
      },
      {
        assigned: (lease) => this.#assigned(lease),
        // A poll waiting for idle partitions (or a long-poll) returns at once: hand-offs wait for no one.
        revokeRequested: (lease) => {
          this.#revoking.add(lease);
          this.#waker.wake();
          this.#consumer.wakeup();
        },
        lost: (lease) => {
          this.#lost.add(lease);
          this.#waker.wake();
          this.#consumer.wakeup();
        },
      },
      (error) => this.#reportError(error),
    );
    await this.#member.join();
    this.#loop = this.#process(handlers);
  }

  /** Partitions this member holds now. */
  assignment(): TopicPartition[] {
    return this.#member ? this.#member.held().map(({ topic, partition }) => ({ topic, partition })) : [];
  }

  /**
   * Commits offsets (the next offset to process) for partitions this member holds, fenced by
   * the lease: {@link LeaseLostError} if another member owns the partition now. Offsets never
   * move backwards, and may not exceed the partition's high watermark.
   */
  async commit(offsets: readonly OffsetCommit[]): Promise<void> {
    this.#assertUsable();
    for (const o of offsets) {
      const progress = this.#held(o);
      if (!Number.isSafeInteger(o.offset) || o.offset < 0) {
        throw new InvalidArgumentError(
          `Offsets are non-negative integers; got ${o.offset} for ${partitionLabel(o)}`,
        );
      }
      await this.#backend.checkCommit(o, progress.lease, o.offset);
    }
    await Promise.all(offsets.map((o) => this.#commitOne(this.#held(o), o.offset, o.metadata)));
  }

  /** Moves a held partition's position; processing continues there. */
  async seek(target: OffsetCommit): Promise<void> {
    const progress = this.#held(target);
    await this.#consumer.seek({ topic: target.topic, partition: target.partition, offset: target.offset });
    progress.processed = target.offset;
    // A partition held back for want of a start position (offsetReset 'error') starts now.
    this.#consumer.resume([{ topic: target.topic, partition: target.partition }]);
  }

  /** Stops fetching held partitions until {@link resume}; they stay assigned. */
  pause(partitions: readonly TopicPartition[]): void {
    for (const p of partitions) this.#held(p);
    this.#consumer.pause(partitions);
  }

  /** Resumes paused partitions. */
  resume(partitions: readonly TopicPartition[]): void {
    this.#consumer.resume(partitions);
  }

  /**
   * Exactly-once consume-transform-produce: commits `offsets` and appends `send` (and writes
   * your `items`) in one DynamoDB transaction, fenced by this member's leases. Either all of it
   * happens or none; a member that lost a lease gets {@link LeaseLostError} and writes nothing.
   * Direct transport only, and not on an MRSC deployment (`consistency: 'strong'`: no transactions):
   * there it throws `UnsupportedOperationError` and writes nothing.
   */
  async transaction(request: TransactionRequest): Promise<RecordMetadata[][]> {
    this.#assertUsable();
    const progress = request.offsets.map((o) => {
      if (!Number.isSafeInteger(o.offset) || o.offset < 0) {
        throw new InvalidArgumentError(
          `Offsets are non-negative integers; got ${o.offset} for ${partitionLabel(o)}`,
        );
      }
      return this.#held(o);
    });
    const commits = request.offsets.map((o, i) => ({
      fence: this.#fence(progress[i]!.lease),
      offset: o.offset,
      metadata: o.metadata,
    }));
    try {
      const result = await this.#backend.transaction(commits, request.send ?? [], request.items ?? []);
      request.offsets.forEach((o, i) => {
        progress[i]!.committed = Math.max(progress[i]!.committed ?? 0, o.offset);
      });
      return result;
    } catch (error) {
      if (!(error instanceof TransactionConditionFailedError)) throw error;
      const lostIndex = error.failedItems.find((i) => i < commits.length);
      if (lostIndex !== undefined) {
        const o = request.offsets[lostIndex]!;
        throw new LeaseLostError(this.groupId, o.topic, o.partition);
      }
      throw new TransactionConditionFailedError(
        error.failedItems.map((i) => i - commits.length),
        error.currentItems.slice(commits.length),
      );
    }
  }

  /**
   * Leaves the group gracefully: finishes the in-flight batch, commits what was processed, and
   * hands every partition straight to its next owner (no session timeout to wait for).
   */
  async disconnect(): Promise<void> {
    if (this.#disconnected) return;
    this.#disconnected = true;
    this.#running = false;
    this.#waker.wake();
    this.#consumer.close();
    await this.#loop;
    if (this.#member) {
      await this.#commitProcessed();
      await this.#member.leave();
    }
    await this.#backend.close();
  }

  /**
   * Stops without committing or leaving, as a crash would (for tests and chaos drills): the
   * partitions move only after the session timeout.
   */
  async abandon(): Promise<void> {
    this.#disconnected = true;
    this.#running = false;
    this.#waker.wake();
    this.#consumer.close();
    await this.#member?.abandon();
    await this.#loop;
  }

  async #assigned(lease: HeldLease): Promise<void> {
    // Leaving: the lease is handed on by leave() (or expires after a crash); don't start it.
    if (this.#disconnected) return;
    const tp = { topic: lease.topic, partition: lease.partition };
    const key = leaseKey(lease.topic, lease.partition);
    const reset = this.#subscription?.fromBeginning ? 'earliest' : this.#settings.offsetReset;
    let needsSeek = lease.committed === undefined && reset === 'error';
    try {
      await this.#consumer.assign([
        { ...tp, offset: lease.committed ?? (reset === 'error' ? 'latest' : reset) },
      ]);
    } catch (error) {
      if (!(error instanceof OffsetOutOfRangeError)) throw error;
      // The committed offset fell below the log start (retention): apply the reset policy.
      needsSeek = reset === 'error';
      await this.#consumer.assign([{ ...tp, offset: reset === 'earliest' ? 'earliest' : 'latest' }]);
    }
    if (needsSeek) {
      this.#consumer.pause([tp]);
      this.#reportError(new NoCommittedOffsetError(this.groupId, lease.topic, lease.partition));
    }
    this.#progress.set(key, {
      lease,
      // Nothing to commit for a partition waiting for a seek (committing its position would skip).
      processed: needsSeek ? undefined : this.#consumer.position(tp),
      committed: lease.committed,
      failures: 0,
    });
    await this.#options.onAssigned?.(tp);
    this.#waker.wake();
  }

  async #process(handlers: RunHandlers<V>): Promise<void> {
    while (this.#running) {
      try {
        await this.#settleRebalance();
        const batches = this.#consumer.assignment().length > 0 ? await this.#consumer.poll() : [];
        for (const batch of batches) {
          if (!this.#running) break;
          await this.#handle(batch, handlers);
          await this.#settleRebalance();
        }
        await this.#maybeAutoCommit();
        // poll() itself waits for its partitions' idle intervals (each is looked at once per
        // maxIdleIntervalMs); only a member holding nothing has nothing to wait on. An assignment
        // wakes this sleep.
        if (this.#consumer.assignment().length === 0)
          await this.#waker.sleep(this.#settings.maxIdleIntervalMs);
      } catch (error) {
        if (error instanceof ClientClosedError && !this.#running) return;
        this.#reportError(error);
        await this.#waker.sleep(200);
      }
    }
  }

  async #handle(batch: ConsumedBatch<V>, handlers: RunHandlers<V>): Promise<void> {
    const key = leaseKey(batch.topic, batch.partition);
    const progress = this.#progress.get(key);
    if (!progress || progress.lease.state === 'lost') return;
    const tp = { topic: batch.topic, partition: batch.partition };
    try {
      if (handlers.eachBatch) {
        await handlers.eachBatch(batch);
        progress.processed = batch.nextOffset;
      } else {
        for (const message of batch.messages) {
          // The lease can be lost while we await the handler: stop at once if it was. A disconnect
          // also stops here, between messages; the rest of the batch stays unprocessed.
          if (!isHeld(progress.lease.state) || !this.#running) return;
          await handlers.eachMessage(message);
          progress.processed = message.offset + 1;
        }
        progress.processed = batch.nextOffset;
      }
      progress.failures = 0;
    } catch (error) {
      // Never skip: go back to the first unprocessed record and retry it after a backoff.
      progress.failures++;
      this.#reportError(error);
      if (!isHeld(progress.lease.state)) return;
      const from = progress.processed ?? batch.messages[0]?.offset ?? batch.nextOffset;
      await this.#consumer.seek({ ...tp, offset: from });
      this.#consumer.pause([tp]);
      const delay = Math.min(30_000, 100 * 2 ** Math.min(progress.failures - 1, 10));
      setTimeout(() => {
        if (this.#progress.get(key) === progress) this.#consumer.resume([tp]);
      }, delay).unref?.();
    }
  }

  /** Applies lost leases at once and hands off revoked ones (their batches have finished). */
  async #settleRebalance(): Promise<void> {
    for (const lease of [...this.#lost]) {
      this.#lost.delete(lease);
      this.#revoking.delete(lease);
      await this.#release(lease, true);
    }
    for (const lease of [...this.#revoking]) {
      this.#revoking.delete(lease);
      if (lease.state !== 'revoking') continue;
      const tp = { topic: lease.topic, partition: lease.partition };
      await this.#options.onRevoked?.({ ...tp, lost: false });
      const progress = this.#progress.get(leaseKey(lease.topic, lease.partition));
      try {
        if (progress && this.#settings.autoCommit && progress.processed !== undefined) {
          await this.#commitOne(progress, progress.processed, undefined);
        }
        if (await this.#member!.handOff(lease)) await this.#release(lease, false);
      } catch (error) {
        if (!(error instanceof LeaseLostError)) throw error;
        await this.#release(lease, true);
      }
    }
  }

  async #release(lease: HeldLease, lost: boolean): Promise<void> {
    const tp = { topic: lease.topic, partition: lease.partition };
    const key = leaseKey(lease.topic, lease.partition);
    const progress = this.#progress.get(key);
    if (progress?.lease !== lease) return;
    this.#progress.delete(key);
    this.#consumer.unassign([tp]);
    if (lost) await this.#options.onRevoked?.({ ...tp, lost: true });
  }

  async #maybeAutoCommit(): Promise<void> {
    if (!this.#settings.autoCommit) return;
    const now = Date.now();
    if (now - this.#lastAutoCommit < this.#settings.autoCommitIntervalMs) return;
    this.#lastAutoCommit = now;
    await this.#commitProcessed();
  }

  async #commitProcessed(): Promise<void> {
    if (!this.#settings.autoCommit) return;
    await Promise.all(
      [...this.#progress.values()].map(async (p) => {
        if (p.processed === undefined || p.processed === p.committed) return;
        try {
          await this.#commitOne(p, p.processed, undefined);
        } catch (error) {
          if (!(error instanceof LeaseLostError)) throw error;
          this.#lost.add(p.lease);
        }
      }),
    );
  }

  async #commitOne(progress: PartitionProgress, offset: number, metadata: string | undefined): Promise<void> {
    const { lease } = progress;
    if (lease.state === 'lost' || lease.state === 'released')
      throw new LeaseLostError(this.groupId, lease.topic, lease.partition);
    await this.#backend.commit({ fence: this.#fence(lease), offset, metadata });
    progress.committed = Math.max(progress.committed ?? 0, offset);
  }

  #fence(lease: HeldLease): LeaseFence {
    return { topic: lease.topic, partition: lease.partition, memberId: this.memberId, epoch: lease.epoch };
  }

  #held(p: TopicPartition): PartitionProgress {
    const progress = this.#progress.get(leaseKey(p.topic, p.partition));
    if (!progress || progress.lease.state === 'lost' || progress.lease.state === 'released') {
      throw new LeaseLostError(this.groupId, p.topic, p.partition);
    }
    return progress;
  }

  #reportError(error: unknown): void {
    (this.#options.onError ?? ((e: unknown) => console.error('[tributary group consumer]', e)))(error);
  }

  #assertUsable(): void {
    if (this.#disconnected) throw new ClientClosedError('group consumer');
  }
}
