/**
 * Metadata: this gateway is the cluster's one broker (node 0), its controller and the leader of
 * every partition, with no other replica (DynamoDB replicates). Topics are read from the registry
 * itself, not the metadata cache, so a client learns of a topic created or deleted through any
 * gateway at once; the cache entries of the topics asked for are dropped, so this gateway's
 * produce and fetch see the same. Topics are never created by a Metadata request
 * (`allowAutoTopicCreation` is ignored): an unknown topic is UNKNOWN_TOPIC_OR_PARTITION.
 */
import { mapLimited, type TopicMetadata } from '../../sdk/src/internal.ts';
import type { GatewayContext, Handler } from '../context.ts';
import { KafkaError, type KafkaFailure, kafkaErrorOf } from '../kafka-errors.ts';
import type { ResponseInput } from '../protocol/index.ts';
import { topicIdOf, ZERO_UUID } from '../topic-ids.ts';

type TopicEntry = ResponseInput<'Metadata'>['topics'][number];

/** Kafka's "authorized operations not asked for / not known". */
const NO_AUTHORIZED_OPERATIONS = -2147483648;

export const handleMetadata: Handler<'Metadata'> = async (request, { gateway }) => {
  const { body, header } = request;
  const asked = body.topics;
  // v0 asks for every topic with an empty list; v1+ with null (an empty list asks for none).
  const all = asked === null || (header.apiVersion === 0 && asked.length === 0);
  const topics: TopicEntry[] = all
    ? (await gateway.transport.registry.list()).map(topicEntry)
    : await namedTopics(gateway, asked);
  const { broker } = gateway;
  return {
    throttleTimeMs: 0,
    brokers: [{ nodeId: broker.nodeId, host: broker.host, port: broker.port, rack: null }],
    clusterId: gateway.clusterId,
    controllerId: broker.nodeId,
    topics,
    clusterAuthorizedOperations: NO_AUTHORIZED_OPERATIONS,
  };
};

async function namedTopics(
  gateway: GatewayContext,
  asked: readonly { readonly topicId: string; readonly name: string | null }[],
): Promise<TopicEntry[]> {
  let byId: Promise<Map<string, TopicMetadata>> | undefined;
  const topicsById = () => {
    byId ??= gateway.transport.registry
      .list()
      .then((topics) => new Map(topics.map((t) => [topicIdOf(t), t])));
    return byId;
  };
  return mapLimited(asked, gateway.readConcurrency, async ({ topicId, name }): Promise<TopicEntry> => {
    if (name === null) {
      const topic = topicId === ZERO_UUID ? undefined : (await topicsById()).get(topicId);
      return topic
        ? topicEntry(topic)
        : failedEntry(null, topicId, {
            code: KafkaError.UNKNOWN_TOPIC_ID,
            message: `No topic has id ${topicId}`,
          });
    }
    gateway.transport.topics.invalidate(name);
    try {
      return topicEntry(await gateway.transport.registry.get(name));
    } catch (error) {
      return failedEntry(name, ZERO_UUID, kafkaErrorOf(error));
    }
  });
}

function topicEntry(topic: TopicMetadata): TopicEntry {
  return {
    errorCode: KafkaError.NONE,
    name: topic.name,
    topicId: topicIdOf(topic),
    isInternal: false,
    partitions: Array.from({ length: topic.partitions }, (_, partitionIndex) => ({
      errorCode: KafkaError.NONE,
      partitionIndex,
      leaderId: 0,
      // Unknown to clients: they then neither fence on epochs nor ask OffsetForLeaderEpoch (not served).
      leaderEpoch: -1,
      replicaNodes: [0],
      isrNodes: [0],
      offlineReplicas: [],
    })),
    topicAuthorizedOperations: NO_AUTHORIZED_OPERATIONS,
  };
}

function failedEntry(name: string | null, topicId: string, failure: KafkaFailure): TopicEntry {
  return {
    errorCode: failure.code,
    // Only v12 carries a null name; older versions have only names to ask by.
    name: name ?? '',
    topicId,
    isInternal: false,
    partitions: [],
    topicAuthorizedOperations: NO_AUTHORIZED_OPERATIONS,
  };
}
