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
 *    that was down) are expired the same way without the upload.
 *
 * 4. orphaned large-batch objects (uploaded for an append that then failed for good, or whose
 *    claim was voided) are deleted once provably unreferenced: the check records (time T, the
 *    partition's end E); an append lands within `orphanGraceMs` of its upload, so once the local
 *    log start passes E, every object uploaded before T − grace that still exists is an orphan
 *    (the archiver deletes the objects of the batches it archives).
 *
 * A crash before the bound moves leaves DynamoDB as the source of truth (a rerun rewrites the
 * same bytes); after it, S3 is, and the rerun only finishes the cleanup. Two archivers on one
 * partition cut the same segment and race only on conditional writes.
 */
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { mapLimited } from '../concurrency.ts';
import type { StorageContext } from '../context.ts';
import { CorruptRecordError } from '../errors.ts';
import { claimObjectPrefix, LogAttr, type PartitionRef, partitionKey, segmentObjectKeys } from '../keys.ts';
import { loadClaim } from '../log/claim-check.ts';
import { type CompleteSlot, logKey, type Slot, slotFromItem } from '../log/log-item.ts';
import { PartitionReader } from '../log/reader.ts';
import { withRetry } from '../retry.ts';
import type { TopicConfig } from '../topics/configs.ts';
import type { TopicMetadata, TopicRegistry } from '../topics/registry.ts';
import { buildSegment, verifySegment } from './segment-format.ts';
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

/** One run over one partition. */
class PartitionArchiver {
  readonly #ctx: StorageContext;
  readonly #store: SegmentStore;
  readonly #ref: PartitionRef;
  readonly #config: TopicConfig;
  readonly #settings: PartitionSettings;
  readonly #metadata: TierMetadata;
  readonly #reader: PartitionReader;
  readonly #pk: string;
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
    this.#pk = partitionKey(ref);
  }

  async run(): Promise<PartitionArchiveReport> {
    const started = this.#ctx.now();
    let bounds = await this.#metadata.bounds();
    if (bounds.stubbedThrough < bounds.localLogStart.offset) {
      await this.#stubRange(bounds.stubbedThrough, bounds.localLogStart.offset);
    }
    const tail = await this.#reader.tail(true);
    const totalEnd = tail?.runningBytes ?? 0;
    bounds = await this.#expireSegments(bounds, totalEnd);
    for (let n = 0; n < this.#settings.maxSegments; n++) {
      if (!tail || !(await this.#mayHaveWork(bounds, tail, totalEnd))) break;
      const next = await this.#archiveNext(bounds, totalEnd);
      if (!next) break;
      bounds = next;
    }
    await this.#sweepOrphans(bounds, started, tail ? tail.offset + tail.count : 0);
    return {
      topic: this.#ref.topic,
      partition: this.#ref.partition,
      ...this.#report,
      logStartOffset: bounds.logStart.offset,
      localLogStartOffset: bounds.localLogStart.offset,
    };
  }

  /** Step 4 (see the module comment). `end` was read after `started`. */
  async #sweepOrphans(bounds: PartitionBounds, started: number, end: number): Promise<void> {
    const sweep = bounds.claimSweep;
    if (sweep) {
      if (bounds.localLogStart.offset < sweep.end || started - sweep.time < this.#settings.orphanGraceMs)
        return;
      const orphans = await this.#store.listOlderThan(
        claimObjectPrefix(this.#ref),
        sweep.time - this.#settings.orphanGraceMs,
      );
      if (orphans.length > 0) await this.#store.delete(orphans);
      this.#report.orphansDeleted += orphans.length;
    }
    await this.#metadata.setClaimSweep(started, end);
  }

  /** Retention of S3 segments, oldest first. Returns the bounds after it. */
  async #expireSegments(bounds: PartitionBounds, totalEnd: number): Promise<PartitionBounds> {
    let logStart = bounds.logStart;
    for await (const segment of this.#metadata.segments()) {
      if (segment.endOffset <= logStart.offset) {
        // Left over by a run that moved the log start and stopped: finish its cleanup.
        await this.#deleteSegment(segment);
        continue;
      }
      if (!this.#expired(segment.runningMaxTimestamp, totalEnd - logStart.bytes - segment.bytes)) break;
      const to = { offset: segment.endOffset, bytes: segment.runningBytes };
      await this.#metadata.advanceLogStart(logStart, to);
      logStart = to;
      await this.#deleteSegment(segment);
      this.#report.segmentsDeleted++;
      this.#report.bytesExpired += segment.bytes;
    }
    return { ...bounds, logStart };
  }

  /**
   * Whether data whose running max timestamp is `maxTimestamp` is past total retention, given
   * how many bytes would remain without it.
   */
  #expired(maxTimestamp: number, bytesRemaining: number): boolean {
    const { retentionMs, retentionBytes } = this.#config;
    if (retentionMs >= 0 && maxTimestamp < this.#ctx.now() - retentionMs) return true;
    return retentionBytes >= 0 && bytesRemaining >= retentionBytes;
  }

  async #deleteSegment(segment: SegmentInfo): Promise<void> {
    await this.#store.delete([segment.keys.log, segment.keys.index, segment.keys.timeIndex]);
    await this.#metadata.deleteSegment(segment.baseOffset);
  }

  /**
   * A cheap necessary condition for {@link #archiveNext} to do anything, from the first hot batch
   * and the tail alone (their running bytes and timestamps), so that a run with nothing to do
   * reads one item instead of the whole open segment.
   */
  async #mayHaveWork(bounds: PartitionBounds, tail: Slot, totalEnd: number): Promise<boolean> {
    const from = bounds.localLogStart;
    if (tail.offset <= from.offset) return false;
    const first = await this.#firstHot(from.offset);
    if (!first || first.kind === 'archived') return true;
    const { segmentBytes, segmentMs, remoteStorageEnable, localRetentionMs, localRetentionBytes } =
      this.#config;
    const { retentionMs, retentionBytes } = this.#config;
    const hotBytes = totalEnd - from.bytes;
    // A segment closes by size or by time, and the segment's last timestamp is ≥ the first's.
    const closable =
      hotBytes > segmentBytes || tail.runningMaxTimestamp - first.runningMaxTimestamp >= segmentMs;
    if (!closable) return false;
    const now = this.#ctx.now();
    const oldEnough = (ms: number) => ms >= 0 && first.runningMaxTimestamp < now - ms;
    const due =
      remoteStorageEnable &&
      (oldEnough(localRetentionMs) || (localRetentionBytes >= 0 && hotBytes > localRetentionBytes));
    const expiring =
      bounds.logStart.offset === from.offset &&
      (oldEnough(retentionMs) || (retentionBytes >= 0 && totalEnd - bounds.logStart.bytes > retentionBytes));
    return due || expiring;
  }

  async #firstHot(from: number): Promise<Slot | undefined> {
    const item = (await this.#queryFrom(from, 1)).Items?.[0];
    return item ? slotFromItem(item) : undefined;
  }

  /** One page of the partition's items from `from` on, read consistently. */
  #queryFrom(from: number, limit: number, startKey?: Record<string, AttributeValue>) {
    return withRetry(
      `Reading ${this.#reader.label} to archive it`,
      () =>
        this.#ctx.ddb.send(
          new QueryCommand({
            TableName: this.#ctx.tables.log,
            KeyConditionExpression: '#pk = :pk AND #off >= :from',
            ExpressionAttributeNames: { '#pk': LogAttr.partitionKey, '#off': LogAttr.offset },
            ExpressionAttributeValues: { ':pk': { S: this.#pk }, ':from': { N: String(from) } },
            ConsistentRead: true,
            Limit: limit,
            ...(startKey ? { ExclusiveStartKey: startKey } : {}),
          }),
        ),
      this.#ctx.retry,
    );
  }

  /**
   * Cuts the next closed segment and archives (or expires) it when due. Returns the new bounds,
   * or undefined when there is nothing (more) to do now.
   */
  async #archiveNext(bounds: PartitionBounds, totalEnd: number): Promise<PartitionBounds | undefined> {
    const from = bounds.localLogStart;
    const slots = await this.#planRead(from.offset);
    if (!slots) return undefined;
    const last = slots.at(-1)!;
    const to: LogPosition = { offset: last.offset + last.count, bytes: last.runningBytes };
    const bytes = to.bytes - from.bytes;
    const expireNow =
      bounds.logStart.offset === from.offset &&
      this.#expired(last.runningMaxTimestamp, totalEnd - from.bytes - bytes);
    if (!expireNow && !this.#dueForArchive(last.runningMaxTimestamp, totalEnd - from.bytes - bytes)) {
      return undefined;
    }
    try {
      if (expireNow) {
        await this.#metadata.advanceLocalStart(from, to, true);
        this.#report.bytesExpired += bytes;
      } else {
        await this.#upload(slots, from, to);
        this.#report.segmentsArchived++;
        this.#report.batchesArchived += slots.length;
        this.#report.bytesArchived += bytes;
      }
    } catch (error) {
      // Another archiver finished this segment and removed its large-batch objects under us.
      if (!(error instanceof CorruptRecordError || error instanceof SegmentObjectMissing)) throw error;
      const now = await this.#metadata.bounds();
      if (now.localLogStart.offset >= to.offset) return now;
      throw error;
    }
    await this.#stubRange(from.offset, to.offset, slots);
    return {
      ...bounds,
      logStart: expireNow ? to : bounds.logStart,
      localLogStart: to,
      stubbedThrough: to.offset,
    };
  }

  /** Whether hot retention says a segment ending with this running max timestamp should move. */
  #dueForArchive(maxTimestamp: number, hotBytesRemaining: number): boolean {
    const { remoteStorageEnable, localRetentionMs, localRetentionBytes } = this.#config;
    if (!remoteStorageEnable) return false;
    if (localRetentionMs >= 0 && maxTimestamp < this.#ctx.now() - localRetentionMs) return true;
    return localRetentionBytes >= 0 && hotBytesRemaining >= localRetentionBytes;
  }

  /** Reads slots from `from` until the next segment is closed; undefined when it is not. */
  async #planRead(from: number): Promise<CompleteSlot[] | undefined> {
    const slots: Slot[] = [];
    const limits = { segmentBytes: this.#config.segmentBytes, segmentMs: this.#config.segmentMs };
    let startKey: Record<string, AttributeValue> | undefined;
    for (;;) {
      const page = await this.#queryFrom(from, PLAN_PAGE_ITEMS, startKey);
      for (const item of page.Items ?? []) {
        const slot = slotFromItem(item);
        const expected = slots.length === 0 ? from : slots.at(-1)!.offset + slots.at(-1)!.count;
        if (slot.offset !== expected) {
          // A consistent read never shows a gap in the hot log; stop rather than guess.
          return undefined;
        }
        slots.push(slot);
      }
      const plan = planSegment(slots, limits);
      if (plan.kind === 'closed') return slots.slice(0, plan.take) as CompleteSlot[];
      if (plan.kind === 'stale') return undefined;
      startKey = page.LastEvaluatedKey;
      if (!startKey) return undefined;
    }
  }

  /** Steps 3a–3c: the segment's objects, its manifest item, the local log start. */
  async #upload(slots: readonly CompleteSlot[], from: LogPosition, to: LogPosition): Promise<void> {
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
    // Check every CRC before S3 becomes the only copy.
    verifySegment(segment.log, this.#store.location(keys.log));
    await this.#store.upload(keys, segment);
    await this.#metadata.putSegment({
      baseOffset: from.offset,
      endOffset: to.offset,
      bytes: segment.bytes,
      batches: segment.batchCount,
      runningMaxTimestamp: slots.at(-1)!.runningMaxTimestamp,
      runningBytes: to.bytes,
      keys,
    });
    await this.#metadata.advanceLocalStart(from, to, false);
  }

  /**
   * Steps 3d–3f: deletes the large-batch objects of `[from, to)` and replaces its items by stubs,
   * then records it. `known` are the slots when the caller has them; otherwise they are read.
   */
  async #stubRange(from: number, to: number, known?: readonly Slot[]): Promise<void> {
    const slots = known ?? (await this.#readRange(from, to));
    const claims = slots.flatMap((s) => (s.kind === 'complete' && s.claim ? [s.claim.key] : []));
    if (claims.length > 0) await this.#store.delete(claims);
    const expiresAt = Math.floor(this.#ctx.now() / 1000) + this.#settings.stubTtlSeconds;
    await mapLimited(
      slots.filter((s) => s.kind !== 'archived'),
      STUB_CONCURRENCY,
      (slot) => this.#stub(slot.offset, expiresAt),
    );
    await this.#metadata.markStubbedThrough(to);
  }

  async #readRange(from: number, to: number): Promise<Slot[]> {
    const slots: Slot[] = [];
    let startKey: Record<string, AttributeValue> | undefined;
    do {
      const page = await withRetry(
        `Reading archived items of ${this.#reader.label}`,
        () =>
          this.#ctx.ddb.send(
            new QueryCommand({
              TableName: this.#ctx.tables.log,
              KeyConditionExpression: '#pk = :pk AND #off BETWEEN :from AND :last',
              ExpressionAttributeNames: { '#pk': LogAttr.partitionKey, '#off': LogAttr.offset },
              ExpressionAttributeValues: {
                ':pk': { S: this.#pk },
                ':from': { N: String(from) },
                ':last': { N: String(to - 1) },
              },
              ConsistentRead: true,
              ...(startKey ? { ExclusiveStartKey: startKey } : {}),
            }),
          ),
        this.#ctx.retry,
      );
      for (const item of page.Items ?? []) slots.push(slotFromItem(item));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return slots;
  }

  /** Replaces one archived item by its stub (idempotent). */
  async #stub(offset: number, expiresAt: number): Promise<void> {
    try {
      await withRetry(
        `Replacing an archived batch of ${this.#reader.label} by its stub`,
        () =>
          this.#ctx.ddb.send(
            new UpdateItemCommand({
              TableName: this.#ctx.tables.log,
              Key: logKey(this.#pk, offset),
              UpdateExpression: 'SET #a = :one, #exp = :exp REMOVE #b, #s3, #sz',
              ConditionExpression:
                'attribute_exists(#off) AND attribute_not_exists(#a) AND attribute_not_exists(#st)',
              ExpressionAttributeNames: {
                '#off': LogAttr.offset,
                '#a': LogAttr.archived,
                '#exp': LogAttr.expiresAt,
                '#b': LogAttr.body,
                '#s3': LogAttr.claimKey,
                '#sz': LogAttr.claimSize,
                '#st': LogAttr.state,
              },
              ExpressionAttributeValues: { ':one': { N: '1' }, ':exp': { N: String(expiresAt) } },
            }),
          ),
        this.#ctx.retry,
      );
    } catch (error) {
      // Already a stub (another archiver, or an earlier run).
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }
}
