/**
 * Vitest globalSetup of the `integration` project: one in-memory local stack (DynamoDB Local and
 * the S3 emulator behind the edge) on free loopback ports, with a table prefix unique to this run.
 * Tests read it with `testStackConfig()` from `./stack.ts`.
 */
import { randomBytes } from 'node:crypto';
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
}

declare module 'vitest' {
  export interface ProvidedContext {
    tributaryStack: TestStackConfig;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const stack = await startLocalStack({
    edgePort: 0,
    tablePrefix: `test-${randomBytes(4).toString('hex')}-`,
    apiPort: 0,
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
    });
  } catch (error) {
    await stack.stop();
    throw error;
  }
  return () => stack.stop();
}
