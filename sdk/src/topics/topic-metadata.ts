/** A topic as the registry stores it: a leaf module, so the registry and its store share it without a cycle. */
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
}
