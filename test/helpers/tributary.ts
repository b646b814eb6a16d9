/** Clients and names for integration tests against the stack started by global-setup. */
import { randomBytes } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import type { StorageContext } from '../../sdk/src/context.ts';
import { Tributary, type TributaryOptions } from '../../sdk/src/index.ts';
import { DirectTransport } from '../../sdk/src/internal.ts';
import { DEFAULT_RETRY_POLICY } from '../../sdk/src/retry.ts';
import { tableNames } from '../../sdk/src/schema.ts';
import { testStackConfig } from './stack.ts';

const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

/** A topic name no other test uses. */
export function uniqueTopic(prefix = 't'): string {
  return `${prefix}-${randomBytes(5).toString('hex')}`;
}

/** A fresh DynamoDB client for the test stack (so a test's middleware stays its own). */
export function testDynamoDB(): DynamoDBClient {
  const { endpoint, region } = testStackConfig();
  return new DynamoDBClient({ endpoint, region, credentials, maxAttempts: 1 });
}

/** A fresh S3 client for the test stack. */
export function testS3(): S3Client {
  const { endpoint, region } = testStackConfig();
  return new S3Client({ endpoint, region, credentials, forcePathStyle: true, maxAttempts: 1 });
}

/** The transports the SDK's integration tests run against. */
export const TRANSPORTS = ['direct', 'http'] as const;

/**
 * A Tributary client for the test stack: direct to the emulators, or (with `transport: 'http'`)
 * through the local HTTP API, whose handler uses the same stack.
 */
export function testClient(
  overrides: Partial<Omit<TributaryOptions, 'transport'>> & { transport?: 'direct' | 'http' } = {},
): Tributary {
  if (overrides.transport === 'http') {
    const { region, apiUrl } = testStackConfig();
    return new Tributary({
      transport: 'http',
      endpoint: apiUrl,
      region,
      retry: { deadlineMs: 15_000 },
      ...(overrides.metadataMaxAgeMs === undefined ? {} : { metadataMaxAgeMs: overrides.metadataMaxAgeMs }),
    });
  }
  return new Tributary(directOptions(overrides));
}

/**
 * The direct transport over the test stack, with the options {@link testClient} gives a direct
 * client: for the API's handler and tests that work on its storage (`ctx`, `topics`).
 */
export function testDirectTransport(
  overrides: Partial<Omit<TributaryOptions, 'transport'>> = {},
): DirectTransport {
  return new DirectTransport(directOptions(overrides));
}

function directOptions(overrides: Partial<Omit<TributaryOptions, 'transport'>>): TributaryOptions {
  const { endpoint, region, tablePrefix, bucket } = testStackConfig();
  return {
    endpoint,
    region,
    tablePrefix,
    bucket,
    retry: { deadlineMs: 15_000 },
    ...overrides,
    transport: 'direct',
  };
}

/** A storage context for tests of internal modules. */
export function testContext(
  ddb: DynamoDBClient = testDynamoDB(),
  now: () => number = Date.now,
): StorageContext {
  const { tablePrefix, bucket } = testStackConfig();
  return {
    ddb,
    s3: testS3(),
    tables: tableNames(tablePrefix),
    bucket,
    retry: { ...DEFAULT_RETRY_POLICY, deadlineMs: 15_000 },
    now,
  };
}
