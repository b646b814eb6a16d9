import { Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type * as iam from 'aws-cdk-lib/aws-iam';
import { describe, expect, it } from 'vitest';
import { functionEnvironment } from '../../functions/environment.ts';
import { ArchiveBucket, TributaryApi, TributaryTables } from '../../infra/index.ts';
import { openApiDocument } from '../../sdk/src/api/openapi.ts';
import { ROUTES, type RouteDefinition, routeKey } from '../../sdk/src/api/routes.ts';
import { ENV, logicalId, statementsOf, testApp, tributaryStack } from './fixtures.ts';

const { stack, role } = tributaryStack({ env: ENV });
const { api, tables, archive } = stack.tributary;
stack.grantProduce(role, 'orders');
const template = Template.fromStack(stack);
const apiId = logicalId(stack, api.httpApi);

/** The execute-api ARN a route should have, rendered as `fixtures.render` does. */
function expectedArn(route: RouteDefinition, names: { topic?: string; group?: string }): string {
  const path = route.path
    .replace('{topic}', names.topic ?? '*')
    .replace('{group}', names.group ?? '*')
    .replace(/\{[a-z]+\}/g, '*');
  return `arn:<AWS::Partition>:execute-api:${ENV.region}:${ENV.account}:<${apiId}>/$default/${route.method}${path}`;
}

describe('TributaryApi', () => {
  it('creates exactly one route per entry of ROUTES, with the same route keys', () => {
    const routes = Object.values(template.findResources('AWS::ApiGatewayV2::Route')) as {
      Properties: { RouteKey: string };
    }[];
    expect(routes.map((r) => r.Properties.RouteKey).sort()).toEqual(ROUTES.map(routeKey).sort());
  });

  it('serves exactly the operations the OpenAPI document describes', () => {
    const routes = Object.values(template.findResources('AWS::ApiGatewayV2::Route')) as {
      Properties: { RouteKey: string };
    }[];
    const documented = Object.entries((openApiDocument() as { paths: Record<string, object> }).paths).flatMap(
      ([path, methods]) => Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(routes.map((r) => r.Properties.RouteKey).sort()).toEqual(documented.sort());
  });

  it('authorizes every route with IAM and integrates it with the API function', () => {
    const integrations = template.findResources('AWS::ApiGatewayV2::Integration');
    expect(Object.keys(integrations)).toHaveLength(1);
    const [integrationId] = Object.keys(integrations);
    template.allResourcesProperties('AWS::ApiGatewayV2::Route', {
      AuthorizationType: 'AWS_IAM',
      Target: { 'Fn::Join': ['', ['integrations/', { Ref: integrationId }]] },
    });
    template.hasResourceProperties('AWS::ApiGatewayV2::Integration', {
      IntegrationType: 'AWS_PROXY',
      PayloadFormatVersion: '2.0',
      TimeoutInMillis: 29_000,
      IntegrationUri: { 'Fn::GetAtt': [logicalId(stack, api.handler), 'Arn'] },
    });
  });

  it('runs the API function on Node.js 22, arm64, with the shared environment and Powertools settings', () => {
    const expectedEnvironment = stack.resolve(
      functionEnvironment({ tables: tables.tableNames, bucket: archive.bucket.bucketName }),
    );
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      Timeout: 29,
      MemorySize: 1024,
      LoggingConfig: { LogGroup: { Ref: logicalId(stack, api.logGroup) } },
      Environment: {
        Variables: {
          ...expectedEnvironment,
          POWERTOOLS_SERVICE_NAME: 'tributary-api',
          POWERTOOLS_METRICS_NAMESPACE: 'Tributary',
          POWERTOOLS_LOG_LEVEL: 'INFO',
          NODE_OPTIONS: '--enable-source-maps',
        },
      },
    });
  });

  it('logs access on the $default stage and throttles by default', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 1000, ThrottlingBurstLimit: 2000 },
      AccessLogSettings: {
        DestinationArn: { 'Fn::GetAtt': [logicalId(stack, api.accessLogGroup), 'Arn'] },
        Format: Match.stringLikeRegexp('\\$context\\.requestId'),
      },
    });
    // Every log group of the stack (functions' and the stage's) keeps 30 days.
    template.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
  });

  it('gives the function admin data access and only that (plus its own logs)', () => {
    const statements = statementsOf(template, stack, api.handler.role as iam.Role);
    expect(statements.every((s) => s.condition === undefined)).toBe(true);
    expect(new Set(statements.flatMap((s) => s.actions))).toEqual(
      new Set([
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        'dynamodb:GetItem',
        'dynamodb:Query',
        'dynamodb:Scan',
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
        'dynamodb:DeleteItem',
        'dynamodb:BatchWriteItem',
        's3:GetObject',
        's3:PutObject',
        's3:DeleteObject',
        's3:AbortMultipartUpload',
        's3:ListBucket',
        // Reading the secret that signs group sessions (its own, only).
        'secretsmanager:GetSecretValue',
        'secretsmanager:DescribeSecret',
        // Trigger creation checks that the function exists (see grants in dispatcher.test.ts).
        'lambda:GetFunctionConfiguration',
      ]),
    );
    const secretStatements = statements.filter((s) => s.actions.some((a) => a.startsWith('secretsmanager:')));
    expect(secretStatements.flatMap((s) => s.resources)).toEqual([
      `<${logicalId(stack, api.sessionSecret)}>`,
    ]);
  });

  it('builds execute-api ARNs per route, with the topic and group filled in and other parameters *', () => {
    const fetch = ROUTES.find((r) => r.operationId === 'fetch') as RouteDefinition;
    const heartbeat = ROUTES.find((r) => r.operationId === 'heartbeat') as RouteDefinition;
    const render = (arn: string) => JSON.stringify(stack.resolve(arn));
    expect(render(api.arnForRoute(fetch, { topic: 'orders' }))).toContain(
      '/$default/GET/v1/topics/orders/partitions/*/records',
    );
    expect(render(api.arnForRoute(heartbeat, { group: 'billing' }))).toContain(
      '/$default/POST/v1/groups/billing/members/*/heartbeat',
    );
    expect(render(api.arnForRoute(fetch))).toContain('/$default/GET/v1/topics/*/partitions/*/records');
    expect(() => api.arnForRoute(fetch, { topic: 'a*' })).toThrow(/topic: Invalid topic name "a\*"/);
  });

  it('grants producers invoke on the public, describe and produce routes of their topic only', () => {
    const invoke = statementsOf(template, stack, role).filter((s) =>
      s.actions.includes('execute-api:Invoke'),
    );
    expect(invoke).toHaveLength(1);
    const expected = ROUTES.filter((r) => ['public', 'describe', 'produce'].includes(r.access)).map((r) =>
      expectedArn(r, { topic: 'orders' }),
    );
    expect(invoke[0]?.resources).toEqual(expected);
    expect(invoke[0]?.actions).toEqual(['execute-api:Invoke']);
  });

  it('offers API metrics', () => {
    expect(
      [api.metricServerErrors(), api.metricClientErrors(), api.metricLatency()].map((m) => m.metricName),
    ).toEqual(['5xx', '4xx', 'Latency']);
  });

  it('rejects invalid props with messages naming the prop and the value', () => {
    const s = new Stack(testApp(), 'Invalid');
    const t = new TributaryTables(s, 'Tables');
    const a = new ArchiveBucket(s, 'Archive');
    expect(
      () => new TributaryApi(s, 'Api1', { tables: t, archive: a, timeout: Duration.seconds(10) }),
    ).toThrow(/timeout: 10 seconds is out of range; allowed 21 seconds to 29 seconds/);
    expect(() => new TributaryApi(s, 'Api2', { tables: t, archive: a, memorySize: 64 })).toThrow(
      /memorySize: 64 is not allowed; use an integer from 128 to 10240/,
    );
    expect(() => new TributaryApi(s, 'Api3', { tables: t, archive: a, throttle: { rateLimit: 0 } })).toThrow(
      /throttle.rateLimit: 0 is not allowed/,
    );
  });
});
