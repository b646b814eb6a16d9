/**
 * The trigger dispatcher on the local stack: the SDK's very `Dispatcher`, woken by DynamoDB Local's
 * real stream of the log table (what the stack's stream mapping does in AWS), sweeping on a timer
 * (the schedule), invoking functions through the local Lambda Invoke API with
 * `@aws-sdk/client-lambda`, and running worker jobs in this process (in AWS each is an asynchronous
 * invocation of the dispatcher function).
 */
import { SQSClient } from '@aws-sdk/client-sqs';
import {
  DirectTransport,
  Dispatcher,
  type DispatcherOptions,
  PeriodicTask,
  type RungPartition,
  rawSerializer,
  rungPartitionOf,
  type TributaryOptions,
  type WorkJob,
} from '../sdk/src/internal.ts';
import { type StreamPoller, startStreamPoller } from './stream-poller.ts';

/** Options of {@link startLocalDispatcher}. */
export interface LocalDispatcherOptions {
  /**
   * Where the stack's storage is (the edge). Its `lambdaClient` (and `dynamoDBClient`), when given,
   * are the clients the dispatcher invokes (and stores) with; they stay the caller's.
   */
  readonly connection: TributaryOptions & { readonly endpoint: string; readonly region: string };
  /** How often the dispatcher sweeps for due partitions. @default 1000 */
  readonly sweepIntervalMs?: number;
  /** How long one worker run may take before it hands on to the next. @default 60000 */
  readonly workerRunMs?: number;
  /** `bootstrapServers` written in events. @default 'tributary.local:9092' */
  readonly bootstrapServers?: string;
  /** How long a worker's partition lease lasts without renewal. @default 30000 */
  readonly leaseMs?: number;
  /** Receives each worker run's counters (Lambda's ESM metric names). @default none */
  readonly onMetrics?: DispatcherOptions['onMetrics'];
  readonly log?: (line: string) => void;
}

/**
 * How long topic metadata is cached here unless the connection says otherwise: partitions added
 * to a topic and deleted topics are noticed within a second locally (the default 30 s of a client
 * would hold a new partition's records back that long).
 */
const LOCAL_METADATA_MAX_AGE_MS = 1_000;

/** A running local dispatcher. */
export interface LocalDispatcher {
  /** Sweeps now (tests use it to skip the timer). */
  sweep(): Promise<void>;
  /** Stops the stream poller and the sweep, ends worker runs at their next step and waits for them. */
  stop(): Promise<void>;
}

/** Starts the dispatcher over the stack at `connection`. */
export async function startLocalDispatcher(options: LocalDispatcherOptions): Promise<LocalDispatcher> {
  const { connection, log } = options;
  const transport = new DirectTransport({
    metadataMaxAgeMs: LOCAL_METADATA_MAX_AGE_MS,
    ...connection,
  });
  const clientConfig = {
    endpoint: connection.endpoint,
    region: connection.region,
    ...(connection.credentials ? { credentials: connection.credentials } : {}),
  };
  // The transport's client (the caller's `lambdaClient`, or one it owns and destroys on close):
  // one attempt per call, as Lambda's throttles are the dispatcher's to back off from.
  const lambda = transport.lambda;
  let sqs: SQSClient | undefined;
  const producer = transport.producer({ serializer: rawSerializer, lingerMs: 0 });
  const stopping = new AbortController();
  const running = new Map<string, Promise<void>>();
  /** Jobs asked for while their run was going on. */
  const again = new Set<string>();
  const runMs = options.workerRunMs ?? 60_000;

  const dispatcher: Dispatcher = new Dispatcher({
    ctx: transport.ctx,
    topics: transport.topics,
    triggers: transport.triggers(),
    lambda,
    sqs: () => {
      sqs ??= new SQSClient(clientConfig);
      return sqs;
    },
    region: connection.region,
    bootstrapServers: options.bootstrapServers ?? 'tributary.local:9092',
    appendToTopic: async (topic, messages) => {
      await producer.send({ topic, messages: messages.map((m) => ({ key: m.key, value: m.value })) });
    },
    startWorker: async (job) => startWorker(job),
    onProblem: (message, error) => log?.(`${message}: ${String(error)}`),
    // New triggers show up within a second locally (a developer creates one and produces at once).
    triggerCacheMs: 1_000,
    ...(options.leaseMs === undefined ? {} : { leaseMs: options.leaseMs }),
    ...(options.onMetrics === undefined ? {} : { onMetrics: options.onMetrics }),
  });

  /**
   * Runs a job in this process, once per (trigger, partition) at a time; a run with work left hands
   * on. A job asked for while its run is ending runs again right after it: the run may have let
   * the partition go just before a doorbell rang it (which then found it free, and asked for a
   * worker), and skipping the job would leave those records to the next sweep.
   */
  function startWorker(job: WorkJob): void {
    const key = `${job.trigger}\u0000${job.partition}`;
    if (stopping.signal.aborted) return;
    if (running.has(key)) {
      again.add(key);
      return;
    }
    const run = (async () => {
      for (;;) {
        again.delete(key);
        const result = await dispatcher.work(job, Date.now() + runMs, { signal: stopping.signal });
        if (stopping.signal.aborted) return;
        if (result.status !== 'continue') {
          if (again.has(key)) continue;
          return;
        }
        // Out of time or waiting out a backoff: continue when it is due (the sweep would too).
        const wait = Math.max(0, result.dueAt - Date.now());
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(wait, 1_000)).unref());
      }
    })()
      .catch((error: unknown) => log?.(`Trigger ${job.trigger} partition ${job.partition}: ${String(error)}`))
      .finally(() => running.delete(key));
    running.set(key, run);
  }

  const poller: StreamPoller = await startStreamPoller({
    ddb: transport.ctx.ddb,
    streams: clientConfig,
    tableName: transport.ctx.tables.log,
    onRecords: async (records) => {
      const rung: RungPartition[] = [];
      for (const record of records) {
        if (record.eventName === 'REMOVE') continue;
        const keys = record.dynamodb?.Keys;
        const partition = rungPartitionOf({
          pk: keys?.pk?.S,
          off: keys?.off?.N,
          newImage: record.dynamodb?.NewImage,
        });
        if (partition) rung.push(partition);
      }
      await dispatcher.doorbell(rung);
    },
    ...(log ? { log } : {}),
  });

  const sweeper = new PeriodicTask(() => dispatcher.sweep(), {
    intervalMs: options.sweepIntervalMs ?? 1_000,
    onError: (error) => log?.(`Trigger sweep failed: ${String(error)}`),
  });
  sweeper.start();

  let stopped: Promise<void> | undefined;
  return {
    sweep: () => dispatcher.sweep(),
    stop: () => {
      stopped ??= (async () => {
        stopping.abort();
        await Promise.allSettled([poller.stop(), sweeper.stop()]);
        await Promise.allSettled([...running.values()]);
        await producer.close().catch(() => undefined);
        sqs?.destroy();
        transport.close();
      })();
      return stopped;
    },
  };
}
