/** What the storage modules need to talk to AWS: clients, physical names, retry policy, clock. */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import type { RetryPolicy } from './retry.ts';
import type { TableNames } from './schema.ts';

/** Shared by every storage module of one {@link Tributary} client. */
export interface StorageContext {
  readonly ddb: DynamoDBClient;
  readonly s3: S3Client;
  readonly tables: TableNames;
  readonly bucket: string;
  readonly retry: RetryPolicy;
  /** Wall clock in epoch ms; injectable so tests can move time. */
  readonly now: () => number;
}
