/**
 * The benchmark's regression bounds, defined once: capacity-unit and request ratios, which depend
 * on what the SDK reads and writes, not on how fast this machine is, so a run past one of them is
 * a regression of the code, not noise. `npm run bench` prints every check with its figure and
 * exits non-zero when one fails. BENCHMARKS.md states the same bounds.
 */

/** The bounds. A ratio of 1.01 allows 1% over the baseline measured in the same run. */
export const BOUNDS = {
  /** Consume: read units per MB over those of the raw eventually consistent `Query` of the same items. */
  readUnitsVsRawQuery: 1.01,
  /** Produce: write units per MB over those of raw `PutItem` of the items the SDK wrote. */
  writeUnitsVsRawPut: 1.01,
  /** S3 tier: bytes fetched (`.log` ranges and `.index` objects) per record byte consumed. */
  s3BytesPerByte: 1.02,
  /**
   * S3 tier: GETs per MB consumed. One `.index` and one ranged `.log` GET per 4 MiB segment is
   * 0.51; reading any range twice, or in more pieces than the fetch size needs, goes past this.
   */
  s3GetsPerMb: 0.55,
} as const;

export type BoundName = keyof typeof BOUNDS;

/** One figure held against its bound. */
export interface BoundCheck {
  readonly bound: BoundName;
  /** Which measurement (e.g. "consume, 4 partitions"). */
  readonly what: string;
  readonly value: number;
}

/** What a section of the benchmark prints and the figures it holds against the bounds. */
export interface BenchSection {
  readonly lines: string[];
  readonly checks: BoundCheck[];
}

const LABELS: Record<BoundName, string> = {
  readUnitsVsRawQuery: 'read units per MB ÷ raw Query',
  writeUnitsVsRawPut: 'write units per MB ÷ raw PutItem',
  s3BytesPerByte: 'S3 bytes read per byte consumed',
  s3GetsPerMb: 'S3 GETs per MB consumed',
};

/** True when `check` is within its bound. */
export function withinBound(check: BoundCheck): boolean {
  return check.value <= BOUNDS[check.bound];
}

/** The checks as a Markdown table, and those that failed. */
export function boundsReport(checks: readonly BoundCheck[]): { lines: string[]; failed: BoundCheck[] } {
  const lines = [
    '',
    'Regression bounds (`bench/bounds.ts`; the run exits non-zero when one is exceeded):',
    '',
    '| ratio | measurement | measured | bound | |',
    '| --- | --- | ---: | ---: | --- |',
    ...checks.map(
      (c) =>
        `| ${LABELS[c.bound]} | ${c.what} | ${c.value.toFixed(3)} | ≤ ${BOUNDS[c.bound]} | ${withinBound(c) ? 'ok' : '**exceeded**'} |`,
    ),
  ];
  return { lines, failed: checks.filter((c) => !withinBound(c)) };
}
