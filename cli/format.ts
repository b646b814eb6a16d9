/** Output for people: aligned tables and short durations, shared by the commands. */

/** Writes rows as left-aligned columns separated by two spaces. */
export function writeTable(header: readonly string[], rows: readonly (readonly string[])[]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  for (const row of [header, ...rows]) {
    const cells = row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)));
    process.stdout.write(`${cells.join('  ')}\n`);
  }
}

/** A duration for people: `0s`, `850ms`, `3.2s`, `5m`, `5m12s`, `2h5m`, `3d4h`. */
export function formatDuration(ms: number): string {
  if (ms <= 0) return '0s';
  if (ms < 1_000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(Math.floor(ms / 100) / 10).toString()}s`;
  const units: [string, number][] = [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1_000],
  ];
  const first = units.findIndex(([, size]) => ms >= size);
  const [bigName, bigSize] = units[first] as [string, number];
  const [smallName, smallSize] = units[first + 1] as [string, number];
  const big = Math.floor(ms / bigSize);
  const small = Math.floor((ms % bigSize) / smallSize);
  return small === 0 ? `${big}${bigName}` : `${big}${bigName}${small}${smallName}`;
}
