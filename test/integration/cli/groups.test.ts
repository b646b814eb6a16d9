/** `tributary groups ...` and `tributary consume --group`, run as real processes against the test stack. */
import { describe, expect, it } from 'vitest';
import { runCli } from '../../helpers/cli.ts';
import { uniqueTopic } from '../../helpers/tributary.ts';

/** Upper bound on a group consume that should end by --max-messages (keeps a failure from hanging). */
const SAFETY_TIMEOUT = ['--timeout-ms', '15000'];

const cli = runCli;

function lines(stdout: string): string[] {
  return stdout.split('\n').filter((l) => l !== '');
}

/** The partition rows of `groups describe` for a topic, as column arrays. */
function partitionRows(stdout: string, topic: string): string[][] {
  return lines(stdout)
    .map((l) => l.trim().split(/\s+/))
    .filter((cells) => cells[0] === topic);
}

async function topicWithMessages(values: readonly string[]): Promise<string> {
  const topic = uniqueTopic('cli-grp');
  expect((await cli(['topics', 'create', topic, '--partitions', '2'])).code).toBe(0);
  const input = values.map((v, i) => `k${i}:${v}\n`).join('');
  const produced = await cli(['produce', topic, '--key-separator', ':'], input);
  expect(produced).toMatchObject({ code: 0 });
  return topic;
}

describe('tributary groups and consume --group', () => {
  it('consumes as a group, commits, describes, resets and deletes the group', async () => {
    const values = ['one', 'two', 'three', 'four', 'five'];
    const topic = await topicWithMessages(values);
    const group = uniqueTopic('g');

    const first = await cli([
      'consume',
      topic,
      '--group',
      group,
      '--from-beginning',
      '--max-messages',
      '5',
      ...SAFETY_TIMEOUT,
    ]);
    expect(first.code).toBe(0);
    expect(lines(first.stdout).sort()).toEqual([...values].sort());
    expect(first.stderr).toContain('Consumed 5 message(s)');

    // The offsets were committed on the way out: the same group has nothing new to read.
    const again = await cli(['consume', topic, '--group', group, '--from-beginning', '--timeout-ms', '1500']);
    expect(again).toMatchObject({ code: 0, stdout: '' });

    const listed = await cli(['groups', 'list']);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(new RegExp(`^${group}\\t\\d{4}-\\d\\d-\\d\\dT`, 'm'));

    const described = await cli(['groups', 'describe', group]);
    expect(described.code).toBe(0);
    expect(described.stdout).toContain('TOPIC');
    expect(described.stdout).toContain('LAG-TIME');
    const rows = partitionRows(described.stdout, topic);
    expect(rows).toHaveLength(2);
    for (const [, , , committed, highWatermark, lag, lagTime] of rows) {
      expect(committed).toBe(highWatermark);
      expect(lag).toBe('0');
      expect(lagTime).toBe('0s');
    }
    expect(rows.reduce((n, r) => n + Number(r[4]), 0)).toBe(5);

    const reset = await cli(['groups', 'reset-offsets', group, '--topic', topic, '--to-earliest']);
    expect(reset.code).toBe(0);
    expect(partitionRows(reset.stdout, topic).map((r) => r.slice(1))).toEqual([
      ['0', '0'],
      ['1', '0'],
    ]);
    const lagging = partitionRows((await cli(['groups', 'describe', group])).stdout, topic);
    expect(lagging.reduce((n, r) => n + Number(r[5]), 0)).toBe(5);
    // Lag time is the age of the oldest uncommitted record, for people (e.g. `850ms`, `3.2s`).
    for (const [, , , , , lag, lagTime] of lagging) {
      if (lag !== '0') expect(lagTime).toMatch(/^(\d+ms|\d+(\.\d)?s)$/);
    }

    // From the reset offsets (no --from-beginning needed: the group has committed offsets).
    const reread = await cli(['consume', topic, '--group', group, '--max-messages', '5', ...SAFETY_TIMEOUT]);
    expect(reread.code).toBe(0);
    expect(lines(reread.stdout).sort()).toEqual([...values].sort());

    expect(await cli(['groups', 'delete', group])).toMatchObject({
      code: 0,
      stdout: `Deleted consumer group "${group}".\n`,
    });
    expect((await cli(['groups', 'describe', group])).code).toBe(1);
  });

  it('stops at --max-messages without skipping the records it did not print', async () => {
    const values = ['a', 'b', 'c', 'd', 'e', 'f'];
    const topic = await topicWithMessages(values);
    const group = uniqueTopic('g');
    const consume = (max: string) =>
      cli(['consume', topic, '--group', group, '--from-beginning', '--max-messages', max, ...SAFETY_TIMEOUT]);

    const first = await consume('2');
    expect(first.code).toBe(0);
    expect(lines(first.stdout)).toHaveLength(2);
    const rest = await consume('4');
    expect(rest.code).toBe(0);
    expect([...lines(first.stdout), ...lines(rest.stdout)].sort()).toEqual([...values].sort());
  });

  it('fails clearly with a non-zero exit code', async () => {
    const unknown = await cli(['groups', 'describe', uniqueTopic('no-such-group')]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('GROUP_NOT_FOUND');

    const noTarget = await cli(['groups', 'reset-offsets', uniqueTopic('g'), '--topic', uniqueTopic()]);
    expect(noTarget.code).toBe(2);
    expect(noTarget.stderr).toContain('--to-earliest');

    const twoTargets = await cli([
      'groups',
      'reset-offsets',
      uniqueTopic('g'),
      '--topic',
      uniqueTopic(),
      '--to-earliest',
      '--to-offset',
      '3',
    ]);
    expect(twoTargets.code).toBe(2);
    expect(twoTargets.stderr).toContain('only one of');

    const noTopic = await cli(['groups', 'reset-offsets', uniqueTopic('g'), '--to-latest']);
    expect(noTopic.code).toBe(2);
    expect(noTopic.stderr).toContain('--topic');

    const withPartition = await cli(['consume', uniqueTopic(), '--group', 'g', '--partition', '0']);
    expect(withPartition.code).toBe(2);
    expect(withPartition.stderr).toContain('--group cannot be combined with --partition');

    expect((await cli(['groups', 'frobnicate'])).code).toBe(2);
    expect((await cli(['groups', 'describe'])).code).toBe(2);
  });
});
