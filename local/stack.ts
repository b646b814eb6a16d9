/**
 * The whole local stack: DynamoDB Local, the S3 emulator and the local Lambda service behind one
 * edge port, with Tributary's tables and bucket created, and optionally the archiver running on a
 * timer. With several `regions`: a DynamoDB Local and an edge per region, S3 and Lambda shared, and
 * the MREC replicator between the regions' tables (`regions/replicator.ts`); or, in MRSC mode, one
 * DynamoDB Local behind every region's edge (`regions/strong-consistency.ts`).
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { startGateway } from '../gateway/index.ts';
import {
  type ArchiveVisit,
  InvalidArgumentError,
  Tributary,
  type TributaryOptions,
} from '../sdk/src/index.ts';
import {
  DEFAULT_BUCKET_NAME,
  DEFAULT_TABLE_PREFIX,
  PeriodicTask,
  TABLES,
  tableName,
} from '../sdk/src/internal.ts';
import { type SignatureCheck, startApiServer } from './api-server.ts';
import { type LocalDispatcher, startLocalDispatcher } from './dispatcher.ts';
import { type EdgeProxy, startEdgeProxy } from './edge-proxy.ts';
import { freePorts } from './free-port.ts';
import { checkJava } from './java.ts';
import { type LocalFunction, resolveFunction } from './lambda/function-definition.ts';
import { type LocalLambda, startLambdaService } from './lambda/lambda-service.ts';
import { provisionBucket, provisionTables } from './provision.ts';
import { validateRegionList } from './regions/region-list.ts';
import { startRegionalDynamoDB } from './regions/regional-dynamodb.ts';
import { replicaTableSchemas, strongConsistencyTableSchemas } from './regions/replica-tables.ts';
import { type ReplicationOptions, resolveReplicationSettings } from './regions/replication-options.ts';
import { type Replicator, startReplicator } from './regions/replicator.ts';
import { createStrongConsistency, type StrongConsistency } from './regions/strong-consistency.ts';
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
   * Serves the Kafka wire-protocol gateway on this loopback port, over the stack's tables (the home
   * region's), for unmodified Kafka clients (`kcat -b 127.0.0.1:9092 -L`); `0` picks a free one.
   * `npm start -- --gateway-port 9092`.
   * @default undefined: no gateway
   */
  readonly gatewayPort?: number;
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
  /**
   * The AWS regions to simulate, the deployment's home region first: one DynamoDB Local and one
   * edge endpoint per region (the same tables in each, every one with a NEW_AND_OLD_IMAGES stream,
   * as global tables need), one S3 emulator and one Lambda service shared by all, and
   * {@link LocalStack.replicator} replicating the tables between them. The home region's edge is on
   * `edgePort`, the others on free ports. The HTTP API, the Lambda functions (`AWS_ENDPOINT_URL`),
   * the dispatcher and the archiver use the home region. Several regions are kept in memory only:
   * with `dataDir`, a pending replication lost at a stop would leave the copies apart for good.
   * `npm start -- --regions us-east-1,eu-west-1`. In MRSC mode (`replication`) one DynamoDB Local
   * serves all three regions' edges instead, and there is no replicator.
   * @default ['us-east-1']: one region, no replicator (the stack as it always was)
   */
  readonly regions?: readonly string[];
  /**
   * How the regions replicate (only with several `regions`). `{ mode: 'MREC', lag, seed }`: MREC
   * global tables, with the lag and the seed of the replicator's per-item delays. `{ mode: 'MRSC' }`:
   * MRSC global tables, exactly three `regions` of one MRSC region set (us-east-1, us-east-2,
   * us-west-2; eu-west-1, eu-west-2, eu-west-3, eu-central-1; ap-northeast-1, -2, -3): strongly
   * consistent everywhere, no transactions, no TTL (see `regions/strong-consistency.ts`).
   * `npm start -- --regions us-east-1,us-east-2,us-west-2 --consistency strong`.
   * @default MREC, 200 ± 200 ms per item, a random seed
   */
  readonly replication?: ReplicationOptions;
}

/** One region of a local stack: what the SDK's `regions` option takes. */
export interface LocalRegion {
  readonly region: string;
  /** The region's edge endpoint (its DynamoDB and DynamoDB Streams; S3 and Lambda are shared). */
  readonly endpoint: string;
  /**
   * The region's DynamoDB Local itself, bypassing the edge (and, in MRSC mode, the edge's checks):
   * in MRSC mode the one DynamoDB Local every region shares.
   */
  readonly dynamodbEndpoint: string;
}

/** A running local stack. Point AWS SDK clients (and Tributary) at {@link LocalStack.endpoint}. */
export interface LocalStack {
  /**
   * The (home region's) edge endpoint serving DynamoDB, DynamoDB Streams, S3 (path-style) and
   * Lambda Invoke, e.g. `http://127.0.0.1:4566`.
   */
  readonly endpoint: string;
  /** The (home region's) DynamoDB Local itself, bypassing the edge. */
  readonly dynamodbEndpoint: string;
  /** The S3 emulator itself, bypassing the edge. */
  readonly s3Endpoint: string;
  /** The home region, to configure clients with (the emulators accept any): `us-east-1` unless `regions` says otherwise. */
  readonly region: string;
  /** Every region, the home region first (one entry without `regions`). */
  readonly regions: readonly LocalRegion[];
  /**
   * The MREC replicator between the regions' tables; undefined with one region, and in MRSC mode
   * (nothing replicates there: every region serves the same tables).
   */
  readonly replicator: Replicator | undefined;
  /**
   * In MRSC mode: cut a region off (`pause`) so it reaches no quorum, and count what the edges
   * refused; undefined otherwise.
   */
  readonly strongConsistency: StrongConsistency | undefined;
  /** Prefix of the table names (pass it as Tributary's `tablePrefix`). */
  readonly tablePrefix: string;
  /** The archive bucket (pass it as Tributary's `bucket`). */
  readonly bucket: string;
  /** The HTTP API's base URL when `apiPort` was given (`new Tributary({ transport: 'http', endpoint: apiUrl })`). */
  readonly apiUrl: string | undefined;
  /** The Kafka gateway's bootstrap address (`127.0.0.1:9092`) when `gatewayPort` was given. */
  readonly gatewayBootstrap: string | undefined;
  /** The local Lambda service: register or replace functions, list them. */
  readonly lambda: LocalLambda;
  /** The trigger dispatcher (undefined when turned off). */
  readonly dispatcher: LocalDispatcher | undefined;
  /**
   * Stops the archive timer (if any) and the Lambda service (terminating every worker, busy ones
   * too), then the replicator (dropping what it has not delivered), the edges, the S3 emulator and
   * the DynamoDB Local(s) (waiting until Java has exited). Idempotent.
   */
  stop(): Promise<void>;
}

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
 * @throws InvalidArgumentError for a non-loopback host or an invalid port, an invalid region list,
 * or `replication` that does not fit it (all before anything starts).
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
    gatewayPort,
    functions = [],
    dispatcher: dispatcherOptions = {},
    replication,
  } = options;
  const regionNames = validateRegionList(options.regions);
  const homeRegion = regionNames[0] as string;
  const multiRegion = regionNames.length > 1;
  if (multiRegion && dataDir !== undefined) {
    throw new InvalidArgumentError(
      `dataDir is given with ${regionNames.length} regions; a multi-region stack is kept in memory only ` +
        (replication?.mode === 'MRSC'
          ? '(its tables are not those of a single-region stack: they have no TTL)'
          : '(a replication pending at a stop would be lost, leaving the regions apart)') +
        ': leave dataDir out.',
    );
  }
  if (!multiRegion && replication !== undefined) {
    throw new InvalidArgumentError(
      `replication is given with one region (${homeRegion}); list two or more regions to replicate between.`,
    );
  }
  // Refused before anything starts; the seed is drawn once here.
  const replicationSettings = multiRegion ? resolveReplicationSettings(regionNames, replication) : undefined;
  // MRSC: one DynamoDB Local, the single source of truth, behind every region's edge.
  const strongConsistency =
    replicationSettings?.mode === 'MRSC' ? createStrongConsistency(regionNames) : undefined;
  const dynamodbRegions = strongConsistency ? [homeRegion] : regionNames;
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
  if (
    gatewayPort !== undefined &&
    (!Number.isInteger(gatewayPort) || gatewayPort < 0 || gatewayPort > 65_535)
  ) {
    throw new InvalidArgumentError(
      `gatewayPort is ${gatewayPort}; use an integer from 0 (any free port) to 65535.`,
    );
  }
  // An invalid function definition is refused before Java starts.
  for (const definition of functions) resolveFunction(definition);
  const startedAt = Date.now();
  const started: { stop(): Promise<void> }[] = [];
  try {
    const [s3Port, lambdaPort, ...dynamodbPorts] = await freePorts(host, 2 + dynamodbRegions.length);
    const regionPorts = dynamodbRegions.map((region, index) => ({
      region,
      port: dynamodbPorts[index] as number,
    }));
    // One edge per region: its own DynamoDB Local (MRSC: the shared one, behind MRSC's checks), the
    // shared S3 emulator and Lambda service. The home region's binds `edgePort` first, so a taken
    // port is reported before Java starts.
    const edges: EdgeProxy[] = [];
    for (const [index, region] of regionNames.entries()) {
      const regionEdge = await startEdgeProxy({
        host,
        port: index === 0 ? edgePort : 0,
        upstreams: {
          dynamodb: { host, port: dynamodbPorts[strongConsistency ? 0 : index] as number },
          s3: { host, port: s3Port as number },
          lambda: { host, port: lambdaPort as number },
        },
        ...(strongConsistency ? { dynamodbGuard: strongConsistency.guard(region) } : {}),
      });
      edges.push(regionEdge);
      started.push(regionEdge);
    }
    const edge = edges[0] as EdgeProxy;

    const dynamodbDir = dataDir === undefined ? undefined : join(dataDir, 'dynamodb');
    const s3Dir = dataDir === undefined ? undefined : join(dataDir, 's3');
    if (dynamodbDir !== undefined && s3Dir !== undefined) {
      await Promise.all([mkdir(dynamodbDir, { recursive: true }), mkdir(s3Dir, { recursive: true })]);
    }
    const [dynamodb, s3] = await Promise.allSettled([
      checkJava().then(() => startRegionalDynamoDB({ regions: regionPorts, dbPath: dynamodbDir, log })),
      startS3Emulator({ host, port: s3Port as number, storageDir: s3Dir }),
    ]);
    if (s3.status === 'fulfilled') started.push(s3.value);
    if (dynamodb.status === 'fulfilled')
      for (const { dynamodb: local } of dynamodb.value) started.push(local);
    if (dynamodb.status === 'rejected') throw dynamodb.reason;
    if (s3.status === 'rejected') throw s3.reason;
    const dynamodbLocals = dynamodb.value.map(({ dynamodb: local }) => local);
    const s3Emulator: S3Emulator = s3.value;
    const regions: readonly LocalRegion[] = regionNames.map((region, index) => ({
      region,
      endpoint: (edges[index] as EdgeProxy).endpoint,
      dynamodbEndpoint: (dynamodbLocals[strongConsistency ? 0 : index] as (typeof dynamodbLocals)[number])
        .endpoint,
    }));
    const home = regions[0] as LocalRegion;

    // MREC global tables need a NEW_AND_OLD_IMAGES stream on every replicated table; MRSC ones have no TTL.
    const tables = strongConsistency
      ? strongConsistencyTableSchemas(TABLES)
      : multiRegion
        ? replicaTableSchemas(TABLES)
        : TABLES;
    const ddbClients = dynamodb.value.map(
      ({ region, dynamodb: local }) =>
        new DynamoDBClient({ endpoint: local.endpoint, region, credentials: LOCAL_CREDENTIALS }),
    );
    const s3Client = new S3Client({
      endpoint: s3Emulator.endpoint,
      region: homeRegion,
      credentials: LOCAL_CREDENTIALS,
      forcePathStyle: true,
    });
    try {
      await Promise.all([
        ...ddbClients.map((ddb) => provisionTables(ddb, tablePrefix, { tables })),
        provisionBucket(s3Client, bucket),
      ]);
    } finally {
      for (const ddb of ddbClients) ddb.destroy();
      s3Client.destroy();
    }
    const replicator =
      replicationSettings?.mode === 'MREC'
        ? await startReplicator({
            ...replicationSettings,
            regions,
            tables: tables.map((schema) => tableName(schema, tablePrefix)),
            credentials: LOCAL_CREDENTIALS,
            log,
          })
        : undefined;
    if (replicator) started.push(replicator);
    const lambda = await startLambdaService({
      host,
      port: lambdaPort as number,
      region: homeRegion,
      credentials: LOCAL_CREDENTIALS,
      awsEndpointUrl: edge.endpoint,
      functions,
      log,
    });
    started.push(lambda);
    const edgeLines = regions.map(
      ({ region, endpoint, dynamodbEndpoint }) =>
        `edge ${endpoint} -> DynamoDB Local ${dynamodbEndpoint}${multiRegion ? ` (${region})` : ''}`,
    );
    log?.(
      `Local stack up in ${Date.now() - startedAt} ms: ${edgeLines.join(', ')}, ` +
        `S3 ${s3Emulator.endpoint}, Lambda ${lambda.endpoint}; data ${dataDir ?? 'in memory'}` +
        (replicator
          ? `; replicating ${replicator.mode}, ${replicator.lag.meanMs} ± ${replicator.lag.jitterMs} ms per item (seed ${replicator.seed})`
          : '') +
        (strongConsistency ? '; MRSC: one DynamoDB Local serves every region, no transactions, no TTL' : ''),
    );

    // The HTTP API, the archiver and the dispatcher run in the home region. With several regions
    // their clients know them all, as a deployment's functions do (TRIBUTARY_REGIONS), so appends
    // (the API's produce, dead letters) go to each topic's home region.
    const connection: TributaryOptions = {
      endpoint: edge.endpoint,
      region: homeRegion,
      tablePrefix,
      bucket,
      credentials: LOCAL_CREDENTIALS,
      ...(multiRegion ? { regions } : {}),
      ...(strongConsistency ? { consistency: 'strong' as const } : {}),
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
    const gateway =
      gatewayPort === undefined
        ? undefined
        : await startGateway({
            tributary: connection,
            host,
            port: gatewayPort,
            // CloudWatch's metric lines are for deployments; locally /metrics is enough.
            metricsLog: false,
            ...(log ? { log: (line: string) => log(`Kafka gateway: ${line}`) } : {}),
          });
    if (gateway) started.push(gateway);
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
            connection: { ...connection, endpoint: edge.endpoint, region: homeRegion },
            ...(dispatcherOptions.sweepIntervalMs === undefined
              ? {}
              : { sweepIntervalMs: dispatcherOptions.sweepIntervalMs }),
            ...(log ? { log } : {}),
          });
    if (dispatcher) started.push(dispatcher);

    let stopping: Promise<void> | undefined;
    return {
      endpoint: edge.endpoint,
      dynamodbEndpoint: home.dynamodbEndpoint,
      s3Endpoint: s3Emulator.endpoint,
      region: homeRegion,
      regions,
      replicator,
      strongConsistency,
      tablePrefix,
      bucket,
      apiUrl: api?.url,
      gatewayBootstrap: gateway ? `${gateway.advertised.host}:${gateway.advertised.port}` : undefined,
      lambda: { endpoint: lambda.endpoint, register: lambda.register, functions: lambda.functions },
      dispatcher,
      stop: () => {
        stopping ??= (async () => {
          // The archiver and the functions first (both are clients of the edge), so a run in
          // progress ends against live emulators; then the replicator (a client of the DynamoDB
          // Locals) and the edges, so no request reaches an emulator that is shutting down.
          await stopInStages([
            // The dispatcher before the functions it invokes.
            [
              ...(api ? [api] : []),
              ...(gateway ? [gateway] : []),
              ...(archiveTimer ? [archiveTimer] : []),
              ...(dispatcher ? [dispatcher] : []),
            ],
            [lambda],
            [...(replicator ? [replicator] : []), ...edges],
            [s3Emulator, ...dynamodbLocals],
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
