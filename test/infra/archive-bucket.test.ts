import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { describe, expect, it } from 'vitest';
import { ArchiveBucket, type ArchiveBucketProps } from '../../infra/index.ts';
import { ENV, identityStatements, logicalId, REPLICA_KEYS, statementsOf, testApp } from './fixtures.ts';

function synth(props: (stack: Stack) => ArchiveBucketProps = () => ({})) {
  const stack = new Stack(testApp(), 'Stack', { env: ENV });
  const archive = new ArchiveBucket(stack, 'Archive', props(stack));
  return { stack, archive, template: Template.fromStack(stack) };
}

/** A destination bucket in another region, imported by name. */
function destination(stack: Stack, region: string): s3.IBucket {
  return s3.Bucket.fromBucketAttributes(stack, `Dest-${region}`, { bucketName: `replica-${region}`, region });
}

describe('ArchiveBucket', () => {
  const { stack, archive, template } = synth();
  const bucketId = logicalId(stack, archive.bucket);

  it('is private, TLS-only, SSE-S3 encrypted, retained and unnamed by default', () => {
    template.hasResource('AWS::S3::Bucket', {
      DeletionPolicy: 'Retain',
      Properties: {
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
        },
        BucketName: Match.absent(),
        VersioningConfiguration: Match.absent(),
        ReplicationConfiguration: Match.absent(),
      },
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('aborts incomplete multipart uploads and has no expiration rule (retention is per topic)', () => {
    const rules = (template.toJSON().Resources[bucketId].Properties.LifecycleConfiguration.Rules ??
      []) as Record<string, unknown>[];
    expect(rules).toEqual([
      {
        Id: 'abort-incomplete-multipart-uploads',
        AbortIncompleteMultipartUpload: { DaysAfterInitiation: 2 },
        Status: 'Enabled',
      },
    ]);
  });

  it('encrypts with a customer managed key and a bucket key when given one', () => {
    const { stack: s, template: t } = synth((scope) => ({
      encryptionKey: new kms.Key(scope, 'Key', { enableKeyRotation: true }),
    }));
    const keyId = logicalId(s, s.node.findChild('Key') as kms.Key);
    t.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          {
            BucketKeyEnabled: true,
            ServerSideEncryptionByDefault: {
              SSEAlgorithm: 'aws:kms',
              KMSMasterKeyID: { 'Fn::GetAtt': [keyId, 'Arn'] },
            },
          },
        ],
      },
    });
  });

  it('replicates to destination buckets with its own role, versioning and noncurrent-version expiry', () => {
    const {
      stack: s,
      archive: a,
      template: t,
    } = synth((scope) => ({
      replicationDestinations: [
        { bucket: destination(scope, 'eu-west-1') },
        { bucket: destination(scope, 'us-west-2') },
      ],
    }));
    t.hasResourceProperties('AWS::S3::Bucket', {
      VersioningConfiguration: { Status: 'Enabled' },
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          Match.objectLike({
            NoncurrentVersionExpiration: { NoncurrentDays: 7 },
            ExpiredObjectDeleteMarker: true,
          }),
        ]),
      },
      ReplicationConfiguration: {
        Role: { 'Fn::GetAtt': [logicalId(s, a.replicationRole as iam.Role), 'Arn'] },
        Rules: [
          Match.objectLike({
            Priority: 0,
            Status: 'Enabled',
            DeleteMarkerReplication: { Status: 'Enabled' },
            Destination: {
              Bucket: Match.objectLike({ 'Fn::Join': ['', Match.arrayWith([':s3:::replica-eu-west-1'])] }),
            },
          }),
          Match.objectLike({ Priority: 1 }),
        ],
      },
    });
    const statements = statementsOf(t, s, a.replicationRole as iam.Role);
    expect(statements.flatMap((st) => st.actions).sort()).toEqual(
      [
        's3:GetObjectVersionAcl',
        's3:GetObjectVersionForReplication',
        's3:GetObjectVersionTagging',
        's3:GetReplicationConfiguration',
        's3:ListBucket',
        's3:ReplicateDelete',
        's3:ReplicateObject',
        's3:ReplicateTags',
      ].sort(),
    );
    const replicate = statements.find((st) => st.actions.includes('s3:ReplicateObject'));
    expect(replicate?.resources).toEqual([
      'arn:<AWS::Partition>:s3:::replica-eu-west-1/*',
      'arn:<AWS::Partition>:s3:::replica-us-west-2/*',
    ]);
    expect(
      t.toJSON().Resources[logicalId(s, a.replicationRole as iam.Role)].Properties.RoleName,
    ).toBeUndefined();
  });

  it('replicates KMS-encrypted objects into each destination key', () => {
    const {
      stack: s,
      archive: a,
      template: t,
    } = synth((scope) => ({
      encryptionKey: new kms.Key(scope, 'Key', { enableKeyRotation: true }),
      replicationDestinations: [
        {
          bucket: destination(scope, 'eu-west-1'),
          encryptionKey: kms.Key.fromKeyArn(scope, 'EuKey', REPLICA_KEYS['eu-west-1']),
        },
      ],
    }));
    t.hasResourceProperties('AWS::S3::Bucket', {
      ReplicationConfiguration: {
        Rules: [
          Match.objectLike({
            SourceSelectionCriteria: { SseKmsEncryptedObjects: { Status: 'Enabled' } },
            Destination: Match.objectLike({
              EncryptionConfiguration: { ReplicaKmsKeyID: REPLICA_KEYS['eu-west-1'] },
            }),
          }),
        ],
      },
    });
    const kmsStatements = statementsOf(t, s, a.replicationRole as iam.Role).filter((st) =>
      st.actions.some((action) => action.startsWith('kms:')),
    );
    expect(kmsStatements.map((st) => [st.actions, st.resources])).toEqual([
      [['kms:Decrypt'], [`<${logicalId(s, s.node.findChild('Key') as kms.Key)}.Arn>`]],
      [['kms:Encrypt', 'kms:GenerateDataKey'], [REPLICA_KEYS['eu-west-1']]],
    ]);
  });

  it('grants topic-scoped object access: consumers read <topic>/*, producers write only claims', () => {
    const s = new Stack(testApp(), 'Grants', { env: ENV });
    const a = new ArchiveBucket(s, 'Archive');
    const producer = new iam.Role(s, 'Producer', { assumedBy: new iam.AccountRootPrincipal() });
    const consumer = new iam.Role(s, 'Consumer', { assumedBy: new iam.AccountRootPrincipal() });
    const reader = new iam.Role(s, 'Reader', { assumedBy: new iam.AccountRootPrincipal() });
    a.grantProduce(producer, 'orders');
    a.grantConsume(consumer, 'orders');
    a.grantConsume(reader);
    const t = Template.fromStack(s);
    const bucket = `<${logicalId(s, a.bucket)}.Arn>`;
    const summary = (role: iam.Role) => statementsOf(t, s, role).map((st) => [st.actions, st.resources]);
    expect(summary(producer)).toEqual([[['s3:PutObject'], [`${bucket}/orders/*/claims/*`]]]);
    expect(summary(consumer)).toEqual([[['s3:GetObject'], [`${bucket}/orders/*`]]]);
    expect(summary(reader)).toEqual([
      [['s3:GetObject'], [`${bucket}/*/*`]],
      [['s3:ListBucket'], [bucket]],
    ]);
    expect(() => a.grantConsume(consumer, 'orders/*')).toThrow(/topic: Invalid topic name "orders\/\*"/);
  });

  it('acknowledges AwsSolutions-S1 only when no access log bucket is given', () => {
    const ack = (b: ArchiveBucket) =>
      b.bucket.node.metadata.filter((m) => JSON.stringify(m.data).includes('AwsSolutions-S1')).length;
    expect(ack(archive)).toBe(1);
    const { archive: logged, template: t } = synth((scope) => ({
      serverAccessLogsBucket: new s3.Bucket(scope, 'Logs'),
      serverAccessLogsPrefix: 'archive/',
    }));
    expect(ack(logged)).toBe(0);
    t.hasResourceProperties('AWS::S3::Bucket', { LoggingConfiguration: { LogFilePrefix: 'archive/' } });
  });

  it('rejects invalid props with messages naming the prop and the value', () => {
    expect(() =>
      synth((scope) => ({
        versioned: false,
        replicationDestinations: [{ bucket: destination(scope, 'eu-west-1') }],
      })),
    ).toThrow(/versioned is false but replicationDestinations are given/);
    expect(() => synth(() => ({ noncurrentVersionExpiration: Duration.days(3) }))).toThrow(
      /noncurrentVersionExpiration \(3 days\) only applies to a versioned bucket/,
    );
    expect(() => synth(() => ({ abortIncompleteMultipartUploadAfter: Duration.hours(5) }))).toThrow(
      /abortIncompleteMultipartUploadAfter: 5 hours is not a whole number of days/,
    );
    expect(() =>
      synth((scope) => ({
        encryptionKey: new kms.Key(scope, 'Key'),
        replicationDestinations: [{ bucket: destination(scope, 'eu-west-1') }],
      })),
    ).toThrow(/replicationDestinations in eu-west-1 have no encryptionKey/);
    expect(() => synth(() => ({ serverAccessLogsPrefix: 'x/' }))).toThrow(
      /serverAccessLogsPrefix "x\/" given without/,
    );
  });

  it('can be destroyed with the stack when asked', () => {
    const { template: t } = synth(() => ({ removalPolicy: RemovalPolicy.DESTROY }));
    t.hasResource('AWS::S3::Bucket', { DeletionPolicy: 'Delete' });
    expect(identityStatements(t)).toEqual([]);
  });
});
