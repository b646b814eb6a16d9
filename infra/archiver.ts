/**
 * The scheduled archiver: moves old batches of every topic from DynamoDB into S3 segments and
 * applies retention (`sdk/src/archive/archiver.ts`), run by `functions/archiver/handler.ts`.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { ArchiveBucket } from './archive-bucket.ts';
import { acknowledgeWildcardResource } from './nag.ts';
import type { TributaryTables } from './tables.ts';
import { createTributaryFunction, handlerEntry, type LogLevel } from './tributary-function.ts';
import { validateDuration, validateInteger } from './validation.ts';

/** Properties of {@link TributaryArchiver}. */
export interface TributaryArchiverProps {
  /** The tables whose topics are archived. */
  readonly tables: TributaryTables;

  /** The bucket the segments go to. */
  readonly archive: ArchiveBucket;

  /**
   * When the archiver runs. Each run works through every topic and stops early when there is
   * nothing due, so frequent runs are cheap; a run that overlaps the next is safe (archiving is
   * idempotent and races only on conditional writes).
   *
   * @default events.Schedule.rate(Duration.minutes(1))
   */
  readonly schedule?: events.Schedule;

  /**
   * Whether the schedule is enabled. A disabled archiver keeps every batch in DynamoDB and applies
   * no retention until it is enabled again.
   *
   * @default true
   */
  readonly enabled?: boolean;

  /**
   * Timeout of one run (a run that is cut short continues where it stopped on the next run).
   * 1–15 minutes.
   *
   * @default Duration.minutes(10)
   */
  readonly timeout?: Duration;

  /**
   * Memory of the archiver function in MB. It holds a segment (up to the topic's `segment.bytes`)
   * in memory while uploading it; bigger functions also get more CPU and network.
   *
   * @default 1024
   */
  readonly memorySize?: number;

  /**
   * Log level of the function (Powertools `POWERTOOLS_LOG_LEVEL`).
   *
   * @default 'INFO'
   */
  readonly logLevel?: LogLevel;

  /**
   * Retention of the function's logs.
   *
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * The archiver function (`functions/archiver/handler.ts`) and the EventBridge rule that runs it on
 * a schedule. The function may list topics, read and rewrite the log's archive bookkeeping and
 * write, read and delete archive objects; it has no access to consumer groups.
 */
export class TributaryArchiver extends Construct {
  /** The archiver function. */
  public readonly handler: nodejs.NodejsFunction;
  /** Its log group. */
  public readonly logGroup: logs.LogGroup;
  /** The schedule rule. */
  public readonly rule: events.Rule;

  constructor(scope: Construct, id: string, props: TributaryArchiverProps) {
    super(scope, id);
    const timeout = props.timeout ?? Duration.minutes(10);
    validateDuration('timeout', timeout, Duration.minutes(1), Duration.minutes(15));
    const memorySize = props.memorySize ?? 1024;
    validateInteger('memorySize', memorySize, 128, 10_240);

    const fn = createTributaryFunction(this, {
      entry: handlerEntry('functions/archiver/handler.ts'),
      description: 'Tributary archiver (DynamoDB to S3 segments, retention)',
      serviceName: 'tributary-archiver',
      timeout,
      memorySize,
      tables: props.tables,
      archive: props.archive,
      logLevel: props.logLevel ?? 'INFO',
      logRetention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      logRemovalPolicy: RemovalPolicy.DESTROY,
    });
    this.handler = fn.handler;
    this.logGroup = fn.logGroup;
    props.tables.grantArchive(this.handler);
    props.archive.grantArchive(this.handler);
    acknowledgeWildcardResource(
      fn.role,
      props.archive.bucket.arnForObjects('*'),
      'The archiver archives every topic: it writes, reads and deletes segment and large-batch objects under ' +
        'every topic prefix of the archive bucket (and only that bucket).',
    );

    this.rule = new events.Rule(this, 'Schedule', {
      description: 'Runs the Tributary archiver',
      schedule: props.schedule ?? events.Schedule.rate(Duration.minutes(1)),
      enabled: props.enabled ?? true,
      // A missed run is not retried: the next scheduled run does the same work.
      targets: [
        new targets.LambdaFunction(this.handler, { retryAttempts: 0, maxEventAge: Duration.minutes(1) }),
      ],
    });
  }

  /**
   * Archiver runs that failed. Failures repeat until the cause is fixed, and meanwhile the log
   * grows in DynamoDB and retention stalls, so alarm on a few in a row.
   *
   * @default - sum over 5 minutes
   */
  public metricErrors(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.handler.metricErrors(props);
  }

  /**
   * Duration of archiver runs; runs near the timeout mean a backlog.
   *
   * @default - average over 5 minutes
   */
  public metricDuration(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.handler.metricDuration(props);
  }
}
