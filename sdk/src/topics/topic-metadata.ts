/** A topic as the registry stores it: a leaf module, so the registry and its store share it without a cycle. */
import type { PartitionRef } from '../keys.ts';
import { partitionEpochs, type TopicEpochs } from '../regions/leader-epochs.ts';
import type { TopicConfig } from './configs.ts';

/** A topic as stored in the registry. */
export interface TopicMetadata {
  readonly name: string;
  /** Id of this incarnation of the name; part of every log key. */
  readonly incarnation: string;
  readonly partitions: number;
  /** Configs set explicitly (strings, Kafka names). */
  readonly configs: Readonly<Record<string, string>>;
  /** Typed configs with defaults applied. */
  readonly config: TopicConfig;
  readonly createdAt: number;
  /**
   * The topic's leader epochs, once a failover moved its home (read with the topic, and only by
   * clients that know the deployment's regions): where each epoch's batches are, and the home.
   */
  readonly epochs?: TopicEpochs | undefined;
}

/**
 * The ref of one partition of `topic`, with its leader epochs when the topic failed over: what
 * every reader and appender of its log is made from, so each reads and writes every offset in the
 * key space of the epoch holding it.
 */
export function partitionRef(topic: TopicMetadata, partition: number): PartitionRef {
  const epochs = partitionEpochs(topic.epochs, partition);
  return {
    topic: topic.name,
    incarnation: topic.incarnation,
    partition,
    ...(epochs ? { epochs } : {}),
  };
}
