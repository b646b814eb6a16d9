/** Reads a partition's batch items as stored (for baselines and item-size reports). */
import { type AttributeValue, type DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';
import { type PartitionRef, partitionKey } from '../sdk/src/internal.ts';

/** Every batch item of the partition (not its metadata item at `off = -1`), in offset order. */
export async function partitionLogItems(
  ddb: DynamoDBClient,
  table: string,
  ref: PartitionRef,
): Promise<Record<string, AttributeValue>[]> {
  const items: Record<string, AttributeValue>[] = [];
  let startKey: Record<string, AttributeValue> | undefined;
  do {
    const page = await ddb.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: 'pk = :pk AND #off >= :zero',
        ExpressionAttributeNames: { '#off': 'off' },
        ExpressionAttributeValues: { ':pk': { S: partitionKey(ref) }, ':zero': { N: '0' } },
        ...(startKey ? { ExclusiveStartKey: startKey } : {}),
      }),
    );
    items.push(...(page.Items ?? []));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return items;
}
