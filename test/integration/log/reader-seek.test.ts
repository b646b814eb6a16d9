/**
 * A seek to the high watermark of a partition while a record lands there: the offset stays valid
 * (it is the new record's), never OFFSET_OUT_OF_RANGE. Consumers that fetch without waiting seek
 * to the tail on every fetch through the API, so they meet this race whenever a record arrives.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { DirectPartitionSource } from '../../../sdk/src/transport/direct-source.ts';
import { injectFaults } from '../../helpers/faults.ts';
import { testClient, testContext, testDynamoDB, uniqueTopic } from '../../helpers/tributary.ts';

const tributary = testClient();
afterAll(() => tributary.close());

describe('seek at the tail', () => {
  it('finds a batch that landed while the seek looked for it', async () => {
    const topic = uniqueTopic('seek-race');
    await tributary.admin().createTopic({ topic, partitions: 1 });
    const { incarnation } = await tributary.admin().describeTopic(topic);
    const ddb = testDynamoDB();
    const producer = tributary.producer({ lingerMs: 0 });
    let landed = 0;
    // The seek of offset 0 in the empty partition finds no batch; before it reads the high
    // watermark (a consistent tail query), the record lands at offset 0.
    injectFaults(ddb, ({ command, input }) => {
      const values = input.ExpressionAttributeValues as Record<string, unknown> | undefined;
      const tailQuery =
        command === 'QueryCommand' &&
        input.ScanIndexForward === false &&
        input.ConsistentRead === true &&
        values?.[':zero'] !== undefined &&
        values[':at'] === undefined;
      if (!tailQuery || landed > 0) return undefined;
      return {
        before: async () => {
          landed++;
          await producer.send({ topic, messages: [{ value: 'landed', partition: 0 }] });
        },
      };
    });
    const source = new DirectPartitionSource(testContext(ddb), { topic, incarnation, partition: 0 });
    const fetched = await source.fetch(0, { maxRecords: 10, maxBytes: 1 << 20, maxWaitMs: 0 });
    expect(landed).toBe(1);
    expect(fetched.records.map((r) => [r.offset, r.value?.toString()])).toEqual([[0, 'landed']]);
    expect(fetched.nextOffset).toBe(1);
    await producer.close();
  });
});
