/**
 * The trigger dispatcher: the one function of the stack that delivers topics' records to trigger
 * functions (Tributary's Lambda event source mappings), run by `functions/dispatcher/handler.ts`
 * over the SDK's `Dispatcher` (DESIGN.md, "Lambda triggers").
 */
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { dispatcherFunctionEnvironment, SWEEP_EVENT } from '../functions/environment.ts';
import { PARTITION_META_OFFSET } from '../sdk/src/internal.ts';
import type { ArchiveBucket } from './archive-bucket.ts';
import { acknowledgeWildcardResource } from './nag.ts';
import type { TributaryTables } from './tables.ts';
import {
  createTributaryFunction,
  handlerEntry,
  type LogLevel,
  METRICS_NAMESPACE,
} from './tributary-function.ts';
import { createTriggerProvider, type TributaryTriggerProvider } from './trigger-provider.ts';
import { validateInteger } from './validation.ts';

/** Properties of {@link TributaryDispatcher}. */
export interface TributaryDispatcherProps {
  /** The tables whose topics the triggers read. */
  readonly tables: TributaryTables;

  /** The archive (archived segments are delivered from it; large dead letters are written to it). */
  readonly archive: ArchiveBucket;

  /**
   * When the sweep runs: it starts workers for partitions that are due and that no worker holds (a
   * backoff that ended, a lost doorbell, a crashed worker, a trigger just enabled). A sweep reads a
   * few hundred bytes per partition of each enabled trigger and no records.
   *
   * @default events.Schedule.rate(Duration.minutes(1))
   */
  readonly sweepSchedule?: events.Schedule;

  /**
   * The `bootstrapServers` written into every event and failure record. Tributary has no brokers,
   * so this only names the deployment to handlers that log or route by it.
   *
   * @default `tributary.<region>:9092`
   */
  readonly bootstrapServers?: string;

  /**
   * Memory of the dispatcher function in MB. A worker holds one batch (up to the 6 MB invocation
   * payload) and its dead letters in memory.
   *
   * @default 1024
   */
  readonly memorySize?: number;

  /**
   * Log level of the dispatcher and the trigger resource provider (Powertools `POWERTOOLS_LOG_LEVEL`).
   *
   * @default 'INFO'
   */
  readonly logLevel?: LogLevel;

  /**
   * Retention of the functions' logs.
   *
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * Counters the dispatcher publishes per trigger (Powertools metrics in namespace `Tributary`, with
 * dimensions `service` and `trigger`), named as Lambda names its event source mapping metrics.
 */
export type DispatcherMetricName =
  | 'OffsetLag'
  | 'PolledEventCount'
  | 'FilteredOutEventCount'
  | 'InvokedEventCount'
  | 'FailedInvokeEventCount'
  | 'DroppedEventCount'
  | 'OnFailureDestinationDeliveredEventCount'
  | 'CommittedEventCount'
  | 'InvokeErrorCount'
  | 'Throttles';

/** `POWERTOOLS_SERVICE_NAME` of the dispatcher: the `service` dimension of its metrics. */
const SERVICE_NAME = 'tributary-dispatcher';

/**
 * Key prefix of the failure records the dispatcher writes to an S3 on-failure destination
 * (`sdk/src/triggers/destinations.ts`): `aws/lambda/tributary/<trigger>/...`.
 */
const S3_DESTINATION_PREFIX = 'aws/lambda/tributary/';

/**
 * The stream mapping's filter: the records that may carry news for a trigger. The dispatcher's
 * handler decides again per record (`rungPartitionOf`); this only keeps the other records from
 * invoking it at all.
 * - `INSERT` and `MODIFY` (a two-phase append writes its body as a `MODIFY`); a `REMOVE`
 *   (archiving, retention, TTL expiry of stubs) never brings records.
 * - Batches only: not a partition's metadata item (sort key {@link PARTITION_META_OFFSET}), not the
 *   segment manifests and producer state under `<partition key>#…`. The filter compares the key's
 *   text: Lambda's `numeric` matches JSON numbers only, and a stream record carries DynamoDB
 *   numbers as strings (`"N": "42"`), so `numeric: [">=", 0]` would drop every record (LocalStack's
 *   AWS-validated `numeric_filter` test of DynamoDB stream mappings shows exactly that). And
 *   `anything-but` with `suffix` or `wildcard` is not offered to event source mappings (EventBridge
 *   Pipes, which share their filtering, lists them as unsupported), so "no `#`" is written as "ends
 *   with a digit": a batch's key ends with its partition number, the others end with a word.
 */
export const DOORBELL_FILTER = {
  eventName: ['INSERT', 'MODIFY'],
  dynamodb: {
    Keys: {
      off: { N: [{ 'anything-but': [String(PARTITION_META_OFFSET)] }] },
      pk: { S: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'].map((digit) => ({ suffix: digit })) },
    },
  },
} as const;

/**
 * The dispatcher (`functions/dispatcher/handler.ts`): one function, woken three ways —
 * - by the log table's DynamoDB stream (reading it is free for Lambda), through an event source
 *   mapping filtered to batch writes ({@link DOORBELL_FILTER}); the stream is only a doorbell;
 * - by an EventBridge schedule (the sweep, {@link SWEEP_EVENT});
 * - by asynchronous invocations of itself, one per (trigger, partition) worker, so a long delivery
 *   never holds a stream shard.
 *
 * It has admin access to the tables and the archive (it reads every topic, commits trigger groups,
 * writes dead letters to topics and lists triggers). It may invoke only itself and the functions
 * it is given with {@link grantInvokeTarget} (each `TributaryEventSource` does that for its own
 * function), and write only to the destinations given with {@link grantSendToQueue} and
 * {@link grantWriteToBucket}.
 *
 * The construct also holds the CloudFormation custom resource provider that `TributaryEventSource`
 * creates, updates and deletes triggers with ({@link triggerProvider}).
 */
export class TributaryDispatcher extends Construct {
  /** The dispatcher function. */
  public readonly handler: nodejs.NodejsFunction;
  /** Its execution role. */
  public readonly role: iam.Role;
  /** Its log group. */
  public readonly logGroup: logs.LogGroup;
  /** The sweep's schedule rule. */
  public readonly rule: events.Rule;
  /** The log table stream's event source mapping. */
  public readonly streamSource: DynamoEventSource;
  /** The custom resource provider behind `TributaryEventSource`'s triggers. */
  public readonly triggerProvider: TributaryTriggerProvider;

  constructor(scope: Construct, id: string, props: TributaryDispatcherProps) {
    super(scope, id);
    const memorySize = props.memorySize ?? 1024;
    validateInteger('memorySize', memorySize, 128, 10_240);
    const logLevel = props.logLevel ?? 'INFO';
    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;

    const fn = createTributaryFunction(this, {
      entry: handlerEntry('functions/dispatcher/handler.ts'),
      description: 'Tributary trigger dispatcher (topics to Lambda functions)',
      serviceName: SERVICE_NAME,
      // A worker delivers until its run ends, then hands on: the longest run Lambda allows.
      timeout: Duration.minutes(15),
      memorySize,
      tables: props.tables,
      archive: props.archive,
      logLevel,
      logRetention,
      logRemovalPolicy: RemovalPolicy.DESTROY,
    });
    this.handler = fn.handler;
    this.role = fn.role;
    this.logGroup = fn.logGroup;
    const bootstrapServers = props.bootstrapServers ?? `tributary.${Stack.of(this).region}:9092`;
    for (const [name, value] of Object.entries(dispatcherFunctionEnvironment({ bootstrapServers }))) {
      this.handler.addEnvironment(name, value);
    }

    props.tables.grantAdmin(this.handler);
    props.archive.grantAdmin(this.handler);
    acknowledgeWildcardResource(
      fn.role,
      props.archive.bucket.arnForObjects('*'),
      'The dispatcher delivers every topic that has a trigger: it reads archived segments and large batches ' +
        'under every topic prefix and writes large dead-letter batches under the destination topic prefix ' +
        'of the archive bucket (and only that bucket).',
    );

    // Worker jobs are asynchronous invocations of this very function. The statement names the
    // function's own ARN; it lives in a policy of its own, outside the role's default policy that
    // the function depends on, so the reference cannot form a dependency cycle.
    new iam.Policy(this, 'SelfInvoke', {
      roles: [this.role],
      statements: [
        new iam.PolicyStatement({
          actions: ['lambda:InvokeFunction'],
          resources: [this.handler.functionArn],
        }),
      ],
    });

    this.streamSource = new DynamoEventSource(props.tables.log, {
      // Only new writes matter: everything older is found by the sweep from committed offsets.
      startingPosition: lambda.StartingPosition.LATEST,
      batchSize: 1000,
      maxBatchingWindow: Duration.seconds(1),
      // A doorbell that keeps failing is dropped after a few tries: the sweep finds the partitions.
      retryAttempts: 3,
      bisectBatchOnError: true,
      reportBatchItemFailures: true,
      filters: [lambda.FilterCriteria.filter(DOORBELL_FILTER)],
    });
    this.handler.addEventSource(this.streamSource);

    this.rule = new events.Rule(this, 'Sweep', {
      description: 'Sweeps Tributary triggers for due partitions',
      schedule: props.sweepSchedule ?? events.Schedule.rate(Duration.minutes(1)),
      // A missed sweep is not retried: the next one does the same work.
      targets: [
        new targets.LambdaFunction(this.handler, {
          event: events.RuleTargetInput.fromObject(SWEEP_EVENT),
          retryAttempts: 0,
          maxEventAge: Duration.minutes(1),
        }),
      ],
    });

    this.triggerProvider = createTriggerProvider(new Construct(this, 'TriggerResources'), {
      tables: props.tables,
      archive: props.archive,
      logLevel,
      logRetention,
    });
  }

  /**
   * Lets the dispatcher invoke `target` and read its configuration (its timeout bounds a worker's
   * last invocation), for a trigger created outside CDK (SDK, CLI, HTTP API) that names it. A
   * `TributaryEventSource` grants this itself. An alias or a version grants exactly that qualifier.
   */
  public grantInvokeTarget(target: lambda.IFunction): iam.Grant {
    return this.grant(targetStatements(target));
  }

  /** Lets the dispatcher send failure records to `queue`, a trigger's on-failure destination. */
  public grantSendToQueue(queue: sqs.IQueue): iam.Grant {
    return this.grant(queueStatements(queue));
  }

  /**
   * Lets the dispatcher write failure records into `bucket`, a trigger's on-failure destination:
   * under `aws/lambda/tributary/<trigger>/` for `trigger`, or for every trigger when omitted.
   */
  public grantWriteToBucket(bucket: s3.IBucket, trigger?: string): iam.Grant {
    return this.grant(bucketStatements(bucket, trigger));
  }

  /**
   * A metric the dispatcher publishes for `trigger`. Counts are summed; `OffsetLag` (records not
   * yet delivered, per worker run) takes the maximum.
   *
   * @default - sum (maximum for OffsetLag) over 5 minutes
   */
  public metric(
    metricName: DispatcherMetricName,
    trigger: string,
    props?: cloudwatch.MetricOptions,
  ): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: METRICS_NAMESPACE,
      metricName,
      dimensionsMap: { service: SERVICE_NAME, trigger },
      statistic: metricName === 'OffsetLag' ? cloudwatch.Stats.MAXIMUM : cloudwatch.Stats.SUM,
      ...props,
    });
  }

  /**
   * Records of `trigger`'s topic not yet delivered (Lambda's `OffsetLag`): alarm on a lag that keeps
   * growing — a function that fails or is too slow for its topic.
   *
   * @default - maximum over 5 minutes
   */
  public metricOffsetLag(trigger: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('OffsetLag', trigger, props);
  }

  /**
   * Records delivered to `trigger`'s function (each attempt counts).
   *
   * @default - sum over 5 minutes
   */
  public metricInvokedEventCount(trigger: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('InvokedEventCount', trigger, props);
  }

  /**
   * Records in invocations of `trigger`'s function that failed.
   *
   * @default - sum over 5 minutes
   */
  public metricFailedInvokeEventCount(trigger: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('FailedInvokeEventCount', trigger, props);
  }

  /**
   * Records `trigger`'s filters left out (committed without an invocation).
   *
   * @default - sum over 5 minutes
   */
  public metricFilteredOutEventCount(trigger: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('FilteredOutEventCount', trigger, props);
  }

  /**
   * Records given up on and sent to `trigger`'s on-failure destination.
   *
   * @default - sum over 5 minutes
   */
  public metricOnFailureDestinationDeliveredEventCount(
    trigger: string,
    props?: cloudwatch.MetricOptions,
  ): cloudwatch.Metric {
    return this.metric('OnFailureDestinationDeliveredEventCount', trigger, props);
  }

  /**
   * Records whose offsets `trigger`'s group committed (delivered, filtered out or given up on).
   *
   * @default - sum over 5 minutes
   */
  public metricCommittedEventCount(trigger: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('CommittedEventCount', trigger, props);
  }

  /**
   * Dispatcher invocations that failed (doorbells, sweeps and worker runs). Failed worker runs are
   * retried by the sweep; a steady rate means a trigger cannot be delivered (see its `lastError`).
   *
   * @default - sum over 5 minutes
   */
  public metricErrors(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.handler.metricErrors(props);
  }

  /** The one place the dispatcher's role is given statements. */
  private grant(statements: readonly iam.PolicyStatement[]): iam.Grant {
    const [first, ...rest] = statements.map((statement) =>
      iam.Grant.addToPrincipal({
        grantee: this.role,
        actions: statement.actions,
        resourceArns: statement.resources,
      }),
    );
    if (!first) throw new Error('TributaryDispatcher: no statement to grant');
    return rest.reduce((all, grant) => all.combine(grant), first);
  }
}

/**
 * What the dispatcher needs on a trigger's function: invoke it (synchronously, like an event
 * source mapping) and read its configuration. Exactly the function's ARN (qualified for an alias
 * or a version), never a wildcard.
 */
export function targetStatements(target: lambda.IFunction): iam.PolicyStatement[] {
  return [
    new iam.PolicyStatement({
      actions: ['lambda:InvokeFunction', 'lambda:GetFunctionConfiguration'],
      resources: [target.functionArn],
    }),
  ];
}

/** What the dispatcher needs to send failure records to an SQS queue (and its KMS key, if any). */
export function queueStatements(queue: sqs.IQueue): iam.PolicyStatement[] {
  const statements = [
    new iam.PolicyStatement({ actions: ['sqs:GetQueueUrl', 'sqs:SendMessage'], resources: [queue.queueArn] }),
  ];
  if (queue.encryptionMasterKey) {
    statements.push(
      new iam.PolicyStatement({
        actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
        resources: [queue.encryptionMasterKey.keyArn],
      }),
    );
  }
  return statements;
}

/**
 * What the dispatcher needs to write failure records of `trigger` (every trigger when omitted) into
 * an S3 bucket (and its KMS key, if any): `PutObject` under the records' key prefix only.
 */
export function bucketStatements(bucket: s3.IBucket, trigger?: string): iam.PolicyStatement[] {
  const statements = [
    new iam.PolicyStatement({
      actions: ['s3:PutObject'],
      resources: [bucket.arnForObjects(bucketDestinationKeys(trigger))],
    }),
  ];
  if (bucket.encryptionKey) {
    statements.push(
      new iam.PolicyStatement({ actions: ['kms:GenerateDataKey'], resources: [bucket.encryptionKey.keyArn] }),
    );
  }
  return statements;
}

/** The object keys of a trigger's failure records, as an IAM pattern. */
export function bucketDestinationKeys(trigger?: string): string {
  return trigger === undefined ? `${S3_DESTINATION_PREFIX}*` : `${S3_DESTINATION_PREFIX}${trigger}/*`;
}
