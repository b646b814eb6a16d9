import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { TributaryStack } from '../../infra/index.ts';
import { ROUTES, type RouteAccess, type RouteDefinition } from '../../sdk/src/api/routes.ts';
import {
  ENV,
  identityStatements,
  logicalId,
  REPLICA_KEYS,
  type Statement,
  statementsOf,
  testApp,
} from './fixtures.ts';

// A deployment with every option that widens policies: a customer managed key and two replicas.
const app = testApp();
const imports = new Stack(app, 'Imports', { env: ENV });
const stack = new TributaryStack(app, 'Tributary', {
  env: ENV,
  encryption: { type: 'customer-managed', replicaKeyArns: REPLICA_KEYS },
  replicaRegions: ['eu-west-1', 'us-west-2'],
  replicaArchiveBuckets: Object.fromEntries(
    ['eu-west-1', 'us-west-2'].map((region) => [
      region,
      s3.Bucket.fromBucketAttributes(imports, `Replica-${region}`, {
        bucketName: `replica-${region}`,
        region,
      }),
    ]),
  ),
});
const role = (id: string) => new iam.Role(stack, id, { assumedBy: new iam.AccountRootPrincipal() });
const producer = role('Producer');
const consumer = role('Consumer');
const anyProducer = role('AnyProducer');
const anyConsumer = role('AnyConsumer');
const admin = role('Admin');
stack.grantProduce(producer, 'orders');
stack.grantConsume(consumer, 'orders', 'billing');
stack.grantProduce(anyProducer);
stack.grantConsume(anyConsumer);
stack.grantAdmin(admin);
const template = Template.fromStack(stack);

const { tables, archive, api } = stack.tributary;
const tableArn = (table: IConstruct) => `<${logicalId(stack, table)}.Arn>`;
const bucketArn = `<${logicalId(stack, archive.bucket)}.Arn>`;
const keyArn = `<${logicalId(stack, stack.tributary.encryptionKey as IConstruct)}.Arn>`;
const apiId = logicalId(stack, api.httpApi);

const dynamo = (statements: Statement[]) =>
  statements.filter((s) => s.actions.some((a) => a.startsWith('dynamodb:')));
const on = (statements: Statement[], arn: string) => statements.filter((s) => s.resources.includes(arn));
const leadingKeys = (s: Statement) =>
  s.condition?.['ForAllValues:StringLike']?.['dynamodb:LeadingKeys'] ??
  s.condition?.['ForAllValues:StringEquals']?.['dynamodb:LeadingKeys'];
const invokeArns = (statements: Statement[]) =>
  statements.filter((s) => s.actions.includes('execute-api:Invoke')).flatMap((s) => s.resources);
const routeArn = (route: RouteDefinition, names: { topic?: string; group?: string }) => {
  const path = route.path
    .replace('{topic}', names.topic ?? '*')
    .replace('{group}', names.group ?? '*')
    .replace(/\{[a-z]+\}/g, '*');
  return `arn:<AWS::Partition>:execute-api:${ENV.region}:${ENV.account}:<${apiId}>/$default/${route.method}${path}`;
};
const routeArns = (accesses: readonly RouteAccess[], names: { topic?: string; group?: string }) =>
  ROUTES.filter((r) => accesses.includes(r.access)).map((r) => routeArn(r, names));

describe('grants', () => {
  it('never allow a wildcard action in any identity policy of the stack', () => {
    const allows = identityStatements(template).filter((s) => s.effect === 'Allow');
    expect(allows.length).toBeGreaterThan(20);
    const wildcards = allows.flatMap((s) =>
      s.actions.filter((a) => a.includes('*')).map((a) => `${s.policy}: ${a}`),
    );
    expect(wildcards).toEqual([]);
  });

  it('scope a producer to its topic on every table statement, never with Scan', () => {
    const statements = statementsOf(template, stack, producer);
    for (const s of dynamo(statements)) {
      expect(s.actions).not.toContain('dynamodb:Scan');
      expect(leadingKeys(s), JSON.stringify(s)).toBeDefined();
    }
    const [log] = on(statements, tableArn(tables.log));
    expect(log?.actions).toEqual(['dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:UpdateItem']);
    expect(log?.condition).toEqual({ 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['orders:*'] } });
    const [registry] = on(statements, tableArn(tables.topics));
    expect(registry?.actions).toEqual(['dynamodb:GetItem']);
    // The topic's item and its leader-epoch items (multi-region clients read both), nothing else.
    expect(registry?.condition).toEqual({
      'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['orders', 'epochs#orders#*'] },
    });
    expect(on(statements, tableArn(tables.groups))).toEqual([]);
  });

  it('cover the replica tables and keys of every replica region', () => {
    const [log] = on(statementsOf(template, stack, producer), tableArn(tables.log));
    expect(log?.resources).toEqual([
      tableArn(tables.log),
      `arn:<AWS::Partition>:dynamodb:eu-west-1:${ENV.account}:table/<${logicalId(stack, tables.log)}>`,
      `arn:<AWS::Partition>:dynamodb:us-west-2:${ENV.account}:table/<${logicalId(stack, tables.log)}>`,
    ]);
    const kmsResources = statementsOf(template, stack, producer)
      .filter((s) => s.actions.includes('kms:Encrypt'))
      .flatMap((s) => s.resources);
    expect(new Set(kmsResources)).toEqual(new Set([keyArn, ...Object.values(REPLICA_KEYS)]));
  });

  it("scope a producer's objects to large batches under its topic and its API access to its topic's routes", () => {
    const statements = statementsOf(template, stack, producer);
    const s3Statements = statements.filter((s) => s.actions.some((a) => a.startsWith('s3:')));
    expect(s3Statements.map((s) => [s.actions, s.resources])).toEqual([
      [['s3:PutObject'], [`${bucketArn}/orders/*/claims/*`]],
    ]);
    expect(invokeArns(statements)).toEqual(routeArns(['public', 'describe', 'produce'], { topic: 'orders' }));
  });

  it('scope a consumer to its topic and its group, never with Scan', () => {
    const statements = statementsOf(template, stack, consumer);
    for (const s of dynamo(statements)) {
      expect(s.actions).not.toContain('dynamodb:Scan');
      expect(leadingKeys(s), JSON.stringify(s)).toBeDefined();
    }
    const [log] = on(statements, tableArn(tables.log));
    expect(log?.actions).toEqual(['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:UpdateItem']);
    expect(leadingKeys(log as Statement)).toEqual(['orders:*']);
    const [groups] = on(statements, tableArn(tables.groups));
    expect(groups?.actions).toEqual([
      'dynamodb:Query',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'dynamodb:DeleteItem',
      'dynamodb:BatchWriteItem',
    ]);
    expect(groups?.condition).toEqual({
      'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['billing'] },
    });
    const s3Statements = statements.filter((s) => s.actions.some((a) => a.startsWith('s3:')));
    expect(s3Statements.map((s) => [s.actions, s.resources])).toEqual([
      [['s3:GetObject'], [`${bucketArn}/orders/*`]],
    ]);
    expect(invokeArns(statements)).toEqual(
      routeArns(['public', 'describe', 'consume', 'group', 'group-consume'], {
        topic: 'orders',
        group: 'billing',
      }),
    );
    // Reading records as a group member names the topic too: a grant of one topic in a group reads
    // no other topic through the group's routes.
    const groupReads = invokeArns(statements).filter((arn) => arn.includes('/members/'));
    expect(groupReads.filter((arn) => arn.endsWith('/records'))).toEqual([
      expect.stringMatching(/\/POST\/v1\/groups\/billing\/members\/\*\/topics\/orders\/records$/),
    ]);
  });

  it('for every topic: no conditions, still no Scan, no admin routes', () => {
    for (const grantee of [anyProducer, anyConsumer]) {
      const statements = statementsOf(template, stack, grantee);
      for (const s of dynamo(statements)) {
        expect(s.actions).not.toContain('dynamodb:Scan');
        expect(s.condition).toBeUndefined();
      }
      const arns = invokeArns(statements);
      for (const route of ROUTES.filter((r) => r.access === 'admin')) {
        expect(arns.some((arn) => arn.endsWith(`/$default/${route.method}${route.path}`))).toBe(false);
      }
    }
    expect(invokeArns(statementsOf(template, stack, anyConsumer))).toEqual(
      routeArns(['public', 'describe', 'consume', 'group', 'group-consume'], {}),
    );
  });

  it('give admins Scan on every table, every archive object and every route', () => {
    const statements = statementsOf(template, stack, admin);
    for (const table of [tables.log, tables.topics, tables.groups]) {
      const [s] = on(statements, tableArn(table));
      expect(s?.actions).toContain('dynamodb:Scan');
      expect(s?.condition).toBeUndefined();
    }
    expect(statements.find((s) => s.actions.includes('s3:DeleteObject'))?.resources).toEqual([
      `${bucketArn}/*`,
    ]);
    expect(invokeArns(statements)).toEqual(ROUTES.map((r) => routeArn(r, {})));
  });

  it('reject names that are not topic or group names, naming the argument', () => {
    const other = role('Other');
    expect(() => stack.grantProduce(other, 'orders*')).toThrow(/^topic: Invalid topic name "orders\*"/);
    expect(() => stack.grantConsume(other, 'orders', 'billing/eu')).toThrow(
      /^group: Invalid consumer group id "billing\/eu"/,
    );
  });
});
