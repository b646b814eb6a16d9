/**
 * The S3 archive: segments of archived batches and large batches stored by claim check, under
 * `<topic>/<incarnation>/<partition>/` (see `sdk/src/keys.ts`).
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { acknowledge, acknowledgeWildcardResource } from './nag.ts';
import { validateTopicName, validateWholeDays } from './validation.ts';

/** A bucket in another region that receives a copy of every archive object. */
export interface ArchiveReplicationDestination {
  /**
   * The destination bucket, with versioning on: a {@link ArchiveBucket} of a
   * `TributaryReplicaStack` in that region (CDK resolves its generated name across regions), or an
   * existing bucket imported with `Bucket.fromBucketAttributes(this, id, { bucketName, region })`.
   */
  readonly bucket: s3.IBucket;

  /**
   * KMS key in the destination's region that encrypts the replicas. Required when the archive
   * itself uses a customer managed key.
   *
   * @default - the destination bucket's default encryption
   */
  readonly encryptionKey?: kms.IKey;
}

/** Properties of {@link ArchiveBucket}. */
export interface ArchiveBucketProps {
  /**
   * Physical name of the bucket. A replication destination in another region, referred to by the
   * home stack in the same CDK app, takes `PhysicalName.GENERATE_IF_NEEDED` (CDK then derives a
   * unique name at synthesis).
   *
   * @default - a name CloudFormation generates
   */
  readonly bucketName?: string;

  /**
   * Customer managed KMS key for the objects (SSE-KMS with an S3 Bucket Key, which keeps KMS request
   * charges low). Grants made by this construct then include the matching `kms:` permissions.
   *
   * @default - S3-managed keys (SSE-S3)
   */
  readonly encryptionKey?: kms.IKey;

  /**
   * What happens to the bucket when it leaves the stack or the stack is deleted. CloudFormation
   * cannot delete a bucket that still holds objects.
   *
   * @default RemovalPolicy.RETAIN — the archive outlives the stack
   */
  readonly removalPolicy?: RemovalPolicy;

  /**
   * Whether the bucket keeps object versions. S3 replication needs versioning on both sides, so a
   * bucket that replicates or receives replicas must be versioned.
   *
   * @default - versioned only when `replicationDestinations` are given
   */
  readonly versioned?: boolean;

  /**
   * How long an incomplete multipart upload (an archiver run that died mid-upload) may keep its
   * parts before S3 aborts it. Whole days.
   *
   * @default Duration.days(2)
   */
  readonly abortIncompleteMultipartUploadAfter?: Duration;

  /**
   * In a versioned bucket: how long an object version stays after it was overwritten or deleted
   * (retention deletes segments, which only hides them in a versioned bucket). Whole days. Expired
   * delete markers are removed too.
   *
   * @default Duration.days(7) when versioned; not applicable otherwise
   */
  readonly noncurrentVersionExpiration?: Duration;

  /**
   * Bucket that receives S3 server access logs of the archive.
   *
   * @default - no server access logs; the acknowledged cdk-nag rule AwsSolutions-S1 says why
   */
  readonly serverAccessLogsBucket?: s3.IBucket;

  /**
   * Key prefix of the server access logs in `serverAccessLogsBucket`.
   *
   * @default - no prefix
   */
  readonly serverAccessLogsPrefix?: string;

  /**
   * Buckets in other regions that receive every object (S3 Cross-Region Replication), including
   * delete markers, so each region of a multi-region deployment reads archived segments locally.
   * The replication role is created here.
   *
   * @default - no replication
   */
  readonly replicationDestinations?: readonly ArchiveReplicationDestination[];
}

/** KMS actions for reading and for writing encrypted objects. */
const KMS_READ = ['kms:Decrypt'] as const;
const KMS_WRITE = ['kms:Decrypt', 'kms:GenerateDataKey'] as const;

/** Actions of the archiver and of admins on objects (a multipart upload is `PutObject` requests). */
const OBJECT_ADMIN = ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload'] as const;

/**
 * The archive bucket: private (all public access blocked, bucket-owner-enforced ownership), TLS
 * only, encrypted at rest (SSE-S3 or a customer managed key), with lifecycle rules for incomplete
 * uploads and (when versioned) old versions.
 *
 * There is deliberately no expiration rule: retention is per topic (`retention.ms`,
 * `retention.bytes`) and the archiver applies it, deleting whole segments and moving the
 * partition's log start first, so a reader never finds a segment missing that the log still lists.
 *
 * Grants are scoped to a topic's key prefix `<topic>/`: consumers read `<topic>/*`, producers may
 * only write large-batch objects under `<topic>/<incarnation>/<partition>/claims/`.
 */
export class ArchiveBucket extends Construct {
  /** The bucket. */
  public readonly bucket: s3.Bucket;
  /** The customer managed key of the objects, if any. */
  public readonly encryptionKey?: kms.IKey;
  /** The role S3 replication runs as, when there are replication destinations. */
  public readonly replicationRole?: iam.Role;

  constructor(scope: Construct, id: string, props: ArchiveBucketProps = {}) {
    super(scope, id);
    const destinations = props.replicationDestinations ?? [];
    const versioned = props.versioned ?? destinations.length > 0;
    if (destinations.length > 0 && !versioned) {
      throw new Error(
        'ArchiveBucket: versioned is false but replicationDestinations are given; S3 replication needs versioning',
      );
    }
    if (props.noncurrentVersionExpiration && !versioned) {
      throw new Error(
        `ArchiveBucket: noncurrentVersionExpiration (${props.noncurrentVersionExpiration.toHumanString()}) only applies to a versioned bucket; set versioned to true or drop it`,
      );
    }
    if (props.serverAccessLogsPrefix !== undefined && !props.serverAccessLogsBucket) {
      throw new Error(
        `ArchiveBucket: serverAccessLogsPrefix "${props.serverAccessLogsPrefix}" given without serverAccessLogsBucket`,
      );
    }
    const abortAfter = props.abortIncompleteMultipartUploadAfter ?? Duration.days(2);
    validateWholeDays('abortIncompleteMultipartUploadAfter', abortAfter);
    const noncurrentExpiration = props.noncurrentVersionExpiration ?? Duration.days(7);
    validateWholeDays('noncurrentVersionExpiration', noncurrentExpiration);
    if (props.encryptionKey) {
      const unkeyed = destinations.filter((d) => !d.encryptionKey).map((d) => d.bucket.env.region);
      if (unkeyed.length > 0) {
        throw new Error(
          `ArchiveBucket: replicationDestinations in ${unkeyed.join(', ')} have no encryptionKey; ` +
            'with a customer managed key on the archive, every destination needs a KMS key in its region',
        );
      }
    }

    this.encryptionKey = props.encryptionKey;
    // Our own role rather than the one s3.Bucket would create, which has a fixed name
    // (CDKReplicationRole) unless a feature flag is set, and wildcard KMS actions.
    const replicationRole =
      destinations.length > 0
        ? new iam.Role(this, 'ReplicationRole', {
            assumedBy: new iam.ServicePrincipal('s3.amazonaws.com'),
            description: 'S3 replication of the Tributary archive',
          })
        : undefined;
    this.replicationRole = replicationRole;
    this.bucket = new s3.Bucket(this, 'Bucket', {
      ...(props.bucketName !== undefined ? { bucketName: props.bucketName } : {}),
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      ...(props.encryptionKey
        ? { encryption: s3.BucketEncryption.KMS, encryptionKey: props.encryptionKey, bucketKeyEnabled: true }
        : { encryption: s3.BucketEncryption.S3_MANAGED }),
      versioned,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
      lifecycleRules: [
        { id: 'abort-incomplete-multipart-uploads', abortIncompleteMultipartUploadAfter: abortAfter },
        ...(versioned
          ? [
              {
                id: 'expire-noncurrent-versions',
                noncurrentVersionExpiration: noncurrentExpiration,
                expiredObjectDeleteMarker: true,
              },
            ]
          : []),
      ],
      ...(props.serverAccessLogsBucket
        ? {
            serverAccessLogsBucket: props.serverAccessLogsBucket,
            ...(props.serverAccessLogsPrefix ? { serverAccessLogsPrefix: props.serverAccessLogsPrefix } : {}),
          }
        : {}),
      ...(replicationRole
        ? {
            replicationRole,
            replicationRules: destinations.map((destination, index) => ({
              id: `replica-${index}`,
              destination: destination.bucket,
              priority: index,
              filter: { prefix: '' },
              deleteMarkerReplication: true,
              ...(props.encryptionKey ? { sseKmsEncryptedObjects: true } : {}),
              ...(destination.encryptionKey ? { kmsKey: destination.encryptionKey } : {}),
            })),
          }
        : {}),
    });

    if (!props.serverAccessLogsBucket) {
      acknowledge(
        this.bucket,
        'AwsSolutions-S1',
        'Server access logs are opt-in (serverAccessLogsBucket): the archive is written only by the archiver ' +
          'and read through IAM-scoped grants, and per-request logs of every segment read would cost more than ' +
          'the reads; CloudTrail data events are the audit trail where one is required.',
      );
    }
    if (replicationRole) this.grantReplication(replicationRole, destinations);
  }

  /**
   * Lets `grantee` store large batches by claim check for `topic` (every topic when omitted):
   * `s3:PutObject` on `<topic>/<incarnation>/<partition>/claims/...` only (the policy resource is
   * `<topic>/` + `*` + `/claims/` + `*`), so producers can never overwrite segments; and, with
   * a customer managed key, `kms:GenerateDataKey` and `kms:Decrypt`.
   */
  public grantProduce(grantee: iam.IGrantable, topic?: string): iam.Grant {
    if (topic !== undefined) validateTopicName('topic', topic);
    return this.grant(
      grantee,
      ['s3:PutObject'],
      this.bucket.arnForObjects(`${topic ?? '*'}/*/claims/*`),
      KMS_WRITE,
    );
  }

  /**
   * Lets `grantee` read `topic`'s archive (every topic when omitted): `s3:GetObject` on `<topic>/*`
   * (segments, indexes, large batches) and, with a customer managed key, `kms:Decrypt`.
   *
   * Without a topic it also grants `s3:ListBucket`, so that S3 answers a read of a missing object
   * (a segment that retention just deleted) with 404 `NoSuchKey`, which the SDK handles by
   * re-reading the partition's bounds. A topic-scoped grant leaves listing out — it would reveal
   * every topic's name — and S3 then answers such reads with 403 `AccessDenied`.
   */
  public grantConsume(grantee: iam.IGrantable, topic?: string): iam.Grant {
    if (topic !== undefined) validateTopicName('topic', topic);
    const read = this.grant(
      grantee,
      ['s3:GetObject'],
      this.bucket.arnForObjects(`${topic ?? '*'}/*`),
      KMS_READ,
    );
    if (topic !== undefined) return read;
    return read.combine(this.grant(grantee, ['s3:ListBucket'], this.bucket.bucketArn, []));
  }

  /**
   * Lets `grantee` run the archiver: read, write and delete every object (segments, indexes,
   * large batches), abort its own failed multipart uploads, and list the bucket (finding orphaned
   * large-batch objects); with a customer managed key, `kms:GenerateDataKey` and `kms:Decrypt`.
   */
  public grantArchive(grantee: iam.IGrantable): iam.Grant {
    return this.grantAll(grantee);
  }

  /**
   * Lets `grantee` administer the archive: what {@link grantArchive} allows, which deleting a topic
   * needs (its purge lists and deletes the topic's objects).
   */
  public grantAdmin(grantee: iam.IGrantable): iam.Grant {
    return this.grantAll(grantee);
  }

  private grantAll(grantee: iam.IGrantable): iam.Grant {
    return this.grant(grantee, OBJECT_ADMIN, this.bucket.arnForObjects('*'), KMS_WRITE).combine(
      this.grant(grantee, ['s3:ListBucket'], this.bucket.bucketArn, []),
    );
  }

  /**
   * What S3 replication needs: read the replication configuration and every object version of this
   * bucket, replicate objects, deletes and tags into each destination, and (with customer managed
   * keys) decrypt with this bucket's key and encrypt with each destination's.
   */
  private grantReplication(role: iam.Role, destinations: readonly ArchiveReplicationDestination[]): void {
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetReplicationConfiguration', 's3:ListBucket'],
        resources: [this.bucket.bucketArn],
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: [
          's3:GetObjectVersionForReplication',
          's3:GetObjectVersionAcl',
          's3:GetObjectVersionTagging',
        ],
        resources: [this.bucket.arnForObjects('*')],
      }),
    );
    const destinationObjects = destinations.map((d) => d.bucket.arnForObjects('*'));
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['s3:ReplicateObject', 's3:ReplicateDelete', 's3:ReplicateTags'],
        resources: destinationObjects,
      }),
    );
    this.encryptionKey?.grant(role, 'kms:Decrypt');
    for (const destination of destinations)
      destination.encryptionKey?.grant(role, 'kms:Encrypt', 'kms:GenerateDataKey');
    for (const arn of [this.bucket.arnForObjects('*'), ...destinationObjects]) {
      acknowledgeWildcardResource(
        role,
        arn,
        'S3 replication copies every object of the archive: the replication role reads all object versions of ' +
          'the source bucket and writes replicas anywhere in the destination buckets (and nowhere else).',
      );
    }
  }

  /** The one place statements on the archive are made: `actions` on `resourceArn`, plus KMS. */
  private grant(
    grantee: iam.IGrantable,
    actions: readonly string[],
    resourceArn: string,
    kmsActions: readonly string[],
  ): iam.Grant {
    const grant = iam.Grant.addToPrincipal({ grantee, actions: [...actions], resourceArns: [resourceArn] });
    if (!this.encryptionKey || kmsActions.length === 0) return grant;
    return grant.combine(this.encryptionKey.grant(grantee, ...kmsActions));
  }
}
