/**
 * A whole Tributary deployment in one construct: tables, archive, HTTP API, archiver and trigger
 * dispatcher, and the grants that let an application produce, consume or administer.
 */
import { RemovalPolicy, Token } from 'aws-cdk-lib';
import type * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as events from 'aws-cdk-lib/aws-events';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { TributaryApi } from './api.ts';
import { ArchiveBucket, type ArchiveReplicationDestination } from './archive-bucket.ts';
import { TributaryArchiver } from './archiver.ts';
import { TributaryDispatcher } from './dispatcher.ts';
import { grantFunctionLookup } from './function-lookup.ts';
import { TributaryGateway, type TributaryGatewayProps } from './gateway.ts';
import { TributaryTables } from './tables.ts';
import type { LogLevel } from './tributary-function.ts';
import { validateRegion } from './validation.ts';

/**
 * How the tables and the archive are encrypted at rest.
 * - `aws-owned`: DynamoDB owned keys for the tables, S3-managed keys (SSE-S3) for the archive; no
 *   KMS charges, nothing to manage.
 * - `customer-managed`: one customer managed KMS key for the tables and the archive (`key`, or a
 *   new key with yearly rotation), and with replicas one key per replica region
 *   (`replicaKeyArns`), since KMS keys are regional.
 */
export type TributaryEncryption =
  | { readonly type: 'aws-owned' }
  | {
      readonly type: 'customer-managed';
      /** @default - a new key, rotated yearly, kept by the stack's `removalPolicy` */
      readonly key?: kms.IKey;
      /** ARN of the key in each replica region. @default - none; required for every replica region */
      readonly replicaKeyArns?: Readonly<Record<string, string>>;
    };

/** Properties of {@link Tributary}. */
export interface TributaryProps {
  /**
   * Billing of each table.
   *
   * @default Billing.onDemand()
   */
  readonly billing?: dynamodb.Billing;

  /**
   * Point-in-time recovery of the tables.
   *
   * @default true
   */
  readonly pointInTimeRecovery?: boolean;

  /**
   * Deletion protection of the tables.
   *
   * @default true, unless `removalPolicy` is `DESTROY`
   */
  readonly deletionProtection?: boolean;

  /**
   * What happens to the tables, the archive bucket and a created KMS key when they leave the stack
   * or the stack is deleted. `DESTROY` suits throwaway test stacks (a bucket must be empty first).
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;

  /**
   * Encryption at rest of the tables and the archive.
   *
   * @default { type: 'aws-owned' }
   */
  readonly encryption?: TributaryEncryption;

  /**
   * Other regions holding a replica of the tables (DynamoDB global tables) and of the archive (S3
   * replication into `replicaArchiveBuckets`). Each topic has one home region that takes its
   * appends; the other regions serve reads.
   *
   * @default - single region
   */
  readonly replicaRegions?: readonly string[];

  /**
   * The versioned bucket in each replica region that receives the archive's objects, keyed by
   * region (for example the `archive.bucket` of a `TributaryReplicaStack` per region). Exactly the
   * regions of `replicaRegions`.
   *
   * @default - none; required for every replica region
   */
  readonly replicaArchiveBuckets?: Readonly<Record<string, s3.IBucket>>;

  /**
   * The global tables' consistency mode: `eventual` (MREC, each topic appended in its home region)
   * or `strong` (MRSC: three regions of one region set — the stack's region and two
   * `replicaRegions`, or one and a `witnessRegion` — appends safe from any region, no transactions,
   * no TTL). See {@link TributaryTablesProps.multiRegionConsistency} and `docs/deploy.md`.
   *
   * @default 'eventual'
   */
  readonly multiRegionConsistency?: 'eventual' | 'strong';

  /**
   * With `multiRegionConsistency: 'strong'` and one replica region: the quorum's third region,
   * which holds no replica (and gets no archive replica).
   *
   * @default - none
   */
  readonly witnessRegion?: string;

  /**
   * When the archiver runs.
   *
   * @default events.Schedule.rate(Duration.minutes(1))
   */
  readonly archiveSchedule?: events.Schedule;

  /**
   * When the trigger dispatcher sweeps for due partitions (catch-up after backoffs, lost doorbells,
   * crashed workers; see {@link TributaryDispatcher}).
   *
   * @default events.Schedule.rate(Duration.minutes(1))
   */
  readonly triggerSweepSchedule?: events.Schedule;

  /**
   * Request rate limits of the HTTP API's stage.
   *
   * @default - { rateLimit: 1000, burstLimit: 2000 }
   */
  readonly apiThrottle?: apigwv2.ThrottleSettings;

  /**
   * Log level of the functions.
   *
   * @default 'INFO'
   */
  readonly logLevel?: LogLevel;

  /**
   * Retention of the functions' logs and the API's access logs.
   *
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * Bucket for S3 server access logs of the archive.
   *
   * @default - no server access logs
   */
  readonly serverAccessLogsBucket?: s3.IBucket;

  /**
   * A Kafka wire-protocol gateway for these tables ({@link TributaryGateway}: ECS Fargate behind a
   * Network Load Balancer), with these settings. Not free when idle: see `docs/deploy.md`.
   *
   * @default - no gateway
   */
  readonly gateway?: Omit<TributaryGatewayProps, 'tables' | 'archive'>;
}

/** What a principal may do; each grant method is one of these. */
type Access =
  | { readonly kind: 'produce'; readonly topic: string | undefined }
  | { readonly kind: 'consume'; readonly topic: string | undefined; readonly group: string | undefined }
  | { readonly kind: 'admin' };

/**
 * Tributary: the log, topic and group tables, the S3 archive, the SigV4-authorized HTTP API, the
 * scheduled archiver and the trigger dispatcher, wired together.
 *
 * An application is given access with {@link grantProduce}, {@link grantConsume} or
 * {@link grantAdmin}. Each grant covers both ways to reach Tributary — the SDK's direct transport
 * (DynamoDB and S3 with the application's own credentials) and its HTTP transport (the API) — so a
 * role works with either. Grants for one topic are scoped by `dynamodb:LeadingKeys` (`<topic>:*` on
 * the log, the name on the registry), the archive key prefix `<topic>/` and the topic's path in
 * the API's `execute-api` ARNs; a group by its key in the groups table and its API paths.
 */
export class Tributary extends Construct {
  /** The tables. */
  public readonly tables: TributaryTables;
  /** The S3 archive. */
  public readonly archive: ArchiveBucket;
  /** The HTTP API. */
  public readonly api: TributaryApi;
  /** The scheduled archiver. */
  public readonly archiver: TributaryArchiver;
  /**
   * The trigger dispatcher: delivers topics to Lambda functions (triggers). Add triggers with
   * `fn.addEventSource(new TributaryEventSource(tributary, props))`.
   */
  public readonly dispatcher: TributaryDispatcher;
  /** The customer managed key of the tables and the archive, when `encryption` is customer managed. */
  public readonly encryptionKey?: kms.IKey;
  /** The Kafka wire-protocol gateway, when `gateway` is given. */
  public readonly gateway?: TributaryGateway;

  constructor(scope: Construct, id: string, props: TributaryProps = {}) {
    super(scope, id);
    const replicaRegions = [...(props.replicaRegions ?? [])];
    const replicaBuckets = props.replicaArchiveBuckets ?? {};
    validateReplicaBuckets(replicaRegions, replicaBuckets);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const encryption = props.encryption ?? { type: 'aws-owned' };

    const replicaKeyArns = encryption.type === 'customer-managed' ? (encryption.replicaKeyArns ?? {}) : {};
    if (encryption.type === 'customer-managed') {
      this.encryptionKey =
        encryption.key ??
        new kms.Key(this, 'Key', {
          description: 'Tributary tables and archive',
          enableKeyRotation: true,
          removalPolicy,
        });
    }

    this.tables = new TributaryTables(this, 'Tables', {
      ...(props.billing ? { billing: props.billing } : {}),
      ...(props.pointInTimeRecovery !== undefined ? { pointInTimeRecovery: props.pointInTimeRecovery } : {}),
      ...(props.deletionProtection !== undefined ? { deletionProtection: props.deletionProtection } : {}),
      removalPolicy,
      ...(this.encryptionKey ? { encryptionKey: this.encryptionKey, replicaKeyArns } : {}),
      replicaRegions,
      ...(props.multiRegionConsistency ? { multiRegionConsistency: props.multiRegionConsistency } : {}),
      ...(props.witnessRegion ? { witnessRegion: props.witnessRegion } : {}),
    });

    const destinations: ArchiveReplicationDestination[] = replicaRegions.map((region) => {
      const keyArn = replicaKeyArns[region];
      return {
        bucket: replicaBuckets[region] as s3.IBucket,
        ...(keyArn ? { encryptionKey: kms.Key.fromKeyArn(this, `ReplicaKey-${region}`, keyArn) } : {}),
      };
    });
    this.archive = new ArchiveBucket(this, 'Archive', {
      ...(this.encryptionKey ? { encryptionKey: this.encryptionKey } : {}),
      removalPolicy,
      replicationDestinations: destinations,
      ...(props.serverAccessLogsBucket ? { serverAccessLogsBucket: props.serverAccessLogsBucket } : {}),
    });

    const functionProps = {
      tables: this.tables,
      archive: this.archive,
      ...(props.logLevel ? { logLevel: props.logLevel } : {}),
      ...(props.logRetention ? { logRetention: props.logRetention } : {}),
    };
    this.api = new TributaryApi(this, 'Api', {
      ...functionProps,
      ...(props.apiThrottle ? { throttle: props.apiThrottle } : {}),
    });
    this.archiver = new TributaryArchiver(this, 'Archiver', {
      ...functionProps,
      ...(props.archiveSchedule ? { schedule: props.archiveSchedule } : {}),
    });
    this.dispatcher = new TributaryDispatcher(this, 'Dispatcher', {
      ...functionProps,
      ...(props.triggerSweepSchedule ? { sweepSchedule: props.triggerSweepSchedule } : {}),
    });
    if (props.gateway) {
      this.gateway = new TributaryGateway(this, 'Gateway', {
        ...(props.logRetention ? { logRetention: props.logRetention } : {}),
        ...props.gateway,
        tables: this.tables,
        archive: this.archive,
      });
    }
  }

  /**
   * Lets `grantee` produce to `topic`, or to every topic when omitted (but not list topics: listing
   * scans the registry, which is for admins).
   *
   * Direct transport ({@link TributaryTables.grantProduce}, {@link ArchiveBucket.grantProduce}):
   * `GetItem` of the topic's registry item; `Query`, `PutItem`, `UpdateItem` on log keys
   * `<topic>:*` (tail lookups, appends, atomic appends, two-phase appends); `s3:PutObject` of
   * large batches under `<topic>/.../claims/`; KMS encrypt/decrypt with a customer managed key.
   *
   * HTTP transport ({@link TributaryApi.grantProduce}): `execute-api:Invoke` on the API
   * description, `GET /v1/topics/<topic>` and `POST /v1/topics/<topic>/records`.
   */
  public grantProduce(grantee: iam.IGrantable, topic?: string): iam.Grant {
    return this.grant(grantee, { kind: 'produce', topic });
  }

  /**
   * Lets `grantee` consume `topic` (every topic when omitted) in consumer group `group` (every
   * group when omitted). Listing topics or groups is not included (admin).
   *
   * Direct transport ({@link TributaryTables.grantConsume}, {@link ArchiveBucket.grantConsume}):
   * `GetItem` of the topic's registry item; `GetItem`, `Query` and `UpdateItem` (voiding abandoned
   * two-phase appends) on log keys `<topic>:*`; `Query`, `PutItem`, `UpdateItem`, `DeleteItem`,
   * `BatchWriteItem` on the group's items (membership, leases, fenced offset commits);
   * `s3:GetObject` under `<topic>/` (archived segments, large batches); KMS encrypt/decrypt with a
   * customer managed key.
   *
   * HTTP transport ({@link TributaryApi.grantConsume}): `execute-api:Invoke` on the API
   * description, the topic's describe, fetch and offsets routes, and the group's routes (join,
   * heartbeat, leave, commit, fetch as a member, describe).
   *
   * To commit offsets in the same transaction as a produce (consume-transform-produce), grant both
   * this and {@link grantProduce} for the output topic.
   */
  public grantConsume(grantee: iam.IGrantable, topic?: string, group?: string): iam.Grant {
    return this.grant(grantee, { kind: 'consume', topic, group });
  }

  /**
   * Lets `grantee` administer Tributary: create, alter, grow and delete topics, list and delete
   * groups, reset offsets, manage triggers, and everything producers and consumers may do, on every
   * topic and group. Includes `Scan` of the tables (listing), deleting archive objects (purging
   * deleted topics), every route of the API, and `lambda:GetFunctionConfiguration` on the functions of the
   * stack's account and region (creating a trigger on the direct transport checks that its function
   * exists; triggers are items of the topic registry, covered by the table grants). No table or
   * bucket management actions.
   *
   * It does not let the dispatcher invoke the functions such an admin's triggers name: grant that
   * per function with `dispatcher.grantInvokeTarget(fn)` (a `TributaryEventSource` does it itself).
   */
  public grantAdmin(grantee: iam.IGrantable): iam.Grant {
    return this.grant(grantee, { kind: 'admin' });
  }

  /** The one place grants are composed: the direct-transport and the HTTP parts of `access`. */
  private grant(grantee: iam.IGrantable, access: Access): iam.Grant {
    switch (access.kind) {
      case 'produce':
        return this.tables
          .grantProduce(grantee, access.topic)
          .combine(this.archive.grantProduce(grantee, access.topic))
          .combine(this.api.grantProduce(grantee, access.topic));
      case 'consume':
        return this.tables
          .grantConsume(grantee, access.topic, access.group)
          .combine(this.archive.grantConsume(grantee, access.topic))
          .combine(this.api.grantConsume(grantee, access.topic, access.group));
      case 'admin':
        return this.tables
          .grantAdmin(grantee)
          .combine(this.archive.grantAdmin(grantee))
          .combine(this.api.grantAdmin(grantee))
          .combine(grantFunctionLookup(this, grantee));
    }
  }
}

function validateReplicaBuckets(
  replicaRegions: readonly string[],
  replicaBuckets: Readonly<Record<string, s3.IBucket>>,
): void {
  for (const region of replicaRegions) validateRegion('replicaRegions', region);
  const missing = replicaRegions.filter((region) => !replicaBuckets[region]);
  if (missing.length > 0) {
    throw new Error(
      `Tributary: replicaArchiveBuckets has no bucket for replica region(s) ${missing.join(', ')}; ` +
        'every replica region needs a versioned archive bucket in that region (see TributaryReplicaStack)',
    );
  }
  for (const [region, bucket] of Object.entries(replicaBuckets)) {
    if (!replicaRegions.includes(region)) {
      throw new Error(
        `Tributary: replicaArchiveBuckets has a bucket for ${region}, which is not in replicaRegions ` +
          `(${replicaRegions.join(', ') || 'none'})`,
      );
    }
    const bucketRegion = bucket.env.region;
    if (!Token.isUnresolved(bucketRegion) && bucketRegion !== region) {
      throw new Error(
        `Tributary: replicaArchiveBuckets["${region}"] is a bucket in ${bucketRegion}; it must be in ${region}`,
      );
    }
  }
}
