/**
 * The archiver: moves old batches of each partition from DynamoDB into S3 segments, and applies
 * retention. Per partition, in this order, each step crash-safe and idempotent:
 *
 * 1. finish replacing archived items by stubs if an earlier run stopped half-way;
 * 2. retention of S3 segments: move the log start past an expired segment (conditional), delete
 *    its objects, then its manifest item (a rerun finds the item below the log start and finishes);
 * 3. archiving: cut the next closed segment from the local log start (`segment-plan.ts`), and if it
 *    is past hot retention: write its objects → write its manifest item → move the local log start
 *    (conditional) → delete its large-batch objects → replace its items by stubs → record that.
 *    Batches past total retention that were never archived (remote storage off, or an archiver
 *    that was down) are expired the same way without the upload;
 * 4. orphaned large-batch objects (uploaded for an append that then failed for good, or whose
 *    claim was voided) are deleted once provably unreferenced: the check records (time T, the
 *    partition's end E); an append lands within `orphanGraceMs` of its upload, so once the local
 *    log start passes E, every object uploaded before T − grace that still exists is an orphan
 *    (the archiver deletes the objects of the batches it archives).
 *
 * A crash before the bound moves leaves DynamoDB as the source of truth (a rerun rewrites the
 * same bytes); after it, S3 is, and the rerun only finishes the cleanup. Two archivers on one
 * partition cut the same segment and race only on conditional writes.
 *
 * Every decision (what is due, what retention deletes, where the bounds move, when orphans are
 * provable) is made by the pure `archive-plan.ts`; this module reads the state it needs and
 * carries the steps out. DynamoDB commands are built by the log store (`log/log-store.ts`).
 */
import { mapLimited } from '../concurrency.ts';
import type { StorageContext } from '../context.ts';
import { CorruptRecordError } from '../errors.ts';
import { claimObjectPrefix, type PartitionRef, type SegmentObjectKeys, segmentObjectKeys } from '../keys.ts';
import { loadClaim } from '../log/claim-check.ts';
import { type CompleteSlot, type Slot, slotEnd, slotFromItem } from '../log/log-item.ts';
import { type LogItem, LogStore } from '../log/log-store.ts';
import { PartitionReader } from '../log/reader.ts';
import type { TopicConfig } from '../topics/configs.ts';
import type { TopicMetadata, TopicRegistry } from '../topics/registry.ts';
import {
  boundsAfter,
  claimObjectsOf,
  hotBatchesBeforeTail,
  itemsToStub,
  mayHaveWork,
  nextInChain,
  planOrphanSweep,
  planSegmentStep,
  type SegmentStep,
  segmentRetention,
  stubExpiry,
  stubRepair,
} from './archive-plan.ts';
import { type BuiltSegment, buildSegment, verifySegment } from './segment-format.ts';
import { planSegment } from './segment-plan.ts';
import { SegmentObjectMissing, SegmentStore } from './segment-store.ts';
import { type LogPosition, type PartitionBounds, type SegmentInfo, TierMetadata } from './tier-metadata.ts';

/** Settings of an {@link Archiver}. */
export interface ArchiverOptions {
  /** Partitions worked on at once. @default 4 */
  readonly concurrency?: number;
  /** Most segments archived per partition in one run (the next run continues). @default 64 */
  readonly maxSegmentsPerPartition?: number;
  /**
   * How long stubs of archived batches stay before DynamoDB's TTL may remove them (seconds). They
   * make a writer with a long-stale view of the tail collide instead of writing below the log
   * start; a day is far beyond any request's lifetime (SigV4 signatures expire after 15 minutes).
   * @default 86400
   */
  readonly stubTtlSeconds?: number;
  /**
   * Longest time between a large batch's upload and its append landing; objects older than this
   * that no batch references are deleted. Producers give up on a batch long before this.
   * @default 3600000 (one hour)
   */
  readonly orphanGraceMs?: number;
}

/** What one run did to one partition. */
export interface PartitionArchiveReport {
  readonly topic: string;
  readonly partition: number;
  /** Segments written to S3 by this run. */
  readonly segmentsArchived: number;
  readonly batchesArchived: number;
  readonly bytesArchived: number;
  /** Segments deleted from S3 by retention. */
  readonly segmentsDeleted: number;
  /** Bytes removed by retention (from S3 and from DynamoDB). */
  readonly bytesExpired: number;
  /** Orphaned large-batch objects deleted. */
  readonly orphansDeleted: number;
  /** Bounds after the run. */
  readonly logStartOffset: number;
  readonly localLogStartOffset: number;
}

/** What a run did, with S3 request counts for cost reports. */
export interface ArchiveReport {
  readonly partitions: readonly PartitionArchiveReport[];
  readonly segmentsArchived: number;
  readonly bytesArchived: number;
  readonly segmentsDeleted: number;
  readonly bytesExpired: number;
  /** Orphaned large-batch objects deleted. */
  readonly orphansDeleted: number;
  /**
   * Deleted topics whose purge this run finished (a delete whose caller stopped before its purge
   * ended, e.g. an API call that answered within its time limit). Only runs over every topic purge.
   */
  readonly purgesFinished: number;
  readonly s3Requests: {
    readonly puts: number;
    readonly gets: number;
    readonly lists: number;
    readonly deletes: number;
  };
}

/** Which topics a run covers. */
export interface ArchiveRunOptions {
  /** Only these topics. @default every topic */
  readonly topics?: readonly string[];
}

/** Items read per query while planning (pages stop at 1 MB anyway). */
const PLAN_PAGE_ITEMS = 100;
/** Stub writes in flight per partition. */
const STUB_CONCURRENCY = 16;

/** Runs archiving and retention over topics. Create one per process; runs may overlap safely. */
export class Archiver {
  readonly #ctx: StorageContext;
  readonly #registry: TopicRegistry;
  readonly #store: SegmentStore;
  readonly #concurrency: number;
  readonly #maxSegments: number;
  readonly #stubTtlSeconds: number;
  readonly #orphanGraceMs: number;

  constructor(ctx: StorageContext, registry: TopicRegistry, options: ArchiverOptions = {}) {
    this.#ctx = ctx;
    this.#registry = registry;
    this.#store = new SegmentStore(ctx);
    this.#concurrency = options.concurrency ?? 4;
    this.#maxSegments = options.maxSegmentsPerPartition ?? 64;
    this.#stubTtlSeconds = options.stubTtlSeconds ?? 86_400;
    this.#orphanGraceMs = options.orphanGraceMs ?? 3_600_000;
  }

  /** Archives and applies retention to every partition of the chosen topics once. */
  async run(options: ArchiveRunOptions = {}): Promise<ArchiveReport> {
    // The archiver is the deployment's background worker: it also finishes interrupted purges.
    const purgesFinished = options.topics ? 0 : await this.#registry.resumePurges();
    const topics = options.topics
      ? await Promise.all(options.topics.map((t) => this.#registry.get(t)))
      : await this.#registry.list();
    const work = topics.flatMap((topic: TopicMetadata) =>
      Array.from({ length: topic.partitions }, (_, partition) => ({
        ref: { topic: topic.name, incarnation: topic.incarnation, partition },
        config: topic.config,
      })),
    );
    const before = { ...this.#store.stats };
    const partitions = await mapLimited(work, this.#concurrency, (w) =>
      this.archivePartition(w.ref, w.config),
    );
    const sum = (f: (p: PartitionArchiveReport) => number) => partitions.reduce((n, p) => n + f(p), 0);
    return {
      partitions,
      segmentsArchived: sum((p) => p.segmentsArchived),
      bytesArchived: sum((p) => p.bytesArchived),
      segmentsDeleted: sum((p) => p.segmentsDeleted),
      bytesExpired: sum((p) => p.bytesExpired),
      orphansDeleted: sum((p) => p.orphansDeleted),
      purgesFinished,
      s3Requests: {
        puts: this.#store.stats.puts - before.puts,
        gets: this.#store.stats.gets - before.gets,
        lists: this.#store.stats.lists - before.lists,
        deletes: this.#store.stats.deletes - before.deletes,
      },
    };
  }

  /** Archives and applies retention to one partition. */
  async archivePartition(ref: PartitionRef, config: TopicConfig): Promise<PartitionArchiveReport> {
    return new PartitionArchiver(this.#ctx, this.#store, ref, config, {
      maxSegments: this.#maxSegments,
      stubTtlSeconds: this.#stubTtlSeconds,
      orphanGraceMs: this.#orphanGraceMs,
    }).run();
  }
}

interface PartitionSettings {
  readonly maxSegments: number;
  readonly stubTtlSeconds: number;
  readonly orphanGraceMs: number;
}

/** A step that moves data: archive or expire one closed segment. */
type MovingStep = Exclude<SegmentStep, { kind: 'keep' }>;

/** A segment written to S3, not yet in the manifest. */
interface WrittenSegment {
  readonly segment: BuiltSegment;
  readonly keys: SegmentObjectKeys;
}

/**
 * One run over one partition. Each method below `run` is one step of the module comment's order;
 * what to do is decided by `archive-plan.ts`, the methods only carry it out.
 */
class PartitionArchiver {
  readonly #ctx: StorageContext;
  readonly #store: SegmentStore;
  readonly #ref: PartitionRef;
  readonly #config: TopicConfig;
  readonly #settings: PartitionSettings;
  readonly #metadata: TierMetadata;
  readonly #reader: PartitionReader;
  readonly #log: LogStore;
  #report = {
    segmentsArchived: 0,
    batchesArchived: 0,
    bytesArchived: 0,
    segmentsDeleted: 0,
    bytesExpired: 0,
    orphansDeleted: 0,
  };

  constructor(
    ctx: StorageContext,
    store: SegmentStore,
    ref: PartitionRef,
    config: TopicConfig,
    settings: PartitionSettings,
  ) {
    this.#ctx = ctx;
    this.#store = store;
    this.#ref = ref;
    this.#config = config;
    this.#settings = settings;
    this.#metadata = new TierMetadata(ctx, ref);
    this.#reader = new PartitionReader(ctx, ref);
    this.#log = new LogStore(ctx);
  }

  async run(): Promise<PartitionArchiveReport> {
    const started = this.#ctx.now();
    let bounds = await this.#metadata.bounds();
    // Step 1: an earlier run that moved a bound and stopped left items to replace by stubs.
    const repair = stubRepair(bounds);
    if (repair) await this.#deleteArchivedItems(repair.from, repair.to);
    const tail = await this.#reader.tail(true);
    const totalBytes = tail?.runningBytes ?? 0;
    bounds = await this.#applySegmentRetention(bounds, totalBytes);
    for (let n = 0; n < this.#settings.maxSegments; n++) {
      if (!tail || !(await this.#mayHaveWork(bounds, tail, totalBytes))) break;
      const next = await this.#moveNextSegment(bounds, totalBytes);
      if (!next) break;
      bounds = next;
    }
    await this.#sweepOrphans(bounds, started, tail ? slotEnd(tail) : 0);
    return {
      topic: this.#ref.topic,
      partition: this.#ref.partition,
      ...this.#report,
      logStartOffset: bounds.logStart.offset,
      localLogStartOffset: bounds.localLogStart.offset,
    };
  }

  /** Step 2, retention of S3 segments, oldest first. Returns the bounds after it. */
  async #applySegmentRetention(bounds: PartitionBounds, totalBytes: number): Promise<PartitionBounds> {
    let logStart = bounds.logStart;
    for await (const segment of this.#metadata.segments()) {
      const decision = segmentRetention(segment, logStart, totalBytes, this.#config, this.#ctx.now());
      if (decision.kind === 'keep') break;
      if (decision.kind === 'leftover') {
        await this.#deleteSegment(segment);
        continue;
      }
      // The log start moves first: once it has, readers no longer look at the segment.
      await this.#metadata.advanceLogStart(logStart, decision.logStart);
      logStart = decision.logStart;
      await this.#deleteSegment(segment);
      this.#report.segmentsDeleted++;
      this.#report.bytesExpired += segment.bytes;
    }
    return { ...bounds, logStart };
  }

  /** A segment's objects, then its manifest item (a rerun finds the item below the log start). */
  async #deleteSegment(segment: SegmentInfo): Promise<void> {
    await this.#store.delete([segment.keys.log, segment.keys.index, segment.keys.timeIndex]);
    await this.#metadata.deleteSegment(segment.baseOffset);
  }

  /** Whether step 3 may find anything to do (see {@link mayHaveWork}), reading one item at most. */
  async #mayHaveWork(bounds: PartitionBounds, tail: Slot, totalBytes: number): Promise<boolean> {
    if (!hotBatchesBeforeTail(bounds, tail)) return false;
    const page = await this.#log.queryBatches(this.#ref, {
      from: bounds.localLogStart.offset,
      limit: 1,
      consistent: true,
    });
    const item = page.items[0];
    const first = item ? slotFromItem(item) : undefined;
    return mayHaveWork(bounds, tail, first, totalBytes, this.#config, this.#ctx.now());
  }

  /**
   * Step 3: cuts the next closed segment and archives (or expires) it when due. Returns the new
   * bounds, or undefined when there is nothing (more) to do now.
   */
  async #moveNextSegment(bounds: PartitionBounds, totalBytes: number): Promise<PartitionBounds | undefined> {
    const segment = await this.#readClosedSegment(bounds.localLogStart.offset);
    if (!segment) return undefined;
    const step = planSegmentStep(bounds, segment, totalBytes, this.#config, this.#ctx.now());
    if (step.kind === 'keep') return undefined;
    try {
      if (step.kind === 'expire') {
        await this.#expireBatches(step);
      } else {
        const written = await this.#writeSegment(segment, step.from);
        await this.#recordSegment(written, segment, step);
        await this.#advanceLocalLogStart(step);
        this.#report.segmentsArchived++;
        this.#report.batchesArchived += segment.length;
        this.#report.bytesArchived += step.bytes;
      }
    } catch (error) {
      // Another archiver finished this segment and removed its large-batch objects under us.
      if (!(error instanceof CorruptRecordError || error instanceof SegmentObjectMissing)) throw error;
      const now = await this.#metadata.bounds();
      if (now.localLogStart.offset >= step.to.offset) return now;
      throw error;
    }
    await this.#deleteArchivedItems(step.from.offset, step.to.offset, segment);
    return boundsAfter(bounds, step);
  }

  /** Reads batches from `from` until the next segment is closed; undefined when it is not. */
  async #readClosedSegment(from: number): Promise<CompleteSlot[] | undefined> {
    const slots: Slot[] = [];
    const limits = { segmentBytes: this.#config.segmentBytes, segmentMs: this.#config.segmentMs };
    let startKey: LogItem | undefined;
    for (;;) {
      const page = await this.#log.queryBatches(this.#ref, {
        from,
        limit: PLAN_PAGE_ITEMS,
        consistent: true,
        startKey,
      });
      for (const item of page.items) {
        const slot = slotFromItem(item);
        // A consistent read never shows a gap in the hot log; stop rather than guess.
        if (slot.offset !== nextInChain(slots, from)) return undefined;
        slots.push(slot);
      }
      const plan = planSegment(slots, limits);
      if (plan.kind === 'closed') return slots.slice(0, plan.take) as CompleteSlot[];
      if (plan.kind === 'stale') return undefined;
      startKey = page.lastKey;
      if (!startKey) return undefined;
    }
  }

  /** Step 3, expiry without upload: the local log start and the log start move past the batches together. */
  async #expireBatches(step: MovingStep): Promise<void> {
    await this.#metadata.advanceLocalStart(step.from, step.to, true);
    this.#report.bytesExpired += step.bytes;
  }

  /** Step 3a: the segment's objects (indexes first, then `.log`), every CRC checked before S3 becomes the only copy. */
  async #writeSegment(slots: readonly CompleteSlot[], from: LogPosition): Promise<WrittenSegment> {
    const batches = await Promise.all(
      slots.map(async (slot) => ({
        offset: slot.offset,
        count: slot.count,
        maxTimestamp: slot.maxTimestamp,
        bytes: slot.claim ? await loadClaim(this.#ctx, slot.claim, slot.offset) : slot.body,
      })),
    );
    const segment = buildSegment(batches);
    const keys = segmentObjectKeys(this.#ref, from.offset);
    verifySegment(segment.log, this.#store.location(keys.log));
    await this.#store.upload(keys, segment);
    return { segment, keys };
  }

  /** Step 3b: the segment's manifest item. */
  async #recordSegment(
    written: WrittenSegment,
    slots: readonly CompleteSlot[],
    step: MovingStep,
  ): Promise<void> {
    await this.#metadata.putSegment({
      baseOffset: step.from.offset,
      endOffset: step.to.offset,
      bytes: written.segment.bytes,
      batches: written.segment.batchCount,
      runningMaxTimestamp: slots.at(-1)!.runningMaxTimestamp,
      runningBytes: step.to.bytes,
      keys: written.keys,
    });
  }

  /** Step 3c: the local log start (conditional on its previous value); from here on S3 is the copy. */
  async #advanceLocalLogStart(step: MovingStep): Promise<void> {
    await this.#metadata.advanceLocalStart(step.from, step.to, false);
  }

  /**
   * Steps 3d–3f (and step 1, finishing an interrupted run): deletes the large-batch objects of
   * `[from, to)`, replaces its items by stubs, then records it. `known` are the slots when the
   * caller has them; otherwise they are read.
   */
  async #deleteArchivedItems(from: number, to: number, known?: readonly Slot[]): Promise<void> {
    const slots = known ?? (await this.#readRange(from, to));
    const claims = claimObjectsOf(slots);
    if (claims.length > 0) await this.#store.delete(claims);
    const expiresAt = stubExpiry(this.#ctx.now(), this.#settings.stubTtlSeconds);
    await mapLimited(itemsToStub(slots), STUB_CONCURRENCY, (slot) =>
      this.#log.stubBatch(this.#ref, slot.offset, expiresAt),
    );
    await this.#metadata.markStubbedThrough(to);
  }

  async #readRange(from: number, to: number): Promise<Slot[]> {
    const slots: Slot[] = [];
    let startKey: LogItem | undefined;
    do {
      const page = await this.#log.queryBatches(this.#ref, { from, to, consistent: true, startKey });
      for (const item of page.items) slots.push(slotFromItem(item));
      startKey = page.lastKey;
    } while (startKey);
    return slots;
  }

  /** Step 4 (see the module comment). `end` was read after `started`. */
  async #sweepOrphans(bounds: PartitionBounds, started: number, end: number): Promise<void> {
    const plan = planOrphanSweep(
      bounds.claimSweep,
      bounds.localLogStart.offset,
      started,
      this.#settings.orphanGraceMs,
    );
    if (plan.kind === 'wait') return;
    if (plan.kind === 'sweep') {
      const orphans = await this.#store.listOlderThan(claimObjectPrefix(this.#ref), plan.uploadedBefore);
      if (orphans.length > 0) await this.#store.delete(orphans);
      this.#report.orphansDeleted += orphans.length;
    }
    await this.#metadata.setClaimSweep(started, end);
  }
}
