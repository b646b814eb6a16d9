/** The integration tests' stack (started by global-setup) as tests see it. */
import { randomBytes } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { inject } from 'vitest';
import { provisionTables } from '../../local/provision.ts';
import { isLoopbackEndpoint } from '../../sdk/src/loopback.ts';
import type { TestStackConfig } from './global-setup.ts';

export type { TestStackConfig } from './global-setup.ts';

/** Endpoint, region, table prefix and bucket of the running test stack. Refuses non-loopback endpoints. */
export function testStackConfig(): TestStackConfig {
  const config = inject('tributaryStack');
  if (!isLoopbackEndpoint(config.endpoint)) {
    throw new Error(`Refusing to run integration tests against a non-loopback endpoint: ${config.endpoint}`);
  }
  return config;
}

/**
 * Creates a fresh set of Tributary tables under a new unique prefix on the running stack and
 * returns the prefix, for tests that need tables no other test touches.
 */
export async function freshTablePrefix(label = 't'): Promise<string> {
  const { endpoint, region } = testStackConfig();
  const prefix = `${label}-${randomBytes(5).toString('hex')}-`;
  const ddb = new DynamoDBClient({
    endpoint,
    region,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  try {
    await provisionTables(ddb, prefix);
  } finally {
    ddb.destroy();
  }
  return prefix;
}
