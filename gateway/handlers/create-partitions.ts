/**
 * CreatePartitions: raises a topic's partition count (it only grows, as in Kafka). A manual
 * assignment names broker 0 (the gateway) for each new partition. With `validateOnly` everything
 * is checked and nothing written.
 */
import { mapLimited, validatePartitionCount } from '../../sdk/src/internal.ts';
import type { GatewayContext, Handler, RequestOf } from '../context.ts';
import { KafkaError, type KafkaFailure, kafkaErrorOf } from '../kafka-errors.ts';
import type { ResponseInput } from '../protocol/index.ts';

type TopicRequest = RequestOf<'CreatePartitions'>['body']['topics'][number];
type Result = ResponseInput<'CreatePartitions'>['results'][number];

export const handleCreatePartitions: Handler<'CreatePartitions'> = async (request, { gateway }) => {
  const { body } = request;
  const counts = new Map<string, number>();
  for (const { name } of body.topics) counts.set(name, (counts.get(name) ?? 0) + 1);
  const results = await mapLimited(body.topics, gateway.readConcurrency, (topic) =>
    (counts.get(topic.name) ?? 0) > 1
      ? Promise.resolve(
          failed(topic.name, { code: KafkaError.INVALID_REQUEST, message: 'The topic is named twice' }),
        )
      : growOne(gateway, topic, body.validateOnly),
  );
  return { throttleTimeMs: 0, results };
};

async function growOne(
  gateway: GatewayContext,
  request: TopicRequest,
  validateOnly: boolean,
): Promise<Result> {
  const { name, count, assignments } = request;
  try {
    const topic = await gateway.transport.registry.get(name);
    validatePartitionCount(count);
    if (count <= topic.partitions) {
      return failed(name, {
        code: KafkaError.INVALID_PARTITIONS,
        message: `Topic "${name}" has ${topic.partitions} partitions; the new count must be larger`,
      });
    }
    if (
      assignments !== null &&
      (assignments.length !== count - topic.partitions ||
        !assignments.every((a) => a.brokerIds.length > 0 && a.brokerIds.every((b) => b === 0)))
    ) {
      return failed(name, {
        code: KafkaError.INVALID_REPLICA_ASSIGNMENT,
        message: 'An assignment lists each new partition once, on broker 0 (this gateway) only',
      });
    }
    if (!validateOnly) {
      await gateway.admin.createPartitions(name, count);
      gateway.transport.topics.invalidate(name);
    }
    return { name, errorCode: KafkaError.NONE, errorMessage: null };
  } catch (error) {
    return failed(name, kafkaErrorOf(error));
  }
}

function failed(name: string, failure: KafkaFailure): Result {
  return { name, errorCode: failure.code, errorMessage: failure.message };
}
