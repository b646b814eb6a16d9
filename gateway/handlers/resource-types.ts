/** Kafka's config resource types (DescribeConfigs, AlterConfigs, IncrementalAlterConfigs). */
export const ResourceType = {
  TOPIC: 2,
  BROKER: 4,
} as const;
