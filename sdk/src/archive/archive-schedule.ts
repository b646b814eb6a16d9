/**
 * The archive schedule, pure: which partitions an archiver run visits, and when a partition may
 * next have work. It is what makes a run over idle partitions cost (almost) nothing: instead of
 * reading every partition's bounds, newest batch and first hot batch each minute, a run reads the
 * schedule items with the topics table's one scan and visits only the partitions due.
 *
 * A partition's work can become due in three ways, and the schedule follows each:
 * - **time**: retention and hot retention by age, and the orphan check's grace. At the end of a
 *   visit {@link nextDue} computes, from what the visit saw, the earliest time any of them holds
 *   without new records — with the `…From` forms of `archive-plan.ts`, the very rules the visit
 *   decides with, so the schedule can only be early (a visit that finds nothing yet), never late.
 *   Size rules and whether a segment is closed depend on the log's contents only: without new
 *   records they stay as the visit found them.
 * - **new records**: the dispatcher's doorbell, which sees every batch written to the log, records
 *   when records came (`rung`, at most once per {@link RING_REPEAT_MS} per partition and process).
 *   A ring later than the visit's start (less the repeat time and a clock margin) makes the
 *   partition due: the visit may not have seen those records. As a backstop for a doorbell that
 *   was lost (a stream batch dropped after its retries, a stack running without a dispatcher), a
 *   run also probes each partition every `probeIntervalMs`: one read of the slot the next batch
 *   would take (the chain has no gaps: a new batch lands exactly at the end the visit saw).
 * - **other configs or settings**: the entry carries a fingerprint ({@link scheduleBasis}) of what
 *   its due time was computed from; a different one makes the partition due.
 * - on MRSC, which has no TTL, **the expiry of the oldest stub** left, which the archiver deletes
 *   itself ({@link VisitFacts.stubsExpireAt}).
 *
 * A partition without an entry (a new topic or partition, or one from before schedules) is due. A
 * visit records its entry last, after every step, so a visit that crashes leaves it due; two
 * visits racing write entries computed from states that only moved forward, so whichever lands
 * last is at worst early.
 */
import { createHash } from 'node:crypto';
import type { CompleteSlot, Slot } from '../log/log-item.ts';
import type { ArchiveScheduleEntry } from '../topics/topic-store.ts';
import {
  type ArchiveConfig,
  earliest,
  type HoldsFrom,
  hotWorkFrom,
  orphanSweepFrom,
  segmentExpiryFrom,
  segmentStepFrom,
} from './archive-plan.ts';
import type { PartitionBounds } from './tier-metadata.ts';

/**
 * The doorbell records a partition's ring at most once per this long per process: a busy
 * partition costs one small write per this period, not one per batch.
 */
export const RING_REPEAT_MS = 15_000;

/**
 * How far the clocks of the dispatcher (rings) and the archiver (visits) may be apart, with room
 * for the delay of an eventually consistent read.
 */
export const CLOCK_MARGIN_MS = 5_000;

/**
 * A ring this much before a visit started may stand for records the visit did not see: the
 * doorbell may have skipped rings for up to {@link RING_REPEAT_MS} after it, and the clocks differ.
 */
export const RING_WINDOW_MS = RING_REPEAT_MS + CLOCK_MARGIN_MS;

/** How often a scheduled run reads, for each idle partition, the slot its next batch would take. */
export const DEFAULT_PROBE_INTERVAL_MS = 3_600_000;

/**
 * Which partitions a run visits:
 * - `due`: those the schedule says are due, and every other one that got records since its last
 *   visit, found by a strongly consistent probe of one item (one read unit) per partition: a run
 *   right after a produce archives it, with or without a dispatcher;
 * - `scheduled`: those the schedule says are due, trusting the doorbell for new records and
 *   probing each partition only every `probeIntervalMs` (eventually consistent, half a unit):
 *   what the scheduled archiver does every minute;
 * - `all`: every partition, read in full, whatever the schedule says.
 */
export type ArchiveVisit = 'due' | 'scheduled' | 'all';

/** Why a partition is visited. */
export type VisitReason =
  /** The run visits every partition (`all`). */
  | 'forced'
  /** No visit recorded yet (a new topic or partition, a visit that crashed, a schedule from a deleted topic). */
  | 'unscheduled'
  /** The configs or settings changed since the last visit. */
  | 'configs'
  /** Time made work due. */
  | 'time'
  /** Records came after (or about when) the last visit started. */
  | 'rung'
  /** A probe found a batch past the end the last visit saw. */
  | 'probed';

/** What a run does with one partition. */
export type VisitDecision =
  | { readonly kind: 'visit'; readonly reason: Exclude<VisitReason, 'probed'> }
  /** Read the slot at `end`: a batch there means new records (visit), none means nothing new. */
  | { readonly kind: 'probe'; readonly end: number; readonly consistent: boolean }
  | { readonly kind: 'skip' };

/** What {@link visitDecision} weighs an entry against. */
export interface VisitContext {
  readonly mode: ArchiveVisit;
  /** The {@link scheduleBasis} of the topic's configs and the archiver's settings now. */
  readonly basis: string;
  readonly config: ArchiveConfig;
  /** The run's clock. */
  readonly now: number;
  readonly probeIntervalMs: number;
}

/**
 * Whether new records can ever give the archiver work on a topic: not when nothing is archived and
 * nothing expires (`remote.storage.enable=false` and infinite retention).
 */
export function recordsMayBringWork(config: ArchiveConfig): boolean {
  return config.remoteStorageEnable || config.retentionMs >= 0 || config.retentionBytes >= 0;
}

/**
 * A fingerprint of everything a due time is computed from: the topic's archive configs, the
 * archiver's orphan grace, and the version of these rules.
 */
export function scheduleBasis(config: ArchiveConfig, orphanGraceMs: number): string {
  const inputs = [
    'v1',
    config.retentionMs,
    config.retentionBytes,
    config.remoteStorageEnable,
    config.localRetentionMs,
    config.localRetentionBytes,
    config.segmentBytes,
    config.segmentMs,
    orphanGraceMs,
  ];
  return createHash('sha256').update(JSON.stringify(inputs)).digest('base64url').slice(0, 12);
}

/** Decides what a run does with a partition whose schedule entry is `entry` (undefined: none). */
export function visitDecision(entry: ArchiveScheduleEntry | undefined, context: VisitContext): VisitDecision {
  const { mode, basis, config, now, probeIntervalMs } = context;
  if (mode === 'all') return { kind: 'visit', reason: 'forced' };
  if (entry?.seen === undefined || entry.end === undefined) return { kind: 'visit', reason: 'unscheduled' };
  if (entry.basis !== basis) return { kind: 'visit', reason: 'configs' };
  if (entry.due !== undefined && entry.due <= now) return { kind: 'visit', reason: 'time' };
  if (!recordsMayBringWork(config)) return { kind: 'skip' };
  if (entry.rung !== undefined && entry.rung + RING_WINDOW_MS > entry.seen) {
    return { kind: 'visit', reason: 'rung' };
  }
  if (mode === 'due') return { kind: 'probe', end: entry.end, consistent: true };
  const checked = Math.max(entry.seen, entry.probed ?? entry.seen);
  return now - checked >= probeIntervalMs
    ? { kind: 'probe', end: entry.end, consistent: false }
    : { kind: 'skip' };
}

/** Where a visit's archiving of the hot log stopped. */
export type HotLogStop =
  /** DynamoDB holds nothing before the newest batch (or no batch at all): only new records bring work. */
  | { readonly kind: 'tail-only' }
  /** The first hot batch (`first`) says the hot log has no work yet ({@link hotWorkFrom}). */
  | { readonly kind: 'not-yet'; readonly first: Slot | undefined }
  /**
   * The first segment is not closed. Only new records close it, or the resolution of a pending
   * claim in it (whose deadline, if any, is `pendingDeadline`).
   */
  | { readonly kind: 'open'; readonly pendingDeadline: number | undefined }
  /** The first segment is closed but neither past retention nor due for S3 yet. */
  | { readonly kind: 'kept'; readonly segment: readonly CompleteSlot[] }
  /** Work may be left: the run's segment limit, or a view another archiver made stale. */
  | { readonly kind: 'unfinished' };

/** What a visit saw, as it left the partition. */
export interface VisitFacts {
  /** When the visit started (before it read anything). */
  readonly started: number;
  /** The bounds after the visit, with the orphan check point it left. */
  readonly bounds: PartitionBounds;
  /** The newest batch, read by the visit. */
  readonly tail: Slot | undefined;
  /** The oldest S3 segment retention kept (or the visit archived), if any. */
  readonly oldestSegment: { readonly bytes: number; readonly runningMaxTimestamp: number } | undefined;
  readonly hotLog: HotLogStop;
  /**
   * MRSC only (no TTL: the archiver deletes expired stubs itself): when the oldest stub the visit
   * left expires (epoch ms). Absent elsewhere, and when no stub is left.
   */
  readonly stubsExpireAt?: number;
}

/**
 * When the partition may next have work without new records (epoch ms, at the earliest the
 * visit's start: due at once), or undefined when only new records (or other configs) can bring
 * any. It may be early (a visit that finds nothing yet, and schedules again); never late.
 */
export function nextDue(facts: VisitFacts, config: ArchiveConfig, orphanGraceMs: number): number | undefined {
  const { bounds, tail, oldestSegment } = facts;
  const totalBytes = tail?.runningBytes ?? 0;
  const from = earliest(
    oldestSegment ? segmentExpiryFrom(oldestSegment, bounds.logStart, totalBytes, config) : undefined,
    hotLogFrom(facts, totalBytes, config),
    orphanSweepFrom(bounds.claimSweep, bounds.localLogStart.offset, orphanGraceMs),
    facts.stubsExpireAt,
  );
  return from === undefined ? undefined : Math.max(from, facts.started);
}

function hotLogFrom(facts: VisitFacts, totalBytes: number, config: ArchiveConfig): HoldsFrom {
  const { hotLog, bounds, tail } = facts;
  switch (hotLog.kind) {
    case 'tail-only':
      return undefined;
    case 'not-yet':
      return tail ? hotWorkFrom(bounds, tail, hotLog.first, totalBytes, config) : undefined;
    case 'open': {
      // A claim resolves by its deadline (its writer, or a reader voiding it), and that write rings
      // the doorbell; the look after the deadline covers a lost ring. One past its deadline already
      // waits for a reader, whose void rings.
      const after =
        hotLog.pendingDeadline === undefined ? undefined : hotLog.pendingDeadline + CLOCK_MARGIN_MS;
      return after !== undefined && after > facts.started ? after : undefined;
    }
    case 'kept':
      return segmentStepFrom(bounds, hotLog.segment, totalBytes, config);
    case 'unfinished':
      return Number.NEGATIVE_INFINITY;
  }
}
