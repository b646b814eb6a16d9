/**
 * One read of an idempotent producer's sequence state on a partition (`producer-state.ts`), for
 * callers that must say *why* a batch was refused: Kafka answers a fenced epoch, a duplicate and a
 * gap with different error codes, while the claim path only says "refused". It is read on that
 * path only, never in steady state.
 *
 * (The log table's commands belong in `log-store.ts`; this read sits here while that module is
 * being reworked, and moves there as `LogStore.readProducerState`.)
 */
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import type { StorageContext } from '../context.ts';
import { LogAttr, type PartitionRef, partitionLabel, producerStateKey } from '../keys.ts';
import { withRetry } from '../retry.ts';
import { type ProducerState, stateFromItem } from './producer-state.ts';

/** The producer's state on the partition, read consistently; undefined when it has none. */
export async function readProducerState(
  ctx: StorageContext,
  ref: PartitionRef,
  producerId: string,
): Promise<ProducerState | undefined> {
  const out = await withRetry(
    `Reading the state of producer ${producerId} on ${partitionLabel(ref)}`,
    () =>
      ctx.ddb.send(
        new GetItemCommand({
          TableName: ctx.tables.log,
          Key: {
            [LogAttr.partitionKey]: { S: producerStateKey(ref) },
            [LogAttr.offset]: { N: producerId },
          },
          ConsistentRead: true,
        }),
      ),
    ctx.retry,
  );
  return out.Item ? stateFromItem(out.Item) : undefined;
}
