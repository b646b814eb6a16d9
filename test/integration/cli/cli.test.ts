/** The `tributary` command line, run as a real process against the test stack. */
import { describe, expect, it } from 'vitest';
import { runCli } from '../../helpers/cli.ts';
import { testStackConfig } from '../../helpers/stack.ts';
import { uniqueTopic } from '../../helpers/tributary.ts';

const cli = runCli;

describe('tributary CLI', () => {
  it('works through the HTTP API with --api', async () => {
    const topic = uniqueTopic('cli-api');
    const api = ['--api', testStackConfig().apiUrl];
    expect(await runCli(['topics', 'create', topic, '--partitions', '2', ...api], '', false)).toMatchObject({
      code: 0,
    });
    const produced = await runCli(['produce', topic, '--key-separator', ':', ...api], 'a:1\nb:2\n', false);
    expect(produced.stderr).toContain('Produced 2 message(s)');
    const consumed = await runCli(
      ['consume', topic, '--from-beginning', '--max-messages', '2', '--format', 'kv', ...api],
      '',
      false,
    );
    expect(consumed.stdout.trim().split('\n').sort()).toEqual(['a\t1', 'b\t2']);
    // The direct transport sees the same records.
    expect((await cli(['topics', 'describe', topic])).stdout).toMatch(/partition/i);
    const archive = await runCli(['archive', 'run', ...api], '', false);
    expect(archive.code).toBe(1);
    expect(archive.stderr).toContain('UNSUPPORTED_OPERATION');
  });

  it('creates, describes, produces to, consumes from and deletes a topic', async () => {
    const topic = uniqueTopic('cli');
    expect(
      await cli(['topics', 'create', topic, '--partitions', '2', '--config', 'retention.ms=3600000']),
    ).toMatchObject({
      code: 0,
      stdout: `Created topic "${topic}" with 2 partition(s).\n`,
    });
    expect((await cli(['topics', 'list'])).stdout).toContain(`${topic}\t2\n`);
    const produced = await cli(['produce', topic, '--key-separator', ':'], 'k1:one\nk2:two\nk1:three\n');
    expect(produced).toMatchObject({ code: 0 });
    expect(produced.stderr).toContain('Produced 3 message(s)');
    const described = await cli(['topics', 'describe', topic]);
    expect(described.stdout).toContain('retention.ms=3600000');
    const total = described.stdout
      .split('\n')
      .filter((l) => /^\d+\t/.test(l))
      .reduce((n, l) => n + Number(l.split('\t')[3]), 0);
    expect(total).toBe(3);
    const consumed = await cli([
      'consume',
      topic,
      '--from-beginning',
      '--max-messages',
      '3',
      '--format',
      'kv',
    ]);
    expect(consumed.code).toBe(0);
    expect(consumed.stdout.trim().split('\n').sort()).toEqual(['k1\tone', 'k1\tthree', 'k2\ttwo']);
    const json = await cli(['consume', topic, '--from-beginning', '--max-messages', '3', '--format', 'json']);
    const parsed = json.stdout
      .trim()
      .split('\n')
      .map(
        (line) =>
          JSON.parse(line) as {
            topic: string;
            offset: number;
            key: string;
            value: string;
            headers: unknown[];
          },
      );
    expect(parsed.map((m) => `${m.key}=${m.value}`).sort()).toEqual(['k1=one', 'k1=three', 'k2=two']);
    expect(
      parsed.every((m) => m.topic === topic && Number.isInteger(m.offset) && Array.isArray(m.headers)),
    ).toBe(true);
    const partitionOfK2 = (parsed.find((m) => m.key === 'k2') as unknown as { partition: number }).partition;
    const exact = await cli([
      'consume',
      topic,
      '--partition',
      String(partitionOfK2),
      '--offset',
      '0',
      '--max-messages',
      '1',
    ]);
    expect(exact.stdout).toMatch(/^(one|two|three)\n$/);
    // With no offset it starts at the end: nothing arrives before the timeout.
    const tail = await cli(['consume', topic, '--timeout-ms', '300']);
    expect(tail).toMatchObject({ code: 0, stdout: '' });
    expect(await cli(['topics', 'delete', topic])).toMatchObject({
      code: 0,
      stdout: `Deleted topic "${topic}".\n`,
    });
  });

  it('fails clearly with a non-zero exit code', async () => {
    const missing = await cli(['produce', uniqueTopic('missing')], 'x\n');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/does not exist.*TOPIC_NOT_FOUND/);
    const badName = await cli(['topics', 'create', 'bad name']);
    expect(badName.code).toBe(1);
    expect(badName.stderr).toContain('INVALID_TOPIC_NAME');
    const usage = await cli(['topics', 'create', uniqueTopic(), '--partitions', 'many']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('--partitions must be an integer');
    expect((await cli(['frobnicate'])).code).toBe(2);
    const conflicting = await cli([
      'consume',
      uniqueTopic(),
      '--from-beginning',
      '--partition',
      '0',
      '--offset',
      '0',
    ]);
    expect(conflicting.code).toBe(2);
    expect(conflicting.stderr).toContain('only one of');
    const unreachable = await runCli(['topics', 'list', '--endpoint', 'http://127.0.0.1:1'], '', false);
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toContain('npm start');
  });
});
