import { Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { ArchiveBucket, TributaryArchiver, TributaryTables } from '../../infra/index.ts';
import { logicalId, statementsOf, testApp } from './fixtures.ts';

function synth(props: Partial<ConstructorParameters<typeof TributaryArchiver>[2]> = {}) {
  const stack = new Stack(testApp(), 'Stack');
  const tables = new TributaryTables(stack, 'Tables');
  const archive = new ArchiveBucket(stack, 'Archive');
  const archiver = new TributaryArchiver(stack, 'Archiver', { tables, archive, ...props });
  return { stack, tables, archive, archiver, template: Template.fromStack(stack) };
}

describe('TributaryArchiver', () => {
  const { stack, tables, archive, archiver, template } = synth();

  it('runs every minute by default, without retries (the next run does the same work)', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 minute)',
      State: 'ENABLED',
      Targets: [
        {
          Arn: { 'Fn::GetAtt': [logicalId(stack, archiver.handler), 'Arn'] },
          RetryPolicy: { MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 60 },
        },
      ],
    });
  });

  it('runs the archiver handler on Node.js 22, arm64, with a 10 minute timeout', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      Timeout: 600,
      Environment: {
        Variables: {
          POWERTOOLS_SERVICE_NAME: 'tributary-archiver',
          TRIBUTARY_BUCKET: { Ref: logicalId(stack, archive.bucket) },
        },
      },
    });
  });

  it('may list topics, keep archive schedules and rewrite the log, but has no access to consumer groups', () => {
    const statements = statementsOf(template, stack, archiver.handler.role as iam.Role);
    const on = (table: IConstruct) =>
      statements
        .filter((s) => s.resources.includes(`<${logicalId(stack, table)}.Arn>`))
        .flatMap((s) => s.actions);
    expect(on(tables.topics).sort()).toEqual(
      [
        'dynamodb:BatchWriteItem',
        'dynamodb:DeleteItem',
        'dynamodb:GetItem',
        'dynamodb:Scan',
        'dynamodb:UpdateItem',
      ].sort(),
    );
    expect(on(tables.log).sort()).toEqual(
      [
        'dynamodb:BatchWriteItem',
        'dynamodb:DeleteItem',
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:Query',
        'dynamodb:UpdateItem',
      ].sort(),
    );
    expect(on(tables.groups)).toEqual([]);
  });

  it('takes a custom schedule and can be disabled', () => {
    const { template: t } = synth({ schedule: events.Schedule.rate(Duration.minutes(5)), enabled: false });
    t.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(5 minutes)',
      State: 'DISABLED',
    });
  });

  it('rejects a timeout outside Lambda limits, naming the prop and the value', () => {
    expect(() => synth({ timeout: Duration.minutes(20) })).toThrow(
      /timeout: 20 minutes is out of range; allowed 1 minute to 15 minutes/,
    );
  });

  it('offers run metrics', () => {
    expect([archiver.metricErrors().metricName, archiver.metricDuration().metricName]).toEqual([
      'Errors',
      'Duration',
    ]);
  });
});
