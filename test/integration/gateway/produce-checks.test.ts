/**
 * What Produce refuses, on the raw protocol, each with Kafka's per-partition code and nothing
 * written: a CRC mismatch and a legacy magic (CORRUPT_MESSAGE), two batches in one partition or a
 * control batch (INVALID_RECORD, CORRUPT_MESSAGE before v8), a transactional batch, a batch over
 * max.message.bytes, unknown topics and partitions, bad acks, Produce v0-v2. And what it stores:
 * the client's batch byte for byte but for the baseOffset, the append time on a LogAppendTime
 * topic, the topic's codec when it names one; acks 0 answered with nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from '../../../gateway/index.ts';
import { crc32c } from '../../../sdk/src/log/crc32c.ts';
import { decodeRecordBatch, encodeRecordBatch, readBatchHeader } from '../../../sdk/src/log/record-batch.ts';
import { readAll } from '../../helpers/consume.ts';
import { startTestGateway } from '../../helpers/gateway.ts';
import { batchOf, produceTo } from '../../helpers/kafka-batches.ts';
import { WireClient } from '../../helpers/kafka-wire.ts';
import { testClient, uniqueTopic } from '../../helpers/tributary.ts';

const client = testClient();
const admin = client.admin();
let gateway: Gateway;
let wire: WireClient;

beforeAll(async () => {
  gateway = await startTestGateway();
  wire = await WireClient.connect(gateway.port);
});
afterAll(async () => {
  wire?.close();
  await gateway?.stop();
  client.close();
});

/** The stored batches of partition 0 from offset 0, as Fetch serves them. */
async function stored(topic: string): Promise<Uint8Array[]> {
  const fetched = await wire.request('Fetch', 11, {
    maxWaitMs: 0,
    minBytes: 0,
    topics: [{ topic, partitions: [{ partition: 0, fetchOffset: 0n, partitionMaxBytes: 1 << 20 }] }],
    forgottenTopicsData: [],
  });
  const records = fetched.responses[0]?.partitions[0]?.records ?? new Uint8Array();
  const batches: Uint8Array[] = [];
  for (let pos = 0; pos < records.length; ) {
    const size = 12 + readBatchHeader(records.subarray(pos)).batchLength;
    batches.push(records.subarray(pos, pos + size));
    pos += size;
  }
  return batches;
}

async function highWatermark(topic: string): Promise<number> {
  return (await admin.partitionOffsets(topic, 0)).highWatermark;
}

describe('Produce refuses, writing nothing', () => {
  let topic: string;
  beforeAll(async () => {
    topic = uniqueTopic('produce-refused');
    await admin.createTopic({ topic, partitions: 1, configs: { 'max.message.bytes': 2048 } });
  });

  it('a CRC mismatch: CORRUPT_MESSAGE', async () => {
    const batch = await batchOf(['crc']);
    batch[batch.length - 1]! ^= 0xff;
    for (const version of [7, 9])
      expect((await produceTo(wire, topic, 0, batch, { version })).errorCode).toBe(2);
    expect(await highWatermark(topic)).toBe(0);
  });

  it('a legacy magic byte: CORRUPT_MESSAGE', async () => {
    const batch = await batchOf(['magic']);
    batch[16] = 1;
    expect((await produceTo(wire, topic, 0, batch)).errorCode).toBe(2);
    expect(await highWatermark(topic)).toBe(0);
  });

  it('two batches for one partition: INVALID_RECORD, CORRUPT_MESSAGE before v8', async () => {
    const two = Buffer.concat([await batchOf(['one']), await batchOf(['two'])]);
    expect((await produceTo(wire, topic, 0, two, { version: 9 })).errorCode).toBe(87);
    expect((await produceTo(wire, topic, 0, two, { version: 7 })).errorCode).toBe(2);
    expect(await highWatermark(topic)).toBe(0);
  });

  it('a control batch: INVALID_RECORD, CORRUPT_MESSAGE before v8', async () => {
    const control = await encodeRecordBatch({
      baseOffset: 0,
      records: [{ key: null, value: Buffer.from('c'), timestamp: Date.now(), headers: [] }],
      compression: 'none',
      producerId: -1n,
      producerEpoch: -1,
      baseSequence: -1,
      isControl: true,
    });
    expect((await produceTo(wire, topic, 0, control, { version: 9 })).errorCode).toBe(87);
    expect((await produceTo(wire, topic, 0, control, { version: 7 })).errorCode).toBe(2);
    expect(await highWatermark(topic)).toBe(0);
  });

  it('a transactional batch: INVALID_TXN_STATE; a transactional id: INVALID_TXN_STATE', async () => {
    const batch = await batchOf(['tx'], { id: 1n, epoch: 0, sequence: 0 }, { isTransactional: true });
    expect((await produceTo(wire, topic, 0, batch)).errorCode).toBe(48);
    expect((await produceTo(wire, topic, 0, await batchOf(['t']), { transactionalId: 'tx' })).errorCode).toBe(
      48,
    );
    expect(await highWatermark(topic)).toBe(0);
  });

  it("a batch over the topic's max.message.bytes: MESSAGE_TOO_LARGE", async () => {
    const batch = await batchOf(['x'.repeat(4000)]);
    const answer = await produceTo(wire, topic, 0, batch);
    expect(answer.errorCode).toBe(10);
    expect(answer.errorMessage).toMatch(/max\.message\.bytes=2048/);
    expect(await highWatermark(topic)).toBe(0);
  });

  it('unknown topics and partitions: UNKNOWN_TOPIC_OR_PARTITION', async () => {
    const batch = await batchOf(['lost']);
    expect((await produceTo(wire, uniqueTopic('absent'), 0, batch)).errorCode).toBe(3);
    expect((await produceTo(wire, topic, 1, batch)).errorCode).toBe(3);
    expect(await highWatermark(topic)).toBe(0);
  });

  it('acks other than 0, 1, -1: INVALID_REQUIRED_ACKS; Produce v2: UNSUPPORTED_FOR_MESSAGE_FORMAT', async () => {
    const batch = await batchOf(['acks']);
    expect((await produceTo(wire, topic, 0, batch, { acks: 2 })).errorCode).toBe(21);
    expect((await produceTo(wire, topic, 0, batch, { version: 2 })).errorCode).toBe(43);
    expect(await highWatermark(topic)).toBe(0);
  });
});

describe('Produce stores', () => {
  it("the client's batch byte for byte, but for the baseOffset", async () => {
    const topic = uniqueTopic('produce-asis');
    await admin.createTopic({ topic, partitions: 1 });
    const sent = [await batchOf(['a', 'b']), await batchOf(['c'], undefined, { compression: 'gzip' })];
    for (const batch of sent) expect((await produceTo(wire, topic, 0, batch)).errorCode).toBe(0);
    const served = await stored(topic);
    expect(served).toHaveLength(2);
    expect(Buffer.from(served[0]!.subarray(8))).toEqual(Buffer.from(sent[0]!.subarray(8)));
    expect(Buffer.from(served[1]!.subarray(8))).toEqual(Buffer.from(sent[1]!.subarray(8)));
    expect(readBatchHeader(served[1]!).baseOffset).toBe(2);
  });

  it("a corrected maxTimestamp when the client's is not the largest record timestamp (CRC recomputed)", async () => {
    const topic = uniqueTopic('produce-maxts');
    await admin.createTopic({ topic, partitions: 1 });
    const batch = await batchOf(['m0', 'm1', 'm2'], undefined, { timestamp: 1_700_000_000_000 });
    // maxTimestamp (bytes 35..42) says the first record's time; the CRC is made to match it.
    const view = new DataView(batch.buffer, batch.byteOffset, batch.byteLength);
    view.setBigInt64(35, 1_700_000_000_000n);
    view.setUint32(17, crc32c(batch.subarray(21)));
    expect((await produceTo(wire, topic, 0, batch)).errorCode).toBe(0);
    const [served] = await stored(topic);
    const decoded = await decodeRecordBatch(served!);
    expect(decoded.maxTimestamp).toBe(1_700_000_000_002);
  });

  it('on a LogAppendTime topic, the append time: in the answer and in the stored batch', async () => {
    const topic = uniqueTopic('produce-lat');
    await admin.createTopic({ topic, partitions: 1, configs: { 'message.timestamp.type': 'LogAppendTime' } });
    const before = Date.now();
    const answer = await produceTo(
      wire,
      topic,
      0,
      await batchOf(['l0', 'l1'], undefined, { timestamp: 1_000 }),
    );
    expect(answer.errorCode).toBe(0);
    expect(Number(answer.logAppendTimeMs)).toBeGreaterThanOrEqual(before);
    const [served] = await stored(topic);
    const decoded = await decodeRecordBatch(served!);
    expect(decoded.timestampType).toBe('log-append');
    expect(decoded.records.map((r) => r.timestamp)).toEqual([
      Number(answer.logAppendTimeMs),
      Number(answer.logAppendTimeMs),
    ]);
  });

  it("the topic's codec when compression.type names one", async () => {
    const topic = uniqueTopic('produce-codec');
    await admin.createTopic({ topic, partitions: 1, configs: { 'compression.type': 'gzip' } });
    expect((await produceTo(wire, topic, 0, await batchOf(['z0', 'z1']))).errorCode).toBe(0);
    const [served] = await stored(topic);
    expect(readBatchHeader(served!).compression).toBe('gzip');
    expect((await decodeRecordBatch(served!)).records.map((r) => Buffer.from(r.value!).toString())).toEqual([
      'z0',
      'z1',
    ]);
  });

  it('with acks 0, a refused batch closes the connection (how Kafka tells the producer)', async () => {
    const topic = uniqueTopic('produce-acks0-bad');
    await admin.createTopic({ topic, partitions: 1 });
    const own = await WireClient.connect(gateway.port);
    const batch = await batchOf(['bad']);
    batch[batch.length - 1]! ^= 0xff;
    own.send('Produce', 9, {
      transactionalId: null,
      acks: 0,
      timeoutMs: 30_000,
      topicData: [{ name: topic, partitionData: [{ index: 0, records: batch }] }],
    });
    await own.closed;
    expect(await highWatermark(topic)).toBe(0);
  });

  it("with acks 0, without answering: the next answer on the connection is the next request's", async () => {
    const topic = uniqueTopic('produce-acks0');
    await admin.createTopic({ topic, partitions: 1 });
    wire.send('Produce', 9, {
      transactionalId: null,
      acks: 0,
      timeoutMs: 30_000,
      topicData: [{ name: topic, partitionData: [{ index: 0, records: await batchOf(['quiet']) }] }],
    });
    const correlationId = wire.send('ApiVersions', 3, {
      clientSoftwareName: 'wire',
      clientSoftwareVersion: '1',
    });
    expect((await wire.response('ApiVersions', 3, correlationId)).errorCode).toBe(0);
    const consumer = client.consumer();
    await consumer.assign([{ topic, partition: 0, offset: 'earliest' }]);
    const read = await readAll(consumer, 1);
    consumer.close();
    expect(read.map((m) => m.value?.toString())).toEqual(['quiet']);
  });
});
