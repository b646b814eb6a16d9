/**
 * One DynamoDB Local per simulated region, started concurrently. If one fails to start, those
 * that did are stopped again before the error is thrown, so nothing is left running.
 */
import { type DynamoDBLocal, startDynamoDBLocal } from '../dynamodb-local.ts';

/** A region's DynamoDB Local. */
export interface RegionalDynamoDB {
  readonly region: string;
  readonly dynamodb: DynamoDBLocal;
}

/** Options of {@link startRegionalDynamoDB}. */
export interface RegionalDynamoDBOptions {
  /** Each region and the port its DynamoDB Local listens on. */
  readonly regions: readonly { readonly region: string; readonly port: number }[];
  /** Where a single region keeps its data; several regions are always in memory. */
  readonly dbPath?: string | undefined;
  /** Receives DynamoDB Local's lines, prefixed with the region when there are several. */
  readonly log?: ((line: string) => void) | undefined;
}

/** Starts them all; resolves in the order of `regions`. */
export async function startRegionalDynamoDB(
  options: RegionalDynamoDBOptions,
): Promise<readonly RegionalDynamoDB[]> {
  const { regions, dbPath, log } = options;
  const several = regions.length > 1;
  const results = await Promise.allSettled(
    regions.map(async ({ region, port }) => ({
      region,
      dynamodb: await startDynamoDBLocal({
        port,
        dbPath: several ? undefined : dbPath,
        log: log && several ? (line) => log(`[${region}] ${line}`) : log,
      }),
    })),
  );
  const started = results.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  const failure = results.find((result) => result.status === 'rejected');
  if (failure) {
    await Promise.allSettled(started.map(({ dynamodb }) => dynamodb.stop()));
    throw failure.reason;
  }
  return started;
}
