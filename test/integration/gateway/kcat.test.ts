/**
 * kcat (librdkafka 2.0.2, Debian's) against a gateway on the test stack: metadata (`-L`),
 * produce (`-P`, keyed, with headers, every codec, idempotent), consume (`-C -p N -o beginning
 * -e`), and both directions of interoperation with the Tributary SDK: what kcat produced the SDK
 * reads with the same offsets, keys, values and headers, and kcat reads what the SDK produced.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from '../../../gateway/index.ts';
import { readBatchHeader } from '../../../sdk/src/log/record-batch.ts';
import { readAll } from '../../helpers/consume.ts';
import { kcat, kcatReadPartition, requireKcat, startTestGateway } from '../../helpers/gateway.ts';
import { WireClient } from '../../helpers/kafka-wire.ts';
import { testClient, uniqueTopic } from '../../helpers/tributary.ts';

const client = testClient();
const admin = client.admin();
let gateway: Gateway;

beforeAll(async () => {
  await requireKcat();
  gateway = await startTestGateway();
});
afterAll(async () => {
  await gateway?.stop();
  client.close();
});

/** Every record batch of a partition from offset 0, as the gateway serves it. */
async function servedBatches(topic: string, partition: number): Promise<Uint8Array[]> {
  const wire = await WireClient.connect(gateway.port);
  try {
    const response = await wire.request('Fetch', 11, {
      maxWaitMs: 0,
      minBytes: 0,
      topics: [{ topic, partitions: [{ partition, fetchOffset: 0n, partitionMaxBytes: 1 << 20 }] }],
      forgottenTopicsData: [],
    });
    const records = response.responses[0]?.partitions[0]?.records;
    const batches: Uint8Array[] = [];
    let pos = 0;
    while (records && pos < records.length) {
      const header = readBatchHeader(records.subarray(pos));
      batches.push(records.subarray(pos, pos + 12 + header.batchLength));
      pos += 12 + header.batchLength;
    }
    return batches;
  } finally {
    wire.close();
  }
}

describe('kcat through the gateway', () => {
  it('-L shows the gateway as broker 0, controller, and leader of every partition', async () => {
    const topic = uniqueTopic('kcat-meta');
    await admin.createTopic({ topic, partitions: 3 });
    const listed = await kcat(gateway.port, ['-L', '-t', topic]);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain(`broker 0 at 127.0.0.1:${gateway.port} (controller)`);
    expect(listed.stdout).toContain(`topic "${topic}" with 3 partitions:`);
    for (const p of [0, 1, 2])
      expect(listed.stdout).toContain(`partition ${p}, leader 0, replicas: 0, isrs: 0`);
  });

  it('-L of an unknown topic reports it unknown (topics are never auto-created)', async () => {
    const topic = uniqueTopic('kcat-none');
    const listed = await kcat(gateway.port, ['-L', '-t', topic]);
    expect(listed.stdout).toMatch(/Broker: Unknown topic or partition/);
    await expect(admin.describeTopic(topic)).rejects.toMatchObject({ code: 'TOPIC_NOT_FOUND' });
  });

  it('-P keyed records with headers are read back by -C and by the SDK with the same offsets, keys, values and headers', async () => {
    const topic = uniqueTopic('kcat-p');
    await admin.createTopic({ topic, partitions: 2 });
    const produced = await kcat(
      gateway.port,
      ['-P', '-t', topic, '-p', '1', '-K', ':', '-H', 'source=kcat', '-H', 'n=1'],
      'k1:first\nk2:second\nk3:third\n',
    );
    expect(produced.code, produced.stderr).toBe(0);

    const consumed = await kcatReadPartition(gateway.port, topic, 1, '%o|%k|%s|%h\n');
    expect(consumed.code, consumed.stderr).toBe(0);
    expect(consumed.stdout.trim().split('\n')).toEqual([
      '0|k1|first|source=kcat,n=1',
      '1|k2|second|source=kcat,n=1',
      '2|k3|third|source=kcat,n=1',
    ]);

    const consumer = client.consumer();
    await consumer.assign([{ topic, partition: 1, offset: 'earliest' }]);
    const messages = await readAll(consumer, 3);
    consumer.close();
    expect(
      messages.map((m) => ({
        offset: m.offset,
        key: m.key?.toString(),
        value: m.value?.toString(),
        headers: m.headers.map((h) => `${h.key}=${h.value?.toString()}`),
      })),
    ).toEqual([
      { offset: 0, key: 'k1', value: 'first', headers: ['source=kcat', 'n=1'] },
      { offset: 1, key: 'k2', value: 'second', headers: ['source=kcat', 'n=1'] },
      { offset: 2, key: 'k3', value: 'third', headers: ['source=kcat', 'n=1'] },
    ]);
    // Nothing went to the other partition.
    expect((await admin.partitionOffsets(topic, 0)).highWatermark).toBe(0);
  });

  it.each(['gzip', 'snappy', 'lz4', 'zstd'] as const)(
    '-z %s: the batch is stored as kcat compressed it, and read back by the SDK',
    async (codec) => {
      const topic = uniqueTopic(`kcat-${codec}`);
      await admin.createTopic({ topic, partitions: 1 });
      const lines = Array.from({ length: 50 }, (_, i) => `record-${i}-${'abc'.repeat(100)}`);
      const produced = await kcat(
        gateway.port,
        ['-P', '-t', topic, '-p', '0', '-z', codec],
        `${lines.join('\n')}\n`,
      );
      expect(produced.code, produced.stderr).toBe(0);

      const batches = await servedBatches(topic, 0);
      expect(batches.length).toBeGreaterThan(0);
      for (const batch of batches) expect(readBatchHeader(batch).compression).toBe(codec);

      const consumer = client.consumer();
      await consumer.assign([{ topic, partition: 0, offset: 'earliest' }]);
      const messages = await readAll(consumer, lines.length);
      consumer.close();
      expect(messages.map((m) => m.value?.toString())).toEqual(lines);
      expect(messages.map((m) => m.offset)).toEqual(lines.map((_, i) => i));
    },
  );

  it('an idempotent kcat producer (enable.idempotence) writes each record once under a producer id the gateway allocated', async () => {
    const topic = uniqueTopic('kcat-idem');
    await admin.createTopic({ topic, partitions: 1 });
    const lines = Array.from({ length: 200 }, (_, i) => `m${i}`);
    const produced = await kcat(
      gateway.port,
      ['-P', '-t', topic, '-p', '0', '-X', 'enable.idempotence=true', '-X', 'linger.ms=5'],
      `${lines.join('\n')}\n`,
    );
    expect(produced.code, produced.stderr).toBe(0);
    const batches = await servedBatches(topic, 0);
    const headers = batches.map((b) => readBatchHeader(b));
    expect(headers.every((h) => h.producerId >= 0n && h.producerEpoch === 0)).toBe(true);
    // Sequences continue batch after batch from 0: nothing skipped, nothing twice.
    let sequence = 0;
    for (const h of headers) {
      expect(h.baseSequence).toBe(sequence);
      sequence += h.recordCount;
    }
    expect(sequence).toBe(lines.length);
    const consumed = await kcatReadPartition(gateway.port, topic, 0, '%s\n');
    expect(consumed.stdout.trim().split('\n')).toEqual(lines);
  });

  it('-C reads what the SDK produced: keys, values, headers and timestamps', async () => {
    const topic = uniqueTopic('kcat-c');
    await admin.createTopic({ topic, partitions: 2 });
    const producer = client.producer();
    const timestamp = Date.UTC(2024, 0, 2, 3, 4, 5);
    await producer.send({
      topic,
      messages: [
        { key: 'a', value: 'alpha', partition: 0, headers: { trace: 't-1' }, timestamp },
        { key: null, value: 'no key', partition: 0, timestamp: timestamp + 1 },
        {
          key: 'b',
          value: 'beta',
          partition: 0,
          headers: { trace: 't-2', kind: 'x' },
          timestamp: timestamp + 2,
        },
      ],
    });
    await producer.close();
    const consumed = await kcatReadPartition(gateway.port, topic, 0, '%o|%k|%s|%h|%T\n');
    expect(consumed.code, consumed.stderr).toBe(0);
    expect(consumed.stdout.trim().split('\n')).toEqual([
      `0|a|alpha|trace=t-1|${timestamp}`,
      `1||no key||${timestamp + 1}`,
      `2|b|beta|trace=t-2,kind=x|${timestamp + 2}`,
    ]);
  });

  it('-o s@<timestamp> starts at the first record at or after that time (ListOffsets by timestamp)', async () => {
    const topic = uniqueTopic('kcat-ts');
    await admin.createTopic({ topic, partitions: 1 });
    const producer = client.producer();
    const base = Date.UTC(2024, 5, 1);
    await producer.send({
      topic,
      messages: [0, 1, 2, 3].map((i) => ({ value: `at-${i}`, partition: 0, timestamp: base + i * 1000 })),
    });
    await producer.close();
    const consumed = await kcat(gateway.port, [
      '-C',
      '-t',
      topic,
      '-p',
      '0',
      '-o',
      `s@${base + 1500}`,
      '-e',
      '-f',
      '%o %s\n',
    ]);
    expect(consumed.code, consumed.stderr).toBe(0);
    expect(consumed.stdout.trim().split('\n')).toEqual(['2 at-2', '3 at-3']);
  });
});
