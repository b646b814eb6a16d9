import { RemovalPolicy } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { DEFAULT_STACK_NAME, readAppConfig } from '../../infra/app-context.ts';
import { addDeployment } from '../../infra/deployment.ts';
import { TributaryReplicaStack } from '../../infra/index.ts';
import { ENV, logicalId, REPLICA_KEYS, testApp, tributaryStack } from './fixtures.ts';

const config = (context: Record<string, unknown>, env: NodeJS.ProcessEnv = {}) =>
  readAppConfig((key) => context[key], env);

describe('TributaryStack', () => {
  it('outputs the API URL, the table names and the bucket name', () => {
    const { stack } = tributaryStack();
    const template = Template.fromStack(stack);
    const { tables, archive } = stack.tributary;
    template.hasOutput('ApiUrl', { Value: Match.objectLike({ 'Fn::Join': Match.anyValue() }) });
    template.hasOutput('LogTableName', { Value: { Ref: logicalId(stack, tables.log) } });
    template.hasOutput('TopicsTableName', { Value: { Ref: logicalId(stack, tables.topics) } });
    template.hasOutput('GroupsTableName', { Value: { Ref: logicalId(stack, tables.groups) } });
    template.hasOutput('ArchiveBucketName', { Value: { Ref: logicalId(stack, archive.bucket) } });
  });

  it('synthesizes without an environment (no account or region needed)', () => {
    const { stack } = tributaryStack();
    expect(stack.resolve(stack.region)).toEqual({ Ref: 'AWS::Region' });
    expect(() => Template.fromStack(stack)).not.toThrow();
  });

  it('creates a rotated customer managed key for encryption customer-managed', () => {
    const { stack } = tributaryStack({ env: ENV, encryption: { type: 'customer-managed' } });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::KMS::Key', 1);
    template.hasResource('AWS::KMS::Key', {
      Properties: { EnableKeyRotation: true },
      DeletionPolicy: 'Retain',
    });
    template.allResourcesProperties('AWS::DynamoDB::GlobalTable', { SSESpecification: { SSEType: 'KMS' } });
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: { ServerSideEncryptionConfiguration: [Match.objectLike({ BucketKeyEnabled: true })] },
    });
  });

  it('rejects replicas without an archive bucket per replica region, naming the regions', () => {
    expect(() => tributaryStack({ env: ENV, replicaRegions: ['eu-west-1'] })).toThrow(
      /replicaArchiveBuckets has no bucket for replica region\(s\) eu-west-1/,
    );
  });
});

describe('the app (infra/app.ts) deployment', () => {
  it('reads context with defaults: stack Tributary, on-demand, AWS-owned keys, retain, no replicas', () => {
    const c = config({});
    expect(c.stackName).toBe(DEFAULT_STACK_NAME);
    expect(c.env).toEqual({});
    expect(c.replicaRegions).toEqual([]);
    expect(c.encryption).toEqual({ type: 'aws-owned' });
    expect(c.removalPolicy).toBe(RemovalPolicy.RETAIN);
    expect(c.archiveSchedule).toBeUndefined();
    expect(config({}, { CDK_DEFAULT_ACCOUNT: ENV.account, CDK_DEFAULT_REGION: ENV.region }).env).toEqual(ENV);
  });

  it('rejects bad context with messages naming the key and the value', () => {
    expect(() => config({ replicaRegions: 'eu-west-1' })).toThrow(
      /replicaRegions \(eu-west-1\) needs a concrete account and region/,
    );
    expect(() => config({ encryption: 'kms' })).toThrow(/Context encryption: "kms" is not allowed/);
    expect(() => config({ encryption: 'customer-managed' })).toThrow(
      /customer-managed needs a concrete region/,
    );
    expect(() => config({ billing: 'provisioned', readCapacity: '5' })).toThrow(
      /needs readCapacity and writeCapacity/,
    );
    expect(() => config({ billing: 'provisioned', readCapacity: '5', writeCapacity: 'x' })).toThrow(
      /Context writeCapacity: NaN is not allowed/,
    );
    expect(() => config({ archiveSchedule: 'every minute' })).toThrow(
      /archiveSchedule: "every minute" is not a schedule/,
    );
    expect(() => config({ removalPolicy: 'keep' })).toThrow(
      /removalPolicy: "keep" is not allowed; use retain or destroy/,
    );
    expect(() => config({ region: 'nowhere' })).toThrow(
      /Context region: "nowhere" is not an AWS region name/,
    );
    expect(() => config({ multiRegionConsistency: 'linearizable' })).toThrow(
      /Context multiRegionConsistency: expected eventual or strong, got linearizable/,
    );
    expect(() => config({ multiRegionConsistency: 'strong' })).toThrow(
      /multiRegionConsistency=strong needs a concrete account and region/,
    );
    expect(() => config({ witnessRegion: 'mars-1' })).toThrow(
      /witnessRegion: "mars-1" is not an AWS region name/,
    );
  });

  it('deploys MRSC global tables with -c multiRegionConsistency=strong, and refuses a wrong region set', () => {
    const strong = (replicaRegions: string) =>
      config({ account: ENV.account, region: ENV.region, replicaRegions, multiRegionConsistency: 'strong' });
    const { stack } = addDeployment(testApp(), strong('us-east-2,us-west-2'));
    const template = Template.fromStack(stack);
    template.allResourcesProperties('AWS::DynamoDB::GlobalTable', { MultiRegionConsistency: 'STRONG' });
    // The functions' SDK clients know the mode: appends where they run, transactions refused.
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          TRIBUTARY_REGIONS: 'us-east-1,us-east-2,us-west-2',
          TRIBUTARY_CONSISTENCY: 'strong',
        }),
      },
    });
    expect(() => addDeployment(testApp(), strong('us-east-2,eu-west-1'))).toThrow(
      /eu-west-1 not in the US region set of us-east-1/,
    );
  });

  it('builds a home stack with global tables and archive replication into one replica stack per region', () => {
    const app = testApp();
    const { stack, replicas } = addDeployment(
      app,
      config({
        stackName: 'Streams',
        account: ENV.account,
        region: ENV.region,
        replicaRegions: 'eu-west-1, us-west-2',
        encryption: 'customer-managed',
        replicaKeyArns: Object.entries(REPLICA_KEYS)
          .map(([region, arn]) => `${region}=${arn}`)
          .join(','),
        archiveSchedule: 'rate(5 minutes)',
        billing: 'provisioned',
        readCapacity: '5',
        writeCapacity: '5',
      }),
    );
    expect(stack.stackName).toBe('Streams');
    expect(replicas.map((r) => [r.stackName, r.region])).toEqual([
      ['Streams-archive-eu-west-1', 'eu-west-1'],
      ['Streams-archive-us-west-2', 'us-west-2'],
    ]);
    expect(stack.dependencies).toEqual(replicas);

    const home = Template.fromStack(stack);
    home.allResourcesProperties('AWS::DynamoDB::GlobalTable', {
      BillingMode: 'PROVISIONED',
      Replicas: Match.arrayWith([
        Match.objectLike({
          Region: 'eu-west-1',
          SSESpecification: { KMSMasterKeyId: REPLICA_KEYS['eu-west-1'] },
        }),
        Match.objectLike({
          Region: 'us-west-2',
          SSESpecification: { KMSMasterKeyId: REPLICA_KEYS['us-west-2'] },
        }),
        Match.objectLike({ Region: ENV.region }),
      ]),
    });
    home.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(5 minutes)' });
    // Every Tributary function knows the deployment's regions, home first, so its SDK client
    // routes each topic's appends to the topic's home region.
    const functions = Object.values(home.findResources('AWS::Lambda::Function')) as {
      Properties: { Environment?: { Variables?: Record<string, unknown> } };
    }[];
    const ours = functions.filter(
      (f) => f.Properties.Environment?.Variables?.TRIBUTARY_LOG_TABLE !== undefined,
    );
    expect(ours.length).toBeGreaterThanOrEqual(3);
    for (const f of ours) {
      expect(f.Properties.Environment?.Variables?.TRIBUTARY_REGIONS).toBe('us-east-1,eu-west-1,us-west-2');
    }

    const replicaNames = replicas.map(
      (r) =>
        Template.fromStack(r).toJSON().Resources[logicalId(r, r.archive.bucket)].Properties
          .BucketName as string,
    );
    for (const name of replicaNames) expect(name).toMatch(/^[a-z0-9.-]{3,63}$/);
    home.hasResourceProperties('AWS::S3::Bucket', {
      VersioningConfiguration: { Status: 'Enabled' },
      ReplicationConfiguration: {
        Rules: replicaNames.map((name, i) =>
          Match.objectLike({
            Destination: {
              Bucket: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:s3:::${name}`]] },
              EncryptionConfiguration: { ReplicaKmsKeyID: Object.values(REPLICA_KEYS)[i] },
            },
          }),
        ),
      },
    });
    for (const [i, replica] of replicas.entries()) {
      Template.fromStack(replica).hasResourceProperties('AWS::S3::Bucket', {
        VersioningConfiguration: { Status: 'Enabled' },
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [
            Match.objectLike({
              ServerSideEncryptionByDefault: {
                SSEAlgorithm: 'aws:kms',
                KMSMasterKeyID: Object.values(REPLICA_KEYS)[i],
              },
            }),
          ],
        },
      });
    }
  });

  it('refuses a replica stack without a concrete environment', () => {
    expect(() => new TributaryReplicaStack(testApp(), 'Replica')).toThrow(
      /env must name an account and a region/,
    );
  });
});
