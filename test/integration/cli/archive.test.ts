/** `tributary archive run` and the tier columns of `topics describe`, run as real processes against the test stack. */
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../../helpers/cli.ts';
import { testClient, uniqueTopic } from '../../helpers/tributary.ts';

const cli = runCli;
const tributary = testClient();
afterAll(() => tributary.close());

/** Produces `count` records of ~150 bytes in batches of `perBatch`, timestamped an hour ago. */
async function produce(topic: string, count: number, perBatch = 5): Promise<void> {
  const base = Date.now() - 3_600_000;
  // Stored sizes here assume uncompressed batches (the producer compresses with zstd by default).
  const producer = tributary.producer({ compression: 'none' });
  for (let i = 0; i < count; i += perBatch) {
    await producer.send({
      topic,
      messages: Array.from({ length: Math.min(perBatch, count - i) }, (_, j) => ({
        key: `k${i + j}`,
        value: `value-${i + j}-${'x'.repeat(140)}`,
        timestamp: base + i + j,
      })),
    });
  }
  await producer.close();
}

/** The rows of tab-separated output under a header starting with `first`, as objects by column name. */
function table(stdout: string, first: string): Record<string, string>[] {
  const lines = stdout.split('\n');
  const at = lines.findIndex((l) => l.startsWith(`${first}\t`));
  expect(at, `a header starting with ${first} in:\n${stdout}`).toBeGreaterThanOrEqual(0);
  const header = lines[at]!.split('\t');
  const rows: Record<string, string>[] = [];
  for (const line of lines.slice(at + 1)) {
    const cells = line.split('\t');
    if (cells.length !== header.length) break;
    rows.push(Object.fromEntries(header.map((h, i) => [h, cells[i]!])));
  }
  return rows;
}

describe('tributary archive run', () => {
  it('archives a topic once, reports per partition and in total, and describe shows the S3 tier', async () => {
    const topic = uniqueTopic('cli-arch');
    const created = await cli([
      'topics',
      'create',
      topic,
      '--config',
      'segment.bytes=4096',
      '--config',
      'local.retention.ms=0',
    ]);
    expect(created.code).toBe(0);
    await produce(topic, 100);

    const before = table((await cli(['topics', 'describe', topic])).stdout, 'Partition');
    expect(before).toEqual([
      expect.objectContaining({ Partition: '0', LocalLogStart: '0', S3Segments: '0', S3Bytes: '0' }),
    ]);
    const total = Number(before[0]!.DynamoDBBytes);
    expect(total).toBeGreaterThan(100 * 150);

    const run = await cli(['archive', 'run', '--topic', topic]);
    expect(run.code, run.stderr).toBe(0);
    const [row, ...others] = table(run.stdout, 'Topic');
    expect(others).toEqual([]);
    expect(row).toMatchObject({
      Topic: topic,
      Partition: '0',
      SegmentsDeleted: '0',
      BytesExpired: '0',
      LogStart: '0',
    });
    const segments = Number(row!.SegmentsArchived);
    const bytes = Number(row!.BytesArchived);
    expect(segments).toBeGreaterThan(0);
    expect(bytes).toBeGreaterThan(0);
    // The newest batch never moves.
    expect(Number(row!.LocalLogStart)).toBeGreaterThan(0);
    expect(Number(row!.LocalLogStart)).toBeLessThan(100);
    const totals = new RegExp(
      `^Total: ${segments} segment\\(s\\) archived \\(${bytes} bytes\\), 0 segment\\(s\\) deleted, ` +
        '0 bytes expired; 0 orphaned object\\(s\\) deleted; S3 requests: (\\d+) PUT, \\d+ GET, \\d+ LIST, 0 DELETE$',
      'm',
    ).exec(run.stdout);
    expect(totals, run.stdout).not.toBeNull();
    // A .log, an .index and a .timeindex per segment.
    expect(Number(totals![1])).toBeGreaterThanOrEqual(3 * segments);

    const after = table((await cli(['topics', 'describe', topic])).stdout, 'Partition');
    expect(after).toEqual([
      expect.objectContaining({
        Partition: '0',
        LogStart: '0',
        HighWatermark: '100',
        Records: '100',
        LocalLogStart: row!.LocalLogStart,
        S3Segments: String(segments),
        S3Bytes: String(bytes),
      }),
    ]);
    expect(Number(after[0]!.S3Bytes) + Number(after[0]!.DynamoDBBytes)).toBe(total);

    // A second run finds nothing more to do.
    const again = table((await cli(['archive', 'run', '--topic', topic])).stdout, 'Topic');
    expect(again).toEqual([
      expect.objectContaining({ SegmentsArchived: '0', LocalLogStart: row!.LocalLogStart }),
    ]);
  });

  it('fails on an unknown topic (1) and on a bad command line (2)', async () => {
    const missing = await cli(['archive', 'run', '--topic', uniqueTopic('missing')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('TOPIC_NOT_FOUND');
    const noAction = await cli(['archive']);
    expect(noAction.code).toBe(2);
    expect(noAction.stderr).toContain('archive takes run');
    const positional = await cli(['archive', 'run', 'orders']);
    expect(positional.code).toBe(2);
    expect(positional.stderr).toContain('--topic T');
  });
});
