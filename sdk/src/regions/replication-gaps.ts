/**
 * Which offsets a region's copy of a partition lacks, from its batches read newest first. Pure: the
 * I/O is `replication-status.ts`.
 *
 * A replica holds a subset of the home's one dense chain (MREC replicates item by item, out of
 * order), so every break in the replica's chain below the home's high watermark is a range of
 * offsets not replicated yet. Missing batches are the newest ones, give or take the replication
 * order, so the scan walks down from the home's high watermark a page at a time and stops after a
 * page that shows no break (or at the bottom of the hot log: below the local log start the records
 * are in S3, which every region reads).
 */

/** Offsets `[from, to)`. */
export interface OffsetRange {
  readonly from: number;
  readonly to: number;
}

/** Where a scan stands. */
export interface GapScan {
  /** Ranges the region lacks, newest first. */
  readonly gaps: readonly OffsetRange[];
  /** The lowest offset the region is known to hold a batch at, so far (the home's end at first). */
  readonly top: number;
  /** True once no more pages need to be read. */
  readonly done: boolean;
}

/** A scan before any page: nothing found, below the home's high watermark. */
export function startGapScan(homeEnd: number, bottom: number): GapScan {
  return { gaps: [], top: homeEnd, done: homeEnd <= bottom };
}

/**
 * Folds one page of the region's batches (descending by offset, all below the home's end) into the
 * scan. `last`: the region has no batches below this page (down to `bottom`).
 */
export function scanGapPage(
  scan: GapScan,
  page: readonly { readonly offset: number; readonly count: number }[],
  last: boolean,
  bottom: number,
): GapScan {
  const gaps = [...scan.gaps];
  let top = scan.top;
  let broken = false;
  for (const slot of page) {
    if (slot.offset >= top) continue;
    const end = slot.offset + slot.count;
    if (end < top) {
      gaps.push({ from: Math.max(end, bottom), to: top });
      broken = true;
    }
    top = slot.offset;
  }
  if (last) {
    if (top > bottom) gaps.push({ from: bottom, to: top });
    return { gaps, top: Math.min(top, bottom), done: true };
  }
  return { gaps, top, done: !broken || top <= bottom };
}

/** Offsets in the ranges. */
export function missingRecords(gaps: readonly OffsetRange[]): number {
  return gaps.reduce((n, g) => n + (g.to - g.from), 0);
}
