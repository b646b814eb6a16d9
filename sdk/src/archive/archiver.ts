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
 *    (the archiver deletes the objects of the batches it archives);
 * 5. on MRSC global tables, which have no TTL: deleting the stubs whose expiry (`exp`, the TTL
 *    attribute elsewhere) passed, oldest first, and scheduling the next look for when the oldest
 *    one left expires.
 *
 * A crash before the bound moves leaves DynamoDB as the source of truth (a rerun rewrites the
 * same bytes); after it, S3 is, and the rerun only finishes the cleanup. Two archivers on one
 * partition cut the same segment and race only on conditional writes.
 *
 * A run visits only the partitions whose archive schedule (`archive-schedule.ts`, one item per
 * partition in the topics table, read with the run's one scan of that table) says may have work:
 * when time made some due, records came (the dispatcher's doorbell rings the schedule), or the
 * configs changed. Each visit records, as its last write, when the partition may next have work;
 * a visit that crashes leaves the partition due.
 *
 * With the deployment's regions known, each partition's log is acted on in its topic's home region
 * (`homeContext`: `home.region`, or where the last failover moved it), whatever region the archiver
 * runs in: that is where its appends go and where the conditional writes on its bounds, manifest
 * and stubs are checked against the writers' (MREC checks conditions against the local copy only,
 * and a second region writing them would meet the appends under last-writer-wins); the writes
 * replicate from there. The topics table (the topic list, tombstones and the archive schedules) is
 * read and written with the registry, in the deployment's home (`registryContext`), so the
 * dispatcher's doorbell and the visits write the schedules in one region too. On MRSC both are the
 * archiver's own region. Segments go to the one bucket every region reads (S3 replicates it).
 *
 * Every decision (what is due, what retention deletes, where the bounds move, when orphans are
 * provable, when a partition needs a visit) is made by the pure `archive-plan.ts` and
 * `archive-schedule.ts`; this module reads the state it needs and carries the steps out. DynamoDB
 * commands are built by the log store (`log/log-store.ts`) and the topic store
 * (`topics/topic-store.ts`).
 */
import { mapLimited } from '../concurrency.ts';
import type { StorageContext } from '../context.ts';
import { CorruptRecordError, UnknownRegionError } from '../errors.ts';
import {
  archiveScheduleKey,
  claimObjectPrefix,
  LogAttr,
  type PartitionRef,
  type SegmentObjectKeys,
  segmentObjectKeys,
} from '../keys.ts';
import { loadClaim } from '../log/claim-check.ts';
import { type CompleteSlot, type Slot, slotEnd, slotFromItem } from '../log/log-item.ts';
import { type LogItem, LogStore } from '../log/log-store.ts';
import { PartitionReader } from '../log/reader.ts';
import { homeContext, isStronglyConsistent, registryContext } from '../regions/routing.ts';
import type { TopicConfig } from '../topics/configs.ts';
import type { TopicMetadata, TopicRegistry } from '../topics/registry.ts';
import { partitionRef } from '../topics/topic-metadata.ts';
import { type ArchiveView, TopicStore } from '../topics/topic-store.ts';
import {
  boundsAfter,
  claimObjectsOf,
  hotBatchesBeforeTail,
  itemsToStub,
  mayHaveWork,
  nextInChain,
  planOrphanSweep,
  planSegmentStep,
  planStubDeletion,
  type SegmentStep,
  segmentRetention,
  stubExpiry,
  stubRepair,
} from './archive-plan.ts';
import {
  type ArchiveVisit,
  DEFAULT_PROBE_INTERVAL_MS,
  type HotLogStop,
  nextDue,
  scheduleBasis,
  type VisitDecision,
  type VisitFacts,
  visitDecision,
} from './archive-schedule.ts';
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
   * On MRSC (`consistency: 'strong'`), which has no TTL, the archiver deletes them itself once
   * this time has passed.
   * @default 86400
   */
  readonly stubTtlSeconds?: number;
  /**
   * Longest time between a large batch's upload and its append landing; objects older than this
   * that no batch references are deleted. Producers give up on a batch long before this.
   * @default 3600000 (one hour)
   */
  readonly orphanGraceMs?: number;
  /**
   * How often a scheduled run (`visit: 'scheduled'`) reads, for each partition with nothing due,
   * the one slot its next batch would take: the backstop for a doorbell that was lost. Each such
   * read is half a read unit and a small write.
   * @default 3600000 (one hour)
   */
  readonly probeIntervalMs?: number;
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
  /** Expired stubs deleted by the archiver itself (MRSC only: elsewhere DynamoDB's TTL does it). */
  readonly stubsDeleted: number;
  /** Bounds after the run. */
  readonly logStartOffset: number;
  readonly localLogStartOffset: number;
}

/** What a run did, with S3 request counts for cost reports. */
export interface ArchiveReport {
  /** The partitions the run visited (read and worked on where something was due). */
  readonly partitions: readonly PartitionArchiveReport[];
  /** Partitions the run did not visit: nothing was due. */
  readonly partitionsSkipped: number;
  /** Partitions whose next slot the run read to find out whether records came (visited or not). */
  readonly partitionsProbed: number;
  readonly segmentsArchived: number;
  readonly bytesArchived: number;
  readonly segmentsDeleted: number;
  readonly bytesExpired: number;
  /** Orphaned large-batch objects deleted. */
  readonly orphansDeleted: number;
  /** Expired stubs deleted by the archiver itself (MRSC only: elsewhere DynamoDB's TTL does it). */
  readonly stubsDeleted: number;
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
  /**
   * Which partitions the run visits:
   * - `due`: every partition with work due — those whose schedule says so (time, configs, a
   *   doorbell), and every other one that got records since its last visit, found by reading the
   *   one slot its next batch would take (a strongly consistent read unit per partition). Nothing
   *   due is left for a later run, whether or not a dispatcher rings the schedule.
   * - `scheduled`: those whose schedule says so, trusting the dispatcher's doorbell for new records
   *   (and probing each partition every `probeIntervalMs` in case a doorbell was lost): well under
   *   a read unit per idle partition. Records reported by a doorbell after the run read the
   *   schedule wait for the next run. What the scheduled archiver runs every minute.
   * - `all`: every partition, read in full whatever its schedule says.
   * @default 'due'
   */
  readonly visit?: ArchiveVisit;
}

/** Items read per query while planning (pages stop at 1 MB anyway). */
const PLAN_PAGE_ITEMS = 100;
/** Stub writes in flight per partition. */
const STUB_CONCURRENCY = 16;

/** A partition a run looks at, with what its schedule says to do. */
interface PartitionWork {
  /** Where its log is written: its topic's home region. */
  readonly home: StorageContext;
  readonly ref: PartitionRef;
  readonly config: TopicConfig;
  readonly basis: string;
  readonly decision: VisitDecision;
}

/** What a run did with one partition. */
type PartitionOutcome =
  | { readonly kind: 'skipped' }
  /** Probed: no new records, nothing due. */
  | { readonly kind: 'probed' }
  | { readonly kind: 'visited'; readonly report: PartitionArchiveReport; readonly probed: boolean };

/** Runs archiving and retention over topics. Create one per process; runs may overlap safely. */
export class Archiver {
  readonly #ctx: StorageContext;
  readonly #registry: TopicRegistry;
  /** The topics table with the registry: the topic list and the archive schedules. */
  readonly #topics: TopicStore;
  /** Per region the topics' logs are written in (their homes): its context on this clock, its log store. */
  readonly #homes = new Map<string, { readonly ctx: StorageContext; readonly log: LogStore }>();
  readonly #store: SegmentStore;
  readonly #concurrency: number;
  readonly #maxSegments: number;
  readonly #stubTtlSeconds: number;
  readonly #orphanGraceMs: number;
  readonly #probeIntervalMs: number;

  constructor(ctx: StorageContext, registry: TopicRegistry, options: ArchiverOptions = {}) {
    this.#ctx = ctx;
    this.#registry = registry;
    this.#topics = new TopicStore(onClockOf(registryContext(ctx), ctx));
    this.#store = new SegmentStore(ctx);
    this.#concurrency = options.concurrency ?? 4;
    this.#maxSegments = options.maxSegmentsPerPartition ?? 64;
    this.#stubTtlSeconds = options.stubTtlSeconds ?? 86_400;
    this.#orphanGraceMs = options.orphanGraceMs ?? 3_600_000;
    this.#probeIntervalMs = options.probeIntervalMs ?? DEFAULT_PROBE_INTERVAL_MS;
  }

  /** Archives and applies retention to the partitions of the chosen topics that have work due. */
  async run(options: ArchiveRunOptions = {}): Promise<ArchiveReport> {
    const mode = options.visit ?? 'due';
    // The topics table is read once: live topics, tombstones and schedules in one scan.
    const view = await this.#topics.archiveView();
    // The archiver is the deployment's background worker: it also finishes interrupted purges.
    const purgesFinished = options.topics ? 0 : await this.#registry.finishPurges(view.tombstones);
    const topics = options.topics
      ? await Promise.all(options.topics.map((t) => this.#registry.get(t)))
      : view.topics;
    const schedules = new Map(view.schedules.map((entry) => [entry.key, entry]));
    const now = this.#ctx.now();
    const work = topics.flatMap((topic: TopicMetadata): PartitionWork[] => {
      const basis = scheduleBasis(topic.config, this.#orphanGraceMs);
      const home = this.#homeOf(topic);
      return Array.from({ length: topic.partitions }, (_, partition) => {
        const ref = partitionRef(topic, partition);
        const decision = visitDecision(schedules.get(archiveScheduleKey(ref)), {
          mode,
          basis,
          config: topic.config,
          now,
          probeIntervalMs: this.#probeIntervalMs,
        });
        return { home, ref, config: topic.config, basis, decision };
      });
    });
    const before = { ...this.#store.stats };
    const outcomes = await mapLimited(work, this.#concurrency, (w) => this.#handle(w, mode));
    if (!options.topics) await this.#removeDeadSchedules(view);
    const partitions = outcomes.flatMap((o) => (o.kind === 'visited' ? [o.report] : []));
    const sum = (f: (p: PartitionArchiveReport) => number) => partitions.reduce((n, p) => n + f(p), 0);
    return {
      partitions,
      partitionsSkipped: outcomes.filter((o) => o.kind !== 'visited').length,
      partitionsProbed: outcomes.filter((o) => o.kind === 'probed' || (o.kind === 'visited' && o.probed))
        .length,
      segmentsArchived: sum((p) => p.segmentsArchived),
      bytesArchived: sum((p) => p.bytesArchived),
      segmentsDeleted: sum((p) => p.segmentsDeleted),
      bytesExpired: sum((p) => p.bytesExpired),
      orphansDeleted: sum((p) => p.orphansDeleted),
      stubsDeleted: sum((p) => p.stubsDeleted),
      purgesFinished,
      s3Requests: {
        puts: this.#store.stats.puts - before.puts,
        gets: this.#store.stats.gets - before.gets,
        lists: this.#store.stats.lists - before.lists,
        deletes: this.#store.stats.deletes - before.deletes,
      },
    };
  }

  /**
   * Archives and applies retention to one partition, whatever its schedule says, and records its
   * schedule. The partition's log is acted on in `topic`'s home region.
   */
  async archivePartition(topic: TopicMetadata, partition: number): Promise<PartitionArchiveReport> {
    const basis = scheduleBasis(topic.config, this.#orphanGraceMs);
    return this.#visit(this.#homeOf(topic), partitionRef(topic, partition), topic.config, basis);
  }

  async #handle(work: PartitionWork, mode: ArchiveVisit): Promise<PartitionOutcome> {
    const { home, ref, decision } = work;
    if (decision.kind === 'skip') return { kind: 'skipped' };
    if (decision.kind === 'probe') {
      const probedAt = this.#ctx.now();
      // The home's copy: a replica's would miss a batch that has not replicated yet.
      if (!(await this.#home(home).log.hasBatch(ref, decision.end, decision.consistent))) {
        // Only scheduled runs wait probeIntervalMs between probes; the others probe every run.
        if (mode === 'scheduled') await this.#topics.recordArchiveProbe(ref, probedAt);
        return { kind: 'probed' };
      }
    }
    const report = await this.#visit(home, ref, work.config, work.basis);
    return { kind: 'visited', report, probed: decision.kind === 'probe' };
  }

  /**
   * Where `topic`'s log is acted on: its home region. A `home.region` no longer among the
   * deployment's regions (the list changed since) takes appends nowhere; its log is left where the
   * archiver runs, as purges leave it, rather than failing the run for every other topic.
   */
  #homeOf(topic: TopicMetadata): StorageContext {
    let home: StorageContext;
    try {
      home = homeContext(this.#ctx, topic);
    } catch (error) {
      if (!(error instanceof UnknownRegionError)) throw error;
      home = this.#ctx;
    }
    return this.#home(home).ctx;
  }

  /** `home` on the archiver's clock (its context's `now`), with its log store, once per region. */
  #home(home: StorageContext): { readonly ctx: StorageContext; readonly log: LogStore } {
    // Without regions there is one context, without a region name.
    const key = home.region ?? '';
    let entry = this.#homes.get(key);
    if (!entry) {
      const ctx = onClockOf(home, this.#ctx);
      entry = { ctx, log: new LogStore(ctx) };
      this.#homes.set(key, entry);
    }
    return entry;
  }

  /**
   * One visit of the partition's log in `home`, then its schedule entry (with the registry): the
   * last write, so a visit that fails leaves the partition due.
   */
  async #visit(
    home: StorageContext,
    ref: PartitionRef,
    config: TopicConfig,
    basis: string,
  ): Promise<PartitionArchiveReport> {
    const visit = await new PartitionArchiver(home, this.#store, ref, config, {
      maxSegments: this.#maxSegments,
      stubTtlSeconds: this.#stubTtlSeconds,
      orphanGraceMs: this.#orphanGraceMs,
      deleteExpiredStubs: isStronglyConsistent(this.#ctx),
    }).run();
    await this.#topics.recordArchiveVisit(ref, {
      seen: visit.facts.started,
      end: visit.facts.tail ? slotEnd(visit.facts.tail) : 0,
      due: nextDue(visit.facts, config, this.#orphanGraceMs),
      basis,
    });
    return visit.report;
  }

  /**
   * Deletes schedules of incarnations that are not live (a deleted topic's, written by a visit or a
   * doorbell that raced its deletion). One whose topic was created after the scan read the topics
   * only goes missing, which makes its partition due: harmless.
   */
  async #removeDeadSchedules(view: ArchiveView): Promise<void> {
    const live = new Set(view.topics.map((t) => `${t.name}#${t.incarnation}`));
    const dead = view.schedules.filter((e) => !live.has(`${e.ref.topic}#${e.ref.incarnation}`));
    if (dead.length > 0) await this.#topics.deleteArchiveSchedules(dead.map((e) => e.ref));
  }
}

/**
 * `ctx` telling time by `clock`'s `now`: a region's context comes from the routing with the
 * client's clock, and the archiver's own (a caller's, e.g. a shifted one) must decide what is due.
 */
function onClockOf(ctx: StorageContext, clock: StorageContext): StorageContext {
  return ctx.now === clock.now ? ctx : { ...ctx, now: clock.now };
}

interface PartitionSettings {
  readonly maxSegments: number;
  readonly stubTtlSeconds: number;
  readonly orphanGraceMs: number;
  /** Step 5: true on MRSC, whose tables have no TTL to delete expired stubs. */
  readonly deleteExpiredStubs: boolean;
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
  /** The oldest S3 segment retention kept, or else the first this visit archived: when retention next looks. */
  #oldestSegment: { readonly bytes: number; readonly runningMaxTimestamp: number } | undefined;
  #report = {
    segmentsArchived: 0,
    batchesArchived: 0,
    bytesArchived: 0,
    segmentsDeleted: 0,
    bytesExpired: 0,
    orphansDeleted: 0,
    stubsDeleted: 0,
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

  /** The visit: its report, and what it saw for the schedule (`archive-schedule.ts`). */
  async run(): Promise<{ readonly report: PartitionArchiveReport; readonly facts: VisitFacts }> {
    // Before any read: everything appended before this is in what the visit reads.
    const started = this.#ctx.now();
    let bounds = await this.#metadata.bounds();
    // Step 1: an earlier run that moved a bound and stopped left items to replace by stubs.
    const repair = stubRepair(bounds);
    if (repair) await this.#deleteArchivedItems(repair.from, repair.to);
    const tail = await this.#reader.tail(true);
    const totalBytes = tail?.runningBytes ?? 0;
    bounds = await this.#applySegmentRetention(bounds, totalBytes);
    // Where step 3 stopped; a visit that reaches the segment limit may have work left.
    let hotLog: HotLogStop = tail ? { kind: 'unfinished' } : { kind: 'tail-only' };
    for (let n = 0; tail && n < this.#settings.maxSegments; n++) {
      const next = await this.#moveNextSegment(bounds, tail, totalBytes);
      if (next.kind === 'stopped') {
        hotLog = next.stop;
        break;
      }
      bounds = next.bounds;
    }
    const claimSweep = await this.#sweepOrphans(bounds, started, tail ? slotEnd(tail) : 0);
    const stubsExpireAt = this.#settings.deleteExpiredStubs
      ? await this.#deleteExpiredStubs(bounds.stubbedThrough)
      : undefined;
    if (!this.#oldestSegment && bounds.logStart.offset < bounds.localLogStart.offset) {
      // S3 holds segments this visit neither kept nor wrote (another archiver wrote them while it
      // ran): retention's next look is the oldest one's.
      this.#oldestSegment = await this.#metadata.segmentAt(bounds.logStart.offset);
      if (!this.#oldestSegment) hotLog = { kind: 'unfinished' };
    }
    return {
      report: {
        topic: this.#ref.topic,
        partition: this.#ref.partition,
        ...this.#report,
        logStartOffset: bounds.logStart.offset,
        localLogStartOffset: bounds.localLogStart.offset,
      },
      facts: {
        started,
        bounds: { ...bounds, claimSweep },
        tail,
        oldestSegment: this.#oldestSegment,
        hotLog,
        ...(stubsExpireAt === undefined ? {} : { stubsExpireAt }),
      },
    };
  }

  /** Step 2, retention of S3 segments, oldest first. Returns the bounds after it. */
  async #applySegmentRetention(bounds: PartitionBounds, totalBytes: number): Promise<PartitionBounds> {
    let logStart = bounds.logStart;
    for await (const segment of this.#metadata.segments()) {
      const decision = segmentRetention(segment, logStart, totalBytes, this.#config, this.#ctx.now());
      if (decision.kind === 'keep') {
        this.#oldestSegment = segment;
        break;
      }
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

  /**
   * Whether step 3 may find anything to do (see {@link mayHaveWork}), reading one item at most;
   * when not, where it stops.
   */
  async #mayHaveWork(
    bounds: PartitionBounds,
    tail: Slot,
    totalBytes: number,
  ): Promise<HotLogStop | undefined> {
    if (!hotBatchesBeforeTail(bounds, tail)) return { kind: 'tail-only' };
    const page = await this.#log.queryBatches(this.#ref, {
      from: bounds.localLogStart.offset,
      limit: 1,
      consistent: true,
    });
    const item = page.items[0];
    const first = item ? slotFromItem(item) : undefined;
    return mayHaveWork(bounds, tail, first, totalBytes, this.#config, this.#ctx.now())
      ? undefined
      : { kind: 'not-yet', first };
  }

  /**
   * Step 3: cuts the next closed segment and archives (or expires) it when due. Returns the new
   * bounds, or where the hot log stops when there is nothing (more) to do now.
   */
  async #moveNextSegment(
    bounds: PartitionBounds,
    tail: Slot,
    totalBytes: number,
  ): Promise<
    | { readonly kind: 'moved'; readonly bounds: PartitionBounds }
    | { readonly kind: 'stopped'; readonly stop: HotLogStop }
  > {
    const nothing = await this.#mayHaveWork(bounds, tail, totalBytes);
    if (nothing) return { kind: 'stopped', stop: nothing };
    const read = await this.#readClosedSegment(bounds.localLogStart.offset);
    if (read.kind === 'open') return { kind: 'stopped', stop: read };
    // Another archiver moved the hot log under this read: the next run looks again.
    if (read.kind === 'stale') return { kind: 'stopped', stop: { kind: 'unfinished' } };
    const segment = read.segment;
    const step = planSegmentStep(bounds, segment, totalBytes, this.#config, this.#ctx.now());
    if (step.kind === 'keep') return { kind: 'stopped', stop: { kind: 'kept', segment } };
    try {
      if (step.kind === 'expire') {
        await this.#expireBatches(step);
      } else {
        const written = await this.#writeSegment(segment, step.from);
        await this.#recordSegment(written, segment, step);
        this.#oldestSegment ??= {
          bytes: written.segment.bytes,
          runningMaxTimestamp: segment.at(-1)!.runningMaxTimestamp,
        };
        await this.#advanceLocalLogStart(step);
        this.#report.segmentsArchived++;
        this.#report.batchesArchived += segment.length;
        this.#report.bytesArchived += step.bytes;
      }
    } catch (error) {
      // Another archiver finished this segment and removed its large-batch objects under us.
      if (!(error instanceof CorruptRecordError || error instanceof SegmentObjectMissing)) throw error;
      const now = await this.#metadata.bounds();
      if (now.localLogStart.offset >= step.to.offset) return { kind: 'moved', bounds: now };
      throw error;
    }
    await this.#deleteArchivedItems(step.from.offset, step.to.offset, segment);
    return { kind: 'moved', bounds: boundsAfter(bounds, step) };
  }

  /**
   * Reads batches from `from` until the next segment is closed. `open`: it is not (with the
   * earliest deadline of a pending claim read); `stale`: the slots were archived meanwhile, or a
   * gap showed (a consistent read never shows one in the hot log: stop rather than guess).
   */
  async #readClosedSegment(
    from: number,
  ): Promise<
    | { readonly kind: 'closed'; readonly segment: CompleteSlot[] }
    | { readonly kind: 'open'; readonly pendingDeadline: number | undefined }
    | { readonly kind: 'stale' }
  > {
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
        if (slot.offset !== nextInChain(slots, from)) return { kind: 'stale' };
        slots.push(slot);
      }
      const plan = planSegment(slots, limits);
      if (plan.kind === 'closed')
        return { kind: 'closed', segment: slots.slice(0, plan.take) as CompleteSlot[] };
      if (plan.kind === 'stale') return { kind: 'stale' };
      startKey = page.lastKey;
      if (!startKey) {
        const deadlines = slots.flatMap((slot) => (slot.kind === 'pending' ? [slot.deadline] : []));
        return { kind: 'open', pendingDeadline: deadlines.length > 0 ? Math.min(...deadlines) : undefined };
      }
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

  /**
   * Step 5 (MRSC): deletes the expired stubs below `stubbedThrough` (every item there is a stub),
   * oldest first, reading one page past the last expired one at most. Returns when the oldest stub
   * left expires (epoch ms), if one is left.
   */
  async #deleteExpiredStubs(stubbedThrough: number): Promise<number | undefined> {
    let startKey: LogItem | undefined;
    do {
      const page = await this.#log.queryBatches(this.#ref, {
        from: 0,
        to: stubbedThrough,
        limit: PLAN_PAGE_ITEMS,
        consistent: true,
        startKey,
      });
      const plan = planStubDeletion(
        page.items.map((item) => ({
          stub: item[LogAttr.archived]?.N === '1',
          expiresAt:
            item[LogAttr.expiresAt]?.N === undefined ? undefined : Number(item[LogAttr.expiresAt]!.N),
        })),
        this.#ctx.now(),
      );
      const keys = plan.expired.map((i) => {
        const item = page.items[i]!;
        return {
          [LogAttr.partitionKey]: item[LogAttr.partitionKey]!,
          [LogAttr.offset]: item[LogAttr.offset]!,
        };
      });
      if (keys.length > 0) await this.#log.deleteItems(this.#ref, keys);
      this.#report.stubsDeleted += keys.length;
      if (plan.nextExpiry !== undefined) return plan.nextExpiry;
      startKey = page.lastKey;
    } while (startKey);
    return undefined;
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

  /** Step 4 (see the module comment). `end` was read after `started`. Returns the check point left. */
  async #sweepOrphans(
    bounds: PartitionBounds,
    started: number,
    end: number,
  ): Promise<PartitionBounds['claimSweep']> {
    const plan = planOrphanSweep(
      bounds.claimSweep,
      bounds.localLogStart.offset,
      started,
      this.#settings.orphanGraceMs,
    );
    if (plan.kind === 'wait') return bounds.claimSweep;
    if (plan.kind === 'sweep') {
      const orphans = await this.#store.listOlderThan(claimObjectPrefix(this.#ref), plan.uploadedBefore);
      if (orphans.length > 0) await this.#store.delete(orphans);
      this.#report.orphansDeleted += orphans.length;
    }
    await this.#metadata.setClaimSweep(started, end);
    return { time: started, end };
  }
}
