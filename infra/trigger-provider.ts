/**
 * The CloudFormation custom resource provider behind `TributaryEventSource`: our handler
 * (`functions/trigger-resource/handler.ts`, which creates, updates and deletes triggers with the
 * SDK) behind aws-cdk-lib's provider framework (which answers CloudFormation).
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as cr from 'aws-cdk-lib/custom-resources';
import type { Construct } from 'constructs';
import type { ArchiveBucket } from './archive-bucket.ts';
import { grantFunctionLookup } from './function-lookup.ts';
import { acknowledgeWildcardResource } from './nag.ts';
import type { TributaryTables } from './tables.ts';
import { createTributaryFunction, handlerEntry, type LogLevel } from './tributary-function.ts';

/** What the provider is built from. */
export interface TriggerProviderOptions {
  readonly tables: TributaryTables;
  readonly archive: ArchiveBucket;
  readonly logLevel: LogLevel;
  readonly logRetention: logs.RetentionDays;
}

/** The provider and its functions. */
export interface TributaryTriggerProvider {
  /** The provider framework; custom resources name its `serviceToken`. */
  readonly provider: cr.Provider;
  /** Our handler (the provider framework's `onEvent`). */
  readonly handler: nodejs.NodejsFunction;
  /** The handler's execution role. */
  readonly role: iam.Role;
}

/**
 * Creates the provider in `scope` (a construct of its own: the handler's resources are named
 * `Handler*` in it). The handler may administer triggers — their items in the topic registry and
 * their consumer groups — read the log and the archive (a starting position `AT_TIMESTAMP` is looked
 * up in them), and read the metadata of functions (a trigger's function must exist). The framework
 * function may only invoke the handler and write its own logs.
 */
export function createTriggerProvider(
  scope: Construct,
  options: TriggerProviderOptions,
): TributaryTriggerProvider {
  const fn = createTributaryFunction(scope, {
    entry: handlerEntry('functions/trigger-resource/handler.ts'),
    description: 'Tributary trigger resources (CloudFormation custom resource handler)',
    serviceName: 'tributary-trigger-resource',
    timeout: Duration.minutes(2),
    memorySize: 256,
    tables: options.tables,
    archive: options.archive,
    logLevel: options.logLevel,
    logRetention: options.logRetention,
    logRemovalPolicy: RemovalPolicy.DESTROY,
  });
  options.tables.grantTriggerAdmin(fn.handler);
  options.archive.grantConsume(fn.handler);
  acknowledgeWildcardResource(
    fn.role,
    options.archive.bucket.arnForObjects('*/*'),
    'Creating a trigger at AT_TIMESTAMP looks the timestamp up in its topic, which may be archived: the ' +
      'trigger resource handler reads archived segments of any topic (and only reads, only in the archive bucket).',
  );
  grantFunctionLookup(scope, fn.handler, fn.role);

  const frameworkLogs = new logs.LogGroup(scope, 'FrameworkLogs', {
    retention: options.logRetention,
    removalPolicy: RemovalPolicy.DESTROY,
  });
  const frameworkRole = new iam.Role(scope, 'FrameworkRole', {
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    description: 'Tributary trigger resources (custom resource provider framework)',
  });
  frameworkLogs.grantWrite(frameworkRole);
  const provider = new cr.Provider(scope, 'Provider', {
    onEventHandler: fn.handler,
    frameworkOnEventRole: frameworkRole,
    logGroup: frameworkLogs,
  });
  acknowledgeWildcardResource(
    frameworkRole,
    `${fn.handler.functionArn}:*`,
    "aws-cdk-lib's provider framework grants itself invoke on the handler and all of its versions; the handler " +
      'has no versions or aliases, so this is invoke on the one trigger resource handler.',
  );
  return { provider, handler: fn.handler, role: fn.role };
}
