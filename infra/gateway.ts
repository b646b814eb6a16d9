/**
 * The Kafka wire-protocol gateway deployed: `tributary gateway` in containers on ECS Fargate, behind
 * a Network Load Balancer that Kafka clients bootstrap from.
 */
import { fileURLToPath } from 'node:url';
import { Duration, IgnoreMode, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import type * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Platform } from 'aws-cdk-lib/aws-ecr-assets';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { functionEnvironment, GATEWAY_SASL_USERS_VARIABLE } from '../functions/environment.ts';
import type { ArchiveBucket } from './archive-bucket.ts';
import { acknowledge, acknowledgeWildcardResource } from './nag.ts';
import type { TributaryTables } from './tables.ts';
import { validateInteger } from './validation.ts';

/** Properties of {@link TributaryGateway}. */
export interface TributaryGatewayProps {
  /** The tables the gateway serves. */
  readonly tables: TributaryTables;

  /** The archive it reads (fetches below the tables' tier) and purges (deleting topics). */
  readonly archive: ArchiveBucket;

  /**
   * The VPC of the tasks and the load balancer: its private subnets (with egress) hold the tasks,
   * and its public subnets an internet-facing load balancer.
   *
   * @default - a new VPC over two availability zones, with public and private subnets, one NAT
   *   gateway (pulling the image, logs, Secrets Manager) and gateway endpoints for DynamoDB and S3
   *   (the gateway's own traffic never crosses the NAT gateway)
   */
  readonly vpc?: ec2.IVpc;

  /**
   * Whether the load balancer has a public address. Then `saslUsers` and `certificate` are
   * required: an open Kafka endpoint would let anyone produce, consume and delete topics, and
   * SASL/PLAIN sends passwords as they are.
   *
   * @default false — internal: reachable from inside the VPC (and what is peered or connected to it)
   */
  readonly internetFacing?: boolean;

  /**
   * An ACM certificate for `advertisedHost`: the listener is then TLS (the load balancer terminates
   * TLS and forwards plain TCP to the tasks), and clients connect with `security.protocol=SSL` or
   * `SASL_SSL`. Needs `advertisedHost`: no certificate can name the load balancer's own DNS name.
   *
   * @default - a plain TCP listener
   */
  readonly certificate?: acm.ICertificate;

  /**
   * The host name clients connect to, which the gateway advertises as its broker in Metadata: a
   * custom domain pointed (CNAME or alias) at {@link TributaryGateway.loadBalancer}.
   *
   * @default - the load balancer's DNS name
   */
  readonly advertisedHost?: string;

  /**
   * A Secrets Manager secret whose value is the SASL/PLAIN users, `user:password,user2:password2`.
   * It reaches the containers as an ECS secret (read by the task's execution role at start), never
   * as plain text in the template; a changed value takes effect as tasks are replaced.
   *
   * @default - no authentication: any client that reaches the load balancer is served
   */
  readonly saslUsers?: secretsmanager.ISecret;

  /**
   * Tasks to run, and the floor of CPU-based autoscaling (target 60 % CPU).
   *
   * @default 2 — one per availability zone of a new VPC, so losing a zone or a task interrupts nothing
   */
  readonly desiredCount?: number;

  /**
   * The most tasks autoscaling starts.
   *
   * @default 10, or `desiredCount` if that is larger
   */
  readonly maxCapacity?: number;

  /**
   * vCPU of a task in CPU units (1024 = 1 vCPU): 256, 512, 1024, 2048, 4096, 8192 or 16384.
   *
   * @default 512
   */
  readonly cpu?: number;

  /**
   * Memory of a task (MiB), one Fargate allows with `cpu`.
   *
   * @default 1024
   */
  readonly memoryLimitMiB?: number;

  /**
   * Retention of the containers' logs.
   *
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
}

/** The one port: the containers listen on it and the load balancer's listener serves it. */
const KAFKA_PORT = 9092;

/**
 * The containers' HTTP health and metrics port (`GET /health`, `GET /metrics`): reached by the load
 * balancer's health checks only, never through its listener.
 */
const HEALTH_PORT = 8080;

/** The variable `tributary gateway` reads SASL/PLAIN users from. */
const SASL_USERS_VARIABLE = GATEWAY_SASL_USERS_VARIABLE;

/** CPU utilisation autoscaling keeps the tasks at. */
const TARGET_CPU_PERCENT = 60;

/** The repository root: the image's build context (what it may copy is listed in `/.dockerignore`). */
const REPOSITORY_ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * The Kafka wire-protocol gateway: an ECS Fargate service (arm64, Node.js 22) running
 * `tributary gateway` behind a Network Load Balancer, scaled on CPU. Kafka clients bootstrap from
 * {@link bootstrapServers}; every task advertises itself as the cluster's one broker at the load
 * balancer's address, so whichever task a connection lands on serves it — the gateways keep no
 * state of their own.
 *
 * The container image is built from the repository (`gateway/Dockerfile`) when the stack is
 * deployed; synthesis only stages the build context. The tasks' role has admin access to the
 * tables and the archive (the gateway serves topic administration); SASL/PLAIN users come from a
 * Secrets Manager secret. Health checks ask `GET /health` on the tasks' health port (8080), which
 * answers 503 as soon as a task is stopping; the tasks also write per-API CloudWatch metrics
 * (namespace `Tributary/Gateway`) as Embedded Metric Format lines to their logs.
 */
export class TributaryGateway extends Construct {
  /** The VPC of the tasks and the load balancer. */
  public readonly vpc: ec2.IVpc;
  /** The cluster the service runs in. */
  public readonly cluster: ecs.Cluster;
  /** The task definition (one container, `gateway`). */
  public readonly taskDefinition: ecs.FargateTaskDefinition;
  /** The service. */
  public readonly service: ecs.FargateService;
  /** The load balancer clients connect to. */
  public readonly loadBalancer: elbv2.NetworkLoadBalancer;
  /** Its listener on port 9092 (TCP, or TLS with `certificate`). */
  public readonly listener: elbv2.NetworkListener;
  /** The containers' log group. */
  public readonly logGroup: logs.LogGroup;
  /**
   * Who may connect: the load balancer's security group. Inside the VPC by default (everywhere when
   * internet-facing); allow more with `gateway.connections.allowDefaultPortFrom(peer)`.
   */
  public readonly connections: ec2.Connections;
  /** The host the gateway advertises (the load balancer's DNS name, or `advertisedHost`). */
  public readonly advertisedHost: string;
  /** `host:9092`: Kafka clients' `bootstrap.servers`. */
  public readonly bootstrapServers: string;

  constructor(scope: Construct, id: string, props: TributaryGatewayProps) {
    super(scope, id);
    const internetFacing = props.internetFacing ?? false;
    validateAccess(props, internetFacing);
    const desiredCount = props.desiredCount ?? 2;
    validateInteger('desiredCount', desiredCount, 1, 1_000);
    const maxCapacity = props.maxCapacity ?? Math.max(10, desiredCount);
    validateInteger('maxCapacity', maxCapacity, desiredCount, 1_000);
    const cpu = props.cpu ?? 512;
    if (!Token.isUnresolved(cpu) && ![256, 512, 1024, 2048, 4096, 8192, 16384].includes(cpu)) {
      throw new Error(`cpu: ${cpu} is not a Fargate size; use 256, 512, 1024, 2048, 4096, 8192 or 16384`);
    }
    const memoryLimitMiB = props.memoryLimitMiB ?? 1024;
    validateInteger('memoryLimitMiB', memoryLimitMiB, 512, 122_880);

    this.vpc = props.vpc ?? this.createVpc();
    this.cluster = new ecs.Cluster(this, 'Cluster', {
      vpc: this.vpc,
      containerInsightsV2: ecs.ContainerInsights.ENABLED,
    });

    const lbSecurityGroup = new ec2.SecurityGroup(this, 'LoadBalancerSecurityGroup', {
      vpc: this.vpc,
      description: 'Tributary Kafka gateway: clients to the load balancer',
      allowAllOutbound: false,
    });
    this.connections = new ec2.Connections({
      securityGroups: [lbSecurityGroup],
      defaultPort: ec2.Port.tcp(KAFKA_PORT),
    });
    this.connections.allowDefaultPortFrom(
      internetFacing ? ec2.Peer.anyIpv4() : ec2.Peer.ipv4(this.vpc.vpcCidrBlock),
      internetFacing ? 'Kafka clients anywhere (TLS and SASL required)' : 'Kafka clients in the VPC',
    );
    acknowledge(
      lbSecurityGroup,
      'AwsSolutions-EC23',
      internetFacing
        ? 'An internet-facing gateway is a public Kafka endpoint by choice (internetFacing: true); the construct ' +
            'then requires a TLS listener and SASL/PLAIN users, so every connection is encrypted and authenticated.'
        : "The only ingress is the Kafka port from the VPC's own CIDR block, which cdk-nag cannot resolve at " +
            'synthesis (it is a CloudFormation attribute) and so takes for an open range.',
    );
    this.loadBalancer = new elbv2.NetworkLoadBalancer(this, 'LoadBalancer', {
      vpc: this.vpc,
      internetFacing,
      vpcSubnets: { subnetType: internetFacing ? ec2.SubnetType.PUBLIC : ec2.SubnetType.PRIVATE_WITH_EGRESS },
      securityGroups: [lbSecurityGroup],
      crossZoneEnabled: true,
    });
    acknowledge(
      this.loadBalancer,
      'AwsSolutions-ELB2',
      'NLB access logs record TLS connections only (never plain TCP ones) and carry no Kafka request detail; ' +
        'the gateway logs every closed connection and failure itself, to the log group with retention.',
    );
    this.advertisedHost = props.advertisedHost ?? this.loadBalancer.loadBalancerDnsName;
    this.bootstrapServers = `${this.advertisedHost}:${KAFKA_PORT}`;

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.taskDefinition = new ecs.FargateTaskDefinition(this, 'TaskDefinition', {
      cpu,
      memoryLimitMiB,
      runtimePlatform: {
        cpuArchitecture: ecs.CpuArchitecture.ARM64,
        operatingSystemFamily: ecs.OperatingSystemFamily.LINUX,
      },
    });
    const tables = props.tables;
    this.taskDefinition.addContainer('gateway', {
      image: ecs.ContainerImage.fromAsset(REPOSITORY_ROOT, {
        file: 'gateway/Dockerfile',
        ignoreMode: IgnoreMode.DOCKER,
        platform: Platform.LINUX_ARM64,
      }),
      // The Dockerfile's entrypoint is `tributary gateway`; these are its options.
      command: [
        '--host',
        '0.0.0.0',
        '--port',
        String(KAFKA_PORT),
        '--advertised-host',
        this.advertisedHost,
        '--advertised-port',
        String(KAFKA_PORT),
        '--endpoint',
        'aws',
        '--region',
        Stack.of(this).region,
        '--tables-from-env',
        '--health-port',
        String(HEALTH_PORT),
      ],
      environment: functionEnvironment(
        { tables: tables.tableNames, bucket: props.archive.bucket.bucketName },
        // The deployment's regions, home (the stack's region) first, as the functions get them.
        tables.replicaRegions.length > 0
          ? {
              names: [Stack.of(tables).region, ...tables.replicaRegions],
              consistency: tables.multiRegionConsistency,
              witnessRegion: tables.witnessRegion,
            }
          : undefined,
      ),
      ...(props.saslUsers
        ? { secrets: { [SASL_USERS_VARIABLE]: ecs.Secret.fromSecretsManager(props.saslUsers) } }
        : {}),
      portMappings: [
        { containerPort: KAFKA_PORT, protocol: ecs.Protocol.TCP },
        { containerPort: HEALTH_PORT, protocol: ecs.Protocol.TCP },
      ],
      logging: ecs.LogDrivers.awsLogs({ logGroup: this.logGroup, streamPrefix: 'gateway' }),
      // The gateway closes its connections on SIGTERM and waits for the requests in flight.
      stopTimeout: Duration.seconds(30),
    });
    acknowledge(
      this.taskDefinition,
      'AwsSolutions-ECS2',
      'The environment holds only the names of the tables and the bucket (and the regions), which are not ' +
        'secrets; the one secret, the SASL/PLAIN users, is an ECS secret read from Secrets Manager at start.',
    );

    const serviceSecurityGroup = new ec2.SecurityGroup(this, 'ServiceSecurityGroup', {
      vpc: this.vpc,
      description: 'Tributary Kafka gateway tasks: from the load balancer only',
    });
    this.service = new ecs.FargateService(this, 'Service', {
      cluster: this.cluster,
      taskDefinition: this.taskDefinition,
      desiredCount,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      securityGroups: [serviceSecurityGroup],
      assignPublicIp: false,
      circuitBreaker: { rollback: true },
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
    });
    this.service.connections.allowFrom(lbSecurityGroup, ec2.Port.tcp(KAFKA_PORT), 'The load balancer');
    lbSecurityGroup.addEgressRule(serviceSecurityGroup, ec2.Port.tcp(KAFKA_PORT), 'To the gateway tasks');
    this.service.connections.allowFrom(
      lbSecurityGroup,
      ec2.Port.tcp(HEALTH_PORT),
      "The load balancer's health checks",
    );
    lbSecurityGroup.addEgressRule(
      serviceSecurityGroup,
      ec2.Port.tcp(HEALTH_PORT),
      "Health checks of the gateway tasks' /health",
    );

    this.listener = this.loadBalancer.addListener('Listener', {
      port: KAFKA_PORT,
      ...(props.certificate
        ? {
            protocol: elbv2.Protocol.TLS,
            certificates: [elbv2.ListenerCertificate.fromCertificateManager(props.certificate)],
            sslPolicy: elbv2.SslPolicy.RECOMMENDED_TLS,
          }
        : { protocol: elbv2.Protocol.TCP }),
    });
    this.listener.addTargets('Tasks', {
      port: KAFKA_PORT,
      protocol: elbv2.Protocol.TCP,
      targets: [this.service.loadBalancerTarget({ containerName: 'gateway', containerPort: KAFKA_PORT })],
      // HTTP on the health port rather than a TCP connect: a stopping task answers 503 and is taken
      // out while it still accepts connections, and a task whose event loop is stuck fails.
      healthCheck: {
        protocol: elbv2.Protocol.HTTP,
        port: String(HEALTH_PORT),
        path: '/health',
        healthyHttpCodes: '200',
        interval: Duration.seconds(10),
        healthyThresholdCount: 2,
        unhealthyThresholdCount: 2,
      },
      // Kafka clients reconnect and re-bootstrap; a stopping task need not hold its connections long.
      deregistrationDelay: Duration.seconds(30),
    });

    const scaling = this.service.autoScaleTaskCount({ minCapacity: desiredCount, maxCapacity });
    scaling.scaleOnCpuUtilization('Cpu', { targetUtilizationPercent: TARGET_CPU_PERCENT });

    acknowledge(
      this.taskDefinition.obtainExecutionRole(),
      'AwsSolutions-IAM5[Resource::*]',
      'The execution role pulls the image from ECR, and ecr:GetAuthorizationToken has no resource to scope to ' +
        '(IAM accepts only "*" for it); pulling itself is scoped to the assets repository.',
    );
    const role = this.taskDefinition.taskRole;
    props.tables.grantAdmin(role);
    props.archive.grantAdmin(role);
    acknowledgeWildcardResource(
      role,
      props.archive.bucket.arnForObjects('*'),
      'The gateway serves every topic, including DeleteTopics, whose purge removes the topic under every key ' +
        'prefix of the archive bucket, so it reads and deletes objects of that bucket (and only that bucket).',
    );
  }

  /** A VPC for the gateway alone: see {@link TributaryGatewayProps.vpc}. */
  private createVpc(): ec2.Vpc {
    const vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs: 2,
      natGateways: 1,
      subnetConfiguration: [
        { name: 'Public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
        { name: 'Private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 22 },
      ],
      gatewayEndpoints: {
        DynamoDB: { service: ec2.GatewayVpcEndpointAwsService.DYNAMODB },
        S3: { service: ec2.GatewayVpcEndpointAwsService.S3 },
      },
    });
    vpc.addFlowLog('RejectedTraffic', {
      trafficType: ec2.FlowLogTrafficType.REJECT,
      destination: ec2.FlowLogDestination.toCloudWatchLogs(
        new logs.LogGroup(this, 'FlowLogs', {
          retention: logs.RetentionDays.ONE_MONTH,
          removalPolicy: RemovalPolicy.DESTROY,
        }),
      ),
    });
    return vpc;
  }
}

function validateAccess(props: TributaryGatewayProps, internetFacing: boolean): void {
  if (props.certificate && props.advertisedHost === undefined) {
    throw new Error(
      'TributaryGateway: certificate needs advertisedHost, the name the certificate is for (clients check the ' +
        "advertised host against it, and no certificate can name the load balancer's own DNS name)",
    );
  }
  if (props.advertisedHost !== undefined && !Token.isUnresolved(props.advertisedHost)) {
    if (
      !/^[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?)*$/.test(
        props.advertisedHost,
      )
    ) {
      throw new Error(
        `advertisedHost: "${props.advertisedHost}" is not a host name; give a DNS name such as kafka.example.com`,
      );
    }
  }
  if (internetFacing && (!props.certificate || !props.saslUsers)) {
    throw new Error(
      `TributaryGateway: internetFacing true needs ${[
        !props.certificate && 'certificate',
        !props.saslUsers && 'saslUsers',
      ]
        .filter(Boolean)
        .join(
          ' and ',
        )}: a public Kafka endpoint must encrypt (TLS) and authenticate (SASL/PLAIN) every connection`,
    );
  }
}
