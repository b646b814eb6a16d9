/**
 * CreateTopics through the topic registry. `numPartitions` -1 takes the default (1); a manual
 * assignment may name only broker 0 (the gateway), one list per partition. The replication
 * factor is accepted (-1 or any positive number) and not applied: DynamoDB keeps every write in
 * three availability zones whatever it says, and Metadata shows the gateway as the one replica.
 * Configs are Tributary's, which carry Kafka's names; an unknown one is INVALID_CONFIG. With
 * `validateOnly` everything is checked and nothing written. Creation is synchronous, so
 * `timeoutMs` never runs out.
 */

import { TopicNotFoundError } from '../../sdk/src/index.ts';
import {
  mapLimited,
  type TopicMetadata,
  validatePartitionCount,
  validateTopicConfigs,
  validateTopicName,
} from '../../sdk/src/internal.ts';
import type { GatewayContext, Handler, RequestOf } from '../context.ts';
import { KafkaError, type KafkaFailure, kafkaErrorOf } from '../kafka-errors.ts';
import type { ResponseInput } from '../protocol/index.ts';
import { topicConfigEntries } from '../topic-configs.ts';
import { topicIdOf, ZERO_UUID } from '../topic-ids.ts';

type TopicRequest = RequestOf<'CreateTopics'>['body']['topics'][number];
type TopicResult = ResponseInput<'CreateTopics'>['topics'][number];

/** Partitions of a topic created with `numPartitions` -1 (Kafka's `num.partitions` default). */
const DEFAULT_PARTITIONS = 1;

export const handleCreateTopics: Handler<'CreateTopics'> = async (request, { gateway }) => {
  const { body } = request;
  const named = countNames(body.topics.map((t) => t.name));
  const topics = await mapLimited(body.topics, gateway.readConcurrency, (topic) =>
    (named.get(topic.name) ?? 0) > 1
      ? Promise.resolve(
          failed(topic.name, { code: KafkaError.INVALID_REQUEST, message: 'The topic is named twice' }),
        )
      : createOne(gateway, topic, body.validateOnly),
  );
  return { throttleTimeMs: 0, topics };
};

async function createOne(
  gateway: GatewayContext,
  request: TopicRequest,
  validateOnly: boolean,
): Promise<TopicResult> {
  const { name } = request;
  const plan = planOf(request);
  if ('code' in plan) return failed(name, plan);
  try {
    if (validateOnly) {
      validateTopicName(name);
      validatePartitionCount(plan.partitions);
      const stored = validateTopicConfigs(plan.configs);
      if (await exists(gateway, name)) {
        return failed(name, {
          code: KafkaError.TOPIC_ALREADY_EXISTS,
          message: `Topic "${name}" already exists`,
        });
      }
      return created({ name, partitions: plan.partitions, configs: stored }, ZERO_UUID);
    }
    const topic = await gateway.transport.registry.create(name, plan.partitions, plan.configs);
    gateway.transport.topics.invalidate(name);
    return created(topic, topicIdOf(topic));
  } catch (error) {
    return failed(name, kafkaErrorOf(error));
  }
}

/** The partition count and configs a request asks for, or why it is refused before any check of the registry's. */
function planOf(
  request: TopicRequest,
): { partitions: number; configs: Record<string, string> } | KafkaFailure {
  const { numPartitions, replicationFactor, assignments } = request;
  let partitions = numPartitions === -1 ? DEFAULT_PARTITIONS : numPartitions;
  if (assignments.length > 0) {
    if (numPartitions !== -1 || replicationFactor !== -1) {
      return {
        code: KafkaError.INVALID_REQUEST,
        message: 'A manual assignment goes with numPartitions and replicationFactor -1',
      };
    }
    const dense = assignments.every((a, i) => a.partitionIndex === i);
    const gatewayOnly = assignments.every((a) => a.brokerIds.length > 0 && a.brokerIds.every((b) => b === 0));
    if (!dense || !gatewayOnly) {
      return {
        code: KafkaError.INVALID_REPLICA_ASSIGNMENT,
        message: 'Assignments list partitions 0..n-1 in order, each on broker 0 (this gateway) only',
      };
    }
    partitions = assignments.length;
  }
  if (replicationFactor !== -1 && replicationFactor < 1) {
    return {
      code: KafkaError.INVALID_REPLICATION_FACTOR,
      message: `Replication factor ${replicationFactor} is not -1 or at least 1`,
    };
  }
  const given = new Set<string>();
  const configs = new Map<string, string>();
  for (const { name, value } of request.configs) {
    if (given.has(name))
      return { code: KafkaError.INVALID_CONFIG, message: `Config "${name}" is given twice` };
    given.add(name);
    // A null value asks for the default: the same as leaving the config out.
    if (value !== null) configs.set(name, value);
  }
  // Own properties only: a config named "__proto__" is a config name, not a prototype.
  return { partitions, configs: Object.fromEntries(configs) };
}

async function exists(gateway: GatewayContext, name: string): Promise<boolean> {
  try {
    await gateway.transport.registry.get(name);
    return true;
  } catch (error) {
    if (error instanceof TopicNotFoundError) return false;
    throw error;
  }
}

function created(
  topic: Pick<TopicMetadata, 'name' | 'partitions' | 'configs'>,
  topicId: string,
): TopicResult {
  return {
    name: topic.name,
    topicId,
    errorCode: KafkaError.NONE,
    errorMessage: null,
    numPartitions: topic.partitions,
    replicationFactor: 1,
    configs: topicConfigEntries(topic.configs).map((entry) => ({
      name: entry.name,
      value: entry.value,
      readOnly: false,
      configSource: entry.source,
      isSensitive: false,
    })),
  };
}

function failed(name: string, failure: KafkaFailure): TopicResult {
  return {
    name,
    topicId: ZERO_UUID,
    errorCode: failure.code,
    errorMessage: failure.message,
    numPartitions: -1,
    replicationFactor: -1,
    configs: [],
  };
}

function countNames(names: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const name of names) counts.set(name, (counts.get(name) ?? 0) + 1);
  return counts;
}
