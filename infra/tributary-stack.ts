/**
 * A CloudFormation stack holding one Tributary deployment, with the outputs an application needs
 * to reach it (the API URL, the table names, the bucket name).
 */
import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import { Tributary, type TributaryProps } from './tributary.ts';

/** Properties of {@link TributaryStack}: a stack's, plus a {@link Tributary}'s. */
export interface TributaryStackProps extends StackProps, TributaryProps {}

/**
 * A stack with one {@link Tributary}. Its outputs are `ApiUrl` (for the SDK's `http` transport),
 * `LogTableName`, `TopicsTableName`, `GroupsTableName` and `ArchiveBucketName` (for the `direct`
 * transport). The grant methods are the {@link Tributary}'s.
 *
 * With `replicaRegions`, the stack needs a concrete `env` (account and region) and an archive
 * bucket per replica region (`replicaArchiveBuckets`, e.g. from a `TributaryReplicaStack`).
 */
export class TributaryStack extends Stack {
  /** The deployment. */
  public readonly tributary: Tributary;

  constructor(scope: Construct, id: string, props: TributaryStackProps = {}) {
    super(scope, id, {
      description: 'Tributary: Kafka-style event streaming on DynamoDB, S3, Lambda and API Gateway',
      ...props,
    });
    this.tributary = new Tributary(this, 'Tributary', props);
    const { tables, archive, api } = this.tributary;

    new CfnOutput(this, 'ApiUrl', {
      value: api.url,
      description: "Endpoint of the SDK's http transport: new Tributary({ transport: 'http', endpoint })",
    });
    new CfnOutput(this, 'LogTableName', {
      value: tables.tableNames.log,
      description: 'Log table (tables.log)',
    });
    new CfnOutput(this, 'TopicsTableName', {
      value: tables.tableNames.topics,
      description: 'Topic registry table (tables.topics)',
    });
    new CfnOutput(this, 'GroupsTableName', {
      value: tables.tableNames.groups,
      description: 'Consumer groups table (tables.groups)',
    });
    new CfnOutput(this, 'ArchiveBucketName', {
      value: archive.bucket.bucketName,
      description: 'Archive bucket (bucket)',
    });
  }

  /** See {@link Tributary.grantProduce}. */
  public grantProduce(grantee: iam.IGrantable, topic?: string): iam.Grant {
    return this.tributary.grantProduce(grantee, topic);
  }

  /** See {@link Tributary.grantConsume}. */
  public grantConsume(grantee: iam.IGrantable, topic?: string, group?: string): iam.Grant {
    return this.tributary.grantConsume(grantee, topic, group);
  }

  /** See {@link Tributary.grantAdmin}. */
  public grantAdmin(grantee: iam.IGrantable): iam.Grant {
    return this.tributary.grantAdmin(grantee);
  }
}
