import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kms from 'aws-cdk-lib/aws-kms';
import { describe, expect, it } from 'vitest';
import { TributaryTables, type TributaryTablesProps } from '../../infra/index.ts';
import { GROUPS_TABLE, LOG_TABLE, type TableSchema, TOPICS_TABLE } from '../../sdk/src/schema.ts';
import { ENV, logicalId, REPLICA_KEYS, testApp } from './fixtures.ts';

function synth(props: TributaryTablesProps = {}, env: { account?: string; region?: string } = {}) {
  const stack = new Stack(testApp(), 'Stack', { env });
  const tables = new TributaryTables(stack, 'Tables', props);
  return { stack, tables, template: Template.fromStack(stack) };
}

/** The key schema and attribute definitions a schema object implies. */
function keyProperties(schema: TableSchema) {
  const keys = [schema.partitionKey, ...(schema.sortKey ? [schema.sortKey] : [])];
  return {
    KeySchema: keys.map((key, i) => ({ AttributeName: key.name, KeyType: i === 0 ? 'HASH' : 'RANGE' })),
    AttributeDefinitions: keys.map((key) => ({ AttributeName: key.name, AttributeType: key.type })),
  };
}

describe('TributaryTables', () => {
  const { stack, tables, template } = synth();
  const tableResource = (table: dynamodb.TableV2) =>
    template.toJSON().Resources[logicalId(stack, table)] as {
      Properties: Record<string, unknown>;
      DeletionPolicy: string;
      UpdateReplacePolicy: string;
    };

  it('creates exactly three tables, keyed as the shared schema says', () => {
    template.resourceCountIs('AWS::DynamoDB::GlobalTable', 3);
    for (const [table, schema] of [
      [tables.log, LOG_TABLE],
      [tables.topics, TOPICS_TABLE],
      [tables.groups, GROUPS_TABLE],
    ] as const) {
      expect(tableResource(table).Properties).toMatchObject(keyProperties(schema));
    }
  });

  it("gives the log table the schema's stream and TTL attribute, and the others neither", () => {
    expect(LOG_TABLE.stream).toBe('NEW_IMAGE');
    expect(LOG_TABLE.timeToLiveAttribute).toBe('exp');
    expect(tableResource(tables.log).Properties).toMatchObject({
      StreamSpecification: { StreamViewType: LOG_TABLE.stream },
      TimeToLiveSpecification: { AttributeName: LOG_TABLE.timeToLiveAttribute, Enabled: true },
    });
    for (const table of [tables.topics, tables.groups]) {
      expect(tableResource(table).Properties.StreamSpecification).toBeUndefined();
      expect(tableResource(table).Properties.TimeToLiveSpecification).toBeUndefined();
    }
  });

  it('defaults to on-demand billing, PITR, deletion protection, RETAIN and a DynamoDB owned key', () => {
    for (const table of [tables.log, tables.topics, tables.groups]) {
      const resource = tableResource(table);
      expect(resource.Properties).toMatchObject({
        BillingMode: 'PAY_PER_REQUEST',
        SSESpecification: { SSEEnabled: false },
        Replicas: [
          {
            DeletionProtectionEnabled: true,
            PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
          },
        ],
      });
      expect(resource.DeletionPolicy).toBe('Retain');
      expect(resource.UpdateReplacePolicy).toBe('Retain');
    }
  });

  it('exposes the physical names in the TableNames shape', () => {
    expect(stack.resolve(tables.tableNames)).toEqual({
      log: { Ref: logicalId(stack, tables.log) },
      topics: { Ref: logicalId(stack, tables.topics) },
      groups: { Ref: logicalId(stack, tables.groups) },
    });
  });

  it('names no table (CloudFormation generates the names)', () => {
    for (const table of [tables.log, tables.topics, tables.groups]) {
      expect(tableResource(table).Properties.TableName).toBeUndefined();
    }
  });

  it('encrypts with a customer managed key when given one', () => {
    const keyed = new Stack(testApp(), 'Keyed', { env: ENV });
    const key = new kms.Key(keyed, 'Key', { enableKeyRotation: true });
    new TributaryTables(keyed, 'Tables', { encryptionKey: key });
    const t = Template.fromStack(keyed);
    t.allResourcesProperties('AWS::DynamoDB::GlobalTable', {
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS' },
      Replicas: [{ SSESpecification: { KMSMasterKeyId: { 'Fn::GetAtt': [logicalId(keyed, key), 'Arn'] } } }],
    });
  });

  it('adds replicas in other regions, each with its own key', () => {
    const replicated = new Stack(testApp(), 'Replicated', { env: ENV });
    const key = new kms.Key(replicated, 'Key', { enableKeyRotation: true });
    new TributaryTables(replicated, 'Tables', {
      replicaRegions: ['eu-west-1', 'us-west-2'],
      encryptionKey: key,
      replicaKeyArns: REPLICA_KEYS,
    });
    const t = Template.fromStack(replicated);
    t.allResourcesProperties('AWS::DynamoDB::GlobalTable', {
      Replicas: Match.arrayWith([
        Match.objectLike({
          Region: 'eu-west-1',
          SSESpecification: { KMSMasterKeyId: REPLICA_KEYS['eu-west-1'] },
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
          DeletionProtectionEnabled: true,
        }),
        Match.objectLike({
          Region: 'us-west-2',
          SSESpecification: { KMSMasterKeyId: REPLICA_KEYS['us-west-2'] },
        }),
        Match.objectLike({ Region: 'us-east-1' }),
      ]),
    });
    // The log keeps the schema's stream view with replicas too.
    t.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      KeySchema: keyProperties(LOG_TABLE).KeySchema,
      StreamSpecification: { StreamViewType: 'NEW_IMAGE' },
    });
  });

  it('supports provisioned billing and turning PITR and deletion protection off', () => {
    const { template: t } = synth({
      billing: dynamodb.Billing.provisioned({
        readCapacity: dynamodb.Capacity.fixed(5),
        writeCapacity: dynamodb.Capacity.autoscaled({ minCapacity: 7, maxCapacity: 70 }),
      }),
      pointInTimeRecovery: false,
      deletionProtection: false,
    });
    t.allResourcesProperties('AWS::DynamoDB::GlobalTable', {
      BillingMode: 'PROVISIONED',
      WriteProvisionedThroughputSettings: {
        WriteCapacityAutoScalingSettings: { MinCapacity: 7, MaxCapacity: 70 },
      },
      Replicas: [
        {
          ReadProvisionedThroughputSettings: { ReadCapacityUnits: 5 },
          DeletionProtectionEnabled: false,
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: false },
        },
      ],
    });
  });

  it('turns deletion protection off by default with removalPolicy DESTROY', () => {
    const { template: t } = synth({ removalPolicy: RemovalPolicy.DESTROY });
    t.allResources('AWS::DynamoDB::GlobalTable', { DeletionPolicy: 'Delete' });
    t.allResourcesProperties('AWS::DynamoDB::GlobalTable', {
      Replicas: [{ DeletionProtectionEnabled: false }],
    });
  });

  it('rejects invalid props with messages naming the prop and the value', () => {
    expect(() => synth({ removalPolicy: RemovalPolicy.DESTROY, deletionProtection: true })).toThrow(
      /removalPolicy DESTROY cannot be combined with deletionProtection true/,
    );
    expect(() => synth({ replicaRegions: ['eu-west-1'] })).toThrow(
      /replicaRegions \(eu-west-1\) need a stack with a concrete region/,
    );
    expect(() => synth({ replicaRegions: ['us-east-1'] }, ENV)).toThrow(
      /must not include the stack's own region us-east-1/,
    );
    expect(() => synth({ replicaRegions: ['Mars-1'] }, ENV)).toThrow(
      /replicaRegions: "Mars-1" is not an AWS region name/,
    );
    expect(() => synth({ replicaRegions: ['eu-west-1', 'eu-west-1'] }, ENV)).toThrow(/lists eu-west-1 twice/);
    expect(() => synth({ replicaKeyArns: REPLICA_KEYS })).toThrow(
      /replicaKeyArns .* given without encryptionKey/,
    );
    const agnostic = new Stack(testApp(), 'Agnostic');
    expect(
      () => new TributaryTables(agnostic, 'Tables', { encryptionKey: new kms.Key(agnostic, 'Key') }),
    ).toThrow(/encryptionKey needs a stack with a concrete region/);
    const stack = new Stack(testApp(), 'Keyed', { env: ENV });
    const key = new kms.Key(stack, 'Key');
    expect(
      () =>
        new TributaryTables(stack, 'Tables', {
          encryptionKey: key,
          replicaRegions: ['eu-west-1', 'us-west-2'],
          replicaKeyArns: { 'eu-west-1': REPLICA_KEYS['eu-west-1'] },
        }),
    ).toThrow(/replicaKeyArns has no key for replica region\(s\) us-west-2/);
  });

  describe('multi-region strong consistency (MRSC)', () => {
    const strong = (props: TributaryTablesProps, region = 'us-east-1') =>
      synth({ multiRegionConsistency: 'strong', ...props }, { account: ENV.account, region });

    it('makes three-region MRSC global tables without TTL', () => {
      const { template: t, tables: strongTables } = strong({ replicaRegions: ['us-east-2', 'us-west-2'] });
      expect(strongTables.multiRegionConsistency).toBe('strong');
      const resources = Object.values(t.findResources('AWS::DynamoDB::GlobalTable')) as {
        Properties: Record<string, unknown>;
      }[];
      expect(resources).toHaveLength(3);
      for (const { Properties } of resources) {
        expect(Properties.MultiRegionConsistency).toBe('STRONG');
        // MRSC has no TTL: the archiver deletes stubs itself.
        expect(Properties.TimeToLiveSpecification).toBeUndefined();
        const regions = (Properties.Replicas as { Region: string }[]).map((r) => r.Region).sort();
        expect(regions).toEqual(['us-east-1', 'us-east-2', 'us-west-2']);
      }
    });

    it('takes two replicas and a witness region', () => {
      const { template: t } = strong(
        { replicaRegions: ['eu-west-2'], witnessRegion: 'eu-central-1' },
        'eu-west-1',
      );
      t.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
        MultiRegionConsistency: 'STRONG',
        GlobalTableWitnesses: [{ Region: 'eu-central-1' }],
      });
    });

    it('refuses layouts MRSC cannot have, naming the rule, before CloudFormation would', () => {
      expect(() => strong({ replicaRegions: ['us-east-2'] })).toThrow(
        /multiRegionConsistency 'strong'.*exactly three replica regions \(or two and a witness region\); got 2/,
      );
      expect(() => strong({ replicaRegions: ['us-east-2', 'eu-west-1'] })).toThrow(
        /eu-west-1 not in the US region set of us-east-1 \(us-east-1, us-east-2, us-west-2\)/,
      );
      expect(() => strong({ replicaRegions: ['ca-central-1', 'sa-east-1'] }, 'ca-central-1')).toThrow(
        /replicaRegions must not include the stack's own region ca-central-1/,
      );
      expect(() => strong({ replicaRegions: ['sa-east-1', 'us-east-2'] }, 'ca-central-1')).toThrow(
        /ca-central-1 is in no MRSC region set/,
      );
      expect(() =>
        strong({ replicaRegions: ['us-east-2', 'us-west-2'], witnessRegion: 'us-west-2' }),
      ).toThrow(/us-west-2 is listed twice/);
      expect(() =>
        strong({ replicaRegions: ['us-east-2', 'us-west-2'], witnessRegion: 'us-east-2' }),
      ).toThrow(/listed twice/);
      expect(() => synth({ multiRegionConsistency: 'strong', replicaRegions: [] })).toThrow(
        /needs a stack with a concrete region/,
      );
      expect(() => synth({ witnessRegion: 'us-east-2' }, ENV)).toThrow(
        /witnessRegion is only for multiRegionConsistency 'strong'/,
      );
    });
  });

  it('offers log table metrics', () => {
    const metrics = [
      tables.metricLogConsumedWriteCapacityUnits(),
      tables.metricLogConsumedReadCapacityUnits(),
      tables.metricLogConditionalCheckFailedRequests(),
    ];
    expect(metrics.map((m) => m.metricName)).toEqual([
      'ConsumedWriteCapacityUnits',
      'ConsumedReadCapacityUnits',
      'ConditionalCheckFailedRequests',
    ]);
    for (const metric of metrics) {
      expect(stack.resolve(metric.dimensions)).toEqual({ TableName: { Ref: logicalId(stack, tables.log) } });
    }
    expect(tables.metricLogThrottledRequests().toMetricConfig().mathExpression?.expression).toContain('+');
  });
});
