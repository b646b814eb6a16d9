/**
 * The reads and writes every kind of group item shares in the groups table (partition key: the
 * group id; sort key: what the item is): its key, a consistent query of the items whose sort key
 * starts with a prefix, and the metadata item that records that the group exists.
 */
import { type AttributeValue, QueryCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import type { StorageContext } from '../context.ts';
import { GROUP_META_KEY, GroupAttr } from '../keys.ts';
import { withRetry } from '../retry.ts';

type Item = Record<string, AttributeValue>;

/** The key of a group's item `k`. */
export function groupItemKey(group: string, k: string): Item {
  return { [GroupAttr.group]: { S: group }, [GroupAttr.key]: { S: k } };
}

/** The group's items whose sort key starts with `prefix`, read consistently, every page. */
export async function queryGroupItems(
  ctx: StorageContext,
  group: string,
  prefix: string,
  operation: string,
): Promise<Item[]> {
  const items: Item[] = [];
  let startKey: Item | undefined;
  do {
    const page = await withRetry(
      `${operation} (group ${group})`,
      () =>
        ctx.ddb.send(
          new QueryCommand({
            TableName: ctx.tables.groups,
            KeyConditionExpression: '#g = :g AND begins_with(#k, :prefix)',
            ExpressionAttributeNames: { '#g': GroupAttr.group, '#k': GroupAttr.key },
            ExpressionAttributeValues: { ':g': { S: group }, ':prefix': { S: prefix } },
            ConsistentRead: true,
            ...(startKey ? { ExclusiveStartKey: startKey } : {}),
          }),
        ),
      ctx.retry,
    );
    items.push(...(page.Items ?? []));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return items;
}

/**
 * Records that the group exists (its first member's join; listings find it by this item).
 * Idempotent, and never a failed condition: members joining at once all write it, and a failed
 * conditional write is billed like a write.
 */
export async function ensureGroupMeta(ctx: StorageContext, group: string): Promise<void> {
  await withRetry(
    `Creating consumer group (group ${group})`,
    () =>
      ctx.ddb.send(
        new UpdateItemCommand({
          TableName: ctx.tables.groups,
          Key: groupItemKey(group, GROUP_META_KEY),
          UpdateExpression: 'SET #c = if_not_exists(#c, :now)',
          ExpressionAttributeNames: { '#c': GroupAttr.createdAt },
          ExpressionAttributeValues: { ':now': { N: String(ctx.now()) } },
        }),
      ),
    ctx.retry,
  );
}
