/**
 * The archiver's decisions, pure: given a partition's state (its bounds, its newest batch, the
 * segments and batches read), its topic's configs and `now`, what archiving and retention do
 * next. No I/O: `archiver.ts` reads the state, asks these functions, and carries the steps out in
 * the crash-safe order of DESIGN.md's S3 tier. Where the next segment ends is `segment-plan.ts`.
 *
 * Retention follows Kafka: data is past total retention when its (running) max timestamp is older
 * than `retention.ms`, or when the partition would still hold at least `retention.bytes` without
 * it; past hot retention (`local.retention.ms` / `.bytes`, with `remote.storage.enable`) a closed
 * segment moves from DynamoDB to S3. Running values (max timestamp, bytes) are monotonic in offset,
 * so a segment's are those of its last batch, and sizes are subtractions.
 *
 * Every rule that depends on the clock has a "from" form: the earliest time it holds (`-Infinity`:
 * already, whatever the time; `undefined`: not before the partition changes). Without new records
 * the rule holds exactly from then on, because running timestamps and sizes are fixed and only
 * `now` moves; the boolean forms are defined through them, so the archive schedule
 * (`archive-schedule.ts`) and the decisions can never disagree about when work is due.
 */
import type { CompleteSlot, Slot } from '../log/log-item.ts';
import type { TopicConfig } from '../topics/configs.ts';
import type { LogPosition, PartitionBounds } from './tier-metadata.ts';

/** The configs the plan reads. */
export type ArchiveConfig = Pick<
  TopicConfig,
  | 'retentionMs'
  | 'retentionBytes'
  | 'remoteStorageEnable'
  | 'localRetentionMs'
  | 'localRetentionBytes'
  | 'segmentBytes'
  | 'segmentMs'
>;

/**
 * The earliest time a rule holds: `-Infinity` when it holds already, whatever the time; undefined
 * when time alone never makes it hold (only new records or other configs can).
 */
export type HoldsFrom = number | undefined;

/** The earliest of several {@link HoldsFrom} times (undefined when none is set). */
export function earliest(...times: readonly HoldsFrom[]): HoldsFrom {
  let first: HoldsFrom;
  for (const t of times) if (t !== undefined && (first === undefined || t < first)) first = t;
  return first;
}

/** Whether a rule that holds from `from` holds at `now`. */
export function holdsAt(from: HoldsFrom, now: number): boolean {
  return from !== undefined && now >= from;
}

/**
 * When data whose running max timestamp is `maxTimestamp` is older than `ms` (-1: never):
 * "older" is strictly, at whole milliseconds, so from `maxTimestamp + ms + 1` on.
 */
function olderThanFrom(maxTimestamp: number, ms: number): HoldsFrom {
  return ms >= 0 ? maxTimestamp + ms + 1 : undefined;
}

/** When a size rule that does not depend on the time holds: already, or not without new records. */
function sizeRule(holds: boolean): HoldsFrom {
  return holds ? Number.NEGATIVE_INFINITY : undefined;
}

/**
 * When data whose running max timestamp is `maxTimestamp` is past total retention, given how many
 * bytes the partition would still hold without it.
 */
export function pastRetentionFrom(
  config: ArchiveConfig,
  maxTimestamp: number,
  bytesRemaining: number,
): HoldsFrom {
  const { retentionMs, retentionBytes } = config;
  return earliest(
    olderThanFrom(maxTimestamp, retentionMs),
    sizeRule(retentionBytes >= 0 && bytesRemaining >= retentionBytes),
  );
}

/**
 * Whether data whose running max timestamp is `maxTimestamp` is past total retention, given how
 * many bytes the partition would still hold without it.
 */
export function pastRetention(
  config: ArchiveConfig,
  now: number,
  maxTimestamp: number,
  bytesRemaining: number,
): boolean {
  return holdsAt(pastRetentionFrom(config, maxTimestamp, bytesRemaining), now);
}

/**
 * When hot retention moves a segment whose running max timestamp is `maxTimestamp` to S3, given
 * how many bytes DynamoDB would still hold without it.
 */
export function dueForArchiveFrom(
  config: ArchiveConfig,
  maxTimestamp: number,
  hotBytesRemaining: number,
): HoldsFrom {
  const { remoteStorageEnable, localRetentionMs, localRetentionBytes } = config;
  if (!remoteStorageEnable) return undefined;
  return earliest(
    olderThanFrom(maxTimestamp, localRetentionMs),
    sizeRule(localRetentionBytes >= 0 && hotBytesRemaining >= localRetentionBytes),
  );
}

/**
 * Whether hot retention moves a segment whose running max timestamp is `maxTimestamp` to S3,
 * given how many bytes DynamoDB would still hold without it.
 */
export function dueForArchive(
  config: ArchiveConfig,
  now: number,
  maxTimestamp: number,
  hotBytesRemaining: number,
): boolean {
  return holdsAt(dueForArchiveFrom(config, maxTimestamp, hotBytesRemaining), now);
}

/**
 * The range whose items an earlier run archived (or expired) but did not finish replacing by
 * stubs, if any: the run's first step finishes it.
 */
export function stubRepair(
  bounds: PartitionBounds,
): { readonly from: number; readonly to: number } | undefined {
  return bounds.stubbedThrough < bounds.localLogStart.offset
    ? { from: bounds.stubbedThrough, to: bounds.localLogStart.offset }
    : undefined;
}

/** What retention does with the oldest remaining S3 segment. */
export type SegmentRetention =
  /** Below the log start already: a run moved the log start and stopped; delete its objects and item. */
  | { readonly kind: 'leftover' }
  /** Past retention: move the log start to `logStart` (the segment's end), then delete it. */
  | { readonly kind: 'expire'; readonly logStart: LogPosition }
  /** Still retained: so is every later segment; retention of S3 segments stops here. */
  | { readonly kind: 'keep' };

/**
 * Decides retention for one S3 segment, oldest first. `logStart` is the log start so far in this
 * pass; `totalBytes` the partition's running bytes through its newest batch.
 */
export function segmentRetention(
  segment: {
    readonly endOffset: number;
    readonly bytes: number;
    readonly runningMaxTimestamp: number;
    readonly runningBytes: number;
  },
  logStart: LogPosition,
  totalBytes: number,
  config: ArchiveConfig,
  now: number,
): SegmentRetention {
  if (segment.endOffset <= logStart.offset) return { kind: 'leftover' };
  if (!holdsAt(segmentExpiryFrom(segment, logStart, totalBytes, config), now)) return { kind: 'keep' };
  return { kind: 'expire', logStart: { offset: segment.endOffset, bytes: segment.runningBytes } };
}

/** When retention expires an S3 segment (one not below the log start; see {@link segmentRetention}). */
export function segmentExpiryFrom(
  segment: { readonly bytes: number; readonly runningMaxTimestamp: number },
  logStart: LogPosition,
  totalBytes: number,
  config: ArchiveConfig,
): HoldsFrom {
  const remaining = totalBytes - logStart.bytes - segment.bytes;
  return pastRetentionFrom(config, segment.runningMaxTimestamp, remaining);
}

/**
 * Whether DynamoDB holds batches before the newest one (only those can be archived or expired:
 * the newest batch never moves).
 */
export function hotBatchesBeforeTail(bounds: PartitionBounds, tail: Slot): boolean {
  return tail.offset > bounds.localLogStart.offset;
}

/**
 * A cheap necessary condition for archiving or expiring anything from the hot log now, from its
 * first batch (`first`, at the local log start) and the newest (`tail`) alone: so a run with
 * nothing to do reads one item instead of the whole open segment. Call it only when
 * {@link hotBatchesBeforeTail}. A missing or archived `first` (the bounds are stale) says yes, so
 * that the segment read finds out.
 */
export function mayHaveWork(
  bounds: PartitionBounds,
  tail: Slot,
  first: Slot | undefined,
  totalBytes: number,
  config: ArchiveConfig,
  now: number,
): boolean {
  return holdsAt(hotWorkFrom(bounds, tail, first, totalBytes, config), now);
}

/**
 * When {@link mayHaveWork} starts to hold. It is a lower bound of when the hot log's first
 * segment is due: the segment's last running max timestamp is at least its first batch's.
 */
export function hotWorkFrom(
  bounds: PartitionBounds,
  tail: Slot,
  first: Slot | undefined,
  totalBytes: number,
  config: ArchiveConfig,
): HoldsFrom {
  if (!first || first.kind === 'archived') return Number.NEGATIVE_INFINITY;
  const from = bounds.localLogStart;
  const { segmentBytes, segmentMs, remoteStorageEnable, localRetentionMs, localRetentionBytes } = config;
  const { retentionMs, retentionBytes } = config;
  const hotBytes = totalBytes - from.bytes;
  // A segment closes by size or by time, and the segment's last timestamp is ≥ the first's.
  const closable =
    hotBytes > segmentBytes || tail.runningMaxTimestamp - first.runningMaxTimestamp >= segmentMs;
  if (!closable) return undefined;
  const firstTimestamp = first.runningMaxTimestamp;
  const due = remoteStorageEnable
    ? earliest(
        olderThanFrom(firstTimestamp, localRetentionMs),
        sizeRule(localRetentionBytes >= 0 && hotBytes > localRetentionBytes),
      )
    : undefined;
  const expiring =
    bounds.logStart.offset === from.offset
      ? earliest(
          olderThanFrom(firstTimestamp, retentionMs),
          sizeRule(retentionBytes >= 0 && totalBytes - bounds.logStart.bytes > retentionBytes),
        )
      : undefined;
  return earliest(due, expiring);
}

/**
 * The offset a batch read after `slots` must start at for the hot log to be one chain from
 * `from` (a consistent read never shows a gap there; a reader that sees one stops rather than
 * guess).
 */
export function nextInChain(slots: readonly Slot[], from: number): number {
  const last = slots.at(-1);
  return last ? last.offset + last.count : from;
}

/** The position right after a run of batches (their end offset and running bytes). */
export function positionAfter(slots: readonly CompleteSlot[]): LogPosition {
  const last = slots.at(-1);
  if (!last) throw new RangeError('A segment has at least one batch');
  return { offset: last.offset + last.count, bytes: last.runningBytes };
}

/** What to do with the next closed segment of the hot log, `[from, to)`. */
export type SegmentStep =
  /**
   * Past total retention and never archived (remote storage off, or an archiver that was down):
   * move the local log start and the log start to `to` together, without an upload.
   */
  | {
      readonly kind: 'expire';
      readonly from: LogPosition;
      readonly to: LogPosition;
      readonly bytes: number;
    }
  /** Past hot retention: write the segment to S3, record it, then move the local log start to `to`. */
  | {
      readonly kind: 'archive';
      readonly from: LogPosition;
      readonly to: LogPosition;
      readonly bytes: number;
    }
  /** Neither yet: the hot log stays as it is until a later run. */
  | { readonly kind: 'keep' };

/**
 * Decides the step for `segment`, the closed segment at the local log start (from
 * `planSegment`). Batches expire in DynamoDB only while no S3 segment lies before them (the log
 * start is the local log start): retention never skips over archived data.
 */
export function planSegmentStep(
  bounds: PartitionBounds,
  segment: readonly CompleteSlot[],
  totalBytes: number,
  config: ArchiveConfig,
  now: number,
): SegmentStep {
  const from = bounds.localLogStart;
  const to = positionAfter(segment);
  const bytes = to.bytes - from.bytes;
  const rules = segmentRules(bounds, segment, totalBytes, config);
  if (holdsAt(rules.expire, now)) return { kind: 'expire', from, to, bytes };
  if (holdsAt(rules.archive, now)) return { kind: 'archive', from, to, bytes };
  return { kind: 'keep' };
}

/** When {@link planSegmentStep} stops keeping `segment` (expiring or archiving it). */
export function segmentStepFrom(
  bounds: PartitionBounds,
  segment: readonly CompleteSlot[],
  totalBytes: number,
  config: ArchiveConfig,
): HoldsFrom {
  const rules = segmentRules(bounds, segment, totalBytes, config);
  return earliest(rules.expire, rules.archive);
}

/** When the closed segment at the local log start expires, and when it is due for S3. */
function segmentRules(
  bounds: PartitionBounds,
  segment: readonly CompleteSlot[],
  totalBytes: number,
  config: ArchiveConfig,
): { readonly expire: HoldsFrom; readonly archive: HoldsFrom } {
  const from = bounds.localLogStart;
  const to = positionAfter(segment);
  const maxTimestamp = segment.at(-1)!.runningMaxTimestamp;
  const remaining = totalBytes - from.bytes - (to.bytes - from.bytes);
  return {
    // Batches expire in DynamoDB only while no S3 segment lies before them.
    expire:
      bounds.logStart.offset === from.offset ? pastRetentionFrom(config, maxTimestamp, remaining) : undefined,
    archive: dueForArchiveFrom(config, maxTimestamp, remaining),
  };
}

/** The bounds once a step's bound moved and its items were replaced by stubs. */
export function boundsAfter(
  bounds: PartitionBounds,
  step: Exclude<SegmentStep, { kind: 'keep' }>,
): PartitionBounds {
  return {
    ...bounds,
    logStart: step.kind === 'expire' ? step.to : bounds.logStart,
    localLogStart: step.to,
    stubbedThrough: step.to.offset,
  };
}

/** What the check for orphaned large-batch objects does in this run. */
export type OrphanSweep =
  /** The last check point is not provable yet: keep it, do nothing. */
  | { readonly kind: 'wait' }
  /** No check point yet: record one (this run's start and the partition's end). */
  | { readonly kind: 'record' }
  /**
   * Every large-batch object uploaded before `uploadedBefore` that still exists is an orphan:
   * delete them, then record a new check point.
   */
  | { readonly kind: 'sweep'; readonly uploadedBefore: number };

/**
 * Decides the orphan check. The last check point (time T, partition end E) proves objects
 * uploaded before T − grace unreferenced once the local log start passed E (an append lands
 * within the grace of its upload, and archiving deletes the objects of the batches it archives)
 * and the grace has passed since T. `started` is this run's start (the archiver's clock).
 */
export function planOrphanSweep(
  checkPoint: PartitionBounds['claimSweep'],
  localLogStart: number,
  started: number,
  graceMs: number,
): OrphanSweep {
  if (!checkPoint) return { kind: 'record' };
  if (localLogStart < checkPoint.end || started - checkPoint.time < graceMs) return { kind: 'wait' };
  return { kind: 'sweep', uploadedBefore: checkPoint.time - graceMs };
}

/**
 * When {@link planOrphanSweep} next sweeps without new records: the check point's grace ends, if
 * the local log start has passed its end already (otherwise only archiving, which needs new
 * records or time the other rules account for, can get it there).
 */
export function orphanSweepFrom(
  checkPoint: PartitionBounds['claimSweep'],
  localLogStart: number,
  graceMs: number,
): HoldsFrom {
  if (!checkPoint) return Number.NEGATIVE_INFINITY;
  return localLogStart < checkPoint.end ? undefined : checkPoint.time + graceMs;
}

/** When the stubs written at `now` (epoch ms) may expire: epoch seconds, `ttlSeconds` later. */
export function stubExpiry(now: number, ttlSeconds: number): number {
  return Math.floor(now / 1000) + ttlSeconds;
}

/** A log item below the stubbed bound, as the explicit expiry of stubs (MRSC) reads it. */
export interface StubView {
  /** True for an archived batch's stub. */
  readonly stub: boolean;
  /** The stub's expiry, epoch seconds (what TTL would go by); undefined when it has none. */
  readonly expiresAt: number | undefined;
}

/** Which of the stubs read oldest first are deleted now, and when the next one expires. */
export interface StubDeletion {
  /** Indexes (into the items given) of the stubs to delete. */
  readonly expired: readonly number[];
  /**
   * When the oldest stub not deleted expires (epoch ms); undefined when the items end with no such
   * stub. Set means the deletion stopped there: the later items need no look until then.
   */
  readonly nextExpiry: number | undefined;
}

/**
 * MRSC global tables have no TTL, so the archiver deletes stubs itself once their expiry passed, as
 * TTL would have (a stub keeps a writer with a long-stale view of the tail from writing below the
 * log start; by its expiry no such writer can be left). Items are read oldest first from the bottom
 * of the log. A stub's expiry is its archiving time plus the TTL, so it grows with the offset: the
 * first stub not expired yet ends the deletion, and the partition's next look is due then. Items
 * that are not stubs, or carry no expiry, are left alone, as TTL would leave them.
 */
export function planStubDeletion(items: readonly StubView[], now: number): StubDeletion {
  const expired: number[] = [];
  for (const [i, item] of items.entries()) {
    if (!item.stub || item.expiresAt === undefined) continue;
    const expiresAtMs = item.expiresAt * 1000;
    if (expiresAtMs > now) return { expired, nextExpiry: expiresAtMs };
    expired.push(i);
  }
  return { expired, nextExpiry: undefined };
}

/** The large-batch (claim check) objects of archived batches, deleted with their items. */
export function claimObjectsOf(slots: readonly Slot[]): string[] {
  return slots.flatMap((s) => (s.kind === 'complete' && s.claim ? [s.claim.key] : []));
}

/** The items still to replace by stubs (the others are stubs already). */
export function itemsToStub(slots: readonly Slot[]): Slot[] {
  return slots.filter((s) => s.kind !== 'archived');
}
