/**
 * A fetch smaller than a batch: the direct source reads each batch once and hands out the rest of
 * what it read on the next fetches, without a seek or a second read of the same items.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { Tributary } from '../../../sdk/src/index.ts';
import { injectFaults } from '../../helpers/faults.ts';
import { testClient, testDynamoDB, uniqueTopic } from '../../helpers/tributary.ts';

describe('direct partition source', () => {
  const ddb = testDynamoDB();
  const queries: Record<string, unknown>[] = [];
  injectFaults(ddb, ({ command, input }) => {
    if (command === 'QueryCommand') queries.push(input);
    return undefined;
  });
  const tributary: Tributary = testClient({ dynamoDBClient: ddb });
  afterAll(() => tributary.close());

  it('serves a batch larger than maxRecords from one read, in order, with nothing skipped', async () => {
    const topic = uniqueTopic('carry');
    await tributary.admin().createTopic({ topic, partitions: 1 });
    const producer = tributary.producer({ lingerMs: 50 });
    await Promise.all(
      Array.from({ length: 3 }, (_, round) =>
        producer.send({
          topic,
          messages: Array.from({ length: 100 }, (__, i) => ({ value: `r${round * 100 + i}` })),
        }),
      ),
    );
    await producer.close();
    const consumer = tributary.consumer({ maxRecords: 7 });
    await consumer.assign([{ topic, partition: 0, offset: 0 }]);
    queries.length = 0;
    const seen: string[] = [];
    for (let polls = 0; seen.length < 300 && polls < 200; polls++) {
      for (const batch of await consumer.poll()) {
        expect(batch.messages.length).toBeLessThanOrEqual(7);
        for (const m of batch.messages) seen.push(String(m.value));
      }
    }
    await consumer.close();
    expect(seen).toEqual(Array.from({ length: 300 }, (_, i) => `r${i}`));
    // Reads ascend through the log once: one seek to find the first batch, and no item range read twice.
    expect(queries.filter((q) => q.ScanIndexForward === false)).toHaveLength(1);
    const starts = queries.map((q) =>
      Number((q.ExpressionAttributeValues as Record<string, { N: string }>)[':from']?.N),
    );
    expect(new Set(starts).size).toBe(starts.length);
  });
});
