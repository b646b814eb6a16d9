/** Reads a partition's batch items as stored (for baselines and item-size reports), and sizes them as DynamoDB bills them. */
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

/** Item size as DynamoDB bills it: attribute names plus values (numbers: 1 byte per 2 digits + 1). */
export function dynamoItemBytes(item: Record<string, AttributeValue>): number {
  let size = 0;
  for (const [name, value] of Object.entries(item)) {
    size += Buffer.byteLength(name);
    if (value.B) size += value.B.byteLength;
    else if (value.S !== undefined) size += Buffer.byteLength(value.S);
    else if (value.N !== undefined) size += Math.ceil(value.N.replace(/^-|\.|^0+/g, '').length / 2) + 1;
    else size += 1;
  }
  return size;
}
