/**
 * Producers in both regions of an MREC deployment, on one topic, for thousands of records, with
 * responses lost on the way back: every append is forwarded to the home region, so after
 * replication both regions hold the identical, dense log, and every acknowledged record is in it
 * exactly once, at the offset it was acknowledged with. A checker compares the acknowledgements
 * with each region's log (read by a consumer in that region, and as raw items).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tributary } from '../../../sdk/src/index.ts';
import { injectFaults } from '../../helpers/faults.ts';
import { seededRandom, testSeed } from '../../helpers/random.ts';
import { HOME, REPLICA, type RegionsStack, refOf, startRegionsStack } from '../../helpers/regions.ts';
import { uniqueTopic } from '../../helpers/tributary.ts';

const PARTITIONS = 3;
const PRODUCERS_PER_REGION = 2;
const RECORDS_PER_PRODUCER = 1_000;

let regions: RegionsStack;
const opened: { close: () => void }[] = [];

beforeAll(async () => {
  regions = await startRegionsStack(41);
}, 120_000);

afterAll(async () => {
  for (const c of opened) c.close();
  await regions?.stop();
});

/**
 * A client in `region` whose requests to the home region lose one response in `lossEvery`
 * (the write lands, the client hears nothing and retries).
 */
function lossyClient(region: string, lossEvery: number, random: () => number): Tributary {
  const home = regions.stack.regions.find((r) => r.region === HOME)!;
  const ddb = new DynamoDBClient({
    endpoint: home.endpoint,
    region: HOME,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  });
  injectFaults(ddb, ({ command }) =>
    (command === 'PutItemCommand' || command === 'UpdateItemCommand') && random() < 1 / lossEvery
      ? 'drop-response'
      : undefined,
  );
  const client = regions.client(region, {
    regions: regions.stack.regions.map((r) => (r.region === HOME ? { ...r, dynamoDBClient: ddb } : r)),
    ...(region === HOME ? { dynamoDBClient: ddb } : {}),
  });
  opened.push(client, { close: () => ddb.destroy() });
  return client;
}

describe('producers in two regions on one topic', () => {
  it('leave both regions with the identical dense log holding every acknowledged record once', async () => {
    const random = seededRandom(testSeed('two-region producers'));
    const topic = uniqueTopic('two-region');
    const admin = regions.client(HOME);
    opened.push(admin);
    await admin.admin().createTopic({ topic, partitions: PARTITIONS });
    const { incarnation } = await admin.admin().describeTopic(topic);
    await regions.stack.replicator!.settled();

    /** `partition:offset` → the value acknowledged there. */
    const acknowledged = new Map<string, string>();
    const producers = [HOME, REPLICA].flatMap((region) =>
      Array.from({ length: PRODUCERS_PER_REGION }, (_, i) => ({
        name: `${region}/${i}`,
        producer: lossyClient(region, 25, random).producer({ lingerMs: 2 }),
      })),
    );
    await Promise.all(
      producers.map(async ({ name, producer }) => {
        const sends: Promise<void>[] = [];
        for (let seq = 0; seq < RECORDS_PER_PRODUCER; seq++) {
          const value = `${name}#${seq}`;
          sends.push(
            producer
              .send({ topic, messages: [{ key: name, value, partition: seq % PARTITIONS }] })
              .then(([meta]) => {
                const key = `${meta!.partition}:${meta!.offset}`;
                expect(acknowledged.has(key), `two acknowledgements at ${key}`).toBe(false);
                acknowledged.set(key, value);
              }),
          );
        }
        await Promise.all(sends);
        await producer.close();
      }),
    );
    const total = producers.length * RECORDS_PER_PRODUCER;
    expect(acknowledged.size).toBe(total);
    await regions.stack.replicator!.settled({ timeoutMs: 60_000 });

    // Raw items: both regions hold the same batches at the same offsets, and each chain is dense.
    for (let partition = 0; partition < PARTITIONS; partition++) {
      const ref = refOf({ name: topic, incarnation }, partition);
      const [home, replica] = await Promise.all([
        regions.batchItems(HOME, ref),
        regions.batchItems(REPLICA, ref),
      ]);
      expect(replica).toEqual(home);
      expect(home.length).toBeGreaterThan(0);
    }

    // What a consumer in each region reads: every acknowledged record at its offset, nothing else.
    for (const region of [HOME, REPLICA]) {
      const reader = regions.client(region);
      opened.push(reader);
      const consumer = reader.consumer({ maxRecords: 1_000 });
      await consumer.assign(
        Array.from({ length: PARTITIONS }, (_, partition) => ({
          topic,
          partition,
          offset: 'earliest' as const,
        })),
      );
      const read = new Map<string, string>();
      const next = new Map<number, number>();
      for await (const message of consumer.messages()) {
        // Dense: each partition's offsets follow one another from 0.
        expect(message.offset, `${region} p${message.partition}`).toBe(next.get(message.partition) ?? 0);
        next.set(message.partition, message.offset + 1);
        read.set(`${message.partition}:${message.offset}`, message.value?.toString() ?? '');
        if (read.size === total) break;
      }
      consumer.close();
      expect(read).toEqual(acknowledged);
      const values = [...read.values()];
      expect(new Set(values).size).toBe(values.length);
    }
  });
});
