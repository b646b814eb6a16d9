/**
 * `tributary gateway` as a real process against the test stack: it prints where it listens and
 * how to point kcat and kafkajs at it, serves kcat (with SASL/PLAIN users from a file), and stops
 * cleanly on SIGTERM. Its `--help` and its usage errors.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { functionEnvironment } from '../../../functions/environment.ts';
import { tableNames } from '../../../sdk/src/schema.ts';
import { runCli } from '../../helpers/cli.ts';
import { kcat, requireKcat } from '../../helpers/gateway.ts';
import { testStackConfig } from '../../helpers/stack.ts';
import { testClient, uniqueTopic } from '../../helpers/tributary.ts';
import { until } from '../../helpers/wait.ts';

const MAIN = fileURLToPath(new URL('../../../cli/main.ts', import.meta.url));
const client = testClient();
const dir = mkdtempSync(join(tmpdir(), 'gateway-cli-'));
afterAll(() => {
  client.close();
  rmSync(dir, { recursive: true, force: true });
});

/**
 * Starts `tributary gateway <args>` on the test stack (its tables by prefix, or, with `env`, by the
 * variables given there); resolves once it printed its address.
 */
async function startCli(
  args: string[],
  env?: Record<string, string>,
): Promise<{ child: ChildProcess; port: number; stdout: () => string }> {
  const { endpoint, tablePrefix, region, bucket } = testStackConfig();
  const storage = env ? [] : ['--table-prefix', tablePrefix, '--bucket', bucket];
  const child = spawn(
    process.execPath,
    [MAIN, 'gateway', '--port', '0', ...args, '--endpoint', endpoint, '--region', region, ...storage],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, TRIBUTARY_GATEWAY_SASL_USERS: '', ...env },
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d) => {
    stdout += d;
  });
  child.stderr?.on('data', (d) => {
    stderr += d;
  });
  await until(() => /listening on 127\.0\.0\.1:\d+/.test(stdout) || child.exitCode !== null, {
    timeoutMs: 30_000,
    message: `the gateway to start (stderr: ${stderr})`,
  });
  const match = /listening on 127\.0\.0\.1:(\d+)/.exec(stdout);
  if (!match) throw new Error(`The gateway did not start: ${stderr}`);
  return { child, port: Number(match[1]), stdout: () => stdout };
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });
}

describe('tributary gateway', () => {
  it('prints how to connect, serves kcat with SASL/PLAIN users from a file, and stops on SIGTERM', async () => {
    await requireKcat();
    const topic = uniqueTopic('cli-gw');
    await client.admin().createTopic({ topic, partitions: 1 });
    const users = join(dir, 'users');
    writeFileSync(users, '# gateway users\ncarol:secret\n\n');
    const { child, port, stdout } = await startCli(['--sasl-users-file', users]);
    try {
      expect(stdout()).toContain(`kcat -b 127.0.0.1:${port} -L`);
      expect(stdout()).toContain(`new Kafka({ brokers: ['127.0.0.1:${port}'] })`);
      expect(stdout()).toContain('SASL/PLAIN required');
      const sasl = [
        '-X',
        'security.protocol=SASL_PLAINTEXT',
        '-X',
        'sasl.mechanisms=PLAIN',
        '-X',
        'sasl.username=carol',
        '-X',
        'sasl.password=secret',
      ];
      const produced = await kcat(port, ['-P', '-t', topic, '-p', '0', ...sasl], 'via-cli\n');
      expect(produced.code, produced.stderr).toBe(0);
      const listed = await kcat(port, ['-L', '-t', topic, ...sasl]);
      expect(listed.stdout).toContain(`topic "${topic}" with 1 partitions`);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited(child)).toBe(0);
    expect((await client.admin().partitionOffsets(topic, 0)).highWatermark).toBe(1);
  });

  it('with --tables-from-env finds the tables and bucket where the CDK construct names them', async () => {
    await requireKcat();
    const topic = uniqueTopic('cli-env');
    await client.admin().createTopic({ topic, partitions: 2 });
    const { tablePrefix, bucket } = testStackConfig();
    const env = functionEnvironment({ tables: tableNames(tablePrefix), bucket });
    const { child, port } = await startCli(['--tables-from-env'], env);
    try {
      const listed = await kcat(port, ['-L', '-t', topic]);
      expect(listed.stdout).toContain(`topic "${topic}" with 2 partitions`);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited(child)).toBe(0);
    // Names come from one place: with a prefix as well, or without the variables, it refuses.
    const endpoint = ['--endpoint', testStackConfig().endpoint];
    const both = await runCli(
      ['gateway', '--port', '0', '--tables-from-env', '--table-prefix', 'x-', ...endpoint],
      '',
      false,
    );
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/--tables-from-env/);
    const missing = await runCli(['gateway', '--port', '0', '--tables-from-env', ...endpoint], '', false);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('TRIBUTARY_LOG_TABLE');
  });

  it('with --health-port serves /health and /metrics, and prints where', async () => {
    const { child, stdout } = await startCli(['--health-port', '0']);
    try {
      const match = /Health on (http:\/\/127\.0\.0\.1:\d+)\/health, metrics on \/metrics/.exec(stdout());
      expect(match, stdout()).not.toBeNull();
      const base = match?.[1] as string;
      const health = await fetch(`${base}/health`);
      expect(health.status).toBe(200);
      expect(await health.json()).toMatchObject({ status: 'ok' });
      const metrics = await fetch(`${base}/metrics`);
      expect(metrics.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      expect(await metrics.text()).toContain('tributary_gateway_connections_total 0');
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited(child)).toBe(0);
  });

  it('documents itself in --help and refuses bad usage', async () => {
    const help = await runCli(['gateway', '--help'], '', false);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('tributary gateway [--host ADDR] [--port N]');
    expect(help.stdout).toContain('--sasl-users-file FILE');
    expect(help.stdout).toContain('--health-port N serves GET /health');
    const full = await runCli(['--help'], '', false);
    expect(full.stdout).toContain('tributary gateway');

    const api = await runCli(['gateway', '--api', 'http://127.0.0.1:1'], '', false);
    expect(api.code).toBe(2);
    expect(api.stderr).toMatch(/not --api/);
    const file = join(dir, 'bad-users');
    writeFileSync(file, 'no-colon-here\n');
    const bad = await runCli(['gateway', '--port', '0', '--sasl-users-file', file]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/entry 1 is not "user:password"/);
    expect(bad.stderr).not.toContain('no-colon-here');
    const wildcard = await runCli(['gateway', '--host', '0.0.0.0', '--port', '0']);
    expect(wildcard.code).toBe(2);
    expect(wildcard.stderr).toMatch(/give --advertised-host/);
    expect(help.stdout).toContain('--tls-cert FILE --tls-key FILE');
    const halfTls = await runCli(['gateway', '--port', '0', '--tls-cert', file]);
    expect(halfTls.code).toBe(2);
    expect(halfTls.stderr).toMatch(/--tls-cert and --tls-key go together/);
    const unreadable = await runCli([
      'gateway',
      '--port',
      '0',
      '--tls-cert',
      join(dir, 'nope.pem'),
      '--tls-key',
      file,
    ]);
    expect(unreadable.code).toBe(2);
    expect(unreadable.stderr).toMatch(/--tls-cert: cannot read/);
  });
});
