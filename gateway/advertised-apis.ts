/**
 * The APIs this gateway serves, and so the version table ApiVersions advertises: exactly the
 * handled APIs, each with the whole range its description implements (`protocol/apis.ts`).
 *
 * Every API described in `protocol/` is served except the transaction APIs, which are not
 * described and so not advertised: a client that sends one anyway has its connection closed, as
 * Kafka closes it for an API it does not know.
 */
import { SUPPORTED_APIS, type SupportedApi } from './protocol/index.ts';

/** The APIs with a handler, by Kafka's name. */
export const HANDLED_APIS = [
  'Produce',
  'Fetch',
  'ListOffsets',
  'Metadata',
  'OffsetCommit',
  'OffsetFetch',
  'FindCoordinator',
  'JoinGroup',
  'Heartbeat',
  'LeaveGroup',
  'SyncGroup',
  'DescribeGroups',
  'ListGroups',
  'SaslHandshake',
  'ApiVersions',
  'CreateTopics',
  'DeleteTopics',
  'InitProducerId',
  'DescribeConfigs',
  'AlterConfigs',
  'SaslAuthenticate',
  'CreatePartitions',
  'DeleteGroups',
  'IncrementalAlterConfigs',
] as const;

/** An API the gateway serves. */
export type HandledApi = (typeof HANDLED_APIS)[number];

const HANDLED: ReadonlySet<string> = new Set(HANDLED_APIS);

/** True when the gateway serves `api`. */
export function isHandled(api: string): api is HandledApi {
  return HANDLED.has(api);
}

/** What ApiVersions advertises, by ascending API key. */
export const ADVERTISED_APIS: readonly SupportedApi[] = SUPPORTED_APIS.filter((api) => isHandled(api.name));
