/**
 * `tributary triggers ...` run as real processes against the test stack, directly and through the
 * HTTP API (`--api`): create with every option, list, describe (settings, state, last error,
 * in-flight batches, the partition table), update and reset, enable, disable, delete; and refused
 * commands — a bad setting, a missing function, a duplicate, a create-only change (exit code 1 and
 * the SDK's message), a malformed command line (exit code 2) — that leave nothing behind.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { mapLimited } from '../../../sdk/src/concurrency.ts';
import { runCli } from '../../helpers/cli.ts';
import { testStackConfig } from '../../helpers/stack.ts';
import { uniqueTopic } from '../../helpers/tributary.ts';

/** CLI processes run at once where commands are independent (each is a Node process of its own). */
const SPAWNS = 3;

function lines(stdout: string): string[] {
  return stdout.split('\n').filter((l) => l !== '');
}

/** The rows of the partition table of `triggers describe`, as column arrays. */
function partitionRows(stdout: string): string[][] {
  const all = lines(stdout);
  const header = all.findIndex((l) => l.startsWith('PARTITION'));
  expect(header, stdout).toBeGreaterThanOrEqual(0);
  expect(all[header]?.split(/\s+/)).toEqual([
    'PARTITION',
    'COMMITTED',
    'HIGH-WATERMARK',
    'LAG',
    'LAG-TIME',
    'IN-FLIGHT',
    'DUE',
  ]);
  return all.slice(header + 1).map((l) => l.trim().split(/\s+/));
}

/** The `key=value` lines under "Settings:" of `triggers describe`. */
function settingsOf(stdout: string): Record<string, string> {
  const entries = lines(stdout)
    .filter((l) => l.startsWith('  ') && l.includes('='))
    .map((l) => {
      const at = l.indexOf('=');
      return [l.slice(0, at).trim(), l.slice(at + 1)] as const;
    });
  return Object.fromEntries(entries);
}

const TRANSPORT_ARGS = {
  direct: [] as string[],
  http: ['--api', testStackConfig().apiUrl],
};

describe.each(['direct', 'http'] as const)('tributary triggers (%s)', (transport) => {
  const cli = (args: string[], stdin = '') => runCli([...args, ...TRANSPORT_ARGS[transport]], stdin);

  /** The names `triggers list` shows. */
  async function listed(): Promise<string[][]> {
    const result = await cli(['triggers', 'list']);
    expect(result.code, result.stderr).toBe(0);
    return lines(result.stdout).map((l) => l.split('\t'));
  }

  it('creates, lists, describes, updates, disables, enables and deletes a trigger', async () => {
    const topic = uniqueTopic('cli-trg');
    const dlq = uniqueTopic('cli-dlq');
    const name = `cli-${randomBytes(5).toString('hex')}`;
    const group = `g-${name}`;
    expect((await cli(['topics', 'create', topic, '--partitions', '2'])).code).toBe(0);
    expect((await cli(['topics', 'create', dlq])).code).toBe(0);
    expect((await cli(['produce', topic, '--partition', '0'], 'a\nb\nc\n')).code).toBe(0);

    const created = await cli([
      'triggers',
      'create',
      name,
      '--topic',
      topic,
      '--function',
      'recorder',
      '--starting-position',
      'TRIM_HORIZON',
      '--batch-size',
      '10',
      '--batching-window',
      '0',
      '--maximum-retry-attempts=-1',
      '--maximum-record-age',
      '3600',
      '--bisect-batch-on-function-error',
      '--report-batch-item-failures',
      '--destination',
      `kafka://${dlq}`,
      '--filter',
      '{"value":["a"]}',
      '--filter',
      '{"value":[{"prefix":"b"}]}',
      '--maximum-concurrency',
      '4',
      '--group-id',
      group,
      // Disabled, so the stack's dispatcher delivers nothing and the partition table is what was produced.
      '--disabled',
    ]);
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toBe(
      `Created trigger "${name}": topic "${topic}" -> function "recorder" (group "${group}", Disabled).\n`,
    );

    expect(await listed()).toContainEqual([name, topic, 'recorder', group, 'Disabled']);

    const described = await cli(['triggers', 'describe', name]);
    expect(described.code, described.stderr).toBe(0);
    expect(described.stdout).toContain(`Trigger: ${name}\tState: Disabled\n`);
    expect(described.stdout).toContain(`Topic: ${topic}\tFunction: recorder\tGroup: ${group}\n`);
    expect(described.stdout).toMatch(/^Created: \d{4}-\d\d-\d\dT[^\t]+\tUpdated: \d{4}-/m);
    expect(described.stdout).toContain('Last error: -\n');
    expect(described.stdout).toContain('In-flight batches: 0\n');
    expect(settingsOf(described.stdout)).toEqual({
      startingPosition: 'TRIM_HORIZON',
      startingPositionTimestamp: '-',
      batchSize: '10',
      maximumBatchingWindowInSeconds: '0',
      maximumRetryAttempts: '-1',
      maximumRecordAgeInSeconds: '3600',
      bisectBatchOnFunctionError: 'true',
      functionResponseTypes: 'ReportBatchItemFailures',
      'destinationConfig.onFailure.destination': `kafka://${dlq}`,
      'filterCriteria.filters[0].pattern': '{"value":["a"]}',
      'filterCriteria.filters[1].pattern': '{"value":[{"prefix":"b"}]}',
      'scalingConfig.maximumConcurrency': '4',
    });
    // TRIM_HORIZON commits nothing up front: all three records of partition 0 are lag.
    const rows = partitionRows(described.stdout);
    expect(rows.map((r) => r.slice(0, 4))).toEqual([
      ['0', '-', '3', '3'],
      ['1', '-', '0', '0'],
    ]);
    expect(rows[1]?.[4]).toBe('0s');

    const updated = await cli([
      'triggers',
      'update',
      name,
      '--batch-size',
      '20',
      '--function',
      'recorder-partial',
      '--no-filters',
      '--no-destination',
      '--no-maximum-concurrency',
      '--no-report-batch-item-failures',
      // Create-only settings may be repeated unchanged.
      '--topic',
      topic,
    ]);
    expect(updated.code, updated.stderr).toBe(0);
    expect(updated.stdout).toBe(`Updated trigger "${name}" (Disabled).\n`);
    const afterUpdate = await cli(['triggers', 'describe', name]);
    expect(afterUpdate.stdout).toContain(`Function: recorder-partial\t`);
    expect(settingsOf(afterUpdate.stdout)).toMatchObject({
      batchSize: '20',
      functionResponseTypes: '-',
      'destinationConfig.onFailure.destination': '-',
      'filterCriteria.filters': '-',
      'scalingConfig.maximumConcurrency': '-',
      bisectBatchOnFunctionError: 'true',
    });

    const enabled = await cli(['triggers', 'enable', name]);
    expect(enabled).toMatchObject({ code: 0, stdout: `Enabled trigger "${name}".\n` });
    expect(await listed()).toContainEqual([name, topic, 'recorder-partial', group, 'Enabled']);
    const disabled = await cli(['triggers', 'disable', name]);
    expect(disabled).toMatchObject({ code: 0, stdout: `Disabled trigger "${name}".\n` });
    expect((await cli(['triggers', 'describe', name])).stdout).toContain('State: Disabled');

    const deleted = await cli(['triggers', 'delete', name]);
    expect(deleted.code, deleted.stderr).toBe(0);
    expect(deleted.stdout).toContain(`Deleted trigger "${name}"`);
    expect((await listed()).map((row) => row[0])).not.toContain(name);
    const gone = await cli(['triggers', 'describe', name]);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain(`Trigger "${name}" does not exist`);
    expect(gone.stderr).toContain('[TRIGGER_NOT_FOUND]');
  });

  it('refuses what the SDK refuses with exit code 1 and its message, creating nothing', async () => {
    const topic = uniqueTopic('cli-trg-bad');
    expect((await cli(['topics', 'create', topic])).code).toBe(0);
    const name = `cli-${randomBytes(5).toString('hex')}`;
    const base = ['triggers', 'create', name, '--topic', topic, '--function', 'recorder'];
    const refused: readonly [string[], RegExp][] = [
      [
        [...base, '--starting-position', 'LATEST', '--batch-size', '0'],
        /Invalid trigger setting batchSize: 0; allowed: an integer from 1 to 10000\. \[INVALID_TRIGGER\]/,
      ],
      [
        [...base, '--starting-position', 'EARLIEST'],
        /Invalid trigger setting startingPosition: "EARLIEST".*\[INVALID_TRIGGER\]/,
      ],
      [
        [...base, '--starting-position', 'LATEST', '--maximum-record-age', '30'],
        /maximumRecordAgeInSeconds: 30.*\[INVALID_TRIGGER\]/,
      ],
      [
        [...base, '--starting-position', 'LATEST', '--destination', `tributary://${topic}`],
        /destinationConfig\.onFailure\.destination.*own topic.*\[INVALID_TRIGGER\]/,
      ],
      [
        [...base, '--starting-position', 'LATEST', '--filter', '{"value":'],
        /filterCriteria\.filters\[0\]\.pattern.*\[INVALID_TRIGGER\]/,
      ],
      [
        ['triggers', 'create', name, '--topic', topic, '--function', 'nope', '--starting-position', 'LATEST'],
        /Lambda function "nope" was not found.*\[FUNCTION_NOT_FOUND\]/,
      ],
      [
        [
          'triggers',
          'create',
          name,
          '--topic',
          uniqueTopic('cli-none'),
          '--function',
          'recorder',
          '--starting-position',
          'LATEST',
        ],
        /\[TOPIC_NOT_FOUND\]/,
      ],
    ];
    // Independent refusals: a few at a time.
    const results = await mapLimited([...refused], SPAWNS, ([args]) => cli(args));
    refused.forEach(([args, says], i) => {
      const result = results[i]!;
      expect(result.code, `${args.join(' ')}\n${result.stderr}`).toBe(1);
      expect(result.stderr).toMatch(says);
      expect(result.stdout).toBe('');
    });
    expect((await listed()).map((row) => row[0])).not.toContain(name);
    const noGroup = await cli(['groups', 'describe', `trigger-${name}`]);
    expect(noGroup.code).toBe(1);
    expect(noGroup.stderr).toContain('[GROUP_NOT_FOUND]');

    // A duplicate and a change of a create-only setting are refused; the trigger stays as it was.
    expect((await cli([...base, '--starting-position', 'LATEST'])).code).toBe(0);
    const [duplicate, changeTopic] = await Promise.all([
      cli([...base, '--starting-position', 'LATEST', '--batch-size', '5']),
      cli(['triggers', 'update', name, '--topic', uniqueTopic('other'), '--batch-size', '5']),
    ]);
    expect(duplicate.code).toBe(1);
    expect(duplicate.stderr).toMatch(/already exists.*\[TRIGGER_ALREADY_EXISTS\]/);
    expect(changeTopic.code).toBe(1);
    expect(changeTopic.stderr).toMatch(/Invalid trigger setting topic: .*cannot change.*\[INVALID_TRIGGER\]/);
    const described = await cli(['triggers', 'describe', name]);
    expect(described.stdout).toContain(`Topic: ${topic}\t`);
    expect(settingsOf(described.stdout).batchSize).toBe('100');
    expect((await cli(['triggers', 'delete', name])).code).toBe(0);
    const again = await cli(['triggers', 'delete', name]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('[TRIGGER_NOT_FOUND]');
  });
});

describe('tributary triggers command line', () => {
  it('refuses a malformed command with exit code 2 before calling anything', async () => {
    const base = ['triggers', 'create', 'cli-never', '--topic', 'cli-never', '--function', 'recorder'];
    const refused: readonly [string[], RegExp][] = [
      [base, /triggers create needs --starting-position/],
      [['triggers', 'create', 'cli-never', '--starting-position', 'LATEST'], /needs --topic, --function/],
      [
        [...base, '--starting-position', 'LATEST', '--batch-size', 'ten'],
        /--batch-size must be an integer, got "ten"/,
      ],
      [
        [...base, '--starting-position', 'AT_TIMESTAMP', '--starting-position-timestamp', 'yesterday'],
        /--starting-position-timestamp must be a number of seconds/,
      ],
      [[...base, '--starting-position', 'LATEST', '--no-filters'], /--no-filters is for triggers update/],
      [[...base, '--starting-position', 'LATEST', '--maximum-retry-attempts', '-1'], /ambiguous/],
      [[...base, '--starting-position', 'LATEST', '--bogus'], /Unknown option '--bogus'/],
      [
        ['triggers', 'update', 'cli-never', '--filter', '{}', '--no-filters'],
        /use only one of --filter and --no-filters/,
      ],
      [['triggers', 'update', 'cli-never'], /triggers update needs at least one setting/],
      [['triggers', 'create'], /triggers create needs a trigger name/],
      [['triggers', 'describe'], /triggers describe needs a trigger name/],
      [['triggers', 'list', '--batch-size', '3'], /--batch-size is an option of triggers create and update/],
      [
        ['triggers', 'frobnicate'],
        /triggers takes create, list, describe, update, enable, disable or delete/,
      ],
    ];
    const results = await mapLimited([...refused], SPAWNS, ([args]) => runCli(args));
    refused.forEach(([args, says], i) => {
      const result = results[i]!;
      expect(result.code, `${args.join(' ')}\n${result.stderr}`).toBe(2);
      expect(result.stderr).toMatch(says);
      expect(result.stderr).toContain('Run "tributary --help" for usage.');
      expect(result.stdout).toBe('');
    });
    const listed = await runCli(['triggers', 'list']);
    expect(listed.stdout).not.toContain('cli-never');
  });
});
