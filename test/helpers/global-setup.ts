/**
 * Vitest globalSetup of the `integration` project: one in-memory local stack (DynamoDB Local and
 * the S3 emulator behind the edge) on free loopback ports, with a table prefix unique to this run.
 * Tests read it with `testStackConfig()` from `./stack.ts`.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { startLocalStack } from '../../local/stack.ts';
import { isLoopbackEndpoint } from '../../sdk/src/loopback.ts';

/** Where the integration tests' stack is. */
export interface TestStackConfig {
  /** The edge endpoint (DynamoDB, DynamoDB Streams, S3 path-style). Always loopback. */
  readonly endpoint: string;
  readonly region: string;
  /** Prefix of the tables created for this run. */
  readonly tablePrefix: string;
  readonly bucket: string;
  /** The local HTTP API (the Lambda handler behind a loopback server). */
  readonly apiUrl: string;
  /**
   * Where the fixture functions (`test/fixtures/functions/recorder.ts`, registered as `recorder`
   * and, reporting batch item failures, `recorder-partial`; `recorder-slow` times out after 1 s)
   * record the events they receive: `<dir>/<topic>.jsonl`; `probe` (`test/fixtures/functions/probe.ts`)
   * also records when each invocation ended, in `<dir>/<topic>.ends.jsonl`.
   */
  readonly recordDir: string;
}

const RECORDER = fileURLToPath(new URL('../fixtures/functions/recorder.ts', import.meta.url));
/** A function written with `tributary/lambda`'s kafkaHandler; it records to `<dir>/<topic>.helper.jsonl`. */
const LAMBDA_HELPER = fileURLToPath(new URL('../fixtures/functions/lambda-helper.ts', import.meta.url));
const PROBE = fileURLToPath(new URL('../fixtures/functions/probe.ts', import.meta.url));

declare module 'vitest' {
  export interface ProvidedContext {
    tributaryStack: TestStackConfig;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const recordDir = mkdtempSync(join(tmpdir(), 'tributary-recorded-'));
  const environment = { RECORD_DIR: recordDir };
  const stack = await startLocalStack({
    edgePort: 0,
    tablePrefix: `test-${randomBytes(4).toString('hex')}-`,
    apiPort: 0,
    functions: [
      { name: 'recorder', module: RECORDER, environment, concurrency: 32 },
      {
        name: 'recorder-partial',
        module: RECORDER,
        environment: { ...environment, REPORT_FAILURES: '1' },
        concurrency: 32,
      },
      { name: 'recorder-slow', module: RECORDER, environment, timeoutMs: 1_000, concurrency: 8 },
      // Longer than a trigger's function may run (840 s): creating a trigger on it is refused.
      { name: 'recorder-too-long', module: RECORDER, environment, timeoutMs: 900_000, concurrency: 1 },
      { name: 'lambda-helper', module: LAMBDA_HELPER, environment, concurrency: 8 },
      { name: 'probe', module: PROBE, environment, timeoutMs: 2_000, concurrency: 16 },
    ],
  });
  try {
    if (!isLoopbackEndpoint(stack.endpoint)) {
      throw new Error(`Refusing to run integration tests against a non-loopback endpoint: ${stack.endpoint}`);
    }
    project.provide('tributaryStack', {
      endpoint: stack.endpoint,
      region: stack.region,
      tablePrefix: stack.tablePrefix,
      bucket: stack.bucket,
      apiUrl: stack.apiUrl!,
      recordDir,
    });
  } catch (error) {
    await stack.stop();
    throw error;
  }
  return async () => {
    await stack.stop();
    rmSync(recordDir, { recursive: true, force: true });
  };
}
