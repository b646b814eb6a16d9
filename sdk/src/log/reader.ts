/**
 * Reads one partition's log: seek, contiguous sequential fetch, high watermark, log start and
 * offsets by timestamp, across both tiers: offsets below the local log start are read from S3
 * segments (`archive/remote-log.ts`), the rest from DynamoDB, so a reader crosses from one to the
 * other without a gap or a duplicate.
 *
 * Fetches use eventually consistent queries (half the price) and check contiguity: every batch
 * must start where the previous ended. A break (or a pending claim, which a lagging replica may
 * still show after the body landed) is re-read with a consistent query before the reader believes
 * it, so no offset is ever skipped. A claim still pending past its deadline is voided: replaced by
 * a control batch with no records covering the same offsets, so a crashed writer never blocks the
 * partition.
 *
 * A reader of a replica (a region that is not the topic's home) sees batches arrive one by one and
 * out of order, so there a break in the chain is "not replicated yet", never corruption: a fetch
 * returns what is contiguous and stops at the gap (the next fetch looks again), or, with
 * `replicaGaps: 'read-home'`, reads the gap from the home region. Nothing is ever skipped: a fetch
 * only moves past offsets it returned. Writes a reader makes (voiding an abandoned claim) go to the
 * home region, and offset-by-timestamp lookups read it, since a replica may lack the batches the
 * search would visit.
 *
 * After a failover each leader epoch's batches have their own key space; the reader reads every
 * offset from the epoch holding it (the log store routes by `ref.epochs`), so a fetch crosses from
 * one epoch to the next as it crosses tiers: without a gap, a duplicate, or a look at the old
 * epoch's batches past its end. A reader whose epochs predate a planned failover meets the fence at
 * the old epoch's end and says so (`moved`): its caller refreshes the topic and reads on.
 */
import { RemoteLog } from '../archive/remote-log.ts';
import type { PartitionBounds } from '../archive/tier-metadata.ts';
import type { ReplicaReading, StorageContext } from '../context.ts';
import {
  CorruptRecordError,
  InvalidArgumentError,
  LogInvariantError,
  OffsetOutOfRangeError,
} from '../errors.ts';
import { type PartitionRef, partitionKey, partitionLabel } from '../keys.ts';
import { loadClaim } from './claim-check.ts';
import {
  type CompleteSlot,
  type FenceSlot,
  type PendingSlot,
  type Slot,
  slotBytes,
  slotEnd,
  slotFromItem,
} from './log-item.ts';
import { type FenceTarget, type LogItem, LogStore } from './log-store.ts';
import { encodeRecordBatch } from './record-batch.ts';

/**
 * Limits of one fetch. They decide whether another page is read: a fetch returns every batch of
 * the pages it read (already paid for), so it may exceed them by up to one page (1 MB); from S3,
 * by the rest of a segment when that is short (a quarter of the read at most), which saves a GET.
 */
export interface FetchLimits {
  readonly maxRecords: number;
  readonly maxBytes: number;
}

/** Result of a fetch from a batch boundary. */
export interface FetchResult {
  /** Complete batches, contiguous from the requested offset. */
  readonly batches: readonly CompleteSlot[];
  /** The offset to fetch from next. */
  readonly nextOffset: number;
  /** True when the fetch stopped at a claim whose body is still being written. */
  readonly blockedByPending: boolean;
  /**
   * True when the log is known to go on after `nextOffset`: the fetch stopped at its limits with
   * more items to read, or at the end of an S3 segment (the newest batch is never archived). False
   * when it read to the end of the log as it stood, stopped at a pending claim or a stub, or did
   * not look past a batch a seek had read.
   */
  readonly continues: boolean;
  /**
   * Set when the fetch stopped at a planned failover's fence: the log goes on at `nextOffset` in a
   * leader epoch this reader's epochs do not know (the fence names it, and its region). Read the
   * topic's metadata again and read on with a reader made from it.
   */
  readonly moved: FenceTarget | undefined;
}

/** Where a seek landed. */
export interface SeekResult {
  /**
   * A batch boundary at or before the requested offset: the batch containing it (DynamoDB), or
   * the nearest indexed batch before it, at most one index interval earlier (S3). Readers fetch
   * from here and skip records below the offset they wanted.
   */
  readonly batchOffset: number;
  /**
   * The batch at `batchOffset`, complete, when the seek found it in DynamoDB: the query that found
   * it paid for all of it, so a fetch from `batchOffset` given it does not read it again.
   */
  readonly batch?: CompleteSlot;
}

/** Queries larger than this many items per page gain nothing: pages stop at 1 MB anyway. */
const MAX_PAGE_ITEMS = 100;

/** Reads one partition. Cheap to create; it caches only what never goes stale in a harmful way. */
export class PartitionReader {
  readonly ref: PartitionRef;
  readonly partitionKey: string;
  readonly label: string;
  readonly #ctx: StorageContext;
  readonly #store: LogStore;
  readonly #remote: RemoteLog;
  /** Set when this reader reads a replica: how to treat what it lacks, and where the home is. */
  readonly #replica: ReplicaReading | undefined;
  #home: PartitionReader | undefined;
  /**
   * The local log start as last read. It only ever grows, so offsets below it are certainly in
   * S3 (or expired); offsets above it are tried in DynamoDB first.
   */
  #knownLocalStart = 0;

  /** `replica`: set when `ctx` holds a replica of the topic's log rather than its home copy. */
  constructor(ctx: StorageContext, ref: PartitionRef, replica?: ReplicaReading) {
    this.#ctx = ctx;
    this.#store = new LogStore(ctx);
    this.ref = ref;
    this.partitionKey = partitionKey(ref);
    this.label = partitionLabel(ref);
    this.#remote = new RemoteLog(ctx, ref);
    this.#replica = replica;
  }

  /** True when this reader reads a replica rather than the topic's home copy. */
  get readsReplica(): boolean {
    return this.#replica !== undefined;
  }

  /**
   * The reader of the copy that holds every batch written so far: this one, or, for a replica, the
   * home region's (created on first use).
   */
  authoritative(): PartitionReader {
    if (!this.#replica) return this;
    this.#home ??= new PartitionReader(this.#replica.home(), this.ref);
    return this.#home;
  }

  /**
   * Fetches complete batches from `offset`, which must be a batch boundary (the result of
   * {@link seek}, or a previous fetch's `nextOffset`). A fetch stays within one tier: from S3 it
   * stops at the end of a segment, and the next fetch continues from there. `first` is the batch
   * at `offset` as a seek read it ({@link SeekResult.batch}): it is returned as read and only what
   * follows it is queried.
   */
  async fetch(offset: number, limits: FetchLimits, first?: CompleteSlot): Promise<FetchResult> {
    // A large batch's log item is only a pointer: reading it again costs next to nothing, and the
    // usual path knows what to do when its S3 object has been archived away meanwhile.
    if (first && first.offset === offset && !first.claim) return this.#fetchAfter(first, limits);
    if (offset < this.#knownLocalStart) return this.#fetchRemote(offset, limits);
    const local = await this.#fetchLocal(offset, limits);
    if (local !== 'archived') return local;
    const bounds = await this.bounds();
    if (offset < bounds.localLogStart.offset) return this.#fetchRemote(offset, limits);
    if (this.#replica) return this.#notReplicated(offset, limits);
    throw new LogInvariantError(`The log of ${this.label} has a gap at offset ${offset}`);
  }

  /**
   * A replica's answer at an offset it does not hold yet (the batch there has not arrived, or the
   * bounds or manifest items that would lead to S3 have not): nothing, to be asked again, or, with
   * `read-home`, the home region's batches from there.
   */
  #notReplicated(offset: number, limits: FetchLimits): Promise<FetchResult> {
    if (this.#replica?.gaps === 'read-home') return this.authoritative().fetch(offset, limits);
    return Promise.resolve(done([], offset, false, false));
  }

  /** A fetch whose first batch is in hand: the batches after it, within what the limits leave. */
  async #fetchAfter(first: CompleteSlot, limits: FetchLimits): Promise<FetchResult> {
    const held = done([first], slotEnd(first), false, false);
    const bytes = slotBytes(first);
    if (first.count >= limits.maxRecords || bytes >= limits.maxBytes) return held;
    const rest = await this.#fetchLocal(slotEnd(first), {
      maxRecords: limits.maxRecords - first.count,
      maxBytes: limits.maxBytes - bytes,
    });
    // What follows is not in DynamoDB (archived meanwhile, or a gap to look into): the next fetch,
    // from the end of `first`, finds out, as a fetch that read `first` itself would stop there.
    if (rest === 'archived') return held;
    return { ...rest, batches: [first, ...rest.batches] };
  }

  async #fetchLocal(offset: number, limits: FetchLimits): Promise<FetchResult | 'archived'> {
    let result = await this.#fetchOnce(offset, limits, false);
    if (result === 'inconsistent') result = await this.#fetchOnce(offset, limits, true);
    // A consistent read still shows a break in the chain right at `offset` (archived, expired,
    // or a corrupt log), or a stub: let the bounds decide.
    if (result === 'inconsistent' || result === 'archived') return 'archived';
    try {
      return await this.#loadClaims(result);
    } catch (error) {
      // The archiver deletes a large batch's object once the batch is safely in a segment.
      if (error instanceof CorruptRecordError && result.batches.some((b) => b.claim)) {
        const bounds = await this.bounds();
        if (offset < bounds.localLogStart.offset) return 'archived';
      }
      throw error;
    }
  }

  async #fetchRemote(offset: number, limits: FetchLimits): Promise<FetchResult> {
    const remote = await this.#remote.fetch(offset, limits);
    if (remote) return { ...remote, blockedByPending: false, continues: true, moved: undefined };
    // No segment holds it: retention removed it (the usual case) or the manifest is broken.
    const bounds = await this.bounds();
    if (offset < bounds.logStart.offset) throw await this.#outOfRange(offset, bounds);
    if (offset >= bounds.localLogStart.offset) return this.fetch(offset, limits);
    // A replica may have the moved bound before the manifest item that goes with it.
    if (this.#replica) return this.#notReplicated(offset, limits);
    throw new LogInvariantError(`No S3 segment of ${this.label} holds archived offset ${offset}`);
  }

  /** The partition's tier bounds, read consistently (and remembered). */
  async bounds(): Promise<PartitionBounds> {
    const bounds = await this.#remote.metadata.bounds();
    this.#knownLocalStart = Math.max(this.#knownLocalStart, bounds.localLogStart.offset);
    return bounds;
  }

  async #outOfRange(offset: number, bounds: PartitionBounds): Promise<OffsetOutOfRangeError> {
    return new OffsetOutOfRangeError(
      this.ref.topic,
      this.ref.partition,
      offset,
      bounds.logStart.offset,
      await this.highWatermark(),
    );
  }

  /** Loads the bytes of batches stored in S3 (claim check), in parallel. */
  async #loadClaims(result: FetchResult): Promise<FetchResult> {
    if (!result.batches.some((b) => b.claim)) return result;
    const batches = await Promise.all(
      result.batches.map(async (b) =>
        b.claim ? { ...b, body: await loadClaim(this.#ctx, b.claim, b.offset) } : b,
      ),
    );
    return { ...result, batches };
  }

  async #fetchOnce(
    offset: number,
    limits: FetchLimits,
    consistent: boolean,
  ): Promise<FetchResult | 'inconsistent' | 'archived'> {
    const batches: CompleteSlot[] = [];
    let expected = offset;
    let records = 0;
    let bytes = 0;
    let startKey: LogItem | undefined;
    const full = () => batches.length > 0 && (records >= limits.maxRecords || bytes >= limits.maxBytes);
    do {
      const page = await this.#store.queryBatches(this.ref, {
        from: offset,
        descending: false,
        // Every batch holds at least one record, so more items than records still wanted are never needed.
        limit: Math.min(MAX_PAGE_ITEMS, Math.max(1, limits.maxRecords - records)),
        consistent,
        startKey,
      });
      startKey = page.lastKey;
      for (const item of page.items) {
        const stored = slotFromItem(item);
        // A stub: the archiver moved this batch to S3 (possibly while this query ran).
        if (stored.kind === 'archived')
          return batches.length > 0 ? done(batches, expected, false, false) : 'archived';
        let slot: CompleteSlot | PendingSlot | FenceSlot = stored;
        if (slot.offset !== expected) {
          // In a replica, the batch at `expected` has not arrived yet: stop before it.
          if (this.#replica && batches.length > 0) return done(batches, expected, false, false);
          // A break in the chain: believe it only from a consistent read.
          if (!consistent || batches.length === 0) return 'inconsistent';
          throw new LogInvariantError(`The log of ${this.label} has a gap at offset ${expected}`);
        }
        // A planned failover's fence: the last epoch this reader knows ends here.
        if (slot.kind === 'fence') {
          return done(batches, expected, false, false, { epoch: slot.nextEpoch, region: slot.nextRegion });
        }
        if (slot.kind === 'pending') {
          // A lagging replica may still show a claim whose body has landed: confirm first.
          if (!consistent) return batches.length > 0 ? done(batches, expected, false, false) : 'inconsistent';
          const voided = await this.voidIfAbandoned(slot);
          if (!voided) return done(batches, expected, true, false);
          slot = voided;
        }
        // Every item of a page is paid for, so all of them are kept even past the limits; the
        // limits decide whether another page is read.
        batches.push(slot);
        expected = slotEnd(slot);
        records += slot.count;
        bytes += slotBytes(slot);
      }
    } while (startKey && !full());
    return done(batches, expected, false, startKey !== undefined);
  }

  /**
   * Finds a batch boundary at or before `offset` from which to read it (see {@link SeekResult}).
   * `offset` equal to the high watermark is valid (nothing to read yet); anything outside
   * `[logStart, highWatermark]` throws {@link OffsetOutOfRangeError}.
   */
  async seek(offset: number): Promise<SeekResult> {
    if (!Number.isSafeInteger(offset) || offset < 0) {
      throw new InvalidArgumentError(`Offsets are non-negative integers; got ${offset} for ${this.label}`);
    }
    try {
      return await this.#seekHere(offset);
    } catch (error) {
      if (!this.#replica || !(error instanceof OffsetOutOfRangeError) || offset < error.logStartOffset) {
        throw error;
      }
      return this.#seekNotReplicated(offset, error.logStartOffset);
    }
  }

  /**
   * A replica's seek to an offset whose batch it does not hold: valid if the home region's log
   * reaches it. Then, with `read-home`, the home's seek; else the end of the nearest batch before
   * it here (every batch end is a boundary of the one chain), from which the fetch waits for the
   * missing batches in order.
   */
  async #seekNotReplicated(offset: number, logStart: number): Promise<SeekResult> {
    const home = this.authoritative();
    const homeEnd = await home.highWatermark();
    if (offset > homeEnd) {
      throw new OffsetOutOfRangeError(this.ref.topic, this.ref.partition, offset, logStart, homeEnd);
    }
    if (this.#replica?.gaps === 'read-home') return home.seek(offset);
    const bounds = await this.bounds();
    // Below the local log start the replica lacks the manifest: fetch from the log start, which waits.
    if (offset < bounds.localLogStart.offset) return { batchOffset: bounds.logStart.offset };
    const before = await this.#store.batchAtOrBefore(this.ref, offset, true);
    const end = before && before.kind !== 'archived' ? slotEnd(before) : 0;
    return { batchOffset: Math.max(end <= offset ? end : 0, bounds.localLogStart.offset) };
  }

  async #seekHere(offset: number): Promise<SeekResult> {
    if (offset >= this.#knownLocalStart) {
      const local = await this.#seekLocal(offset);
      if (local !== undefined) return local;
    }
    const bounds = await this.bounds();
    if (offset >= bounds.localLogStart.offset) {
      const local = await this.#seekLocal(offset);
      if (local !== undefined) return local;
      const highWatermark = await this.highWatermark();
      if (offset === highWatermark) return { batchOffset: offset };
      // A batch at `offset` landed after the seek looked (it was the high watermark then): look again.
      if (offset < highWatermark) {
        const landed = await this.#seekLocal(offset);
        if (landed !== undefined) return landed;
      }
    } else if (offset >= bounds.logStart.offset) {
      const remote = await this.#remote.seek(offset);
      if (remote !== undefined) return { batchOffset: remote };
    }
    throw await this.#outOfRange(offset, await this.bounds());
  }

  /** The DynamoDB batch holding `offset` (or `offset` itself when it is the high watermark). */
  async #seekLocal(offset: number): Promise<SeekResult | undefined> {
    for (const consistent of [false, true]) {
      const slot = await this.#store.batchAtOrBefore(this.ref, offset, consistent);
      if (slot?.kind === 'archived') return undefined;
      // A complete batch never changes (archiving only moves its bytes), so the copy read here is
      // as good for the fetch as one it would read itself; a pending claim is left to the fetch.
      if (slot && offset < slotEnd(slot))
        return slot.kind === 'complete'
          ? { batchOffset: slot.offset, batch: slot }
          : { batchOffset: slot.offset };
      // With a consistent read, the greatest batch at or before `offset` ending exactly at
      // `offset` means no batch starts there yet: `offset` is the high watermark.
      if (consistent && slot && offset === slotEnd(slot)) return { batchOffset: offset };
    }
    return undefined;
  }

  /** The offset after the last batch (including a pending one): the next offset to be written. */
  async highWatermark(consistent = true): Promise<number> {
    const tail = await this.tail(consistent);
    return tail ? slotEnd(tail) : 0;
  }

  /** The newest slot of the partition, if any. */
  tail(consistent = true): Promise<Slot | undefined> {
    return this.#store.tail(this.ref, consistent);
  }

  /** First offset still readable (0 until retention moves it). */
  async logStartOffset(): Promise<number> {
    return (await this.bounds()).logStart.offset;
  }

  /**
   * The first batch boundary at or before the first record with timestamp ≥ `timestamp`, found by
   * binary search over the batches' running max timestamp (monotonic in offset). Returns
   * `undefined` when no record is that recent. Callers scan forward from the returned offset for
   * the exact record.
   */
  async batchForTimestamp(timestamp: number): Promise<number | undefined> {
    if (this.#replica) return this.authoritative().batchForTimestamp(timestamp);
    const bounds = await this.bounds();
    if (bounds.logStart.offset < bounds.localLogStart.offset) {
      const archived = await this.#remote.batchForTimestamp(timestamp, bounds.logStart.offset);
      if (archived !== undefined) return archived;
    }
    let low = bounds.localLogStart.offset;
    const tail = await this.tail(true);
    if (!tail || tail.runningMaxTimestamp < timestamp) return undefined;
    let high = tail.offset;
    // Invariant: the answer is a boundary in [low, high]; `high` is a batch with mts ≥ timestamp.
    while (low < high) {
      const mid = low + Math.floor((high - low) / 2);
      const { batchOffset, batch } = await this.seek(mid);
      // The seek's copy of the batch carries the running max timestamp (it never changes).
      const slot = batch ?? (await this.#slotAt(batchOffset));
      if (slot.runningMaxTimestamp >= timestamp) high = slot.offset;
      else low = slotEnd(slot);
    }
    return high;
  }

  async #slotAt(offset: number): Promise<Slot> {
    const slot = await this.#store.getBatch(this.ref, offset);
    if (!slot) throw new LogInvariantError(`No batch starts at offset ${offset} of ${this.label}`);
    return slot;
  }

  /**
   * Voids a pending claim whose deadline has passed (by this reader's clock; a premature void
   * only makes the late writer append again). Returns the resulting complete slot, or undefined
   * if the claim is still within its deadline.
   */
  async voidIfAbandoned(slot: PendingSlot): Promise<CompleteSlot | undefined> {
    if (this.#ctx.now() <= slot.deadline) return undefined;
    const body = await encodeRecordBatch({
      baseOffset: slot.offset,
      records: [],
      lastOffsetDelta: slot.count - 1,
      compression: 'none',
      producerId: -1n,
      producerEpoch: -1,
      baseSequence: -1,
      isControl: true,
    });
    // The result, or what the writer (or another reader) put there just before us. A replica's
    // claim is voided where it was made, in the home region: a write to a replica would race the
    // writer's body write there, and last-writer-wins could drop either.
    const store = this.#replica ? new LogStore(this.#replica.home()) : this.#store;
    return asComplete(await store.voidPending(this.ref, slot, body), this.label);
  }
}

function done(
  batches: CompleteSlot[],
  nextOffset: number,
  blockedByPending: boolean,
  continues: boolean,
  moved?: FenceTarget,
): FetchResult {
  return { batches, nextOffset, blockedByPending, continues, moved };
}

function asComplete(slot: Slot, label: string): CompleteSlot {
  if (slot.kind !== 'complete')
    throw new LogInvariantError(`A claim in ${label} is still pending after it was voided`);
  return slot;
}
