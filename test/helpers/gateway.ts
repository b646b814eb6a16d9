/** Kafka gateways on the integration tests' stack, and kcat against them. */
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { type Gateway, type GatewayOptions, startGateway } from '../../gateway/index.ts';
import { testStackConfig } from './stack.ts';

/**
 * A gateway on a free loopback port serving the test stack's tables (or those of `tablePrefix`),
 * its log lines kept in `lines` rather than printed, and no metric lines unless `metricsLog` is given.
 */
export async function startTestGateway(
  options: Omit<GatewayOptions, 'tributary' | 'host' | 'port' | 'log'> & { tablePrefix?: string } = {},
): Promise<Gateway & { readonly lines: string[] }> {
  const { endpoint, region, tablePrefix, bucket } = testStackConfig();
  const lines: string[] = [];
  const { tablePrefix: prefix, ...rest } = options;
  const gateway = await startGateway({
    metricsLog: false,
    ...rest,
    tributary: {
      endpoint,
      region,
      tablePrefix: prefix ?? tablePrefix,
      bucket,
      retry: { deadlineMs: 15_000 },
    },
    host: '127.0.0.1',
    port: 0,
    log: (line) => lines.push(line),
  });
  return Object.assign(gateway, { lines });
}

/** What a kcat run printed and how it exited. */
export interface KcatResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Fails with a clear message when kcat is not installed: the tests need it (`.ci/run` installs
 * Debian's kcat package), and are never skipped for want of it.
 */
export async function requireKcat(): Promise<void> {
  try {
    await promisify(execFile)('kcat', ['-V']);
  } catch (error) {
    throw new Error(
      'kcat is not installed, and the gateway tests use it (librdkafka 2.0.2, Debian): ' +
        `run "apt-get update && apt-get install -y kcat" (.ci/run does). Cause: ${String(error)}`,
    );
  }
}

/** Runs kcat with `args` against the gateway on `port`, `stdin` fed to it; fails after `timeoutMs`. */
export function kcat(
  port: number,
  args: readonly string[],
  stdin = '',
  timeoutMs = 30_000,
): Promise<KcatResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('kcat', ['-b', `127.0.0.1:${port}`, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`kcat ${args.join(' ')} did not finish within ${timeoutMs} ms; stderr: ${stderr}`));
    }, timeoutMs);
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(stdin);
  });
}

/**
 * Reads one partition from the beginning to its end with kcat (`-C -p P -o beginning -e`), each
 * message printed with kcat's `-f` format; `extra` adds options (e.g. SASL settings).
 */
export function kcatReadPartition(
  port: number,
  topic: string,
  partition: number,
  format: string,
  extra: readonly string[] = [],
): Promise<KcatResult> {
  const args = ['-C', '-t', topic, '-p', String(partition), '-o', 'beginning', '-e', '-f', format, ...extra];
  return kcat(port, args);
}
