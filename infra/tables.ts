/**
 * Tributary's three DynamoDB tables (log, topic registry, consumer groups), built from the shared
 * schema in `sdk/src/schema.ts` so the cloud tables and the local stack's tables cannot drift.
 */
import { RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import {
  GROUPS_TABLE,
  type KeyAttribute,
  LOG_TABLE,
  strongConsistencyProblem,
  type TableNames,
  type TableSchema,
  TOPICS_TABLE,
} from '../sdk/src/internal.ts';
import { validateGroupName, validateRegion, validateTopicName } from './validation.ts';

/** Properties of {@link TributaryTables}. */
export interface TributaryTablesProps {
  /**
   * Billing of each of the three tables. With provisioned billing, write capacity must be autoscaled
   * (`Capacity.autoscaled`): the tables are DynamoDB global tables (`TableV2`), even with no replicas.
   *
   * @default Billing.onDemand() — pay per request, no capacity planning, no idle cost
   */
  readonly billing?: dynamodb.Billing;

  /**
   * Whether point-in-time recovery (continuous backups, 35 days) is on for every table.
   *
   * @default true
   */
  readonly pointInTimeRecovery?: boolean;

  /**
   * Whether DynamoDB refuses to delete the tables (also through CloudFormation).
   *
   * @default true, unless `removalPolicy` is `DESTROY` (which deletion protection would block)
   */
  readonly deletionProtection?: boolean;

  /**
   * What happens to the tables when they leave the stack or the stack is deleted.
   *
   * @default RemovalPolicy.RETAIN — the tables and their data outlive the stack
   */
  readonly removalPolicy?: RemovalPolicy;

  /**
   * Customer managed KMS key that encrypts the tables in the stack's region. Grants made by this
   * construct then include the matching `kms:` permissions. Needs a stack with a concrete region
   * (global tables name the key of each region).
   *
   * @default - encrypted with a key that DynamoDB owns (no KMS charges, no key policy to manage)
   */
  readonly encryptionKey?: kms.IKey;

  /**
   * Other regions that hold a replica of every table (DynamoDB global tables). Each topic still has
   * one home region that takes its appends; see `docs/deploy.md`. Needs a stack with a concrete
   * region.
   *
   * @default - no replicas: single-region tables
   */
  readonly replicaRegions?: readonly string[];

  /**
   * With `encryptionKey` and `replicaRegions`: the ARN of the customer managed key in each replica
   * region (KMS keys are regional). One entry per replica region, no others.
   *
   * @default - none; required for every replica region when `encryptionKey` is given
   */
  readonly replicaKeyArns?: Readonly<Record<string, string>>;

  /**
   * The global tables' consistency mode. `eventual` (MREC): replicas in any regions, each topic
   * appended in its home region. `strong` (MRSC): conditional writes see every region, so appends
   * are safe from anywhere; it needs exactly three regions of one region set (the stack's region
   * and two `replicaRegions`, or one and a `witnessRegion`), and has no TTL (the log table gets no
   * TTL attribute: the archiver deletes stubs itself) and no transactions (the SDK refuses atomic
   * appends and group transactions). Fixed at creation. See `docs/deploy.md`.
   *
   * @default 'eventual'
   */
  readonly multiRegionConsistency?: 'eventual' | 'strong';

  /**
   * With `multiRegionConsistency: 'strong'` and one replica region: the third region of the
   * quorum, which holds no readable replica.
   *
   * @default - none: three replica regions
   */
  readonly witnessRegion?: string;
}

/** Which of Tributary's tables a grant statement applies to. */
type TableRole = 'log' | 'topics' | 'groups';

/** A `dynamodb:LeadingKeys` restriction: the partition keys a principal may touch. */
interface LeadingKeys {
  /** `StringLike` patterns (`orders:*`) or exact `StringEquals` values (`orders`). */
  readonly match: 'like' | 'equals';
  readonly values: readonly string[];
}

/** DynamoDB actions, named once. `TransactWriteItems` is authorized per item with these actions. */
const READ = ['dynamodb:GetItem', 'dynamodb:Query'] as const;
const WRITE = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'] as const;

/** KMS actions for reading and for writing an encrypted table. */
const KMS_READ = ['kms:Decrypt', 'kms:DescribeKey'] as const;
const KMS_WRITE = [...KMS_READ, 'kms:Encrypt', 'kms:GenerateDataKey'] as const;

const KEY_TYPES: Record<KeyAttribute['type'], dynamodb.AttributeType> = {
  S: dynamodb.AttributeType.STRING,
  N: dynamodb.AttributeType.NUMBER,
  B: dynamodb.AttributeType.BINARY,
};

const STREAM_VIEWS: Record<NonNullable<TableSchema['stream']>, dynamodb.StreamViewType> = {
  NEW_IMAGE: dynamodb.StreamViewType.NEW_IMAGE,
  NEW_AND_OLD_IMAGES: dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
  KEYS_ONLY: dynamodb.StreamViewType.KEYS_ONLY,
};

/**
 * The log, topic registry and consumer group tables (DynamoDB `TableV2`, so replicas are one prop
 * away), keyed exactly as `sdk/src/schema.ts` says. The log table has the schema's stream
 * (NEW_IMAGE, which wakes Lambda subscriptions) and TTL attribute (expiry of archived stubs).
 *
 * Access is granted per role of a Tributary user — {@link grantProduce}, {@link grantConsume},
 * {@link grantArchive}, {@link grantAdmin} — with topic- and group-scoped grants restricted by
 * `dynamodb:LeadingKeys`: log keys start with `<topic>:`, topic registry keys are the topic name and
 * group keys the group id. No topic- or group-scoped grant ever includes `Scan` (which
 * `LeadingKeys` cannot restrict), so listing topics and groups is for admins.
 */
export class TributaryTables extends Construct {
  /** The log: every batch of every partition, plus partition metadata and segment manifests. */
  public readonly log: dynamodb.TableV2;
  /** The topic registry. */
  public readonly topics: dynamodb.TableV2;
  /** Consumer groups: members, leases and committed offsets. */
  public readonly groups: dynamodb.TableV2;
  /** The physical table names, in the shape the SDK and the functions take. */
  public readonly tableNames: TableNames;
  /** The customer managed key of the tables, if any. */
  public readonly encryptionKey?: kms.IKey;
  /** The regions that hold replicas of the tables (empty without replicas). */
  public readonly replicaRegions: readonly string[];
  /** The global tables' consistency mode. */
  public readonly multiRegionConsistency: 'eventual' | 'strong';
  /** With MRSC and two replicas: the witness region. */
  public readonly witnessRegion: string | undefined;

  private readonly replicaKeyArns: readonly string[];

  constructor(scope: Construct, id: string, props: TributaryTablesProps = {}) {
    super(scope, id);
    const stackRegion = Stack.of(this).region;
    const replicaRegions = [...(props.replicaRegions ?? [])];
    validateReplicas(replicaRegions, stackRegion);
    validateReplicaKeys(props, replicaRegions);
    const strong = props.multiRegionConsistency === 'strong';
    validateConsistency(props, replicaRegions, stackRegion);
    if (props.encryptionKey && Token.isUnresolved(stackRegion)) {
      throw new Error(
        'TributaryTables: encryptionKey needs a stack with a concrete region (global tables name the key of each ' +
          'region); set env.region on the stack',
      );
    }

    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    if (removalPolicy === RemovalPolicy.DESTROY && props.deletionProtection === true) {
      throw new Error(
        'TributaryTables: removalPolicy DESTROY cannot be combined with deletionProtection true (the deletion would fail); ' +
          'set deletionProtection to false or choose another removalPolicy',
      );
    }
    const deletionProtection = props.deletionProtection ?? removalPolicy !== RemovalPolicy.DESTROY;

    this.encryptionKey = props.encryptionKey;
    this.replicaRegions = replicaRegions;
    this.multiRegionConsistency = strong ? 'strong' : 'eventual';
    this.witnessRegion = props.witnessRegion;
    this.replicaKeyArns = Object.values(props.replicaKeyArns ?? {});
    const encryption = props.encryptionKey
      ? dynamodb.TableEncryptionV2.customerManagedKey(props.encryptionKey, { ...props.replicaKeyArns })
      : dynamodb.TableEncryptionV2.dynamoOwnedKey();

    const table = (tableId: string, schema: TableSchema): dynamodb.TableV2 =>
      new dynamodb.TableV2(this, tableId, {
        partitionKey: attribute(schema.partitionKey),
        ...(schema.sortKey ? { sortKey: attribute(schema.sortKey) } : {}),
        ...(schema.stream ? { dynamoStream: STREAM_VIEWS[schema.stream] } : {}),
        // MRSC global tables have no TTL: the archiver deletes expired stubs itself there.
        ...(schema.timeToLiveAttribute && !strong ? { timeToLiveAttribute: schema.timeToLiveAttribute } : {}),
        billing: props.billing ?? dynamodb.Billing.onDemand(),
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: props.pointInTimeRecovery ?? true },
        deletionProtection,
        removalPolicy,
        encryption,
        replicas: replicaRegions.map((region) => ({ region })),
        ...(strong
          ? {
              multiRegionConsistency: dynamodb.MultiRegionConsistency.STRONG,
              ...(props.witnessRegion ? { witnessRegion: props.witnessRegion } : {}),
            }
          : {}),
      });

    this.log = table('Log', LOG_TABLE);
    this.topics = table('Topics', TOPICS_TABLE);
    this.groups = table('Groups', GROUPS_TABLE);
    this.tableNames = {
      log: this.log.tableName,
      topics: this.topics.tableName,
      groups: this.groups.tableName,
    };
  }

  /**
   * Lets `grantee` produce to `topic` (every topic when omitted) with the SDK's direct transport:
   * - topic registry: `GetItem` of the topic and of its leader-epoch items (`LeadingKeys` = the topic name, `epochs#<topic>#*`);
   * - log: `Query` (finding a partition's tail), `PutItem` (appending; also inside the
   *   `TransactWriteItems` of atomic sends) and `UpdateItem` (writing the body of a two-phase
   *   append) on keys `<topic>:*`;
   * - the tables' KMS key, when customer managed: decrypt and encrypt.
   */
  public grantProduce(grantee: iam.IGrantable, topic?: string): iam.Grant {
    if (topic !== undefined) validateTopicName('topic', topic);
    return combine([
      this.grant(grantee, 'topics', ['dynamodb:GetItem'], topicEntry(topic)),
      this.grant(
        grantee,
        'log',
        ['dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
        logKeys(topic),
      ),
      this.grantKey(grantee, KMS_WRITE),
    ]);
  }

  /**
   * Lets `grantee` consume `topic` (every topic when omitted) as a member of `group` (every group
   * when omitted) with the SDK's direct transport:
   * - topic registry: `GetItem` of the topic and its leader-epoch items;
   * - log: `GetItem` and `Query` (batches, partition metadata, segment manifests) and `UpdateItem`
   *   (turning a producer's abandoned two-phase claim into a void batch, which readers do so a
   *   crashed writer never blocks a partition) on keys `<topic>:*`;
   * - groups: `Query`, `PutItem`, `UpdateItem` (heartbeats, lease moves, fenced offset commits,
   *   also inside transactions), `DeleteItem` and `BatchWriteItem` (leaving) on the group's items;
   * - the tables' KMS key, when customer managed: decrypt and encrypt.
   */
  public grantConsume(grantee: iam.IGrantable, topic?: string, group?: string): iam.Grant {
    if (topic !== undefined) validateTopicName('topic', topic);
    if (group !== undefined) validateGroupName('group', group);
    const groupKeys: LeadingKeys | undefined =
      group === undefined ? undefined : { match: 'equals', values: [group] };
    return combine([
      this.grant(grantee, 'topics', ['dynamodb:GetItem'], topicEntry(topic)),
      this.grant(grantee, 'log', [...READ, 'dynamodb:UpdateItem'], logKeys(topic)),
      this.grant(grantee, 'groups', ['dynamodb:Query', ...WRITE, 'dynamodb:BatchWriteItem'], groupKeys),
      this.grantKey(grantee, KMS_WRITE),
    ]);
  }

  /**
   * Lets `grantee` run the archiver over every topic: `Scan` and `GetItem` of the topic registry
   * (it lists the topics), `UpdateItem`, `DeleteItem` and `BatchWriteItem` there (the partitions'
   * archive schedules; the tombstones of deleted topics whose purge it finishes); `GetItem`,
   * `Query`, `PutItem`, `UpdateItem`, `DeleteItem` on the log (segment manifests, tier bounds,
   * stubs) and `BatchWriteItem` (purging deleted topics); KMS decrypt and encrypt when customer
   * managed.
   */
  public grantArchive(grantee: iam.IGrantable): iam.Grant {
    return combine([
      this.grant(
        grantee,
        'topics',
        [
          'dynamodb:GetItem',
          'dynamodb:Scan',
          'dynamodb:UpdateItem',
          'dynamodb:DeleteItem',
          'dynamodb:BatchWriteItem',
        ],
        undefined,
      ),
      this.grant(grantee, 'log', [...READ, ...WRITE, 'dynamodb:BatchWriteItem'], undefined),
      this.grantKey(grantee, KMS_WRITE),
    ]);
  }

  /**
   * Lets `grantee` administer Tributary: every item action the SDK's admin client uses on all three
   * tables — `GetItem`, `Query`, `Scan` (listing topics and groups), `PutItem`, `UpdateItem`,
   * `DeleteItem`, `BatchWriteItem` (purging deleted topics and groups) — and KMS decrypt and encrypt
   * when customer managed. No table management actions (`CreateTable`, `DeleteTable`, ...).
   */
  public grantAdmin(grantee: iam.IGrantable): iam.Grant {
    const actions = [...READ, 'dynamodb:Scan', ...WRITE, 'dynamodb:BatchWriteItem'];
    return combine([
      this.grant(grantee, 'log', actions, undefined),
      this.grant(grantee, 'topics', actions, undefined),
      this.grant(grantee, 'groups', actions, undefined),
      this.grantKey(grantee, KMS_WRITE),
    ]);
  }

  /**
   * Lets `grantee` administer triggers (Tributary's event source mappings) without listing them:
   * - topic registry: `GetItem`, `Query`, `PutItem`, `UpdateItem`, `DeleteItem` (the trigger items,
   *   and reading the topics they name);
   * - groups: `GetItem`, `Query`, `PutItem`, `UpdateItem`, `DeleteItem` (a trigger's consumer group:
   *   its starting offsets, its partitions marked due);
   * - log: `GetItem` and `Query` (high watermarks, timestamp lookups, lag);
   * - the tables' KMS key, when customer managed: decrypt and encrypt.
   * No `Scan`, no `BatchWriteItem`, nothing else on the log.
   */
  public grantTriggerAdmin(grantee: iam.IGrantable): iam.Grant {
    return combine([
      this.grant(grantee, 'topics', [...READ, ...WRITE], undefined),
      this.grant(grantee, 'groups', [...READ, ...WRITE], undefined),
      this.grant(grantee, 'log', READ, undefined),
      this.grantKey(grantee, KMS_WRITE),
    ]);
  }

  /**
   * Write units consumed by the log table: the cost driver of producing (an append costs one unit
   * per KB of its item).
   *
   * @default - sum over 5 minutes
   */
  public metricLogConsumedWriteCapacityUnits(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.log.metricConsumedWriteCapacityUnits(props);
  }

  /**
   * Read units consumed by the log table (fetches, tail lookups, archiving).
   *
   * @default - sum over 5 minutes
   */
  public metricLogConsumedReadCapacityUnits(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.log.metricConsumedReadCapacityUnits(props);
  }

  /**
   * Throttled requests on the log table, summed over the operations Tributary uses (`PutItem`,
   * `UpdateItem`, `GetItem`, `Query`, `TransactWriteItems`). Sustained throttling means a partition
   * is past ~1 MB/s: add partitions.
   *
   * @default - sum over 5 minutes
   */
  public metricLogThrottledRequests(props?: cloudwatch.MathExpressionOptions): cloudwatch.IMetric {
    return this.log.metricThrottledRequestsForOperations({
      operations: [
        dynamodb.Operation.PUT_ITEM,
        dynamodb.Operation.UPDATE_ITEM,
        dynamodb.Operation.GET_ITEM,
        dynamodb.Operation.QUERY,
        dynamodb.Operation.TRANSACT_WRITE_ITEMS,
      ],
      ...props,
    });
  }

  /**
   * Failed conditional writes on the log table: appends that collided with another writer at the
   * same offset, and other lost races. A steady rate shows contended partitions.
   *
   * @default - sum over 5 minutes
   */
  public metricLogConditionalCheckFailedRequests(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.log.metricConditionalCheckFailedRequests(props);
  }

  /**
   * The one place statements on the tables are made: `actions` on the table of `role` in the
   * stack's region and in every replica region, limited to `leadingKeys` when given.
   */
  private grant(
    grantee: iam.IGrantable,
    role: TableRole,
    actions: readonly string[],
    leadingKeys: LeadingKeys | undefined,
  ): iam.Grant {
    const table = this[role];
    const stack = Stack.of(this);
    const replicaArns = this.replicaRegions.map((region) =>
      stack.formatArn({ service: 'dynamodb', region, resource: 'table', resourceName: table.tableName }),
    );
    const conditions = leadingKeys
      ? {
          [leadingKeys.match === 'like' ? 'ForAllValues:StringLike' : 'ForAllValues:StringEquals']: {
            'dynamodb:LeadingKeys': [...leadingKeys.values],
          },
        }
      : undefined;
    return iam.Grant.addToPrincipal({
      grantee,
      actions: [...actions],
      resourceArns: [table.tableArn, ...replicaArns],
      ...(conditions ? { conditions } : {}),
    });
  }

  /** The KMS part of a grant, when the tables use a customer managed key (and its replica keys). */
  private grantKey(grantee: iam.IGrantable, actions: readonly string[]): iam.Grant {
    if (!this.encryptionKey) return iam.Grant.drop(grantee, 'tables encrypted with a DynamoDB owned key');
    const grant = this.encryptionKey.grant(grantee, ...actions);
    if (this.replicaKeyArns.length === 0) return grant;
    return grant.combine(
      iam.Grant.addToPrincipal({ grantee, actions: [...actions], resourceArns: [...this.replicaKeyArns] }),
    );
  }
}

function attribute(key: KeyAttribute): dynamodb.Attribute {
  return { name: key.name, type: KEY_TYPES[key.type] };
}

/** Log keys of a topic: `<topic>:<incarnation>:<partition>` and `...#segments` all start `<topic>:`. */
function logKeys(topic: string | undefined): LeadingKeys | undefined {
  return topic === undefined ? undefined : { match: 'like', values: [`${topic}:*`] };
}

/** The registry key of a topic is its name. */
/**
 * A topic's items in the registry: its own item (keyed by its name) and its leader-epoch items
 * (`epochs#<topic>#<incarnation>`, which multi-region clients read with the topic). `StringLike`
 * on the bare name matches only that name: topic names hold no `*` or `?`.
 */
function topicEntry(topic: string | undefined): LeadingKeys | undefined {
  return topic === undefined ? undefined : { match: 'like', values: [topic, `epochs#${topic}#*`] };
}

function combine(grants: readonly iam.Grant[]): iam.Grant {
  const [first, ...rest] = grants;
  if (!first) throw new Error('TributaryTables: no grant to combine');
  return rest.reduce((all, grant) => all.combine(grant), first);
}

function validateReplicas(replicaRegions: readonly string[], stackRegion: string): void {
  if (replicaRegions.length === 0) return;
  if (Token.isUnresolved(stackRegion)) {
    throw new Error(
      `TributaryTables: replicaRegions (${replicaRegions.join(', ')}) need a stack with a concrete region; ` +
        'set env.region on the stack',
    );
  }
  const seen = new Set<string>();
  for (const region of replicaRegions) {
    validateRegion('replicaRegions', region);
    if (region === stackRegion) {
      throw new Error(
        `TributaryTables: replicaRegions must not include the stack's own region ${region}; list only the other regions`,
      );
    }
    if (seen.has(region)) throw new Error(`TributaryTables: replicaRegions lists ${region} twice`);
    seen.add(region);
  }
}

function validateConsistency(
  props: TributaryTablesProps,
  replicaRegions: readonly string[],
  stackRegion: string,
): void {
  const mode = props.multiRegionConsistency ?? 'eventual';
  if (mode !== 'eventual' && mode !== 'strong') {
    throw new Error(
      `TributaryTables: multiRegionConsistency is 'eventual' or 'strong'; got ${JSON.stringify(mode)}`,
    );
  }
  if (mode === 'eventual') {
    if (props.witnessRegion !== undefined) {
      throw new Error(
        "TributaryTables: witnessRegion is only for multiRegionConsistency 'strong' (MRSC); MREC global tables have no witness",
      );
    }
    return;
  }
  if (Token.isUnresolved(stackRegion)) {
    throw new Error(
      "TributaryTables: multiRegionConsistency 'strong' needs a stack with a concrete region (MRSC spans three named " +
        'regions); set env.region on the stack',
    );
  }
  if (props.witnessRegion !== undefined) validateRegion('witnessRegion', props.witnessRegion);
  const problem = strongConsistencyProblem({
    replicas: [stackRegion, ...replicaRegions],
    witness: props.witnessRegion,
  });
  if (problem) {
    throw new Error(
      `TributaryTables: multiRegionConsistency 'strong' with the stack's region ${stackRegion}, replicaRegions ` +
        `[${replicaRegions.join(', ')}]${props.witnessRegion ? ` and witnessRegion ${props.witnessRegion}` : ''}: ${problem}`,
    );
  }
}

function validateReplicaKeys(props: TributaryTablesProps, replicaRegions: readonly string[]): void {
  const keyRegions = Object.keys(props.replicaKeyArns ?? {});
  if (keyRegions.length > 0 && !props.encryptionKey) {
    throw new Error(
      `TributaryTables: replicaKeyArns (${keyRegions.join(', ')}) given without encryptionKey; ` +
        'replica keys are only used with a customer managed key',
    );
  }
  if (!props.encryptionKey) return;
  const missing = replicaRegions.filter((region) => !keyRegions.includes(region));
  if (missing.length > 0) {
    throw new Error(
      `TributaryTables: replicaKeyArns has no key for replica region(s) ${missing.join(', ')}; ` +
        'with encryptionKey, every replica region needs the ARN of a KMS key in that region',
    );
  }
  const extra = keyRegions.filter((region) => !replicaRegions.includes(region));
  if (extra.length > 0) {
    throw new Error(
      `TributaryTables: replicaKeyArns has keys for ${extra.join(', ')}, which are not in replicaRegions ` +
        `(${replicaRegions.join(', ') || 'none'}); list only replica regions`,
    );
  }
}
