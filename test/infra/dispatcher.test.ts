import { Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { SWEEP_EVENT } from '../../functions/environment.ts';
import { DOORBELL_FILTER } from '../../infra/dispatcher.ts';
import { ArchiveBucket, TributaryDispatcher, TributaryTables } from '../../infra/index.ts';
import { rungPartitionOf } from '../../sdk/src/internal.ts';
import { compileEventPattern, type JsonValue } from '../../sdk/src/triggers/event-filter.ts';
import { ENV, identityStatements, logicalId, statementsOf, testApp, tributaryStack } from './fixtures.ts';

const { stack, role } = tributaryStack({ env: ENV });
stack.grantAdmin(role);
const { dispatcher, tables, archive, api } = stack.tributary;
const template = Template.fromStack(stack);
const fnId = logicalId(stack, dispatcher.handler);

/** A log table stream record as Lambda's DynamoDB event source mapping sees it. */
function streamRecord(eventName: 'INSERT' | 'MODIFY' | 'REMOVE', pk: string, off: string): JsonValue {
  return {
    eventID: '1',
    eventName,
    eventVersion: '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: ENV.region,
    dynamodb: {
      ApproximateCreationDateTime: 1_767_225_600,
      Keys: { pk: { S: pk }, off: { N: off } },
      NewImage: { pk: { S: pk }, off: { N: off }, n: { N: '3' } },
      SequenceNumber: '111',
      SizeBytes: 26,
      StreamViewType: 'NEW_IMAGE',
    },
  };
}

describe('TributaryDispatcher', () => {
  it('runs the dispatcher handler on Node.js 22 arm64 for 15 minutes with 1024 MB and no reserved concurrency', () => {
    const fn = template.toJSON().Resources[fnId] as {
      Properties: { Environment: { Variables: Record<string, unknown> } } & Record<string, unknown>;
    };
    expect(fn.Properties).toMatchObject({
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Timeout: 900,
      MemorySize: 1024,
    });
    expect(fn.Properties).not.toHaveProperty('ReservedConcurrentExecutions');
    expect(fn.Properties.Environment.Variables).toEqual({
      TRIBUTARY_LOG_TABLE: { Ref: logicalId(stack, tables.log) },
      TRIBUTARY_TOPICS_TABLE: { Ref: logicalId(stack, tables.topics) },
      TRIBUTARY_GROUPS_TABLE: { Ref: logicalId(stack, tables.groups) },
      TRIBUTARY_BUCKET: { Ref: logicalId(stack, archive.bucket) },
      TRIBUTARY_BOOTSTRAP_SERVERS: `tributary.${ENV.region}:9092`,
      POWERTOOLS_SERVICE_NAME: 'tributary-dispatcher',
      POWERTOOLS_METRICS_NAMESPACE: 'Tributary',
      POWERTOOLS_LOG_LEVEL: 'INFO',
      NODE_OPTIONS: '--enable-source-maps',
    });
  });

  it("is woken by the log table's stream: LATEST, batches of 1000 within 1 s, few retries, bisect, partial failures", () => {
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', 1);
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: fnId },
      EventSourceArn: { 'Fn::GetAtt': [logicalId(stack, tables.log), 'StreamArn'] },
      StartingPosition: 'LATEST',
      BatchSize: 1000,
      MaximumBatchingWindowInSeconds: 1,
      MaximumRetryAttempts: 3,
      BisectBatchOnFunctionError: true,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      FilterCriteria: { Filters: [{ Pattern: JSON.stringify(DOORBELL_FILTER) }] },
    });
    const stream = statementsOf(template, stack, dispatcher.role).filter((s) =>
      s.actions.includes('dynamodb:GetRecords'),
    );
    expect(stream.flatMap((s) => s.resources)).toEqual([`<${logicalId(stack, tables.log)}.StreamArn>`]);
  });

  it("filters the stream to batch writes, exactly the records the handler's doorbell takes", () => {
    const [mapping] = Object.values(template.findResources('AWS::Lambda::EventSourceMapping')) as {
      Properties: { FilterCriteria: { Filters: { Pattern: string }[] } };
    }[];
    const filter = compileEventPattern(mapping?.Properties.FilterCriteria.Filters[0]?.Pattern);
    const keys: [string, string][] = [
      ['orders:a1B2c3:0', '0'],
      ['orders:a1B2c3:7', '1208'],
      ['orders:a1B2c3:12', '99'],
      ['v2.topic_9:x-y_z:3', '5'],
      ['orders2:a1B2c3:0', '40'],
      ['orders:a1B2c3:0', '-1'], // the partition's metadata
      ['orders:a1B2c3:10', '-1'],
      ['orders:a1B2c3:0#segments', '0'], // a segment manifest
      ['orders:a1B2c3:3#producers', '17'], // producer state
    ];
    for (const [pk, off] of keys) {
      const batch = rungPartitionOf({ pk, off }) !== undefined;
      for (const eventName of ['INSERT', 'MODIFY'] as const) {
        expect(filter.matches(streamRecord(eventName, pk, off)), `${eventName} ${pk} ${off}`).toBe(batch);
      }
      // Expiry of archived stubs (TTL) and deletes never ring.
      expect(filter.matches(streamRecord('REMOVE', pk, off)), `REMOVE ${pk} ${off}`).toBe(false);
    }
    expect(keys.filter(([pk, off]) => rungPartitionOf({ pk, off })).length).toBe(5);
  });

  it('sweeps every minute with the sweep event, without retries', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      Description: 'Sweeps Tributary triggers for due partitions',
      ScheduleExpression: 'rate(1 minute)',
      State: 'ENABLED',
      Targets: [
        {
          Arn: { 'Fn::GetAtt': [fnId, 'Arn'] },
          Id: 'Target0',
          Input: JSON.stringify(SWEEP_EVENT),
          RetryPolicy: { MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 60 },
        },
      ],
    });
  });

  it('takes the sweep schedule from the Tributary props', () => {
    const { stack: custom } = tributaryStack({
      triggerSweepSchedule: events.Schedule.rate(Duration.minutes(5)),
    });
    Template.fromStack(custom).hasResourceProperties('AWS::Events::Rule', {
      Description: 'Sweeps Tributary triggers for due partitions',
      ScheduleExpression: 'rate(5 minutes)',
    });
  });

  it('may invoke itself (worker jobs) through a policy of its own, so the stack has no dependency cycle', () => {
    const invokes = identityStatements(template).filter(
      (s) => s.actions.includes('lambda:InvokeFunction') && s.resources.includes(`<${fnId}.Arn>`),
    );
    expect(invokes.map((s) => [s.policy, s.actions, s.resources])).toEqual([
      [
        logicalId(stack, dispatcher.node.findChild('SelfInvoke')),
        ['lambda:InvokeFunction'],
        [`<${fnId}.Arn>`],
      ],
    ]);
    // In the role's default policy the function (which depends on that policy) would depend on itself.
    expect(statementsOf(template, stack, dispatcher.role).flatMap((s) => s.actions)).not.toContain(
      'lambda:InvokeFunction',
    );
    // Template.fromStack refuses a template with a dependency cycle (it found none above).
    expect(() => Template.fromStack(stack)).not.toThrow();
  });

  it('has admin data access to the three tables and the archive, and no lambda action on any wildcard', () => {
    const statements = statementsOf(template, stack, dispatcher.role);
    const on = (table: IConstruct) =>
      statements
        .filter((s) => s.resources.includes(`<${logicalId(stack, table)}.Arn>`))
        .flatMap((s) => s.actions);
    for (const table of [tables.log, tables.topics, tables.groups]) {
      expect(on(table).sort()).toEqual(
        [
          'dynamodb:BatchWriteItem',
          'dynamodb:DeleteItem',
          'dynamodb:GetItem',
          'dynamodb:PutItem',
          'dynamodb:Query',
          'dynamodb:Scan',
          'dynamodb:UpdateItem',
        ].sort(),
      );
    }
    const bucketArn = `<${logicalId(stack, archive.bucket)}.Arn>`;
    expect(statements.find((s) => s.actions.includes('s3:GetObject'))?.resources).toEqual([`${bucketArn}/*`]);
    expect(statements.flatMap((s) => s.actions).filter((a) => a.startsWith('lambda:'))).toEqual([]);
  });

  it('lets admins and the API function look functions up (trigger creation), and nothing more of Lambda', () => {
    const anyFunction = `arn:<AWS::Partition>:lambda:${ENV.region}:${ENV.account}:function:*`;
    for (const grantee of [role, api.handler.role as iam.Role]) {
      const lambdaStatements = statementsOf(template, stack, grantee).filter((s) =>
        s.actions.some((a) => a.startsWith('lambda:')),
      );
      expect(lambdaStatements.map((s) => [s.actions, s.resources])).toEqual([
        [['lambda:GetFunctionConfiguration'], [anyFunction]],
      ]);
    }
  });

  it('lets the trigger resource handler manage trigger items and groups, read the log and the archive, and look functions up', () => {
    const { handler, role: handlerRole } = dispatcher.triggerProvider;
    const statements = statementsOf(template, stack, handlerRole);
    const on = (table: IConstruct) =>
      statements
        .filter((s) => s.resources.includes(`<${logicalId(stack, table)}.Arn>`))
        .flatMap((s) => s.actions);
    const readWrite = [
      'dynamodb:DeleteItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:Query',
      'dynamodb:UpdateItem',
    ];
    expect(on(tables.topics).sort()).toEqual(readWrite);
    expect(on(tables.groups).sort()).toEqual(readWrite);
    expect(on(tables.log).sort()).toEqual(['dynamodb:GetItem', 'dynamodb:Query']);
    const bucketArn = `<${logicalId(stack, archive.bucket)}.Arn>`;
    expect(
      statements
        .filter((s) => s.actions.some((a) => a.startsWith('s3:')))
        .map((s) => [s.actions, s.resources]),
    ).toEqual([
      [['s3:GetObject'], [`${bucketArn}/*/*`]],
      [['s3:ListBucket'], [bucketArn]],
    ]);
    expect(
      statements
        .filter((s) => s.actions.some((a) => a.startsWith('lambda:')))
        .map((s) => [s.actions, s.resources]),
    ).toEqual([
      [
        ['lambda:GetFunctionConfiguration'],
        [`arn:<AWS::Partition>:lambda:${ENV.region}:${ENV.account}:function:*`],
      ],
    ]);

    // The provider framework's own role: its logs, and invoking (and reading) our handler only.
    const frameworkRole = dispatcher.node
      .findChild('TriggerResources')
      .node.findChild('FrameworkRole') as iam.Role;
    const framework = statementsOf(template, stack, frameworkRole);
    expect(framework.flatMap((s) => s.actions).sort()).toEqual(
      ['lambda:GetFunction', 'lambda:InvokeFunction', 'logs:CreateLogStream', 'logs:PutLogEvents'].sort(),
    );
    const handlerArn = `<${logicalId(stack, handler)}.Arn>`;
    expect(
      new Set(
        framework.filter((s) => s.actions.some((a) => a.startsWith('lambda:'))).flatMap((s) => s.resources),
      ),
    ).toEqual(new Set([handlerArn, `${handlerArn}:*`]));
    // No role of the stack has a managed policy (aws-cdk-lib's default framework role would).
    const managed = Object.values(template.findResources('AWS::IAM::Role')).filter(
      (r) => (r as { Properties: { ManagedPolicyArns?: unknown[] } }).Properties.ManagedPolicyArns,
    );
    expect(managed).toEqual([]);
  });

  it('never allows lambda:InvokeFunction on a wildcard anywhere in the stack', () => {
    const invokes = identityStatements(template).filter((s) => s.actions.includes('lambda:InvokeFunction'));
    expect(invokes.length).toBeGreaterThan(0);
    for (const s of invokes) {
      for (const resource of s.resources) {
        expect(resource === '*' || resource.endsWith(':function:*'), `${s.policy}: ${resource}`).toBe(false);
      }
    }
  });

  it('offers per-trigger metrics in the Tributary namespace with the service and trigger dimensions', () => {
    const lag = dispatcher.metricOffsetLag('orders-to-billing');
    expect([lag.namespace, lag.metricName, lag.statistic, lag.dimensions]).toEqual([
      'Tributary',
      'OffsetLag',
      'Maximum',
      { service: 'tributary-dispatcher', trigger: 'orders-to-billing' },
    ]);
    const counts = [
      dispatcher.metricInvokedEventCount('t'),
      dispatcher.metricFailedInvokeEventCount('t'),
      dispatcher.metricFilteredOutEventCount('t'),
      dispatcher.metricOnFailureDestinationDeliveredEventCount('t'),
      dispatcher.metricCommittedEventCount('t'),
    ];
    expect(counts.map((m) => [m.metricName, m.statistic])).toEqual([
      ['InvokedEventCount', 'Sum'],
      ['FailedInvokeEventCount', 'Sum'],
      ['FilteredOutEventCount', 'Sum'],
      ['OnFailureDestinationDeliveredEventCount', 'Sum'],
      ['CommittedEventCount', 'Sum'],
    ]);
    expect(dispatcher.metricErrors().metricName).toBe('Errors');
  });

  it('writes the bootstrap servers it is given, and rejects a memory size outside Lambda limits', () => {
    const own = new Stack(testApp(), 'Own');
    const ownTables = new TributaryTables(own, 'Tables');
    const ownArchive = new ArchiveBucket(own, 'Archive');
    const custom = new TributaryDispatcher(own, 'Dispatcher', {
      tables: ownTables,
      archive: ownArchive,
      bootstrapServers: 'kafka.example.com:9092',
    });
    const variables = (
      Template.fromStack(own).toJSON().Resources[logicalId(own, custom.handler)] as {
        Properties: { Environment: { Variables: Record<string, unknown> } };
      }
    ).Properties.Environment.Variables;
    expect(variables.TRIBUTARY_BOOTSTRAP_SERVERS).toBe('kafka.example.com:9092');
    expect(
      () =>
        new TributaryDispatcher(own, 'Big', { tables: ownTables, archive: ownArchive, memorySize: 20_000 }),
    ).toThrow(/^memorySize: 20000 is not allowed; use an integer from 128 to 10240$/);
  });
});
