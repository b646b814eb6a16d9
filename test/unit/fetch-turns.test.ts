/** The consumer's fetch scheduling: round-robin turns within the free slots, and idle backoff. */
import { describe, expect, it } from 'vitest';
import { nextIdleInterval, nextTurns } from '../../sdk/src/fetch-turns.ts';
import { seededRandom, testSeed } from '../helpers/random.ts';

describe('nextTurns', () => {
  it('goes round the ring, as many at a time as there are free slots', () => {
    const all = Array.from({ length: 7 }, () => true);
    const steps: number[][] = [];
    let cursor = 0;
    for (let i = 0; i < 4; i++) {
      const turns = nextTurns(all, cursor, 3);
      steps.push([...turns.start]);
      cursor = turns.cursor;
    }
    expect(steps).toEqual([
      [0, 1, 2],
      [3, 4, 5],
      [6, 0, 1],
      [2, 3, 4],
    ]);
  });

  it('skips partitions that may not be fetched now, and moves the cursor past the last one started', () => {
    expect(nextTurns([false, true, false, true, true], 0, 2)).toEqual({ start: [1, 3], cursor: 4 });
    expect(nextTurns([true, false, false, false, true], 3, 2)).toEqual({ start: [4, 0], cursor: 1 });
    // Nothing to start: the cursor stays, so nobody loses a place.
    expect(nextTurns([false, false, false], 2, 4)).toEqual({ start: [], cursor: 2 });
    expect(nextTurns([true, true], 1, 0)).toEqual({ start: [], cursor: 1 });
    expect(nextTurns([], 5, 3)).toEqual({ start: [], cursor: 0 });
    // Partitions removed since: a cursor past the end wraps.
    expect(nextTurns([true, true, true], 7, 1)).toEqual({ start: [1], cursor: 2 });
  });

  it('never gives a partition that always has records a second turn before the others had theirs', () => {
    // Partition 0 always has records (eligible whenever it is not being fetched); the others are
    // eligible too. One slot: each fetch ends before the next step.
    const n = 6;
    const started: number[] = [];
    let cursor = 0;
    for (let step = 0; step < 3 * n; step++) {
      const turns = nextTurns(
        Array.from({ length: n }, () => true),
        cursor,
        1,
      );
      started.push(...turns.start);
      cursor = turns.cursor;
    }
    for (let i = 0; i + n <= started.length; i += n) {
      expect([...started.slice(i, i + n)].sort()).toEqual([0, 1, 2, 3, 4, 5]);
    }
  });

  it('starts a partition that became eligible after at most n - 1 other starts, whatever the others do', () => {
    const seed = testSeed('fetch turns');
    const random = seededRandom(seed);
    const n = 37;
    const slots = 5;
    /** Steps left for each fetch in flight (0: not in flight). */
    const inflight = Array.from({ length: n }, () => 0);
    /** For a partition due (it stays due until it is started): starts of others since it became due. */
    const waited: (number | undefined)[] = Array.from({ length: n }, () => undefined);
    let cursor = 0;
    let worst = 0;
    for (let step = 0; step < 5_000; step++) {
      for (let p = 0; p < n; p++) {
        if (inflight[p]! > 0) inflight[p]!--;
        // Partitions 0-2 always have records (due as soon as their fetch is back); the others
        // become due now and then, as their idle intervals end.
        else if (waited[p] === undefined && (p < 3 || random() < 0.2)) waited[p] = 0;
      }
      const eligible = waited.map((w) => w !== undefined);
      const free = slots - inflight.filter((left) => left > 0).length;
      const turns = nextTurns(eligible, cursor, free);
      cursor = turns.cursor;
      for (const p of turns.start) {
        worst = Math.max(worst, waited[p]!);
        waited[p] = undefined;
        inflight[p] = 1 + Math.floor(random() * 4);
        for (let q = 0; q < n; q++) if (waited[q] !== undefined) waited[q]!++;
      }
      expect(inflight.filter((left) => left > 0).length).toBeLessThanOrEqual(slots);
    }
    expect(worst).toBeGreaterThan(0);
    expect(worst).toBeLessThanOrEqual(n - 1);
  });
});

describe('nextIdleInterval', () => {
  it('doubles from the minimum up to the maximum', () => {
    const intervals: number[] = [];
    let ms = 0;
    for (let i = 0; i < 7; i++) {
      ms = nextIdleInterval(ms, 50, 1_000);
      intervals.push(ms);
    }
    expect(intervals).toEqual([50, 100, 200, 400, 800, 1_000, 1_000]);
  });
});
