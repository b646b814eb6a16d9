/**
 * The whole local stack: DynamoDB Local, the S3 emulator and the local Lambda service behind one
 * edge port, with Tributary's tables and bucket created, and optionally the archiver running on a
 * timer.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import {
  type ArchiveVisit,
  InvalidArgumentError,
  Tributary,
  type TributaryOptions,
} from '../sdk/src/index.ts';
import { DEFAULT_BUCKET_NAME, DEFAULT_TABLE_PREFIX, PeriodicTask } from '../sdk/src/internal.ts';
import { type SignatureCheck, startApiServer } from './api-server.ts';
import { type LocalDispatcher, startLocalDispatcher } from './dispatcher.ts';
import { type DynamoDBLocal, startDynamoDBLocal } from './dynamodb-local.ts';
import { startEdgeProxy } from './edge-proxy.ts';
import { freePorts } from './free-port.ts';
import { checkJava } from './java.ts';
import { type LocalFunction, resolveFunction } from './lambda/function-definition.ts';
import { type LocalLambda, startLambdaService } from './lambda/lambda-service.ts';
import { provision } from './provision.ts';
import { type S3Emulator, startS3Emulator } from './s3-emulator.ts';
import { localSessionKey } from './session-key.ts';
import type { LocalCredential } from './sigv4-verifier.ts';

/** Options of {@link startLocalStack}. */
export interface LocalStackOptions {
  /**
   * Directory whose data survives restarts: DynamoDB in `dynamodb/`, S3 in `s3/`. Created if missing.
   * @default none: everything is in memory and gone after `stop()`
   */
  readonly dataDir?: string;
  /** Port of the edge endpoint; `0` picks a free port. @default 4566 (LocalStack's) */
  readonly edgePort?: number;
  /** Address every server listens on. Only loopback is allowed. @default '127.0.0.1' */
  readonly host?: '127.0.0.1';
  /** Prefix of the table names. @default 'tributary-' */
  readonly tablePrefix?: string;
  /** Name of the archive bucket. @default 'tributary-archive' */
  readonly bucket?: string;
  /** Receives progress and emulator diagnostics, one line at a time. @default silent */
  readonly log?: (line: string) => void;
  /**
   * Runs the archiver (archiving to S3 and retention, over every topic) this many ms after the
   * previous run ended, as a deployment's schedule would. Runs never overlap; a failed run is
   * reported through `log` and the next one is tried on time. `stop()` stops the timer, waits for a
   * run in progress and closes its client. `npm start` uses 60000.
   * @default undefined: off (as is `0`); run `tributary archive run` or `archiver().run()` instead
   */
  readonly archiveIntervalMs?: number;
  /**
   * Serves the HTTP API (the Lambda handler, API Gateway v2 events) on this loopback port; `0`
   * picks a free one. `npm start` uses 4567.
   * @default undefined: no API
   */
  readonly apiPort?: number;
  /**
   * How the HTTP API checks SigV4 signatures: `verify` re-computes each one and refuses a
   * mismatch, an unknown key, a wrong scope or a date over 5 minutes off, as API Gateway's IAM
   * authorizer does; `presence` only requires a SigV4 header, as LocalStack does by default
   * (`npm start -- --no-verify-signatures`).
   * @default 'verify'
   */
  readonly apiSignatures?: SignatureCheck;
  /**
   * The key pairs whose signatures the HTTP API accepts under `verify`.
   * @default `test`/`test` (the SDK's loopback default), the stack's own `local`/`local`, and
   * `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY` when this process's environment has both
   */
  readonly apiCredentials?: readonly LocalCredential[];
  /**
   * Handler modules served through Lambda's Invoke API on the edge endpoint (point
   * `@aws-sdk/client-lambda` at {@link LocalStack.endpoint}); `stack.lambda.register()` adds or
   * replaces one later. Each invocation runs in a worker thread whose environment has Lambda's
   * variables and `AWS_ENDPOINT_URL` set to the edge. `npm start -- --function name=path` registers
   * them from the command line.
   * @default none (Invoke answers `ResourceNotFoundException` until one is registered)
   */
  readonly functions?: readonly LocalFunction[];
  /**
   * The trigger dispatcher: woken by DynamoDB Local's stream of the log table, sweeping for due
   * partitions every `sweepIntervalMs`, invoking functions through the Invoke API above. `false`
   * turns it off (triggers then deliver nothing).
   * @default on, sweeping every 1000 ms
   */
  readonly dispatcher?: false | { readonly sweepIntervalMs?: number };
}

/** A running local stack. Point AWS SDK clients (and Tributary) at {@link LocalStack.endpoint}. */
export interface LocalStack {
  /** The edge endpoint serving DynamoDB, DynamoDB Streams, S3 (path-style) and Lambda Invoke, e.g. `http://127.0.0.1:4566`. */
  readonly endpoint: string;
  /** DynamoDB Local itself, bypassing the edge. */
  readonly dynamodbEndpoint: string;
  /** The S3 emulator itself, bypassing the edge. */
  readonly s3Endpoint: string;
  /** The region to configure clients with (the emulators accept any). */
  readonly region: 'us-east-1';
  /** Prefix of the table names (pass it as Tributary's `tablePrefix`). */
  readonly tablePrefix: string;
  /** The archive bucket (pass it as Tributary's `bucket`). */
  readonly bucket: string;
  /** The HTTP API's base URL when `apiPort` was given (`new Tributary({ transport: 'http', endpoint: apiUrl })`). */
  readonly apiUrl: string | undefined;
  /** The local Lambda service: register or replace functions, list them. */
  readonly lambda: LocalLambda;
  /** The trigger dispatcher (undefined when turned off). */
  readonly dispatcher: LocalDispatcher | undefined;
  /**
   * Stops the archive timer (if any) and the Lambda service (terminating every worker, busy ones
   * too), then the edge, the S3 emulator and DynamoDB Local (waiting until Java has exited).
   * Idempotent.
   */
  stop(): Promise<void>;
}

const REGION = 'us-east-1';
const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

/** A running {@link startArchiveTimer}. */
export interface ArchiveTimer {
  /** Stops the timer, waits for a run in progress to end and closes the client. Idempotent. */
  stop(): Promise<void>;
}

/** Options of {@link startArchiveTimer}. */
export interface ArchiveTimerOptions {
  /** Where the archiver connects. */
  readonly connection: TributaryOptions;
  /** Delay between the end of one run and the start of the next (ms, > 0). */
  readonly intervalMs: number;
  /** Receives failures and a line per run that archived or expired anything. @default silent */
  readonly log?: ((line: string) => void) | undefined;
  /**
   * Which partitions each run visits (`ArchiveRunOptions.visit`): `due` finds new records itself
   * (a read unit per idle partition and run); `scheduled` relies on a dispatcher's doorbell over
   * the same tables to report them, as the stack's own dispatcher does.
   * @default 'due'
   */
  readonly visit?: Exclude<ArchiveVisit, 'all'>;
}

/**
 * Runs `archiver().run()` over every topic every `intervalMs` (the first run one interval from
 * now) with one client of its own. A run is scheduled only once the previous one has ended, so runs
 * never overlap. The timer does not keep the process alive by itself.
 */
export function startArchiveTimer(options: ArchiveTimerOptions): ArchiveTimer {
  const { intervalMs, log } = options;
  if (!Number.isSafeInteger(intervalMs) || intervalMs <= 0) {
    throw new InvalidArgumentError(`intervalMs is ${intervalMs}; use a whole number of ms above 0.`);
  }
  const tributary = new Tributary(options.connection);
  const archiver = tributary.archiver();
  const runs = new PeriodicTask(
    async () => {
      const report = await archiver.run({ visit: options.visit ?? 'due' });
      if (report.segmentsArchived > 0 || report.segmentsDeleted > 0 || report.bytesExpired > 0) {
        log?.(
          `Archiver: ${report.segmentsArchived} segment(s) archived (${report.bytesArchived} bytes), ` +
            `${report.segmentsDeleted} segment(s) deleted, ${report.bytesExpired} bytes expired`,
        );
      }
    },
    {
      intervalMs,
      onError: (error) =>
        log?.(
          `Archiver run failed (next try in ${intervalMs} ms): ${error instanceof Error ? error.message : error}`,
        ),
    },
  );
  runs.start();

  let stopping: Promise<void> | undefined;
  return {
    stop: () => {
      stopping ??= (async () => {
        await runs.stop();
        tributary.close();
      })();
      return stopping;
    },
  };
}

/**
 * Stops the parts stage by stage (each stage concurrently), carrying on past failures so nothing
 * is left running; then reports the first failure.
 */
async function stopInStages(stages: readonly (readonly { stop(): Promise<void> }[])[]): Promise<void> {
  const results: PromiseSettledResult<void>[] = [];
  for (const stage of stages) results.push(...(await Promise.allSettled(stage.map((part) => part.stop()))));
  const failure = results.find((result) => result.status === 'rejected');
  if (failure) throw failure.reason;
}

/**
 * Starts DynamoDB Local (Java 17+ required) and the S3 emulator concurrently, the edge in front
 * of them, and creates the tables and bucket (keeping existing ones). If anything fails, whatever
 * was started is stopped again before the error is thrown.
 *
 * @example
 * const stack = await startLocalStack({ edgePort: 0 });
 * const tributary = new Tributary({ endpoint: stack.endpoint, region: stack.region,
 *   tablePrefix: stack.tablePrefix, bucket: stack.bucket });
 * // ...
 * await stack.stop();
 *
 * @throws StackNotReadyError when Java is missing or too old, a port is taken (`cause.code` is
 * `EADDRINUSE` for the edge port) or an emulator does not come up.
 * @throws InvalidArgumentError for a non-loopback host or an invalid port.
 */
export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const {
    dataDir,
    edgePort = 4566,
    host = '127.0.0.1',
    tablePrefix = DEFAULT_TABLE_PREFIX,
    bucket = DEFAULT_BUCKET_NAME,
    log,
    archiveIntervalMs = 0,
    apiPort,
    apiSignatures,
    apiCredentials,
    functions = [],
    dispatcher: dispatcherOptions = {},
  } = options;
  if (host !== '127.0.0.1') {
    throw new InvalidArgumentError(
      `host is "${host}"; the local stack listens on loopback only: use '127.0.0.1'.`,
    );
  }
  if (!Number.isInteger(edgePort) || edgePort < 0 || edgePort > 65_535) {
    throw new InvalidArgumentError(
      `edgePort is ${edgePort}; use an integer from 0 (any free port) to 65535.`,
    );
  }
  if (!Number.isSafeInteger(archiveIntervalMs) || archiveIntervalMs < 0) {
    throw new InvalidArgumentError(
      `archiveIntervalMs is ${archiveIntervalMs}; use a whole number of ms, or 0 (or leave it out) for no timer.`,
    );
  }
  if (apiPort !== undefined && (!Number.isInteger(apiPort) || apiPort < 0 || apiPort > 65_535)) {
    throw new InvalidArgumentError(`apiPort is ${apiPort}; use an integer from 0 (any free port) to 65535.`);
  }
  // An invalid function definition is refused before Java starts.
  for (const definition of functions) resolveFunction(definition);
  const startedAt = Date.now();
  const started: { stop(): Promise<void> }[] = [];
  try {
    const [dynamodbPort, s3Port, lambdaPort] = (await freePorts(host, 3)) as [number, number, number];
    const edge = await startEdgeProxy({
      host,
      port: edgePort,
      upstreams: {
        dynamodb: { host, port: dynamodbPort },
        s3: { host, port: s3Port },
        lambda: { host, port: lambdaPort },
      },
    });
    started.push(edge);

    const dynamodbDir = dataDir === undefined ? undefined : join(dataDir, 'dynamodb');
    const s3Dir = dataDir === undefined ? undefined : join(dataDir, 's3');
    if (dynamodbDir !== undefined && s3Dir !== undefined) {
      await Promise.all([mkdir(dynamodbDir, { recursive: true }), mkdir(s3Dir, { recursive: true })]);
    }
    const [dynamodb, s3] = await Promise.allSettled([
      checkJava().then(() => startDynamoDBLocal({ port: dynamodbPort, dbPath: dynamodbDir, log })),
      startS3Emulator({ host, port: s3Port, storageDir: s3Dir }),
    ]);
    for (const result of [s3, dynamodb]) if (result.status === 'fulfilled') started.push(result.value);
    if (dynamodb.status === 'rejected') throw dynamodb.reason;
    if (s3.status === 'rejected') throw s3.reason;
    const dynamodbLocal: DynamoDBLocal = dynamodb.value;
    const s3Emulator: S3Emulator = s3.value;

    const ddbClient = new DynamoDBClient({
      endpoint: dynamodbLocal.endpoint,
      region: REGION,
      credentials: LOCAL_CREDENTIALS,
    });
    const s3Client = new S3Client({
      endpoint: s3Emulator.endpoint,
      region: REGION,
      credentials: LOCAL_CREDENTIALS,
      forcePathStyle: true,
    });
    try {
      await provision({ ddb: ddbClient, s3: s3Client, tablePrefix, bucket });
    } finally {
      ddbClient.destroy();
      s3Client.destroy();
    }
    const lambda = await startLambdaService({
      host,
      port: lambdaPort,
      region: REGION,
      credentials: LOCAL_CREDENTIALS,
      awsEndpointUrl: edge.endpoint,
      functions,
      log,
    });
    started.push(lambda);
    log?.(
      `Local stack up in ${Date.now() - startedAt} ms: edge ${edge.endpoint} -> DynamoDB Local ${dynamodbLocal.endpoint}, ` +
        `S3 ${s3Emulator.endpoint}, Lambda ${lambda.endpoint}; data ${dataDir ?? 'in memory'}`,
    );

    const connection: TributaryOptions = {
      endpoint: edge.endpoint,
      region: REGION,
      tablePrefix,
      bucket,
      credentials: LOCAL_CREDENTIALS,
    };
    const api =
      apiPort === undefined
        ? undefined
        : await startApiServer({
            connection,
            port: apiPort,
            host,
            signatures: apiSignatures,
            credentials: apiCredentials,
            sessionKey: await localSessionKey(dataDir),
          });
    if (api) started.push(api);
    const archiveTimer =
      archiveIntervalMs > 0
        ? startArchiveTimer({
            connection,
            intervalMs: archiveIntervalMs,
            log,
            // The stack's dispatcher rings the archive schedules; without it each run probes.
            visit: dispatcherOptions === false ? 'due' : 'scheduled',
          })
        : undefined;
    const dispatcher =
      dispatcherOptions === false
        ? undefined
        : await startLocalDispatcher({
            connection: { ...connection, endpoint: edge.endpoint, region: REGION },
            ...(dispatcherOptions.sweepIntervalMs === undefined
              ? {}
              : { sweepIntervalMs: dispatcherOptions.sweepIntervalMs }),
            ...(log ? { log } : {}),
          });
    if (dispatcher) started.push(dispatcher);

    let stopping: Promise<void> | undefined;
    return {
      endpoint: edge.endpoint,
      dynamodbEndpoint: dynamodbLocal.endpoint,
      s3Endpoint: s3Emulator.endpoint,
      region: REGION,
      tablePrefix,
      bucket,
      apiUrl: api?.url,
      lambda: { endpoint: lambda.endpoint, register: lambda.register, functions: lambda.functions },
      dispatcher,
      stop: () => {
        stopping ??= (async () => {
          // The archiver and the functions first (both are clients of the edge), so a run in
          // progress ends against live emulators; then the edge, so no request reaches an
          // emulator that is shutting down.
          await stopInStages([
            // The dispatcher before the functions it invokes.
            [
              ...(api ? [api] : []),
              ...(archiveTimer ? [archiveTimer] : []),
              ...(dispatcher ? [dispatcher] : []),
            ],
            [lambda],
            [edge],
            [s3Emulator, dynamodbLocal],
          ]);
          log?.('Local stack stopped');
        })();
        return stopping;
      },
    };
  } catch (error) {
    // Report the startup failure; a failure to clean up after it is only a warning.
    await stopInStages([started.reverse()]).catch((stopError: unknown) =>
      process.emitWarning(`Stopping the partly started local stack failed too: ${String(stopError)}`),
    );
    throw error;
  }
}
