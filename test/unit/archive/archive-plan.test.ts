/**
 * The archiver's decisions as tables of (partition state, configs, now) → decision: what
 * retention deletes and where the log start moves, when the hot log may have work, what a closed
 * segment's step is (expire, archive, keep) and the bounds after it, when orphaned large-batch
 * objects are provable, and what cleanup touches.
 */
import { describe, expect, it } from 'vitest';
import {
  type ArchiveConfig,
  boundsAfter,
  claimObjectsOf,
  dueForArchive,
  hotBatchesBeforeTail,
  itemsToStub,
  mayHaveWork,
  nextInChain,
  type OrphanSweep,
  pastRetention,
  planOrphanSweep,
  planSegmentStep,
  positionAfter,
  type SegmentRetention,
  type SegmentStep,
  segmentRetention,
  stubExpiry,
  stubRepair,
} from '../../../sdk/src/archive/archive-plan.ts';
import type { PartitionBounds } from '../../../sdk/src/archive/tier-metadata.ts';
import type { CompleteSlot, Slot } from '../../../sdk/src/log/log-item.ts';

const NOW = 10_000_000;
const MIN = 60_000;

/** Keeps everything, archives nothing: each case turns on what it tests. */
const KEEP_ALL: ArchiveConfig = {
  retentionMs: -1,
  retentionBytes: -1,
  remoteStorageEnable: true,
  localRetentionMs: -1,
  localRetentionBytes: -1,
  segmentBytes: 1000,
  segmentMs: 60 * MIN,
};
const config = (over: Partial<ArchiveConfig>): ArchiveConfig => ({ ...KEEP_ALL, ...over });

const bounds = (over: Partial<PartitionBounds> = {}): PartitionBounds => ({
  logStart: { offset: 0, bytes: 0 },
  localLogStart: { offset: 0, bytes: 0 },
  stubbedThrough: 0,
  claimSweep: undefined,
  ...over,
});

/** A complete batch of `count` offsets and `bytes` bytes at `offset`, after `before` running bytes. */
function batch(
  offset: number,
  mts: number,
  { count = 1, bytes = 100, before = offset * 100, claim = false } = {},
): CompleteSlot {
  return {
    kind: 'complete',
    offset,
    count,
    maxTimestamp: mts,
    runningMaxTimestamp: mts,
    runningBytes: before + bytes,
    producerId: '-1',
    sequence: -1,
    body: claim ? new Uint8Array(0) : new Uint8Array(bytes),
    claim: claim ? { key: `claims/${offset}.batch`, size: bytes } : undefined,
    voided: false,
  };
}
const stub = (offset: number): Slot => ({ ...batch(offset, 0), kind: 'archived', voided: false }) as Slot;

describe('pastRetention', () => {
  const cases: [string, Partial<ArchiveConfig>, number, number, boolean][] = [
    ['nothing expires when both retentions are off', {}, 0, 1e12, false],
    ['older than retention.ms', { retentionMs: 60 * MIN }, NOW - 60 * MIN - 1, 0, true],
    ['exactly retention.ms old is kept', { retentionMs: 60 * MIN }, NOW - 60 * MIN, 0, false],
    ['newer than retention.ms', { retentionMs: 60 * MIN }, NOW - MIN, 0, false],
    ['what remains without it still reaches retention.bytes', { retentionBytes: 500 }, NOW, 500, true],
    ['what remains would fall below retention.bytes', { retentionBytes: 500 }, NOW, 499, false],
    ['either rule suffices', { retentionMs: 60 * MIN, retentionBytes: 500 }, NOW - 61 * MIN, 0, true],
  ];
  it.each(cases)('%s', (_, over, maxTimestamp, remaining, expected) => {
    expect(pastRetention(config(over), NOW, maxTimestamp, remaining)).toBe(expected);
  });
});

describe('dueForArchive', () => {
  const cases: [string, Partial<ArchiveConfig>, number, number, boolean][] = [
    ['never with remote storage off', { remoteStorageEnable: false, localRetentionMs: 0 }, 0, 1e9, false],
    ['older than local.retention.ms', { localRetentionMs: 10 * MIN }, NOW - 10 * MIN - 1, 0, true],
    ['exactly local.retention.ms old stays', { localRetentionMs: 10 * MIN }, NOW - 10 * MIN, 0, false],
    [
      'DynamoDB would still hold local.retention.bytes without it',
      { localRetentionBytes: 300 },
      NOW,
      300,
      true,
    ],
    ['DynamoDB would hold less', { localRetentionBytes: 300 }, NOW, 299, false],
    ['hot retention off keeps everything hot', {}, 0, 1e9, false],
  ];
  it.each(cases)('%s', (_, over, maxTimestamp, remaining, expected) => {
    expect(dueForArchive(config(over), NOW, maxTimestamp, remaining)).toBe(expected);
  });
});

describe('stubRepair', () => {
  it('finishes the stubs of a run that moved the local log start and stopped', () => {
    expect(stubRepair(bounds({ localLogStart: { offset: 40, bytes: 4000 }, stubbedThrough: 25 }))).toEqual({
      from: 25,
      to: 40,
    });
  });
  it('has nothing to do once every archived item is a stub', () => {
    expect(
      stubRepair(bounds({ localLogStart: { offset: 40, bytes: 4000 }, stubbedThrough: 40 })),
    ).toBeUndefined();
    expect(stubRepair(bounds())).toBeUndefined();
  });
});

describe('segmentRetention', () => {
  // Segments [0, 10) and [10, 20), 1000 bytes each; the partition holds 5000 bytes in all.
  const first = { endOffset: 10, bytes: 1000, runningMaxTimestamp: NOW - 120 * MIN, runningBytes: 1000 };
  const second = { endOffset: 20, bytes: 1000, runningMaxTimestamp: NOW - 30 * MIN, runningBytes: 2000 };
  const start = { offset: 0, bytes: 0 };
  const cases: [
    string,
    typeof first,
    { offset: number; bytes: number },
    Partial<ArchiveConfig>,
    SegmentRetention,
  ][] = [
    [
      'a segment below the log start is a leftover to delete',
      first,
      { offset: 10, bytes: 1000 },
      {},
      { kind: 'leftover' },
    ],
    [
      'past retention.ms: the log start moves to its end',
      first,
      start,
      { retentionMs: 60 * MIN },
      { kind: 'expire', logStart: { offset: 10, bytes: 1000 } },
    ],
    [
      'within retention.ms: kept (and so is every later one)',
      second,
      { offset: 10, bytes: 1000 },
      { retentionMs: 60 * MIN },
      { kind: 'keep' },
    ],
    [
      'retention.bytes counts from the current log start',
      second,
      { offset: 10, bytes: 1000 },
      { retentionBytes: 3000 },
      { kind: 'expire', logStart: { offset: 20, bytes: 2000 } },
    ],
    [
      'retention.bytes not reached without it',
      second,
      { offset: 10, bytes: 1000 },
      { retentionBytes: 3001 },
      { kind: 'keep' },
    ],
    ['no retention keeps every segment', first, start, {}, { kind: 'keep' }],
  ];
  it.each(cases)('%s', (_, segment, logStart, over, expected) => {
    expect(segmentRetention(segment, logStart, 5000, config(over), NOW)).toEqual(expected);
  });
});

describe('hotBatchesBeforeTail', () => {
  it('is false when the newest batch is the first in DynamoDB (the newest batch never moves)', () => {
    expect(hotBatchesBeforeTail(bounds({ localLogStart: { offset: 5, bytes: 500 } }), batch(5, NOW))).toBe(
      false,
    );
    expect(hotBatchesBeforeTail(bounds({ localLogStart: { offset: 5, bytes: 500 } }), batch(6, NOW))).toBe(
      true,
    );
  });
});

describe('mayHaveWork', () => {
  // Hot log: first batch at 0, tail at 20; 2100 bytes in all.
  const tail = batch(20, NOW - MIN, { before: 2000 });
  const old = batch(0, NOW - 180 * MIN);
  const young = batch(0, NOW - 5 * MIN);
  const cases: [string, Partial<ArchiveConfig>, Slot | undefined, Partial<PartitionBounds>, boolean][] = [
    ['an unknown first batch: let the segment read find out', {}, undefined, {}, true],
    ['a stub at the local log start (stale bounds): let the segment read find out', {}, stub(0), {}, true],
    [
      'no segment can close yet (small, short)',
      { segmentBytes: 5000, segmentMs: 300 * MIN, localRetentionMs: 0 },
      old,
      {},
      false,
    ],
    ['closable by size and past hot retention', { localRetentionMs: 60 * MIN }, old, {}, true],
    [
      'closable by time and past hot retention',
      { segmentBytes: 5000, segmentMs: MIN, localRetentionMs: 60 * MIN },
      old,
      {},
      true,
    ],
    ['closable but young', { localRetentionMs: 60 * MIN }, young, {}, false],
    ['closable, hot bytes over local.retention.bytes', { localRetentionBytes: 2000 }, young, {}, true],
    [
      'closable, remote storage off, within retention',
      { remoteStorageEnable: false, localRetentionMs: 0 },
      old,
      {},
      false,
    ],
    [
      'closable, remote storage off, past retention.ms',
      { remoteStorageEnable: false, retentionMs: 60 * MIN },
      old,
      {},
      true,
    ],
    [
      'closable, remote storage off, over retention.bytes',
      { remoteStorageEnable: false, retentionBytes: 2000 },
      young,
      {},
      true,
    ],
  ];
  it.each(cases)('%s', (_, over, first, b, expected) => {
    expect(mayHaveWork(bounds(b), tail, first, 2100, config(over), NOW)).toBe(expected);
  });

  it('does not expire hot batches while the log start is below the local log start', () => {
    const b = bounds({ logStart: { offset: 0, bytes: 0 }, localLogStart: { offset: 10, bytes: 1000 } });
    const first = batch(10, NOW - 180 * MIN);
    expect(
      mayHaveWork(b, tail, first, 2100, config({ remoteStorageEnable: false, retentionMs: 60 * MIN }), NOW),
    ).toBe(false);
  });
});

describe('planSegmentStep', () => {
  // The closed segment [0, 3), 300 bytes, newest record NOW - 90 min; the partition holds 1000 bytes.
  const segment = [batch(0, NOW - 100 * MIN), batch(1, NOW - 95 * MIN), batch(2, NOW - 90 * MIN)];
  const from = { offset: 0, bytes: 0 };
  const to = { offset: 3, bytes: 300 };
  const cases: [string, Partial<ArchiveConfig>, Partial<PartitionBounds>, SegmentStep][] = [
    [
      'past hot retention: archive',
      { localRetentionMs: 60 * MIN },
      {},
      { kind: 'archive', from, to, bytes: 300 },
    ],
    ['within hot retention: keep', { localRetentionMs: 120 * MIN }, {}, { kind: 'keep' }],
    [
      'hot bytes: archive while 700 ≥ local.retention.bytes',
      { localRetentionBytes: 700 },
      {},
      { kind: 'archive', from, to, bytes: 300 },
    ],
    ['hot bytes: keep while 700 < local.retention.bytes', { localRetentionBytes: 701 }, {}, { kind: 'keep' }],
    [
      'past total retention and never archived: expire without upload',
      { retentionMs: 60 * MIN, localRetentionMs: 60 * MIN },
      {},
      { kind: 'expire', from, to, bytes: 300 },
    ],
    [
      'remote storage off, past retention: expire',
      { remoteStorageEnable: false, retentionMs: 60 * MIN },
      {},
      { kind: 'expire', from, to, bytes: 300 },
    ],
    [
      'remote storage off, within retention: keep',
      { remoteStorageEnable: false, localRetentionMs: 0 },
      {},
      { kind: 'keep' },
    ],
  ];
  it.each(cases)('%s', (_, over, b, expected) => {
    expect(planSegmentStep(bounds(b), segment, 1000, config(over), NOW)).toEqual(expected);
  });

  it('archives rather than expires past S3 segments still below it (the log start is behind)', () => {
    const shifted = [batch(10, NOW - 100 * MIN), batch(11, NOW - 90 * MIN)];
    const b = bounds({ logStart: { offset: 0, bytes: 0 }, localLogStart: { offset: 10, bytes: 1000 } });
    expect(
      planSegmentStep(b, shifted, 3000, config({ retentionMs: 60 * MIN, localRetentionMs: 30 * MIN }), NOW),
    ).toEqual({
      kind: 'archive',
      from: { offset: 10, bytes: 1000 },
      to: { offset: 12, bytes: 1200 },
      bytes: 200,
    });
  });
});

describe('boundsAfter', () => {
  const before = bounds({
    logStart: { offset: 0, bytes: 0 },
    localLogStart: { offset: 0, bytes: 0 },
    claimSweep: { time: 5, end: 7 },
  });
  const step = { from: { offset: 0, bytes: 0 }, to: { offset: 3, bytes: 300 }, bytes: 300 };
  it('archiving moves the local log start and the stubs, not the log start', () => {
    expect(boundsAfter(before, { kind: 'archive', ...step })).toEqual({
      logStart: { offset: 0, bytes: 0 },
      localLogStart: { offset: 3, bytes: 300 },
      stubbedThrough: 3,
      claimSweep: { time: 5, end: 7 },
    });
  });
  it('expiring moves the log start with them', () => {
    expect(boundsAfter(before, { kind: 'expire', ...step })).toEqual({
      logStart: { offset: 3, bytes: 300 },
      localLogStart: { offset: 3, bytes: 300 },
      stubbedThrough: 3,
      claimSweep: { time: 5, end: 7 },
    });
  });
});

describe('planOrphanSweep', () => {
  const GRACE = 60 * MIN;
  const cases: [string, PartitionBounds['claimSweep'], number, number, OrphanSweep][] = [
    ['the first run records a check point', undefined, 0, NOW, { kind: 'record' }],
    [
      'waits while the local log start is below the end then',
      { time: NOW - 2 * GRACE, end: 50 },
      49,
      NOW,
      { kind: 'wait' },
    ],
    [
      'waits for the grace since the check point',
      { time: NOW - GRACE + 1, end: 50 },
      50,
      NOW,
      { kind: 'wait' },
    ],
    [
      'sweeps objects uploaded before the check point less the grace',
      { time: NOW - GRACE, end: 50 },
      50,
      NOW,
      { kind: 'sweep', uploadedBefore: NOW - 2 * GRACE },
    ],
  ];
  it.each(cases)('%s', (_, checkPoint, localLogStart, started, expected) => {
    expect(planOrphanSweep(checkPoint, localLogStart, started, GRACE)).toEqual(expected);
  });
});

describe('cleanup of archived ranges', () => {
  it('stubs expire ttlSeconds after now, in epoch seconds', () => {
    expect(stubExpiry(1_700_000_000_999, 86_400)).toBe(1_700_000_000 + 86_400);
  });
  it('deletes the large-batch objects of complete batches and stubs only what is not a stub', () => {
    const slots = [batch(0, 0), batch(1, 0, { claim: true }), stub(2), batch(3, 0, { claim: true })];
    expect(claimObjectsOf(slots)).toEqual(['claims/1.batch', 'claims/3.batch']);
    expect(itemsToStub(slots).map((s) => s.offset)).toEqual([0, 1, 3]);
  });
});

describe('chain positions', () => {
  it('the next batch of a chain starts where the last ended, the first at `from`', () => {
    expect(nextInChain([], 40)).toBe(40);
    expect(nextInChain([batch(40, 0, { count: 3 })], 40)).toBe(43);
  });
  it('a segment ends after its last batch, with that batch running bytes', () => {
    expect(positionAfter([batch(4, 0, { count: 2 }), batch(6, 0, { count: 5, before: 777 })])).toEqual({
      offset: 11,
      bytes: 877,
    });
  });
});
