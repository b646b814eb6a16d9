/**
 * Topic metadata for one request's partitions, through the transport's metadata cache: each topic
 * is looked up once per request, and a partition beyond the cached count is checked against a
 * fresh read (partitions may have been added since) before it is refused.
 */
import type { TopicMetadata } from '../sdk/src/internal.ts';
import type { GatewayContext } from './context.ts';
import { KafkaError, type KafkaFailure, kafkaErrorOf } from './kafka-errors.ts';

/** True when a lookup failed. */
export function isFailure(value: TopicMetadata | KafkaFailure): value is KafkaFailure {
  return 'code' in value;
}

/** One request's topic lookups. */
export class TopicLookup {
  readonly #gateway: GatewayContext;
  readonly #topics = new Map<string, Promise<TopicMetadata | KafkaFailure>>();

  constructor(gateway: GatewayContext) {
    this.#gateway = gateway;
  }

  /** The topic, or the Kafka error that answers for it. */
  topic(name: string): Promise<TopicMetadata | KafkaFailure> {
    let found = this.#topics.get(name);
    if (!found) {
      found = this.#gateway.transport.topics.get(name).catch((error: unknown) => kafkaErrorOf(error));
      this.#topics.set(name, found);
    }
    return found;
  }

  /** The topic when `partition` is one of its partitions, else the Kafka error for it. */
  async partition(name: string, partition: number): Promise<TopicMetadata | KafkaFailure> {
    const topic = await this.topic(name);
    if (isFailure(topic) || hasPartition(topic, partition)) return topic;
    const cache = this.#gateway.transport.topics;
    cache.invalidate(name);
    const fresh = cache.get(name).catch((error: unknown) => kafkaErrorOf(error));
    this.#topics.set(name, fresh);
    const again = await fresh;
    if (isFailure(again) || hasPartition(again, partition)) return again;
    return {
      code: KafkaError.UNKNOWN_TOPIC_OR_PARTITION,
      message: `Topic "${name}" has ${again.partitions} partition(s); partition ${partition} does not exist`,
    };
  }
}

function hasPartition(topic: TopicMetadata, partition: number): boolean {
  return Number.isInteger(partition) && partition >= 0 && partition < topic.partitions;
}
