/**
 * The trigger dispatcher: turns new records into invocations of trigger functions, in AWS (one
 * Lambda function of the stack) and on the local stack alike. Three entry points:
 * - {@link Dispatcher.doorbell}: the log table's stream says which partitions got records. The
 *   stream is only a doorbell — what to deliver is read from the log by offset, from the trigger
 *   group's committed offset — so stream order, duplicates or loss cannot reorder or skip records.
 *   Each (trigger, partition) is rung (marked due, its ring counter bumped); where no dispatcher
 *   holds it, a worker is started (in AWS an asynchronous invocation of this function, so a long
 *   delivery never holds a stream shard). The partition's archive schedule is rung too
 *   (`archive/archive-doorbell.ts`), so the scheduled archiver visits it.
 * - {@link Dispatcher.work}: one worker run for one (trigger, partition) — see
 *   `partition-worker.ts`; at most one holds a partition's lease, so one batch is in flight.
 * - {@link Dispatcher.sweep}: the schedule's catch-up: partitions that are due (a worker died, a
 *   backoff ended, a doorbell was lost, a trigger was enabled) and not held get a worker. It reads
 *   each enabled trigger's lease items with one small query (a few hundred bytes per partition):
 *   no records, (almost) no cost.
 * A trigger's `scalingConfig.maximumConcurrency` caps how many of its partitions are delivered at
 * once; the rest stay due and are started as workers finish.
 */
import { randomBytes } from 'node:crypto';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import { GetFunctionConfigurationCommand } from '@aws-sdk/client-lambda';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { ArchiveDoorbell } from '../archive/archive-doorbell.ts';
import type { StorageContext } from '../context.ts';
import { TopicNotFoundError, TributaryError } from '../errors.ts';
import { type DispatchLeaseRecord, LeaseStore } from '../groups/lease-store.ts';
import { LogAttr, parseBatchKey } from '../keys.ts';
import { readPlacement, registryContext } from '../regions/routing.ts';
import { sleep } from '../retry.ts';
import type { RawValue } from '../serde.ts';
import type { TopicCache } from '../topics/topic-cache.ts';
import { partitionRef, type TopicMetadata } from '../topics/topic-metadata.ts';
import {
  DirectPartitionSource,
  type SourcePlacement,
  type TopicFollower,
} from '../transport/direct-source.ts';
import { destinationPort } from './destinations.ts';
import { compileFilterCriteria } from './event-filter.ts';
import type { PartitionState } from './failure-policy.ts';
import { lambdaInvoker } from './lambda-invoker.ts';
import {
  type DispatchLeasePort,
  type HeldDispatchLease,
  PartitionWorker,
  type TriggerProblem,
  type WorkerMetrics,
  type WorkerResult,
} from './partition-worker.ts';
import { TRIGGER_LIST_MAX_AGE_MS, type TriggerRecordOf, type TriggerRegistry } from './trigger-registry.ts';
import { onFailureDestination, parseFunctionName, type TriggerSettings } from './trigger-settings.ts';

/** A worker run's counters, and Lambda's `OffsetLag` (records of the partition left when it ended). */
export type DispatchMetrics = WorkerMetrics & { readonly OffsetLag: number };

/** One unit of work: deliver `partition` of trigger `trigger`. */
export interface WorkJob {
  readonly trigger: string;
  readonly partition: number;
}

/** A partition that got records, from a log table stream record's key. */
export interface RungPartition {
  readonly topic: string;
  readonly incarnation: string;
  readonly partition: number;
}

/** What the dispatcher runs on. */
export interface DispatcherOptions {
  readonly ctx: StorageContext;
  readonly topics: TopicCache;
  readonly triggers: TriggerRegistry;
  readonly lambda: LambdaClient;
  readonly sqs: () => SQSClient;
  /** Starts a worker for `job` elsewhere (AWS: an asynchronous self-invocation; locally: in process). */
  readonly startWorker: (job: WorkJob) => Promise<void>;
  /** Appends dead letters to a Tributary topic. */
  readonly appendToTopic: (
    topic: string,
    messages: readonly { readonly key: Uint8Array | null; readonly value: RawValue }[],
  ) => Promise<void>;
  /** The region the functions are in (their ARNs in destination records). */
  readonly region: string;
  /** `bootstrapServers` of the events (Tributary has no brokers: the Kafka gateway's address, or a name). */
  readonly bootstrapServers: string;
  /** How long a worker's lease lasts without renewal. @default 30000 */
  readonly leaseMs?: number;
  /** Receives each worker run's counters (Lambda's ESM metric names). @default none */
  readonly onMetrics?: (trigger: TriggerSettings, partition: number, metrics: DispatchMetrics) => void;
  /** Receives problems that did not stop the dispatcher (a trigger whose topic is gone...). @default none */
  readonly onProblem?: (message: string, error: unknown) => void;
  /** How long the list of triggers is cached (at most `TRIGGER_LIST_MAX_AGE_MS`). @default 10000 */
  readonly triggerCacheMs?: number;
}

const DEFAULT_LEASE_MS = 30_000;
/** Room kept at the end of a worker run for releasing the lease and handing on. */
const RELEASE_MARGIN_MS = 5_000;
/**
 * What an invocation may take beyond its function's timeout: Lambda's init phase (up to 10 s, in
 * AWS and on the local stack alike, not counted in the timeout) and the network. The lease is
 * extended by timeout + this before each invocation.
 */
const INVOCATION_OVERHEAD_MS = 12_000;

/** The dispatcher of one deployment; one instance per process. */
export class Dispatcher {
  readonly #options: DispatcherOptions;
  readonly #leaseMs: number;
  readonly #id = `dispatcher-${randomBytes(6).toString('hex')}`;
  #cache: { at: number; triggers: readonly TriggerRecordOf[] } | undefined;
  readonly #functions = new Map<string, { readonly timeoutMs: number; readonly arn: string }>();
  readonly #archive: ArchiveDoorbell;

  constructor(options: DispatcherOptions) {
    this.#options = options;
    this.#leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
    // The archive schedules are written with the registry, where the archiver records its visits:
    // a ring written in another region could lose to a visit under last-writer-wins.
    const schedules = registryContext(options.ctx);
    this.#archive = new ArchiveDoorbell(
      schedules.now === options.ctx.now ? schedules : { ...schedules, now: options.ctx.now },
    );
  }

  /**
   * The doorbell: rings the archive schedule and every enabled trigger's lease of each partition
   * that got records, and starts a worker where none holds it. Partitions of other incarnations (a
   * deleted topic) are ignored.
   */
  async doorbell(partitions: readonly RungPartition[]): Promise<void> {
    const unique = new Map(
      partitions.map((p) => [`${p.topic}\u0000${p.incarnation}\u0000${p.partition}`, p]),
    );
    if (unique.size === 0) return;
    const triggers = await this.#enabledTriggers();
    await Promise.all(
      [...unique.values()].map(async (p) => {
        const topic = await this.#topic(p.topic, p);
        if (!topic || topic.incarnation !== p.incarnation) return;
        await this.#archive.ring(topic, p.partition);
        for (const trigger of triggers.filter((t) => t.settings.topic === p.topic)) {
          const leases = new LeaseStore(this.#options.ctx, trigger.settings.groupId);
          const { held } = await leases.ring(p.topic, p.partition);
          if (held) continue;
          if (trigger.settings.scalingConfig.maximumConcurrency !== undefined) {
            // Capped: the sweep of this trigger starts what the cap allows (this partition is due now).
            await this.#sweepTrigger(trigger, topic);
          } else {
            await this.#options.startWorker({ trigger: trigger.settings.name, partition: p.partition });
          }
        }
      }),
    );
  }

  /**
   * Catch-up: starts workers for every due partition no dispatcher holds, within each trigger's cap.
   * One scan of the topics table lists the triggers and their topics (a sweep reads no topic item
   * of its own), then one eventually consistent query per enabled trigger reads its leases.
   */
  async sweep(): Promise<void> {
    const { triggers, topics } = await this.#options.triggers.listWithTopics();
    this.#cache = { at: this.#options.ctx.now(), triggers };
    for (const trigger of triggers.filter((t) => t.settings.enabled)) {
      const topic = topics.get(trigger.settings.topic);
      if (!topic) continue;
      try {
        await this.#sweepTrigger(trigger, topic);
      } catch (error) {
        this.#options.onProblem?.(`Sweeping trigger ${trigger.settings.name} failed`, error);
      }
    }
  }

  /**
   * Runs one worker for `job` until its partition is caught up or `deadline` (epoch ms) is near;
   * when it stops with work left (out of time, a backoff that ends after the deadline, or the
   * trigger or its topic changed), the partition stays due (`continue`, with when) for the next
   * worker, which the caller starts.
   */
  async work(
    job: WorkJob,
    deadline: number,
    options: { readonly signal?: AbortSignal } = {},
  ): Promise<WorkerResult> {
    const trigger = await this.#trigger(job.trigger);
    if (!trigger?.settings.enabled) return { status: 'busy' };
    const settings = trigger.settings;
    const topic = await this.#topic(settings.topic, { partition: job.partition });
    if (!topic || job.partition >= topic.partitions) return { status: 'busy' };
    const source = this.#source(topic, job.partition);
    const target = await this.#functionConfig(settings.functionName);
    const targetTimeout = target.timeoutMs;
    // Invocations start only while the slowest one still ends inside this run.
    const stopStarting = deadline - targetTimeout - RELEASE_MARGIN_MS;
    if (stopStarting <= this.#options.ctx.now()) {
      // A run this short cannot invoke the function once (its timeout is longer than the run):
      // starting run after run would only spin. Report it and leave the partition to the sweep.
      await this.#options.triggers.recordError(settings.name, {
        code: 'FunctionTimeoutTooLong',
        message:
          `The function's timeout (${Math.round(targetTimeout / 1000)} s) leaves a dispatcher run no time to invoke it; ` +
          'Kafka event source mappings allow at most 14 minutes (840 s): lower it.',
      });
      return { status: 'busy' };
    }
    const destination = onFailureDestination(settings);
    const worker = new PartitionWorker(
      {
        settings,
        topic: topic.name,
        partition: job.partition,
        timestampType: topic.config.timestampType === 'LogAppendTime' ? 'LOG_APPEND_TIME' : 'CREATE_TIME',
        filter:
          settings.filterCriteria.filters.length > 0
            ? compileFilterCriteria(settings.filterCriteria.filters)
            : undefined,
        bootstrapServers: this.#options.bootstrapServers,
        invocationLeaseMs: targetTimeout + INVOCATION_OVERHEAD_MS,
      },
      {
        leases: this.#leasePort(settings, topic, job.partition),
        records: {
          start: () => source.reader.logStartOffset(),
          logStart: () => source.reader.logStartOffset(),
          read: (offset, maxRecords) =>
            source.fetch(offset, { maxRecords, maxBytes: 6 * 1024 * 1024, maxWaitMs: 0 }),
        },
        invoker: lambdaInvoker(this.#options.lambda, settings.functionName),
        destination: destination
          ? destinationPort(destination, {
              triggerName: settings.name,
              functionArn: target.arn,
              bootstrapServers: this.#options.bootstrapServers,
              now: this.#options.ctx.now,
              appendToTopic: this.#options.appendToTopic,
              sqs: this.#options.sqs,
              s3: () => this.#options.ctx.s3,
            })
          : undefined,
        settingsCurrent: this.#settingsCheck(trigger, topic),
        reportProblem: this.#problemReporter(trigger),
        now: this.#options.ctx.now,
        sleep: (ms, signal) => sleep(ms, signal),
        random: Math.random,
      },
    );
    let result: WorkerResult;
    try {
      result = await worker.run({
        deadline: Math.max(this.#options.ctx.now() + 1, stopStarting),
        ...(options.signal ? { signal: options.signal } : {}),
      });
    } catch (error) {
      await this.#options.triggers
        .recordError(settings.name, describeError(error))
        .catch((recording: unknown) =>
          this.#options.onProblem?.('Recording a trigger error failed', recording),
        );
      throw error;
    }
    if (result.status !== 'busy') {
      // Lambda's OffsetLag: records of the partition not yet processed when the run ended.
      const end = await source.reader.highWatermark(false).catch(() => undefined);
      const offsetLag = end === undefined ? 0 : Math.max(0, end - worker.position);
      this.#options.onMetrics?.(settings, job.partition, { ...result.metrics, OffsetLag: offsetLag });
    }
    if (settings.scalingConfig.maximumConcurrency !== undefined && result.status !== 'busy') {
      // A slot freed: hand it to another due partition of this trigger.
      await this.#sweepTrigger(trigger, topic).catch((error: unknown) =>
        this.#options.onProblem?.(`Sweeping trigger ${settings.name} failed`, error),
      );
    }
    return result;
  }

  /**
   * The worker's reader of the partition, placed as any consumer's (`readPlacement`): with regions,
   * this region's copy (a replica when the topic is homed elsewhere, whose gaps are "not yet", never
   * skipped) or the home's. It follows the topic's failovers through the metadata cache, as a
   * consumer's source does: a fetch that meets a planned failover's fence reads the topic again and
   * reads on in the new epoch. Commits go to the trigger group's region (the lease store's).
   */
  #source(topic: TopicMetadata, partition: number): DirectPartitionSource {
    const { ctx, topics } = this.#options;
    const placement = (t: TopicMetadata): SourcePlacement => {
      const { ctx: read, replica } = readPlacement(ctx, t);
      return { ctx: read, ref: partitionRef(t, partition), replica };
    };
    const first = placement(topic);
    const follower: TopicFollower = {
      current: () => topics.get(topic.name),
      reload: (region) => topics.reload(topic.name, region === undefined ? {} : { region }),
      placement,
    };
    return new DirectPartitionSource(
      first.ctx,
      first.ref,
      first.replica,
      ctx.regions ? { follower, topic } : undefined,
    );
  }

  async #sweepTrigger(trigger: TriggerRecordOf, topic: TopicMetadata): Promise<void> {
    const settings = trigger.settings;
    const states = await new LeaseStore(this.#options.ctx, settings.groupId).dispatchStates(topic.name);
    const now = this.#options.ctx.now();
    const held = states.filter((s) => s.heldUntil !== undefined && s.heldUntil > now).length;
    const cap = settings.scalingConfig.maximumConcurrency ?? Number.POSITIVE_INFINITY;
    const due = states
      .filter((s) => s.due !== undefined && s.due <= now && !(s.heldUntil !== undefined && s.heldUntil > now))
      .filter((s) => s.partition < topic.partitions)
      .sort((a, b) => (a.due ?? 0) - (b.due ?? 0))
      .map((s) => s.partition);
    // A partition without a lease item was never rung: one added to the topic after the trigger,
    // whose first doorbell came while a dispatcher's list of triggers did not have the trigger
    // yet (or was lost). Nothing else would ever mark it due, so it gets a worker (once: the
    // worker's lease creates the item). A partition the trigger started on has its item (and
    // starting offset) written before the trigger's own, and a worker's take reads it strongly
    // consistently: a stale read here only costs a worker that finds nothing to do.
    const known = new Set(states.map((s) => s.partition));
    const unrung = Array.from({ length: topic.partitions }, (_, p) => p).filter((p) => !known.has(p));
    for (const partition of [...due, ...unrung].slice(0, Math.max(0, cap - held))) {
      await this.#options.startWorker({ trigger: settings.name, partition });
    }
  }

  /**
   * Whether `trigger` still is enabled with the settings a run started with, and its topic still
   * the incarnation the run delivers, read again at most every trigger cache period: a run stops
   * before its next invocation once the trigger was disabled, deleted or updated, or its topic
   * deleted (a retried batch is still buffered and would be invoked forever); the next run reads
   * the new settings, or finds nothing to do.
   */
  #settingsCheck(trigger: TriggerRecordOf, topic: TopicMetadata): () => Promise<boolean> {
    const now = this.#options.ctx.now;
    const everyMs = Math.min(
      this.#options.triggerCacheMs ?? TRIGGER_LIST_MAX_AGE_MS,
      TRIGGER_LIST_MAX_AGE_MS,
    );
    let checkedAt = now();
    let current = true;
    return async () => {
      if (!current || now() - checkedAt < everyMs) return current;
      const [latest, latestTopic] = await Promise.all([
        this.#trigger(trigger.settings.name),
        this.#topic(topic.name),
      ]);
      checkedAt = now();
      current =
        latest?.settings.enabled === true &&
        latest.stored.version === trigger.stored.version &&
        latestTopic?.incarnation === topic.incarnation;
      return current;
    };
  }

  /**
   * Records each change of what went wrong with a trigger's invocations as its last error
   * (`describeTrigger`), and clears it once an invocation succeeds: a function error is what a
   * user asks a trigger about first, and it is no exception of the dispatcher's.
   */
  #problemReporter(trigger: TriggerRecordOf): (problem: TriggerProblem | undefined) => Promise<void> {
    const keyOf = (problem: TriggerProblem | undefined) =>
      problem === undefined ? undefined : `${problem.code}\u0000${problem.message}`;
    let recorded = keyOf(parseProblem(trigger.stored.lastError));
    return async (problem) => {
      const key = keyOf(problem);
      if (key === recorded) return;
      try {
        await this.#options.triggers.recordError(trigger.settings.name, problem);
        recorded = key;
      } catch (error) {
        this.#options.onProblem?.(`Recording the state of trigger ${trigger.settings.name} failed`, error);
      }
    };
  }

  #leasePort(settings: TriggerSettings, topic: TopicMetadata, partition: number): DispatchLeasePort {
    const store = new LeaseStore(this.#options.ctx, settings.groupId);
    const now = this.#options.ctx.now;
    // The store's view of each lease handed out (it moves on with every commit).
    const records = new WeakMap<HeldDispatchLease, DispatchLeaseRecord>();
    const held = (record: DispatchLeaseRecord): HeldDispatchLease => {
      const lease: HeldDispatchLease = {
        epoch: record.epoch,
        committed: record.committed,
        ring: record.ring,
        carried: parseCarried(record.policyState, topic.incarnation),
      };
      records.set(lease, record);
      return lease;
    };
    const recordOf = (lease: HeldDispatchLease) => records.get(lease)!;
    return {
      renewEveryMs: Math.max(1_000, Math.floor(this.#leaseMs / 3)),
      take: async () => {
        const taken = await store.takeDispatch(
          topic.name,
          partition,
          this.#id,
          now() + this.#leaseMs,
          topic.incarnation,
        );
        return taken ? held(taken) : undefined;
      },
      commit: async (lease, offset) => {
        const { lease: record, offsetMoved } = await store.commitDispatch(
          topic.name,
          partition,
          recordOf(lease),
          offset,
        );
        if (offsetMoved) return held(record);
        records.set(lease, record);
        return undefined;
      },
      renew: (lease, forMs) =>
        store.renewDispatch(
          topic.name,
          partition,
          recordOf(lease),
          now() + Math.max(this.#leaseMs, forMs ?? 0),
        ),
      release: async (lease, dueAt, state) => {
        const kept = await store.releaseDispatch(
          topic.name,
          partition,
          recordOf(lease),
          dueAt,
          state === undefined || (state.pending.length === 0 && state.notBefore <= now())
            ? undefined
            : JSON.stringify({ incarnation: topic.incarnation, state } satisfies CarriedState),
        );
        return kept ? { lease: held(kept.lease), offsetMoved: kept.offsetMoved } : undefined;
      },
    };
  }

  async #enabledTriggers(): Promise<readonly TriggerRecordOf[]> {
    const maxAge = Math.min(this.#options.triggerCacheMs ?? TRIGGER_LIST_MAX_AGE_MS, TRIGGER_LIST_MAX_AGE_MS);
    const now = this.#options.ctx.now();
    if (!this.#cache || now - this.#cache.at > maxAge) {
      this.#cache = { at: now, triggers: await this.#options.triggers.list() };
    }
    return this.#cache.triggers.filter((t) => t.settings.enabled);
  }

  async #trigger(name: string): Promise<TriggerRecordOf | undefined> {
    try {
      return await this.#options.triggers.get(name);
    } catch (error) {
      if (error instanceof TributaryError && error.code === 'TRIGGER_NOT_FOUND') return undefined;
      throw error;
    }
  }

  /**
   * A topic's metadata (cached), read again when it disagrees with what a stream record or a job
   * says (a partition beyond the cached count: partitions were added; another incarnation: the
   * topic was recreated), so new partitions are delivered at once rather than after the cache
   * expires.
   */
  async #topic(
    name: string,
    seen: { readonly partition: number; readonly incarnation?: string } = { partition: 0 },
  ): Promise<TopicMetadata | undefined> {
    try {
      const cached = await this.#options.topics.get(name);
      const stale =
        seen.partition >= cached.partitions ||
        (seen.incarnation !== undefined && seen.incarnation !== cached.incarnation);
      if (!stale) return cached;
      this.#options.topics.invalidate(name);
      return await this.#options.topics.get(name);
    } catch (error) {
      if (error instanceof TopicNotFoundError) return undefined;
      throw error;
    }
  }

  /**
   * The target's timeout and ARN (GetFunctionConfiguration, cached per process): invocations must
   * end inside a run, and failure records name the function as Lambda does. When it cannot be read
   * (no permission, Lambda unreachable) Lambda's default timeout (3 s) is assumed for now, not
   * cached, and the ARN is built from the name.
   */
  async #functionConfig(functionName: string): Promise<{ readonly timeoutMs: number; readonly arn: string }> {
    const cached = this.#functions.get(functionName);
    if (cached !== undefined) return cached;
    try {
      // GetFunctionConfiguration takes every form a trigger accepts, a qualifier appended included.
      const out = await this.#options.lambda.send(
        new GetFunctionConfigurationCommand({ FunctionName: functionName }),
      );
      const config = {
        timeoutMs: (out.Timeout ?? 3) * 1000,
        arn: qualifiedArn(out.FunctionArn, functionName) ?? this.#builtArn(functionName),
      };
      this.#functions.set(functionName, config);
      return config;
    } catch (error) {
      this.#options.onProblem?.(
        `Reading the configuration of ${functionName} failed (assuming a 3 s timeout)`,
        error,
      );
      return { timeoutMs: 3_000, arn: this.#builtArn(functionName) };
    }
  }

  #builtArn(functionName: string): string {
    if (functionName.startsWith('arn:')) return functionName;
    const ref = parseFunctionName(functionName);
    return `arn:aws:lambda:${this.#options.region}:${ref.accountId ?? '000000000000'}:function:${ref.functionName}${ref.qualifier ? `:${ref.qualifier}` : ''}`;
  }
}

/**
 * The failure policy's state as a worker leaves it for the next one, with the incarnation of the
 * topic it is about: a lease item that never had a commit has no incarnation of its own, and the
 * retries of a deleted topic must not be carried into one created again under the name (they
 * would "redeliver" offsets the new topic does not have yet, and commit past them).
 */
interface CarriedState {
  readonly incarnation: string;
  readonly state: PartitionState;
}

/** The function's ARN with the trigger's qualifier (GetFunctionConfiguration answers the unqualified one for `$LATEST`). */
function qualifiedArn(arn: string | undefined, functionName: string): string | undefined {
  if (arn === undefined) return undefined;
  const qualifier = parseFunctionName(functionName).qualifier;
  return qualifier === undefined || arn.endsWith(`:${qualifier}`) ? arn : `${arn}:${qualifier}`;
}

function parseCarried(json: string | undefined, incarnation: string): PartitionState | undefined {
  if (json === undefined) return undefined;
  try {
    const carried = JSON.parse(json) as Partial<CarriedState>;
    return carried.incarnation === incarnation ? carried.state : undefined;
  } catch {
    return undefined;
  }
}

/** The problem a stored last error (JSON) names, if any. */
function parseProblem(json: string | undefined): TriggerProblem | undefined {
  if (json === undefined) return undefined;
  try {
    const parsed = JSON.parse(json) as Partial<TriggerProblem>;
    return typeof parsed.code === 'string' && typeof parsed.message === 'string'
      ? { code: parsed.code, message: parsed.message }
      : undefined;
  } catch {
    return undefined;
  }
}

function describeError(error: unknown): { message: string; code: string } {
  if (error instanceof TributaryError) return { message: error.message, code: error.code };
  const e = error as { name?: unknown; message?: unknown };
  return {
    message: typeof e?.message === 'string' ? e.message : String(error),
    code: typeof e?.name === 'string' ? e.name : 'Error',
  };
}

/**
 * The partition a log table stream record is about, or undefined for items that are not batches
 * (partition metadata at `off = -1`, segment manifests, producer state and re-append records under
 * `…#…` keys) and, when the record's `newImage` is given, for the stubs the archiver leaves of
 * archived batches and the fences of planned failovers: they bring no records. Batches of every
 * leader epoch count (`<partition key>~e<epoch>` after a failover).
 */
export function rungPartitionOf(keys: {
  readonly pk?: string | undefined;
  readonly off?: string | undefined;
  readonly newImage?: Readonly<Record<string, { readonly N?: string | undefined }>> | undefined;
}): RungPartition | undefined {
  const { pk, off } = keys;
  if (keys.newImage?.[LogAttr.archived]?.N === '1') return undefined;
  if (keys.newImage?.[LogAttr.fenceEpoch]?.N !== undefined) return undefined;
  if (pk === undefined || off === undefined || Number(off) < 0) return undefined;
  const parsed = parseBatchKey(pk);
  if (!parsed) return undefined;
  return { topic: parsed.topic, incarnation: parsed.incarnation, partition: parsed.partition };
}
