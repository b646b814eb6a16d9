import { describe, expect, it } from 'vitest';
import {
  type GapScan,
  missingRecords,
  scanGapPage,
  startGapScan,
} from '../../../sdk/src/regions/replication-gaps.ts';

type Batch = { offset: number; count: number };

/** Scans `batches` (any order) in pages of `size`, newest first, as the status reads them. */
function scan(homeEnd: number, bottom: number, batches: Batch[], size: number): GapScan & { pages: number } {
  const sorted = [...batches].sort((a, b) => b.offset - a.offset);
  let state = startGapScan(homeEnd, bottom);
  let pages = 0;
  for (let i = 0; !state.done; i += size) {
    const page = sorted.slice(i, i + size);
    pages++;
    state = scanGapPage(state, page, i + size >= sorted.length, bottom);
  }
  return { ...state, pages };
}

/** Batches of 10 offsets each covering [from, to), minus those starting at `missing`. */
function chain(from: number, to: number, missing: number[] = []): Batch[] {
  const out: Batch[] = [];
  for (let o = from; o < to; o += 10) if (!missing.includes(o)) out.push({ offset: o, count: 10 });
  return out;
}

describe('replication gaps', () => {
  it('finds nothing in a complete copy, reading one page', () => {
    const result = scan(500, 0, chain(0, 500), 5);
    expect(result.gaps).toEqual([]);
    expect(result.pages).toBe(1);
  });

  it('counts the newest batches a copy has not received, and the holes below them', () => {
    // The region has everything up to 400 except the batch at 350; the home is at 500.
    const result = scan(500, 0, chain(0, 400, [350]), 5);
    expect(result.gaps).toEqual([
      { from: 400, to: 500 },
      { from: 350, to: 360 },
    ]);
    expect(missingRecords(result.gaps)).toBe(110);
  });

  it('follows holes down page after page, and stops after a page without one', () => {
    // Holes every 20 offsets from 480 down to 300; complete below. Pages of 3 batches.
    const holes = [480, 460, 440, 420, 400, 380, 360, 340, 320, 300];
    const result = scan(500, 0, chain(0, 500, holes), 3);
    expect(result.gaps.map((g) => g.from)).toEqual(holes);
    expect(missingRecords(result.gaps)).toBe(100);
    expect(result.pages).toBeLessThan(chain(0, 500).length / 3);
  });

  it('does not look under a page that shows no hole (the documented bound of the scan)', () => {
    // A batch delayed behind three newer ones that all arrived: not counted with pages of 3.
    expect(scan(500, 0, chain(0, 500, [460]), 3).gaps).toEqual([]);
    expect(scan(500, 0, chain(0, 500, [460]), 5).gaps).toEqual([{ from: 460, to: 470 }]);
  });

  it('counts what lies between the lowest batch and the bottom of the hot log', () => {
    // Archived below 100 (S3 is shared): the region lacks [100, 130) and [480, 500).
    expect(scan(500, 100, chain(130, 480), 50).gaps).toEqual([
      { from: 480, to: 500 },
      { from: 100, to: 130 },
    ]);
    expect(scan(500, 100, [], 50).gaps).toEqual([{ from: 100, to: 500 }]);
  });

  it('has nothing to scan when the home log holds nothing above the bottom', () => {
    expect(startGapScan(0, 0).done).toBe(true);
    expect(startGapScan(100, 100).done).toBe(true);
  });
});
