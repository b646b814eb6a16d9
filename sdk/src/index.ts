/**
 * Tributary: Kafka-style event streaming on DynamoDB and S3.
 *
 * ```ts
 * import { Tributary } from 'tributary';
 * const tributary = new Tributary({ endpoint: 'http://127.0.0.1:4566' });
 * await tributary.admin().createTopic({ topic: 'orders', partitions: 3 });
 * const producer = tributary.producer();
 * await producer.send({ topic: 'orders', messages: [{ key: 'o-1', value: 'created' }] });
 * ```
 */
export type {
  Admin,
  CreateTopicRequest,
  DeleteGroupOptions,
  DeleteTopicOptions,
  DynamoDBTierUsage,
  PartitionOffsets,
  ResetGroupOffsetsOptions,
  S3TierUsage,
  TopicDescription,
  TopicSummary,
} from './admin.ts';
export type { ArchiveVisit } from './archive/archive-schedule.ts';
export type {
  ArchiveReport,
  ArchiveRunOptions,
  ArchiverOptions,
  PartitionArchiveReport,
} from './archive/archiver.ts';
export { Archiver } from './archive/archiver.ts';
export { Tributary } from './client.ts';
export type { Credentials } from './connection.ts';
export type {
  Assignment,
  ConsumedBatch,
  ConsumedMessage,
  ConsumerOptions,
  OffsetResetPolicy,
} from './consumer.ts';
export { Consumer } from './consumer.ts';
export * from './errors.ts';
export type {
  GroupDescription,
  GroupMemberDescription,
  GroupPartitionDescription,
  GroupSummary,
  OffsetResetTarget,
} from './groups/group-admin.ts';
export type {
  GroupConsumerOptions,
  OffsetCommit,
  RunHandlers,
  Subscription,
  TransactionRequest,
} from './groups/group-consumer.ts';
export { GroupConsumer } from './groups/group-consumer.ts';
export type { Compression } from './log/compression.ts';
export type { Producer, ProducerMetrics, RecordMetadata, SendAtomicallyOptions } from './producer.ts';
export type {
  ExpectedOffsetRecord,
  HeaderValue,
  ProducerMessage,
  ProducerOptions,
  ProducerRecord,
} from './producer-input.ts';
export type {
  AppendRouting,
  ReadFrom,
  RegionEndpoint,
  ReplicaGapPolicy,
  ReplicationConsistency,
} from './regions/deployment.ts';
export type {
  DivergenceOptions,
  DivergenceReport,
  DivergentBatch,
  DivergentBatchRef,
  DivergentRecord,
  DivergentStatus,
  ReappendOptions,
  ReappendResult,
} from './regions/divergence.ts';
export type { FailoverReport, PartitionFailover } from './regions/failover.ts';
export type { FailoverRequest } from './regions/failover-plan.ts';
export type { FailoverMode } from './regions/leader-epochs.ts';
export type { RegionReplication } from './regions/replication-status.ts';
export type { RetryPolicy } from './retry.ts';
export type { Deserializer, RawValue, Serializer } from './serde.ts';
export { jsonDeserializer, jsonSerializer } from './serde.ts';
export type { ConsumedHeader, StartPosition, TopicPartition } from './topic-partition.ts';
export type { TopicConfig } from './topics/configs.ts';
export type { PurgeProgress } from './topics/registry.ts';
export type { TributaryOptions } from './transport/direct-transport.ts';
export type { HttpTributaryOptions } from './transport/http-transport.ts';
export type {
  TriggerDescription,
  TriggerError,
  TriggerPartitionState,
  TriggerSummary,
} from './triggers/trigger-registry.ts';
export type {
  FunctionResponseType,
  StartingPosition,
  TriggerConfig,
  TriggerFilter,
  TriggerSettings,
  TriggerUpdate,
} from './triggers/trigger-settings.ts';
