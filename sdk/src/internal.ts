/**
 * The SDK's internal entry: what Tributary's own processes — the Lambda functions, the local
 * stack, the CLI, the CDK constructs, the benchmarks and scripts, and the Kafka gateway — use
 * below the public client: the direct transport and its storage context, the stores, the table and
 * API schemas, the API contract and route table, the error codec, group sessions, the request
 * appender.
 *
 * **Not a public API.** It is not in the package's `exports`, carries no compatibility promise and
 * changes with the code it exports. Applications import `tributary` (`index.ts`). Everything
 * outside `sdk/` imports the SDK through `index.ts` or this file, never a deeper path, so a module
 * that moves inside the SDK changes one line here.
 *
 * @internal
 * @packageDocumentation
 */
export { CONTRACT, type OperationContract, type OperationResult } from './api/contract.ts';
export { errorToResponse } from './api/error-codec.ts';
export { MAX_REQUEST_BYTES, MAX_RESPONSE_BYTES } from './api/limits.ts';
export { openApiDocument } from './api/openapi.ts';
export { type OperationId, ROUTES, type RouteAccess, type RouteDefinition } from './api/routes.ts';
export { type Encoding, type ErrorBody, type ProduceProducerBody, refusalOf } from './api/schemas.ts';
export { mapLimited } from './concurrency.ts';
export { LOOPBACK_CREDENTIALS } from './connection.ts';
export type { StorageContext } from './context.ts';
export {
  type ClassicBeat,
  type ClassicCommitEntry,
  type ClassicFence,
  type ClassicGroup,
  type ClassicGroupState,
  ClassicGroupStore,
  type ClassicMember,
  type ClassicProtocol,
  type ClassicView,
  classicItemBytes,
  EMPTY_CLASSIC_GROUP,
  fenceHolds,
  MAX_CLASSIC_ITEM_BYTES,
  type PendingMember,
} from './groups/classic-store.ts';
export { CONSUMER_PROTOCOL_TYPE } from './groups/consumer-protocol.ts';
export { validateGroupId } from './groups/group-id.ts';
export { GroupSessions, type Membership } from './groups/group-sessions.ts';
export {
  type GroupListing,
  type LeaseRecord,
  LeaseStore,
  listGroups,
  type MemberRecord,
} from './groups/lease-store.ts';
export { PARTITION_META_OFFSET, type PartitionRef, partitionKey } from './keys.ts';
export { writeUnits } from './log/append-strategy.ts';
export { DEFAULT_COMPRESSION_LEVELS } from './log/compression.ts';
export { slotFromItem } from './log/log-item.ts';
export { Partitioner } from './log/partitioner.ts';
export {
  type BatchProblem,
  inspectProducedBatch,
  isBatchProblem,
  type ProducedBatch,
} from './log/produced-batch.ts';
export {
  type RawAppendOutcome,
  RawBatchAppender,
  type RawBatchAppenderOptions,
  type SequenceRefusal,
} from './log/raw-batch-append.ts';
export { type OffsetAndTimestamp, type RawFetchResult, RawLogReader } from './log/raw-batch-read.ts';
export { decodeRecordBatch, encodeRecordBatch, type RecordInput } from './log/record-batch.ts';
export { RequestAppender, type RequestProducer } from './log/request-appender.ts';
export { isLoopbackEndpoint } from './loopback.ts';
export { PeriodicTask, type PeriodicTaskOptions } from './periodic-task.ts';
export { prepareMessages } from './producer-input.ts';
export {
  CONSISTENCY_ENVIRONMENT_VARIABLE,
  REGIONS_ENVIRONMENT_VARIABLE,
  WITNESS_REGION_ENVIRONMENT_VARIABLE,
} from './regions/deployment.ts';
export {
  MRSC_REGION_SETS,
  type StrongConsistencyLayout,
  strongConsistencyProblem,
} from './regions/strong-consistency.ts';
export {
  createTableInput,
  DEFAULT_BUCKET_NAME,
  DEFAULT_TABLE_PREFIX,
  GROUPS_TABLE,
  type KeyAttribute,
  LOG_TABLE,
  TABLES,
  type TableNames,
  type TableSchema,
  TOPICS_TABLE,
  tableName,
  tableNames,
} from './schema.ts';
export { rawSerializer } from './serde.ts';
export {
  type ConfigDef,
  effectiveConfigs,
  TOPIC_CONFIGS,
  topicConfigDef,
  validateTopicConfigs,
} from './topics/configs.ts';
export { validateTopicName } from './topics/names.ts';
export { ProducerIdAllocator } from './topics/producer-ids.ts';
export {
  MAX_PARTITIONS,
  type TopicMetadata,
  TopicRegistry,
  validatePartitionCount,
} from './topics/registry.ts';
export { DirectTransport, type TributaryOptions } from './transport/direct-transport.ts';
export type { PartitionSourceFactory, RawRecord } from './transport/partition-source.ts';
export { toWireRecord } from './transport/produce-request.ts';
export {
  Dispatcher,
  type DispatcherOptions,
  type RungPartition,
  rungPartitionOf,
  type WorkJob,
} from './triggers/dispatcher.ts';
export type { WorkerMetrics, WorkerResult } from './triggers/partition-worker.ts';
export { type TriggerRecordOf, TriggerRegistry } from './triggers/trigger-registry.ts';
export { TRIGGER_LIMITS, validateTriggerConfig } from './triggers/trigger-settings.ts';
