/**
 * The one definition of Tributary's tables and bucket. The local stack (`local/`) creates them
 * with {@link createTableInput}; the CDK stack (`infra/`) builds its TableV2 constructs from the
 * same {@link TableSchema} objects, so the local and cloud stacks cannot drift apart.
 */
import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import { GroupAttr, LogAttr, TopicAttr } from './keys.ts';

/** A DynamoDB key attribute. */
export interface KeyAttribute {
  readonly name: string;
  readonly type: 'S' | 'N' | 'B';
}

/** A table's shape, independent of how it is provisioned. */
export interface TableSchema {
  /** Suffix appended to the table prefix to form the physical name locally (CDK names tables itself). */
  readonly suffix: string;
  readonly partitionKey: KeyAttribute;
  readonly sortKey?: KeyAttribute;
  /** DynamoDB stream view, when the table feeds triggers. */
  readonly stream?: 'NEW_IMAGE' | 'NEW_AND_OLD_IMAGES' | 'KEYS_ONLY';
  /** Attribute holding an epoch-seconds expiry, when the table uses TTL. */
  readonly timeToLiveAttribute?: string;
}

/**
 * The log: every batch of every partition of every topic, plus one metadata item per partition.
 * Key `pk = <topic>:<incarnation>:<partition>`, `off` = base offset of the batch (the metadata
 * item sits at `off = -1`, before every batch). Key and attribute names come from `keys.ts`.
 */
export const LOG_TABLE: TableSchema = {
  suffix: 'log',
  partitionKey: { name: LogAttr.partitionKey, type: 'S' },
  sortKey: { name: LogAttr.offset, type: 'N' },
  stream: 'NEW_IMAGE',
  // Stubs of archived batches (and idle producers' state) expire by TTL (deletes by TTL cost no write units).
  timeToLiveAttribute: LogAttr.expiresAt,
};

/** The topic registry: one item per live topic, plus tombstones of deletions still purging. */
export const TOPICS_TABLE: TableSchema = {
  suffix: 'topics',
  partitionKey: { name: TopicAttr.name, type: 'S' },
};

/**
 * Consumer groups: per group (`g`), one metadata item, one item per member (its heartbeat) and
 * one lease per topic partition (owner, epoch, committed offset). Sort key `k`; see `keys.ts`.
 */
export const GROUPS_TABLE: TableSchema = {
  suffix: 'groups',
  partitionKey: { name: GroupAttr.group, type: 'S' },
  sortKey: { name: GroupAttr.key, type: 'S' },
};

/** All tables, in creation order. */
export const TABLES: readonly TableSchema[] = [LOG_TABLE, TOPICS_TABLE, GROUPS_TABLE];

/** Default prefix of physical table names when the caller gives none. */
export const DEFAULT_TABLE_PREFIX = 'tributary-';

/** Default name of the archive bucket in the local stack (the cloud stack passes its own). */
export const DEFAULT_BUCKET_NAME = 'tributary-archive';

/** The physical names of Tributary's tables for a prefix. */
export interface TableNames {
  readonly log: string;
  readonly topics: string;
  readonly groups: string;
}

/** Physical name of one table for a prefix. */
export function tableName(schema: TableSchema, prefix: string = DEFAULT_TABLE_PREFIX): string {
  return `${prefix}${schema.suffix}`;
}

/** Physical table names for a prefix (the local stack and the SDK's defaults). */
export function tableNames(prefix: string = DEFAULT_TABLE_PREFIX): TableNames {
  return {
    log: tableName(LOG_TABLE, prefix),
    topics: tableName(TOPICS_TABLE, prefix),
    groups: tableName(GROUPS_TABLE, prefix),
  };
}

/** The `CreateTable` request for a schema, on-demand billing. */
export function createTableInput(schema: TableSchema, tableName: string): CreateTableCommandInput {
  const keys = [schema.partitionKey, ...(schema.sortKey ? [schema.sortKey] : [])];
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: keys.map((k) => ({ AttributeName: k.name, AttributeType: k.type })),
    KeySchema: [
      { AttributeName: schema.partitionKey.name, KeyType: 'HASH' },
      ...(schema.sortKey ? [{ AttributeName: schema.sortKey.name, KeyType: 'RANGE' as const }] : []),
    ],
    ...(schema.stream ? { StreamSpecification: { StreamEnabled: true, StreamViewType: schema.stream } } : {}),
  };
}
