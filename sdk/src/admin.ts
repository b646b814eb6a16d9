/** Topic administration: create, list, describe, alter, add partitions, delete, offset lookups. */
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
import { PartitionReader } from './log/reader.ts';
import { offsetForTimestamp } from './log/timestamp-lookup.ts';
import { effectiveConfigs } from './topics/configs.ts';
import type { PurgeProgress, TopicMetadata, TopicRegistry } from './topics/registry.ts';

/** What to create. */
export interface CreateTopicRequest {
  readonly topic: string;
  /** @default 1 */
  readonly partitions?: number;
  /** Kafka-style configs, e.g. `{ 'retention.ms': 86400000 }`; see `docs/configs.md`. */
  readonly configs?: Readonly<Record<string, string | number | boolean>>;
}

/** A topic in a listing. */
export interface TopicSummary {
  readonly name: string;
  readonly partitions: number;
}

/** One partition's offsets. */
export interface PartitionOffsets {
  readonly partition: number;
  /** First offset still readable. */
  readonly logStartOffset: number;
  /** Next offset to be written. */
  readonly highWatermark: number;
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

/** Administration of topics and consumer groups. Obtain with `tributary.admin()`. */
export class Admin {
  readonly #ctx: StorageContext;
  readonly #registry: TopicRegistry;
  readonly #groups: GroupAdmin;

  /** @internal use `tributary.admin()` */
  constructor(ctx: StorageContext, registry: TopicRegistry) {
    this.#ctx = ctx;
    this.#registry = registry;
    this.#groups = new GroupAdmin(ctx, registry);
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
    options: { readonly partitions?: readonly number[]; readonly force?: boolean } = {},
  ): Promise<{ partition: number; offset: number }[]> {
    return this.#groups.resetOffsets(groupId, topic, to, options);
  }

  /** Deletes a group and its committed offsets; refused while members are active, unless `force`. */
  deleteGroup(groupId: string, options: { readonly force?: boolean } = {}): Promise<void> {
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

  /** A topic with each partition's log start and high watermark. */
  async describeTopic(topic: string): Promise<TopicDescription> {
    const meta = await this.#registry.get(topic);
    const partitions = await mapLimited(range(meta.partitions), 16, async (partition) => {
      const reader = new PartitionReader(this.#ctx, ref(meta, partition));
      const [logStartOffset, highWatermark] = await Promise.all([
        reader.logStartOffset(),
        reader.highWatermark(),
      ]);
      return { partition, logStartOffset, highWatermark };
    });
    return {
      name: meta.name,
      incarnation: meta.incarnation,
      createdAt: new Date(meta.createdAt),
      partitions,
      configs: effectiveConfigs(meta.configs),
    };
  }

  /** Sets configs; a `null` value resets that key to its default. */
  async alterTopicConfigs(
    topic: string,
    configs: Readonly<Record<string, string | number | boolean | null>>,
  ): Promise<void> {
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
  async deleteTopic(
    topic: string,
    options: { onProgress?: (progress: PurgeProgress) => void } = {},
  ): Promise<void> {
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
      offset: await offsetForTimestamp(new PartitionReader(this.#ctx, ref(meta, partition)), timestamp),
    }));
  }

  /** One partition's offsets. */
  async partitionOffsets(topic: string, partition: number): Promise<PartitionOffsets> {
    const meta = await this.#registry.get(topic);
    if (!Number.isInteger(partition) || partition < 0 || partition >= meta.partitions) {
      throw new UnknownPartitionError(topic, partition, meta.partitions);
    }
    const reader = new PartitionReader(this.#ctx, ref(meta, partition));
    const [logStartOffset, highWatermark] = await Promise.all([
      reader.logStartOffset(),
      reader.highWatermark(),
    ]);
    return { partition, logStartOffset, highWatermark };
  }
}

function summary(topic: TopicMetadata): TopicSummary {
  return { name: topic.name, partitions: topic.partitions };
}

function ref(meta: TopicMetadata, partition: number): PartitionRef {
  return { topic: meta.name, incarnation: meta.incarnation, partition };
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}
