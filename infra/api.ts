/**
 * The HTTP API: one API Gateway HTTP API route per entry of `sdk/src/api/routes.ts`, every one
 * IAM (SigV4) authorized, all served by one Lambda function that runs the SDK.
 */
import { Duration, Names, RemovalPolicy } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { apiFunctionEnvironment } from '../functions/environment.ts';
import { ROUTES, type RouteAccess, type RouteDefinition } from '../sdk/src/internal.ts';
import type { ArchiveBucket } from './archive-bucket.ts';
import { grantFunctionLookup } from './function-lookup.ts';
import { acknowledge, acknowledgeWildcardResource } from './nag.ts';
import type { TributaryTables } from './tables.ts';
import { createTributaryFunction, handlerEntry, type LogLevel } from './tributary-function.ts';
import { validateDuration, validateGroupName, validateInteger, validateTopicName } from './validation.ts';

/** Properties of {@link TributaryApi}. */
export interface TributaryApiProps {
  /** The tables the API serves. */
  readonly tables: TributaryTables;

  /** The archive the API reads (and, for admin routes, purges). */
  readonly archive: ArchiveBucket;

  /**
   * Timeout of the API function. A fetch long-polls for up to 20 s, and the route integrations time
   * out after 29 s (the most CDK allows for an HTTP API integration), so 21–29 s.
   *
   * @default Duration.seconds(29)
   */
  readonly timeout?: Duration;

  /**
   * Memory of the API function in MB (CPU grows with it; decompression and record batch encoding
   * are CPU-bound).
   *
   * @default 1024
   */
  readonly memorySize?: number;

  /**
   * Request rate limits of the stage, applied to every route: a runaway client hits these before
   * it runs up the bill.
   *
   * @default - { rateLimit: 1000, burstLimit: 2000 } requests per second
   */
  readonly throttle?: apigwv2.ThrottleSettings;

  /**
   * Log level of the function (Powertools `POWERTOOLS_LOG_LEVEL`).
   *
   * @default 'INFO'
   */
  readonly logLevel?: LogLevel;

  /**
   * Retention of the function's logs and of the stage's access logs.
   *
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
}

/** The names filled into a route's path when a grant builds its `execute-api` ARN. */
export interface RouteScope {
  /** Value of the `{topic}` segment. @default '*' (any topic) */
  readonly topic?: string;
  /** Value of the `{group}` segment. @default '*' (any group) */
  readonly group?: string;
}

/** The access classes each grant includes (see `RouteAccess` in `routes.ts`). */
const PRODUCE_ACCESS: readonly RouteAccess[] = ['public', 'describe', 'produce'];
const CONSUME_ACCESS: readonly RouteAccess[] = ['public', 'describe', 'consume', 'group', 'group-consume'];
const ADMIN_ACCESS: readonly RouteAccess[] = [
  'public',
  'describe',
  'produce',
  'consume',
  'group',
  'group-consume',
  'admin',
];

/**
 * Tributary's HTTP API: an API Gateway HTTP API whose `$default` stage has access logging and
 * throttling, with IAM authorization as the default authorizer of every route, and one Lambda
 * function (`functions/api/handler.ts`) integrated with all routes. The function has admin access
 * to the tables and the archive (it serves the admin routes; IAM decides who may call which
 * route).
 *
 * Callers are authorized per route: {@link grantProduce}, {@link grantConsume} and
 * {@link grantAdmin} grant `execute-api:Invoke` on the `execute-api` ARNs of the routes whose
 * `access` class the grant includes, with the topic or group filled into the path.
 */
export class TributaryApi extends Construct {
  /** The HTTP API. */
  public readonly httpApi: apigwv2.HttpApi;
  /** Its one stage, `$default`. */
  public readonly stage: apigwv2.HttpStage;
  /** The function behind every route. */
  public readonly handler: nodejs.NodejsFunction;
  /** The function's log group. */
  public readonly logGroup: logs.LogGroup;
  /** The stage's access log group. */
  public readonly accessLogGroup: logs.LogGroup;
  /**
   * The secret group sessions are signed with (generated at deploy; only the function reads it).
   * Replacing its value makes every HTTP group member join again on its next call.
   */
  public readonly sessionSecret: secretsmanager.Secret;
  /** The API's base URL (`https://<id>.execute-api.<region>.amazonaws.com/`). */
  public readonly url: string;

  constructor(scope: Construct, id: string, props: TributaryApiProps) {
    super(scope, id);
    const timeout = props.timeout ?? Duration.seconds(29);
    validateDuration('timeout', timeout, Duration.seconds(21), Duration.seconds(29));
    const memorySize = props.memorySize ?? 1024;
    validateInteger('memorySize', memorySize, 128, 10_240);
    const throttle = props.throttle ?? { rateLimit: 1000, burstLimit: 2000 };
    if (throttle.rateLimit !== undefined)
      validateInteger('throttle.rateLimit', throttle.rateLimit, 1, 1_000_000);
    if (throttle.burstLimit !== undefined)
      validateInteger('throttle.burstLimit', throttle.burstLimit, 1, 1_000_000);
    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;

    const fn = createTributaryFunction(this, {
      entry: handlerEntry('functions/api/handler.ts'),
      description: 'Tributary HTTP API',
      serviceName: 'tributary-api',
      timeout,
      memorySize,
      tables: props.tables,
      archive: props.archive,
      logLevel: props.logLevel ?? 'INFO',
      logRetention,
      logRemovalPolicy: RemovalPolicy.DESTROY,
    });
    this.handler = fn.handler;
    this.logGroup = fn.logGroup;
    this.sessionSecret = new secretsmanager.Secret(this, 'SessionSecret', {
      description: 'Tributary HTTP API: signs consumer group sessions',
      generateSecretString: { passwordLength: 64, excludePunctuation: true, includeSpace: false },
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.sessionSecret.grantRead(this.handler);
    for (const [name, value] of Object.entries(
      apiFunctionEnvironment({ sessionSecretArn: this.sessionSecret.secretArn }),
    )) {
      this.handler.addEnvironment(name, value);
    }
    acknowledge(
      this.sessionSecret,
      'AwsSolutions-SMG4',
      'The secret only signs short-lived group sessions (they expire after two session timeouts); rotating it ' +
        'needs no rotation function: replacing the value makes HTTP group members join again, nothing is lost.',
    );
    props.tables.grantAdmin(this.handler);
    props.archive.grantAdmin(this.handler);
    // It serves the trigger routes, whose create and update check that the function exists.
    grantFunctionLookup(this, this.handler, fn.role);
    acknowledgeWildcardResource(
      fn.role,
      props.archive.bucket.arnForObjects('*'),
      'The API function serves every topic, including the admin routes that purge deleted topics, so it reads ' +
        'and deletes objects under every topic prefix of the archive bucket (and only that bucket).',
    );

    this.httpApi = new apigwv2.HttpApi(this, 'HttpApi', {
      apiName: Names.uniqueResourceName(this, { maxLength: 128 }),
      description: 'Tributary: Kafka-style event streaming (SigV4 authorized)',
      createDefaultStage: false,
      defaultAuthorizer: new HttpIamAuthorizer(),
    });

    this.accessLogGroup = new logs.LogGroup(this, 'AccessLogs', {
      retention: logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.stage = new apigwv2.HttpStage(this, 'Stage', {
      httpApi: this.httpApi,
      autoDeploy: true,
      throttle,
      accessLogSettings: {
        destination: new apigwv2.LogGroupLogDestination(this.accessLogGroup),
        format: apigateway.AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            time: '$context.requestTimeEpoch',
            ip: '$context.identity.sourceIp',
            caller: '$context.identity.caller',
            user: '$context.identity.userArn',
            routeKey: '$context.routeKey',
            path: '$context.path',
            status: '$context.status',
            protocol: '$context.protocol',
            responseLength: '$context.responseLength',
            latency: '$context.responseLatency',
            integrationLatency: '$context.integrationLatency',
            integrationStatus: '$context.integrationStatus',
            error: '$context.error.message',
            integrationError: '$context.integrationErrorMessage',
          }),
        ),
      },
    });
    this.url = this.stage.url;

    // One integration (and one invoke permission for the whole API) shared by every route, with
    // the longest integration timeout HTTP APIs allow.
    const integration = new HttpLambdaIntegration('Handler', this.handler, {
      timeout: Duration.seconds(29),
      scopePermissionToRoute: false,
    });
    for (const route of ROUTES) {
      new apigwv2.HttpRoute(this, `Route-${route.operationId}`, {
        httpApi: this.httpApi,
        routeKey: apigwv2.HttpRouteKey.with(route.path, apigwv2.HttpMethod[route.method]),
        integration,
      });
    }
  }

  /**
   * The `execute-api` ARN of `route` on this API's stage:
   * `arn:<partition>:execute-api:<region>:<account>:<apiId>/$default/<METHOD>/<path>`, with
   * `{topic}` and `{group}` replaced by `scope`'s names (`*` when absent) and every other path
   * parameter (`{partition}`, `{member}`) by `*`.
   */
  public arnForRoute(route: RouteDefinition, scope: RouteScope = {}): string {
    if (scope.topic !== undefined) validateTopicName('topic', scope.topic);
    if (scope.group !== undefined) validateGroupName('group', scope.group);
    const path = route.path.replace(/\{([a-zA-Z]+)\}/g, (_match, name: string) => {
      if (name === 'topic') return scope.topic ?? '*';
      if (name === 'group') return scope.group ?? '*';
      return '*';
    });
    return this.httpApi.arnForExecuteApi(route.method, path, this.stage.stageName);
  }

  /**
   * Lets `grantee` call the routes a producer needs: `public` (the API description), `describe`
   * and `produce` routes, for `topic` (every topic when omitted).
   *
   * Without a topic the describe ARN ends in `/v1/topics/*`, and IAM's `*` also matches `/`, so
   * it covers the partition read routes too; such a producer may read every topic anyway (it
   * queries partitions for their tail). A topic-scoped grant names exact paths.
   */
  public grantProduce(grantee: iam.IGrantable, topic?: string): iam.Grant {
    return this.grant(grantee, PRODUCE_ACCESS, topic === undefined ? {} : { topic });
  }

  /**
   * Lets `grantee` call the routes a consumer needs: `public`, `describe` and `consume` routes for
   * `topic` (every topic when omitted), and the `group` routes (join, heartbeat, commit, fetch as a
   * member, describe, leave) for `group` (every group when omitted).
   */
  public grantConsume(grantee: iam.IGrantable, topic?: string, group?: string): iam.Grant {
    return this.grant(grantee, CONSUME_ACCESS, {
      ...(topic === undefined ? {} : { topic }),
      ...(group === undefined ? {} : { group }),
    });
  }

  /** Lets `grantee` call every route, for every topic and group (including the admin routes). */
  public grantAdmin(grantee: iam.IGrantable): iam.Grant {
    return this.grant(grantee, ADMIN_ACCESS, {});
  }

  /**
   * Requests that ended in a 5xx (function errors, timeouts, throttling by the function's
   * concurrency).
   *
   * @default - sum over 5 minutes
   */
  public metricServerErrors(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.httpApi.metricServerError(props);
  }

  /**
   * Requests that ended in a 4xx (including 403s of callers without the route's grant).
   *
   * @default - sum over 5 minutes
   */
  public metricClientErrors(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.httpApi.metricClientError(props);
  }

  /**
   * Time from request to response as the client sees it; fetches that long-poll count their wait.
   *
   * @default - average over 5 minutes
   */
  public metricLatency(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.httpApi.metricLatency(props);
  }

  /** The one place invoke grants are made: the routes of `accesses`, scoped to `scope`. */
  private grant(grantee: iam.IGrantable, accesses: readonly RouteAccess[], scope: RouteScope): iam.Grant {
    const routes = ROUTES.filter((route) => accesses.includes(route.access));
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['execute-api:Invoke'],
      resourceArns: routes.map((route) => this.arnForRoute(route, scope)),
    });
  }
}
