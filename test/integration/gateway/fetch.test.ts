/**
 * Fetch and ListOffsets through the gateway: a fetch waits for records (long-poll) and returns one
 * that lands while it waits; nothing past the high watermark; OFFSET_OUT_OF_RANGE with the log's
 * start and end, below the log start after retention as above the end; batches archived to S3
 * served as they are, to kcat too; the byte limits (the first batch always, then what fits);
 * fetch sessions refused; ListOffsets' latest, earliest, by timestamp and max timestamp.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from '../../../gateway/index.ts';
import { startGateway } from '../../../gateway/index.ts';
import { DirectTransport } from '../../../sdk/src/internal.ts';
import { readBatchHeader } from '../../../sdk/src/log/record-batch.ts';
import { injectFaults } from '../../helpers/faults.ts';
import { kcatReadPartition, requireKcat, startTestGateway } from '../../helpers/gateway.ts';
import { batchOf, produceTo } from '../../helpers/kafka-batches.ts';
import { WireClient } from '../../helpers/kafka-wire.ts';
import { testStackConfig } from '../../helpers/stack.ts';
import { testClient, testDynamoDB, uniqueTopic } from '../../helpers/tributary.ts';

const client = testClient();
const admin = client.admin();
let gateway: Gateway;
let wire: WireClient;

beforeAll(async () => {
  await requireKcat();
  gateway = await startTestGateway();
  wire = await WireClient.connect(gateway.port);
});
afterAll(async () => {
  wire?.close();
  await gateway?.stop();
  client.close();
});

interface Wanted {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly partitionMaxBytes?: number;
}

function fetchRequest(
  wanted: readonly Wanted[],
  options: { maxWaitMs?: number; minBytes?: number; maxBytes?: number } = {},
) {
  return {
    maxWaitMs: options.maxWaitMs ?? 0,
    minBytes: options.minBytes ?? 0,
    maxBytes: options.maxBytes ?? 50 << 20,
    topics: wanted.map((w) => ({
      topic: w.topic,
      partitions: [
        {
          partition: w.partition,
          fetchOffset: BigInt(w.offset),
          partitionMaxBytes: w.partitionMaxBytes ?? 1 << 20,
        },
      ],
    })),
    forgottenTopicsData: [],
  };
}

/** The batch headers in a partition's records. */
function headersOf(records: Uint8Array | null | undefined) {
  const headers = [];
  for (let pos = 0; records && pos < records.length; ) {
    const header = readBatchHeader(records.subarray(pos));
    headers.push(header);
    pos += 12 + header.batchLength;
  }
  return headers;
}

async function produceValues(topic: string, partition: number, batches: readonly string[][]): Promise<void> {
  for (const values of batches) {
    expect((await produceTo(wire, topic, partition, await batchOf(values))).errorCode).toBe(0);
  }
}

describe('Fetch', () => {
  it('serves stored batches from the one holding the offset, never past the high watermark', async () => {
    const topic = uniqueTopic('fetch-basic');
    await admin.createTopic({ topic, partitions: 1 });
    await produceValues(topic, 0, [
      ['a', 'b', 'c'],
      ['d', 'e'],
    ]);
    const response = await wire.request('Fetch', 11, fetchRequest([{ topic, partition: 0, offset: 1 }]));
    const partition = response.responses[0]?.partitions[0];
    expect(partition?.errorCode).toBe(0);
    expect(partition?.highWatermark).toBe(5n);
    expect(partition?.lastStableOffset).toBe(5n);
    expect(partition?.logStartOffset).toBe(0n);
    // The batch holding offset 1 starts at 0: served whole, the client skips what it has.
    expect(headersOf(partition?.records).map((h) => [h.baseOffset, h.recordCount])).toEqual([
      [0, 3],
      [3, 2],
    ]);
    const atEnd = await wire.request('Fetch', 11, fetchRequest([{ topic, partition: 0, offset: 5 }]));
    expect(atEnd.responses[0]?.partitions[0]).toMatchObject({ errorCode: 0, highWatermark: 5n });
    expect(atEnd.responses[0]?.partitions[0]?.records?.length).toBe(0);
  });

  it('waits for records: a record that lands while a fetch waits is returned by it', async () => {
    const topic = uniqueTopic('fetch-wait');
    await admin.createTopic({ topic, partitions: 1 });
    // A gateway whose DynamoDB client says when the fetch's first look at the partition (its tail
    // query) has come back: empty, since nothing is produced before.
    const { endpoint, region, tablePrefix, bucket } = testStackConfig();
    const ddb = testDynamoDB();
    let looked: () => void = () => undefined;
    const lookedOnce = new Promise<void>((resolve) => {
      looked = resolve;
    });
    injectFaults(ddb, ({ command }) =>
      command === 'QueryCommand'
        ? {
            rewrite: (output) => {
              looked();
              return output;
            },
          }
        : undefined,
    );
    const transport = new DirectTransport({ endpoint, region, tablePrefix, bucket, dynamoDBClient: ddb });
    const waiting = await startGateway({
      tributary: transport,
      host: '127.0.0.1',
      port: 0,
      metricsLog: false,
      log: () => undefined,
    });
    const own = await WireClient.connect(waiting.port);
    try {
      const correlationId = own.send(
        'Fetch',
        11,
        fetchRequest([{ topic, partition: 0, offset: 0 }], { maxWaitMs: 20_000, minBytes: 1 }),
      );
      await lookedOnce;
      const producer = client.producer();
      await producer.send({ topic, messages: [{ value: 'late', partition: 0 }] });
      await producer.close();
      const response = await own.response('Fetch', 11, correlationId);
      const partition = response.responses[0]?.partitions[0];
      expect(partition?.highWatermark).toBe(1n);
      expect(headersOf(partition?.records).map((h) => h.recordCount)).toEqual([1]);
    } finally {
      own.close();
      await waiting.stop();
      transport.close();
      ddb.destroy();
    }
  });

  it('answers OFFSET_OUT_OF_RANGE past the end, with the log start and high watermark', async () => {
    const topic = uniqueTopic('fetch-oor');
    await admin.createTopic({ topic, partitions: 1 });
    await produceValues(topic, 0, [['x', 'y']]);
    const response = await wire.request('Fetch', 11, fetchRequest([{ topic, partition: 0, offset: 3 }]));
    expect(response.responses[0]?.partitions[0]).toMatchObject({
      errorCode: 1,
      highWatermark: 2n,
      logStartOffset: 0n,
    });
    const unknown = await wire.request(
      'Fetch',
      11,
      fetchRequest([{ topic: uniqueTopic('none'), partition: 0, offset: 0 }]),
    );
    expect(unknown.responses[0]?.partitions[0]?.errorCode).toBe(3);
  });

  it('serves batches archived to S3 as they are (to kcat too), and OFFSET_OUT_OF_RANGE below the log start', async () => {
    const topic = uniqueTopic('fetch-s3');
    await admin.createTopic({
      topic,
      partitions: 1,
      configs: { 'segment.bytes': 4096, 'local.retention.ms': 0 },
    });
    const old = Date.now() - 3_600_000;
    const values = Array.from({ length: 60 }, (_, i) => `archived-${i}-${'p'.repeat(100)}`);
    for (let i = 0; i < values.length; i += 5) {
      expect(
        (
          await produceTo(
            wire,
            topic,
            0,
            await batchOf(values.slice(i, i + 5), undefined, { timestamp: old + i }),
          )
        ).errorCode,
      ).toBe(0);
    }
    await client.archiver().run({ topics: [topic] });
    const tiers = await admin.partitionOffsets(topic, 0);
    expect(tiers.localLogStartOffset).toBeGreaterThan(0);

    const response = await wire.request('Fetch', 11, fetchRequest([{ topic, partition: 0, offset: 0 }]));
    const served = headersOf(response.responses[0]?.partitions[0]?.records);
    expect(served[0]?.baseOffset).toBe(0);
    const consumed = await kcatReadPartition(gateway.port, topic, 0, '%o %s\n');
    expect(consumed.code, consumed.stderr).toBe(0);
    expect(consumed.stdout.trim().split('\n')).toEqual(values.map((v, i) => `${i} ${v}`));

    // A minute's retention expires every closed segment: the log now starts later.
    await admin.alterTopicConfigs(topic, { 'retention.ms': 60_000 });
    const report = await client.archiver().run({ topics: [topic] });
    const start = report.partitions[0]!.logStartOffset;
    expect(start).toBeGreaterThan(0);
    const below = await wire.request('Fetch', 11, fetchRequest([{ topic, partition: 0, offset: 0 }]));
    expect(below.responses[0]?.partitions[0]).toMatchObject({
      errorCode: 1,
      logStartOffset: BigInt(start),
      highWatermark: BigInt(values.length),
    });
  });

  it('keeps to the byte limits, but always returns the first batch of the first partition with any', async () => {
    const topic = uniqueTopic('fetch-limits');
    await admin.createTopic({ topic, partitions: 2 });
    const big = 'q'.repeat(1000);
    await produceValues(topic, 0, [[big], [big]]);
    await produceValues(topic, 1, [[big], [big]]);
    const tiny = await wire.request(
      'Fetch',
      11,
      fetchRequest([{ topic, partition: 0, offset: 0, partitionMaxBytes: 100 }]),
    );
    expect(headersOf(tiny.responses[0]?.partitions[0]?.records)).toHaveLength(1);
    const both = await wire.request(
      'Fetch',
      11,
      fetchRequest(
        [
          { topic, partition: 0, offset: 0 },
          { topic, partition: 1, offset: 0 },
        ],
        { maxBytes: 1500 },
      ),
    );
    expect(headersOf(both.responses[0]?.partitions[0]?.records)).toHaveLength(1);
    expect(headersOf(both.responses[1]?.partitions[0]?.records)).toHaveLength(0);
    expect(both.responses[1]?.partitions[0]?.highWatermark).toBe(2n);
  });

  it('answers a fetch session with FETCH_SESSION_ID_NOT_FOUND, and always session id 0', async () => {
    const topic = uniqueTopic('fetch-session');
    await admin.createTopic({ topic, partitions: 1 });
    const session = await wire.request('Fetch', 11, {
      ...fetchRequest([{ topic, partition: 0, offset: 0 }]),
      sessionId: 7,
      sessionEpoch: 1,
    });
    expect(session).toMatchObject({ errorCode: 70, sessionId: 0 });
    const opening = await wire.request('Fetch', 12, {
      ...fetchRequest([{ topic, partition: 0, offset: 0 }]),
      sessionId: 0,
      sessionEpoch: 0,
    });
    expect(opening).toMatchObject({ errorCode: 0, sessionId: 0 });
  });
});

describe('ListOffsets', () => {
  it('answers latest, earliest, by timestamp (with its record time) and the max timestamp', async () => {
    const topic = uniqueTopic('list-offsets');
    await admin.createTopic({ topic, partitions: 1 });
    const base = Date.UTC(2024, 6, 7);
    // Timestamps 0, 1, 2 ms after base, then a batch whose second record is the latest of all.
    await produceTo(wire, topic, 0, await batchOf(['t0', 't1', 't2'], undefined, { timestamp: base }));
    await produceTo(wire, topic, 0, await batchOf(['t3', 't4'], undefined, { timestamp: base + 100 }));
    const ask = async (timestamp: bigint) => {
      const response = await wire.request('ListOffsets', 7, {
        replicaId: -1,
        isolationLevel: 0,
        topics: [{ name: topic, partitions: [{ partitionIndex: 0, timestamp }] }],
      });
      return response.topics[0]?.partitions[0];
    };
    expect(await ask(-1n)).toMatchObject({ errorCode: 0, offset: 5n, timestamp: -1n });
    expect(await ask(-2n)).toMatchObject({ errorCode: 0, offset: 0n, timestamp: -1n });
    expect(await ask(BigInt(base + 2))).toMatchObject({
      errorCode: 0,
      offset: 2n,
      timestamp: BigInt(base + 2),
    });
    expect(await ask(BigInt(base + 50))).toMatchObject({
      errorCode: 0,
      offset: 3n,
      timestamp: BigInt(base + 100),
    });
    expect(await ask(BigInt(base + 10_000))).toMatchObject({ errorCode: 0, offset: -1n, timestamp: -1n });
    expect(await ask(-3n)).toMatchObject({ errorCode: 0, offset: 4n, timestamp: BigInt(base + 101) });
  });
});
