/**
 * The one `BatchWriteItem` loop. DynamoDB may leave part of a batch unprocessed (the table or a
 * partition was over its capacity) without failing the call; those requests are sent again with
 * the SDK's retry policy ({@link withRetry}: exponential backoff, full jitter, a deadline), exactly
 * like a throttled call, and a batch still incomplete at the deadline fails with
 * {@link ThrottledError} instead of looping forever.
 */
import { BatchWriteItemCommand, type DynamoDBClient, type WriteRequest } from '@aws-sdk/client-dynamodb';
import { ThrottledError } from './errors.ts';
import { type RetryPolicy, withRetry } from './retry.ts';

/** DynamoDB's limit on requests in one `BatchWriteItem`. */
export const MAX_BATCH_WRITE_REQUESTS = 25;

/** Where and how a batch write is sent. */
export interface BatchWriteTarget {
  readonly ddb: DynamoDBClient;
  readonly table: string;
  readonly retry: RetryPolicy;
}

/**
 * Sends `requests` to one table in `BatchWriteItem`s of at most 25, one after the other, each
 * repeated for its unprocessed requests until none is left. `operation` names the work in errors.
 *
 * @throws ThrottledError when requests are still unprocessed at the retry policy's deadline.
 */
export async function batchWriteAll(
  target: BatchWriteTarget,
  requests: readonly WriteRequest[],
  operation: string,
): Promise<void> {
  const { ddb, table, retry } = target;
  for (let i = 0; i < requests.length; i += MAX_BATCH_WRITE_REQUESTS) {
    let pending = requests.slice(i, i + MAX_BATCH_WRITE_REQUESTS);
    await withRetry(
      operation,
      async () => {
        const out = await ddb.send(new BatchWriteItemCommand({ RequestItems: { [table]: pending } }));
        const unprocessed = out.UnprocessedItems?.[table] ?? [];
        if (unprocessed.length === 0) return;
        // Only what is left goes out again; a throttling error makes withRetry back off first.
        pending = unprocessed;
        throw new ThrottledError(
          `${operation}: DynamoDB left ${unprocessed.length} of the batch's requests unprocessed`,
        );
      },
      retry,
    );
  }
}
