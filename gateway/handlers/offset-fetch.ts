/**
 * OffsetFetch: a group's committed offsets (Tributary group offsets, whoever committed them: a
 * Kafka client, a Tributary consumer, an offset reset). An offset committed for an earlier
 * incarnation of a topic (deleted and created again) is none. v0-7 ask for one group; v8+ batch
 * groups. Topics `null` (v2+) asks for every partition with a committed offset.
 */
import { type LeaseRecord, LeaseStore, mapLimited, type TopicMetadata } from '../../sdk/src/internal.ts';
import type { GatewayContext, Handler } from '../context.ts';
import { groupErrorOf, KafkaError, type KafkaErrorCode } from '../kafka-errors.ts';
import { isFailure, TopicLookup } from '../topic-lookup.ts';

interface PartitionOffset {
  readonly partitionIndex: number;
  readonly committedOffset: bigint;
  readonly committedLeaderEpoch: number;
  readonly metadata: string;
  readonly errorCode: KafkaErrorCode;
}

interface TopicOffsets {
  readonly name: string;
  readonly partitions: readonly PartitionOffset[];
}

interface GroupOffsets {
  readonly errorCode: KafkaErrorCode;
  readonly topics: readonly TopicOffsets[];
}

type Asked = readonly { readonly name: string; readonly partitionIndexes: readonly number[] }[] | null;

export const handleOffsetFetch: Handler<'OffsetFetch'> = async (request, { gateway }) => {
  const { body, header } = request;
  if (header.apiVersion >= 8) {
    const groups = await mapLimited(body.groups, 4, async (g) => ({
      groupId: g.groupId,
      ...(await groupOffsets(gateway, g.groupId, g.topics)),
    }));
    return { throttleTimeMs: 0, topics: [], errorCode: 0, groups };
  }
  const { errorCode, topics } = await groupOffsets(gateway, body.groupId, body.topics);
  // v0-1 have no group error: it is every partition's.
  const perPartition = header.apiVersion < 2 && errorCode !== KafkaError.NONE;
  return {
    throttleTimeMs: 0,
    errorCode,
    groups: [],
    topics: perPartition
      ? (body.topics ?? []).map((t) => ({
          name: t.name,
          partitions: t.partitionIndexes.map((partitionIndex) => none(partitionIndex, errorCode)),
        }))
      : topics,
  };
};

async function groupOffsets(gateway: GatewayContext, groupId: string, asked: Asked): Promise<GroupOffsets> {
  let store: LeaseStore;
  try {
    store = new LeaseStore(gateway.transport.ctx, groupId);
  } catch (error) {
    return { errorCode: groupErrorOf(error).code, topics: [] };
  }
  try {
    const lookup = new TopicLookup(gateway);
    if (asked === null) {
      const byTopic = new Map<string, LeaseRecord[]>();
      for (const lease of await store.leases()) {
        byTopic.set(lease.topic, [...(byTopic.get(lease.topic) ?? []), lease]);
      }
      const topics = await mapLimited([...byTopic], gateway.readConcurrency, async ([name, leases]) => {
        const meta = await lookup.topic(name);
        if (isFailure(meta)) return undefined;
        const partitions = leases
          .filter((l) => committedIn(l, meta) !== undefined)
          .sort((a, b) => a.partition - b.partition)
          .map((l) => offsetOf(l.partition, l, meta));
        return partitions.length > 0 ? { name, partitions } : undefined;
      });
      return { errorCode: KafkaError.NONE, topics: topics.filter((t) => t !== undefined) };
    }
    const topics = await mapLimited(asked, gateway.readConcurrency, async (t): Promise<TopicOffsets> => {
      const meta = await lookup.topic(t.name);
      // Kafka answers an unknown topic with no offset rather than an error.
      if (isFailure(meta))
        return { name: t.name, partitions: t.partitionIndexes.map((p) => none(p, KafkaError.NONE)) };
      const leases = new Map((await store.topicLeases(t.name)).map((l) => [l.partition, l]));
      return { name: t.name, partitions: t.partitionIndexes.map((p) => offsetOf(p, leases.get(p), meta)) };
    });
    return { errorCode: KafkaError.NONE, topics };
  } catch (error) {
    return { errorCode: groupErrorOf(error).code, topics: [] };
  }
}

function committedIn(lease: LeaseRecord | undefined, topic: TopicMetadata): number | undefined {
  return lease?.incarnation === topic.incarnation ? lease.offset : undefined;
}

function offsetOf(partition: number, lease: LeaseRecord | undefined, topic: TopicMetadata): PartitionOffset {
  const offset = committedIn(lease, topic);
  if (offset === undefined) return none(partition, KafkaError.NONE);
  return {
    partitionIndex: partition,
    committedOffset: BigInt(offset),
    committedLeaderEpoch: -1,
    metadata: lease?.metadata ?? '',
    errorCode: KafkaError.NONE,
  };
}

function none(partition: number, errorCode: KafkaErrorCode): PartitionOffset {
  return {
    partitionIndex: partition,
    committedOffset: -1n,
    committedLeaderEpoch: -1,
    metadata: '',
    errorCode,
  };
}
