/**
 * Topic, group and trigger administration over the HTTP API: the {@link Admin} interface, each method one
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
import type { OperationBody } from '../api/contract.ts';
import type { PartitionOffsetsBody, TriggerDescriptionBody } from '../api/schemas.ts';
import { mapLimited } from '../concurrency.ts';
import { TriggerNotFoundError, UnsupportedOperationError } from '../errors.ts';
import type { GroupDescription, GroupSummary, OffsetResetTarget } from '../groups/group-admin.ts';
import type {
  DivergenceReport,
  DivergentBatchRef,
  DivergentRecord,
  ReappendResult,
} from '../regions/divergence.ts';
import type { FailoverReport } from '../regions/failover.ts';
import type { FailoverRequest } from '../regions/failover-plan.ts';
import { LEGAL_TOPIC_NAME, validateTopicName } from '../topics/names.ts';
import { validatePartitionCount } from '../topics/registry.ts';
import type { TriggerDescription, TriggerSummary } from '../triggers/trigger-registry.ts';
import {
  type TriggerConfig,
  type TriggerUpdate,
  validateTriggerConfig,
} from '../triggers/trigger-settings.ts';
import type { HttpClient } from './http-client.ts';

/** Partition offset lookups in flight at once for {@link HttpAdmin.offsetsForTimestamp}. */
const LOOKUP_CONCURRENCY = 8;

/** Administration of topics, consumer groups and triggers through the HTTP API. */
export class HttpAdmin implements Admin {
  readonly #client: HttpClient;

  /** @internal use `tributary.admin()` */
  constructor(client: HttpClient) {
    this.#client = client;
  }

  /**
   * Creates a trigger; see {@link Admin.createTrigger}. The settings are checked here first, with
   * the direct transport's rules (the same `InvalidTriggerError`, nothing sent); the topic, a
   * destination topic and the function are checked by the API.
   */
  async createTrigger(config: TriggerConfig): Promise<TriggerDescription> {
    validateTriggerConfig(config);
    return description(await this.#client.call('createTrigger', { body: wireSettings(config) }));
  }

  /** Changes a trigger's settings; see {@link Admin.updateTrigger}. */
  async updateTrigger(name: string, update: TriggerUpdate): Promise<TriggerDescription> {
    const body: OperationBody<'updateTrigger'> = wireSettings(update);
    return description(
      await this.#client.call('updateTrigger', { params: { trigger: knownName(name) }, body }),
    );
  }

  /** Deletes a trigger; its consumer group and committed offsets stay. `TriggerNotFoundError` if unknown. */
  async deleteTrigger(name: string): Promise<void> {
    await this.#client.call('deleteTrigger', { params: { trigger: knownName(name) } });
  }

  /** All triggers, sorted by name. */
  async listTriggers(): Promise<TriggerSummary[]> {
    const { triggers } = await this.#client.call('listTriggers');
    return triggers.map((t) => ({
      name: t.name,
      topic: t.topic,
      functionName: t.functionName,
      groupId: t.groupId,
      state: t.state,
    }));
  }

  /** A trigger's settings, state, last error, in-flight batches and lag per partition. */
  async describeTrigger(name: string): Promise<TriggerDescription> {
    return description(await this.#client.call('describeTrigger', { params: { trigger: knownName(name) } }));
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

  /**
   * Not available over HTTP: a failover fences, waits on and switches the tables of two regions
   * directly (and a forced one must not depend on the API of a region that is down). Throws
   * `UnsupportedOperationError`; use the direct transport (or `tributary topics failover`).
   */
  async failoverTopic(topic: string, _request: FailoverRequest): Promise<FailoverReport> {
    throw directOnly(`Failing topic "${topic}" over`);
  }

  /** Not available over HTTP (see {@link failoverTopic}): throws `UnsupportedOperationError`. */
  async divergence(topic: string): Promise<DivergenceReport> {
    throw directOnly(`The divergence report of topic "${topic}"`);
  }

  /** Not available over HTTP (see {@link failoverTopic}): throws `UnsupportedOperationError`. */
  async readDivergent(topic: string, _batch: DivergentBatchRef): Promise<DivergentRecord[]> {
    throw directOnly(`Reading batches outside the log of topic "${topic}"`);
  }

  /** Not available over HTTP (see {@link failoverTopic}): throws `UnsupportedOperationError`. */
  async reappendDivergent(topic: string): Promise<ReappendResult[]> {
    throw directOnly(`Re-appending batches outside the log of topic "${topic}"`);
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
    ...(p.regions === undefined
      ? {}
      : {
          regions: p.regions.map((r) => ({
            region: r.region,
            home: r.home,
            highWatermark: r.highWatermark,
            leaderEpoch: r.leaderEpoch,
            lagRecords: r.lagRecords,
            lagMs: r.lagMs,
          })),
        }),
  };
}

/**
 * `name`, when it can name a trigger. No trigger has an illegal name, so one is answered as the
 * direct transport answers any name it does not know (and never becomes an empty path segment).
 */
function knownName(name: string): string {
  if (typeof name !== 'string' || !LEGAL_TOPIC_NAME.test(name)) throw new TriggerNotFoundError(name);
  return name;
}

/** Trigger settings as a request body: the same keys, with the caller's read-only arrays copied. */
function wireSettings<T extends TriggerUpdate>(
  settings: T,
): Omit<T, 'functionResponseTypes' | 'filterCriteria'> & {
  functionResponseTypes?: NonNullable<TriggerUpdate['functionResponseTypes']>[number][];
  filterCriteria?: { filters?: { pattern: string }[] };
} {
  const { functionResponseTypes, filterCriteria, ...rest } = settings;
  return {
    ...rest,
    ...(functionResponseTypes === undefined ? {} : { functionResponseTypes: [...functionResponseTypes] }),
    ...(filterCriteria === undefined
      ? {}
      : {
          filterCriteria:
            filterCriteria.filters === undefined
              ? {}
              : { filters: filterCriteria.filters.map((f) => ({ pattern: f.pattern })) },
        }),
  };
}

/** A trigger's description with the wire's ISO dates and nulls turned back into `Date`s and undefineds. */
function description(d: TriggerDescriptionBody): TriggerDescription {
  const { settings } = d;
  return {
    name: d.name,
    topic: d.topic,
    functionName: d.functionName,
    groupId: d.groupId,
    state: d.state,
    settings: {
      name: settings.name,
      topic: settings.topic,
      functionName: settings.functionName,
      groupId: settings.groupId,
      enabled: settings.enabled,
      startingPosition: settings.startingPosition,
      startingPositionTimestamp: settings.startingPositionTimestamp ?? undefined,
      batchSize: settings.batchSize,
      maximumBatchingWindowInSeconds: settings.maximumBatchingWindowInSeconds,
      maximumRetryAttempts: settings.maximumRetryAttempts,
      maximumRecordAgeInSeconds: settings.maximumRecordAgeInSeconds,
      bisectBatchOnFunctionError: settings.bisectBatchOnFunctionError,
      functionResponseTypes: settings.functionResponseTypes,
      destinationConfig: { onFailure: { destination: settings.destinationConfig.onFailure.destination } },
      filterCriteria: { filters: settings.filterCriteria.filters.map((f) => ({ pattern: f.pattern })) },
      scalingConfig: { maximumConcurrency: settings.scalingConfig.maximumConcurrency ?? undefined },
    },
    createdAt: new Date(d.createdAt),
    updatedAt: new Date(d.updatedAt),
    lastError: d.lastError
      ? { message: d.lastError.message, code: d.lastError.code, at: new Date(d.lastError.at) }
      : undefined,
    inFlightBatches: d.inFlightBatches,
    partitions: d.partitions.map((p) => ({
      partition: p.partition,
      committedOffset: p.committedOffset ?? undefined,
      highWatermark: p.highWatermark,
      lag: p.lag,
      lagMs: p.lagMs,
      inFlight: p.inFlight,
      dueAt: dateOrUndefined(p.dueAt),
    })),
  };
}

function dateOrUndefined(iso: string | null): Date | undefined {
  return iso === null ? undefined : new Date(iso);
}

/** The error of an administration the HTTP API does not offer. */
function directOnly(what: string): UnsupportedOperationError {
  return new UnsupportedOperationError(
    `${what} is not available over the HTTP API; use the direct transport with the deployment's \`regions\` ` +
      '(a client with access to the DynamoDB tables of every region).',
  );
}
