/**
 * Many partitions over the HTTP transport: a consumer long-polls only while each unpaused
 * partition can have a request of its own (at most `fetchConcurrency`); with more it fetches
 * without waiting, in rounds, never more than `fetchConcurrency` requests at once, and delivers a
 * record sent to any partition. Against the local API and DynamoDB Local.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Consumer } from '../../../sdk/src/consumer.ts';
import { type ConsumedMessage, Tributary } from '../../../sdk/src/index.ts';
import { DEFAULT_RETRY_POLICY } from '../../../sdk/src/retry.ts';
import { rawDeserializer } from '../../../sdk/src/serde.ts';
import { HttpClient } from '../../../sdk/src/transport/http-client.ts';
import { httpSources } from '../../../sdk/src/transport/http-source.ts';
import type { PartitionSourceFactory } from '../../../sdk/src/transport/partition-source.ts';
import { startChaosProxy } from '../../helpers/chaos-proxy.ts';
import { emptyFetchesAfterSend, oldestRunning } from '../../helpers/fetch-watch.ts';
import { seededRandom, testSeed } from '../../helpers/random.ts';
import { testStackConfig } from '../../helpers/stack.ts';
import { testClient, uniqueTopic } from '../../helpers/tributary.ts';
import { until } from '../../helpers/wait.ts';

const stack = testStackConfig();
const tributary = testClient();
const admin = tributary.admin();
afterAll(() => tributary.close());

const range = (n: number, from = 0) => Array.from({ length: n }, (_, i) => from + i);

interface CountedFetch {
  readonly partition: number;
  readonly maxWaitMs: number;
  /** Records it returned; undefined while it runs (or when it failed or was cancelled). */
  records: number | undefined;
  running: boolean;
}

/**
 * HTTP partition sources whose fetches are logged (partition, long-poll wait asked for, records
 * returned) and counted while in flight; a fetch the consumer cancels (its signal aborted) stops
 * counting at once.
 */
function countedSources(inner: PartitionSourceFactory) {
  const log: CountedFetch[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const factory: PartitionSourceFactory = async (tp) => {
    const source = await inner(tp);
    return {
      partition: source.partition,
      waitsForRecords: source.waitsForRecords,
      resolve: (start) => source.resolve(start),
      timestampOffset: (timestamp) => source.timestampOffset(timestamp),
      async fetch(position, limits, signal) {
        const entry: CountedFetch = {
          partition: tp.partition,
          maxWaitMs: limits.maxWaitMs,
          records: undefined,
          running: true,
        };
        log.push(entry);
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        let counted = true;
        const done = () => {
          if (counted) inFlight--;
          counted = false;
          entry.running = false;
        };
        signal?.addEventListener('abort', done, { once: true });
        try {
          const fetched = await source.fetch(position, limits, signal);
          entry.records = fetched.records.length;
          return fetched;
        } finally {
          signal?.removeEventListener('abort', done);
          done();
        }
      },
    };
  };
  return {
    factory,
    log,
    get inFlight() {
      return inFlight;
    },
    get maxInFlight() {
      return maxInFlight;
    },
    resetMaxInFlight() {
      maxInFlight = inFlight;
    },
  };
}

describe('many partitions over HTTP', () => {
  it('long-polls while each partition can have a request of its own, else fetches in rounds within fetchConcurrency', async () => {
    const topic = uniqueTopic('http-rounds');
    const partitions = 100;
    await admin.createTopic({ topic, partitions });
    const http = new HttpClient({
      endpoint: stack.apiUrl,
      region: stack.region,
      retry: { ...DEFAULT_RETRY_POLICY, deadlineMs: 15_000 },
    });
    const counted = countedSources(httpSources(http));
    const consumer = new Consumer(counted.factory, { deserializer: rawDeserializer, maxWaitMs: 2_000 });
    const delivered: { message: ConsumedMessage<Buffer | null>; at: number }[] = [];
    const loop = (async () => {
      for await (const message of consumer.messages()) delivered.push({ message, at: counted.log.length });
    })();
    const producer = tributary.producer({ lingerMs: 0 });
    /** Sends a record to `partition` and waits until the consumer delivered it. */
    const probe = async (partition: number, value: string) => {
      const from = oldestRunning(counted.log, (f) => f.running);
      const [meta] = await producer.send({ topic, messages: [{ value, partition }] });
      const sent = counted.log.length;
      await until(() => delivered.some((d) => d.message.value?.toString() === value), {
        timeoutMs: 15_000,
        message: `${value} delivered from partition ${partition}`,
      });
      const got = delivered.find((d) => d.message.value?.toString() === value)!;
      expect(got.message).toMatchObject({ topic, partition, offset: meta!.offset });
      // Found by the first fetch of its partition that started after it landed (or one in flight).
      expect(
        emptyFetchesAfterSend(
          counted.log,
          partition,
          { from, sent, at: got.at },
          (f) => (f.records ?? 0) > 0,
        ),
      ).toBe(0);
    };
    try {
      // Four partitions: each has a long-poll of its own.
      const few = [0, 1, 2, 3];
      await consumer.assign(few.map((partition) => ({ topic, partition, offset: 'latest' as const })));
      await until(() => counted.inFlight === few.length, { message: 'a long-poll per partition' });
      expect(counted.log.every((f) => f.maxWaitMs === 2_000)).toBe(true);
      await probe(3, 'few');

      // A hundred: no long-polls (those in flight are cancelled), short fetches at most 8 at a time.
      await consumer.assign(
        range(partitions - few.length, few.length).map((partition) => ({
          topic,
          partition,
          offset: 'latest' as const,
        })),
      );
      const many = counted.log.length;
      counted.resetMaxInFlight();
      await until(
        () => range(partitions).every((p) => counted.log.slice(many).some((f) => f.partition === p)),
        {
          timeoutMs: 20_000,
          message: 'every partition fetched',
        },
      );
      expect(counted.log.slice(many).filter((f) => f.maxWaitMs !== 0)).toEqual([]);
      const random = seededRandom(testSeed('http rounds'));
      const targets = [partitions - 1, 0, ...range(2).map(() => Math.floor(random() * partitions))];
      for (const [i, partition] of targets.entries()) await probe(partition, `many-${i}`);
      expect(counted.log.slice(many).filter((f) => f.maxWaitMs !== 0)).toEqual([]);
      expect(counted.maxInFlight).toBeGreaterThan(1);
      expect(counted.maxInFlight).toBeLessThanOrEqual(8);

      // Back to four: long-polls again.
      consumer.unassign(
        range(partitions - few.length, few.length).map((partition) => ({ topic, partition })),
      );
      const back = counted.log.length;
      await until(() => counted.log.slice(back).some((f) => f.maxWaitMs === 2_000), {
        message: 'a long-poll again',
      });
      await probe(1, 'few-again');
      expect(counted.log.slice(back).every((f) => f.partition < few.length)).toBe(true);
      await producer.close();
    } finally {
      consumer.close();
      await loop;
      http.close();
    }
  });

  it('a group member holding 120 partitions over HTTP fetches each of them without long-polls and delivers records sent to any', async () => {
    const topic = uniqueTopic('http-member');
    const partitions = 120;
    await admin.createTopic({ topic, partitions });
    /** Fetch requests as the API received them: partition and the long-poll wait asked for. */
    const fetches: { partition: number; maxWaitMs: number }[] = [];
    const proxy = await startChaosProxy(stack.apiUrl, (request) => {
      const url = new URL(request.url, 'http://proxy');
      const match = /\/partitions\/(\d+)\/records$/.exec(url.pathname);
      if (request.method === 'GET' && match) {
        fetches.push({ partition: Number(match[1]), maxWaitMs: Number(url.searchParams.get('maxWaitMs')) });
      }
      return { kind: 'pass' };
    });
    const client = new Tributary({
      transport: 'http',
      endpoint: proxy.url,
      region: stack.region,
      retry: { ...DEFAULT_RETRY_POLICY, deadlineMs: 15_000 },
    });
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
        delivered.push({ message, at: fetches.length });
      },
    });
    try {
      await until(() => member.assignment().length === partitions, {
        timeoutMs: 30_000,
        message: 'the member holds every partition',
      });
      const order = member.assignment().map((p) => p.partition);
      // Every partition is fetched, twice, without any long-poll: 120 long-polls at 8 at a time
      // would leave most partitions waiting for heartbeat-long waits of the others.
      const held = fetches.length;
      await until(
        () => order.every((p) => fetches.slice(held).filter((f) => f.partition === p).length >= 2),
        {
          timeoutMs: 30_000,
          message: 'every partition fetched twice',
        },
      );
      expect(fetches.slice(held).filter((f) => f.maxWaitMs !== 0)).toEqual([]);
      const random = seededRandom(testSeed('http member'));
      const producer = tributary.producer({ lingerMs: 0 });
      const targets = [order.at(-1)!, order[0]!, order[Math.floor(random() * partitions)]!];
      for (const [i, partition] of targets.entries()) {
        const value = `probe-${i}`;
        const [meta] = await producer.send({ topic, messages: [{ value, partition }] });
        const sent = fetches.length;
        await until(() => delivered.some((d) => d.message.value?.toString() === value), {
          // A deadline only: the bound is checked in fetch rounds below.
          timeoutMs: 45_000,
          message: `${value} delivered from partition ${partition}`,
        });
        const got = delivered.find((d) => d.message.value?.toString() === value)!;
        expect(got.message).toMatchObject({ topic, partition, offset: meta!.offset });
        // Fetches of its partition that reached the API after send() returned, until the handler got
        // it: the one that found it (unless one already in flight did) and the prefetch started
        // when it was delivered; an empty one among them would mean a round went by without it.
        expect(
          fetches.slice(sent, got.at).filter((f) => f.partition === partition).length,
        ).toBeLessThanOrEqual(2);
      }
      expect(fetches.slice(held).filter((f) => f.maxWaitMs !== 0)).toEqual([]);
      await producer.close();
    } finally {
      await member.disconnect();
      client.close();
      await proxy.close();
    }
  });
});
