import { describe, expect, it } from 'vitest';
import { planSegment, type SegmentLimits } from '../../../sdk/src/archive/segment-plan.ts';
import type { Slot } from '../../../sdk/src/log/log-item.ts';

const LIMITS: SegmentLimits = { segmentBytes: 1000, segmentMs: 60_000 };

let nextOffset = 0;
function complete(bytes: number, mts: number, claimed = false): Slot {
  const offset = nextOffset;
  nextOffset += 2;
  return {
    kind: 'complete',
    offset,
    count: 2,
    maxTimestamp: mts,
    runningMaxTimestamp: mts,
    runningBytes: 0,
    producerId: '-1',
    sequence: -1,
    body: claimed ? new Uint8Array(0) : new Uint8Array(bytes),
    claim: claimed ? { key: 'k', size: bytes } : undefined,
    voided: false,
  };
}
function pending(mts: number): Slot {
  const offset = nextOffset;
  nextOffset += 2;
  return {
    kind: 'pending',
    offset,
    count: 2,
    maxTimestamp: mts,
    runningMaxTimestamp: mts,
    runningBytes: 0,
    producerId: '1',
    sequence: 0,
    deadline: 0,
  };
}
function archived(mts: number): Slot {
  return { ...pending(mts), kind: 'archived', voided: false } as Slot;
}

describe('planSegment', () => {
  it('is open until a batch exists that the segment does not take (the newest batch never moves)', () => {
    expect(planSegment([], LIMITS)).toEqual({ kind: 'open' });
    expect(planSegment([complete(400, 0), complete(400, 1)], LIMITS)).toEqual({ kind: 'open' });
    expect(planSegment([complete(400, 0), complete(400, 1), complete(400, 2)], LIMITS)).toEqual({
      kind: 'closed',
      take: 2,
    });
  });

  it('counts claimed batches at their full size', () => {
    expect(planSegment([complete(400, 0), complete(700, 1, true)], LIMITS)).toEqual({
      kind: 'closed',
      take: 1,
    });
  });

  it('puts a batch larger than segment.bytes in a segment of its own', () => {
    expect(planSegment([complete(5000, 0), complete(10, 1)], LIMITS)).toEqual({ kind: 'closed', take: 1 });
  });

  it('rolls on segment.ms of running max timestamps', () => {
    expect(planSegment([complete(10, 0), complete(10, 59_999), complete(10, 60_000)], LIMITS)).toEqual({
      kind: 'closed',
      take: 2,
    });
  });

  it('waits at a pending batch unless time already closes the segment before it', () => {
    expect(planSegment([pending(0)], LIMITS)).toEqual({ kind: 'open' });
    expect(planSegment([complete(10, 0), pending(5)], LIMITS)).toEqual({ kind: 'open' });
    expect(planSegment([complete(10, 0), pending(60_000)], LIMITS)).toEqual({ kind: 'closed', take: 1 });
  });

  it('reports a stale view when it meets a stub (another archiver got there first)', () => {
    expect(planSegment([archived(0)], LIMITS)).toEqual({ kind: 'stale' });
    expect(planSegment([complete(10, 0), archived(1)], LIMITS)).toEqual({ kind: 'stale' });
  });

  it('gives the same boundary however far the log has grown (determinism)', () => {
    const log = Array.from({ length: 40 }, (_, i) => complete(90 + ((i * 37) % 50), i * 1000));
    const first = planSegment(log.slice(0, 15), LIMITS);
    for (let n = 16; n <= 40; n++) expect(planSegment(log.slice(0, n), LIMITS)).toEqual(first);
  });
});
