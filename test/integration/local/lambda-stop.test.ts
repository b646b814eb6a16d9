/**
 * `stop()` of a stack serving Lambda functions leaves nothing behind: a child process starts a
 * stack, leaves one worker with a live interval and another spinning mid-invocation, stops the
 * stack and must then exit by itself (a worker thread still running would keep it alive).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import { until } from '../../helpers/wait.ts';

let child: ChildProcess | undefined;
let scratch: string | undefined;

afterAll(async () => {
  if (child?.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

it('terminates every worker, busy or idle, so the process can exit', async () => {
  scratch = await mkdtemp(join(tmpdir(), 'tributary-lambda-stop-'));
  const heartbeat = join(scratch, 'heartbeat');
  const script = `
    import { existsSync } from 'node:fs';
    import { setTimeout as sleep } from 'node:timers/promises';
    import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
    const [moduleUrl, handlers, heartbeat] = process.argv.slice(1);
    const { startLocalStack } = await import(moduleUrl);
    const stack = await startLocalStack({
      edgePort: 0,
      functions: [
        { name: 'lingering', module: handlers + '/lingering.ts' },
        { name: 'busy', module: handlers + '/busy.ts', timeoutMs: 600000 },
      ],
    });
    const client = new LambdaClient({
      endpoint: stack.endpoint,
      region: stack.region,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      maxAttempts: 1,
    });
    const answered = await client.send(new InvokeCommand({ FunctionName: 'lingering' }));
    console.log('ANSWERED ' + new TextDecoder().decode(answered.Payload));
    if (answered.FunctionError) process.exit(2);
    const spinning = client.send(
      new InvokeCommand({ FunctionName: 'busy', Payload: JSON.stringify({ heartbeat }) }),
    ).catch((error) => error);
    while (!existsSync(heartbeat)) await sleep(10);
    console.log('SPINNING');
    await stack.stop();
    await spinning;
    client.destroy();
    console.log('STOPPED');
  `;
  const started = spawn(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      script,
      new URL('../../../local/index.ts', import.meta.url).href,
      fileURLToPath(new URL('./handlers', import.meta.url)),
      heartbeat,
    ],
    { cwd: fileURLToPath(new URL('../../..', import.meta.url)), stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child = started;
  let stdout = '';
  let stderr = '';
  started.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  started.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });

  await until(() => started.exitCode !== null || started.signalCode !== null, {
    timeoutMs: 45_000,
    message: `the child to exit by itself after stop() (stdout: ${stdout}; stderr: ${stderr})`,
  });
  expect(started.exitCode, stderr).toBe(0);
  expect(stdout).toContain('ANSWERED "lingering"');
  expect(stdout).toContain('SPINNING');
  expect(stdout).toContain('STOPPED');
  expect(existsSync(heartbeat)).toBe(true);
});
