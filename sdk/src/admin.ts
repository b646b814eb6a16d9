/**
 * Administration: the {@link Admin} interface both transports implement, and the direct
 * transport's {@link DirectAdmin} (topics: create, list, describe, alter, add partitions, delete,
 * offset lookups, failovers and what they left outside the log; groups through `GroupAdmin`).
 */
import { type PartitionBounds, type SegmentInfo, TierMetadata } from './archive/tier-metadata.ts';
import { mapLimited } from './concurrency.ts';
import type { StorageContext } from './context.ts';
import { UnknownPartitionError } from './errors.ts';
import {
  GroupAdmin,
  type GroupDescription,
  type GroupSummary,
  type OffsetResetTarget,
} from './groups/group-admin.ts';
import type { PartitionRef } from './keys.ts';
import { type Slot, slotEnd } from './log/log-item.ts';
import { PartitionReader } from './log/reader.ts';
import { offsetForTimestamp } from './log/timestamp-lookup.ts';
import {
  Divergence,
  type DivergenceOptions,
  type DivergenceReport,
  type DivergentBatchRef,
  type DivergentRecord,
  type ReappendOptions,
  type ReappendResult,
} from './regions/divergence.ts';
import { Failover, type FailoverReport } from './regions/failover.ts';
import type { FailoverRequest } from './regions/failover-plan.ts';
import { type RegionReplication, replicationStatus } from './regions/replication-status.ts';
import { readPlacement } from './regions/routing.ts';
import { effectiveConfigs, validateConfigKeys } from './topics/configs.ts';
import type { PurgeProgress, TopicMetadata, TopicRegistry } from './topics/registry.ts';
import type { TopicCache } from './topics/topic-cache.ts';
import { partitionRef } from './topics/topic-metadata.ts';
import {
  summaryOf,
  type TriggerDescription,
  type TriggerRegistry,
  type TriggerSummary,
} from './triggers/trigger-registry.ts';
import type { TriggerConfig, TriggerUpdate } from './triggers/trigger-settings.ts';

/** What to create. */
export interface CreateTopicRequest {
  readonly topic: string;
  /** @default 1 */
  readonly partitions?: number | undefined;
  /** Kafka-style configs, e.g. `{ 'retention.ms': 86400000 }`; see `docs/configs.md`. */
  readonly configs?: Readonly<Record<string, string | number | boolean>> | undefined;
}

/** A topic in a listing. */
export interface TopicSummary {
  readonly name: string;
  readonly partitions: number;
}

/** The part of a partition held in DynamoDB (the hot tier): `[startOffset, endOffset)`. */
export interface DynamoDBTierUsage {
  /** First offset held in DynamoDB: the partition's local log start offset. */
  readonly startOffset: number;
  /** First offset after the hot tier: the partition's high watermark. */
  readonly endOffset: number;
  /**
   * Bytes of the record batches held in DynamoDB (inline, or in S3 behind a claim check for large
   * batches), as the log counts them: RecordBatch bytes, not DynamoDB's item sizes.
   */
  readonly bytes: number;
}

/** The part of a partition archived to S3 segments: `[startOffset, endOffset)`. */
export interface S3TierUsage {
  /** First offset in S3: the partition's log start offset. */
  readonly startOffset: number;
  /** First offset after the archive: the local log start offset (equal to `startOffset` when nothing is archived). */
  readonly endOffset: number;
  /** Segments holding `[startOffset, endOffset)`. */
  readonly segments: number;
  /** Bytes of those segments' `.log` objects (their record batches; indexes not counted). */
  readonly bytes: number;
}

/**
 * One partition's offsets and where its records are. The offsets satisfy
 * `logStartOffset ≤ localLogStartOffset ≤ highWatermark`: records in
 * `[logStartOffset, localLogStartOffset)` are in S3 segments, the rest in DynamoDB.
 *
 * The figures come from three reads that are not one snapshot: while the archiver or retention runs,
 * `s3.segments` and `s3.bytes` may briefly miss a segment being added or deleted.
 */
export interface PartitionOffsets {
  /** The partition number. */
  readonly partition: number;
  /** First offset still readable (Kafka's log start offset); retention moves it forward. */
  readonly logStartOffset: number;
  /**
   * First offset held in DynamoDB (Kafka's local log start offset); the archiver moves it forward
   * as it copies batches to S3. Equal to `logStartOffset` while nothing is archived.
   */
  readonly localLogStartOffset: number;
  /** Next offset to be written. */
  readonly highWatermark: number;
  /** The hot tier: `[localLogStartOffset, highWatermark)`. */
  readonly dynamodb: DynamoDBTierUsage;
  /** The archive tier: `[logStartOffset, localLogStartOffset)`. */
  readonly s3: S3TierUsage;
  /**
   * With the deployment's regions known (`describeTopic` only): each region's copy of the
   * partition — its high watermark and how far it lags the topic's home, in records and in ms —
   * the deployment's regions in order. The fields above are then those of the copy this client
   * reads (`readFrom`).
   */
  readonly regions?: readonly RegionReplication[];
}

/** A topic with its partitions' offsets and its effective configs. */
export interface TopicDescription {
  readonly name: string;
  readonly incarnation: string;
  readonly createdAt: Date;
  readonly partitions: readonly PartitionOffsets[];
  /** Every config with its effective value (defaults filled in). */
  readonly configs: Readonly<Record<string, string>>;
}

/** Options of {@link Admin.resetGroupOffsets}. */
export interface ResetGroupOffsetsOptions {
  /** Only these partitions of the topic. @default every partition */
  readonly partitions?: readonly number[];
  /** Reset even while the group has active members. @default false */
  readonly force?: boolean;
}

/** Options of {@link Admin.deleteGroup}. */
export interface DeleteGroupOptions {
  /** Delete even while the group has active members. @default false */
  readonly force?: boolean;
}

/** Options of {@link Admin.deleteTopic}. */
export interface DeleteTopicOptions {
  /** Called as the topic's records are purged (direct transport only). @default none */
  readonly onProgress?: (progress: PurgeProgress) => void;
}

/**
 * Administration of topics and consumer groups, the same over both transports (`DirectAdmin` and
 * the HTTP transport's `HttpAdmin` implement it). Obtain one with `tributary.admin()`.
 */
export interface Admin {
  /** Consumer groups, sorted by id. */
  listGroups(): Promise<GroupSummary[]>;
  /**
   * A group's members, partition owners, committed offsets and lag (records and time).
   * `GroupNotFoundError` if unknown.
   */
  describeGroup(groupId: string): Promise<GroupDescription>;
  /**
   * Resets a group's committed offsets for a topic to the earliest or latest offset, a timestamp
   * or an exact offset; returns the offsets set. Refused with `GroupActiveError` while members are
   * active, unless `force`. Direct transport only: over HTTP it throws `UnsupportedOperationError`.
   */
  resetGroupOffsets(
    groupId: string,
    topic: string,
    to: OffsetResetTarget,
    options?: ResetGroupOffsetsOptions,
  ): Promise<{ partition: number; offset: number }[]>;
  /** Deletes a group and its committed offsets; refused with `GroupActiveError` while members are active, unless `force`. */
  deleteGroup(groupId: string, options?: DeleteGroupOptions): Promise<void>;
  /** Creates a topic; fails with `TopicAlreadyExistsError`, `InvalidTopicNameError`, ... before writing anything. */
  createTopic(request: CreateTopicRequest): Promise<TopicSummary>;
  /** All topics, sorted by name. */
  listTopics(): Promise<TopicSummary[]>;
  /**
   * A topic with each partition's offsets and tier sizes (see {@link PartitionOffsets}), and its
   * effective configs. With the deployment's regions known, per partition also each region's high
   * watermark and replication lag (`regions`).
   */
  describeTopic(topic: string): Promise<TopicDescription>;
  /**
   * Sets configs; a `null` value resets that key to its default. Every key, reset or set, must be
   * a known config (`InvalidConfigError` otherwise, before anything is written).
   */
  alterTopicConfigs(
    topic: string,
    configs: Readonly<Record<string, string | number | boolean | null>>,
  ): Promise<void>;
  /** Raises a topic's partition count to `totalPartitions`. Keyed records of new writes may map to other partitions, as in Kafka. */
  createPartitions(topic: string, totalPartitions: number): Promise<void>;
  /**
   * Deletes a topic: it disappears at once, and its records are purged before this resolves
   * (`onProgress` reports the purge on the direct transport). A topic created later with the
   * same name starts empty.
   */
  deleteTopic(topic: string, options?: DeleteTopicOptions): Promise<void>;
  /**
   * For each partition, the first offset whose record timestamp is ≥ `timestamp`, or `null` when
   * no record is that recent (Kafka's `offsetsForTimes`).
   */
  offsetsForTimestamp(
    topic: string,
    timestamp: number,
  ): Promise<{ partition: number; offset: number | null }[]>;
  /** One partition's offsets and tier sizes, as {@link Admin.describeTopic} reports them. `UnknownPartitionError` if out of range. */
  partitionOffsets(topic: string, partition: number): Promise<PartitionOffsets>;
  /**
   * Creates a trigger: `config.functionName` is invoked with the records of `config.topic`, in the
   * Kafka event source mapping's event format and error-handling contract. Every setting, the
   * topic, a destination topic and the function are checked first (`InvalidTriggerError`,
   * `TopicNotFoundError`, `FunctionNotFoundError`, `TriggerAlreadyExistsError`); nothing is written
   * for a refused request.
   */
  createTrigger(config: TriggerConfig): Promise<TriggerDescription>;
  /** Changes a trigger's settings (`enabled: false` disables it); create-only settings may only be repeated. */
  updateTrigger(name: string, update: TriggerUpdate): Promise<TriggerDescription>;
  /** Deletes a trigger; its consumer group and committed offsets stay. `TriggerNotFoundError` if unknown. */
  deleteTrigger(name: string): Promise<void>;
  /** All triggers, sorted by name. */
  listTriggers(): Promise<TriggerSummary[]>;
  /** A trigger's settings, state, last error, in-flight batches and lag per partition (records and time). */
  describeTrigger(name: string): Promise<TriggerDescription>;
  /**
   * Moves a topic's home to another of the deployment's regions and starts a new leader epoch there
   * (README, "Failover"). `planned`: fences appends in the old home, waits until `to` holds the
   * whole log (up to `timeoutMs`; then the fences are lifted and `TimeoutError` is thrown), then
   * switches: nothing is lost. `forced` (the old home is unreachable; nothing is sent to it): the new
   * epoch starts after the last offset `to` holds; what the old home acknowledged past it is reported
   * by {@link divergence}. Bad input (`UnknownRegionError`, `InvalidFailoverError`,
   * `TopicNotFoundError`) changes nothing. Direct transport only, with regions: over HTTP it throws
   * `UnsupportedOperationError`.
   */
  failoverTopic(topic: string, request: FailoverRequest): Promise<FailoverReport>;
  /**
   * Every batch a failover left outside the topic's log (acknowledged by the old home, not part of
   * the log): offsets, producer ids and sequences, the region and epoch stamped on it, its append
   * time, and whether it has been re-appended. Direct transport only.
   */
  divergence(topic: string, options?: DivergenceOptions): Promise<DivergenceReport>;
  /** The records of one batch {@link divergence} lists. Direct transport only. */
  readDivergent(
    topic: string,
    batch: DivergentBatchRef,
    options?: DivergenceOptions,
  ): Promise<DivergentRecord[]>;
  /**
   * Appends the records of batches outside the log (every `divergent` one, or `options.batches`) at
   * the end of the log, at most once per batch however often it is asked. Direct transport only.
   */
  reappendDivergent(topic: string, options?: ReappendOptions): Promise<ReappendResult[]>;
}

/** The direct transport's administration (DynamoDB and S3 with the caller's credentials). */
export class DirectAdmin implements Admin {
  readonly #ctx: StorageContext;
  readonly #registry: TopicRegistry;
  readonly #groups: GroupAdmin;
  readonly #triggers: TriggerRegistry;
  readonly #topics: Pick<TopicCache, 'invalidate'> | undefined;

  /**
   * @internal use `tributary.admin()`. `topics`: the client's metadata cache, told of a failover so
   * that the client's own producers and consumers follow it at once.
   */
  constructor(
    ctx: StorageContext,
    registry: TopicRegistry,
    triggers: TriggerRegistry,
    topics?: Pick<TopicCache, 'invalidate'>,
  ) {
    this.#ctx = ctx;
    this.#registry = registry;
    this.#groups = new GroupAdmin(ctx, registry);
    this.#triggers = triggers;
    this.#topics = topics;
  }

  /** Creates a trigger; see {@link Admin.createTrigger}. */
  createTrigger(config: TriggerConfig): Promise<TriggerDescription> {
    return this.#triggers.create(config);
  }

  /** Changes a trigger's settings; see {@link Admin.updateTrigger}. */
  updateTrigger(name: string, update: TriggerUpdate): Promise<TriggerDescription> {
    return this.#triggers.update(name, update);
  }

  /** Deletes a trigger; see {@link Admin.deleteTrigger}. */
  deleteTrigger(name: string): Promise<void> {
    return this.#triggers.delete(name);
  }

  /** All triggers, sorted by name. */
  async listTriggers(): Promise<TriggerSummary[]> {
    return (await this.#triggers.list()).map((t) => summaryOf(t.settings));
  }

  /** A trigger with its delivery state; see {@link Admin.describeTrigger}. */
  describeTrigger(name: string): Promise<TriggerDescription> {
    return this.#triggers.describe(name);
  }

  /** Moves a topic's home; see {@link Admin.failoverTopic}. */
  async failoverTopic(topic: string, request: FailoverRequest): Promise<FailoverReport> {
    try {
      return await new Failover(this.#ctx, this.#registry).run(topic, request);
    } finally {
      this.#topics?.invalidate(topic);
    }
  }

  /** Batches outside the log; see {@link Admin.divergence}. */
  divergence(topic: string, options: DivergenceOptions = {}): Promise<DivergenceReport> {
    return new Divergence(this.#ctx, this.#registry).report(topic, options);
  }

  /** One batch's records; see {@link Admin.readDivergent}. */
  readDivergent(
    topic: string,
    batch: DivergentBatchRef,
    options: DivergenceOptions = {},
  ): Promise<DivergentRecord[]> {
    return new Divergence(this.#ctx, this.#registry).read(topic, batch, options);
  }

  /** Re-appends batches outside the log; see {@link Admin.reappendDivergent}. */
  reappendDivergent(topic: string, options: ReappendOptions = {}): Promise<ReappendResult[]> {
    return new Divergence(this.#ctx, this.#registry).reappend(topic, options);
  }

  /** Consumer groups, sorted by id. */
  listGroups(): Promise<GroupSummary[]> {
    return this.#groups.list();
  }

  /** A group's members, partition owners, committed offsets and lag (records and time). `GroupNotFoundError` if unknown. */
  describeGroup(groupId: string): Promise<GroupDescription> {
    return this.#groups.describe(groupId);
  }

  /**
   * Resets a group's committed offsets for a topic to the earliest or latest offset, a timestamp
   * or an exact offset. Refused with `GroupActiveError` while members are active, unless `force`.
   */
  resetGroupOffsets(
    groupId: string,
    topic: string,
    to: OffsetResetTarget,
    options: ResetGroupOffsetsOptions = {},
  ): Promise<{ partition: number; offset: number }[]> {
    return this.#groups.resetOffsets(groupId, topic, to, options);
  }

  /** Deletes a group and its committed offsets; refused while members are active, unless `force`. */
  deleteGroup(groupId: string, options: DeleteGroupOptions = {}): Promise<void> {
    return this.#groups.delete(groupId, options);
  }

  /** Creates a topic; fails with `TopicAlreadyExistsError`, `InvalidTopicNameError`, ... before writing anything. */
  async createTopic(request: CreateTopicRequest): Promise<TopicSummary> {
    const topic = await this.#registry.create(request.topic, request.partitions ?? 1, request.configs ?? {});
    return summary(topic);
  }

  /** All topics, sorted by name. */
  async listTopics(): Promise<TopicSummary[]> {
    return (await this.#registry.list()).map(summary);
  }

  /**
   * A topic with each partition's offsets and tier sizes (see {@link PartitionOffsets}), and its
   * effective configs. Per partition: one bounds read, one tail read and one manifest query (a page
   * per 100 segments).
   */
  async describeTopic(topic: string): Promise<TopicDescription> {
    const meta = await this.#registry.get(topic);
    const partitions = await mapLimited(range(meta.partitions), 16, (partition) =>
      this.#describePartition(meta, partition, true),
    );
    return {
      name: meta.name,
      incarnation: meta.incarnation,
      createdAt: new Date(meta.createdAt),
      partitions,
      configs: effectiveConfigs(meta.configs),
    };
  }

  /**
   * Sets configs; a `null` value resets that key to its default. Every key, reset or set, must be
   * a known config (`InvalidConfigError` otherwise, before anything is written).
   */
  async alterTopicConfigs(
    topic: string,
    configs: Readonly<Record<string, string | number | boolean | null>>,
  ): Promise<void> {
    validateConfigKeys(Object.keys(configs));
    await this.#registry.alterConfigs(topic, configs);
  }

  /** Raises a topic's partition count to `totalPartitions`. Keyed records of new writes may map to other partitions, as in Kafka. */
  async createPartitions(topic: string, totalPartitions: number): Promise<void> {
    await this.#registry.addPartitions(topic, totalPartitions);
  }

  /**
   * Deletes a topic: it disappears at once, and its records are purged before this resolves
   * (`onProgress` reports the purge). A topic created later with the same name starts empty.
   */
  async deleteTopic(topic: string, options: DeleteTopicOptions = {}): Promise<void> {
    await this.#registry.delete(topic, options.onProgress);
  }

  /**
   * For each partition, the first offset whose record timestamp is ≥ `timestamp`, or `null` when
   * no record is that recent (Kafka's `offsetsForTimes`).
   */
  async offsetsForTimestamp(
    topic: string,
    timestamp: number,
  ): Promise<{ partition: number; offset: number | null }[]> {
    const meta = await this.#registry.get(topic);
    return mapLimited(range(meta.partitions), 8, async (partition) => ({
      partition,
      offset: await offsetForTimestamp(this.#reader(meta, partition), timestamp),
    }));
  }

  /** One partition's offsets and tier sizes, as {@link describeTopic} reports them. */
  async partitionOffsets(topic: string, partition: number): Promise<PartitionOffsets> {
    const meta = await this.#registry.get(topic);
    if (!Number.isInteger(partition) || partition < 0 || partition >= meta.partitions) {
      throw new UnknownPartitionError(topic, partition, meta.partitions);
    }
    return this.#describePartition(meta, partition, false);
  }

  /** A reader of the partition's copy this client reads (with regions, per `readFrom`). */
  #reader(meta: TopicMetadata, partition: number): PartitionReader {
    const placement = readPlacement(this.#ctx, meta);
    return new PartitionReader(placement.ctx, ref(meta, partition), placement.replica);
  }

  /**
   * One bounds read, one tail read and one manifest query, of the copy this client reads; with
   * `withRegions` and regions known, every region's replication figures too.
   */
  async #describePartition(
    meta: TopicMetadata,
    partition: number,
    withRegions: boolean,
  ): Promise<PartitionOffsets> {
    const { ctx } = readPlacement(this.#ctx, meta);
    const tiers = new TierMetadata(ctx, ref(meta, partition));
    const regions = withRegions ? this.#ctx.regions : undefined;
    const [bounds, tail, segments, replication] = await Promise.all([
      tiers.bounds(),
      new PartitionReader(ctx, ref(meta, partition)).tail(),
      collect(tiers.segments()),
      regions ? replicationStatus(regions, meta, partition, this.#ctx.now()) : undefined,
    ]);
    const offsets = offsetsFromTiers(partition, bounds, tail, segments);
    return replication ? { ...offsets, regions: replication } : offsets;
  }
}

/**
 * A partition's offsets and tier sizes from its bounds, its newest slot and its manifest. Manifest
 * items outside `[logStart, localLogStart)` (a segment retention is still deleting, or one whose
 * bound has not moved yet) are not counted.
 */
function offsetsFromTiers(
  partition: number,
  bounds: PartitionBounds,
  tail: Slot | undefined,
  segments: readonly SegmentInfo[],
): PartitionOffsets {
  const logStartOffset = bounds.logStart.offset;
  const localLogStartOffset = bounds.localLogStart.offset;
  // The newest batch is never archived, so the tail is at or past the local log start.
  const highWatermark = Math.max(tail ? slotEnd(tail) : 0, localLogStartOffset);
  const archived = segments.filter((s) => s.endOffset > logStartOffset && s.baseOffset < localLogStartOffset);
  return {
    partition,
    logStartOffset,
    localLogStartOffset,
    highWatermark,
    dynamodb: {
      startOffset: localLogStartOffset,
      endOffset: highWatermark,
      bytes: Math.max(0, (tail?.runningBytes ?? 0) - bounds.localLogStart.bytes),
    },
    s3: {
      startOffset: logStartOffset,
      endOffset: localLogStartOffset,
      segments: archived.length,
      bytes: archived.reduce((n, s) => n + s.bytes, 0),
    },
  };
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

function summary(topic: TopicMetadata): TopicSummary {
  return { name: topic.name, partitions: topic.partitions };
}

function ref(meta: TopicMetadata, partition: number): PartitionRef {
  return partitionRef(meta, partition);
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}
