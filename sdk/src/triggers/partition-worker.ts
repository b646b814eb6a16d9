/**
 * Delivers one partition of one trigger: the loop a dispatcher runs while it holds the trigger
 * group's lease of that partition. Per round it reads the next batch from the group's committed
 * offset (or exactly the range the failure policy asks to redeliver), waits out the batching
 * window, drops records the filters reject, gives up on records past their maximum age, invokes
 * the function with the Kafka ESM event, and applies what the failure policy decides: commit
 * (fenced by the lease epoch), retry, bisect, or send to the destination and commit past. So:
 * - at most one batch of a (trigger, partition) is in flight — the lease says who may invoke, and
 *   before each invocation it is extended to cover the whole invocation (the function's timeout
 *   and more), so that a worker that stalls or dies mid-invocation still holds the partition until
 *   its invocation must have ended;
 * - records go in offset order, and none is skipped except by the failure policy;
 * - a worker that dies at any point is resumed from the committed offset (at least once);
 * - a trigger disabled, deleted or updated stops its workers before their next invocation, and an
 *   offset reset of its group makes a worker start over from the new offset.
 *
 * The I/O is behind small ports ({@link WorkerPorts}) so the same loop runs in AWS and locally, and
 * the lease and commit rules live in the groups table's store.
 */
import { LeaseLostError } from '../errors.ts';
import type { RawRecord } from '../transport/partition-source.ts';
import {
  type BatchOutcome,
  classifyInvokeError,
  interpretResponse,
  outcomeForPartition,
} from './batch-response.ts';
import {
  buildKafkaEvent,
  emptyEventByteSize,
  exceedsPayloadLimit,
  INVOKE_PAYLOAD_LIMIT_BYTES,
  partitionKey,
  recordContribution,
  serializeKafkaEvent,
  type TimestampType,
  type TriggerRecord,
} from './esm-event.ts';
import type { RecordFilter } from './event-filter.ts';
import {
  afterInvocation,
  expireRecords,
  type FailureCondition,
  initialState,
  nextDelivery,
  type PartitionState,
  type PolicyAction,
} from './failure-policy.ts';
import { batchingWindowMs, reportsBatchItemFailures, type TriggerSettings } from './trigger-settings.ts';

/** The lease a worker holds on its partition, as the store returned it. */
export interface HeldDispatchLease {
  readonly epoch: number;
  /** The group's committed offset for this incarnation of the topic; undefined when none. */
  readonly committed: number | undefined;
  /** The doorbell counter when the lease was taken (or last released-and-kept). */
  readonly ring: number;
  /** The failure policy's state the previous holder left (retries in progress), if any. */
  readonly carried: PartitionState | undefined;
}

/** A lease a release did not give up, as it is now. */
export interface KeptDispatchLease {
  readonly lease: HeldDispatchLease;
  /** Someone else moved the committed offset (an offset reset): start over from `lease.committed`. */
  readonly offsetMoved: boolean;
}

/** What a worker needs from the groups table. */
export interface DispatchLeasePort {
  /** Takes the lease unless another live worker holds it (then undefined). */
  take(): Promise<HeldDispatchLease | undefined>;
  /**
   * Commits `offset`, fenced by the lease's epoch; throws `LeaseLostError` when it was taken away.
   * Returns undefined once committed; when someone else moved the committed offset meanwhile (an
   * offset reset), nothing is written and the lease is returned with the offset now committed, to
   * start over from.
   */
  commit(lease: HeldDispatchLease, offset: number): Promise<HeldDispatchLease | undefined>;
  /**
   * Keeps the lease alive for `forMs` from now (a lease period when omitted), never shortening
   * it; throws `LeaseLostError` when it was taken away.
   */
  renew(lease: HeldDispatchLease, forMs?: number): Promise<void>;
  /** How often a running worker renews its lease (well inside the lease period). */
  readonly renewEveryMs: number;
  /**
   * Gives the lease up, marking the partition due at `dueAt` (undefined: not due) and leaving the
   * failure policy's `state` for the next holder when it has retries in progress. A release that
   * leaves the partition idle keeps the lease instead, and returns it, when the doorbell rang since
   * `lease.ring` (new records: keep delivering) or the committed offset was moved (start over).
   */
  release(
    lease: HeldDispatchLease,
    dueAt: number | undefined,
    state: PartitionState | undefined,
  ): Promise<KeptDispatchLease | undefined>;
}

/** What a worker needs from the log. */
export interface RecordPort {
  /** Where a group without a committed offset starts (the trigger's starting position). */
  start(): Promise<number>;
  /** The log start: where a committed offset below it continues (retention removed the rest). */
  logStart(): Promise<number>;
  /** Records from `offset` on (at most `maxRecords`), and where the next read continues. */
  read(
    offset: number,
    maxRecords: number,
  ): Promise<{ readonly records: readonly RawRecord[]; readonly nextOffset: number }>;
}

/** The result of one Invoke call that returned (a function error included). */
export interface InvokeResult {
  readonly functionError: string | undefined;
  readonly payload: Uint8Array | undefined;
  readonly statusCode: number;
  readonly executedVersion: string | undefined;
  readonly requestId: string;
}

/** What a worker needs from Lambda: a synchronous invoke that throws the SDK's errors. */
export interface InvokePort {
  invoke(payload: string): Promise<InvokeResult>;
}

/** Records the failure policy gave up on, with what the destination record needs. */
export interface GivenUp {
  readonly condition: FailureCondition;
  readonly records: readonly TriggerRecord[];
  readonly approximateInvokeCount: number;
  /** The last invocation of these records, when there was one. */
  readonly lastInvocation: InvokeResult | undefined;
}

/** Where given-up records go (a topic, a queue, a bucket); throws when they could not be written. */
export interface DestinationPort {
  deliver(failed: GivenUp): Promise<void>;
}

/** Counters a worker reports (Lambda's ESM metric names where they fit). */
export interface WorkerMetrics {
  PolledEventCount: number;
  FilteredOutEventCount: number;
  InvokedEventCount: number;
  FailedInvokeEventCount: number;
  DroppedEventCount: number;
  OnFailureDestinationDeliveredEventCount: number;
  CommittedEventCount: number;
  InvokeErrorCount: number;
  Throttles: number;
}

/** What went wrong with a trigger's last invocation (`describeTrigger`'s last error). */
export interface TriggerProblem {
  readonly code: string;
  readonly message: string;
}

/** Everything a worker runs against. */
export interface WorkerPorts {
  readonly leases: DispatchLeasePort;
  readonly records: RecordPort;
  readonly invoker: InvokePort;
  /** Undefined when the trigger has no on-failure destination (given-up records are dropped). */
  readonly destination: DestinationPort | undefined;
  /**
   * Whether the trigger still wants deliveries with the settings this worker runs with: false once
   * it was disabled, deleted or updated. Asked before each invocation (the answer may be cached
   * briefly); on false the worker stops and hands the partition on.
   */
  readonly settingsCurrent: () => Promise<boolean>;
  /** Told after each invocation what went wrong with it, or undefined when it succeeded. */
  readonly reportProblem: (problem: TriggerProblem | undefined) => Promise<void>;
  readonly now: () => number;
  readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  readonly random: () => number;
}

/** What a worker is about. */
export interface WorkerTarget {
  readonly settings: TriggerSettings;
  readonly topic: string;
  readonly partition: number;
  readonly timestampType: TimestampType;
  readonly filter: RecordFilter | undefined;
  readonly bootstrapServers: string;
  /**
   * The longest an invocation can take (the function's timeout, plus its init phase and the
   * network): the lease is extended by this much before each invocation.
   */
  readonly invocationLeaseMs: number;
}

/** How a worker run ended. */
export type WorkerResult =
  /** Another worker holds the partition. */
  | { readonly status: 'busy' }
  /** Caught up and released: nothing due. */
  | { readonly status: 'idle'; readonly metrics: WorkerMetrics }
  /** Out of time (or stopped), released and marked due at `dueAt`: the next worker continues. */
  | { readonly status: 'continue'; readonly dueAt: number; readonly metrics: WorkerMetrics }
  /** The lease was taken away (a reset, or a worker that outlived its lease): the new holder continues. */
  | { readonly status: 'lost'; readonly metrics: WorkerMetrics };

/** Options of one run. */
export interface WorkerRunOptions {
  /** Stop starting invocations after this time (epoch ms); leave room for the slowest invocation. */
  readonly deadline: number;
  /** Aborts waits (shutdown). */
  readonly signal?: AbortSignal;
}

/** Longest nap between reads while the batching window is open. */
const WINDOW_POLL_MS = 100;

/** Delivers one (trigger, partition) until caught up or out of time. */
export class PartitionWorker {
  readonly #target: WorkerTarget;
  readonly #ports: WorkerPorts;
  readonly #metrics: WorkerMetrics = {
    PolledEventCount: 0,
    FilteredOutEventCount: 0,
    InvokedEventCount: 0,
    FailedInvokeEventCount: 0,
    DroppedEventCount: 0,
    OnFailureDestinationDeliveredEventCount: 0,
    CommittedEventCount: 0,
    InvokeErrorCount: 0,
    Throttles: 0,
  };
  /** Records read but not yet invoked or passed (the window's accumulation; a redelivery's range). */
  #buffer: TriggerRecord[] = [];
  /** Where the next read of fresh records continues. */
  #readFrom = 0;
  /** The committed position as this run last knew it: where the partition continues. */
  get position(): number {
    return this.#committedSoFar;
  }

  /** The highest offset committed by this run (for `CommittedEventCount`). */
  #committedSoFar = 0;

  constructor(target: WorkerTarget, ports: WorkerPorts) {
    this.#target = target;
    this.#ports = ports;
  }

  /** Runs until caught up, out of time, or the lease is lost. */
  async run(options: WorkerRunOptions): Promise<WorkerResult> {
    const taken = await this.#ports.leases.take();
    if (!taken) return { status: 'busy' };
    let lease = taken;
    // The lease is renewed in the background (an invocation may outlast a lease period); a renewal
    // that finds it taken away stops the run after the invocation in flight.
    const lost = new AbortController();
    const renewal = setInterval(() => {
      this.#ports.leases.renew(lease).catch((error: unknown) => {
        if (error instanceof LeaseLostError) lost.abort(error);
      });
    }, this.#ports.leases.renewEveryMs);
    renewal.unref?.();
    const signal = options.signal ? AbortSignal.any([options.signal, lost.signal]) : lost.signal;
    try {
      return await this.#deliver(lease, { ...options, signal }, (kept) => {
        lease = kept;
      });
    } catch (error) {
      if (error instanceof LeaseLostError) return { status: 'lost', metrics: this.#metrics };
      // Anything else: keep the partition due for the next worker, then report.
      await this.#ports.leases.release(lease, this.#ports.now(), undefined).catch(() => undefined);
      throw error;
    } finally {
      clearInterval(renewal);
    }
  }

  async #deliver(
    taken: HeldDispatchLease,
    options: WorkerRunOptions & { readonly signal: AbortSignal },
    keep: (lease: HeldDispatchLease) => void,
  ): Promise<WorkerResult> {
    let lease = taken;
    const hold = (kept: HeldDispatchLease) => {
      lease = kept;
      keep(kept);
    };
    let state = await this.#begin(lease);
    for (;;) {
      const now = this.#ports.now();
      if (options.signal.reason instanceof LeaseLostError) throw options.signal.reason;
      if (now >= options.deadline || options.signal.aborted) {
        return this.#handOn(lease, Math.max(now, state.notBefore), state);
      }
      if (state.notBefore > now) {
        // A backoff: wait here when it ends in time, else hand the partition to a later worker.
        if (state.notBefore >= options.deadline) return this.#handOn(lease, state.notBefore, state);
        await this.#ports.sleep(state.notBefore - now, options.signal).catch(() => undefined);
        continue;
      }
      let round: PartitionState | 'caught-up' | { readonly stopped: PartitionState };
      try {
        round = await this.#round(state, lease, options);
      } catch (error) {
        if (!(error instanceof OffsetMoved)) throw error;
        hold(error.lease);
        state = await this.#begin(error.lease);
        continue;
      }
      if (round === 'caught-up') {
        const kept = await this.#ports.leases.release(lease, undefined, undefined);
        if (!kept) return { status: 'idle', metrics: this.#metrics };
        hold(kept.lease);
        if (kept.offsetMoved) state = await this.#begin(kept.lease);
        continue;
      }
      if ('stopped' in round) return this.#handOn(lease, this.#ports.now(), round.stopped);
      state = round;
    }
  }

  /** Releases the lease leaving the partition due at `dueAt`, with the retry state for the next worker. */
  async #handOn(lease: HeldDispatchLease, dueAt: number, state: PartitionState): Promise<WorkerResult> {
    await this.#ports.leases.release(lease, dueAt, state);
    return { status: 'continue', dueAt, metrics: this.#metrics };
  }

  /**
   * The state to deliver from under `lease` — its committed offset, with the retries in progress
   * the previous holder left (their counts included) — with nothing buffered.
   */
  async #begin(lease: HeldDispatchLease): Promise<PartitionState> {
    const start = await this.#startPosition(lease);
    const state = lease.carried?.position === start ? lease.carried : initialState(start);
    this.#buffer = [];
    this.#readFrom = state.position;
    this.#committedSoFar = state.position;
    return state;
  }

  async #startPosition(lease: HeldDispatchLease): Promise<number> {
    if (lease.committed === undefined) return this.#ports.records.start();
    // A committed offset that retention has passed continues at the log start.
    const logStart = await this.#ports.records.logStart();
    return Math.max(lease.committed, logStart);
  }

  /**
   * One delivery round: returns the next state, 'caught-up' when there is nothing to deliver, or
   * `stopped` (with the state so far) when the run must end before invoking (it was stopped, or
   * the trigger changed).
   */
  async #round(
    state: PartitionState,
    lease: HeldDispatchLease,
    options: WorkerRunOptions,
  ): Promise<PartitionState | 'caught-up' | { readonly stopped: PartitionState }> {
    const settings = this.#target.settings;
    const delivery = nextDelivery(state);
    let to: number;
    let records: TriggerRecord[];
    if (delivery.kind === 'redeliver') {
      records = await this.#range(delivery.from, delivery.to);
      to = delivery.to;
    } else {
      const read = await this.#fresh(delivery.from, options);
      if (read === undefined) return 'caught-up';
      ({ records, to } = read);
    }

    // Filtered records are committed with the batch they were read in (or at once when nothing matched).
    const matched = this.#target.filter
      ? records.filter((r) => this.#target.filter!.matches(r.value))
      : records;
    this.#metrics.FilteredOutEventCount += records.length - matched.length;

    const aged = expireRecords(state, matched, to, settings, this.#ports.now());
    let next = aged.state;
    await this.#perform(aged.actions, lease, records, undefined);
    const alive = new Set(aged.remaining.map((a) => a.offset));
    const remaining = matched.filter((r) => alive.has(r.offset));
    if (remaining.length === 0) {
      if (next.position < to) {
        await this.#perform([{ type: 'commit', offset: to }], lease, records, undefined);
        next = { ...next, position: to, pending: next.pending.filter((p) => p.to > to) };
      }
      this.#consume(to);
      return next;
    }

    // Nothing is invoked for a run that was stopped, or for a trigger disabled, deleted or changed
    // since the run began: the next run reads the trigger again (a disabled one has none).
    if (options.signal?.aborted || !(await this.#ports.settingsCurrent())) return { stopped: next };

    const from = next.position;
    const invocation = { from, to, offsets: remaining.map((r) => r.offset) };
    const key = partitionKey(this.#target.topic, this.#target.partition);
    let outcome: BatchOutcome;
    let result: InvokeResult | undefined;
    if (remaining.length === 1 && exceedsPayloadLimit(remaining[0]!, this.#target.bootstrapServers)) {
      outcome = { kind: 'payload-too-large' };
    } else {
      const event = buildKafkaEvent(remaining, this.#target.bootstrapServers);
      // The lease covers this invocation to its end even if no renewal lands meanwhile (a stalled
      // or killed dispatcher): no other worker can start a batch of this partition before then.
      await this.#ports.leases.renew(lease, this.#target.invocationLeaseMs);
      // While the function runs, read the next batch (only of fresh records, and only once the
      // buffer holds no more than this one): the next invocation can start as soon as this one is
      // committed. What is read ahead stays buffered; nothing is invoked or committed out of turn.
      const prefetch =
        delivery.kind === 'read' && this.#buffer.length <= settings.batchSize
          ? this.#fill(2 * settings.batchSize).catch(() => undefined)
          : undefined;
      try {
        result = await this.#ports.invoker.invoke(serializeKafkaEvent(event));
        outcome = interpretResponse(result, event, reportsBatchItemFailures(settings));
        this.#metrics.InvokedEventCount += remaining.length;
        if (outcome.kind !== 'success') this.#metrics.FailedInvokeEventCount += remaining.length;
      } catch (error) {
        outcome = classifyInvokeError(error);
        if (outcome.kind === 'throttled') this.#metrics.Throttles++;
        else this.#metrics.InvokeErrorCount++;
      }
      await prefetch;
    }
    await this.#ports.reportProblem(problemOf(outcome, remaining.length));
    const step = afterInvocation(
      next,
      invocation,
      outcomeForPartition(outcome, key),
      settings,
      this.#ports.now(),
      this.#ports.random(),
    );
    await this.#perform(step.actions, lease, records, result);
    // Whatever is now behind the committed position is done; the rest stays buffered for redelivery.
    this.#consume(step.state.position);
    return step.state;
  }

  /**
   * Fresh records from `from`: at most a batch and what fits one invocation payload, after waiting
   * out the batching window while the batch is not full. Undefined when there is nothing new.
   */
  async #fresh(
    from: number,
    options: WorkerRunOptions,
  ): Promise<{ records: TriggerRecord[]; to: number } | undefined> {
    const settings = this.#target.settings;
    const windowEnds = this.#ports.now() + batchingWindowMs(settings);
    if (this.#buffer.length === 0 || this.#buffer[0]!.offset !== from) {
      this.#buffer = [];
      this.#readFrom = from;
    }
    await this.#fill(settings.batchSize);
    if (this.#buffer.length === 0) {
      // Nothing to deliver; but the read may have passed control batches or filtered gaps.
      return this.#readFrom > from ? { records: [], to: this.#readFrom } : undefined;
    }
    while (!this.#batchFull(settings.batchSize) && this.#ports.now() < windowEnds) {
      const left = Math.min(windowEnds, options.deadline) - this.#ports.now();
      if (left <= 0 || options.signal?.aborted) break;
      await this.#ports.sleep(Math.min(WINDOW_POLL_MS, left), options.signal).catch(() => undefined);
      await this.#fill(settings.batchSize);
    }
    return this.#take(settings.batchSize);
  }

  /** Exactly the records of `[from, to)` (a redelivery), from the buffer and the log. */
  async #range(from: number, to: number): Promise<TriggerRecord[]> {
    if (this.#buffer[0]?.offset !== from) {
      this.#buffer = [];
      this.#readFrom = from;
    }
    while (this.#readFrom < to) {
      const before = this.#readFrom;
      await this.#fill(to - from);
      if (this.#readFrom === before) break;
    }
    return this.#buffer.filter((r) => r.offset >= from && r.offset < to);
  }

  /** Reads more records into the buffer, up to `limit` buffered. */
  async #fill(limit: number): Promise<void> {
    const want = limit - this.#buffer.length;
    if (want <= 0) return;
    const read = await this.#ports.records.read(this.#readFrom, want);
    this.#metrics.PolledEventCount += read.records.length;
    for (const r of read.records) this.#buffer.push(this.#record(r));
    this.#readFrom = Math.max(this.#readFrom, read.nextOffset);
  }

  #batchFull(batchSize: number): boolean {
    return this.#buffer.length >= batchSize || this.#eventBytes(this.#buffer) >= INVOKE_PAYLOAD_LIMIT_BYTES;
  }

  /** The leading records that make one invocation: batch size and payload limit (always at least one). */
  #take(batchSize: number): { records: TriggerRecord[]; to: number } {
    const taken: TriggerRecord[] = [];
    let bytes = emptyEventByteSize(this.#target.bootstrapServers);
    for (const record of this.#buffer) {
      if (taken.length >= batchSize) break;
      const add = recordContribution(record, {
        partitionPresent: taken.length > 0,
        otherPartitions: false,
      });
      if (taken.length > 0 && bytes + add > INVOKE_PAYLOAD_LIMIT_BYTES) break;
      bytes += add;
      taken.push(record);
    }
    const after = this.#buffer[taken.length];
    return { records: taken, to: after ? after.offset : this.#readFrom };
  }

  #eventBytes(records: readonly TriggerRecord[]): number {
    let bytes = emptyEventByteSize(this.#target.bootstrapServers);
    records.forEach((r, i) => {
      bytes += recordContribution(r, { partitionPresent: i > 0, otherPartitions: false });
    });
    return bytes;
  }

  /** Drops buffered records below `position` (delivered, filtered, given up on). */
  #consume(position: number): void {
    this.#buffer = this.#buffer.filter((r) => r.offset >= position);
    if (this.#readFrom < position) this.#readFrom = position;
  }

  async #perform(
    actions: readonly PolicyAction[],
    lease: HeldDispatchLease,
    records: readonly TriggerRecord[],
    lastInvocation: InvokeResult | undefined,
  ): Promise<void> {
    for (const action of actions) {
      if (action.type === 'commit') {
        const moved = await this.#ports.leases.commit(lease, action.offset);
        if (moved) throw new OffsetMoved(moved);
        this.#metrics.CommittedEventCount += Math.max(0, action.offset - this.#committedSoFar);
        this.#committedSoFar = Math.max(this.#committedSoFar, action.offset);
        continue;
      }
      const offsets = new Set(action.offsets);
      const failed = records.filter((r) => offsets.has(r.offset));
      if (action.to === 'drop' || !this.#ports.destination) {
        this.#metrics.DroppedEventCount += failed.length;
        continue;
      }
      await this.#ports.destination.deliver({
        condition: action.condition,
        records: failed,
        approximateInvokeCount: action.approximateInvokeCount,
        lastInvocation,
      });
      this.#metrics.OnFailureDestinationDeliveredEventCount += failed.length;
    }
  }

  #record(r: RawRecord): TriggerRecord {
    return {
      topic: this.#target.topic,
      partition: this.#target.partition,
      offset: r.offset,
      timestamp: r.timestamp,
      timestampType: this.#target.timestampType,
      key: r.key,
      value: r.value,
      headers: r.headers,
    };
  }
}

/** Thrown inside a run when a commit found the committed offset moved by someone else. */
class OffsetMoved extends Error {
  readonly lease: HeldDispatchLease;

  constructor(lease: HeldDispatchLease) {
    super('The committed offset was moved by someone else (an offset reset)');
    this.lease = lease;
  }
}

/** What went wrong with an invocation of `count` records, as `describeTrigger` shows it. */
function problemOf(outcome: BatchOutcome, count: number): TriggerProblem | undefined {
  switch (outcome.kind) {
    case 'success':
      return undefined;
    case 'function-error': {
      const detail = [outcome.errorType, outcome.errorMessage].filter((p) => p !== undefined).join(': ');
      return {
        code: outcome.timedOut ? 'FunctionTimedOut' : 'FunctionError',
        message: `The function failed (${outcome.functionError})${detail === '' ? '' : `: ${detail}`}`,
      };
    }
    case 'partial': {
      const failed = [...outcome.failedOffsets.values()].reduce((n, offsets) => n + offsets.length, 0);
      return {
        code: 'PartialBatchFailure',
        message: `The function reported ${failed} of ${count} record(s) as failed`,
      };
    }
    case 'invalid-response':
      return {
        code: 'InvalidBatchResponse',
        message: `The function's batch response is invalid: ${outcome.reason}`,
      };
    case 'throttled':
      return {
        code: 'TooManyRequestsException',
        message: 'Lambda throttled the invocation; it is retried with backoff',
      };
    case 'invoke-error':
      return {
        code: outcome.errorName,
        message: `The Invoke call failed without running the function: ${outcome.errorName}`,
      };
    case 'payload-too-large':
      return {
        code: 'MaximumPayloadSizeExceeded',
        message: `A batch of ${count} record(s) exceeds Lambda's invocation payload limit`,
      };
  }
}
