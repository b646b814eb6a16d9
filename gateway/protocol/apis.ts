/**
 * The registry of implemented APIs and the version table ApiVersions advertises, both derived
 * from the descriptions in `messages/`. An API is advertised exactly when it is described here,
 * with exactly the range its description declares.
 */
import { SchemaDefinitionError } from './errors.ts';
import { ALTER_CONFIGS } from './messages/alter-configs.ts';
import { API_VERSIONS } from './messages/api-versions.ts';
import { CREATE_PARTITIONS } from './messages/create-partitions.ts';
import { CREATE_TOPICS } from './messages/create-topics.ts';
import { DELETE_GROUPS } from './messages/delete-groups.ts';
import { DELETE_TOPICS } from './messages/delete-topics.ts';
import { DESCRIBE_CONFIGS } from './messages/describe-configs.ts';
import { DESCRIBE_GROUPS } from './messages/describe-groups.ts';
import { FETCH } from './messages/fetch.ts';
import { FIND_COORDINATOR } from './messages/find-coordinator.ts';
import { HEARTBEAT } from './messages/heartbeat.ts';
import { INCREMENTAL_ALTER_CONFIGS } from './messages/incremental-alter-configs.ts';
import { INIT_PRODUCER_ID } from './messages/init-producer-id.ts';
import { JOIN_GROUP } from './messages/join-group.ts';
import { LEAVE_GROUP } from './messages/leave-group.ts';
import { LIST_GROUPS } from './messages/list-groups.ts';
import { LIST_OFFSETS } from './messages/list-offsets.ts';
import { METADATA } from './messages/metadata.ts';
import { OFFSET_COMMIT } from './messages/offset-commit.ts';
import { OFFSET_FETCH } from './messages/offset-fetch.ts';
import { PRODUCE } from './messages/produce.ts';
import { SASL_AUTHENTICATE } from './messages/sasl-authenticate.ts';
import { SASL_HANDSHAKE } from './messages/sasl-handshake.ts';
import { SYNC_GROUP } from './messages/sync-group.ts';
import type { Message, MessageInput } from './schema.ts';

const DESCRIPTIONS = [
  PRODUCE,
  FETCH,
  LIST_OFFSETS,
  METADATA,
  OFFSET_COMMIT,
  OFFSET_FETCH,
  FIND_COORDINATOR,
  JOIN_GROUP,
  HEARTBEAT,
  LEAVE_GROUP,
  SYNC_GROUP,
  DESCRIBE_GROUPS,
  LIST_GROUPS,
  SASL_HANDSHAKE,
  API_VERSIONS,
  CREATE_TOPICS,
  DELETE_TOPICS,
  INIT_PRODUCER_ID,
  DESCRIBE_CONFIGS,
  ALTER_CONFIGS,
  SASL_AUTHENTICATE,
  CREATE_PARTITIONS,
  DELETE_GROUPS,
  INCREMENTAL_ALTER_CONFIGS,
] as const;

type Described = (typeof DESCRIPTIONS)[number];

/** Kafka's name of an implemented API. */
export type ApiName = Described['name'];

/** The description of API `N`. */
export type ApiOf<N extends ApiName> = Extract<Described, { readonly name: N }>;

/** Every implemented API, by Kafka's name. */
export const APIS = Object.freeze(Object.fromEntries(DESCRIPTIONS.map((api) => [api.name, api]))) as {
  readonly [A in Described as A['name']]: A;
};

/** A decoded request body of API `N` (every field present; fields absent from the version hold defaults). */
export type RequestBody<N extends ApiName> = Message<ApiOf<N>['request']>;
/** A decoded response body of API `N`. */
export type ResponseBody<N extends ApiName> = Message<ApiOf<N>['response']>;
/** What the encoder takes as a request body of API `N`. */
export type RequestInput<N extends ApiName> = MessageInput<ApiOf<N>['request']>;
/** What the encoder takes as a response body of API `N`. */
export type ResponseInput<N extends ApiName> = MessageInput<ApiOf<N>['response']>;

/** One row of the version table. */
export interface SupportedApi {
  readonly apiKey: number;
  readonly name: ApiName;
  readonly minVersion: number;
  readonly maxVersion: number;
}

const BY_KEY: ReadonlyMap<number, Described> = new Map(DESCRIPTIONS.map((api) => [api.apiKey, api]));
if (BY_KEY.size !== DESCRIPTIONS.length)
  throw new SchemaDefinitionError('Two API descriptions share an api key');

/** The version table ApiVersions advertises, by ascending API key. */
export const SUPPORTED_APIS: readonly SupportedApi[] = Object.freeze(
  [...BY_KEY.values()]
    .sort((a, b) => a.apiKey - b.apiKey)
    .map((api) =>
      Object.freeze({
        apiKey: api.apiKey,
        name: api.name,
        minVersion: api.minVersion,
        maxVersion: api.maxVersion,
      }),
    ),
);

/** The implemented API with this key, if any. */
export function apiByKey(apiKey: number): Described | undefined {
  return BY_KEY.get(apiKey);
}
