import { type App, Stack, Validations } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { readAppConfig } from '../../infra/app-context.ts';
import { addDeployment } from '../../infra/deployment.ts';
import { TributaryStack } from '../../infra/index.ts';
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
        'Tributary/Tributary/Api/SessionSecret: AwsSolutions-SMG4',
        'Tributary/Tributary/Archive/Bucket: AwsSolutions-S1',
        'Tributary/Tributary/Archiver/Handler: AwsSolutions-L1',
        'Tributary/Tributary/Archiver/HandlerRole: AwsSolutions-IAM5[Resource::<TributaryArchiveBucket07AE6C03.Arn>/*]',
      ].sort(),
    );
    for (const [, , reason] of acks) expect(reason.length).toBeGreaterThan(80);
  });
});
