/**
 * A consumer with many partitions looks at every one of them within each idle interval, at most
 * `fetchConcurrency` fetches at a time, and gives every partition a turn in each round, busy or
 * not. Fetches are counted as DynamoDB queries (AWS SDK middleware on the consumer's client).
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { ConsumedMessage } from '../../sdk/src/index.ts';
import { emptyFetchesAfterSend, oldestRunning, watchFetches } from '../helpers/fetch-watch.ts';
import { seededRandom, testSeed } from '../helpers/random.ts';
import { testClient, testDynamoDB, uniqueTopic } from '../helpers/tributary.ts';
import { until } from '../helpers/wait.ts';

const tributary = testClient();
const admin = tributary.admin();
afterAll(() => tributary.close());

const range = (n: number, from = 0) => Array.from({ length: n }, (_, i) => from + i);

describe('consumer rounds (direct transport)', () => {
  it('a member holding 120 partitions looks at each every idle interval and delivers a record sent to any of them in one round', async () => {
    const partitions = 120;
    const topic = uniqueTopic('rounds');
    await admin.createTopic({ topic, partitions });
    const { incarnation } = await admin.describeTopic(topic);
    const ddb = testDynamoDB();
    const fetches = watchFetches(ddb, topic, incarnation);
    const client = testClient({ dynamoDBClient: ddb });
    /** Each message with the fetch log's length when the handler got it. */
    const delivered: { message: ConsumedMessage<Buffer | null>; at: number }[] = [];
    const member = client.consumer({
      groupId: uniqueTopic('g'),
      heartbeatIntervalMs: 1_000,
      sessionTimeoutMs: 3_000,
      onError: () => undefined,
    });
    await member.subscribe({ topics: [topic] });
    await member.run({
      eachMessage: async (message) => {
        delivered.push({ message, at: fetches.mark() });
      },
    });
    try {
      await until(() => member.assignment().length === partitions, {
        timeoutMs: 30_000,
        message: 'the member holds every partition',
      });
      // The member's order: the consumer goes round its partitions in the order they were assigned.
      const order = member.assignment().map((p) => p.partition);
      expect([...order].sort((a, b) => a - b)).toEqual(range(partitions));

      // Idle: every partition is fetched again and again, its interval doubling from 50 ms to
      // maxIdleIntervalMs (1 s) after 6 empty fetches. A window sliding one partition per poll
      // would leave most of them unread for minutes.
      fetches.resetMaxInFlight();
      const assigned = fetches.mark();
      await until(() => order.every((p) => fetches.since(assigned, p).length >= 7), {
        timeoutMs: 30_000,
        message: 'every partition fetched 7 times',
      });
      // One idle interval: while the last partition in the member's order is fetched three times
      // (two of its intervals), every partition is fetched, and none much more often than another.
      const last = order.at(-1)!;
      const window = fetches.mark();
      await until(() => fetches.since(window, last).length >= 3, {
        timeoutMs: 10_000,
        message: 'the last partition fetched 3 times',
      });
      const counts = fetches.countsSince(window);
      expect(order.filter((p) => (counts.get(p) ?? 0) === 0)).toEqual([]);
      expect(Math.max(...counts.values())).toBeLessThanOrEqual(4);
      // fetchConcurrency (8) bounds the fetches in flight.
      expect(fetches.maxInFlight).toBeGreaterThan(1);
      expect(fetches.maxInFlight).toBeLessThanOrEqual(8);

      // A record sent to an idle partition — the last in the member's order, the first, the middle
      // and random ones — is found by the first fetch of that partition that starts after it
      // landed (or by one already in flight), whatever the partition's place in the order.
      const random = seededRandom(testSeed('consumer rounds'));
      const targets = [
        last,
        order[0]!,
        order[partitions >> 1]!,
        ...range(3).map(() => order[Math.floor(random() * partitions)]!),
      ];
      const producer = client.producer({ lingerMs: 0 });
      for (const [i, partition] of targets.entries()) {
        const value = `probe-${i}`;
        const from = oldestRunning(fetches.log, (q) => q.items === undefined);
        const [meta] = await producer.send({ topic, messages: [{ value, partition }] });
        const sent = fetches.mark();
        await until(() => delivered.some((d) => d.message.value?.toString() === value), {
          timeoutMs: 15_000,
          message: `${value} delivered from partition ${partition}`,
        });
        const got = delivered.find((d) => d.message.value?.toString() === value)!;
        expect(got.message).toMatchObject({ topic, partition, offset: meta!.offset });
        expect(
          emptyFetchesAfterSend(
            fetches.log,
            partition,
            { from, sent, at: got.at },
            (q) => (q.items ?? 0) > 0,
          ),
        ).toBe(0);
        // ...within one round: no partition was fetched more than twice meanwhile (records
        // delivered a moment ago reset a partition's interval, so earlier probes may be fetched more).
        const meanwhile = [...fetches.countsSince(sent, got.at).entries()].filter(
          ([p, n]) => n > 2 && !targets.slice(0, i).includes(p) && p !== partition,
        );
        expect(meanwhile).toEqual([]);
      }
      expect(fetches.maxInFlight).toBeLessThanOrEqual(8);
      await producer.close();
    } finally {
      await member.disconnect();
      client.close();
    }
  });

  it('gives every partition a turn in each round: busy partitions do not hold back idle ones', async () => {
    const busy = 3;
    const idle = 20;
    const backlog = 200;
    const topic = uniqueTopic('fair');
    await admin.createTopic({ topic, partitions: busy + idle });
    const producer = tributary.producer({ lingerMs: 0 });
    // A backlog of one-record batches on each busy partition: with maxRecords 1 every fetch of it
    // reads one item, a round trip each, and always finds more.
    for (let i = 0; i < backlog; i++) {
      await Promise.all(
        range(busy).map((partition) =>
          producer.send({ topic, messages: [{ value: `busy-${partition}-${i}`, partition }] }),
        ),
      );
    }
    await producer.send({
      topic,
      messages: range(idle, busy).map((partition) => ({ value: `idle-${partition}`, partition })),
    });
    await producer.close();
    // Fewer fetches at a time than busy partitions: a scheduler that refetched partitions with
    // data first would keep both slots on them until their backlogs were drained.
    const consumer = tributary.consumer({ fetchConcurrency: 2, maxRecords: 1 });
    await consumer.assign(range(busy + idle).map((partition) => ({ topic, partition, offset: 'earliest' })));
    const busyDelivered = range(busy).map(() => 0);
    const idleDelivered = new Set<number>();
    for (let polls = 0; idleDelivered.size < idle && polls < 2_000; polls++) {
      for (const batch of await consumer.poll()) {
        if (batch.partition < busy) busyDelivered[batch.partition]! += batch.messages.length;
        else idleDelivered.add(batch.partition);
      }
    }
    consumer.close();
    expect([...idleDelivered].sort((a, b) => a - b)).toEqual(range(idle, busy));
    // Every idle partition had its turn in the first round or two, each busy partition one per
    // round meanwhile: far from draining its backlog.
    for (const n of busyDelivered) {
      expect(n).toBeGreaterThan(0);
      expect(n).toBeLessThan(backlog / 4);
    }
  });
});
