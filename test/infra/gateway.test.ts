import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { AwsSolutionsChecks } from 'cdk-nag';
import { afterAll, describe, expect, it } from 'vitest';
import {
  ArchiveBucket,
  TributaryGateway,
  type TributaryGatewayProps,
  TributaryStack,
  TributaryTables,
} from '../../infra/index.ts';
import { ENV, logicalId, SKIP_BUNDLING, statementsOf, testApp } from './fixtures.ts';

const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:111111111111:secret:gateway-users-AbCdEf';
const CERTIFICATE_ARN = 'arn:aws:acm:us-east-1:111111111111:certificate/1234abcd-12ab-34cd-56ef-1234567890ab';

type Extra = Partial<Omit<TributaryGatewayProps, 'tables' | 'archive'>>;

function synth(extra: (stack: Stack) => Extra = () => ({}), app: App = testApp()) {
  const stack = new Stack(app, 'Stack', { env: ENV });
  const tables = new TributaryTables(stack, 'Tables');
  const archive = new ArchiveBucket(stack, 'Archive');
  const gateway = new TributaryGateway(stack, 'Gateway', { tables, archive, ...extra(stack) });
  return { app, stack, tables, archive, gateway, template: Template.fromStack(stack) };
}

const users = (stack: Stack) => secretsmanager.Secret.fromSecretCompleteArn(stack, 'Users', SECRET_ARN);
const certificate = (stack: Stack) =>
  acm.Certificate.fromCertificateArn(stack, 'Certificate', CERTIFICATE_ARN);

/** The gateway's one container definition. */
function container(template: Template): Record<string, unknown> {
  const defs = Object.values(template.findResources('AWS::ECS::TaskDefinition'));
  expect(defs).toHaveLength(1);
  const containers = (defs[0] as { Properties: { ContainerDefinitions: Record<string, unknown>[] } })
    .Properties.ContainerDefinitions;
  expect(containers).toHaveLength(1);
  return containers[0] as Record<string, unknown>;
}

/** cdk-nag's unacknowledged AwsSolutions findings. */
function findings(app: App): string[] {
  const report = new AwsSolutionsChecks(app).validateScope(app);
  return report.violations.flatMap((v) =>
    v.violatingResources.map((r) => `${v.severity} ${v.ruleName} at ${r.constructPath}`),
  );
}

describe('TributaryGateway', () => {
  const { stack, tables, archive, gateway, template } = synth((s) => ({ saslUsers: users(s) }));

  it('runs `tributary gateway` on Fargate arm64, two tasks by default, scaled on CPU from 2 to 10', () => {
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      RequiresCompatibilities: ['FARGATE'],
      Cpu: '512',
      Memory: '1024',
      RuntimePlatform: { CpuArchitecture: 'ARM64', OperatingSystemFamily: 'LINUX' },
    });
    template.hasResourceProperties('AWS::ECS::Service', {
      LaunchType: 'FARGATE',
      DesiredCount: 2,
      NetworkConfiguration: { AwsvpcConfiguration: { AssignPublicIp: 'DISABLED' } },
      LoadBalancers: [{ ContainerName: 'gateway', ContainerPort: 9092 }],
    });
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
      MinCapacity: 2,
      MaxCapacity: 10,
      ScalableDimension: 'ecs:service:DesiredCount',
    });
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      TargetTrackingScalingPolicyConfiguration: {
        PredefinedMetricSpecification: { PredefinedMetricType: 'ECSServiceAverageCPUUtilization' },
        TargetValue: 60,
      },
    });
  });

  it('listens on every address and advertises the load balancer, serving the tables named in its environment', () => {
    const c = container(template);
    expect(c.Command).toEqual([
      '--host',
      '0.0.0.0',
      '--port',
      '9092',
      '--advertised-host',
      { 'Fn::GetAtt': [logicalId(stack, gateway.loadBalancer), 'DNSName'] },
      '--advertised-port',
      '9092',
      '--endpoint',
      'aws',
      '--region',
      'us-east-1',
      '--tables-from-env',
      '--health-port',
      '8080',
    ]);
    const env = Object.fromEntries(
      (c.Environment as { Name: string; Value: unknown }[]).map((e) => [e.Name, e.Value]),
    );
    expect(env).toEqual({
      TRIBUTARY_LOG_TABLE: { Ref: logicalId(stack, tables.log) },
      TRIBUTARY_TOPICS_TABLE: { Ref: logicalId(stack, tables.topics) },
      TRIBUTARY_GROUPS_TABLE: { Ref: logicalId(stack, tables.groups) },
      TRIBUTARY_BUCKET: { Ref: logicalId(stack, archive.bucket) },
    });
    expect(c.PortMappings).toEqual([
      { ContainerPort: 9092, Protocol: 'tcp' },
      { ContainerPort: 8080, Protocol: 'tcp' },
    ]);
  });

  it('gets the SASL/PLAIN users as a container secret, never as plain text, readable by the execution role only', () => {
    const c = container(template);
    expect(c.Secrets).toEqual([{ Name: 'TRIBUTARY_GATEWAY_SASL_USERS', ValueFrom: SECRET_ARN }]);
    expect(JSON.stringify(c.Environment)).not.toContain('SASL');
    const execution = statementsOf(template, stack, gateway.taskDefinition.obtainExecutionRole() as iam.Role);
    expect(execution.filter((s) => s.resources.includes(SECRET_ARN)).flatMap((s) => s.actions)).toEqual(
      expect.arrayContaining(['secretsmanager:GetSecretValue']),
    );
    const task = statementsOf(template, stack, gateway.taskDefinition.taskRole as iam.Role);
    expect(task.some((s) => s.resources.includes(SECRET_ARN))).toBe(false);
  });

  it('has admin access to the three tables and the archive, and no wildcard action', () => {
    const statements = statementsOf(template, stack, gateway.taskDefinition.taskRole as iam.Role);
    for (const table of [tables.log, tables.topics, tables.groups]) {
      const actions = statements
        .filter((s) => s.resources.includes(`<${logicalId(stack, table)}.Arn>`))
        .flatMap((s) => s.actions)
        .sort();
      expect(actions).toEqual(
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
    const objects = statements
      .filter((s) => s.resources.includes(`<${logicalId(stack, archive.bucket)}.Arn>/*`))
      .flatMap((s) => s.actions);
    expect(objects).toEqual(expect.arrayContaining(['s3:GetObject', 's3:PutObject', 's3:DeleteObject']));
    const all = [
      ...statements,
      ...statementsOf(template, stack, gateway.taskDefinition.obtainExecutionRole() as iam.Role),
    ];
    expect(all.length).toBeGreaterThan(0);
    for (const s of all) for (const action of s.actions) expect(action).not.toContain('*');
    expect(all.flatMap((s) => s.actions)).not.toContain('dynamodb:DeleteTable');
  });

  it('puts an internal NLB with a TCP listener on 9092 in front, health-checked with GET /health on 8080', () => {
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      Type: 'network',
      Scheme: 'internal',
    });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 9092,
      Protocol: 'TCP',
      Certificates: Match.absent(),
    });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
      Port: 9092,
      Protocol: 'TCP',
      TargetType: 'ip',
      HealthCheckProtocol: 'HTTP',
      HealthCheckPort: '8080',
      HealthCheckPath: '/health',
      Matcher: { HttpCode: '200' },
      HealthCheckIntervalSeconds: 10,
    });
    // The health port is no listener's: clients cannot reach it through the load balancer.
    template.resourceCountIs('AWS::ElasticLoadBalancingV2::Listener', 1);
    // The tasks admit the load balancer's health checks, and the load balancer may send them.
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      FromPort: 8080,
      ToPort: 8080,
      SourceSecurityGroupId: {
        'Fn::GetAtt': [Match.stringLikeRegexp('LoadBalancerSecurityGroup'), 'GroupId'],
      },
    });
    template.hasResourceProperties('AWS::EC2::SecurityGroupEgress', {
      FromPort: 8080,
      ToPort: 8080,
      DestinationSecurityGroupId: {
        'Fn::GetAtt': [Match.stringLikeRegexp('ServiceSecurityGroup'), 'GroupId'],
      },
    });
    // Clients inside the VPC only, and the tasks only from the load balancer.
    template.hasResourceProperties('AWS::EC2::SecurityGroup', {
      SecurityGroupIngress: [
        Match.objectLike({ CidrIp: { 'Fn::GetAtt': [Match.anyValue(), 'CidrBlock'] }, FromPort: 9092 }),
      ],
    });
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      FromPort: 9092,
      ToPort: 9092,
      SourceSecurityGroupId: {
        'Fn::GetAtt': [Match.stringLikeRegexp('LoadBalancerSecurityGroup'), 'GroupId'],
      },
    });
    expect(gateway.bootstrapServers).toBe(`${gateway.loadBalancer.loadBalancerDnsName}:9092`);
  });

  it('creates a VPC with private subnets and DynamoDB and S3 gateway endpoints when given none', () => {
    template.resourceCountIs('AWS::EC2::VPC', 1);
    template.resourceCountIs('AWS::EC2::NatGateway', 1);
    template.resourceCountIs('AWS::EC2::VPCEndpoint', 2);
    template.hasResourceProperties('AWS::EC2::VPCEndpoint', { VpcEndpointType: 'Gateway' });
  });

  it('keeps its logs for a month by default', () => {
    template.hasResourceProperties('AWS::Logs::LogGroup', {
      RetentionInDays: 30,
    });
    const c = container(template);
    expect(c.LogConfiguration).toMatchObject({ LogDriver: 'awslogs' });
  });

  it('uses a given VPC, and internet-facing with TLS advertises the custom domain', () => {
    const { template: t, gateway: g } = synth((s) => ({
      vpc: new ec2.Vpc(s, 'Existing', { maxAzs: 2 }),
      internetFacing: true,
      certificate: certificate(s),
      saslUsers: users(s),
      advertisedHost: 'kafka.example.com',
      desiredCount: 3,
      maxCapacity: 6,
    }));
    t.resourceCountIs('AWS::EC2::VPC', 1);
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', { Scheme: 'internet-facing' });
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 9092,
      Protocol: 'TLS',
      Certificates: [{ CertificateArn: CERTIFICATE_ARN }],
      SslPolicy: Match.stringLikeRegexp('TLS13'),
    });
    // The load balancer terminates TLS: the tasks still speak plain TCP.
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', { Protocol: 'TCP', Port: 9092 });
    const command = container(t).Command as unknown[];
    expect(command[command.indexOf('--advertised-host') + 1]).toBe('kafka.example.com');
    expect(g.bootstrapServers).toBe('kafka.example.com:9092');
    t.hasResourceProperties('AWS::ECS::Service', { DesiredCount: 3 });
    t.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
      MinCapacity: 3,
      MaxCapacity: 6,
    });
  });

  it('refuses an open or unencrypted public endpoint, a certificate without a host, and bad sizes', () => {
    expect(() => synth(() => ({ internetFacing: true }))).toThrow(/needs certificate and saslUsers/);
    expect(() =>
      synth((s) => ({ internetFacing: true, saslUsers: users(s), advertisedHost: 'kafka.example.com' })),
    ).toThrow(/needs certificate:/);
    expect(() => synth((s) => ({ certificate: certificate(s) }))).toThrow(/certificate needs advertisedHost/);
    expect(() => synth(() => ({ advertisedHost: 'not a host' }))).toThrow(/advertisedHost: "not a host"/);
    expect(() => synth(() => ({ desiredCount: 0 }))).toThrow(/desiredCount: 0/);
    expect(() => synth(() => ({ desiredCount: 4, maxCapacity: 3 }))).toThrow(/maxCapacity: 3/);
    expect(() => synth(() => ({ cpu: 300 }))).toThrow(/cpu: 300 is not a Fargate size/);
  });

  it('only stages the image build context at synthesis: the Dockerfile and the sources, no node_modules', () => {
    const outdir = mkdtempSync(join(tmpdir(), 'gateway-synth-'));
    afterAll(() => rmSync(outdir, { recursive: true, force: true }));
    const app = new App({ outdir, context: SKIP_BUNDLING });
    synth(() => ({}), app);
    const assembly = app.synth();
    const manifest = JSON.parse(readFileSync(join(assembly.directory, 'Stack.assets.json'), 'utf8')) as {
      dockerImages: Record<string, { source: { directory: string; dockerFile?: string; platform?: string } }>;
    };
    const images = Object.values(manifest.dockerImages).map((i) => i.source);
    expect(images).toHaveLength(1);
    const image = images[0] as (typeof images)[number];
    expect(image.dockerFile).toBe('gateway/Dockerfile');
    expect(image.platform).toBe('linux/arm64');
    const staged = join(assembly.directory, image.directory);
    expect(readdirSync(staged).sort()).toEqual(
      ['.dockerignore', 'cli', 'functions', 'gateway', 'package-lock.json', 'package.json', 'sdk'].sort(),
    );
    expect(existsSync(join(staged, 'gateway/Dockerfile'))).toBe(true);
    expect(existsSync(join(staged, 'cli/main.ts'))).toBe(true);
    expect(existsSync(join(staged, 'sdk/src/internal.ts'))).toBe(true);
    expect(readdirSync(join(staged, 'functions'))).toEqual(['environment.ts']);
  });

  it('is cdk-nag clean, internal and internet-facing, with a written reason for each acknowledgement', () => {
    const internal = testApp();
    synth((s) => ({ saslUsers: users(s) }), internal);
    expect(findings(internal)).toEqual([]);
    const open = testApp();
    synth(
      (s) => ({
        internetFacing: true,
        certificate: certificate(s),
        saslUsers: users(s),
        advertisedHost: 'kafka.example.com',
      }),
      open,
    );
    expect(findings(open)).toEqual([]);
    const reasons = open.node
      .findAll()
      .flatMap((c) => c.node.metadata)
      .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((m) => Object.values(m.data as Record<string, string>));
    expect(reasons.length).toBeGreaterThanOrEqual(5);
    for (const reason of reasons) expect(reason.length).toBeGreaterThan(80);
  });

  it('is part of a Tributary deployment with the `gateway` prop, and absent without it', () => {
    const app = testApp();
    const withGateway = new TributaryStack(app, 'WithGateway', { env: ENV, gateway: { desiredCount: 1 } });
    const without = new TributaryStack(app, 'Without', { env: ENV });
    expect(withGateway.tributary.gateway).toBeInstanceOf(TributaryGateway);
    expect(without.tributary.gateway).toBeUndefined();
    const t = Template.fromStack(withGateway);
    t.hasResourceProperties('AWS::ECS::Service', { DesiredCount: 1 });
    Template.fromStack(without).resourceCountIs('AWS::ECS::Service', 0);
    expect(findings(app)).toEqual([]);
  });
});
