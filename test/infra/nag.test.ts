import { type App, Stack, Validations } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { readAppConfig } from '../../infra/app-context.ts';
import { addDeployment } from '../../infra/deployment.ts';
import { TributaryEventSource, TributaryStack } from '../../infra/index.ts';
import { ENV, REPLICA_KEYS, testApp } from './fixtures.ts';

/** cdk-nag's AwsSolutions findings (errors and warnings) that are not acknowledged. */
function findings(app: App): string[] {
  const report = new AwsSolutionsChecks(app).validateScope(app);
  return report.violations.flatMap((v) =>
    v.violatingResources.map((r) => `${v.severity} ${v.ruleName} at ${r.constructPath}`),
  );
}

/** Every acknowledgement under `scope`: [construct path, rule id, reason]. */
function acknowledgements(scope: IConstruct): [string, string, string][] {
  const out: [string, string, string][] = [];
  for (const construct of scope.node.findAll()) {
    for (const entry of construct.node.metadata) {
      if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
      for (const [id, reason] of Object.entries(entry.data as Record<string, string>)) {
        out.push([construct.node.path, id.replace(/^annotation::/i, ''), reason]);
      }
    }
  }
  return out;
}

/** cdk-nag's name of `arn:<partition>:lambda:<region>:<account>:function:*` in an environment-agnostic stack. */
const ANY_FUNCTION = 'arn:<AWS::Partition>:lambda:<AWS::Region>:<AWS::AccountId>:function:*';

describe('cdk-nag AwsSolutions checks', () => {
  it('find nothing unacknowledged in the default stack, and synthesis with the plugin succeeds', () => {
    const app = testApp();
    new TributaryStack(app, 'Tributary');
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    expect(findings(app)).toEqual([]);
    expect(() => app.synth()).not.toThrow();
  });

  it('find nothing unacknowledged in a multi-region, customer-managed-key deployment of the app', () => {
    const app = testApp();
    addDeployment(
      app,
      readAppConfig(
        (key) =>
          ({
            account: ENV.account,
            region: ENV.region,
            replicaRegions: 'eu-west-1,us-west-2',
            encryption: 'customer-managed',
            replicaKeyArns: Object.entries(REPLICA_KEYS)
              .map(([region, arn]) => `${region}=${arn}`)
              .join(','),
          })[key],
        {},
      ),
    );
    expect(findings(app)).toEqual([]);
    expect(() => app.synth()).not.toThrow();
  });

  it('find nothing unacknowledged in the triggers of event sources, whatever their destination', () => {
    const app = testApp();
    const tributary = new TributaryStack(app, 'Tributary', { env: ENV });
    // The application's own resources (function, queue, bucket) are its business, not Tributary's.
    const service = new Stack(app, 'Service', { env: ENV });
    const fn = new lambda.Function(service, 'Target', {
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler = async () => ({});'),
    });
    const queue = new sqs.Queue(service, 'Dlq');
    const bucket = new s3.Bucket(service, 'Failures');
    const base = { topic: 'orders', startingPosition: lambda.StartingPosition.TRIM_HORIZON } as const;
    fn.addEventSource(new TributaryEventSource(tributary.tributary, { ...base, onFailure: queue }));
    fn.addEventSource(new TributaryEventSource(tributary.tributary, { ...base, onFailure: bucket }));
    fn.addEventSource(new TributaryEventSource(tributary.tributary, { ...base, onFailure: 'orders-dlq' }));
    const ours = findings(app).filter((f) => / at Tributary\//.test(f) || f.includes('/TributaryTrigger-'));
    expect(ours).toEqual([]);
    expect(findings(app).some((f) => f.includes('Service/Failures'))).toBe(true);
  });

  it('do report findings that nobody acknowledged (the check is live)', () => {
    const app = testApp();
    new s3.Bucket(new Stack(app, 'Careless'), 'Bucket');
    expect(findings(app)).toEqual(
      expect.arrayContaining([
        'error AwsSolutions-S1 at Careless/Bucket/Resource',
        'error AwsSolutions-S10 at Careless/Bucket/Resource',
      ]),
    );
  });

  it('acknowledge only known rules, each with a written reason', () => {
    const app = testApp();
    new TributaryStack(app, 'Tributary');
    const acks = acknowledgements(app);
    expect(acks.map(([path, id]) => `${path}: ${id}`).sort()).toEqual(
      [
        'Tributary/Tributary/Api/Handler: AwsSolutions-L1',
        'Tributary/Tributary/Api/HandlerRole: AwsSolutions-IAM5[Resource::<TributaryArchiveBucket07AE6C03.Arn>/*]',
        `Tributary/Tributary/Api/HandlerRole: AwsSolutions-IAM5[Resource::${ANY_FUNCTION}]`,
        'Tributary/Tributary/Api/SessionSecret: AwsSolutions-SMG4',
        'Tributary/Tributary/Archive/Bucket: AwsSolutions-S1',
        'Tributary/Tributary/Archiver/Handler: AwsSolutions-L1',
        'Tributary/Tributary/Archiver/HandlerRole: AwsSolutions-IAM5[Resource::<TributaryArchiveBucket07AE6C03.Arn>/*]',
        'Tributary/Tributary/Dispatcher/Handler: AwsSolutions-L1',
        'Tributary/Tributary/Dispatcher/HandlerRole: AwsSolutions-IAM5[Resource::<TributaryArchiveBucket07AE6C03.Arn>/*]',
        'Tributary/Tributary/Dispatcher/TriggerResources/FrameworkRole: AwsSolutions-IAM5[Resource::<TributaryDispatcherTriggerResourcesHandlerE3BF8672.Arn>:*]',
        'Tributary/Tributary/Dispatcher/TriggerResources/Handler: AwsSolutions-L1',
        'Tributary/Tributary/Dispatcher/TriggerResources/HandlerRole: AwsSolutions-IAM5[Resource::<TributaryArchiveBucket07AE6C03.Arn>/*/*]',
        `Tributary/Tributary/Dispatcher/TriggerResources/HandlerRole: AwsSolutions-IAM5[Resource::${ANY_FUNCTION}]`,
      ].sort(),
    );
    for (const [, , reason] of acks) expect(reason.length).toBeGreaterThan(80);
  });
});
