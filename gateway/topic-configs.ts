/**
 * A topic's configs in Kafka's terms (DescribeConfigs, CreateTopics v5+): Tributary's config
 * names are Kafka's, so each config is reported under its own name with its effective value, where
 * that value comes from (set on the topic, or the default), and Kafka's type of it.
 */
import { effectiveConfigs, TOPIC_CONFIGS, type TopicMetadata, topicConfigDef } from '../sdk/src/internal.ts';

/** Kafka's `ConfigSource`. */
export const ConfigSource = {
  /** Set on the topic (Kafka: DYNAMIC_TOPIC_CONFIG). */
  TOPIC: 1,
  /** Nobody set it: the default. */
  DEFAULT: 5,
} as const;

/** Kafka's `ConfigType` (DescribeConfigs v3+). */
const ConfigType = { BOOLEAN: 1, STRING: 2, INT: 3, LONG: 5, LIST: 7 } as const;

/** Configs whose values are lists in Kafka (comma-separated). */
const LIST_CONFIGS: ReadonlySet<string> = new Set(['cleanup.policy']);

const INT32_MAX = 0x7fffffff;

/** One config of a topic as Kafka describes it. */
export interface TopicConfigEntry {
  readonly name: string;
  readonly value: string | null;
  readonly source: (typeof ConfigSource)[keyof typeof ConfigSource];
  /** The default value (for synonyms), when there is one. */
  readonly defaultValue: string | undefined;
  readonly configType: number;
  readonly documentation: string;
}

/**
 * Every config of a topic whose explicitly set configs are `configs` (or those of `keys` that
 * Tributary knows), in the registry's order.
 */
export function topicConfigEntries(
  configs: TopicMetadata['configs'],
  keys?: readonly string[] | null,
): TopicConfigEntry[] {
  const effective = effectiveConfigs(configs);
  const names = keys
    ? [...new Set(keys)].filter((k) => topicConfigDef(k) !== undefined)
    : Object.keys(TOPIC_CONFIGS);
  return names.map((name) => {
    const def = topicConfigDef(name)!;
    const set = Object.hasOwn(configs, name);
    return {
      name,
      value: effective[name] ?? null,
      source: set ? ConfigSource.TOPIC : ConfigSource.DEFAULT,
      defaultValue: def.default,
      configType: configTypeOf(name),
      documentation: def.doc,
    };
  });
}

/** True when Kafka treats the config's value as a list (IncrementalAlterConfigs APPEND / SUBTRACT). */
export function isListConfig(name: string): boolean {
  return LIST_CONFIGS.has(name);
}

function configTypeOf(name: string): number {
  if (LIST_CONFIGS.has(name)) return ConfigType.LIST;
  const value = topicConfigDef(name)?.value;
  switch (value?.type) {
    case 'boolean':
      return ConfigType.BOOLEAN;
    case 'integer':
      return value.min >= -INT32_MAX - 1 && value.max <= INT32_MAX ? ConfigType.INT : ConfigType.LONG;
    default:
      return ConfigType.STRING;
  }
}
