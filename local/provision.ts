/**
 * Creates Tributary's tables and bucket from the shared schema. Idempotent: what exists is kept
 * (with its data), so it runs on every start of a persistent stack.
 */
import {
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  type DynamoDBClient,
  ResourceInUseException,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { BucketAlreadyOwnedByYou, CreateBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { StackNotReadyError } from '../sdk/src/index.ts';
import { createTableInput, TABLES, type TableSchema, tableName } from '../sdk/src/internal.ts';

/** Options of {@link provisionTables}. */
export interface ProvisionTablesOptions {
  /** The tables to create. @default TABLES (all of Tributary's) */
  readonly tables?: readonly TableSchema[];
  /** How long to wait for each table to become ACTIVE. @default 30000 */
  readonly timeoutMs?: number;
}

/** Options of {@link provision}. */
export interface ProvisionOptions {
  readonly ddb: DynamoDBClient;
  readonly s3: S3Client;
  readonly tablePrefix: string;
  readonly bucket: string;
}

async function waitUntilActive(ddb: DynamoDBClient, tableName: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { Table } = await ddb.send(new DescribeTableCommand({ TableName: tableName }));
    if (Table?.TableStatus === 'ACTIVE') return;
    if (Date.now() > deadline) {
      throw new StackNotReadyError(
        `Table ${tableName} is still ${Table?.TableStatus ?? 'unknown'} after ${timeoutMs} ms; expected ACTIVE.`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function enableTimeToLive(ddb: DynamoDBClient, tableName: string, attribute: string): Promise<void> {
  const { TimeToLiveDescription: ttl } = await ddb.send(
    new DescribeTimeToLiveCommand({ TableName: tableName }),
  );
  const on = ttl?.TimeToLiveStatus === 'ENABLED' || ttl?.TimeToLiveStatus === 'ENABLING';
  if (on && ttl?.AttributeName === attribute) return;
  await ddb.send(
    new UpdateTimeToLiveCommand({
      TableName: tableName,
      TimeToLiveSpecification: { Enabled: true, AttributeName: attribute },
    }),
  );
}

async function provisionTable(
  ddb: DynamoDBClient,
  schema: TableSchema,
  tableName: string,
  timeoutMs: number,
) {
  try {
    await ddb.send(new CreateTableCommand(createTableInput(schema, tableName)));
  } catch (error) {
    // It exists already: keep it and its data.
    if (!(error instanceof ResourceInUseException)) throw error;
  }
  await waitUntilActive(ddb, tableName, timeoutMs);
  if (schema.timeToLiveAttribute !== undefined)
    await enableTimeToLive(ddb, tableName, schema.timeToLiveAttribute);
}

/**
 * Creates the tables named `<prefix><suffix>` (as `tableNames()` in the schema names them) and
 * waits until they are ACTIVE; existing tables are kept.
 */
export async function provisionTables(
  ddb: DynamoDBClient,
  tablePrefix: string,
  options: ProvisionTablesOptions = {},
): Promise<void> {
  const { tables = TABLES, timeoutMs = 30_000 } = options;
  await Promise.all(
    tables.map((schema) => provisionTable(ddb, schema, tableName(schema, tablePrefix), timeoutMs)),
  );
}

/** Creates the bucket; an existing one is kept. */
export async function provisionBucket(s3: S3Client, bucket: string): Promise<void> {
  try {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  } catch (error) {
    if (!(error instanceof BucketAlreadyOwnedByYou)) throw error;
  }
}

/** Creates the tables and the bucket. */
export async function provision(options: ProvisionOptions): Promise<void> {
  await Promise.all([
    provisionTables(options.ddb, options.tablePrefix),
    provisionBucket(options.s3, options.bucket),
  ]);
}
