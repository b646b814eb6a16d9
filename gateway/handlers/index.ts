/**
 * The request handlers, one per API the gateway serves (`advertised-apis.ts`), except the SASL
 * exchange, which the connection runs itself (it changes the connection's state).
 */
import type { HandledApi } from '../advertised-apis.ts';
import type { Handler } from '../context.ts';
import { handleAlterConfigs, handleIncrementalAlterConfigs } from './alter-configs.ts';
import { handleApiVersions } from './api-versions.ts';
import { handleCreatePartitions } from './create-partitions.ts';
import { handleCreateTopics } from './create-topics.ts';
import { handleDeleteGroups } from './delete-groups.ts';
import { handleDeleteTopics } from './delete-topics.ts';
import { handleDescribeConfigs } from './describe-configs.ts';
import { handleDescribeGroups } from './describe-groups.ts';
import { handleFetch } from './fetch.ts';
import { handleFindCoordinator } from './find-coordinator.ts';
import { handleHeartbeat } from './heartbeat.ts';
import { handleInitProducerId } from './init-producer-id.ts';
import { handleJoinGroup } from './join-group.ts';
import { handleLeaveGroup } from './leave-group.ts';
import { handleListGroups } from './list-groups.ts';
import { handleListOffsets } from './list-offsets.ts';
import { handleMetadata } from './metadata.ts';
import { handleOffsetCommit } from './offset-commit.ts';
import { handleOffsetFetch } from './offset-fetch.ts';
import { handleProduce } from './produce.ts';
import { handleSyncGroup } from './sync-group.ts';

/** The APIs of the SASL exchange. */
export type SaslApi = 'SaslHandshake' | 'SaslAuthenticate';

/** An API answered by a handler of this registry. */
export type RoutedApi = Exclude<HandledApi, SaslApi>;

/** Every handled API's handler. */
export const HANDLERS: { readonly [N in RoutedApi]: Handler<N> } = {
  Produce: handleProduce,
  Fetch: handleFetch,
  ListOffsets: handleListOffsets,
  Metadata: handleMetadata,
  OffsetCommit: handleOffsetCommit,
  OffsetFetch: handleOffsetFetch,
  FindCoordinator: handleFindCoordinator,
  JoinGroup: handleJoinGroup,
  Heartbeat: handleHeartbeat,
  LeaveGroup: handleLeaveGroup,
  SyncGroup: handleSyncGroup,
  DescribeGroups: handleDescribeGroups,
  ListGroups: handleListGroups,
  ApiVersions: handleApiVersions,
  CreateTopics: handleCreateTopics,
  DeleteTopics: handleDeleteTopics,
  InitProducerId: handleInitProducerId,
  DescribeConfigs: handleDescribeConfigs,
  AlterConfigs: handleAlterConfigs,
  CreatePartitions: handleCreatePartitions,
  DeleteGroups: handleDeleteGroups,
  IncrementalAlterConfigs: handleIncrementalAlterConfigs,
};
