/**
 * DeleteTopics, by name (v0-5) or by name or topic id (v6). A topic disappears at once (its
 * registry item is swapped for a tombstone) and its records are purged before the deletion
 * completes; a purge still running when the request's `timeoutMs` runs out is answered
 * REQUEST_TIMED_OUT, as Kafka answers a deletion not finished in time, and goes on (an interrupted
 * purge is finished by the archiver or the next deletion of the name).
 */
import { mapLimited, type TopicMetadata } from '../../sdk/src/internal.ts';
import type { GatewayContext, Handler } from '../context.ts';
import { KafkaError, type KafkaFailure, kafkaErrorOf } from '../kafka-errors.ts';
import type { ResponseInput } from '../protocol/index.ts';
import { topicIdOf, ZERO_UUID } from '../topic-ids.ts';

type Result = ResponseInput<'DeleteTopics'>['responses'][number];

export const handleDeleteTopics: Handler<'DeleteTopics'> = async (request, { gateway }) => {
  const { body, header } = request;
  const asked =
    header.apiVersion >= 6 ? body.topics : body.topicNames.map((name) => ({ name, topicId: ZERO_UUID }));
  let byId: Promise<Map<string, TopicMetadata>> | undefined;
  const topicsById = () => {
    byId ??= gateway.transport.registry
      .list()
      .then((topics) => new Map(topics.map((t) => [topicIdOf(t), t])));
    return byId;
  };
  const seen = new Map<string, number>();
  for (const { name, topicId } of asked) {
    const key = name ?? `#${topicId}`;
    seen.set(key, (seen.get(key) ?? 0) + 1);
  }
  const responses = await mapLimited(
    asked,
    gateway.readConcurrency,
    async ({ name, topicId }): Promise<Result> => {
      if ((seen.get(name ?? `#${topicId}`) ?? 0) > 1) {
        return failed(name, topicId, {
          code: KafkaError.INVALID_REQUEST,
          message: 'The topic is named twice',
        });
      }
      let topic: TopicMetadata;
      try {
        if (name === null) {
          const found = (await topicsById()).get(topicId);
          if (!found) {
            return failed(null, topicId, {
              code: KafkaError.UNKNOWN_TOPIC_ID,
              message: `No topic has id ${topicId}`,
            });
          }
          topic = found;
        } else {
          topic = await gateway.transport.registry.get(name);
        }
      } catch (error) {
        return failed(name, topicId, kafkaErrorOf(error));
      }
      return deleteOne(gateway, topic, body.timeoutMs);
    },
  );
  return { throttleTimeMs: 0, responses };
};

async function deleteOne(gateway: GatewayContext, topic: TopicMetadata, timeoutMs: number): Promise<Result> {
  const topicId = topicIdOf(topic);
  const deletion = gateway.admin.deleteTopic(topic.name);
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timed-out'>((resolve) => {
    timer = setTimeout(() => resolve('timed-out'), Math.max(0, Math.min(timeoutMs, 0x7fffffff)));
  });
  try {
    const outcome = await Promise.race([deletion.then(() => 'deleted' as const), timedOut]);
    if (outcome === 'timed-out') {
      deletion.catch((error: unknown) =>
        gateway.log(
          `Deleting topic ${topic.name} failed after its request timed out: ${kafkaErrorOf(error).message}`,
        ),
      );
      return failed(topic.name, topicId, {
        code: KafkaError.REQUEST_TIMED_OUT,
        message: `Deleting topic "${topic.name}" did not finish within timeoutMs; it goes on`,
      });
    }
    return { name: topic.name, topicId, errorCode: KafkaError.NONE, errorMessage: null };
  } catch (error) {
    return failed(topic.name, topicId, kafkaErrorOf(error));
  } finally {
    clearTimeout(timer);
    gateway.transport.topics.invalidate(topic.name);
  }
}

function failed(name: string | null, topicId: string, failure: KafkaFailure): Result {
  return { name, topicId, errorCode: failure.code, errorMessage: failure.message };
}
