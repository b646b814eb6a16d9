/**
 * The archive schedule as tables: when each archiving and retention rule next holds without new
 * records (the `…From` forms, checked against the boolean rules they define), when a visit says a
 * partition may next have work (`nextDue`), and what a run does with a partition given its
 * schedule entry (`visitDecision`).
 */
import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  type ArchiveConfig,
  dueForArchive,
  dueForArchiveFrom,
  holdsAt,
  hotWorkFrom,
  mayHaveWork,
  orphanSweepFrom,
  pastRetention,
  pastRetentionFrom,
  planOrphanSweep,
  planSegmentStep,
  segmentExpiryFrom,
  segmentRetention,
  segmentStepFrom,
} from '../../../sdk/src/archive/archive-plan.ts';
import {
  CLOCK_MARGIN_MS,
  type HotLogStop,
  nextDue,
  RING_WINDOW_MS,
  recordsMayBringWork,
  scheduleBasis,
  type VisitContext,
  type VisitDecision,
  type VisitFacts,
  visitDecision,
} from '../../../sdk/src/archive/archive-schedule.ts';
import type { PartitionBounds } from '../../../sdk/src/archive/tier-metadata.ts';
import type { ArchiveRunOptions, ArchiveVisit } from '../../../sdk/src/index.ts';
import { archiveScheduleKey, parseArchiveScheduleKey } from '../../../sdk/src/keys.ts';
import type { CompleteSlot, PendingSlot, Slot } from '../../../sdk/src/log/log-item.ts';
import type { ArchiveScheduleEntry } from '../../../sdk/src/topics/topic-store.ts';

const NOW = 10_000_000_000;
const MIN = 60_000;
const HOUR = 60 * MIN;
const GRACE = HOUR;

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
const config = (over: Partial<ArchiveConfig> = {}): ArchiveConfig => ({ ...KEEP_ALL, ...over });

const bounds = (over: Partial<PartitionBounds> = {}): PartitionBounds => ({
  logStart: { offset: 0, bytes: 0 },
  localLogStart: { offset: 0, bytes: 0 },
  stubbedThrough: 0,
  claimSweep: undefined,
  ...over,
});

/** A complete batch of one offset and `bytes` bytes at `offset`, after `before` running bytes. */
function batch(offset: number, mts: number, { bytes = 100, before = offset * 100 } = {}): CompleteSlot {
  return {
    kind: 'complete',
    offset,
    count: 1,
    maxTimestamp: mts,
    runningMaxTimestamp: mts,
    runningBytes: before + bytes,
    producerId: '-1',
    sequence: -1,
    body: new Uint8Array(bytes),
    claim: undefined,
    voided: false,
  };
}

/** The times around `from` at which a rule is checked against its `…From` form. */
const around = (from: number) => [from - 1, from, from + 1];

describe('the "from" forms agree with the rules they define', () => {
  const mts = NOW - 3 * HOUR;
  const configs: [string, Partial<ArchiveConfig>][] = [
    ['retention.ms', { retentionMs: HOUR }],
    ['retention.bytes', { retentionBytes: 500 }],
    ['both retentions', { retentionMs: 5 * HOUR, retentionBytes: 5_000 }],
    ['local.retention.ms', { localRetentionMs: 30 * MIN }],
    ['local.retention.bytes', { localRetentionBytes: 400 }],
    ['remote storage off', { remoteStorageEnable: false, localRetentionMs: 0 }],
    ['nothing set', {}],
  ];
  it.each(configs)('%s', (_, over) => {
    const c = config(over);
    for (const remaining of [0, 400, 499, 500, 10_000]) {
      const expiry = pastRetentionFrom(c, mts, remaining);
      const archive = dueForArchiveFrom(c, mts, remaining);
      for (const now of [...around(expiry ?? NOW), ...around(archive ?? NOW), NOW]) {
        expect(pastRetention(c, now, mts, remaining), `retention at ${now}, ${remaining} B`).toBe(
          holdsAt(expiry, now),
        );
        expect(dueForArchive(c, now, mts, remaining), `archive at ${now}, ${remaining} B`).toBe(
          holdsAt(archive, now),
        );
      }
    }
  });

  const cases: [string, Partial<ArchiveConfig>, number, number | undefined][] = [
    ['never without a retention', {}, 10_000, undefined],
    ['just past retention.ms: strictly older', { retentionMs: HOUR }, 0, mts + HOUR + 1],
    ['retention.bytes reached: now, whatever the time', { retentionBytes: 500 }, 500, -Infinity],
    ['retention.bytes not reached: never without new records', { retentionBytes: 500 }, 499, undefined],
    ['the earlier of the two', { retentionMs: HOUR, retentionBytes: 500 }, 600, -Infinity],
  ];
  it.each(cases)('pastRetentionFrom: %s', (_, over, remaining, expected) => {
    expect(pastRetentionFrom(config(over), mts, remaining)).toBe(expected);
  });

  it('dueForArchiveFrom: never with remote storage off, else local retention', () => {
    expect(dueForArchiveFrom(config({ remoteStorageEnable: false, localRetentionMs: 0 }), mts, 0)).toBe(
      undefined,
    );
    expect(dueForArchiveFrom(config({ localRetentionMs: 30 * MIN }), mts, 0)).toBe(mts + 30 * MIN + 1);
    expect(dueForArchiveFrom(config({ localRetentionBytes: 100 }), mts, 100)).toBe(-Infinity);
  });

  it('segmentExpiryFrom agrees with segmentRetention', () => {
    const segment = { baseOffset: 0, endOffset: 5, bytes: 500, runningMaxTimestamp: mts, runningBytes: 500 };
    const c = config({ retentionMs: HOUR });
    const from = segmentExpiryFrom(segment, { offset: 0, bytes: 0 }, 2_000, c)!;
    expect(from).toBe(mts + HOUR + 1);
    for (const now of around(from)) {
      expect(segmentRetention(segment, { offset: 0, bytes: 0 }, 2_000, c, now).kind !== 'keep').toBe(
        holdsAt(from, now),
      );
    }
  });

  it('hotWorkFrom agrees with mayHaveWork', () => {
    const tail = batch(20, NOW - MIN, { before: 2000 });
    const firsts: (Slot | undefined)[] = [undefined, batch(0, NOW - 3 * HOUR), batch(0, NOW - 5 * MIN)];
    const overs: Partial<ArchiveConfig>[] = [
      { localRetentionMs: HOUR },
      { localRetentionBytes: 2000 },
      { remoteStorageEnable: false, retentionMs: HOUR },
      { segmentBytes: 5000, segmentMs: 300 * MIN, localRetentionMs: 0 },
      { retentionMs: 4 * HOUR, localRetentionMs: 2 * HOUR },
    ];
    for (const over of overs) {
      for (const first of firsts) {
        const from = hotWorkFrom(bounds(), tail, first, 2100, config(over));
        for (const now of [...around(from === undefined || !Number.isFinite(from) ? NOW : from), NOW]) {
          expect(mayHaveWork(bounds(), tail, first, 2100, config(over), now)).toBe(holdsAt(from, now));
        }
      }
    }
  });

  it('segmentStepFrom agrees with planSegmentStep', () => {
    // The closed segment [10, 13) at the local log start, with or without S3 segments before it.
    const segment = [batch(10, NOW - 100 * MIN), batch(11, NOW - 95 * MIN), batch(12, NOW - 90 * MIN)];
    const localLogStart = { offset: 10, bytes: 1000 };
    const overs: Partial<ArchiveConfig>[] = [
      { localRetentionMs: 2 * HOUR },
      { retentionMs: 3 * HOUR, localRetentionMs: 4 * HOUR },
      { localRetentionBytes: 700 },
      { remoteStorageEnable: false, retentionMs: 2 * HOUR },
      { remoteStorageEnable: false, retentionBytes: 1500 },
    ];
    for (const over of overs) {
      for (const b of [
        bounds({ localLogStart, logStart: localLogStart }),
        bounds({ localLogStart, logStart: { offset: 0, bytes: 0 } }),
      ]) {
        const from = segmentStepFrom(b, segment, 2000, config(over));
        for (const now of [...around(from === undefined || !Number.isFinite(from) ? NOW : from), NOW]) {
          expect(planSegmentStep(b, segment, 2000, config(over), now).kind !== 'keep').toBe(
            holdsAt(from, now),
          );
        }
      }
    }
  });

  it('orphanSweepFrom agrees with planOrphanSweep', () => {
    const cases: [PartitionBounds['claimSweep'], number][] = [
      [undefined, 0],
      [{ time: NOW - 10 * MIN, end: 40 }, 40],
      [{ time: NOW - 10 * MIN, end: 40 }, 39],
      [{ time: NOW - 2 * HOUR, end: 0 }, 0],
    ];
    for (const [checkPoint, localLogStart] of cases) {
      const from = orphanSweepFrom(checkPoint, localLogStart, GRACE);
      for (const now of [...around(from === undefined || !Number.isFinite(from) ? NOW : from), NOW]) {
        expect(planOrphanSweep(checkPoint, localLogStart, now, GRACE).kind !== 'wait').toBe(
          holdsAt(from, now),
        );
      }
    }
  });
});

describe('nextDue', () => {
  const started = NOW;
  const tail = batch(20, NOW - MIN, { before: 2000 });
  /** The check point a visit leaves: its start and the end it saw (the tail's end). */
  const leftCheckPoint = { time: started, end: 21 };
  const facts = (over: Partial<VisitFacts> & { hotLog: HotLogStop }): VisitFacts => ({
    started,
    bounds: bounds({ claimSweep: leftCheckPoint }),
    tail,
    oldestSegment: undefined,
    ...over,
  });
  const pending: PendingSlot = { ...batch(5, NOW - 2 * MIN), kind: 'pending', deadline: NOW + 30_000 };
  const kept = [batch(0, NOW - 100 * MIN), batch(1, NOW - 90 * MIN)];
  const cases: [string, VisitFacts, Partial<ArchiveConfig>, number | undefined][] = [
    [
      'only the newest batch is hot, nothing in S3: only new records bring work',
      facts({ hotLog: { kind: 'tail-only' } }),
      { localRetentionMs: 0, retentionMs: HOUR },
      undefined,
    ],
    [
      'an empty partition: the orphan check after its grace',
      facts({
        tail: undefined,
        hotLog: { kind: 'tail-only' },
        bounds: bounds({ claimSweep: { time: started, end: 0 } }),
      }),
      { localRetentionMs: 0 },
      started + GRACE,
    ],
    [
      'a closed segment kept: when it is due for S3 (its newest record, not its first)',
      facts({ hotLog: { kind: 'kept', segment: kept } }),
      { localRetentionMs: 2 * HOUR },
      NOW - 90 * MIN + 2 * HOUR + 1,
    ],
    [
      'a closed segment kept, no S3 before it: the earlier of expiry and archiving',
      facts({ hotLog: { kind: 'kept', segment: kept } }),
      { retentionMs: 3 * HOUR, localRetentionMs: 4 * HOUR },
      NOW - 90 * MIN + 3 * HOUR + 1,
    ],
    [
      'the first hot batch is young: a look when it could be due (a lower bound)',
      facts({ hotLog: { kind: 'not-yet', first: batch(0, NOW - 5 * MIN) } }),
      { localRetentionMs: HOUR },
      NOW - 5 * MIN + HOUR + 1,
    ],
    [
      'no segment can close: only new records bring work',
      facts({ hotLog: { kind: 'not-yet', first: batch(0, NOW - 5 * MIN) } }),
      { localRetentionMs: 0, segmentBytes: 1_000_000 },
      undefined,
    ],
    [
      'an open segment with a pending claim: a look after its deadline',
      facts({ hotLog: { kind: 'open', pendingDeadline: pending.deadline } }),
      { localRetentionMs: 0 },
      pending.deadline + CLOCK_MARGIN_MS,
    ],
    [
      'an open segment whose claim is past its deadline: its void rings',
      facts({ hotLog: { kind: 'open', pendingDeadline: NOW - MIN } }),
      { localRetentionMs: 0 },
      undefined,
    ],
    [
      'work left (segment limit, another archiver): due at once',
      facts({ hotLog: { kind: 'unfinished' } }),
      {},
      started,
    ],
    [
      'the oldest S3 segment: when it passes retention.ms',
      facts({
        hotLog: { kind: 'tail-only' },
        bounds: bounds({ localLogStart: { offset: 20, bytes: 2000 }, claimSweep: leftCheckPoint }),
        oldestSegment: { bytes: 500, runningMaxTimestamp: NOW - 2 * HOUR },
      }),
      { retentionMs: 24 * HOUR },
      NOW - 2 * HOUR + 24 * HOUR + 1,
    ],
    [
      'the earliest of every rule',
      facts({
        hotLog: { kind: 'kept', segment: kept },
        bounds: bounds({
          logStart: { offset: 0, bytes: 0 },
          localLogStart: { offset: 0, bytes: 0 },
          claimSweep: { time: NOW - 50 * MIN, end: 0 },
        }),
      }),
      { localRetentionMs: 2 * HOUR },
      NOW - 50 * MIN + GRACE,
    ],
    [
      'a rule that holds already: due at the visit start, never before it',
      facts({ hotLog: { kind: 'kept', segment: kept } }),
      { localRetentionMs: 0 },
      started,
    ],
  ];
  it.each(cases)('%s', (_, f, over, expected) => {
    expect(nextDue(f, config(over), GRACE)).toBe(expected);
  });
});

describe('visitDecision', () => {
  const basis = scheduleBasis(KEEP_ALL, GRACE);
  const context = (over: Partial<VisitContext> = {}): VisitContext => ({
    mode: 'scheduled',
    basis,
    config: KEEP_ALL,
    now: NOW,
    probeIntervalMs: HOUR,
    ...over,
  });
  const ref = { topic: 'orders', incarnation: 'abc', partition: 3 };
  const entry = (over: Partial<ArchiveScheduleEntry> = {}): ArchiveScheduleEntry => ({
    key: archiveScheduleKey(ref),
    ref,
    due: undefined,
    seen: NOW - 10 * MIN,
    end: 42,
    basis,
    probed: undefined,
    rung: undefined,
    ...over,
  });
  const never = config({ remoteStorageEnable: false });
  const cases: [string, ArchiveScheduleEntry | undefined, Partial<VisitContext>, VisitDecision][] = [
    ['no entry: a new topic or partition', undefined, {}, { kind: 'visit', reason: 'unscheduled' }],
    [
      'only a ring, never visited',
      entry({ seen: undefined, end: undefined, rung: NOW - HOUR }),
      {},
      { kind: 'visit', reason: 'unscheduled' },
    ],
    ['other configs', entry({ basis: 'other' }), {}, { kind: 'visit', reason: 'configs' }],
    ['due by time', entry({ due: NOW }), {}, { kind: 'visit', reason: 'time' }],
    ['due later', entry({ due: NOW + 1 }), {}, { kind: 'skip' }],
    ['rung after the visit started', entry({ rung: NOW - 5 * MIN }), {}, { kind: 'visit', reason: 'rung' }],
    [
      'rung just before the visit started: the doorbell may have skipped later rings',
      entry({ rung: NOW - 10 * MIN - RING_WINDOW_MS + 1 }),
      {},
      { kind: 'visit', reason: 'rung' },
    ],
    ['rung well before the visit', entry({ rung: NOW - 10 * MIN - RING_WINDOW_MS }), {}, { kind: 'skip' }],
    [
      'visit and probe within the probe interval',
      entry({ seen: NOW - 2 * HOUR, probed: NOW - 30 * MIN }),
      {},
      { kind: 'skip' },
    ],
    [
      'the probe interval passed since the visit',
      entry({ seen: NOW - HOUR }),
      {},
      { kind: 'probe', end: 42, consistent: false },
    ],
    [
      'the probe interval passed since the last probe',
      entry({ seen: NOW - 3 * HOUR, probed: NOW - HOUR }),
      {},
      { kind: 'probe', end: 42, consistent: false },
    ],
    [
      "a user's run probes every partition with nothing scheduled, consistently",
      entry(),
      { mode: 'due' },
      { kind: 'probe', end: 42, consistent: true },
    ],
    [
      "a user's run still visits what is due",
      entry({ due: NOW - 1 }),
      { mode: 'due' },
      { kind: 'visit', reason: 'time' },
    ],
    [
      'a forced run visits everything',
      entry({ due: NOW + HOUR }),
      { mode: 'all' },
      { kind: 'visit', reason: 'forced' },
    ],
    [
      'records never bring work (no archiving, infinite retention): rings are ignored',
      entry({ rung: NOW, basis: scheduleBasis(never, GRACE) }),
      { config: never, basis: scheduleBasis(never, GRACE), mode: 'due' },
      { kind: 'skip' },
    ],
    [
      'records never bring work, but the orphan check is due',
      entry({ due: NOW - 1, basis: scheduleBasis(never, GRACE) }),
      { config: never, basis: scheduleBasis(never, GRACE) },
      { kind: 'visit', reason: 'time' },
    ],
  ];
  it.each(cases)('%s', (_, e, over, expected) => {
    expect(visitDecision(e, context(over))).toEqual(expected);
  });
});

describe('scheduleBasis', () => {
  it('changes with every config the due time depends on, and with the orphan grace', () => {
    const changed: Partial<ArchiveConfig>[] = [
      { retentionMs: 1 },
      { retentionBytes: 1 },
      { remoteStorageEnable: false },
      { localRetentionMs: 1 },
      { localRetentionBytes: 1 },
      { segmentBytes: 2000 },
      { segmentMs: 1 },
    ];
    const base = scheduleBasis(KEEP_ALL, GRACE);
    expect(scheduleBasis({ ...KEEP_ALL }, GRACE)).toBe(base);
    for (const over of changed)
      expect(scheduleBasis(config(over), GRACE), JSON.stringify(over)).not.toBe(base);
    expect(scheduleBasis(KEEP_ALL, GRACE + 1)).not.toBe(base);
  });
});

describe('recordsMayBringWork', () => {
  it('is false only without archiving and with infinite retention', () => {
    expect(recordsMayBringWork(config({ remoteStorageEnable: false }))).toBe(false);
    expect(recordsMayBringWork(config())).toBe(true);
    expect(recordsMayBringWork(config({ remoteStorageEnable: false, retentionMs: 0 }))).toBe(true);
    expect(recordsMayBringWork(config({ remoteStorageEnable: false, retentionBytes: 0 }))).toBe(true);
  });
});

describe('schedule keys', () => {
  it('round-trip, and refuse the other items of the topics table', () => {
    const ref = { topic: 'a.b_c-1', incarnation: '0f3e', partition: 4095 };
    expect(parseArchiveScheduleKey(archiveScheduleKey(ref))).toEqual(ref);
    for (const key of [
      'orders',
      'orders:0f3e',
      'trigger#t',
      'schedule#orders#0f3e',
      'schedule#o#i#x',
      'schedule#o#i#1#2',
    ]) {
      expect(parseArchiveScheduleKey(key), key).toBeUndefined();
    }
  });
});

describe('public types', () => {
  it('runs choose which partitions they visit', () => {
    expectTypeOf<NonNullable<ArchiveRunOptions['visit']>>().toEqualTypeOf<ArchiveVisit>();
    expectTypeOf<ArchiveVisit>().toEqualTypeOf<'due' | 'scheduled' | 'all'>();
  });
});
