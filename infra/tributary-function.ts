/**
 * How Tributary's Lambda functions are built: Node.js 22 on arm64, bundled by esbuild into one
 * minified ES module with a source map, a role with no managed policies, and a log group of our own.
 */
import { fileURLToPath } from 'node:url';
import { type Duration, type RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { functionEnvironment } from '../functions/environment.ts';
import type { ArchiveBucket } from './archive-bucket.ts';
import { acknowledge } from './nag.ts';
import type { TributaryTables } from './tables.ts';

/** Log levels of Tributary's functions (Powertools Logger). */
export type LogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';

/** CloudWatch namespace of the functions' Powertools metrics. */
export const METRICS_NAMESPACE = 'Tributary';

/** A handler module under `functions/`, relative to the repository (or installed package) root. */
export function handlerEntry(relativePath: string): string {
  return fileURLToPath(new URL(`../${relativePath}`, import.meta.url));
}

/** What differs between Tributary's functions. */
export interface TributaryFunctionOptions {
  /** Absolute path of the handler module; it exports `handler`. */
  readonly entry: string;
  readonly description: string;
  /** `POWERTOOLS_SERVICE_NAME`: the `service` of every log line and metric. */
  readonly serviceName: string;
  readonly timeout: Duration;
  readonly memorySize: number;
  readonly tables: TributaryTables;
  readonly archive: ArchiveBucket;
  readonly logLevel: LogLevel;
  readonly logRetention: logs.RetentionDays;
  readonly logRemovalPolicy: RemovalPolicy;
}

/**
 * Makes no module `require`-less: esbuild's ESM output calls `require` for the CommonJS
 * dependencies it bundles (and Node built-ins they load), which an ES module lacks. Aliased so it
 * cannot collide with a bundled import of `createRequire`.
 */
const REQUIRE_SHIM =
  "import { createRequire as __tributaryCreateRequire } from 'node:module'; const require = __tributaryCreateRequire(import.meta.url);";

/**
 * Creates a function (`Handler`), its role (`HandlerRole`) and its log group (`HandlerLogs`) in
 * `scope`. The role starts with nothing but writing to that log group; callers add data grants.
 *
 * Bundling decisions: ES module output for Node 22 (`mainFields` prefer each package's ESM build),
 * minified, with a source map that Node applies to stack traces (`--enable-source-maps`). The AWS
 * SDK v3 is bundled, not taken from the Lambda runtime: the function runs the exact SDK version
 * the lockfile pins and the tests ran against, and the runtime's copy may change under it.
 */
export function createTributaryFunction(
  scope: Construct,
  options: TributaryFunctionOptions,
): { readonly handler: nodejs.NodejsFunction; readonly role: iam.Role; readonly logGroup: logs.LogGroup } {
  const logGroup = new logs.LogGroup(scope, 'HandlerLogs', {
    retention: options.logRetention,
    removalPolicy: options.logRemovalPolicy,
  });
  const role = new iam.Role(scope, 'HandlerRole', {
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    description: `${options.description} (execution role)`,
  });
  logGroup.grantWrite(role);

  const handler = new nodejs.NodejsFunction(scope, 'Handler', {
    entry: options.entry,
    handler: 'handler',
    description: options.description,
    runtime: lambda.Runtime.NODEJS_22_X,
    architecture: lambda.Architecture.ARM_64,
    memorySize: options.memorySize,
    timeout: options.timeout,
    role,
    logGroup,
    environment: {
      ...functionEnvironment(
        { tables: options.tables.tableNames, bucket: options.archive.bucket.bucketName },
        // The deployment's regions, home (the stack's region) first; none without replicas.
        options.tables.replicaRegions.length > 0
          ? {
              names: [Stack.of(options.tables).region, ...options.tables.replicaRegions],
              consistency: options.tables.multiRegionConsistency,
              witnessRegion: options.tables.witnessRegion,
            }
          : undefined,
      ),
      POWERTOOLS_SERVICE_NAME: options.serviceName,
      POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
      POWERTOOLS_LOG_LEVEL: options.logLevel,
      NODE_OPTIONS: '--enable-source-maps',
    },
    bundling: {
      format: nodejs.OutputFormat.ESM,
      target: 'node22',
      mainFields: ['module', 'main'],
      banner: REQUIRE_SHIM,
      minify: true,
      sourceMap: true,
      sourcesContent: false,
      bundleAwsSDK: true,
      externalModules: [],
    },
  });
  acknowledge(
    handler,
    'AwsSolutions-L1',
    'Node.js 22 is the runtime Tributary targets and tests (DESIGN.md, Runtime): the SDK, the handlers and ' +
      'the bundle target (node22) move to a newer runtime together, deliberately.',
  );
  return { handler, role, logGroup };
}
