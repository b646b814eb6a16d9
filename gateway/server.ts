/**
 * The Kafka wire-protocol gateway: a TCP server that lets unmodified Kafka clients (kafkajs,
 * librdkafka/kcat, ...) produce to, fetch from and administer Tributary topics.
 *
 * A gateway process keeps no state of its own — every topic, offset and producer id lives in the
 * deployment's tables — so any number of them may serve the same tables, behind one address or
 * several. Each advertises itself as the cluster's one broker (node 0) at its advertised address,
 * the leader of every partition and the controller.
 */
import { createHash } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { InvalidArgumentError } from '../sdk/src/index.ts';
import {
  DirectTransport,
  ProducerIdAllocator,
  RawBatchAppender,
  RawLogReader,
  type TributaryOptions,
} from '../sdk/src/internal.ts';
import { GatewayConnection } from './connection.ts';
import type { GatewayContext } from './context.ts';
import { emfLines } from './emf.ts';
import { GroupCoordinator, type GroupCoordinatorOptions } from './group-coordinator.ts';
import { type HealthServer, startHealthServer } from './health-server.ts';
import { listen } from './listen.ts';
import { GatewayMetrics } from './metrics.ts';
import { formatPrometheus } from './prometheus.ts';
import { DEFAULT_MAX_FRAME_BYTES } from './protocol/index.ts';
import { PlainCredentials, type SaslPlainOptions } from './sasl.ts';

/** Options of {@link startGateway}. */
export interface GatewayOptions {
  /**
   * The deployment whose topics the gateway serves: options of a direct client (endpoint, region,
   * tables, bucket, ...), or a direct transport to share (then `stop()` leaves it open).
   * @default a direct client configured from the environment, with topic metadata cached 5 s
   */
  readonly tributary?: TributaryOptions | DirectTransport;
  /** Address to listen on. @default '127.0.0.1' */
  readonly host?: string;
  /** Port to listen on; 0 picks a free one. @default 9092 */
  readonly port?: number;
  /**
   * The host clients are told to connect to (Metadata's broker): a load balancer's name when
   * several gateways serve one address.
   * @default `host`; required when `host` is a wildcard address (`0.0.0.0`, `::`)
   */
  readonly advertisedHost?: string;
  /** The port clients are told to connect to. @default the port listened on */
  readonly advertisedPort?: number;
  /** Require SASL/PLAIN with these users before any other request. @default no authentication */
  readonly sasl?: SaslPlainOptions;
  /**
   * Serve Kafka's protocol over TLS with this certificate and key (PEM; clients use
   * `security.protocol=SSL`, or `SASL_SSL` with `sasl`). For a gateway without a TLS-terminating
   * load balancer in front. @default plain TCP
   */
  readonly tls?: GatewayTlsOptions;
  /** The cluster id Metadata reports. @default derived from the log table's name and the region */
  readonly clusterId?: string;
  /**
   * How long an idempotent batch's claim on its sequence lasts (ms): a client retrying a batch whose
   * gateway died mid-append is answered REQUEST_TIMED_OUT for up to this long, then its retry
   * appends it. It must exceed the longest time one append may take.
   * @default 15000
   */
  readonly produceClaimTimeoutMs?: number;
  /** Largest request frame accepted (bytes). @default 104857600 (100 MiB, Kafka's `socket.request.max.bytes`) */
  readonly maxFrameBytes?: number;
  /** Longest a Fetch waits for records, whatever its `maxWaitMs` (ms). @default 30000 */
  readonly maxFetchWaitMs?: number;
  /** Partitions one Fetch or ListOffsets reads at once. @default 16 */
  readonly readConcurrency?: number;
  /**
   * How long a new consumer group's first rebalance waits for more members after the last one
   * joined, at most the rebalance timeout (Kafka's `group.initial.rebalance.delay.ms`; 0 in tests).
   * @default 3000
   */
  readonly initialRebalanceDelayMs?: number;
  /** Session timeouts members may ask for (Kafka's `group.min/max.session.timeout.ms`). @default 6000 to 1800000 */
  readonly sessionTimeoutRangeMs?: { readonly min: number; readonly max: number };
  /** How often a held JoinGroup or SyncGroup reads its group's state (ms). @default 100 */
  readonly groupPollIntervalMs?: number;
  /**
   * Receives one line per closed connection and per unexpected failure.
   * @default lines written to stderr
   */
  readonly log?: (line: string) => void;
  /**
   * Port of an HTTP listener serving `GET /health` (200 while serving, 503 while stopping) and
   * `GET /metrics` (Prometheus' text format); 0 picks a free one.
   * @default no health listener
   */
  readonly healthPort?: number;
  /** Address of the health listener. @default `host` */
  readonly healthHost?: string;
  /**
   * How often the per-API metric lines are written (ms); once more when the gateway stops.
   * @default 60000
   */
  readonly metricsIntervalMs?: number;
  /**
   * Receives the per-API metric lines, one JSON object each in CloudWatch's Embedded Metric Format
   * (namespace `Tributary/Gateway`, dimension `Api`); `false` writes none. Kept apart from `log`
   * because CloudWatch reads a line as metrics only when the line is the JSON object alone.
   * @default lines written to stdout
   */
  readonly metricsLog?: ((line: string) => void) | false;
}

/** The gateway's TLS identity. */
export interface GatewayTlsOptions {
  /** The certificate chain, PEM. */
  readonly cert: string | Uint8Array;
  /** The private key, PEM. */
  readonly key: string | Uint8Array;
}

/** A running gateway. */
export interface Gateway {
  /** The address it listens on. */
  readonly host: string;
  /** The port it listens on (the one picked, with port 0). */
  readonly port: number;
  /** The broker address it advertises to clients. */
  readonly advertised: { readonly host: string; readonly port: number };
  /** The health and metrics listener's address, with `healthPort`. */
  readonly health?: { readonly host: string; readonly port: number };
  /**
   * Stops listening, closes every connection and waits for the requests they were serving; the
   * health listener answers 503 meanwhile and closes last.
   */
  stop(): Promise<void>;
}

const DEFAULT_PORT = 9092;
const DEFAULT_CLAIM_TIMEOUT_MS = 15_000;
const DEFAULT_METADATA_MAX_AGE_MS = 5_000;
const DEFAULT_METRICS_INTERVAL_MS = 60_000;

/**
 * Starts a gateway.
 *
 * @throws InvalidArgumentError for an invalid option (the message names it).
 */
export async function startGateway(options: GatewayOptions = {}): Promise<Gateway> {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? DEFAULT_PORT;
  checkPort('port', port, 0);
  if (options.advertisedPort !== undefined) checkPort('advertisedPort', options.advertisedPort, 1);
  const wildcard = host === '0.0.0.0' || host === '::';
  if (wildcard && options.advertisedHost === undefined) {
    throw new InvalidArgumentError(
      `host ${host} listens on every address: give advertisedHost, the address clients are to connect to`,
    );
  }
  const maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
  positiveInteger('maxFrameBytes', maxFrameBytes);
  const claimTimeoutMs = options.produceClaimTimeoutMs ?? DEFAULT_CLAIM_TIMEOUT_MS;
  positiveInteger('produceClaimTimeoutMs', claimTimeoutMs);
  const maxFetchWaitMs = options.maxFetchWaitMs ?? 30_000;
  positiveInteger('maxFetchWaitMs', maxFetchWaitMs);
  const readConcurrency = options.readConcurrency ?? 16;
  positiveInteger('readConcurrency', readConcurrency);
  if (options.sasl !== undefined && options.sasl.mechanism !== 'PLAIN') {
    throw new InvalidArgumentError(`sasl.mechanism must be PLAIN, got "${String(options.sasl.mechanism)}"`);
  }
  if (options.healthPort !== undefined) {
    checkPort('healthPort', options.healthPort, 0);
    if (options.healthPort === port && port !== 0 && (options.healthHost ?? host) === host) {
      throw new InvalidArgumentError(
        `healthPort must differ from port, the Kafka listener's; both are ${port}`,
      );
    }
  }
  if (options.healthHost !== undefined && options.healthPort === undefined) {
    throw new InvalidArgumentError('healthHost needs healthPort, the port of the health listener');
  }
  const metricsIntervalMs = options.metricsIntervalMs ?? DEFAULT_METRICS_INTERVAL_MS;
  positiveInteger('metricsIntervalMs', metricsIntervalMs);
  const credentials = options.sasl ? new PlainCredentials(options.sasl.users) : undefined;
  const groupOptions = groupCoordination(options);
  const log = options.log ?? ((line: string) => process.stderr.write(`tributary gateway: ${line}\n`));
  const metricsLog =
    options.metricsLog === false
      ? undefined
      : (options.metricsLog ?? ((line: string) => process.stdout.write(`${line}\n`)));

  const given = options.tributary instanceof DirectTransport ? options.tributary : undefined;
  const transport =
    given ??
    new DirectTransport({
      metadataMaxAgeMs: DEFAULT_METADATA_MAX_AGE_MS,
      ...(options.tributary as TributaryOptions | undefined),
    });
  const connections = new Set<GatewayConnection>();
  const metrics = new GatewayMetrics();
  let serving = true;
  const server = createListener(options.tls);
  let listening: { host: string; port: number };
  let health: HealthServer | undefined;
  try {
    listening = await listen(server, host, port, 'The gateway');
    if (options.healthPort !== undefined) {
      health = await startHealthServer({
        host: options.healthHost ?? host,
        port: options.healthPort,
        status: () => ({ serving, connections: connections.size }),
        metrics: () => formatPrometheus(metrics.snapshot()),
        log,
      });
    }
  } catch (error) {
    server.close();
    if (!given) transport.close();
    throw error;
  }
  const advertised = { host: options.advertisedHost ?? host, port: options.advertisedPort ?? listening.port };
  const gateway: GatewayContext = {
    transport,
    admin: transport.admin(),
    appender: new RawBatchAppender(transport.ctx, { claimTimeoutMs }),
    reader: new RawLogReader(transport.ctx),
    producerIds: new ProducerIdAllocator(transport.ctx),
    groups: new GroupCoordinator(transport.ctx, groupOptions),
    broker: { nodeId: 0, host: advertised.host, port: advertised.port },
    clusterId: options.clusterId ?? defaultClusterId(transport),
    readConcurrency,
    maxFetchWaitMs,
    log,
  };
  // A TLS listener hands sockets over once their handshake succeeded.
  server.on(options.tls ? 'secureConnection' : 'connection', (socket: Socket) => {
    const connection = new GatewayConnection(socket, { gateway, credentials, maxFrameBytes, metrics });
    connections.add(connection);
    void connection.finished().then(() => connections.delete(connection));
  });
  // A failing listen socket after start (rare) is reported, never a crash of the process.
  server.on('error', (error) => log(`server error: ${error.message}`));
  // A failed handshake (a plaintext client, a bad certificate, garbage) ends that socket only.
  server.on('tlsClientError', (error: Error) => log(`TLS handshake failed: ${error.message}`));

  // Per-API metric lines for the interval just ended; APIs without requests in it write none.
  let intervalStart = Date.now();
  const writeMetrics = () => {
    const now = Date.now();
    const lines = emfLines(metrics.takeInterval(), now, now - intervalStart);
    intervalStart = now;
    for (const line of lines) metricsLog?.(line);
  };
  const timer = metricsLog ? setInterval(writeMetrics, metricsIntervalMs).unref() : undefined;

  let stopping: Promise<void> | undefined;
  return {
    host: listening.host,
    port: listening.port,
    advertised,
    ...(health ? { health: { host: health.host, port: health.port } } : {}),
    stop() {
      stopping ??= (async () => {
        // From here /health answers 503: a load balancer still checking takes the target out.
        serving = false;
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        await Promise.all([...connections].map((c) => c.destroy()));
        await closed;
        clearInterval(timer);
        // After the connections' last requests, so the final lines count them.
        if (metricsLog) writeMetrics();
        await health?.close();
        if (!given) transport.close();
      })();
      return stopping;
    },
  };
}

/** A plain TCP listener, or a TLS one (TLS 1.2 and later) with the given identity. */
function createListener(tls: GatewayTlsOptions | undefined): Server {
  if (!tls) return createServer();
  try {
    const pem = (value: string | Uint8Array) => (typeof value === 'string' ? value : Buffer.from(value));
    return createTlsServer({ cert: pem(tls.cert), key: pem(tls.key), minVersion: 'TLSv1.2' });
  } catch (error) {
    throw new InvalidArgumentError(`tls: the certificate or key is not usable: ${(error as Error).message}`);
  }
}

/** A Kafka-style cluster id (22 characters of base64url), the same for every gateway of one deployment. */
function defaultClusterId(transport: DirectTransport): string {
  return createHash('sha256')
    .update(`tributary-cluster\0${transport.ctx.tables.log}\0${transport.region}`)
    .digest()
    .subarray(0, 16)
    .toString('base64url');
}

function groupCoordination(options: GatewayOptions): GroupCoordinatorOptions {
  const initialRebalanceDelayMs = options.initialRebalanceDelayMs ?? 3_000;
  if (!Number.isSafeInteger(initialRebalanceDelayMs) || initialRebalanceDelayMs < 0) {
    throw new InvalidArgumentError(
      `initialRebalanceDelayMs must be a non-negative integer, got ${initialRebalanceDelayMs}`,
    );
  }
  const pollIntervalMs = options.groupPollIntervalMs ?? 100;
  positiveInteger('groupPollIntervalMs', pollIntervalMs);
  const { min, max } = options.sessionTimeoutRangeMs ?? { min: 6_000, max: 1_800_000 };
  positiveInteger('sessionTimeoutRangeMs.min', min);
  positiveInteger('sessionTimeoutRangeMs.max', max);
  if (min > max) throw new InvalidArgumentError(`sessionTimeoutRangeMs.min ${min} exceeds max ${max}`);
  return { pollIntervalMs, initialRebalanceDelayMs, minSessionTimeoutMs: min, maxSessionTimeoutMs: max };
}

function checkPort(name: string, port: number, min: number): void {
  if (!Number.isInteger(port) || port < min || port > 65_535) {
    throw new InvalidArgumentError(`${name} must be an integer from ${min} to 65535, got ${port}`);
  }
}

function positiveInteger(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new InvalidArgumentError(`${name} must be a positive integer, got ${value}`);
  }
}
