/**
 * Topic and group administration over the HTTP API: the {@link Admin} interface, each method one
 * (or, for {@link HttpAdmin.offsetsForTimestamp}, a few) API calls, with the wire's ISO dates and
 * `null`s turned back into `Date`s and `undefined`s so results compare equal across transports.
 */
import type {
  Admin,
  CreateTopicRequest,
  DeleteGroupOptions,
  DeleteTopicOptions,
  PartitionOffsets,
  ResetGroupOffsetsOptions,
  TopicDescription,
  TopicSummary,
} from '../admin.ts';
import type { PartitionOffsetsBody } from '../api/schemas.ts';
import { mapLimited } from '../concurrency.ts';
import { UnsupportedOperationError } from '../errors.ts';
import type { GroupDescription, GroupSummary, OffsetResetTarget } from '../groups/group-admin.ts';
import { validateTopicName } from '../topics/names.ts';
import { validatePartitionCount } from '../topics/registry.ts';
import type { HttpClient } from './http-client.ts';

/** Partition offset lookups in flight at once for {@link HttpAdmin.offsetsForTimestamp}. */
const LOOKUP_CONCURRENCY = 8;

/** Administration of topics and consumer groups through the HTTP API. */
export class HttpAdmin implements Admin {
  readonly #client: HttpClient;

  /** @internal use `tributary.admin()` */
  constructor(client: HttpClient) {
    this.#client = client;
  }

  /** Consumer groups, sorted by id. */
  async listGroups(): Promise<GroupSummary[]> {
    const { groups } = await this.#client.call('listGroups');
    return groups.map((g) => ({ groupId: g.groupId, createdAt: dateOrUndefined(g.createdAt) }));
  }

  /** A group's members, partition owners, committed offsets and lag. `GroupNotFoundError` if unknown. */
  async describeGroup(groupId: string): Promise<GroupDescription> {
    const d = await this.#client.call('describeGroup', { params: { group: groupId } });
    return {
      groupId: d.groupId,
      createdAt: dateOrUndefined(d.createdAt),
      members: d.members.map((m) => ({
        memberId: m.memberId,
        instanceId: m.instanceId ?? undefined,
        topics: m.topics,
        lastHeartbeatAt: new Date(m.lastHeartbeatAt),
        active: m.active,
      })),
      partitions: d.partitions.map((p) => ({
        topic: p.topic,
        partition: p.partition,
        owner: p.owner ?? undefined,
        epoch: p.epoch,
        committedOffset: p.committedOffset ?? undefined,
        metadata: p.metadata ?? undefined,
        committedAt: dateOrUndefined(p.committedAt),
        logStartOffset: p.logStartOffset,
        highWatermark: p.highWatermark,
        lag: p.lag,
        lagMs: p.lagMs,
      })),
    };
  }

  /**
   * Not available over HTTP: the API has no route that sets a group's committed offsets outside
   * a member's fenced commit. Throws `UnsupportedOperationError`; use the direct transport (or
   * `tributary groups reset-offsets`) with credentials for the tables.
   */
  async resetGroupOffsets(
    groupId: string,
    _topic: string,
    _to: OffsetResetTarget,
    _options: ResetGroupOffsetsOptions = {},
  ): Promise<{ partition: number; offset: number }[]> {
    throw new UnsupportedOperationError(
      `Resetting the offsets of group "${groupId}" is not available over the HTTP API; ` +
        'use the direct transport (a client with access to the DynamoDB tables and the S3 bucket).',
    );
  }

  /** Deletes a group and its committed offsets; refused while members are active, unless `force`. */
  async deleteGroup(groupId: string, options: DeleteGroupOptions = {}): Promise<void> {
    await this.#client.call('deleteGroup', {
      params: { group: groupId },
      query: options.force ? { force: 'true' } : {},
    });
  }

  /**
   * Creates a topic; fails with `TopicAlreadyExistsError`, `InvalidTopicNameError`, ... before
   * writing anything. The name and partition count are checked here first, with the direct
   * transport's rules, so they fail with the same errors (the API's schema would refuse some of
   * them as `InvalidArgumentError` first); configs are checked by the API.
   */
  async createTopic(request: CreateTopicRequest): Promise<TopicSummary> {
    validateTopicName(request.topic);
    validatePartitionCount(request.partitions ?? 1);
    const created = await this.#client.call('createTopic', {
      body: {
        topic: request.topic,
        ...(request.partitions === undefined ? {} : { partitions: request.partitions }),
        ...(request.configs === undefined ? {} : { configs: { ...request.configs } }),
      },
    });
    return { name: created.name, partitions: created.partitions };
  }

  /** All topics, sorted by name. */
  async listTopics(): Promise<TopicSummary[]> {
    const { topics } = await this.#client.call('listTopics');
    return topics.map((t) => ({ name: t.name, partitions: t.partitions }));
  }

  /** A topic with each partition's offsets and tier sizes, and its effective configs. */
  async describeTopic(topic: string): Promise<TopicDescription> {
    const d = await this.#client.call('describeTopic', { params: { topic } });
    return {
      name: d.name,
      incarnation: d.incarnation,
      createdAt: new Date(d.createdAt),
      partitions: d.partitions.map(partitionOffsets),
      configs: d.configs,
    };
  }

  /** Sets configs; a `null` value resets that key to its default. */
  async alterTopicConfigs(
    topic: string,
    configs: Readonly<Record<string, string | number | boolean | null>>,
  ): Promise<void> {
    await this.#client.call('alterTopicConfigs', { params: { topic }, body: { configs: { ...configs } } });
  }

  /** Raises a topic's partition count to `totalPartitions`. */
  async createPartitions(topic: string, totalPartitions: number): Promise<void> {
    validatePartitionCount(totalPartitions);
    await this.#client.call('createPartitions', { params: { topic }, body: { totalPartitions } });
  }

  /**
   * Deletes a topic: it disappears at once and the API purges its records. Over HTTP,
   * `onProgress` is never called: the purge runs inside the API's request, which reports only
   * its end. A purge that outlasts the API's 30 s request limit (a very large topic) fails with
   * `TimeoutError` after the topic is already gone; its records are left for a later purge, as
   * after an interrupted direct delete.
   */
  async deleteTopic(topic: string, _options: DeleteTopicOptions = {}): Promise<void> {
    await this.#client.call('deleteTopic', { params: { topic } });
  }

  /**
   * For each partition, the first offset whose record timestamp is ≥ `timestamp`, or `null` when
   * no record is that recent. Over HTTP: one metadata-only `describeTopic` for the partition count, then one
   * offsets lookup per partition (at most 8 at once).
   */
  async offsetsForTimestamp(
    topic: string,
    timestamp: number,
  ): Promise<{ partition: number; offset: number | null }[]> {
    const { partitionCount } = await this.#client.call('describeTopic', {
      params: { topic },
      query: { offsets: 'false' },
    });
    return mapLimited(
      Array.from({ length: partitionCount }, (_, partition) => partition),
      LOOKUP_CONCURRENCY,
      async (partition) => {
        const found = await this.#client.call('partitionOffsets', {
          params: { topic, partition },
          query: { timestamp },
        });
        return { partition, offset: found.timestampOffset ?? null };
      },
    );
  }

  /** One partition's offsets and tier sizes, as {@link describeTopic} reports them. */
  async partitionOffsets(topic: string, partition: number): Promise<PartitionOffsets> {
    return partitionOffsets(await this.#client.call('partitionOffsets', { params: { topic, partition } }));
  }
}

/** Exactly the fields of {@link PartitionOffsets} (the wire may add `timestampOffset`). */
function partitionOffsets(p: PartitionOffsetsBody): PartitionOffsets {
  return {
    partition: p.partition,
    logStartOffset: p.logStartOffset,
    localLogStartOffset: p.localLogStartOffset,
    highWatermark: p.highWatermark,
    dynamodb: {
      startOffset: p.dynamodb.startOffset,
      endOffset: p.dynamodb.endOffset,
      bytes: p.dynamodb.bytes,
    },
    s3: {
      startOffset: p.s3.startOffset,
      endOffset: p.s3.endOffset,
      segments: p.s3.segments,
      bytes: p.s3.bytes,
    },
  };
}

function dateOrUndefined(iso: string | null): Date | undefined {
  return iso === null ? undefined : new Date(iso);
}
