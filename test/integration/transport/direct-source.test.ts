/**
 * A fetch smaller than a batch: the direct source reads each batch once and hands out the rest of
 * what it read on the next fetches, without a seek or a second read of the same items; and a
 * seek's item is the fetch's first batch, not read again.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { Tributary } from '../../../sdk/src/index.ts';
import { DirectPartitionSource } from '../../../sdk/src/transport/direct-source.ts';
import { injectFaults } from '../../helpers/faults.ts';
import { testClient, testContext, testDynamoDB, uniqueTopic } from '../../helpers/tributary.ts';

describe('direct partition source', () => {
  const ddb = testDynamoDB();
  const queries: Record<string, unknown>[] = [];
  /** Base offsets of the log items every query returned, in order (a repeat is an item paid for twice). */
  const itemsRead: number[] = [];
  injectFaults(ddb, ({ command, input }) => {
    if (command !== 'QueryCommand') return undefined;
    queries.push(input);
    return {
      rewrite: (output) => {
        for (const item of (output.Items ?? []) as { off?: { N?: string } }[])
          itemsRead.push(Number(item.off?.N));
        return output;
      },
    };
  });
  const tributary: Tributary = testClient({ dynamoDBClient: ddb });
  afterAll(() => tributary.close());

  /** A topic of one batch per entry of `sizes`, that many records each: `r0`, `r1`, ... */
  async function topicOfBatches(sizes: readonly number[]): Promise<string> {
    const topic = uniqueTopic('carry');
    await tributary.admin().createTopic({ topic, partitions: 1 });
    const producer = tributary.producer({ lingerMs: 0 });
    let next = 0;
    // One send at a time: each becomes a batch of its own.
    for (const size of sizes) {
      await producer.send({ topic, messages: Array.from({ length: size }, () => ({ value: `r${next++}` })) });
    }
    await producer.close();
    return topic;
  }

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
    // Counted from assign(), which does the one seek (the first fetch starts where it found).
    queries.length = 0;
    await consumer.assign([{ topic, partition: 0, offset: 0 }]);
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

  it('seeks once: assign() at an offset inside a batch, then consume', async () => {
    const topic = await topicOfBatches([100, 100, 100]);
    const consumer = tributary.consumer({ maxRecords: 1000 });
    queries.length = 0;
    itemsRead.length = 0;
    await consumer.assign([{ topic, partition: 0, offset: 150 }]);
    const seen: string[] = [];
    for (let polls = 0; seen.length < 150 && polls < 50; polls++) {
      for (const batch of await consumer.poll()) for (const m of batch.messages) seen.push(String(m.value));
    }
    consumer.close();
    expect(seen).toEqual(Array.from({ length: 150 }, (_, i) => `r${150 + i}`));
    // assign() seeks (reading the batch at 100); the first fetch starts where it found, reading the
    // batch as it is then (retention may have removed it since), and every batch after it once.
    expect(queries.filter((q) => q.ScanIndexForward === false)).toHaveLength(1);
    expect(itemsRead).toEqual([100, 100, 200]);
  });

  it('reads the batch it seeked to once: a new source per fetch, as the API opens them', async () => {
    const topic = await topicOfBatches([100, 100, 100]);
    const { incarnation } = await tributary.admin().describeTopic(topic);
    const ref = { topic, incarnation, partition: 0 };
    itemsRead.length = 0;
    const first = await new DirectPartitionSource(testContext(ddb), ref).fetch(130, {
      maxRecords: 120,
      maxBytes: 1024 * 1024,
      maxWaitMs: 0,
    });
    expect(first.records.map((r) => String(r.value))).toEqual(
      Array.from({ length: 120 }, (_, i) => `r${130 + i}`),
    );
    // The seek read the batch at 100; the fetch read only what follows it.
    expect(itemsRead).toEqual([100, 200]);
  });

  it('fills every fetch to maxRecords: records kept from the previous fetch are topped up by a read', async () => {
    // A query of 4 items here returns 26 records: 6 fetches of 4 leave 2 over.
    const sizes = [3, 10, 3, 10, 3, 10, 3, 10];
    const topic = await topicOfBatches(sizes);
    const consumer = tributary.consumer({ maxRecords: 4 });
    await consumer.assign([{ topic, partition: 0, offset: 0 }]);
    itemsRead.length = 0;
    const fetched: number[] = [];
    const seen: string[] = [];
    for (let polls = 0; seen.length < 52 && polls < 100; polls++) {
      for (const batch of await consumer.poll()) {
        fetched.push(batch.messages.length);
        for (const m of batch.messages) seen.push(String(m.value));
      }
    }
    consumer.close();
    expect(seen).toEqual(Array.from({ length: 52 }, (_, i) => `r${i}`));
    // 52 records in 13 fetches of 4: none cut short where a query's items ended.
    expect(fetched).toEqual(Array.from({ length: 13 }, () => 4));
    expect(new Set(itemsRead).size).toBe(itemsRead.length);
  });
});
