/**
 * The per-region part of a multi-region Tributary: the archive bucket that receives the home
 * stack's S3 replication. (The table replicas belong to the home stack's global tables.)
 */
import { CfnOutput, PhysicalName, type RemovalPolicy, Stack, type StackProps, Token } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { ArchiveBucket } from './archive-bucket.ts';

/** Properties of {@link TributaryReplicaStack}. */
export interface TributaryReplicaStackProps extends StackProps {
  /**
   * ARN of the customer managed KMS key in this region that encrypts the replicas; the same ARN
   * the home stack lists in `encryption.replicaKeyArns` for this region.
   *
   * @default - S3-managed keys (SSE-S3); use only with `encryption: { type: 'aws-owned' }`
   */
  readonly encryptionKeyArn?: string;

  /**
   * What happens to the bucket when it leaves the stack or the stack is deleted.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;

  /**
   * Bucket for S3 server access logs of the replica archive.
   *
   * @default - no server access logs
   */
  readonly serverAccessLogsBucket?: s3.IBucket;
}

/**
 * A stack in a replica region with a versioned {@link ArchiveBucket} that the home region's archive
 * replicates into. Deploy it before the home `TributaryStack` and pass `archive.bucket` as the
 * region's entry of `replicaArchiveBuckets`: within one CDK app, CDK gives the bucket a generated
 * physical name that the home stack can refer to across regions. Needs a concrete `env`.
 */
export class TributaryReplicaStack extends Stack {
  /** The replica archive. */
  public readonly archive: ArchiveBucket;

  constructor(scope: Construct, id: string, props: TributaryReplicaStackProps = {}) {
    super(scope, id, { description: 'Tributary archive replica', ...props });
    if (Token.isUnresolved(this.region) || Token.isUnresolved(this.account)) {
      throw new Error(
        `TributaryReplicaStack ${id}: env must name an account and a region (got ${this.account}/${this.region}); ` +
          'the home stack refers to this bucket across regions',
      );
    }
    this.archive = new ArchiveBucket(this, 'Archive', {
      // The home stack refers to this bucket from another region: CDK derives a name for it.
      bucketName: PhysicalName.GENERATE_IF_NEEDED,
      versioned: true,
      ...(props.encryptionKeyArn
        ? { encryptionKey: kms.Key.fromKeyArn(this, 'Key', props.encryptionKeyArn) }
        : {}),
      ...(props.removalPolicy ? { removalPolicy: props.removalPolicy } : {}),
      ...(props.serverAccessLogsBucket ? { serverAccessLogsBucket: props.serverAccessLogsBucket } : {}),
    });
    new CfnOutput(this, 'ArchiveBucketName', {
      value: this.archive.bucket.bucketName,
      description: 'Replica archive bucket',
    });
  }
}
