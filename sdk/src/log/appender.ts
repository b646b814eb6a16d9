/**
 * Appends batches to one partition's log: the conditional-write offset chain of DESIGN.md.
 *
 * Every batch item sits at `off = end of the previous batch`, written with
 * `attribute_not_exists(off)`, so two writers choosing one slot collide and the items always form
 * one dense chain. Rules that keep it exactly-once:
 * - A slot once attempted is retried until its outcome is known (success, or a condition failure
 *   that shows the occupant). A write whose response was lost either landed at that slot or
 *   nowhere, so the retry finds the writer's own item (same producer id and sequence) and
 *   acknowledges it instead of writing it again.
 * - On a collision with someone else's batch the occupant (returned by
 *   `ReturnValuesOnConditionCheckFailure: ALL_OLD`) tells the next slot; after repeated
 *   collisions the tail is re-read with a consistent query.
 * - Under contention large batches switch to the two-phase path (see `append-strategy.ts`): a small
 *   pending placeholder claims the slot, then the body is written onto it. A claim abandoned past
 *   its deadline is voided by readers, and the late writer re-appends at the tail.
 * - A planned failover writes a fence at the chain's end: an appender that meets it (as the tail, or
 *   as the occupant of the slot it tried) stops with the retriable `TopicMovedError`, having written
 *   nothing; the caller refreshes the topic and appends in the new home's epoch.
 */
import type { StorageContext } from '../context.ts';
import {
  ConcurrentAppendError,
  InvalidArgumentError,
  RecordTooLargeError,
  TopicMovedError,
} from '../errors.ts';
import { type PartitionRef, partitionKey, partitionLabel } from '../keys.ts';
import { sleep } from '../retry.ts';
import { MAX_MESSAGE_BYTES_LIMIT } from '../topics/configs.ts';
import {
  type AppendPath,
  type ContentionState,
  choosePath,
  collisionBackoffMs,
  INITIAL_CONTENTION,
  recordAttempt,
  writeUnits,
} from './append-strategy.ts';
import type { Claim } from './claim-check.ts';
import {
  type ChainTail,
  EMPTY_TAIL,
  type FenceSlot,
  isOwnSlot,
  planSlot,
  type Slot,
  type SlotBase,
  tailAfter,
} from './log-item.ts';
import { LogStore, type SlotWriteOutcome } from './log-store.ts';

/**
 * Largest batch body stored inline in a log item: DynamoDB's 400 KB item limit less room for the
 * key and the other attributes. Larger batches need the S3 claim-check path.
 */
export const MAX_INLINE_BATCH_BYTES = 400 * 1024 - 1024;

/** How long a two-phase claim may stay pending before readers may void it. */
export const DEFAULT_PENDING_TIMEOUT_MS = 5_000;

/** A cached tail older than this is re-read before use rather than trusted. */
export const TAIL_CACHE_MAX_AGE_MS = 30_000;

/** Collisions in a row after which the tail is re-read instead of following occupants. */
const MAX_CHAIN_WALK = 2;

/** A batch ready to be appended. */
export interface BatchToAppend {
  /** An encoded RecordBatch v2; its baseOffset is rewritten to the slot it lands in. */
  readonly body: Uint8Array;
  /** Offsets the batch covers. */
  readonly count: number;
  /** Max record timestamp (ms). */
  readonly maxTimestamp: number;
  /** Producer id as a decimal string, `-1` when not idempotent. */
  readonly producerId: string;
  /** Base sequence of the batch for this producer and partition. */
  readonly sequence: number;
  /** Set when the batch was stored in S3 by claim check: the log item points to it. */
  readonly claim?: Claim;
}

/** Bytes of the batch itself, wherever it is stored (what a segment will hold). */
export function batchBytes(batch: BatchToAppend): number {
  return batch.claim ? batch.claim.size : batch.body.byteLength;
}

/** Bytes of the log item a batch becomes (a claim-check pointer is small). */
export function storedItemBytes(batch: BatchToAppend): number {
  return batch.claim ? CLAIM_POINTER_BYTES : batch.body.byteLength;
}

/** Approximate size of a claim-check pointer item (key, pointer, attributes). */
const CLAIM_POINTER_BYTES = 300;

/** Settings of an appender. */
export interface AppenderOptions {
  /** How long a two-phase claim may stay pending before readers may void it. @default 5000 */
  readonly pendingTimeoutMs?: number;
  /** `adaptive` chooses per batch from observed contention; the others pin a path. @default 'adaptive' */
  readonly path?: 'adaptive' | AppendPath;
}

/** Options of one append. */
export interface AppendOptions {
  /** Fail with {@link ConcurrentAppendError} unless the batch lands exactly at this offset. */
  readonly expectedOffset?: number;
  /**
   * Once aborted, the append starts no further write (and cancels one being sent) and fails with
   * the signal's reason. An idempotent append fences itself with it: past its claim's deadline it
   * must write nothing, so that a retry may take the claim over (see `idempotent-append.ts`).
   */
  readonly signal?: AbortSignal;
}

/** Where a batch landed. */
export interface AppendResult {
  readonly baseOffset: number;
  readonly count: number;
  readonly path: AppendPath;
  /** Collisions with other writers on the way. */
  readonly collisions: number;
  /** True when a lost-response retry found this batch already written. */
  readonly duplicate: boolean;
}

/** Counters of an appender, for benchmarks and metrics. */
export interface AppenderStats {
  appends: number;
  collisions: number;
  /** Units of writes that stored a batch (or its claim and body). */
  writeUnits: number;
  /** Units of writes that failed their condition because another writer was first. */
  wastedWriteUnits: number;
  tailReads: number;
}

interface Tail extends ChainTail {
  /** When it was learned (this client's clock). */
  readonly at: number;
}

/** Appends to one partition. Appends through one instance are serialised (one in flight). */
export class PartitionAppender {
  readonly ref: PartitionRef;
  readonly partitionKey: string;
  readonly label: string;
  readonly stats: AppenderStats = {
    appends: 0,
    collisions: 0,
    writeUnits: 0,
    wastedWriteUnits: 0,
    tailReads: 0,
  };
  readonly #ctx: StorageContext;
  readonly #store: LogStore;
  readonly #pendingTimeoutMs: number;
  readonly #pinnedPath: AppendPath | undefined;
  #tail: Tail | undefined;
  #contention: ContentionState = INITIAL_CONTENTION;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(ctx: StorageContext, ref: PartitionRef, options: AppenderOptions = {}) {
    this.#ctx = ctx;
    this.#store = new LogStore(ctx);
    this.ref = ref;
    this.partitionKey = partitionKey(ref);
    this.label = partitionLabel(ref);
    this.#pendingTimeoutMs = options.pendingTimeoutMs ?? DEFAULT_PENDING_TIMEOUT_MS;
    this.#pinnedPath = options.path === 'adaptive' ? undefined : options.path;
  }

  /** The storage this appender writes to (the region of the topic's home, with regions known). */
  get storage(): StorageContext {
    return this.#ctx;
  }

  /** Current path choice (for diagnostics). */
  get path(): AppendPath {
    return this.#contention.path;
  }

  /** Appends one batch; resolves once it is durably in the log. */
  append(batch: BatchToAppend, options: AppendOptions = {}): Promise<AppendResult> {
    return this.exclusive(() => this.#append(batch, options));
  }

  /**
   * Runs `fn` while no other append of this appender runs. Atomic multi-partition appends take
   * several appenders' turns (in a fixed order) through this.
   */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn, fn);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** The cached tail if fresh, else a consistent read of it. Call only inside {@link exclusive}. */
  async knownTail(): Promise<ChainTail> {
    const cached = this.#tail;
    if (cached && this.#ctx.now() - cached.at <= TAIL_CACHE_MAX_AGE_MS) return cached;
    return this.refreshTail();
  }

  /**
   * The cached tail if fresh, without reading or waiting for appends in progress (safe outside
   * {@link exclusive}: it changes nothing). Undefined when there is none.
   */
  freshTail(): ChainTail | undefined {
    const cached = this.#tail;
    return cached && this.#ctx.now() - cached.at <= TAIL_CACHE_MAX_AGE_MS ? cached : undefined;
  }

  /**
   * Re-reads the tail with a strongly consistent query. Throws `TopicMovedError` when it is a
   * failover's fence (this appender's epochs are stale: the log goes on in a newer epoch).
   */
  async refreshTail(): Promise<ChainTail> {
    this.stats.tailReads++;
    const slot = await this.#store.tail(this.ref, true);
    if (slot?.kind === 'fence') throw this.moved(slot);
    return this.#learnTail(slot ? tailAfter(slot) : EMPTY_TAIL);
  }

  /**
   * The error for a fence met at the chain's end; the cached tail is dropped, so the next append
   * through this appender reads the tail again rather than trying the fenced slot.
   */
  moved(fence: FenceSlot): TopicMovedError {
    this.#tail = undefined;
    return new TopicMovedError(this.ref.topic, this.ref.partition, fence.nextRegion, fence.nextEpoch);
  }

  /** Throws `TopicMovedError` when a write's occupant is a fence. */
  #checkFence(occupant: Slot): asserts occupant is Exclude<Slot, FenceSlot> {
    if (occupant.kind === 'fence') throw this.moved(occupant);
  }

  /** Records a tail learned elsewhere (a successful write, an occupant, a transaction). */
  learnTail(tail: ChainTail): void {
    this.#learnTail(tail);
  }

  /** Folds a collision or success into the contention estimate (used by atomic appends too). */
  recordAttempt(collided: boolean): void {
    this.#contention = recordAttempt(this.#contention, collided);
  }

  #learnTail(known: ChainTail): Tail {
    const tail = {
      end: known.end,
      runningMaxTimestamp: known.runningMaxTimestamp,
      runningBytes: known.runningBytes,
      at: this.#ctx.now(),
    };
    this.#tail = tail;
    return tail;
  }

  async #append(batch: BatchToAppend, options: AppendOptions): Promise<AppendResult> {
    validateBatch(batch, this.label);
    const { signal } = options;
    if (options.expectedOffset !== undefined) return this.#appendAt(batch, options.expectedOffset, signal);
    let collisions = 0;
    let consecutive = 0;
    for (;;) {
      // Re-decided after every collision: switching between attempts is safe because each
      // attempt's outcome is known before the next one starts.
      this.#contention = choosePath(this.#contention, storedItemBytes(batch));
      const path = this.#pinnedPath ?? this.#contention.path;
      const tail = await this.knownTail();
      const slot = planSlot(tail, batch, batchBytes(batch));
      const outcome =
        path === 'one-phase'
          ? await this.#putComplete(batch, slot, signal)
          : await this.#claim(batch, slot, signal);
      if (outcome.kind === 'written') {
        this.recordAttempt(false);
        if (path === 'two-phase' && !(await this.#writeBody(batch, slot, signal))) {
          // Our claim was voided (we were past the deadline): append again at the tail.
          this.#tail = undefined;
          continue;
        }
        return this.#succeeded(batch, slot, path, collisions, false);
      }
      const { occupant } = outcome;
      this.#checkFence(occupant);
      if (isOwnSlot(occupant, batch.producerId, batch.sequence)) {
        // An earlier attempt whose response was lost did land here (and may be archived since).
        if (occupant.kind !== 'pending' && !occupant.voided) {
          return this.#succeeded(batch, slot, path, collisions, true);
        }
        if (occupant.kind === 'pending' && (await this.#writeBody(batch, slot, signal))) {
          return this.#succeeded(batch, slot, path, collisions, false);
        }
        this.#learnTail(tailAfter(occupant));
        continue;
      }
      collisions++;
      consecutive++;
      this.stats.collisions++;
      // (A collided two-phase claim was already counted by #claim.)
      if (path === 'one-phase') this.stats.wastedWriteUnits += writeUnits(storedItemBytes(batch));
      this.recordAttempt(true);
      // An archived stub means our tail was far behind: re-read it rather than walk the chain.
      if (consecutive > MAX_CHAIN_WALK || occupant.kind === 'archived') this.#tail = undefined;
      else this.#learnTail(tailAfter(occupant));
      const pause = collisionBackoffMs(consecutive);
      if (pause > 0) await sleep(pause);
    }
  }

  async #appendAt(
    batch: BatchToAppend,
    expectedOffset: number,
    signal: AbortSignal | undefined,
  ): Promise<AppendResult> {
    if (!Number.isSafeInteger(expectedOffset) || expectedOffset < 0) {
      throw new InvalidArgumentError(`expectedOffset must be a non-negative integer, got ${expectedOffset}`);
    }
    let tail = await this.knownTail();
    if (tail.end !== expectedOffset) tail = await this.refreshTail();
    if (tail.end !== expectedOffset) {
      throw new ConcurrentAppendError(this.ref.topic, this.ref.partition, expectedOffset, tail.end);
    }
    const slot = planSlot(tail, batch, batchBytes(batch));
    const outcome = await this.#putComplete(batch, slot, signal);
    if (outcome.kind === 'written') return this.#succeeded(batch, slot, 'one-phase', 0, false);
    const { occupant } = outcome;
    this.#checkFence(occupant);
    if (
      isOwnSlot(occupant, batch.producerId, batch.sequence) &&
      occupant.kind !== 'pending' &&
      !occupant.voided
    ) {
      return this.#succeeded(batch, slot, 'one-phase', 0, true);
    }
    this.stats.wastedWriteUnits += writeUnits(storedItemBytes(batch));
    this.#learnTail(tailAfter(occupant));
    throw new ConcurrentAppendError(
      this.ref.topic,
      this.ref.partition,
      expectedOffset,
      occupant.offset + occupant.count,
    );
  }

  #succeeded(
    batch: BatchToAppend,
    slot: PlannedSlot,
    path: AppendPath,
    collisions: number,
    duplicate: boolean,
  ): AppendResult {
    this.stats.appends++;
    this.#learnTail(tailAfter(slot));
    return { baseOffset: slot.offset, count: batch.count, path, collisions, duplicate };
  }

  /** One-phase: the whole batch at the slot, if the slot is free. */
  async #putComplete(
    batch: BatchToAppend,
    slot: PlannedSlot,
    signal: AbortSignal | undefined,
  ): Promise<SlotWriteOutcome> {
    const outcome = await this.#store.putBatch(this.ref, slot, batch, signal);
    if (outcome.kind === 'written') this.stats.writeUnits += writeUnits(storedItemBytes(batch));
    return outcome;
  }

  /** Two-phase, step one: a small pending placeholder claims the slot. */
  async #claim(
    batch: BatchToAppend,
    slot: PlannedSlot,
    signal: AbortSignal | undefined,
  ): Promise<SlotWriteOutcome> {
    const outcome = await this.#store.putPendingClaim(
      this.ref,
      slot,
      this.#ctx.now() + this.#pendingTimeoutMs,
      signal,
    );
    // A placeholder is ~100 bytes: one write unit whether it lands or collides.
    if (outcome.kind === 'written') this.stats.writeUnits += 1;
    else if (!isOwnSlot(outcome.occupant, batch.producerId, batch.sequence)) this.stats.wastedWriteUnits += 1;
    return outcome;
  }

  /**
   * Two-phase, step two: writes the body onto our pending claim. Returns false when a reader
   * voided the claim first (the batch must then be appended again).
   */
  async #writeBody(
    batch: BatchToAppend,
    slot: PlannedSlot,
    signal: AbortSignal | undefined,
  ): Promise<boolean> {
    const outcome = await this.#store.writeBody(this.ref, slot, batch, signal);
    if (outcome.kind === 'written') {
      this.stats.writeUnits += writeUnits(storedItemBytes(batch));
      return true;
    }
    const { occupant } = outcome;
    // Our earlier body write landed and only its response was lost (it may be archived since). (A
    // fence is only ever written into a free slot, never onto a claim.)
    return occupant.kind !== 'pending' && occupant.kind !== 'fence' && !occupant.voided;
  }
}

/** A slot a writer intends to fill: what the item will say about itself. */
type PlannedSlot = SlotBase;

/** Checks a batch before anything is written. */
export function validateBatch(batch: BatchToAppend, label: string): void {
  if (!Number.isSafeInteger(batch.count) || batch.count < 1) {
    throw new InvalidArgumentError(`A batch for ${label} must cover at least one offset, got ${batch.count}`);
  }
  if (!batch.claim && batch.body.byteLength > MAX_INLINE_BATCH_BYTES) {
    throw new RecordTooLargeError(
      batch.body.byteLength,
      MAX_INLINE_BATCH_BYTES,
      `a batch for ${label} must fit in one DynamoDB item unless it is stored in S3 (large.message.threshold.bytes)`,
    );
  }
  if (batch.claim && batch.claim.size > MAX_MESSAGE_BYTES_LIMIT) {
    throw new RecordTooLargeError(
      batch.claim.size,
      MAX_MESSAGE_BYTES_LIMIT,
      `batches for ${label} are at most 10 MB`,
    );
  }
}
