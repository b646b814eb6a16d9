/** Every command and subcommand of the CLI answers `--help` with its own usage and exit code 0. */
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../../cli/usage.ts';
import { runCli } from '../../helpers/cli.ts';

const invocations = Object.entries(COMMANDS).flatMap(([command, usage]) => [
  [command],
  ...Object.keys(usage.forms)
    .filter((sub) => sub !== '')
    .map((sub) => [command, sub]),
]);

describe('tributary <command> --help', () => {
  it.each(invocations)('%s %s --help prints its usage and exits 0', async (...words) => {
    for (const flag of ['--help', '-h']) {
      const result = await runCli([...words, flag], '', false);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stderr).toBe('');
      expect(result.stdout).toContain(`tributary ${words[0]}`);
      if (words[1]) expect(result.stdout).toContain(`tributary ${words[0]} ${words[1]}`);
      expect(result.stdout).toContain('Usage:');
    }
  });

  it('refuses help for an unknown command with exit code 2', async () => {
    const result = await runCli(['nope', '--help'], '', false);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/Unknown command "nope"/);
  });
});
