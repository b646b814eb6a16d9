/** Runs the `tributary` CLI as a real process against the test stack. */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { testStackConfig } from './stack.ts';

const MAIN = fileURLToPath(new URL('../../cli/main.ts', import.meta.url));

/** What a CLI run printed and how it exited. */
export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `tributary <args>` with `stdin`. Connection flags for the test stack are appended unless
 * `connect` is false (to test other endpoints).
 */
export function runCli(args: string[], stdin = '', connect = true): Promise<CliResult> {
  const { endpoint, tablePrefix, region, bucket } = testStackConfig();
  const connection = connect
    ? ['--endpoint', endpoint, '--table-prefix', tablePrefix, '--region', region, '--bucket', bucket]
    : [];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args, ...connection], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, AWS_ENDPOINT_URL: '', TRIBUTARY_ENDPOINT: '', TRIBUTARY_API_URL: '' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin);
  });
}
