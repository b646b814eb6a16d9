/**
 * Idempotent producers through gateways, on the raw protocol: producer ids handed out once across
 * gateway processes; a retry of a producer's latest batch through another gateway answered with
 * its original offset and never written twice; Kafka's codes for an older sequence
 * (DUPLICATE_SEQUENCE_NUMBER), a gap (OUT_OF_ORDER_SEQUENCE_NUMBER) and a fenced epoch
 * (INVALID_PRODUCER_EPOCH), none of which writes anything; and, after a batch failed retriably on
 * a connection (storage throttled through AWS SDK middleware), the batches after it held back
 * until it is resent and settled, so the log keeps the producer's order with no gap.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from '../../../gateway/index.ts';
import { startGateway } from '../../../gateway/index.ts';
import { DirectTransport } from '../../../sdk/src/internal.ts';
import { readAll } from '../../helpers/consume.ts';
import { injectFaults } from '../../helpers/faults.ts';
import { startTestGateway } from '../../helpers/gateway.ts';
import { batchOf, produceTo } from '../../helpers/kafka-batches.ts';
import { WireClient } from '../../helpers/kafka-wire.ts';
import { testStackConfig } from '../../helpers/stack.ts';
import { testClient, testDynamoDB, uniqueTopic } from '../../helpers/tributary.ts';
import { until } from '../../helpers/wait.ts';

const client = testClient();
const admin = client.admin();
let first: Gateway;
let second: Gateway;

beforeAll(async () => {
  [first, second] = await Promise.all([startTestGateway(), startTestGateway()]);
});
afterAll(async () => {
  await Promise.all([first?.stop(), second?.stop()]);
  client.close();
});

async function producerId(gateway: Gateway): Promise<bigint> {
  const wire = await WireClient.connect(gateway.port);
  try {
    const answer = await wire.request('InitProducerId', 4, {
      transactionalId: null,
      transactionTimeoutMs: 60_000,
    });
    expect(answer).toMatchObject({ errorCode: 0, producerEpoch: 0 });
    return answer.producerId;
  } finally {
    wire.close();
  }
}

async function values(topic: string, count: number): Promise<string[]> {
  const consumer = client.consumer();
  await consumer.assign([{ topic, partition: 0, offset: 'earliest' }]);
  const read = await readAll(consumer, count);
  consumer.close();
  return read.map((m) => m.value?.toString() ?? '');
}

describe('idempotent producers', () => {
  it('InitProducerId hands out ids no other gateway has handed out', async () => {
    const ids = await Promise.all([first, second, first, second, first, second].map(producerId));
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toBeGreaterThanOrEqual(0n);
  });

  it('refuses a transactional id (transactions are not supported)', async () => {
    const wire = await WireClient.connect(first.port);
    try {
      const answer = await wire.request('InitProducerId', 1, {
        transactionalId: 'tx-1',
        transactionTimeoutMs: 60_000,
      });
      expect(answer.errorCode).toBe(42);
    } finally {
      wire.close();
    }
  });

  it('a retry through another gateway is answered with the original offset and not written again', async () => {
    const topic = uniqueTopic('idem-retry');
    await admin.createTopic({ topic, partitions: 1 });
    const id = await producerId(first);
    const [a, b] = await Promise.all([WireClient.connect(first.port), WireClient.connect(second.port)]);
    try {
      const batch0 = await batchOf(['a0', 'a1', 'a2'], { id, epoch: 0, sequence: 0 });
      expect(await produceTo(a, topic, 0, batch0)).toMatchObject({ errorCode: 0, baseOffset: 0n });
      // The client lost the answer and sends the same batch through another gateway.
      expect(await produceTo(b, topic, 0, batch0)).toMatchObject({ errorCode: 0, baseOffset: 0n });
      const batch3 = await batchOf(['b0', 'b1'], { id, epoch: 0, sequence: 3 });
      expect(await produceTo(b, topic, 0, batch3)).toMatchObject({ errorCode: 0, baseOffset: 3n });
      expect(await produceTo(a, topic, 0, batch3)).toMatchObject({ errorCode: 0, baseOffset: 3n });
      expect((await admin.partitionOffsets(topic, 0)).highWatermark).toBe(5);
      expect(await values(topic, 5)).toEqual(['a0', 'a1', 'a2', 'b0', 'b1']);
    } finally {
      a.close();
      b.close();
    }
  });

  it("answers Kafka's codes for an older sequence, a gap, an unknown producer and a fenced epoch, writing nothing", async () => {
    const topic = uniqueTopic('idem-codes');
    await admin.createTopic({ topic, partitions: 1 });
    const id = await producerId(second);
    const wire = await WireClient.connect(first.port);
    try {
      const send = async (vals: string[], epoch: number, sequence: number) =>
        produceTo(wire, topic, 0, await batchOf(vals, { id, epoch, sequence }));
      expect((await send(['x0', 'x1'], 0, 0)).errorCode).toBe(0);
      expect((await send(['x2', 'x3'], 0, 2)).errorCode).toBe(0);
      // Behind the partition's next sequence and not the latest batch: appended before.
      expect((await send(['x0', 'x1'], 0, 0)).errorCode).toBe(46);
      // Ahead of it: a batch is missing.
      expect((await send(['x9'], 0, 9)).errorCode).toBe(45);
      // The latest batch's sequence with another record count.
      expect((await send(['x2'], 0, 2)).errorCode).toBe(45);
      expect((await admin.partitionOffsets(topic, 0)).highWatermark).toBe(4);

      // A producer id the partition never saw must start at 0.
      const stranger = await producerId(first);
      expect(
        (await produceTo(wire, topic, 0, await batchOf(['s'], { id: stranger, epoch: 0, sequence: 5 })))
          .errorCode,
      ).toBe(45);

      // A newer epoch starts over at 0; the older epoch is then fenced.
      expect((await send(['y0'], 1, 0)).errorCode).toBe(0);
      expect((await send(['x4'], 0, 4)).errorCode).toBe(47);
      expect((await admin.partitionOffsets(topic, 0)).highWatermark).toBe(5);
      expect(await values(topic, 5)).toEqual(['x0', 'x1', 'x2', 'x3', 'y0']);
    } finally {
      wire.close();
    }
  });

  it('after a retriable failure the later batches on the connection wait for it: the log keeps the order, no gap', async () => {
    const topic = uniqueTopic('idem-gate');
    await admin.createTopic({ topic, partitions: 1 });
    const { endpoint, region, tablePrefix, bucket } = testStackConfig();
    const ddb = testDynamoDB();
    let throttled = false;
    injectFaults(ddb, ({ command }) => (throttled && command === 'PutItemCommand' ? 'throttle' : undefined));
    const transport = new DirectTransport({
      endpoint,
      region,
      tablePrefix,
      bucket,
      dynamoDBClient: ddb,
      retry: { deadlineMs: 300, baseDelayMs: 10, maxDelayMs: 50 },
    });
    const faulty = await startGateway({
      tributary: transport,
      host: '127.0.0.1',
      port: 0,
      metricsLog: false,
      produceClaimTimeoutMs: 800,
      log: () => undefined,
    });
    const wire = await WireClient.connect(faulty.port);
    try {
      const id = await producerId(first);
      const batch0 = await batchOf(['g0', 'g1', 'g2'], { id, epoch: 0, sequence: 0 });
      const batch3 = await batchOf(['g3', 'g4'], { id, epoch: 0, sequence: 3 });
      throttled = true;
      // Storage throttles: a retriable error, and the batch's outcome is the retry's to learn.
      expect((await produceTo(wire, topic, 0, batch0)).errorCode).toBe(56);
      throttled = false;
      // The next batch is held back, not appended before the failed one.
      expect((await produceTo(wire, topic, 0, batch3)).errorCode).toBe(45);
      expect((await admin.partitionOffsets(topic, 0)).highWatermark).toBe(0);
      // Resent, the failed batch is "in progress" until its claim runs out, then appended once.
      const seen = new Set<number>();
      let answer = await produceTo(wire, topic, 0, batch0);
      await until(
        async () => {
          seen.add(answer.errorCode);
          if (answer.errorCode === 0) return true;
          answer = await produceTo(wire, topic, 0, batch0);
          return false;
        },
        { timeoutMs: 20_000, message: 'the failed batch to be appended on a retry' },
      );
      expect([...seen].filter((code) => code !== 0).every((code) => code === 7)).toBe(true);
      expect(answer.baseOffset).toBe(0n);
      expect(await produceTo(wire, topic, 0, batch3)).toMatchObject({ errorCode: 0, baseOffset: 3n });
      expect(await values(topic, 5)).toEqual(['g0', 'g1', 'g2', 'g3', 'g4']);
    } finally {
      wire.close();
      await faulty.stop();
      transport.close();
      ddb.destroy();
    }
  });
});
