/**
 * `tributary/cdk`: AWS CDK constructs that deploy Tributary. Everything else in `infra/` is internal.
 */
export { type RouteScope, TributaryApi, type TributaryApiProps } from './api.ts';
export {
  ArchiveBucket,
  type ArchiveBucketProps,
  type ArchiveReplicationDestination,
} from './archive-bucket.ts';
export { TributaryArchiver, type TributaryArchiverProps } from './archiver.ts';
export {
  type DispatcherMetricName,
  TributaryDispatcher,
  type TributaryDispatcherProps,
} from './dispatcher.ts';
export { TributaryGateway, type TributaryGatewayProps } from './gateway.ts';
export { TributaryReplicaStack, type TributaryReplicaStackProps } from './replica-stack.ts';
export { TributaryTables, type TributaryTablesProps } from './tables.ts';
export { Tributary, type TributaryEncryption, type TributaryProps } from './tributary.ts';
export {
  TributaryEventSource,
  type TributaryEventSourceProps,
  type TributaryOnFailure,
} from './tributary-event-source.ts';
export { type LogLevel, METRICS_NAMESPACE } from './tributary-function.ts';
export { TributaryStack, type TributaryStackProps } from './tributary-stack.ts';
export type { TributaryTriggerProvider } from './trigger-provider.ts';
