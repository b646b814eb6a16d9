/**
 * The one BatchWriteItem loop: requests DynamoDB leaves unprocessed are sent again (and only
 * they), with the retry policy's backoff, until none is left; a batch still incomplete at the
 * deadline fails with a throttling error instead of looping forever. DynamoDB Local never leaves
 * requests unprocessed, so a fault rewrites the answer (the emulator did process them: deleting
 * again is harmless and shows that nothing is lost).
 */
import { randomBytes } from 'node:crypto';
import { type AttributeValue, PutItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { batchWriteAll } from '../../sdk/src/batch-write.ts';
import { ThrottledError } from '../../sdk/src/errors.ts';
import { LogAttr } from '../../sdk/src/keys.ts';
import { injectFaults } from '../helpers/faults.ts';
import { testContext, testDynamoDB } from '../helpers/tributary.ts';

type Item = Record<string, AttributeValue>;

/** Writes `n` items under a fresh partition key of the log table; returns the key and their keys. */
async function seed(n: number): Promise<{ pk: string; keys: Item[] }> {
  const ctx = testContext();
  const pk = `bw-${randomBytes(5).toString('hex')}:x:0`;
  const keys: Item[] = [];
  for (let off = 0; off < n; off++) {
    const key = { [LogAttr.partitionKey]: { S: pk }, [LogAttr.offset]: { N: String(off) } };
    await ctx.ddb.send(new PutItemCommand({ TableName: ctx.tables.log, Item: key }));
    keys.push(key);
  }
  return { pk, keys };
}

async function remaining(pk: string): Promise<number> {
  const ctx = testContext();
  const out = await ctx.ddb.send(
    new QueryCommand({
      TableName: ctx.tables.log,
      KeyConditionExpression: '#pk = :pk',
      ExpressionAttributeNames: { '#pk': LogAttr.partitionKey },
      ExpressionAttributeValues: { ':pk': { S: pk } },
      ConsistentRead: true,
    }),
  );
  return out.Count ?? 0;
}

/** The offsets a BatchWriteItem request deletes. */
function offsetsOf(input: Record<string, unknown>, table: string): number[] {
  const requests = (input.RequestItems as Record<string, { DeleteRequest?: { Key: Item } }[]>)[table] ?? [];
  return requests.map((r) => Number(r.DeleteRequest?.Key[LogAttr.offset]?.N));
}

describe('batchWriteAll', () => {
  it('sends what DynamoDB left unprocessed again, and only that, until every request is done', async () => {
    const { pk, keys } = await seed(30);
    const ddb = testDynamoDB();
    const ctx = testContext(ddb);
    const sent: number[][] = [];
    let rewrites = 0;
    injectFaults(ddb, ({ command, input }) => {
      if (command !== 'BatchWriteItemCommand') return undefined;
      sent.push(offsetsOf(input, ctx.tables.log));
      // The first two answers claim their last three requests were not processed.
      if (rewrites >= 2) return undefined;
      rewrites++;
      const left = (input.RequestItems as Record<string, unknown[]>)[ctx.tables.log]!.slice(-3);
      return { rewrite: (output) => ({ ...output, UnprocessedItems: { [ctx.tables.log]: left } }) };
    });
    await batchWriteAll(
      { ddb, table: ctx.tables.log, retry: ctx.retry },
      keys.map((Key) => ({ DeleteRequest: { Key } })),
      'Deleting test items',
    );
    const first = Array.from({ length: 25 }, (_, i) => i);
    expect(sent).toEqual([first, [22, 23, 24], [22, 23, 24], [25, 26, 27, 28, 29]]);
    expect(await remaining(pk)).toBe(0);
  });

  it('fails with a throttling error at the deadline while requests stay unprocessed', async () => {
    const { pk, keys } = await seed(3);
    const ddb = testDynamoDB();
    const ctx = testContext(ddb);
    let attempts = 0;
    injectFaults(ddb, ({ command, input }) => {
      if (command !== 'BatchWriteItemCommand') return undefined;
      attempts++;
      const all = (input.RequestItems as Record<string, unknown[]>)[ctx.tables.log]!;
      return { rewrite: (output) => ({ ...output, UnprocessedItems: { [ctx.tables.log]: all } }) };
    });
    const error = await batchWriteAll(
      { ddb, table: ctx.tables.log, retry: { baseDelayMs: 1, maxDelayMs: 5, deadlineMs: 100 } },
      keys.map((Key) => ({ DeleteRequest: { Key } })),
      'Deleting test items',
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ThrottledError);
    expect((error as ThrottledError).message).toContain('left 3 of');
    expect(attempts).toBeGreaterThan(1);
    // The emulator did delete them on the first attempt; only the answers claimed otherwise.
    expect(await remaining(pk)).toBe(0);
  });

  it('writes nothing and sends nothing for no requests', async () => {
    const ddb = testDynamoDB();
    const ctx = testContext(ddb);
    let calls = 0;
    injectFaults(ddb, ({ command }) => {
      if (command === 'BatchWriteItemCommand') calls++;
      return undefined;
    });
    await batchWriteAll({ ddb, table: ctx.tables.log, retry: ctx.retry }, [], 'Deleting nothing');
    expect(calls).toBe(0);
  });
});
